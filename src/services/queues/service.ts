/**
 * Queues with SQS's semantics on the Broker: each queue is a Broker queue (`sqs/<name>`) holding its
 * messages, durably; its attributes and tags are rows in SQL. Standard queues deliver at least once
 * in roughly the order sent; FIFO queues (`.fifo`) in order within each message group, one batch of a
 * group in flight at a time, with five-minute de-duplication. Receipt handles are signed, so only the
 * ones this platform issued act on a message.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import { PlatformError } from '../../core/errors.js';
import { attributeBytes, attributesDigestInput, checkAttributeName, checkAttributeValue, isFifoName, SQS_LIMITS, validMessageText, validQueueName, type MessageAttributeValue } from '../../core/sqs.js';
import type { Broker, Delivery } from '../../ports/broker.js';
import type { Clock } from '../../ports/clock.js';
import type { Db, DbSchema } from '../../ports/db.js';
import { checkAttributes, COMPUTED, redriveOf, withDefaults, type QueueAttributes } from './attributes.js';
import type { QueuesTables } from './migrations.js';

export interface QueuesServiceDeps {
  readonly db: Db;
  readonly broker: Broker;
  readonly clock: Clock;
  readonly region: string;
  readonly accountId: string;
  readonly endpointUrl: () => string;
}

export interface SendInput {
  readonly body: string;
  readonly delaySeconds?: number | undefined;
  readonly attributes?: Readonly<Record<string, MessageAttributeValue>> | undefined;
  /** `AWSTraceHeader`, the one system attribute a sender may set. */
  readonly traceHeader?: string | undefined;
  readonly groupId?: string | undefined;
  readonly dedupId?: string | undefined;
}

export interface Sent {
  readonly messageId: string;
  readonly md5OfBody: string;
  readonly md5OfAttributes?: string | undefined;
  readonly md5OfSystemAttributes?: string | undefined;
  /** FIFO queues: the message's place in the queue. */
  readonly sequenceNumber?: string | undefined;
}

export interface ReceiveOptions {
  readonly max: number;
  readonly visibilitySeconds?: number | undefined;
  readonly waitSeconds?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** A received message, as SQS gives it (every system attribute: the protocol picks those asked for). */
export interface ReceivedMessage {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  readonly md5OfBody: string;
  readonly attributes: Readonly<Record<string, MessageAttributeValue>>;
  readonly md5OfAttributes?: string | undefined;
  readonly systemAttributes: Readonly<Record<string, string>>;
}

/** How a queue's messages are kept in the Broker's attributes. */
interface Envelope {
  /** Message attributes. */
  a?: Record<string, MessageAttributeValue>;
  /** Their MD5. */
  m?: string;
  /** AWSTraceHeader. */
  t?: string;
  /** Sender id. */
  s: string;
  /** The queue it was sent to, so that a move out of a dead-letter queue finds its way back. */
  q: string;
}

export interface QueueInfo {
  readonly name: string;
  readonly url: string;
  readonly arn: string;
  readonly fifo: boolean;
  readonly attributes: QueueAttributes;
}

const IN_FLIGHT_RECOUNT_MS = 1_000;
/** SQS refuses a second purge of a queue within this long. */
const PURGE_INTERVAL_MS = 60_000;

export const brokerQueueOf = (name: string): string => `sqs/${name}`;

export class QueuesService {
  private readonly db: Kysely<DbSchema & QueuesTables>;
  private readonly deps: QueuesServiceDeps;
  private secret: Buffer | undefined;
  private readonly purgedAt = new Map<string, number>();
  private readonly inFlightCounts = new Map<string, { n: number; at: number }>();

  constructor(deps: QueuesServiceDeps) {
    this.deps = deps;
    this.db = deps.db.kysely.withTables<QueuesTables>();
  }

  url(name: string): string {
    return `${this.deps.endpointUrl()}/${this.deps.accountId}/${name}`;
  }

  arn(name: string): string {
    return `arn:aws:sqs:${this.deps.region}:${this.deps.accountId}:${name}`;
  }

  /** The queue a `QueueUrl` (or a bare name) names; throws QUEUE_NOT_FOUND. */
  async resolve(urlOrName: string): Promise<QueueInfo> {
    const name = urlOrName.slice(urlOrName.lastIndexOf('/') + 1);
    const row = validQueueName(name) ? await this.db.selectFrom('queues').selectAll().where('name', '=', name).executeTakeFirst() : undefined;
    if (!row) throw new PlatformError('QUEUE_NOT_FOUND', 'The specified queue does not exist.', { queue: name.slice(0, 80) });
    return { name, url: this.url(name), arn: this.arn(name), fifo: isFifoName(name), attributes: JSON.parse(row.attributes) as QueueAttributes };
  }

  /** Creates the queue; for one that exists with the same attributes, nothing (SQS's CreateQueue is idempotent). */
  async create(name: string, attributes: QueueAttributes, tags: Readonly<Record<string, string>> = {}, origin: 'api' | 'manifest' = 'api'): Promise<string> {
    if (!validQueueName(name)) {
      throw new PlatformError('VALIDATION', 'Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length', { queue: name.slice(0, 80) });
    }
    if (isFifoName(name) && attributes['FifoQueue'] !== 'true' && origin === 'api') {
      throw new PlatformError('VALIDATION', 'The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.');
    }
    const checked = checkAttributes(name, attributes);
    const existing = await this.db.selectFrom('queues').selectAll().where('name', '=', name).executeTakeFirst();
    if (existing) {
      const had = withDefaults(name, JSON.parse(existing.attributes) as QueueAttributes);
      const differs = Object.entries(checked).find(([k, v]) => had[k] !== v);
      if (differs) throw new PlatformError('QUEUE_EXISTS', `A queue already exists with the same name and a different value for attribute ${differs[0]}`, { queue: name });
      return this.url(name);
    }
    await this.applyToBroker(name, checked);
    const now = Math.floor(this.deps.clock.now() / 1000);
    await this.db
      .insertInto('queues')
      .values({ name, attributes: JSON.stringify(checked), tags: JSON.stringify(tags), created_at: now, modified_at: now, origin })
      .execute();
    return this.url(name);
  }

  async delete(name: string): Promise<void> {
    const q = await this.resolve(name);
    await this.db.deleteFrom('queues').where('name', '=', q.name).execute();
    await this.deps.broker.deleteQueue(brokerQueueOf(q.name));
  }

  async list(prefix = ''): Promise<string[]> {
    const rows = await this.db.selectFrom('queues').select('name').orderBy('name').execute();
    return rows.map((r) => r.name).filter((n) => n.startsWith(prefix));
  }

  /** The manifest's queues: created, or their attributes set; those it created and no longer declares, deleted. */
  async deploy(declared: readonly { name: string; attributes: QueueAttributes }[]): Promise<{ added: string[]; changed: string[]; removed: string[] }> {
    const rows = await this.db.selectFrom('queues').select(['name', 'attributes', 'origin']).execute();
    const before = new Map(rows.map((r) => [r.name, r]));
    const added: string[] = [];
    const changed: string[] = [];
    // Dead-letter queues first: a queue's redrive policy names one that must exist.
    const ordered = [...declared].sort((a, b) => Number(redriveOf(a.attributes) !== undefined) - Number(redriveOf(b.attributes) !== undefined));
    for (const q of ordered) {
      const had = before.get(q.name);
      if (!had) {
        await this.create(q.name, q.attributes, {}, 'manifest');
        added.push(q.name);
      } else if (had.attributes !== JSON.stringify(checkAttributes(q.name, q.attributes))) {
        await this.setAttributes(q.name, { ...Object.fromEntries(Object.keys(JSON.parse(had.attributes) as object).map((k) => [k, ''])), ...q.attributes }, true);
        changed.push(q.name);
      }
    }
    const names = new Set(declared.map((q) => q.name));
    const removed = rows.filter((r) => r.origin === 'manifest' && !names.has(r.name)).map((r) => r.name);
    for (const name of removed) await this.delete(name);
    return { added, changed, removed };
  }

  async getAttributes(name: string, wanted: readonly string[]): Promise<Record<string, string>> {
    const q = await this.resolve(name);
    const row = await this.db.selectFrom('queues').select(['created_at', 'modified_at']).where('name', '=', q.name).executeTakeFirstOrThrow();
    const all = wanted.includes('All');
    const known = new Set<string>([...COMPUTED, ...Object.keys(withDefaults(q.name, {})), 'RedrivePolicy', 'RedriveAllowPolicy', 'Policy', 'KmsMasterKeyId', 'KmsDataKeyReusePeriodSeconds']);
    for (const w of wanted) if (w !== 'All' && !known.has(w)) throw new PlatformError('INVALID_ATTRIBUTE', `Unknown Attribute ${w}.`, { attribute: w, unknown: true });
    const out: Record<string, string> = {};
    const values = withDefaults(q.name, q.attributes);
    let counts: { visible: number; inFlight: number; delayed: number } | undefined;
    const count = async () => (counts ??= await this.deps.broker.counts(brokerQueueOf(q.name)));
    for (const name of all ? [...COMPUTED, ...Object.keys(values)] : wanted) {
      switch (name) {
        case 'ApproximateNumberOfMessages': out[name] = String((await count()).visible); break;
        case 'ApproximateNumberOfMessagesNotVisible': out[name] = String((await count()).inFlight); break;
        case 'ApproximateNumberOfMessagesDelayed': out[name] = String((await count()).delayed); break;
        case 'CreatedTimestamp': out[name] = String(row.created_at); break;
        case 'LastModifiedTimestamp': out[name] = String(row.modified_at); break;
        case 'QueueArn': out[name] = q.arn; break;
        default: if (values[name] !== undefined) out[name] = values[name];
      }
    }
    return out;
  }

  /** Sets attributes; an empty value removes one (as SQS takes `RedrivePolicy: ""`). */
  async setAttributes(name: string, attributes: QueueAttributes, fromManifest = false): Promise<void> {
    const q = await this.resolve(name);
    if (!fromManifest && q.fifo !== (attributes['FifoQueue'] ?? String(q.fifo)).includes('true')) {
      throw new PlatformError('INVALID_ATTRIBUTE', 'Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not supported.', { attribute: 'FifoQueue' });
    }
    const checked = checkAttributes(q.name, attributes);
    const next: Record<string, string> = { ...q.attributes };
    for (const [k, v] of Object.entries(checked)) {
      if (v === '') delete next[k];
      else next[k] = v;
    }
    await this.applyToBroker(q.name, next);
    await this.db.updateTable('queues').set({ attributes: JSON.stringify(next), modified_at: Math.floor(this.deps.clock.now() / 1000) }).where('name', '=', q.name).execute();
  }

  async tags(name: string): Promise<Record<string, string>> {
    const q = await this.resolve(name);
    const row = await this.db.selectFrom('queues').select('tags').where('name', '=', q.name).executeTakeFirstOrThrow();
    return JSON.parse(row.tags) as Record<string, string>;
  }

  async setTags(name: string, add: Readonly<Record<string, string>>, remove: readonly string[] = []): Promise<void> {
    const tags = await this.tags(name);
    Object.assign(tags, add);
    for (const k of remove) delete tags[k];
    await this.db.updateTable('queues').set({ tags: JSON.stringify(tags) }).where('name', '=', (await this.resolve(name)).name).execute();
  }

  /**
   * Stores messages, durably, before resolving: each entry's result or error, in order (a batch
   * partly fails as SQS's does).
   */
  async send(name: string, entries: readonly SendInput[], sender: string): Promise<(Sent | PlatformError)[]> {
    const q = await this.resolve(name);
    const values = withDefaults(q.name, q.attributes);
    const maxBytes = Number(values['MaximumMessageSize']);
    const checked = entries.map((e) => {
      try {
        return this.checkMessage(q, values, e, maxBytes);
      } catch (err) {
        return err as PlatformError;
      }
    });
    const toPublish = checked.filter((c): c is Exclude<typeof c, PlatformError> => !(c instanceof PlatformError));
    const published = toPublish.length > 0 ? await this.deps.broker.publish(brokerQueueOf(q.name), toPublish.map((c) => ({ ...c.publish, attributes: { sqs: JSON.stringify({ ...c.envelope, s: sender }) } }))) : [];
    let i = 0;
    return checked.map((c) => {
      if (c instanceof PlatformError) return c;
      const p = published[i++]!;
      return { messageId: p.id, md5OfBody: c.md5OfBody, md5OfAttributes: c.envelope.m, md5OfSystemAttributes: c.md5OfSystem, ...(q.fifo ? { sequenceNumber: sequenceNumber(p.sequence) } : {}) };
    });
  }

  private checkMessage(q: QueueInfo, values: Record<string, string>, e: SendInput, maxBytes: number) {
    if (!validMessageText(e.body) || e.body.length === 0) {
      throw new PlatformError('INVALID_MESSAGE', e.body.length === 0 ? 'The request must contain the parameter MessageBody.' : 'Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF', {});
    }
    const attributes = e.attributes ?? {};
    const names = Object.keys(attributes);
    if (names.length > SQS_LIMITS.MESSAGE_ATTRIBUTES) throw new PlatformError('VALIDATION', `Number of message attributes [${names.length}] exceeds the allowed maximum [${SQS_LIMITS.MESSAGE_ATTRIBUTES}].`);
    let bytes = Buffer.byteLength(e.body);
    for (const n of names) {
      const problem = checkAttributeName(n) ?? checkAttributeValue(n, attributes[n]!);
      if (problem) throw new PlatformError('VALIDATION', problem);
      bytes += attributeBytes(n, attributes[n]!);
    }
    if (bytes > maxBytes) throw new PlatformError('VALIDATION', `One or more parameters are invalid. Reason: Message must be shorter than ${maxBytes} bytes.`);
    if (q.fifo) {
      if (e.delaySeconds !== undefined && e.delaySeconds !== 0) throw new PlatformError('VALIDATION', `Value ${e.delaySeconds} for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.`);
      if (!e.groupId) throw new PlatformError('VALIDATION', 'The request must contain the parameter MessageGroupId.');
      if (e.groupId.length > SQS_LIMITS.GROUP_ID_CHARS || !/^[\x21-\x7E]+$/.test(e.groupId)) throw new PlatformError('VALIDATION', `Value ${e.groupId} for parameter MessageGroupId is invalid.`);
      if (e.dedupId !== undefined && (e.dedupId.length > SQS_LIMITS.DEDUP_ID_CHARS || !/^[\x21-\x7E]+$/.test(e.dedupId))) throw new PlatformError('VALIDATION', `Value ${e.dedupId} for parameter MessageDeduplicationId is invalid.`);
      if (e.dedupId === undefined && values['ContentBasedDeduplication'] !== 'true') {
        throw new PlatformError('VALIDATION', 'The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly');
      }
    } else if (e.dedupId !== undefined) {
      // A standard queue takes a MessageGroupId (fair queues), not a de-duplication id.
      throw new PlatformError('VALIDATION', 'The request include parameter that is not valid for this queue type');
    }
    if (e.delaySeconds !== undefined && (e.delaySeconds < SQS_LIMITS.DELAY.min || e.delaySeconds > SQS_LIMITS.DELAY.max || !Number.isInteger(e.delaySeconds))) {
      throw new PlatformError('VALIDATION', `Value ${e.delaySeconds} for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900.`);
    }
    const dedup = q.fifo ? (e.dedupId ?? createHash('sha256').update(e.body).digest('hex')) : undefined;
    const scopedDedup = dedup !== undefined && values['DeduplicationScope'] === 'messageGroup' ? `${e.groupId}\u0000${dedup}` : dedup;
    const delay = (e.delaySeconds ?? Number(values['DelaySeconds'])) * 1000;
    const envelope: Omit<Envelope, 's'> = {
      q: q.name,
      ...(names.length > 0 ? { a: { ...attributes }, m: md5(attributesDigestInput(attributes)) } : {}),
      ...(e.traceHeader !== undefined ? { t: e.traceHeader } : {}),
    };
    const md5OfSystem = e.traceHeader !== undefined ? md5(attributesDigestInput({ AWSTraceHeader: { DataType: 'String', StringValue: e.traceHeader } })) : undefined;
    return {
      envelope,
      md5OfBody: md5(Buffer.from(e.body, 'utf8')),
      md5OfSystem,
      publish: { body: e.body, delayMs: delay, dedupId: scopedDedup, groupId: q.fifo ? e.groupId : undefined },
    };
  }

  /** Up to `max` messages, hidden for the visibility timeout; waits up to the wait time for one. */
  async receive(name: string, options: ReceiveOptions): Promise<ReceivedMessage[]> {
    const q = await this.resolve(name);
    const values = withDefaults(q.name, q.attributes);
    const visibility = options.visibilitySeconds ?? Number(values['VisibilityTimeout']);
    const wait = options.waitSeconds ?? Number(values['ReceiveMessageWaitTimeSeconds']);
    if ((await this.inFlight(q.name)) >= (q.fifo ? SQS_LIMITS.IN_FLIGHT.fifo : SQS_LIMITS.IN_FLIGHT.standard)) {
      throw new PlatformError('LIMIT_EXCEEDED', 'You have reached the maximum number of in-flight messages for this queue.');
    }
    const deliveries = await this.deps.broker.pull(brokerQueueOf(q.name), { max: options.max, visibilityMs: visibility * 1000, waitMs: wait * 1000, signal: options.signal });
    const secret = await this.key();
    return deliveries.map((d) => toReceived(d, q, secret));
  }

  /** Deletes the messages the handles name; a handle of a message since received again or deleted is no error, as in SQS. */
  async deleteMessages(name: string, handles: readonly string[]): Promise<(true | PlatformError)[]> {
    const q = await this.resolve(name);
    const secret = await this.key();
    const receipts = handles.map((h) => openHandle(h, q.name, secret));
    const valid = receipts.filter((r): r is string => typeof r === 'string');
    if (valid.length > 0) await this.deps.broker.ack(brokerQueueOf(q.name), valid);
    return receipts.map((r) => (typeof r === 'string' ? true : r));
  }

  /** Sets a received message's remaining visibility; for one no longer in flight, SQS's error. */
  async changeVisibility(name: string, entries: readonly { handle: string; seconds: number }[]): Promise<(true | PlatformError)[]> {
    const q = await this.resolve(name);
    const secret = await this.key();
    const out: (true | PlatformError)[] = [];
    for (const e of entries) {
      const receipt = openHandle(e.handle, q.name, secret);
      if (typeof receipt !== 'string') {
        out.push(receipt);
        continue;
      }
      if (!Number.isInteger(e.seconds) || e.seconds < SQS_LIMITS.VISIBILITY.min || e.seconds > SQS_LIMITS.VISIBILITY.max) {
        out.push(new PlatformError('VALIDATION', `Value ${e.seconds} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200.`));
        continue;
      }
      const ok = await this.deps.broker.release(brokerQueueOf(q.name), receipt, e.seconds * 1000);
      out.push(ok ? true : new PlatformError('VALIDATION', `Value ${e.handle} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.`));
    }
    return out;
  }

  async purge(name: string): Promise<void> {
    const q = await this.resolve(name);
    const now = this.deps.clock.now();
    const last = this.purgedAt.get(q.name);
    if (last !== undefined && now - last < PURGE_INTERVAL_MS) {
      throw new PlatformError('PURGE_IN_PROGRESS', `Only one PurgeQueue operation on ${q.name} is allowed every 60 seconds.`, { queue: q.name });
    }
    this.purgedAt.set(q.name, now);
    await this.deps.broker.purge(brokerQueueOf(q.name));
  }

  /**
   * Messages in flight, counted at most once a second per queue: counting is a scan, and SQS's
   * limit is approximate too (its counts are "approximate").
   */
  private async inFlight(name: string): Promise<number> {
    const now = this.deps.clock.now();
    const cached = this.inFlightCounts.get(name);
    if (cached && now - cached.at < IN_FLIGHT_RECOUNT_MS) return cached.n;
    const n = (await this.deps.broker.counts(brokerQueueOf(name))).inFlight;
    this.inFlightCounts.set(name, { n, at: now });
    return n;
  }

  /** Up to `max` messages of the queue as they sit there, without receiving them (`nuvola queues peek`). */
  async peek(name: string, max: number): Promise<{ messageId: string; body: string; attributes: Record<string, MessageAttributeValue>; groupId?: string | undefined; sentAt: number; receiveCount: number }[]> {
    const q = await this.resolve(name);
    const messages = await this.deps.broker.peek(brokerQueueOf(q.name), max);
    return messages.map((m) => {
      let envelope: Partial<Envelope> = {};
      try {
        envelope = JSON.parse(m.attributes['sqs'] ?? '{}') as Envelope;
      } catch {
        // shown without attributes
      }
      return { messageId: m.id, body: m.body, attributes: envelope.a ?? {}, groupId: m.groupId, sentAt: m.sentAt, receiveCount: m.receiveCount };
    });
  }

  /** The queues whose redrive policy names `name` as their dead-letter queue. */
  async sourcesOf(name: string): Promise<string[]> {
    const rows = await this.db.selectFrom('queues').select(['name', 'attributes']).execute();
    return rows.filter((r) => redriveOf(JSON.parse(r.attributes) as QueueAttributes)?.queue === name).map((r) => r.name);
  }

  /**
   * Moves up to `limit` messages of `from` (a dead-letter queue) to `to`, or each back to the queue it
   * was sent to; resolves with how many moved. Each is published before it is deleted: a crash in
   * between may move one twice, never lose it.
   */
  async move(from: string, to: string | undefined, limit = Infinity): Promise<number> {
    const source = await this.resolve(from);
    const target = to === undefined ? undefined : await this.resolve(to);
    let moved = 0;
    while (moved < limit) {
      const batch = await this.deps.broker.pull(brokerQueueOf(source.name), { max: Math.min(10, limit - moved), visibilityMs: 60_000 });
      if (batch.length === 0) break;
      for (const d of batch) {
        const envelope = parseEnvelope(d);
        const back = target?.name ?? envelope.q;
        const dest = await this.resolve(back).catch(() => undefined);
        if (!dest) continue; // its queue is gone: it stays here, visible again after the timeout
        await this.deps.broker.publish(brokerQueueOf(dest.name), [{ body: d.body, attributes: d.attributes, groupId: dest.fifo ? (d.groupId ?? 'moved') : undefined, dedupId: dest.fifo ? d.id : undefined }]);
        await this.deps.broker.ack(brokerQueueOf(source.name), [d.receipt]);
        moved++;
      }
    }
    return moved;
  }

  /** The Broker queue behind: its options follow the attributes (retention, dead-letter queue, order, de-duplication). */
  private async applyToBroker(name: string, attributes: QueueAttributes): Promise<void> {
    const values = withDefaults(name, attributes);
    const redrive = redriveOf(attributes);
    if (redrive) {
      const dlq = await this.db.selectFrom('queues').select('name').where('name', '=', redrive.queue).executeTakeFirst();
      if (!dlq) throw new PlatformError('INVALID_ATTRIBUTE', 'Value for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist.', { attribute: 'RedrivePolicy' });
      if (isFifoName(redrive.queue) !== isFifoName(name)) {
        throw new PlatformError('INVALID_ATTRIBUTE', 'Value for parameter RedrivePolicy is invalid. Reason: Dead-letter queue must be same type of queue as the source.', { attribute: 'RedrivePolicy' });
      }
    }
    await this.deps.broker.ensureQueue(brokerQueueOf(name), {
      ordered: isFifoName(name),
      dedupWindowMs: SQS_LIMITS.DEDUP_WINDOW_MS,
      retentionMs: Number(values['MessageRetentionPeriod']) * 1000,
      maxReceives: redrive?.maxReceiveCount,
      deadLetterQueue: redrive ? brokerQueueOf(redrive.queue) : undefined,
    });
  }

  /** The key receipt handles are signed with: made on first use and kept, so handles outlive a restart. */
  private async key(): Promise<Buffer> {
    if (this.secret) return this.secret;
    const row = await this.db.selectFrom('queue_secrets').select('secret').where('id', '=', 'receipts').executeTakeFirst();
    if (row) return (this.secret = Buffer.from(row.secret, 'base64'));
    const secret = randomBytes(32);
    await this.db.insertInto('queue_secrets').values({ id: 'receipts', secret: secret.toString('base64') }).onConflict((oc) => oc.column('id').doNothing()).execute();
    const kept = await this.db.selectFrom('queue_secrets').select('secret').where('id', '=', 'receipts').executeTakeFirstOrThrow();
    return (this.secret = Buffer.from(kept.secret, 'base64'));
  }
}

const md5 = (bytes: Buffer): string => createHash('md5').update(bytes).digest('hex');

/** SQS's sequence numbers are 20-digit decimal strings, increasing within a message group. */
const sequenceNumber = (n: number): string => String(n).padStart(20, '0');

function parseEnvelope(d: Delivery): Envelope {
  try {
    return JSON.parse(d.attributes['sqs'] ?? '{}') as Envelope;
  } catch {
    return { s: '', q: '' };
  }
}

function toReceived(d: Delivery, q: QueueInfo, secret: Buffer): ReceivedMessage {
  const envelope = parseEnvelope(d);
  const system: Record<string, string> = {
    SenderId: envelope.s,
    SentTimestamp: String(d.sentAt),
    ApproximateReceiveCount: String(d.receiveCount),
    ApproximateFirstReceiveTimestamp: String(d.firstReceivedAt),
    ...(envelope.t !== undefined ? { AWSTraceHeader: envelope.t } : {}),
    ...(q.fifo ? { SequenceNumber: sequenceNumber(d.sequence), MessageGroupId: d.groupId ?? '' } : {}),
  };
  if (q.fifo && d.dedupId !== undefined) system['MessageDeduplicationId'] = d.dedupId.slice(d.dedupId.indexOf('\u0000') + 1);
  return {
    messageId: d.id,
    receiptHandle: sealHandle(d.receipt, q.name, secret),
    body: d.body,
    md5OfBody: md5(Buffer.from(d.body, 'utf8')),
    attributes: envelope.a ?? {},
    md5OfAttributes: envelope.m,
    systemAttributes: system,
  };
}

/** A receipt handle: the Broker's receipt and the queue, signed. Opaque to clients, as SQS's are. */
function sealHandle(receipt: string, queue: string, secret: Buffer): string {
  const payload = Buffer.from(`${queue}\n${receipt}`).toString('base64url');
  return `${payload}.${createHmac('sha256', secret).update(payload).digest('base64url')}`;
}

/** The Broker receipt a handle carries, or SQS's error for one that is malformed, forged or of another queue. */
function openHandle(handle: string, queue: string, secret: Buffer): string | PlatformError {
  const bad = new PlatformError('RECEIPT_INVALID', `The input receipt handle "${handle.slice(0, 100)}" is not a valid receipt handle.`);
  if (typeof handle !== 'string' || handle.length > 1024) return bad;
  const dot = handle.indexOf('.');
  if (dot < 0) return bad;
  const payload = handle.slice(0, dot);
  const mac = Buffer.from(handle.slice(dot + 1), 'base64url');
  const expected = createHmac('sha256', secret).update(payload).digest();
  if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) return bad;
  const [q, receipt] = Buffer.from(payload, 'base64url').toString().split('\n');
  if (q !== queue || receipt === undefined) return bad;
  return receipt;
}
