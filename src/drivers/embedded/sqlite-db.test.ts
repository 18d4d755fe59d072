import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { describeDbConformance } from '../conformance/db.suite.js';
import { SqliteDb } from './sqlite-db.js';

const dir = mkdtempSync(path.join(tmpdir(), 'nuvola-sqlite-db-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A directory that does not exist yet: the driver creates it.
describeDbConformance('SqliteDb', async () => new SqliteDb(path.join(dir, 'nested', 'state.db')));

describe('SqliteDb', () => {
  it('sets its pragmas', async () => {
    const db = new SqliteDb(path.join(dir, 'pragmas.db'));
    try {
      const pragma = async (name: string) => {
        const { rows } = await sql<Record<string, unknown>>`select * from ${sql.raw(`pragma_${name}`)}`.execute(db.kysely);
        return Object.values(rows[0] ?? {})[0];
      };
      expect(await pragma('journal_mode')).toBe('wal');
      expect(await pragma('synchronous')).toBe(1); // NORMAL
      expect(await pragma('busy_timeout')).toBe(5000);
      expect(await pragma('foreign_keys')).toBe(1);
    } finally {
      await db.close();
    }
  });

  it('works in memory', async () => {
    const db = new SqliteDb(':memory:');
    await db.migrate([]);
    expect(await db.kysely.selectFrom('nuvola_migrations').selectAll().execute()).toEqual([]);
    await db.close();
  });
});
