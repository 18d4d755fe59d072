import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Kysely, SqliteDialect } from 'kysely';
import { Database } from './better-sqlite3.js';
import { applyMigrations, type Db, type DbSchema, type Migration } from '../../ports/db.js';

/**
 * The embedded `Db`: one SQLite file (or `:memory:`) through better-sqlite3. One process owns the
 * file; Kysely runs its queries on one connection, one transaction at a time.
 */
export class SqliteDb implements Db {
  readonly kysely: Kysely<DbSchema>;
  readonly dialect = 'sqlite' as const;

  /** Opens (creating it and its directory if needed) the database at `file`, or `:memory:`. */
  constructor(readonly file: string) {
    if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const database = new Database(file);
    // WAL: readers never block the writer. synchronous=NORMAL: in WAL mode a power cut may lose the
    // last commits but never corrupts, and a process crash (kill -9) loses nothing.
    // https://www.sqlite.org/pragma.html#pragma_synchronous
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = NORMAL');
    // Another process (a CLI reading the file) may hold the lock briefly; wait instead of failing.
    database.pragma('busy_timeout = 5000');
    database.pragma('foreign_keys = ON');
    this.kysely = new Kysely<DbSchema>({ dialect: new SqliteDialect({ database }) });
  }

  migrate(migrations: readonly Migration[]): Promise<void> {
    return applyMigrations(this.kysely, this.dialect, migrations);
  }

  close(): Promise<void> {
    return this.kysely.destroy();
  }
}
