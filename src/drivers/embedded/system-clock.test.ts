import { describe, expect, it } from 'vitest';
import { SystemClock } from './system-clock.js';

describe('SystemClock', () => {
  it('reads the wall clock', () => {
    const before = Date.now();
    const now = new SystemClock().now();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });

  it('fires a timer once, and not after cancel', async () => {
    const clock = new SystemClock();
    const fired = await new Promise<boolean>((resolve) => clock.setTimer(1, () => resolve(true)));
    expect(fired).toBe(true);
    let cancelledFired = false;
    const cancel = clock.setTimer(1, () => (cancelledFired = true));
    cancel();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(cancelledFired).toBe(false);
  });
});
