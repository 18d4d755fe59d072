import type { Clock } from '../../ports/clock.js';

/** The real `Clock`. Its timers do not keep the process alive: shutdown never waits for a pending one. */
export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }

  setTimer(ms: number, fn: () => void): () => void {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return () => clearTimeout(timer);
  }
}
