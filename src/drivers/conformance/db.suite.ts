import { sql, type Generated, type Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { autoId, type Db, type DbSchema, type Migration } from '../../ports/db.js';

interface ItemsTable {
  id: Generated<number>;
  tag: string;
  body: string;
  at: number;
}

type Items = Kysely<DbSchema & { conformance_items: ItemsTable }>;

const itemsMigration: Migration = {
  id: 'conformance/001-items',
  async up(db, dialect) {
    await db.schema
      .createTable('conformance_items')
      .$call(autoId(dialect))
      .addColumn('tag', 'text', (c) => c.notNull())
      .addColumn('body', 'text', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('conformance_items_tag').on('conformance_items').column('tag').execute();
  },
};

/**
 * The behaviour every `Db` driver must show. `open` returns a new `Db` over the same database each
 * time (so that re-opening is tested); the database may hold tables from earlier tests of the run.
 */
export function describeDbConformance(name: string, open: () => Promise<Db>): void {
  describe(`Db conformance: ${name}`, () => {
    const opened = new Set<Db>();
    let seq = 0;
    const unique = (base: string) => `${base}_${Date.now().toString(36)}_${++seq}`;

    async function connect(): Promise<Db> {
      const db = await open();
      opened.add(db);
      return db;
    }
    async function disconnect(db: Db): Promise<void> {
      opened.delete(db);
      await db.close();
    }
    async function openItems(): Promise<{ db: Db; items: Items; tag: string }> {
      const db = await connect();
      await db.migrate([itemsMigration]);
      return { db, items: db.kysely.withTables<{ conformance_items: ItemsTable }>(), tag: unique('tag') };
    }
    async function tableExists(db: Db, table: string): Promise<boolean> {
      return sql`select count(*) from ${sql.table(table)}`.execute(db.kysely).then(
        () => true,
        () => false,
      );
    }
    async function appliedIds(db: Db): Promise<string[]> {
      return (await db.kysely.selectFrom('nuvola_migrations').select('id').execute()).map((r) => r.id);
    }
    /** Two migrations, the second of which needs the first; `calls` records every run of `up`. */
    function chain(calls: string[], table = unique('chain')): Migration[] {
      return [
        {
          id: `${table}/001-create`,
          async up(db) {
            calls.push(`${table}/001-create`);
            await db.schema.createTable(table).addColumn('n', 'integer').execute();
          },
        },
        {
          id: `${table}/002-seed`,
          async up(db) {
            calls.push(`${table}/002-seed`);
            await db.insertInto(table).values({ n: 1 }).execute();
          },
        },
      ];
    }

    afterEach(async () => {
      await Promise.all([...opened].map((db) => disconnect(db)));
    });

    it('applies migrations once each, in list order, and records them', async () => {
      const db = await connect();
      const calls: string[] = [];
      const migrations = chain(calls);
      await db.migrate(migrations);
      await db.migrate(migrations);
      expect(calls).toEqual(migrations.map((m) => m.id));
      expect(await appliedIds(db)).toEqual(expect.arrayContaining(migrations.map((m) => m.id)));
    });

    it('applies only new migrations after the database is re-opened', async () => {
      const calls: string[] = [];
      const [create, seed] = chain(calls) as [Migration, Migration];
      const first = await connect();
      await first.migrate([create]);
      await disconnect(first);
      const second = await connect();
      await second.migrate([create, seed]);
      await second.migrate([create, seed]);
      expect(calls).toEqual([create.id, seed.id]);
    });

    it('applies each migration once when migrate() runs concurrently', async () => {
      const db = await connect();
      const calls: string[] = [];
      const migrations = chain(calls);
      await Promise.all([db.migrate(migrations), db.migrate(migrations), db.migrate(migrations)]);
      expect(calls).toEqual(migrations.map((m) => m.id));
    });

    it('rolls a failing migration back, does not record it, and retries it next time', async () => {
      const db = await connect();
      const calls: string[] = [];
      const [create, seed] = chain(calls) as [Migration, Migration];
      const half = unique('half');
      const failing: Migration = {
        id: `${half}/001-fails`,
        async up(trx) {
          await trx.schema.createTable(half).addColumn('n', 'integer').execute();
          throw new Error('migration failed on purpose');
        },
      };
      await expect(db.migrate([create, failing, seed])).rejects.toThrow('migration failed on purpose');
      expect(await tableExists(db, half)).toBe(false);
      expect(await appliedIds(db)).toContain(create.id);
      expect(await appliedIds(db)).not.toContain(failing.id);
      expect(calls).toEqual([create.id]);

      const fixed: Migration = { id: failing.id, up: (trx) => trx.schema.createTable(half).addColumn('n', 'integer').execute() };
      await db.migrate([create, fixed, seed]);
      expect(await tableExists(db, half)).toBe(true);
      expect(calls).toEqual([create.id, seed.id]);
    });

    it('rejects a list with a duplicate id before applying any of it', async () => {
      const db = await connect();
      const calls: string[] = [];
      const [create] = chain(calls) as [Migration];
      await expect(db.migrate([create, create])).rejects.toThrow(create.id);
      expect(calls).toEqual([]);
    });

    it('commits a transaction, and rolls one back when its function throws', async () => {
      const { items, tag } = await openItems();
      const committed = await items.transaction().execute(async (trx) => {
        await trx.insertInto('conformance_items').values({ tag, body: 'kept', at: 1 }).execute();
        // A transaction reads its own writes.
        return trx.selectFrom('conformance_items').select('body').where('tag', '=', tag).execute();
      });
      expect(committed).toEqual([{ body: 'kept' }]);
      await expect(
        items.transaction().execute(async (trx) => {
          await trx.insertInto('conformance_items').values({ tag, body: 'lost', at: 2 }).execute();
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      const rows = await items.selectFrom('conformance_items').select('body').where('tag', '=', tag).execute();
      expect(rows).toEqual([{ body: 'kept' }]);
    });

    it('keeps every row of concurrent inserts and transactions, with distinct ids', async () => {
      const { items, tag } = await openItems();
      const singles = Array.from({ length: 100 }, (_, i) =>
        items.insertInto('conformance_items').values({ tag, body: `single ${i}`, at: i }).execute(),
      );
      const batches = Array.from({ length: 10 }, (_, b) =>
        items.transaction().execute(async (trx) => {
          for (let i = 0; i < 20; i++) {
            await trx.insertInto('conformance_items').values({ tag, body: `batch ${b}/${i}`, at: i }).execute();
          }
        }),
      );
      await Promise.all([...singles, ...batches]);
      const rows = await items.selectFrom('conformance_items').select(['id', 'body']).where('tag', '=', tag).execute();
      expect(rows).toHaveLength(300);
      expect(new Set(rows.map((r) => r.id)).size).toBe(300);
      expect(new Set(rows.map((r) => r.body)).size).toBe(300);
    });

    it('round-trips unicode text and JSON unchanged', async () => {
      const { items, tag } = await openItems();
      const texts = [
        'héllo wörld',
        '日本語のテキスト',
        'emoji 😀 👍🏽 👨‍👩‍👧‍👦',
        'עברית ومرحبا',
        'e\u0301 (combining)',
        `quotes ' " \` and \\ backslashes %_ like-wildcards`,
        'tab\tnewline\ncarriage\r\n',
        '',
        JSON.stringify({ a: [1, 'x', null, true, 1.5e300], nested: { emoji: '😀', nul: '\u0000', quote: '"' } }),
      ];
      await items
        .insertInto('conformance_items')
        .values(texts.map((body, at) => ({ tag, body, at })))
        .execute();
      const rows = await items.selectFrom('conformance_items').select(['body', 'at']).where('tag', '=', tag).orderBy('at').execute();
      expect(rows.map((r) => r.body)).toEqual(texts);
      expect(JSON.parse(rows[texts.length - 1]!.body)).toEqual(JSON.parse(texts[texts.length - 1]!));
    });

    it('round-trips a 1 MB text unchanged', async () => {
      const { items, tag } = await openItems();
      const body = 'line of log text: ünïcödé € 😀\n'.repeat(40_000);
      expect(Buffer.byteLength(body)).toBeGreaterThan(1024 * 1024);
      await items.insertInto('conformance_items').values({ tag, body, at: 0 }).execute();
      const row = await items.selectFrom('conformance_items').select('body').where('tag', '=', tag).executeTakeFirstOrThrow();
      expect(row.body.length).toBe(body.length);
      expect(row.body === body).toBe(true);
    });

    it('returns bigint timestamps, ids, counts and maxima as numbers', async () => {
      const { items, tag } = await openItems();
      const times = [0, 2 ** 31, 2 ** 32 + 1, Date.UTC(2025, 0, 1, 12, 0, 0, 123), Date.UTC(2100, 0, 1), Number.MAX_SAFE_INTEGER];
      await items
        .insertInto('conformance_items')
        .values(times.map((at) => ({ tag, body: String(at), at })))
        .execute();
      const rows = await items.selectFrom('conformance_items').select(['id', 'at']).where('tag', '=', tag).orderBy('at').execute();
      expect(rows.map((r) => r.at)).toEqual(times);
      for (const row of rows) {
        expect(typeof row.id).toBe('number');
        expect(typeof row.at).toBe('number');
      }
      const agg = await items
        .selectFrom('conformance_items')
        .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.max('at').as('latest')])
        .where('tag', '=', tag)
        .executeTakeFirstOrThrow();
      expect(agg).toEqual({ n: times.length, latest: Number.MAX_SAFE_INTEGER });
      const found = await items.selectFrom('conformance_items').select('body').where('tag', '=', tag).where('at', '>', 2 ** 31).execute();
      expect(found).toHaveLength(4);
    });
  });
}
