/**
 * Event source mappings, queue → function, as Lambda runs them for SQS: pollers long-poll the queue,
 * gather a batch (up to `batchSize`, for up to `maximumBatchingWindow` seconds), invoke the function
 * with Lambda's SQS event and delete what it processed. A function error leaves the batch to come
 * back after the queue's visibility timeout, and the queue's redrive policy ends what never succeeds
 * in its dead-letter queue. With `ReportBatchItemFailures` only the messages the function names come
 * back. A FIFO queue keeps each message group's order: its batches hold one group's messages in order,
 * one batch of a group at a time.
 */
import { PlatformError, isPlatformError } from '../../core/errors.js';
import type { Clock } from '../../ports/clock.js';
import type { Executor } from '../../ports/executor.js';
import type { QueuesService, ReceivedMessage } from '../queues/index.js';

export interface EventSourceMapping {
  readonly uuid: string;
  readonly functionName: string;
  readonly queue: string;
  readonly batchSize: number;
  readonly maximumBatchingWindow: number;
  readonly reportBatchItemFailures: boolean;
  readonly maximumConcurrency?: number | undefined;
  readonly enabled: boolean;
  /** Ms since the epoch. */
  readonly lastModified: number;
  readonly origin: 'manifest' | 'api';
}

export interface EventSourcesDeps {
  readonly executor: Executor;
  readonly clock: Clock;
  readonly region: string;
  /** The queues service, once the platform runs (it is created after the functions service). */
  readonly queues: () => QueuesService;
  readonly onWarning: (message: string) => void;
}

/** Batches in flight at once per mapping without `maximumConcurrency` (Lambda starts SQS pollers at five). */
export const DEFAULT_POLLERS = 5;
/** A poller's long poll, as Lambda's: SQS's longest. */
const WAIT_SECONDS = 20;
/** After a fault of the platform (not of the function), a poller waits this long before polling again, doubling up to the most. */
const FAULT_PAUSE_MS = 1_000;
const FAULT_PAUSE_MAX_MS = 60_000;

export class EventSources {
  private readonly deps: EventSourcesDeps;
  private readonly running = new Map<string, Poller>();

  constructor(deps: EventSourcesDeps) {
    this.deps = deps;
  }

  /** Runs exactly these mappings (the enabled ones); a changed mapping restarts. */
  async apply(mappings: readonly EventSourceMapping[]): Promise<void> {
    const wanted = new Map(mappings.filter((m) => m.enabled).map((m) => [m.uuid, m]));
    const stopping: Promise<void>[] = [];
    for (const [uuid, poller] of this.running) {
      const next = wanted.get(uuid);
      if (next && sameSettings(next, poller.mapping)) continue;
      stopping.push(poller.stop());
      this.running.delete(uuid);
    }
    await Promise.all(stopping);
    for (const [uuid, mapping] of wanted) if (!this.running.has(uuid)) this.running.set(uuid, new Poller(mapping, this.deps));
  }

  async close(): Promise<void> {
    await Promise.all([...this.running.values()].map((p) => p.stop()));
    this.running.clear();
  }
}

class Poller {
  readonly mapping: EventSourceMapping;
  private readonly deps: EventSourcesDeps;
  private readonly abort = new AbortController();
  private readonly loops: Promise<void>[];

  constructor(mapping: EventSourceMapping, deps: EventSourcesDeps) {
    this.mapping = mapping;
    this.deps = deps;
    const n = mapping.maximumConcurrency ?? DEFAULT_POLLERS;
    this.loops = Array.from({ length: n }, () => this.loop());
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.all(this.loops);
  }

  private async loop(): Promise<void> {
    const { signal } = this.abort;
    let pause = 0;
    let lastWarning = '';
    while (!signal.aborted) {
      try {
        const batch = await this.gather();
        if (batch.length > 0) await this.process(batch);
        pause = 0;
        lastWarning = '';
      } catch (err) {
        if (signal.aborted || isPlatformError(err, 'SHUTTING_DOWN')) return;
        // Said once while it lasts (a queue deleted under an API-made mapping would say it forever).
        const warning = `the queue ${this.mapping.queue} → ${this.mapping.functionName}: ${err instanceof Error ? err.message : String(err)}`;
        if (warning !== lastWarning) this.deps.onWarning(warning);
        lastWarning = warning;
        pause = Math.min(FAULT_PAUSE_MAX_MS, pause === 0 ? FAULT_PAUSE_MS : pause * 2);
        await new Promise<void>((resolve) => {
          const cancel = this.deps.clock.setTimer(pause, resolve);
          signal.addEventListener('abort', () => (cancel(), resolve()), { once: true });
        });
      }
    }
  }

  /** A batch: what one long poll brings, or, with a batching window, what comes until it is full or the window ends. */
  private async gather(): Promise<ReceivedMessage[]> {
    const { queue, batchSize, maximumBatchingWindow } = this.mapping;
    const queues = this.deps.queues();
    const batch: ReceivedMessage[] = [];
    let deadline = Infinity;
    while (batch.length < batchSize && !this.abort.signal.aborted) {
      const now = this.deps.clock.now();
      if (now >= deadline) break;
      const left = deadline === Infinity ? WAIT_SECONDS : Math.min(WAIT_SECONDS, Math.ceil((deadline - now) / 1000));
      const got = await queues.receive(queue, { max: Math.min(10, batchSize - batch.length), waitSeconds: left, signal: this.abort.signal });
      if (got.length === 0 && batch.length === 0) continue;
      batch.push(...got);
      if (maximumBatchingWindow === 0) break;
      if (deadline === Infinity) deadline = now + maximumBatchingWindow * 1000;
      // A FIFO batch is one receive's worth: another could interleave a group's messages.
      if (queue.endsWith('.fifo')) break;
    }
    return batch;
  }

  private async process(batch: readonly ReceivedMessage[]): Promise<void> {
    const { queue, functionName } = this.mapping;
    const queues = this.deps.queues();
    const arn = queues.arn(queue);
    const event = { Records: batch.map((m) => record(m, arn, this.deps.region)) };
    let result;
    try {
      result = await this.deps.executor.invoke(functionName, { requestId: globalThis.crypto.randomUUID(), payload: JSON.stringify(event) });
    } catch (err) {
      // Throttled, or the function is gone: the messages come back after their visibility timeout.
      if (isPlatformError(err, 'TOO_MANY_REQUESTS')) return;
      throw err;
    }
    if (result.error) return; // the whole batch comes back, as on Lambda
    const failed = this.mapping.reportBatchItemFailures ? failedItems(result.payload, batch) : new Set<string>();
    if (failed === 'all') return;
    const done = batch.filter((m) => !failed.has(m.messageId)).map((m) => m.receiptHandle);
    if (done.length > 0) await queues.deleteMessages(queue, done);
  }
}

/**
 * The messages a `ReportBatchItemFailures` response names, or `all` when the response cannot be read
 * as one (Lambda then counts the whole batch as failed). No response, or an empty list: none failed.
 */
export function failedItems(payload: string, batch: readonly ReceivedMessage[]): Set<string> | 'all' {
  let response: unknown;
  try {
    response = JSON.parse(payload);
  } catch {
    return 'all';
  }
  if (response === null || response === undefined || (typeof response === 'object' && !Array.isArray(response) && (response as { batchItemFailures?: unknown }).batchItemFailures == null)) {
    return new Set();
  }
  const list = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (!Array.isArray(list)) return 'all';
  const ids = new Set(batch.map((m) => m.messageId));
  const out = new Set<string>();
  for (const item of list) {
    const id = (item as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || id === '' || !ids.has(id)) return 'all';
    out.add(id);
  }
  return out;
}

/** Lambda's SQS event record. */
function record(m: ReceivedMessage, arn: string, region: string) {
  const { SenderId, SentTimestamp, ApproximateReceiveCount, ApproximateFirstReceiveTimestamp, ...more } = m.systemAttributes;
  return {
    messageId: m.messageId,
    receiptHandle: m.receiptHandle,
    body: m.body,
    attributes: { ApproximateReceiveCount, SentTimestamp, SenderId, ApproximateFirstReceiveTimestamp, ...more },
    messageAttributes: Object.fromEntries(
      Object.entries(m.attributes).map(([name, v]) => [
        name,
        {
          ...(v.StringValue !== undefined ? { stringValue: v.StringValue } : {}),
          ...(v.BinaryValue !== undefined ? { binaryValue: v.BinaryValue } : {}),
          stringListValues: [],
          binaryListValues: [],
          dataType: v.DataType,
        },
      ]),
    ),
    md5OfBody: m.md5OfBody,
    ...(m.md5OfAttributes ? { md5OfMessageAttributes: m.md5OfAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: arn,
    awsRegion: region,
  };
}

function sameSettings(a: EventSourceMapping, b: EventSourceMapping): boolean {
  return (
    a.functionName === b.functionName &&
    a.queue === b.queue &&
    a.batchSize === b.batchSize &&
    a.maximumBatchingWindow === b.maximumBatchingWindow &&
    a.reportBatchItemFailures === b.reportBatchItemFailures &&
    a.maximumConcurrency === b.maximumConcurrency
  );
}

/** Lambda's check: a batch must be able to finish before its messages come back. */
export function checkVisibility(queueVisibilitySeconds: number, functionTimeoutSeconds: number): void {
  if (queueVisibilitySeconds < functionTimeoutSeconds) {
    throw new PlatformError(
      'INVALID_PARAMETER',
      `Queue visibility timeout: ${queueVisibilitySeconds} seconds is less than Function timeout: ${functionTimeoutSeconds} seconds`,
    );
  }
}
