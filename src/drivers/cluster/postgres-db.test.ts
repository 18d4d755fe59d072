import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Migration } from '../../ports/db.js';
// The shared suite lives in drivers/conformance; a test is a small composition root and may wire it.
import { describeDbConformance } from '../conformance/db.suite.js';
import { createPostgresTestDatabase } from '../conformance/postgres-test-database.js';
import { PostgresDb } from './postgres-db.js';

let url = '';
let drop = async () => {};
beforeAll(async () => {
  ({ url, drop } = await createPostgresTestDatabase());
});
afterAll(() => drop());

describeDbConformance('PostgresDb', async () => new PostgresDb(url, { maxConnections: 4 }));

describe('PostgresDb', () => {
  it('applies each migration once when several nodes start at once', async () => {
    const nodes = Array.from({ length: 6 }, () => new PostgresDb(url, { maxConnections: 2 }));
    const calls: string[] = [];
    const table = `race_${randomBytes(4).toString('hex')}`;
    const migrations: Migration[] = [1, 2, 3].map((n) => ({
      id: `${table}/00${n}`,
      async up(db) {
        calls.push(`${table}/00${n}`);
        // Long enough that every node is waiting on the lock while the first one holds it.
        await sql`select pg_sleep(0.05)`.execute(db);
        if (n === 1) await db.schema.createTable(table).addColumn('n', 'integer').execute();
        else await db.insertInto(table).values({ n }).execute();
      },
    }));
    try {
      await Promise.all(nodes.map((node) => node.migrate(migrations)));
      expect(calls).toEqual(migrations.map((m) => m.id));
      const rows = await sql<{ n: number }>`select n from ${sql.table(table)} order by n`.execute(nodes[0]!.kysely);
      expect(rows.rows).toEqual([{ n: 2 }, { n: 3 }]);
    } finally {
      await Promise.all(nodes.map((node) => node.close()));
    }
  });

  it('reports a refused connection as a rejected query, not a crash', async () => {
    const db = new PostgresDb('postgres://postgres@127.0.0.1:1/none');
    try {
      await expect(db.migrate([])).rejects.toThrow();
    } finally {
      await db.close();
    }
  });
});
