import { describe, expect, it } from 'vitest';
import { isPlatformError } from '../errors.js';
import { wallFields } from './calendar.js';
import { daysMatching } from './cron.js';
import { parseScheduleExpression } from './expression.js';
import { nextFire, occurrences, previousFire, type FireOptions } from './occurrences.js';
import { wallAt } from './time-zone.js';

const t = (iso: string) => Date.parse(iso);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString().replace(':00.000Z', 'Z'));

function fires(expression: string, after: string, n: number, options?: FireOptions | string): string[] {
  const out: string[] = [];
  for (const at of occurrences(expression, t(after), options)) {
    out.push(iso(at)!);
    if (out.length === n) break;
  }
  return out;
}

describe('Europe/Paris: clocks go forward at 02:00 on 2025-03-30, back at 03:00 on 2025-10-26', () => {
  const paris = { timeZone: 'Europe/Paris' };

  it('skips a wall time the spring-forward removes', () => {
    // 02:30 CET on the 29th, no 02:30 on the 30th, 02:30 CEST on the 31st.
    expect(fires('cron(30 2 * * ? *)', '2025-03-28T12:00Z', 3, paris)).toEqual(['2025-03-29T01:30Z', '2025-03-31T00:30Z', '2025-04-01T00:30Z']);
  });

  it('keeps an hourly schedule hourly through the spring-forward (01:00, 03:00, 04:00 on the wall)', () => {
    expect(fires('cron(0 * * * ? *)', '2025-03-29T23:30Z', 3, paris)).toEqual(['2025-03-30T00:00Z', '2025-03-30T01:00Z', '2025-03-30T02:00Z']);
  });

  it('fires a wall time the fall-back repeats once, at its first occurrence', () => {
    // 02:30 CEST (00:30Z) fires; 02:30 CET (01:30Z) an hour later does not.
    expect(fires('cron(30 2 * * ? *)', '2025-10-25T12:00Z', 2, paris)).toEqual(['2025-10-26T00:30Z', '2025-10-27T01:30Z']);
    expect(iso(nextFire('cron(30 2 * * ? *)', t('2025-10-26T01:00Z'), paris))).toBe('2025-10-27T01:30Z');
  });

  it('leaves an hourly schedule a two-hour gap in the fall-back rather than repeat 02:00', () => {
    expect(fires('cron(0 * * * ? *)', '2025-10-25T22:30Z', 3, paris)).toEqual(['2025-10-25T23:00Z', '2025-10-26T00:00Z', '2025-10-26T02:00Z']);
  });
});

describe('America/New_York: clocks go forward at 02:00 on 2025-03-09, back at 02:00 on 2025-11-02', () => {
  const ny = 'America/New_York';

  it('skips 02:30 on the day it does not exist', () => {
    expect(fires('cron(30 2 * * ? *)', '2025-03-08T00:00Z', 2, ny)).toEqual(['2025-03-08T07:30Z', '2025-03-10T06:30Z']);
    expect(iso(previousFire('cron(30 2 * * ? *)', t('2025-03-10T00:00Z'), ny))).toBe('2025-03-08T07:30Z');
  });

  it('fires 01:30 once on the day it happens twice', () => {
    expect(fires('cron(30 1 * * ? *)', '2025-11-01T12:00Z', 2, ny)).toEqual(['2025-11-02T05:30Z', '2025-11-03T06:30Z']);
    expect(iso(previousFire('cron(30 1 * * ? *)', t('2025-11-02T07:00Z'), ny))).toBe('2025-11-02T05:30Z');
  });

  it('runs every 15 minutes up to 01:45 EDT, then from 02:00 EST', () => {
    expect(fires('cron(0/15 * * * ? *)', '2025-11-02T05:40Z', 3, ny)).toEqual(['2025-11-02T05:45Z', '2025-11-02T07:00Z', '2025-11-02T07:15Z']);
  });

  it('looks back past the repeated hour for the last fire', () => {
    // At 01:10 EST the last minute that fired was 01:59 EDT, not 01:10.
    expect(iso(previousFire('cron(* * * * ? *)', t('2025-11-02T06:10Z'), ny))).toBe('2025-11-02T05:59Z');
    expect(iso(previousFire('cron(* * * * ? *)', t('2025-11-02T07:00:30Z'), ny))).toBe('2025-11-02T07:00Z');
  });
});

describe('other zones', () => {
  it('skips a midnight that a midnight spring-forward removes (São Paulo, 2018-11-04)', () => {
    expect(fires('cron(0 0 * * ? *)', '2018-11-02T12:00Z', 2, 'America/Sao_Paulo')).toEqual(['2018-11-03T03:00Z', '2018-11-05T02:00Z']);
  });

  it('handles a half-hour fall-back (Lord Howe, 2025-04-06)', () => {
    expect(fires('cron(45 1 * * ? *)', '2025-04-05T12:00Z', 2, 'Australia/Lord_Howe')).toEqual(['2025-04-05T14:45Z', '2025-04-06T15:15Z']);
  });

  it('reads the POSIX-style Etc zones the inverted way the database does (Etc/GMT+5 is UTC-5)', () => {
    expect(fires('cron(0 12 * * ? *)', '2025-01-01T00:00Z', 1, 'Etc/GMT+5')).toEqual(['2025-01-01T17:00Z']);
  });

  it('defaults to UTC', () => {
    expect(fires('cron(0 12 * * ? *)', '2025-01-01T00:00Z', 1)).toEqual(['2025-01-01T12:00Z']);
  });
});

describe('rate()', () => {
  const created = t('2025-03-29T11:00:20Z');

  it('fires at the start, then every interval after it', () => {
    expect(nextFire('rate(5 minutes)', created - 1, { createdAt: created })).toBe(created);
    expect(nextFire('rate(5 minutes)', created, { createdAt: created })).toBe(created + 300_000);
    expect(nextFire('rate(5 minutes)', created + 420_000, { createdAt: created })).toBe(created + 600_000);
    expect(previousFire('rate(5 minutes)', created + 600_000, { createdAt: created })).toBe(created + 300_000);
    expect(previousFire('rate(5 minutes)', created, { createdAt: created })).toBeNull();
  });

  it('counts days as 24 hours, whatever the zone’s clocks do', () => {
    const daily = [...take(occurrences('rate(1 day)', created, { createdAt: created, timeZone: 'Europe/Paris' }), 2)];
    expect(daily).toEqual([created + 86_400_000, created + 2 * 86_400_000]);
  });

  it('counts from StartDate when there is one, and stops before EndDate', () => {
    const startDate = t('2025-06-01T00:00Z');
    const endDate = t('2025-06-01T03:00Z');
    expect([...occurrences('rate(1 hour)', created, { createdAt: created, startDate, endDate })].map(iso)).toEqual(['2025-06-01T00:00Z', '2025-06-01T01:00Z', '2025-06-01T02:00Z']);
    expect(iso(previousFire('rate(1 hour)', t('2030-01-01T00:00Z'), { startDate, endDate }))).toBe('2025-06-01T02:00Z');
  });

  it('needs a start', () => {
    expect(() => nextFire('rate(1 hour)', created)).toThrow(TypeError);
  });

  it('takes only finite times', () => {
    expect(() => nextFire('rate(1 hour)', Number.NaN, { createdAt: created })).toThrow(TypeError);
    expect(() => previousFire('rate(1 hour)', Infinity, { createdAt: created })).toThrow(TypeError);
    expect(() => nextFire('rate(1 hour)', created, { startDate: Number.NaN })).toThrow(TypeError);
    expect(() => occurrences('rate(1 hour)', created)).toThrow(TypeError);
    expect(() => occurrences('rate(1 hours)', created, { createdAt: created })).toThrow(/Invalid Schedule Expression/);
  });
});

describe('at()', () => {
  it('fires once, at its wall time in the zone', () => {
    expect(iso(nextFire('at(2025-07-01T09:00:00)', t('2025-01-01T00:00Z'), 'Europe/Paris'))).toBe('2025-07-01T07:00Z');
    expect(iso(nextFire('at(2025-07-01T09:00:00)', t('2025-01-01T00:00Z')))).toBe('2025-07-01T09:00Z');
    expect(fires('at(2025-07-01T09:00:00)', '2025-01-01T00:00Z', 5)).toEqual(['2025-07-01T09:00Z']);
    expect(nextFire('at(2025-07-01T09:00:00)', t('2025-07-01T09:00Z'))).toBeNull();
    expect(iso(previousFire('at(2025-07-01T09:00:00)', t('2025-07-01T09:00:01Z')))).toBe('2025-07-01T09:00Z');
  });

  it('in a spring-forward gap fires as far past it as asked (02:30 → 03:30 CEST); in an overlap, at the first', () => {
    expect(iso(nextFire('at(2025-03-30T02:30:00)', 0, 'Europe/Paris'))).toBe('2025-03-30T01:30Z');
    expect(iso(nextFire('at(2025-10-26T02:30:00)', 0, 'Europe/Paris'))).toBe('2025-10-26T00:30Z');
  });

  it('ignores StartDate and EndDate, as Scheduler does for one-time schedules', () => {
    expect(iso(nextFire('at(2025-07-01T09:00:00)', 0, { startDate: t('2026-01-01T00:00Z'), endDate: t('2025-01-01T00:00Z') }))).toBe('2025-07-01T09:00Z');
  });
});

describe('StartDate and EndDate bound cron() as [start, end)', () => {
  const bounds = { startDate: t('2025-05-01T10:00Z'), endDate: t('2025-05-01T12:00Z') };

  it('fires on StartDate itself and stops before EndDate', () => {
    expect(fires('cron(0 * * * ? *)', '2025-05-01T00:00Z', 10, bounds)).toEqual(['2025-05-01T10:00Z', '2025-05-01T11:00Z']);
    expect(iso(previousFire('cron(0 * * * ? *)', t('2026-01-01T00:00Z'), bounds))).toBe('2025-05-01T11:00Z');
    expect(previousFire('cron(0 * * * ? *)', t('2025-05-01T10:00Z'), bounds)).toBeNull();
    expect(nextFire('cron(0 * * * ? *)', t('2025-05-01T11:00Z'), bounds)).toBeNull();
  });
});

describe('the edges of time', () => {
  it('answers at once far outside the years cron() knows', () => {
    expect(nextFire('cron(* * * * ? *)', 8.64e15, 'Europe/Paris')).toBeNull();
    expect(iso(nextFire('cron(* * * * ? *)', -8.64e15, 'Europe/Paris'))).toBe('1969-12-31T23:00Z');
    expect(previousFire('cron(* * * * ? *)', -8.64e15, 'Europe/Paris')).toBeNull();
    expect(iso(previousFire('cron(* * * * ? *)', 8.64e15, 'Pacific/Kiritimati'))).toBe('2199-12-31T09:59Z');
  });
});

describe('ScheduleExpressionTimezone', () => {
  it.each(['UTC', 'Europe/Paris', 'America/Argentina/Buenos_Aires', 'US/Eastern', 'Etc/GMT-14'])('takes %s', (timeZone) => {
    expect(nextFire('cron(0 0 * * ? *)', 0, { timeZone })).not.toBeNull();
  });

  it.each(['europe/paris', 'Mars/Olympus_Mons', '+02:00', 'UTC+2', '', 'Europe/Paris '])('refuses %j', (timeZone) => {
    try {
      nextFire('cron(0 0 * * ? *)', 0, { timeZone });
      expect.unreachable();
    } catch (err) {
      expect(isPlatformError(err, 'VALIDATION')).toBe(true);
      expect((err as Error).message).toBe(`Invalid ScheduleExpressionTimezone ${timeZone}.`);
    }
  });
});

describe('around clock changes', () => {
  // The rule said plainly: walk every minute; a minute fires when its wall time matches and is later
  // than every wall time shown before it (so a repeated wall time fires only the first time).
  function walk(expression: string, timeZone: string, from: number, to: number): number[] {
    const e = parseScheduleExpression(expression);
    if (e.type !== 'cron') throw new Error(expression);
    const s = e.schedule;
    const out: number[] = [];
    let latest = -Infinity;
    for (let m = from + 60_000; m < to; m += 60_000) {
      const wall = wallAt(m, timeZone);
      const f = wallFields(wall);
      const match = s.minutes.includes(f.minute) && s.hours.includes(f.hour) && s.months.includes(f.month) && s.years.includes(f.year) && daysMatching(s.days, f.year, f.month).includes(f.day);
      if (match && wall > latest) out.push(m);
      latest = Math.max(latest, wall);
    }
    return out;
  }

  const changes: [string, string][] = [
    ['Europe/Paris', '2025-03-30T01:00Z'],
    ['Europe/Paris', '2025-10-26T01:00Z'],
    ['America/New_York', '2025-03-09T07:00Z'],
    ['America/New_York', '2025-11-02T06:00Z'],
    ['Australia/Lord_Howe', '2025-04-05T15:00Z'],
    ['Australia/Lord_Howe', '2025-10-04T15:30Z'],
    ['America/Sao_Paulo', '2018-11-04T03:00Z'],
    ['America/Sao_Paulo', '2019-02-17T02:00Z'],
    ['Asia/Kathmandu', '1986-01-01T00:00Z'],
  ];
  const expressions = ['cron(* * * * ? *)', 'cron(0/7 * * * ? *)', 'cron(30 0-3 * * ? *)', 'cron(0 0,1,2,23 ? * SUN *)', 'cron(15,45 * L * ? *)'];

  it.each(changes)('%s at %s: nextFire, occurrences and previousFire agree with a minute-by-minute walk', (timeZone, change) => {
    const from = t(change) - 86_400_000;
    const to = t(change) + 86_400_000;
    for (const expression of expressions) {
      const expected = walk(expression, timeZone, from, to);
      const actual = [...takeWhile(occurrences(expression, from, timeZone), (at) => at < to)];
      expect(actual.map(iso), `${expression} in ${timeZone}`).toEqual(expected.map(iso));
      const backwards: number[] = [];
      for (let at = previousFire(expression, to, timeZone); at !== null && at > from; at = previousFire(expression, at, timeZone)) backwards.unshift(at);
      expect(backwards.map(iso), `${expression} in ${timeZone}, backwards`).toEqual(expected.map(iso));
    }
  });
});

function* takeWhile<T>(it: Iterable<T>, ok: (v: T) => boolean): Generator<T> {
  for (const v of it) {
    if (!ok(v)) return;
    yield v;
  }
}

function* take<T>(it: Iterable<T>, n: number): Generator<T> {
  let i = 0;
  for (const v of it) {
    if (i++ >= n) return;
    yield v;
  }
}
