import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../drivers/conformance/fake-clock.js';
import { SqliteDb } from '../../drivers/embedded/sqlite-db.js';
import { schedulesMigrations } from './migrations.js';
import { Scheduler, type ScheduleSpec } from './scheduler.js';

describe('Scheduler', () => {
  let dir: string;
  let clock: FakeClock;
  let fired: [string, string][];
  const dbs: SqliteDb[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'nuvola-schedules-'));
    clock = new FakeClock(Date.parse('2026-01-01T00:00:30Z'));
    fired = [];
  });
  afterEach(async () => {
    for (const db of dbs.splice(0)) await db.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A platform: its own connection to the shared database, its own scheduler. */
  async function platform(name: string): Promise<Scheduler> {
    const db = new SqliteDb(path.join(dir, 'shared.db'));
    dbs.push(db);
    await db.migrate(schedulesMigrations);
    return new Scheduler({ db, clock, fire: async (spec, tick) => void fired.push([`${name}:${spec.id}`, new Date(tick).toISOString()]), onWarning: () => undefined });
  }

  const hourly: ScheduleSpec = { id: 'app/report/1', expression: 'cron(0 * * * ? *)', enabled: true };
  const advance = async (ms: number) => {
    for (let t = 0; t < ms; t += 60_000) {
      clock.advance(Math.min(60_000, ms - t));
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    }
  };

  it('fires each tick once, with two platforms on one database', async () => {
    const a = await platform('a');
    const b = await platform('b');
    await a.apply([hourly]);
    await b.apply([hourly]);
    await advance(24 * 3_600_000);
    const ticks = fired.map(([, at]) => at);
    expect(ticks).toHaveLength(24);
    expect(new Set(ticks).size).toBe(24);
    expect(ticks[0]).toBe('2026-01-01T01:00:00.000Z');
    a.close();
    b.close();
  });

  it('after downtime, fires the missed schedule once, then on time', async () => {
    const first = await platform('first');
    await first.apply([hourly]);
    await advance(2 * 3_600_000);
    first.close();
    expect(fired).toHaveLength(2);
    // Down for five hours: five ticks missed.
    clock.advance(5 * 3_600_000);
    const second = await platform('second');
    await second.apply([hourly]);
    expect(fired.slice(2)).toEqual([['second:app/report/1', '2026-01-01T07:00:00.000Z']]);
    await advance(3_600_000);
    expect(fired.slice(3)).toEqual([['second:app/report/1', '2026-01-01T08:00:00.000Z']]);
    second.close();
  });

  it('runs a day of rate(15 minutes) on the fake clock, none twice, none missed, and not a disabled one', async () => {
    const s = await platform('tz');
    await s.apply([{ id: 'q', expression: 'rate(15 minutes)', enabled: true, startMs: clock.now() }, { id: 'off', expression: 'rate(1 minute)', enabled: false }]);
    await advance(24 * 3_600_000);
    expect(fired.filter(([id]) => id === 'tz:q')).toHaveLength(96);
    expect(fired.some(([id]) => id === 'tz:off')).toBe(false);
    s.close();
  });
});
