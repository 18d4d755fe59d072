import type { Clock } from '../../ports/clock.js';

interface PendingTimer {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
}

/**
 * A `Clock` for tests: time stands still until `advance()` moves it, and timers fire then, in due
 * order, each seeing `now()` equal to its own due time. Nothing waits for real time.
 */
export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: PendingTimer[] = [];

  /** Starts at `start` ms since the epoch (default 2025-01-01T00:00:00Z: well past 2^31 ms). */
  constructor(start = Date.UTC(2025, 0, 1)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(ms: number, fn: () => void): () => void {
    const timer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn };
    this.#timers.push(timer);
    return () => {
      this.#timers = this.#timers.filter((t) => t !== timer);
    };
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due, including ones armed by a firing
   * timer. A timer armed later by asynchronous work (after an `await`) fires on a later `advance`.
   */
  advance(ms: number): void {
    const until = this.#now + ms;
    for (;;) {
      const next = this.#nextDue(until);
      if (!next) break;
      this.#timers = this.#timers.filter((t) => t !== next);
      this.#now = next.at;
      next.fn();
    }
    this.#now = until;
  }

  /** How many timers are armed: lets a test assert that something stopped scheduling work. */
  get pendingTimers(): number {
    return this.#timers.length;
  }

  #nextDue(until: number): PendingTimer | undefined {
    let next: PendingTimer | undefined;
    for (const t of this.#timers) {
      if (t.at <= until && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t;
    }
    return next;
  }
}
