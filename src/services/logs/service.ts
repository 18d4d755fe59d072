/**
 * Logs: every function's log lines (the runtime's START/END/REPORT and the function's own output),
 * stored in SQL with bounded retention, queried by function or request, and followed live.
 */
import { sql, type Kysely } from 'kysely';
import { PlatformError } from '../../core/errors.js';
import type { Clock } from '../../ports/clock.js';
import type { Db, DbDialect, DbSchema } from '../../ports/db.js';
import type { LogRecord } from '../../ports/executor.js';
import type { LogsTables } from './migrations.js';

export const LOGS_LIMITS = {
  // CloudWatch Logs' historical per-event limit is 256 KB; a longer line is cut, so that one noisy
  // function cannot make a flush statement arbitrarily large.
  MAX_MESSAGE_CHARS: 256 * 1024,
  DEFAULT_QUERY_LIMIT: 100,
  MAX_QUERY_LIMIT: 10_000,
} as const;

export const TRUNCATED_SUFFIX = '… [truncated]';

export interface LogsOptions {
  /** Lines kept per function, newest first; default 10,000. `Infinity` keeps all. */
  readonly maxRecordsPerFunction?: number;
  /** Lines older than this are deleted; default 7 days. `Infinity` keeps all. */
  readonly maxAgeMs?: number;
  /** Longest a line waits in memory before it is written; default 100 ms. */
  readonly flushIntervalMs?: number;
  /** A buffer this full is written at once; default 1,000 lines. */
  readonly flushBatchSize?: number;
  /** How often retention runs; default 5 s. */
  readonly pruneIntervalMs?: number;
  /**
   * Lines held in memory (buffered or being written) past which new ones are dropped and counted,
   * so that a database slower than the functions' output cannot exhaust memory; default 100,000.
   */
  readonly maxBufferedRecords?: number;
}

export interface LogsServiceDeps {
  readonly db: Db;
  readonly clock: Clock;
  /** Told of a failed background write or prune (the lines stay buffered and are retried). */
  readonly onError?: (error: unknown) => void;
}

export interface LogQuery {
  readonly fn?: string;
  readonly requestId?: string;
  /** Only lines whose time is at or after this, ms since the epoch. */
  readonly since?: number;
  /** The newest this many matching lines; default 100, at most 10,000. */
  readonly limit?: number;
}

export interface LogsStats {
  /** Lines in memory, not yet written. */
  readonly buffered: number;
  /** Lines dropped because the buffer was full. */
  readonly dropped: number;
  /** Background writes and prunes that failed. */
  readonly errors: number;
}

const DEFAULTS = {
  maxRecordsPerFunction: 10_000,
  maxAgeMs: 7 * 24 * 60 * 60 * 1000,
  flushIntervalMs: 100,
  flushBatchSize: 1_000,
  pruneIntervalMs: 5_000,
  maxBufferedRecords: 100_000,
} as const satisfies Required<LogsOptions>;

// Rows per INSERT: 5 parameters each stays far below SQLite's 32,766 and PostgreSQL's 65,535.
const INSERT_ROWS = 1_000;
// Characters per INSERT, so that a batch of long lines becomes several statements, not one huge one.
const INSERT_CHARS = 4 * 1024 * 1024;
// Age retention deletes among the oldest rows by id, this many per statement, at most this often per run.
const AGE_PRUNE_CHUNK = 1_000;
const AGE_PRUNE_CHUNKS_PER_RUN = 20;
const MAX_RETRY_DELAY_MS = 5_000;

type Follower = { readonly fn: string | undefined; readonly onRecord: (record: LogRecord) => void };

/**
 * The function log store. `append` only buffers, so it is cheap on the invocation path; lines reach
 * the database within `flushIntervalMs` (or at once when `flushBatchSize` are waiting), in one
 * transaction per flush, in append order. `query` and `flush` see every line appended before them;
 * `close` writes what is buffered. Lines are kept per `maxRecordsPerFunction` and `maxAgeMs`.
 */
export class LogsService {
  readonly #db: Kysely<DbSchema & LogsTables>;
  readonly #dialect: DbDialect;
  readonly #clock: Clock;
  readonly #onError: (error: unknown) => void;
  readonly #options: Required<LogsOptions>;
  #buffer: LogRecord[] = [];
  #writing = 0;
  // Writes and prunes run one at a time, in order: ids then follow append order, and on SQLite they
  // do not queue on the single connection behind one another's transactions.
  #queue: Promise<void> = Promise.resolve();
  #cancelFlush: (() => void) | undefined;
  #cancelPrune: (() => void) | undefined;
  #failures = 0;
  #dropped = 0;
  #errors = 0;
  #closed = false;
  readonly #followers = new Set<Follower>();
  // Functions that got lines since the last prune: only their counts can have grown.
  #touched = new Set<string>();

  constructor(deps: LogsServiceDeps, options: LogsOptions = {}) {
    this.#db = deps.db.kysely.withTables<LogsTables>();
    this.#dialect = deps.db.dialect;
    this.#clock = deps.clock;
    this.#onError = deps.onError ?? (() => {});
    this.#options = { ...DEFAULTS, ...options };
    this.#schedulePrune();
  }

  /** Buffers one line and hands it to followers; never throws, never waits. Ignored after `close`. */
  append(record: LogRecord): void {
    if (this.#closed) return;
    const stored = storable(record);
    for (const follower of this.#followers) {
      if (follower.fn !== undefined && follower.fn !== stored.fn) continue;
      try {
        follower.onRecord(stored);
      } catch {
        // A broken follower (a closed CLI stream) must not fail the invocation that logged.
      }
    }
    if (this.#buffer.length + this.#writing >= this.#options.maxBufferedRecords) {
      this.#dropped++;
      return;
    }
    this.#buffer.push(stored);
    this.#touched.add(stored.fn);
    if (this.#buffer.length >= this.#options.flushBatchSize) this.#flushInBackground();
    else this.#cancelFlush ??= this.#clock.setTimer(this.#options.flushIntervalMs, () => this.#flushInBackground());
  }

  /** Writes every buffered line; resolves once they and all earlier writes are committed. */
  flush(): Promise<void> {
    this.#cancelFlush?.();
    this.#cancelFlush = undefined;
    const batch = this.#buffer;
    this.#buffer = [];
    this.#writing += batch.length;
    return this.#enqueue(() => this.#write(batch));
  }

  /** The newest `limit` lines matching, oldest first, including lines appended but not yet written. */
  async query(q: LogQuery = {}): Promise<LogRecord[]> {
    const limit = q.limit ?? LOGS_LIMITS.DEFAULT_QUERY_LIMIT;
    if (!Number.isInteger(limit) || limit < 1) {
      throw new PlatformError('INVALID_REQUEST', `limit must be a positive integer, got ${limit}`, { limit });
    }
    await this.flush();
    let select = this.#db
      .selectFrom('logs')
      .select(['fn', 'request_id', 'time', 'stream', 'message'])
      .orderBy('id', 'desc')
      .limit(Math.min(limit, LOGS_LIMITS.MAX_QUERY_LIMIT));
    if (q.fn !== undefined) select = select.where('fn', '=', q.fn);
    if (q.requestId !== undefined) select = select.where('request_id', '=', q.requestId);
    if (q.since !== undefined) select = select.where('time', '>=', q.since);
    const rows = await select.execute();
    const records = rows.reverse().flatMap((r) =>
      // A row of runtime lines holds several (see rowsOf); no runtime line has a newline of its own.
      (r.stream === 'runtime' ? r.message.split('\n') : [r.message]).map((message) => ({
        fn: r.fn,
        requestId: r.request_id,
        time: r.time,
        stream: r.stream as LogRecord['stream'],
        message,
      })),
    );
    return records.length > limit ? records.slice(-limit) : records;
  }

  /**
   * Calls `onRecord` with every line appended from now on (of `fn`, if given), synchronously, as it is
   * appended: no database round trip. Returns the function that stops it.
   */
  follow(filter: { readonly fn?: string }, onRecord: (record: LogRecord) => void): () => void {
    const follower: Follower = { fn: filter.fn, onRecord };
    this.#followers.add(follower);
    return () => this.#followers.delete(follower);
  }

  stats(): LogsStats {
    return { buffered: this.#buffer.length + this.#writing, dropped: this.#dropped, errors: this.#errors };
  }

  /** Stops timers and followers and writes what is buffered. Does not close the `Db`. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#cancelPrune?.();
    this.#cancelPrune = undefined;
    this.#followers.clear();
    await this.flush();
  }

  #enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(task);
    this.#queue = run.catch(() => {});
    return run;
  }

  #flushInBackground(): void {
    this.flush().catch((error: unknown) => this.#fail(error));
  }

  async #write(batch: LogRecord[]): Promise<void> {
    if (batch.length === 0) return;
    try {
      const statements = chunk(rowsOf(batch));
      if (statements.length === 1) await this.#insert(this.#db, statements[0]!);
      else await this.#db.transaction().execute(async (trx) => {
        for (const rows of statements) await this.#insert(trx, rows);
      });
      this.#failures = 0;
    } catch (error) {
      this.#requeue(batch);
      throw error;
    } finally {
      this.#writing -= batch.length;
    }
  }

  /**
   * The rows go as one JSON parameter that the database unpacks itself: a statement of constant text
   * (prepared once) instead of one of thousands of parameters built, compiled and bound per flush,
   * the larger part of a busy platform's log cost.
   */
  async #insert(db: Kysely<DbSchema & LogsTables>, records: readonly LogRecord[]): Promise<void> {
    const rows = JSON.stringify(records.map((r) => [r.fn, r.requestId, r.time, r.stream, r.message]));
    if (this.#dialect === 'sqlite') {
      await sql`INSERT INTO logs (fn, request_id, time, stream, message)
        SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4 FROM json_each(${rows})`.execute(db);
    } else {
      await sql`INSERT INTO logs (fn, request_id, time, stream, message)
        SELECT r ->> 0, r ->> 1, (r ->> 2)::bigint, r ->> 3, r ->> 4 FROM json_array_elements(${rows}::json) AS r`.execute(db);
    }
  }

  // A failed batch goes back in front of newer lines and is retried with backoff, so that a database
  // restart loses nothing that fits in the buffer.
  #requeue(batch: LogRecord[]): void {
    const merged = batch.concat(this.#buffer);
    const excess = merged.length - this.#options.maxBufferedRecords;
    if (excess > 0) {
      merged.splice(0, excess);
      this.#dropped += excess;
    }
    this.#buffer = merged;
    this.#failures++;
    if (this.#closed) return;
    const delay = Math.min(this.#options.flushIntervalMs * 2 ** this.#failures, MAX_RETRY_DELAY_MS);
    this.#cancelFlush?.();
    this.#cancelFlush = this.#clock.setTimer(delay, () => this.#flushInBackground());
  }

  #fail(error: unknown): void {
    this.#errors++;
    try {
      this.#onError(error);
    } catch {
      // The reporter's own failure has nowhere left to go.
    }
  }

  #schedulePrune(): void {
    if (this.#closed) return;
    this.#cancelPrune = this.#clock.setTimer(this.#options.pruneIntervalMs, () => {
      this.#cancelPrune = undefined;
      this.#enqueue(() => this.#prune())
        .catch((error: unknown) => this.#fail(error))
        .finally(() => this.#schedulePrune());
    });
  }

  async #prune(): Promise<void> {
    const fns = this.#touched;
    this.#touched = new Set();
    try {
      if (Number.isFinite(this.#options.maxRecordsPerFunction)) {
        for (const fn of fns) await this.#pruneCount(fn, this.#options.maxRecordsPerFunction);
      }
    } catch (error) {
      for (const fn of fns) this.#touched.add(fn);
      throw error;
    }
    if (Number.isFinite(this.#options.maxAgeMs)) await this.#pruneAge(this.#clock.now() - this.#options.maxAgeMs);
  }

  // The (max+1)-th newest id of the function, read from the (fn, id) index, is the threshold.
  async #pruneCount(fn: string, max: number): Promise<void> {
    const edge = await this.#db
      .selectFrom('logs')
      .select('id')
      .where('fn', '=', fn)
      .orderBy('id', 'desc')
      .limit(1)
      .offset(max)
      .executeTakeFirst();
    if (edge) await this.#db.deleteFrom('logs').where('fn', '=', fn).where('id', '<=', edge.id).execute();
  }

  // Ids grow with time (lines are written within a flush interval of being logged), so the oldest
  // lines are the lowest ids: deleting among a chunk of those reads the primary key only, no index on
  // time needed. Across nodes with skewed clocks a line may outlive the cutoff by the skew.
  async #pruneAge(cutoff: number): Promise<void> {
    for (let i = 0; i < AGE_PRUNE_CHUNKS_PER_RUN; i++) {
      const oldest = this.#db.selectFrom('logs').select('id').orderBy('id').limit(AGE_PRUNE_CHUNK);
      const result = await this.#db.deleteFrom('logs').where('id', 'in', oldest).where('time', '<', cutoff).executeTakeFirst();
      if (Number(result.numDeletedRows) < AGE_PRUNE_CHUNK) return;
    }
  }
}

/**
 * The rows a batch is written as. The runtime lines of one invocation that follow one another, with
 * none of its own output between them, share a row, placed where the last of them is: START, END and
 * REPORT of an invocation that printed nothing are one row, not three (`query` splits it again).
 */
function rowsOf(batch: readonly LogRecord[]): LogRecord[] {
  const rows: (LogRecord | undefined)[] = [];
  // Per invocation, the index of its runtime row that the next runtime line may join.
  const open = new Map<string, number>();
  for (const r of batch) {
    if (r.requestId === null) {
      rows.push(r);
      continue;
    }
    const key = `${r.fn}\u0000${r.requestId}`;
    const at = open.get(key);
    const prev = at === undefined ? undefined : rows[at];
    if (r.stream === 'runtime' && prev && prev.message.length + r.message.length < LOGS_LIMITS.MAX_MESSAGE_CHARS) {
      rows[at!] = undefined;
      rows.push({ ...r, message: `${prev.message}\n${r.message}` });
    } else {
      rows.push(r);
    }
    if (r.stream === 'runtime') open.set(key, rows.length - 1);
    else open.delete(key);
  }
  return rows.filter((r): r is LogRecord => r !== undefined);
}

/** The record as stored: PostgreSQL text cannot hold U+0000, and overlong lines are cut. */
function storable(record: LogRecord): LogRecord {
  const { message } = record;
  if (message.length <= LOGS_LIMITS.MAX_MESSAGE_CHARS && !message.includes('\u0000')) return record;
  let cleaned = message.replaceAll('\u0000', '\uFFFD');
  if (cleaned.length > LOGS_LIMITS.MAX_MESSAGE_CHARS) {
    cleaned = cleaned.slice(0, LOGS_LIMITS.MAX_MESSAGE_CHARS - TRUNCATED_SUFFIX.length) + TRUNCATED_SUFFIX;
  }
  return { ...record, message: cleaned };
}

function chunk(records: readonly LogRecord[]): LogRecord[][] {
  const statements: LogRecord[][] = [];
  let current: LogRecord[] = [];
  let chars = 0;
  for (const r of records) {
    if (current.length > 0 && (current.length >= INSERT_ROWS || chars + r.message.length > INSERT_CHARS)) {
      statements.push(current);
      current = [];
      chars = 0;
    }
    current.push(r);
    chars += r.message.length;
  }
  if (current.length > 0) statements.push(current);
  return statements;
}
