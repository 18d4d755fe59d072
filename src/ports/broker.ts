/**
 * Durable messages: what one part of Nuvola hands to another to do later (an async invocation, a
 * queue's message, an event for a rule's target) is published to a named queue of the Broker and
 * pulled by its consumer, at least once. SQS's model: a pulled message is hidden for a visibility
 * timeout and comes back unless acknowledged; each pull counts; past a queue's maximum the message
 * moves to its dead-letter queue; ordered queues deliver each group's messages in order, one batch of
 * a group in flight at a time. Nothing a `publish` resolved for is lost when the process dies.
 *
 * Drivers: SQLite (embedded, `src/drivers/embedded/sqlite-broker.ts`); the behaviour every driver
 * shows is `src/drivers/conformance/broker.suite.ts`.
 */

export interface QueueOptions {
  /**
   * A message pulled this many times moves to `deadLetterQueue` instead of its next delivery (SQS's
   * `maxReceiveCount`). Without both, a message is delivered until acknowledged or expired.
   */
  readonly maxReceives?: number | undefined;
  readonly deadLetterQueue?: string | undefined;
  /** Each group's messages in publish order, none of a group while one of it is in flight (SQS FIFO). */
  readonly ordered?: boolean | undefined;
  /** How long a de-duplication id is remembered; default 5 minutes (SQS). */
  readonly dedupWindowMs?: number | undefined;
  /** Messages older than this are dropped; default 4 days (SQS's default retention). */
  readonly retentionMs?: number | undefined;
}

export interface PublishInput {
  readonly body: string;
  /** Hidden this long after publishing. */
  readonly delayMs?: number | undefined;
  /** A second message with the same id within the queue's window is not stored; its publish answers the first. */
  readonly dedupId?: string | undefined;
  /** The ordering group, in an ordered queue. */
  readonly groupId?: string | undefined;
  /** Opaque to the Broker: kept and handed back with the message. */
  readonly attributes?: Readonly<Record<string, string>> | undefined;
}

export interface Published {
  readonly id: string;
  /** The message had a de-duplication id seen within the window: this is the first message's id. */
  readonly duplicate: boolean;
  /** Increasing in publish order within the Broker (SQS FIFO's sequence number). */
  readonly sequence: number;
}

export interface Delivery {
  readonly id: string;
  readonly queue: string;
  readonly body: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly groupId: string | undefined;
  readonly dedupId: string | undefined;
  readonly sequence: number;
  /** How many times it was pulled, this time included. */
  readonly receiveCount: number;
  /** Ms since the epoch, on the Broker's clock. */
  readonly sentAt: number;
  readonly firstReceivedAt: number;
  /** Names this delivery: acknowledging or releasing with it does nothing once the message was pulled again. */
  readonly receipt: string;
}

/** A message as it sits in its queue. */
export interface PeekedMessage {
  readonly id: string;
  readonly body: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly groupId: string | undefined;
  readonly sentAt: number;
  /** Pulls so far. */
  readonly receiveCount: number;
}

export interface PullOptions {
  /** At most this many messages (1–10 000). */
  readonly max: number;
  /** Hidden this long unless acknowledged or released. */
  readonly visibilityMs: number;
  /** With none to deliver, wait up to this long for one (long polling); default 0. */
  readonly waitMs?: number | undefined;
  /** Ends the wait early (the puller went away); the pull then answers what it has, nothing. */
  readonly signal?: AbortSignal | undefined;
}

export interface QueueCounts {
  /** Deliverable now. */
  readonly visible: number;
  /** Pulled, neither acknowledged nor visible again yet (also when released with a delay, as SQS counts). */
  readonly inFlight: number;
  /** Published with a delay, not visible yet. */
  readonly delayed: number;
}

export interface Broker {
  /** Creates the queue, or updates its options; idempotent. */
  ensureQueue(name: string, options?: QueueOptions): Promise<void>;
  /** The queue and its messages are gone; publishing to it then fails with `QUEUE_NOT_FOUND`. */
  deleteQueue(name: string): Promise<void>;
  /** Stores the messages, durably, in order; resolves once they are. Rejects with `QUEUE_NOT_FOUND`. */
  publish(queue: string, messages: readonly PublishInput[]): Promise<Published[]>;
  pull(queue: string, options: PullOptions): Promise<Delivery[]>;
  /** Deletes the delivered messages; false for a receipt that no longer names a delivery in flight. */
  ack(queue: string, receipts: readonly string[]): Promise<boolean[]>;
  /**
   * Makes a delivered message visible again `delayMs` from now (0: at once), as SQS's
   * ChangeMessageVisibility: also to extend the time a consumer holds it. The receipt stays good until
   * the message is pulled again; false for one that is not (stale, acknowledged, or nonsense).
   */
  release(queue: string, receipt: string, delayMs: number): Promise<boolean>;
  /** Deletes every message of the queue. */
  purge(queue: string): Promise<void>;
  /**
   * Up to `max` of the queue's messages, oldest first, in flight or not, without delivering them: no
   * receive counted, nothing hidden (for someone looking at a queue, never for its consumers).
   */
  peek(queue: string, max: number): Promise<PeekedMessage[]>;
  counts(queue: string): Promise<QueueCounts>;
  /** Finishes the writes under way; later calls fail with `SHUTTING_DOWN`, waiting pulls answer nothing. */
  close(): Promise<void>;
}
