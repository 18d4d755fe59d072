import type { CreateTableBuilder, Kysely, Transaction } from 'kysely';

/**
 * SQL state, through Kysely so that one query code base serves SQLite (embedded) and PostgreSQL
 * (cluster). Each service owns its tables: it declares their row types beside its code, reaches them
 * with `db.kysely.withTables<ItsTables>()`, and ships its own `Migration`s; the composition root
 * hands every service's migrations to `migrate()` once at start.
 *
 * Portable column types: `text` (JSON too, as text), `integer`, `bigint` (ids, counts and ms-since-epoch
 * timestamps: both drivers return them as JS numbers), `double precision`. Booleans are `integer` 0/1
 * (better-sqlite3 cannot bind booleans). PostgreSQL `text` cannot hold U+0000.
 */
export interface Db {
  /**
   * Shared by every service. Inside `transaction().execute(fn)`, query through the transaction only:
   * on SQLite there is one connection, and a query on `kysely` itself would wait for it forever.
   */
  readonly kysely: Kysely<DbSchema>;
  readonly dialect: DbDialect;
  /**
   * Applies each migration of `migrations` not applied yet, in list order, each in its own transaction
   * together with its record in `nuvola_migrations`: a failing one leaves no trace and rejects, so the
   * next start retries it. Safe to call on every start and, on PostgreSQL, from several nodes at once.
   */
  migrate(migrations: readonly Migration[]): Promise<void>;
  /** Releases the connection(s); close the services that use it first, so that none is mid-transaction. */
  close(): Promise<void>;
}

export type DbDialect = 'sqlite' | 'postgres';

/**
 * One schema change of one service. The id (`<service>/<NNN>-<what>`, e.g. `logs/001-create`) is what
 * records it as applied: never rename or edit a shipped migration, add a new one.
 */
export interface Migration {
  readonly id: string;
  // Kysely<any>: a migration must not depend on today's row types, which later migrations change.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  up(db: Kysely<any>, dialect: DbDialect): Promise<void>;
}

/** The port's own table; services add theirs with `withTables`. */
export interface DbSchema {
  nuvola_migrations: MigrationsTable;
}

export interface MigrationsTable {
  id: string;
  applied_at: number;
}

/**
 * Adds `id`, a 64-bit auto-assigned primary key, to a table being created (use with `$call`). Ids are
 * never reused, even after the newest rows are deleted, so "id greater than the last one seen" stays a
 * valid cursor. The dialects spell this differently, hence the helper.
 */
export function autoId(dialect: DbDialect) {
  return <T extends string, C extends string>(table: CreateTableBuilder<T, C>): CreateTableBuilder<T, C | 'id'> =>
    dialect === 'postgres'
      ? table.addColumn('id', 'bigserial', (c) => c.primaryKey())
      : table.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
}

/**
 * The migration protocol both drivers run (it lives beside the port because drivers may not import
 * one another). `lock` runs first in every transaction that changes the schema; a driver whose
 * database several processes share makes it serialise them (PostgreSQL: an advisory lock). Each
 * migration is re-checked under that lock, so a node that lost the race skips what the winner applied.
 */
export async function applyMigrations(
  kysely: Kysely<DbSchema>,
  dialect: DbDialect,
  migrations: readonly Migration[],
  lock: (trx: Transaction<DbSchema>) => Promise<void> = async () => {},
): Promise<void> {
  const ids = new Set<string>();
  for (const m of migrations) {
    if (ids.has(m.id)) throw new Error(`Duplicate migration id ${m.id}`);
    ids.add(m.id);
  }
  await kysely.transaction().execute(async (trx) => {
    await lock(trx);
    await trx.schema
      .createTable('nuvola_migrations')
      .ifNotExists()
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('applied_at', 'bigint', (c) => c.notNull())
      .execute();
  });
  // Read without the lock first, so that a restart with nothing new takes the lock once, not per migration.
  const applied = new Set((await kysely.selectFrom('nuvola_migrations').select('id').execute()).map((r) => r.id));
  for (const migration of migrations) {
    if (applied.has(migration.id)) continue;
    await kysely.transaction().execute(async (trx) => {
      await lock(trx);
      const done = await trx.selectFrom('nuvola_migrations').select('id').where('id', '=', migration.id).executeTakeFirst();
      if (done) return;
      await migration.up(trx, dialect);
      await trx.insertInto('nuvola_migrations').values({ id: migration.id, applied_at: Date.now() }).execute();
    });
  }
}
