/**
 * Asynchronous invocations (`Event`), durable as Lambda's: the event is stored in the function's own
 * Broker queue before the caller gets its 202, and a dispatcher per function runs what is queued,
 * within the function's concurrency. A function error is retried `maximumRetryAttempts` times (0–2,
 * default 2), the first retry after a minute and the second after two, as Lambda does; throttles and
 * platform faults are retried with backoff, without counting as attempts, for as long as the event is
 * younger than `maximumEventAgeSeconds` (default 6 h). The outcome goes to the function's `onSuccess`
 * or `onFailure` destination as Lambda's destination record; a failure with no destination is a
 * warning, never silent. A platform killed mid-invocation runs it again after its restart (the
 * queue's visibility timeout): at least once.
 */
import { isPlatformError } from '../../core/errors.js';
import { functionArn } from '../../core/lambda.js';
import type { Broker, Delivery } from '../../ports/broker.js';
import type { Clock } from '../../ports/clock.js';
import type { Executor, InvokeResult } from '../../ports/executor.js';

export interface AsyncConfig {
  /** Retries after a function error: 0–2. */
  readonly maximumRetryAttempts: number;
  /** An event older than this is not run any more: 60–21600 s. */
  readonly maximumEventAgeSeconds: number;
  /** Function names, or queue ARNs (`arn:aws:sqs:…:<queue>`), that get Lambda's destination record. */
  readonly onSuccess?: string | undefined;
  readonly onFailure?: string | undefined;
  /** A queue that gets the event itself once it finally failed (Lambda's DeadLetterConfig). */
  readonly deadLetterQueue?: string | undefined;
}

export const ASYNC_DEFAULTS: AsyncConfig = { maximumRetryAttempts: 2, maximumEventAgeSeconds: 6 * 60 * 60 };

/** A function as the dispatcher needs it. */
export interface AsyncTarget {
  readonly name: string;
  readonly timeoutSeconds: number;
  readonly reservedConcurrency?: number | undefined;
  readonly async: AsyncConfig;
}

export interface AsyncInvokerDeps {
  readonly broker: Broker;
  readonly executor: Executor;
  readonly clock: Clock;
  readonly region: string;
  readonly accountId: string;
  /** A failure nobody else hears of (no onFailure destination), or a fault of the dispatcher itself. */
  readonly onWarning: (message: string) => void;
  /** Sends a message to a queue of the app (destinations and dead-letter queues that are queues). */
  readonly sendToQueue?: ((queue: string, body: string, attributes?: Record<string, { DataType: string; StringValue: string }>) => Promise<void>) | undefined;
  /** Each attempt's outcome, kept for `nuvola invocations`: a failure is never silent. */
  readonly onOutcome?: ((outcome: AsyncOutcome) => Promise<void>) | undefined;
}

/** Where an asynchronous invocation stands after an attempt. */
export interface AsyncOutcome {
  readonly requestId: string;
  readonly fn: string;
  /** `retrying`: failed, and queued again; the others are final. */
  readonly status: 'succeeded' | 'retrying' | 'failed' | 'expired';
  /** Attempts that ran the function. */
  readonly attempts: number;
  readonly error?: { readonly type: string; readonly message: string } | undefined;
  /** The function that got the destination record, if any. */
  readonly destination?: string | undefined;
  readonly queuedAt: number;
  readonly at: number;
}

/** What the queue holds for one invocation. */
interface QueuedEvent {
  readonly requestId: string;
  readonly payload: string;
  readonly clientContext?: unknown;
  /** Function errors so far. */
  readonly attempts: number;
  /** When it was first queued (ms since the epoch), for the event age. */
  readonly queuedAt: number;
}

/** Invocations in flight per function when it reserves no concurrency. */
export const ASYNC_DEFAULT_CONCURRENCY = 10;
/** Lambda waits a minute before the first retry and two before the second. */
const RETRY_DELAYS_MS = [60_000, 120_000];
/** Throttles and platform faults: from a second, doubling, up to Lambda's five minutes. */
const BACKOFF_FIRST_MS = 1_000;
const BACKOFF_MAX_MS = 5 * 60_000;
/**
 * How long a pulled event is held: renewed while its invocation runs, so that one cut off by a
 * platform that died is run again this soon after a restart.
 */
const HOLD_MS = 10_000;
/** A dispatcher's long poll. */
const POLL_MS = 20_000;

export const queueOf = (fn: string): string => `lambda-async/${fn}`;

export class AsyncInvoker {
  private readonly deps: AsyncInvokerDeps;
  private readonly dispatchers = new Map<string, Dispatcher>();
  private closed = false;

  constructor(deps: AsyncInvokerDeps) {
    this.deps = deps;
  }

  /** Makes `targets` the functions dispatched for; those removed stop (their queue stays, as Lambda keeps nothing). */
  async deploy(targets: readonly AsyncTarget[]): Promise<void> {
    const names = new Set(targets.map((t) => t.name));
    for (const [name, d] of this.dispatchers) {
      if (names.has(name)) continue;
      d.stop();
      this.dispatchers.delete(name);
    }
    for (const target of targets) {
      await this.deps.broker.ensureQueue(queueOf(target.name));
      const d = this.dispatchers.get(target.name);
      if (d) d.target = target;
      else this.dispatchers.set(target.name, new Dispatcher(target, this.deps, (name) => this.dispatchers.get(name)?.target));
    }
  }

  /** Stores the event; resolves once it is durable. */
  async enqueue(fn: string, event: { requestId: string; payload: string; clientContext?: unknown }): Promise<void> {
    const queued: QueuedEvent = { ...event, attempts: 0, queuedAt: this.deps.clock.now() };
    await this.deps.broker.publish(queueOf(fn), [{ body: JSON.stringify(queued) }]);
  }

  /** Stops pulling and waits for the invocations in flight. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.dispatchers.values()].map((d) => d.stop()));
  }
}

class Dispatcher {
  target: AsyncTarget;
  private readonly deps: AsyncInvokerDeps;
  private readonly lookup: (name: string) => AsyncTarget | undefined;
  private readonly running = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private readonly loop: Promise<void>;
  private slotFreed: (() => void) | undefined;
  private backoffMs = 0;

  constructor(target: AsyncTarget, deps: AsyncInvokerDeps, lookup: (name: string) => AsyncTarget | undefined) {
    this.target = target;
    this.deps = deps;
    this.lookup = lookup;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.slotFreed?.();
    await this.loop;
    await Promise.allSettled([...this.running]);
  }

  /** At least one: a function that reserves none is still pulled for, throttled, and its events age out. */
  private get concurrency(): number {
    return Math.max(1, this.target.reservedConcurrency ?? ASYNC_DEFAULT_CONCURRENCY);
  }

  private async run(): Promise<void> {
    const queue = queueOf(this.target.name);
    while (!this.abort.signal.aborted) {
      const free = this.concurrency - this.running.size;
      if (free <= 0) {
        await new Promise<void>((resolve) => (this.slotFreed = resolve));
        continue;
      }
      let deliveries: Delivery[];
      try {
        deliveries = await this.deps.broker.pull(queue, {
          max: free,
          visibilityMs: HOLD_MS,
          waitMs: POLL_MS,
          signal: this.abort.signal,
        });
      } catch (err) {
        if (this.abort.signal.aborted || isPlatformError(err, 'SHUTTING_DOWN')) return;
        this.deps.onWarning(`asynchronous invocations of ${this.target.name}: ${String(err)}`);
        await sleep(this.deps.clock, BACKOFF_FIRST_MS);
        continue;
      }
      for (const delivery of deliveries) {
        const done: Promise<void> = this.handle(delivery)
          .catch((err: unknown) => this.deps.onWarning(`asynchronous invocation of ${this.target.name}: ${String(err)}`))
          .finally(() => {
            this.running.delete(done);
            this.slotFreed?.();
            this.slotFreed = undefined;
          });
        this.running.add(done);
      }
    }
  }

  private async handle(delivery: Delivery): Promise<void> {
    const queue = queueOf(this.target.name);
    const event = parseQueued(delivery.body);
    if (!event) {
      this.deps.onWarning(`asynchronous invocation of ${this.target.name}: dropped an unreadable queue entry`);
      await this.deps.broker.ack(queue, [delivery.receipt]);
      return;
    }
    const { async: config } = this.target;
    if (this.deps.clock.now() - event.queuedAt > config.maximumEventAgeSeconds * 1000) {
      const to = await this.fail(event, 'EventAgeExceeded', undefined);
      await this.record(event, 'expired', event.attempts, undefined, to);
      await this.deps.broker.ack(queue, [delivery.receipt]);
      return;
    }
    let result: InvokeResult;
    const stopRenewing = this.renew(queue, delivery.receipt);
    try {
      result = await this.deps.executor.invoke(this.target.name, { requestId: event.requestId, payload: event.payload, clientContext: event.clientContext });
    } catch (err) {
      if (isPlatformError(err, 'FUNCTION_NOT_FOUND') && this.abort.signal.aborted) return;
      // Throttled, or the platform could not run it: again later, not an attempt.
      this.backoffMs = Math.min(BACKOFF_MAX_MS, this.backoffMs === 0 ? BACKOFF_FIRST_MS : this.backoffMs * 2);
      await this.deps.broker.release(queue, delivery.receipt, this.backoffMs);
      return;
    } finally {
      stopRenewing();
    }
    this.backoffMs = 0;
    const attempts = event.attempts + 1;
    if (!result.error) {
      const to = (await this.destination(config.onSuccess, event, 'Success', result)) ? config.onSuccess : undefined;
      await this.record(event, 'succeeded', attempts, undefined, to);
    } else if (event.attempts < config.maximumRetryAttempts) {
      const retry: QueuedEvent = { ...event, attempts };
      await this.deps.broker.publish(queue, [{ body: JSON.stringify(retry), delayMs: RETRY_DELAYS_MS[event.attempts] ?? RETRY_DELAYS_MS.at(-1)! }]);
      await this.record(event, 'retrying', attempts, result.error, undefined);
    } else {
      const to = await this.fail(event, 'RetriesExhausted', result);
      await this.record(event, 'failed', attempts, result.error, to);
    }
    await this.deps.broker.ack(queue, [delivery.receipt]);
  }

  /** Told to whoever keeps outcomes; its trouble is a warning, never a reason to run the event again. */
  private async record(event: QueuedEvent, status: AsyncOutcome['status'], attempts: number, error: AsyncOutcome['error'], destination: string | undefined): Promise<void> {
    try {
      await this.deps.onOutcome?.({ requestId: event.requestId, fn: this.target.name, status, attempts, error, destination, queuedAt: event.queuedAt, at: this.deps.clock.now() });
    } catch (err) {
      this.deps.onWarning(`asynchronous invocation ${event.requestId} of ${this.target.name}: its outcome could not be kept: ${String(err)}`);
    }
  }

  /** Holds the event for `HOLD_MS` more every half of it, on the clock, until the returned function is called. */
  private renew(queue: string, receipt: string): () => void {
    let cancel: () => void;
    const arm = () => {
      cancel = this.deps.clock.setTimer(HOLD_MS / 2, () => {
        void this.deps.broker.release(queue, receipt, HOLD_MS).catch(() => undefined);
        arm();
      });
    };
    arm();
    return () => cancel();
  }

  /** Sends the failure to the onFailure destination, or warns; the destination it went to. */
  private async fail(event: QueuedEvent, condition: 'RetriesExhausted' | 'EventAgeExceeded', result: InvokeResult | undefined): Promise<string | undefined> {
    const { onFailure, deadLetterQueue } = this.target.async;
    if (deadLetterQueue !== undefined && this.deps.sendToQueue) {
      // As Lambda's dead-letter queue: the event itself, with why it is there.
      await this.deps.sendToQueue(deadLetterQueue, event.payload, {
        RequestID: { DataType: 'String', StringValue: event.requestId },
        ErrorCode: { DataType: 'Number', StringValue: '200' },
        ErrorMessage: { DataType: 'String', StringValue: (result?.error?.message ?? 'Event age exceeded').slice(0, 1000) || 'Unhandled' },
      });
    }
    if (onFailure !== undefined && (isQueueArn(onFailure) || this.lookup(onFailure))) {
      await this.destination(onFailure, event, condition, result);
      return onFailure;
    }
    if (deadLetterQueue !== undefined) return deadLetterQueue;
    const why = condition === 'EventAgeExceeded' ? 'its event grew older than the maximum event age' : `${event.attempts + 1} attempts failed: ${result?.error?.type}: ${result?.error?.message}`;
    this.deps.onWarning(`asynchronous invocation ${event.requestId} of ${this.target.name} failed: ${why}`);
    return undefined;
  }

  /** Sends Lambda's destination record to the function `to`, asynchronously (and durably) in turn; whether it went. */
  private async destination(to: string | undefined, event: QueuedEvent, condition: string, result: InvokeResult | undefined): Promise<boolean> {
    if (to === undefined) return false;
    if (!isQueueArn(to) && !this.lookup(to)) {
      this.deps.onWarning(`asynchronous invocation ${event.requestId} of ${this.target.name}: destination ${to} is not a function of the app`);
      return false;
    }
    const { region, accountId, clock } = this.deps;
    const record = {
      version: '1.0',
      timestamp: new Date(clock.now()).toISOString(),
      requestContext: {
        requestId: event.requestId,
        functionArn: `${functionArn(this.target.name, region, accountId)}:$LATEST`,
        condition,
        approximateInvokeCount: event.attempts + (condition === 'EventAgeExceeded' ? 0 : 1),
      },
      requestPayload: JSON.parse(event.payload) as unknown,
      ...(result
        ? {
            responseContext: { statusCode: 200, executedVersion: '$LATEST', ...(result.error ? { functionError: 'Unhandled' } : {}) },
            responsePayload: JSON.parse(result.payload) as unknown,
          }
        : {}),
    };
    if (isQueueArn(to)) {
      if (!this.deps.sendToQueue) return false;
      await this.deps.sendToQueue(to.slice(to.lastIndexOf(':') + 1), JSON.stringify(record));
      return true;
    }
    const queued: QueuedEvent = { requestId: globalThis.crypto.randomUUID(), payload: JSON.stringify(record), attempts: 0, queuedAt: clock.now() };
    await this.deps.broker.publish(queueOf(to), [{ body: JSON.stringify(queued) }]);
    return true;
  }
}

/** A destination that is a queue of the app, by its ARN. */
export const isQueueArn = (to: string): boolean => to.startsWith('arn:aws:sqs:');

function parseQueued(body: string): QueuedEvent | undefined {
  try {
    const v = JSON.parse(body) as Partial<QueuedEvent>;
    if (typeof v.requestId !== 'string' || typeof v.payload !== 'string' || typeof v.attempts !== 'number' || typeof v.queuedAt !== 'number') return undefined;
    return v as QueuedEvent;
  } catch {
    return undefined;
  }
}

const sleep = (clock: Clock, ms: number): Promise<void> => new Promise((resolve) => clock.setTimer(ms, resolve));
