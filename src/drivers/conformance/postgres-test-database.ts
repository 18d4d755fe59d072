import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** Where tests find PostgreSQL: any database the user may create databases from. */
export const TEST_POSTGRES_URL = process.env.NUVOLA_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Creates an empty database for one test file, so that runs (and parallel test files) never see one
 * another's tables. `drop()` removes it even if a pool a failed test left open still connects to it.
 */
export async function createPostgresTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `nuvola_test_${randomBytes(6).toString('hex')}`;
  await admin(`create database ${name}`);
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`drop database if exists ${name} with (force)`) };
}

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
