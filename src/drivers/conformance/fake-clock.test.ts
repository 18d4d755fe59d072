import { describe, expect, it } from 'vitest';
import { FakeClock } from './fake-clock.js';

describe('FakeClock', () => {
  it('fires due timers in order, each at its own time, and not the rest', () => {
    const clock = new FakeClock(1_000);
    const fired: Array<[string, number]> = [];
    clock.setTimer(30, () => fired.push(['b', clock.now()]));
    clock.setTimer(10, () => fired.push(['a', clock.now()]));
    clock.setTimer(31, () => fired.push(['late', clock.now()]));
    clock.advance(30);
    expect(fired).toEqual([['a', 1_010], ['b', 1_030]]);
    expect(clock.now()).toBe(1_030);
    expect(clock.pendingTimers).toBe(1);
  });

  it('fires timers armed by a firing timer within the same advance', () => {
    const clock = new FakeClock(0);
    const ticks: number[] = [];
    const tick = () => {
      ticks.push(clock.now());
      clock.setTimer(100, tick);
    };
    clock.setTimer(100, tick);
    clock.advance(350);
    expect(ticks).toEqual([100, 200, 300]);
  });

  it('does not fire a cancelled timer', () => {
    const clock = new FakeClock(0);
    let fired = false;
    const cancel = clock.setTimer(5, () => (fired = true));
    cancel();
    clock.advance(10);
    expect(fired).toBe(false);
    expect(clock.pendingTimers).toBe(0);
  });
});
