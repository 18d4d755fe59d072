/**
 * The embedded `Broker`: queues in a SQLite file of their own (WAL, `synchronous = NORMAL`: a process
 * killed with -9 loses nothing committed; a power cut may lose the last commits, never corrupts), on a
 * connection of their own with prepared statements. Publishes of one turn of the event loop are
 * written in one transaction (a group commit) and resolve once it is committed.
 *
 * Time comes from the `Clock`: delays, visibility timeouts, long polls, retention and the
 * de-duplication window all run on it, so tests pass hours in milliseconds.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PlatformError } from '../../core/errors.js';
import type { Broker, Delivery, Published, PeekedMessage, PublishInput, PullOptions, QueueCounts, QueueOptions } from '../../ports/broker.js';
import type { Clock } from '../../ports/clock.js';
import { Database, type SqliteDatabase } from './better-sqlite3.js';

const DEFAULT_DEDUP_WINDOW_MS = 5 * 60_000;
const DEFAULT_RETENTION_MS = 4 * 24 * 60 * 60_000;
/** How often expired messages and de-duplication ids are deleted. */
const SWEEP_EVERY_MS = 60_000;
/** An ordered queue is read this many messages deep per pull to find deliverable groups. */
const ORDERED_SCAN = 5_000;
const MAX_PULL = 10_000;

interface MessageRow {
  seq: number;
  id: string;
  body: string;
  attributes: string | null;
  group_id: string | null;
  dedup_id: string | null;
  sent_at: number;
  visible_at: number;
  in_flight: number;
  receive_count: number;
  first_received_at: number | null;
}

interface PendingPublish {
  readonly queue: string;
  readonly messages: readonly PublishInput[];
  readonly resolve: (p: Published[]) => void;
  readonly reject: (e: unknown) => void;
}

interface Waiter {
  readonly queue: string;
  readonly wake: () => void;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS queues (name TEXT PRIMARY KEY, options TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS messages (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL,
  queue TEXT NOT NULL,
  body TEXT NOT NULL,
  attributes TEXT,
  group_id TEXT,
  dedup_id TEXT,
  sent_at INTEGER NOT NULL,
  visible_at INTEGER NOT NULL,
  in_flight INTEGER NOT NULL DEFAULT 0,
  receive_count INTEGER NOT NULL DEFAULT 0,
  first_received_at INTEGER
);
CREATE INDEX IF NOT EXISTS messages_visible ON messages (queue, visible_at);
CREATE INDEX IF NOT EXISTS messages_sent ON messages (queue, sent_at);
CREATE TABLE IF NOT EXISTS dedup (
  queue TEXT NOT NULL,
  dedup_id TEXT NOT NULL,
  message_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (queue, dedup_id)
);
`;

export class SqliteBroker implements Broker {
  private readonly db: SqliteDatabase;
  private readonly clock: Clock;
  private readonly options = new Map<string, QueueOptions>();
  private pending: PendingPublish[] = [];
  private readonly waiters = new Set<Waiter>();
  private cancelSweep: (() => void) | undefined;
  private closed = false;
  private readonly stmt: ReturnType<typeof statements>;

  /** Opens (creating it if needed) the broker's database at `file`, or `:memory:`. */
  constructor(file: string, clock: Clock) {
    if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    this.clock = clock;
    this.stmt = statements(this.db);
    const db = this.db;
    for (const row of db.prepare('SELECT name, options FROM queues').all() as { name: string; options: string }[]) {
      this.options.set(row.name, JSON.parse(row.options) as QueueOptions);
    }
    this.scheduleSweep();
  }

  async ensureQueue(name: string, options: QueueOptions = {}): Promise<void> {
    this.open();
    if (options.deadLetterQueue !== undefined && !this.options.has(options.deadLetterQueue) && options.deadLetterQueue !== name) {
      throw new PlatformError('QUEUE_NOT_FOUND', `Dead-letter queue ${options.deadLetterQueue} does not exist`, { queue: options.deadLetterQueue });
    }
    this.stmt.putQueue.run(name, JSON.stringify(options));
    this.options.set(name, options);
  }

  async deleteQueue(name: string): Promise<void> {
    this.open();
    this.db.transaction(() => {
      this.stmt.purge.run(name);
      this.stmt.purgeDedup.run(name);
      this.stmt.deleteQueue.run(name);
    })();
    this.options.delete(name);
  }

  publish(queue: string, messages: readonly PublishInput[]): Promise<Published[]> {
    try {
      this.open();
      this.queue(queue);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      if (this.pending.length === 0) setImmediate(() => this.commitPublishes());
      this.pending.push({ queue, messages, resolve, reject });
    });
  }

  async pull(queue: string, options: PullOptions): Promise<Delivery[]> {
    this.open();
    const max = Math.max(1, Math.min(MAX_PULL, Math.floor(options.max)));
    const deadline = this.clock.now() + Math.max(0, options.waitMs ?? 0);
    for (;;) {
      const got = this.take(queue, max, options.visibilityMs);
      if (got.length > 0 || this.closed || options.signal?.aborted || this.clock.now() >= deadline) return got;
      await this.waitFor(queue, deadline, options.signal);
    }
  }

  async ack(queue: string, receipts: readonly string[]): Promise<boolean[]> {
    this.open();
    return this.db.transaction(() =>
      receipts.map((receipt) => {
        const r = parseReceipt(receipt);
        return r !== undefined && this.stmt.ack.run(queue, r.seq, r.count).changes === 1;
      }),
    )();
  }

  async release(queue: string, receipt: string, delayMs: number): Promise<boolean> {
    this.open();
    const r = parseReceipt(receipt);
    const released = r !== undefined && this.stmt.release.run(this.clock.now() + Math.max(0, delayMs), queue, r.seq, r.count).changes === 1;
    if (released && delayMs <= 0) this.wake(queue);
    return released;
  }

  async purge(queue: string): Promise<void> {
    this.open();
    this.queue(queue);
    this.stmt.purge.run(queue);
  }

  async peek(queue: string, max: number): Promise<PeekedMessage[]> {
    this.open();
    this.queue(queue);
    const rows = this.stmt.ordered.all(queue, Math.max(0, Math.min(max, 10_000))) as MessageRow[];
    return rows.map((r) => ({
      id: r.id,
      body: r.body,
      attributes: r.attributes ? (JSON.parse(r.attributes) as Record<string, string>) : {},
      groupId: r.group_id ?? undefined,
      sentAt: r.sent_at,
      receiveCount: r.receive_count,
    }));
  }

  async counts(queue: string): Promise<QueueCounts> {
    this.open();
    this.queue(queue);
    const now = this.clock.now();
    const row = this.stmt.counts.get(now, now, now, queue) as { visible: number | null; inFlight: number | null; delayed: number | null };
    return { visible: row.visible ?? 0, inFlight: row.inFlight ?? 0, delayed: row.delayed ?? 0 };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.commitPublishes();
    this.closed = true;
    this.cancelSweep?.();
    for (const waiter of [...this.waiters]) waiter.wake();
    this.db.close();
  }

  private open(): void {
    if (this.closed) throw new PlatformError('SHUTTING_DOWN', 'The broker is closed');
  }

  private queue(name: string): QueueOptions {
    const options = this.options.get(name);
    if (!options) throw new PlatformError('QUEUE_NOT_FOUND', `Queue ${name} does not exist`, { queue: name });
    return options;
  }

  /** Writes every pending publish in one transaction; each resolves with its messages, or rejects. */
  private commitPublishes(): void {
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0 || this.closed) return;
    const now = this.clock.now();
    const results: (Published[] | Error)[] = [];
    try {
      this.db.transaction(() => {
        for (const p of batch) {
          const options = this.options.get(p.queue);
          if (!options) {
            results.push(new PlatformError('QUEUE_NOT_FOUND', `Queue ${p.queue} does not exist`, { queue: p.queue }));
            continue;
          }
          results.push(p.messages.map((m) => this.insert(p.queue, options, m, now)));
        }
      })();
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    batch.forEach((p, i) => {
      const r = results[i]!;
      if (r instanceof Error) p.reject(r);
      else p.resolve(r);
    });
    for (const queue of new Set(batch.map((p) => p.queue))) this.wake(queue);
  }

  private insert(queue: string, options: QueueOptions, m: PublishInput, now: number): Published {
    if (m.dedupId !== undefined) {
      const seen = this.stmt.dedupGet.get(queue, m.dedupId, now) as { message_id: string; seq: number } | undefined;
      if (seen) return { id: seen.message_id, duplicate: true, sequence: seen.seq };
    }
    const id = randomUUID();
    const attributes = m.attributes && Object.keys(m.attributes).length > 0 ? JSON.stringify(m.attributes) : null;
    const seq = Number(this.stmt.insert.run(id, queue, m.body, attributes, m.groupId ?? null, m.dedupId ?? null, now, now + Math.max(0, m.delayMs ?? 0)).lastInsertRowid);
    if (m.dedupId !== undefined) this.stmt.dedupPut.run(queue, m.dedupId, id, seq, now + (options.dedupWindowMs ?? DEFAULT_DEDUP_WINDOW_MS));
    return { id, duplicate: false, sequence: seq };
  }

  /** Delivers up to `max` messages now, in one transaction; moves those past their receives to the dead-letter queue. */
  private take(queue: string, max: number, visibilityMs: number): Delivery[] {
    const options = this.queue(queue);
    const now = this.clock.now();
    const dlq = options.deadLetterQueue !== undefined && options.maxReceives !== undefined && this.options.has(options.deadLetterQueue) ? options.deadLetterQueue : undefined;
    const moved = new Set<string>();
    const out = this.db.transaction(() => {
      const deliveries: Delivery[] = [];
      for (const row of this.candidates(queue, options, max * 2 + 10, now)) {
        if (deliveries.length >= max) break;
        if (dlq !== undefined && row.receive_count >= options.maxReceives!) {
          this.stmt.moveTo.run(dlq, now, row.seq);
          this.stmt.remove.run(row.seq);
          moved.add(dlq);
          continue;
        }
        if (this.stmt.take.run(now + Math.max(0, visibilityMs), now, row.seq, row.receive_count).changes !== 1) continue;
        deliveries.push(toDelivery(queue, row, now));
      }
      return deliveries;
    })();
    for (const q of moved) this.wake(q);
    return out;
  }

  /**
   * Messages that may be delivered now. In an ordered queue: of each group, the oldest messages up to
   * the first that is not visible; none of a group that has one in flight.
   */
  private candidates(queue: string, options: QueueOptions, limit: number, now: number): MessageRow[] {
    if (!options.ordered) return this.stmt.visible.all(queue, now, limit) as MessageRow[];
    const blocked = new Set<string | null>();
    const out: MessageRow[] = [];
    for (const row of this.stmt.ordered.all(queue, ORDERED_SCAN) as MessageRow[]) {
      if (blocked.has(row.group_id)) continue;
      if (row.visible_at > now) {
        blocked.add(row.group_id);
        continue;
      }
      out.push(row);
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Resolves when the queue may have a message to deliver: a publish or release to it, the next visibility, or the deadline. */
  private waitFor(queue: string, deadline: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const next = (this.stmt.nextVisible.get(queue, this.clock.now()) as { at: number | null }).at;
      const until = Math.min(deadline, next ?? Infinity);
      let cancel: () => void = () => {};
      const waiter: Waiter = {
        queue,
        wake: () => {
          this.waiters.delete(waiter);
          cancel();
          signal?.removeEventListener('abort', waiter.wake);
          resolve();
        },
      };
      this.waiters.add(waiter);
      cancel = this.clock.setTimer(Math.max(0, until - this.clock.now()), waiter.wake);
      signal?.addEventListener('abort', waiter.wake, { once: true });
    });
  }

  private wake(queue: string): void {
    for (const waiter of [...this.waiters]) if (waiter.queue === queue) waiter.wake();
  }

  private scheduleSweep(): void {
    this.cancelSweep = this.clock.setTimer(SWEEP_EVERY_MS, () => {
      if (this.closed) return;
      const now = this.clock.now();
      for (const [name, options] of this.options) this.stmt.expire.run(name, now - (options.retentionMs ?? DEFAULT_RETENTION_MS));
      this.stmt.expireDedup.run(now);
      this.scheduleSweep();
    });
  }
}

function statements(db: SqliteDatabase) {
  return {
    insert: db.prepare<[string, string, string, string | null, string | null, string | null, number, number]>(
      'INSERT INTO messages (id, queue, body, attributes, group_id, dedup_id, sent_at, visible_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    moveTo: db.prepare<[string, number, number]>(
      'INSERT INTO messages (id, queue, body, attributes, group_id, dedup_id, sent_at, visible_at) SELECT id, ?, body, attributes, group_id, dedup_id, sent_at, ? FROM messages WHERE seq = ?',
    ),
    dedupGet: db.prepare<[string, string, number]>('SELECT message_id, seq FROM dedup WHERE queue = ? AND dedup_id = ? AND expires_at > ?'),
    dedupPut: db.prepare<[string, string, string, number, number]>('INSERT OR REPLACE INTO dedup (queue, dedup_id, message_id, seq, expires_at) VALUES (?, ?, ?, ?, ?)'),
    visible: db.prepare<[string, number, number]>('SELECT * FROM messages WHERE queue = ? AND visible_at <= ? ORDER BY visible_at, seq LIMIT ?'),
    ordered: db.prepare<[string, number]>('SELECT * FROM messages WHERE queue = ? ORDER BY seq LIMIT ?'),
    take: db.prepare<[number, number, number, number]>(
      'UPDATE messages SET in_flight = 1, visible_at = ?, receive_count = receive_count + 1, first_received_at = COALESCE(first_received_at, ?) WHERE seq = ? AND receive_count = ?',
    ),
    ack: db.prepare<[string, number, number]>('DELETE FROM messages WHERE queue = ? AND seq = ? AND receive_count = ? AND in_flight = 1'),
    release: db.prepare<[number, string, number, number]>('UPDATE messages SET visible_at = ? WHERE queue = ? AND seq = ? AND receive_count = ? AND in_flight = 1'),
    remove: db.prepare<[number]>('DELETE FROM messages WHERE seq = ?'),
    nextVisible: db.prepare<[string, number]>('SELECT MIN(visible_at) AS at FROM messages WHERE queue = ? AND visible_at > ?'),
    counts: db.prepare<[number, number, number, string]>(
      'SELECT SUM(visible_at <= ?) AS visible, SUM(in_flight = 1 AND visible_at > ?) AS inFlight, SUM(in_flight = 0 AND visible_at > ?) AS delayed FROM messages WHERE queue = ?',
    ),
    purge: db.prepare<[string]>('DELETE FROM messages WHERE queue = ?'),
    purgeDedup: db.prepare<[string]>('DELETE FROM dedup WHERE queue = ?'),
    expire: db.prepare<[string, number]>('DELETE FROM messages WHERE queue = ? AND sent_at < ?'),
    expireDedup: db.prepare<[number]>('DELETE FROM dedup WHERE expires_at <= ?'),
    putQueue: db.prepare<[string, string]>('INSERT OR REPLACE INTO queues (name, options) VALUES (?, ?)'),
    deleteQueue: db.prepare<[string]>('DELETE FROM queues WHERE name = ?'),
  };
}

function toDelivery(queue: string, row: MessageRow, now: number): Delivery {
  const receiveCount = row.receive_count + 1;
  return {
    id: row.id,
    queue,
    body: row.body,
    attributes: row.attributes ? (JSON.parse(row.attributes) as Record<string, string>) : {},
    groupId: row.group_id ?? undefined,
    dedupId: row.dedup_id ?? undefined,
    sequence: row.seq,
    receiveCount,
    sentAt: row.sent_at,
    firstReceivedAt: row.first_received_at ?? now,
    receipt: `${row.seq}.${receiveCount}`,
  };
}

function parseReceipt(receipt: string): { seq: number; count: number } | undefined {
  const m = /^(\d{1,15})\.(\d{1,9})$/.exec(receipt);
  return m ? { seq: Number(m[1]), count: Number(m[2]) } : undefined;
}
