import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { applyMigrations, type Db, type DbSchema, type Migration } from '../../ports/db.js';

export interface PostgresDbOptions {
  /** Connections per node; default 10 (pg's default). */
  readonly maxConnections?: number;
}

// Any fixed key will do, as long as nothing else in the database takes the same advisory lock.
// ("nimb" in ASCII.)
const MIGRATION_LOCK_KEY = 0x6e696d62;

// pg returns BIGINT (int8) as a string because it may exceed 2^53. Ours are ids, counts and
// ms-since-epoch timestamps, all far below that, and the port promises numbers on both dialects.
// Set per pool rather than on pg's global type registry, which other users of pg in the process share.
const types: pg.CustomTypesConfig = {
  getTypeParser: (oid, format) => (oid === pg.types.builtins.INT8 ? Number : pg.types.getTypeParser(oid, format)),
};

/**
 * The cluster `Db`: PostgreSQL through a `pg` pool, shared by every node. `migrate()` is safe when
 * several nodes start at once.
 */
export class PostgresDb implements Db {
  readonly kysely: Kysely<DbSchema>;
  readonly dialect = 'postgres' as const;

  /** Connects lazily: the first query opens the first connection. */
  constructor(connectionString: string, options: PostgresDbOptions = {}) {
    const pool = new pg.Pool({ connectionString, max: options.maxConnections ?? 10, types });
    // An idle connection that breaks (server restart) is dropped by the pool and the next query opens
    // a new one; without a listener the 'error' event would crash the process.
    pool.on('error', () => {});
    this.kysely = new Kysely<DbSchema>({ dialect: new PostgresDialect({ pool }) });
  }

  migrate(migrations: readonly Migration[]): Promise<void> {
    // Transaction-scoped, so it is released on commit or rollback even if the node dies mid-way.
    return applyMigrations(this.kysely, this.dialect, migrations, async (trx) => {
      await sql`select pg_advisory_xact_lock(${sql.lit(MIGRATION_LOCK_KEY)})`.execute(trx);
    });
  }

  close(): Promise<void> {
    return this.kysely.destroy();
  }
}
