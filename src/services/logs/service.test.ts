import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InsertQueryNode, RawNode, type KyselyPlugin, type PluginTransformQueryArgs, type PluginTransformResultArgs, type QueryResult, type RootOperationNode, type UnknownRow } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Db } from '../../ports/db.js';
import type { LogRecord } from '../../ports/executor.js';
import { PostgresDb } from '../../drivers/cluster/postgres-db.js';
import { FakeClock } from '../../drivers/conformance/fake-clock.js';
import { createPostgresTestDatabase } from '../../drivers/conformance/postgres-test-database.js';
import { SqliteDb } from '../../drivers/embedded/sqlite-db.js';
import { LOGS_LIMITS, LogsService, TRUNCATED_SUFFIX, logsMigrations, type LogsOptions } from './index.js';

/** Counts INSERT statements, and fails the next `failNext` of them. */
class InsertSpy implements KyselyPlugin {
  inserts = 0;
  failNext = 0;
  transformQuery({ node }: PluginTransformQueryArgs): RootOperationNode {
    // Lines are written by a raw INSERT … SELECT of one JSON parameter.
    if (InsertQueryNode.is(node) || (RawNode.is(node) && node.sqlFragments[0]?.trimStart().startsWith('INSERT'))) {
      this.inserts++;
      if (this.failNext > 0) {
        this.failNext--;
        throw new Error('injected write failure');
      }
    }
    return node;
  }
  async transformResult({ result }: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return result;
  }
}

const dir = mkdtempSync(path.join(tmpdir(), 'nuvola-logs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
describeLogs('SQLite', async () => new SqliteDb(path.join(dir, 'state.db')));

let postgresUrl = '';
let dropPostgres = async () => {};
beforeAll(async () => {
  ({ url: postgresUrl, drop: dropPostgres } = await createPostgresTestDatabase());
});
afterAll(() => dropPostgres());
describeLogs('PostgreSQL', async () => new PostgresDb(postgresUrl));

function describeLogs(name: string, openDb: () => Promise<Db>): void {
  describe(`LogsService on ${name}`, () => {
    let db: Db;
    let clock: FakeClock;
    let spy: InsertSpy;
    let logs: LogsService;
    let errors: unknown[];

    async function start(options: LogsOptions = {}): Promise<LogsService> {
      db = await openDb();
      await db.migrate(logsMigrations);
      // Tests share one database per driver; each starts from an empty table.
      await db.kysely.withTables<{ logs: { id: number } }>().deleteFrom('logs').execute();
      clock = new FakeClock();
      spy = new InsertSpy();
      errors = [];
      const spied: Db = { kysely: db.kysely.withPlugin(spy), dialect: db.dialect, migrate: (m) => db.migrate(m), close: () => db.close() };
      logs = new LogsService({ db: spied, clock, onError: (e) => errors.push(e) }, options);
      return logs;
    }
    function line(fn: string, n: number, extra: Partial<LogRecord> = {}): LogRecord {
      return { fn, requestId: `${fn}-req-${n % 3}`, time: clock.now(), stream: 'stdout', message: `${fn} line ${n}`, ...extra };
    }
    function appendMany(fn: string, count: number, extra: Partial<LogRecord> = {}): void {
      for (let n = 0; n < count; n++) logs.append(line(fn, n, extra));
    }
    const messages = (records: LogRecord[]) => records.map((r) => r.message);

    afterEach(async () => {
      await logs.close();
      await db.close();
    });

    it('writes many appends with one insert once the flush interval has passed', async () => {
      await start();
      appendMany('fn', 500);
      clock.advance(99);
      expect(spy.inserts).toBe(0);
      clock.advance(1);
      await vi.waitFor(() => expect(logs.stats().buffered).toBe(0));
      expect(spy.inserts).toBe(1);
      expect(await logs.query({ limit: 1_000 })).toHaveLength(500);
      expect(spy.inserts).toBe(1);
    });

    it('writes a full batch at once, without waiting for the timer', async () => {
      await start({ flushBatchSize: 1_000 });
      appendMany('fn', 2_000);
      await vi.waitFor(() => expect(logs.stats().buffered).toBe(0));
      expect(spy.inserts).toBe(2);
      logs.append(line('fn', 2_000));
      expect(logs.stats().buffered).toBe(1);
    });

    it('queries the newest lines oldest first, by function, request and time, including unwritten ones', async () => {
      await start();
      for (let n = 0; n < 150; n++) {
        logs.append(line('a', n));
        clock.advance(1);
      }
      const since = clock.now();
      appendMany('b', 10, { requestId: 'the-request', stream: 'stderr' });
      // The flush timer has fired for some of them; the rest are still in memory.
      expect(messages(await logs.query({ fn: 'a' }))).toEqual(Array.from({ length: 100 }, (_, i) => `a line ${i + 50}`));
      expect(messages(await logs.query({ fn: 'a', limit: 3 }))).toEqual(['a line 147', 'a line 148', 'a line 149']);
      expect(messages(await logs.query({ fn: 'a', since: since - 2 }))).toEqual(['a line 148', 'a line 149']);
      const request = await logs.query({ requestId: 'the-request' });
      expect(request).toEqual(Array.from({ length: 10 }, (_, n) => ({ fn: 'b', requestId: 'the-request', time: since, stream: 'stderr', message: `b line ${n}` })));
      expect(messages(await logs.query({ limit: 11 }))[0]).toBe('a line 149');
      expect(await logs.query({ fn: 'nobody' })).toEqual([]);
      await expect(logs.query({ limit: 0 })).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    });

    it("stores an invocation's runtime lines that follow one another as one row, and reads them back as lines", async () => {
      await start();
      const runtime = (requestId: string, message: string): LogRecord => ({ fn: 'f', requestId, time: clock.now(), stream: 'runtime', message });
      // `quiet` prints nothing; `loud` prints between its START and END; both interleave.
      logs.append(runtime('quiet', 'START RequestId: quiet'));
      logs.append(runtime('loud', 'START RequestId: loud'));
      logs.append({ fn: 'f', requestId: 'loud', time: clock.now(), stream: 'stdout', message: 'hello\nworld' });
      logs.append(runtime('quiet', 'END RequestId: quiet'));
      logs.append(runtime('quiet', 'REPORT RequestId: quiet'));
      logs.append(runtime('loud', 'END RequestId: loud'));
      logs.append(runtime('loud', 'REPORT RequestId: loud'));
      await logs.flush();
      const rows = await db.kysely.withTables<{ logs: { id: number; request_id: string | null } }>().selectFrom('logs').select('request_id').orderBy('id').execute();
      expect(rows.map((r) => r.request_id)).toEqual(['loud', 'loud', 'quiet', 'loud']);
      expect(messages(await logs.query({ requestId: 'quiet' }))).toEqual(['START RequestId: quiet', 'END RequestId: quiet', 'REPORT RequestId: quiet']);
      expect(messages(await logs.query({ requestId: 'loud' }))).toEqual(['START RequestId: loud', 'hello\nworld', 'END RequestId: loud', 'REPORT RequestId: loud']);
      expect(messages(await logs.query({ fn: 'f', limit: 2 }))).toEqual(['END RequestId: loud', 'REPORT RequestId: loud']);
    });

    it('streams new lines to followers as they are appended, before any write', async () => {
      await start();
      const all: string[] = [];
      const onlyB: string[] = [];
      logs.follow({}, (r) => all.push(r.message));
      const stop = logs.follow({ fn: 'b' }, (r) => onlyB.push(r.message));
      logs.follow({}, () => {
        throw new Error('a broken follower');
      });
      logs.append(line('a', 1));
      logs.append(line('b', 1));
      stop();
      logs.append(line('b', 2));
      expect(all).toEqual(['a line 1', 'b line 1', 'b line 2']);
      expect(onlyB).toEqual(['b line 1']);
      expect(spy.inserts).toBe(0);
      expect(await logs.query()).toHaveLength(3);
    });

    it('keeps at most maxRecordsPerFunction lines of each function', async () => {
      await start({ maxRecordsPerFunction: 10, pruneIntervalMs: 5_000 });
      appendMany('a', 25);
      appendMany('b', 5);
      clock.advance(5_000);
      await logs.flush();
      expect(messages(await logs.query({ fn: 'a' }))).toEqual(Array.from({ length: 10 }, (_, i) => `a line ${i + 15}`));
      expect(await logs.query({ fn: 'b' })).toHaveLength(5);
    });

    it('deletes lines older than maxAgeMs, also of functions that log no more', async () => {
      const hour = 60 * 60 * 1000;
      await start({ maxAgeMs: hour, pruneIntervalMs: 5_000 });
      const t0 = clock.now();
      // 2,500: more than one chunk of the age prune. They turn old 30 s from now.
      appendMany('quiet', 2_500, { time: t0 - hour + 30_000 });
      await logs.flush();
      const prunes = async (ms: number) => {
        clock.advance(ms);
        await logs.flush();
        await vi.waitFor(() => expect(clock.pendingTimers).toBe(1)); // the prune has re-armed itself
      };
      await prunes(5_000);
      expect(await logs.query({ fn: 'quiet', limit: 10_000 })).toHaveLength(2_500);
      await prunes(30_000);
      appendMany('busy', 3);
      await prunes(5_000);
      expect(await logs.query({ fn: 'quiet' })).toEqual([]);
      expect(await logs.query({ fn: 'busy' })).toHaveLength(3);
    });

    it('keeps lines across close and reopen of the database', async () => {
      await start();
      const time = Date.UTC(2025, 5, 1, 12, 0, 0, 1);
      logs.append(line('durable', 1, { time, requestId: null, stream: 'runtime' }));
      logs.append(line('durable', 2, { time: time + 1 }));
      await logs.close();
      await db.close();
      db = await openDb();
      await db.migrate(logsMigrations);
      logs = new LogsService({ db, clock });
      const stored = await logs.query({ fn: 'durable' });
      expect(stored).toEqual([
        { fn: 'durable', requestId: null, time, stream: 'runtime', message: 'durable line 1' },
        { fn: 'durable', requestId: 'durable-req-2', time: time + 1, stream: 'stdout', message: 'durable line 2' },
      ]);
    });

    it('stores NUL characters as U+FFFD and cuts overlong lines', async () => {
      await start();
      logs.append(line('fn', 1, { message: 'before\u0000after' }));
      logs.append(line('fn', 2, { message: 'x'.repeat(LOGS_LIMITS.MAX_MESSAGE_CHARS + 10) }));
      const [nul, long] = await logs.query({ fn: 'fn' });
      expect(nul?.message).toBe('before\uFFFDafter');
      expect(long?.message).toHaveLength(LOGS_LIMITS.MAX_MESSAGE_CHARS);
      expect(long?.message.endsWith(TRUNCATED_SUFFIX)).toBe(true);
    });

    it('keeps lines whose write failed and writes them on retry, once', async () => {
      await start();
      spy.failNext = 1;
      appendMany('fn', 5);
      clock.advance(100);
      await vi.waitFor(() => expect(errors).toHaveLength(1));
      expect(logs.stats()).toMatchObject({ buffered: 5, errors: 1 });
      clock.advance(200);
      await vi.waitFor(() => expect(logs.stats().buffered).toBe(0));
      expect(messages(await logs.query())).toEqual(Array.from({ length: 5 }, (_, n) => `fn line ${n}`));
    });

    it('drops and counts lines past maxBufferedRecords, but still streams them', async () => {
      await start({ maxBufferedRecords: 10 });
      let followed = 0;
      logs.follow({}, () => followed++);
      appendMany('fn', 15);
      expect(logs.stats()).toEqual({ buffered: 10, dropped: 5, errors: 0 });
      expect(followed).toBe(15);
    });

    it('writes buffered lines on close, stops its timers, and ignores later appends', async () => {
      await start();
      appendMany('fn', 3);
      await logs.close();
      expect(clock.pendingTimers).toBe(0);
      logs.append(line('fn', 4));
      expect(await logs.query()).toHaveLength(3);
    });
  });
}
