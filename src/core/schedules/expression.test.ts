import { describe, expect, it } from 'vitest';
import { isPlatformError } from '../errors.js';
import { checkScheduleExpression, parseScheduleExpression, SCHEDULE_EXPRESSION_MESSAGES, type ScheduleApi } from './expression.js';

function cron(text: string) {
  const e = parseScheduleExpression(text);
  if (e.type !== 'cron') throw new Error(`${text} is not cron`);
  return e.schedule;
}

function reasonOf(text: string, api: ScheduleApi = 'scheduler'): string | undefined {
  const r = checkScheduleExpression(text, api);
  return 'reason' in r ? r.reason : undefined;
}

describe('rate()', () => {
  it.each([
    ['rate(1 minute)', 'minute', 60_000],
    ['rate(5 minutes)', 'minute', 300_000],
    ['rate(1 hour)', 'hour', 3_600_000],
    ['rate(12 hours)', 'hour', 43_200_000],
    ['rate(1 day)', 'day', 86_400_000],
    ['rate(7 days)', 'day', 604_800_000],
  ])('%s is every %s × n', (text, unit, intervalMs) => {
    expect(parseScheduleExpression(text, 'events')).toMatchObject({ type: 'rate', unit, intervalMs });
  });

  it.each(['rate(1 minutes)', 'rate(1 days)', 'rate(2 hour)', 'rate(0 minutes)', 'rate(-1 minutes)', 'rate(1.5 hours)', 'rate(10 seconds)', 'rate(1 week)', 'rate(5 Minutes)', 'rate(5  minutes)', 'rate(5minutes)', 'rate(99999999999 days)'])(
    '%s is refused',
    (text) => {
      expect(reasonOf(text, 'events')).toBeDefined();
    },
  );
});

describe('the error each API answers', () => {
  it('EventBridge rules: the same sentence for any fault; Scheduler: the expression quoted', () => {
    for (const [api, message] of [
      ['events', 'Parameter ScheduleExpression is not valid.'],
      ['scheduler', 'Invalid Schedule Expression cron(0 1 * * * *).'],
    ] as const) {
      try {
        parseScheduleExpression('cron(0 1 * * * *)', api);
        expect.unreachable();
      } catch (err) {
        expect(isPlatformError(err, 'VALIDATION')).toBe(true);
        expect((err as Error).message).toBe(message);
        // The cause AWS does not give is kept for logs and the console.
        expect((err as { details: { reason: string } }).details.reason).toMatch(/exactly one of day-of-month and day-of-week/);
      }
    }
    expect(SCHEDULE_EXPRESSION_MESSAGES.scheduler(' rate(1 hour)')).toBe('Invalid Schedule Expression  rate(1 hour).');
  });

  it('refuses what is longer than the APIs take', () => {
    const long = `cron(${Array.from({ length: 100 }, (_, i) => i % 60).join(',')} * * * ? *)`;
    expect(long.length).toBeGreaterThan(256);
    expect(reasonOf(long)).toMatch(/longer than 256/);
  });
});

describe('at()', () => {
  it('is a wall time of the schedule’s zone, for Scheduler only', () => {
    expect(parseScheduleExpression('at(2024-02-29T23:59:59)')).toMatchObject({ type: 'at', wall: Date.UTC(2024, 1, 29, 23, 59, 59) });
    expect(reasonOf('at(2024-02-29T23:59:59)', 'events')).toMatch(/rate\(\) and cron\(\) only/);
  });

  it.each(['at(2023-02-29T10:00:00)', 'at(2024-13-01T10:00:00)', 'at(2024-04-31T10:00:00)', 'at(2024-01-01T24:00:00)', 'at(2024-01-01T10:60:00)', 'at(2024-01-01T10:00)', 'at(2024-01-01 10:00:00)', 'at(2024-01-01T10:00:00Z)', 'at(2024-01-01T10:00:00+01:00)', 'at(2024-1-01T10:00:00)'])(
    '%s is refused',
    (text) => {
      expect(reasonOf(text)).toBeDefined();
    },
  );

  it('keeps years below 100 as they are', () => {
    expect(parseScheduleExpression('at(0099-01-01T00:00:00)')).toMatchObject({ wall: new Date('0099-01-01T00:00:00Z').getTime() });
  });
});

describe('cron() fields', () => {
  it('expands lists, ranges, increments and names', () => {
    expect(cron('cron(0/15 8-10,22 ? JAN,jul-Aug MON-FRI 2024)')).toEqual({
      minutes: [0, 15, 30, 45],
      hours: [8, 9, 10, 22],
      days: { type: 'days-of-week', days: [2, 3, 4, 5, 6] },
      months: [1, 7, 8],
      years: [2024],
    });
    expect(cron('cron(5 1/6 1-31/10 */4 ? 2020/50)')).toMatchObject({
      hours: [1, 7, 13, 19],
      days: { type: 'days-of-month', days: [1, 11, 21, 31] },
      months: [1, 5, 9],
      years: [2020, 2070, 2120, 2170],
    });
  });

  it('wraps ranges past the end of the field, except years', () => {
    expect(cron('cron(55-5/5 22-1 ? NOV-FEB SAT-MON *)')).toMatchObject({
      minutes: [0, 5, 55],
      hours: [0, 1, 22, 23],
      months: [1, 2, 11, 12],
      days: { type: 'days-of-week', days: [1, 2, 7] },
    });
    expect(reasonOf('cron(0 0 1 1 ? 2030-2020)')).toMatch(/ends before it starts/);
  });

  it('reads day-of-week 1-7 as Sunday-Saturday, and L alone as Saturday', () => {
    expect(cron('cron(0 0 ? * 1,7 *)').days).toEqual({ type: 'days-of-week', days: [1, 7] });
    expect(cron('cron(0 0 ? * SUN,SAT *)').days).toEqual({ type: 'days-of-week', days: [1, 7] });
    expect(cron('cron(0 0 ? * L *)').days).toEqual({ type: 'days-of-week', days: [7] });
  });

  it.each([
    ['L', { type: 'last-day-of-month', offset: 0 }],
    ['L-3', { type: 'last-day-of-month', offset: 3 }],
    ['LW', { type: 'last-business-day-of-month' }],
    ['15W', { type: 'nearest-business-day', day: 15 }],
    ['1w', { type: 'nearest-business-day', day: 1 }],
  ])('day-of-month %s', (field, days) => {
    expect(cron(`cron(0 0 ${field} * ? *)`).days).toEqual(days);
  });

  it.each([
    ['6L', { type: 'last-day-of-week-in-month', dayOfWeek: 6 }],
    ['FRIL', { type: 'last-day-of-week-in-month', dayOfWeek: 6 }],
    ['2#1', { type: 'nth-day-of-week-in-month', dayOfWeek: 2, nth: 1 }],
    ['SAT#5', { type: 'nth-day-of-week-in-month', dayOfWeek: 7, nth: 5 }],
  ])('day-of-week %s', (field, days) => {
    expect(cron(`cron(0 0 ? * ${field} *)`).days).toEqual(days);
  });

  it('takes years from 1970 to 2199', () => {
    expect(cron('cron(0 0 1 1 ? 1970,2199)').years).toEqual([1970, 2199]);
    expect(cron('cron(0 0 1 1 ? *)').years).toHaveLength(230);
    expect(reasonOf('cron(0 0 1 1 ? 1969)')).toMatch(/outside 1970-2199/);
    expect(reasonOf('cron(0 0 1 1 ? 2200)')).toMatch(/outside 1970-2199/);
    expect(reasonOf('cron(0 0 1 1 ? 2199-2200)')).toMatch(/outside 1970-2199/);
  });

  it('accepts a schedule that can never fire, as AWS does', () => {
    expect(reasonOf('cron(0 0 30 2 ? *)')).toBeUndefined();
    expect(reasonOf('cron(15 10 ? * 6L 2002-2005)')).toBeUndefined();
  });

  it.each([
    ['cron(0 0 * * * *)', /exactly one/],
    ['cron(0 0 ? * ? *)', /exactly one/],
    ['cron(0 0 1 * *)', /6 fields/],
    ['cron(0 0 1 * ? * *)', /6 fields/],
    ['cron(0  0 1 * ? *)', /6 fields/],
    ['cron( 0 0 1 * ? *)', /6 fields/],
    ['cron(60 0 1 * ? *)', /outside 0-59/],
    ['cron(0 24 1 * ? *)', /outside 0-23/],
    ['cron(0 0 0 * ? *)', /outside 1-31/],
    ['cron(0 0 32 * ? *)', /outside 1-31/],
    ['cron(0 0 1 13 ? *)', /outside 1-12/],
    ['cron(0 0 ? * 0 *)', /outside 1-7/],
    ['cron(0 0 ? * 8 *)', /outside 1-7/],
    ['cron(0 0 ? * MON/2 *)', /no increments/],
    ['cron(0 0 ? * 2#1,6#3 *)', /alone in the field/],
    ['cron(0 0 ? * 2#0 *)', /k from 1 to 5/],
    ['cron(0 0 ? * 2#6 *)', /k from 1 to 5/],
    ['cron(0 0 L,15 * ? *)', /alone in the field/],
    ['cron(0 0 3L * ? *)', /alone in the field/],
    ['cron(0 0 L-31 * ? *)', /n from 1 to 30/],
    ['cron(0 0 32W * ? *)', /outside 1-31/],
    ['cron(0 0 W * ? *)', /alone in the field/],
    ['cron(0/0 0 1 * ? *)', /increment/],
    ['cron(0/60 0 1 * ? *)', /increment/],
    ['cron(0,,5 0 1 * ? *)', /empty list item/],
    ['cron(0, 0 1 * ? *)', /empty list item/],
    ['cron(0 0 1 FOO ? *)', /not a value/],
    ['cron(0 0 1 * ? 24)', /not a value/],
    ['cron(000 0 1 * ? *)', /not a value/],
    ['CRON(0 0 1 * ? *)', /not rate/],
  ])('%s is refused', (text, reason) => {
    expect(reasonOf(text)).toMatch(reason);
  });
});
