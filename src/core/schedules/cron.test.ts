import { describe, expect, it } from 'vitest';
import { parseScheduleExpression } from './expression.js';
import { daysMatching, nextMatch, previousMatch } from './cron.js';
import type { CronSchedule } from './cron-fields.js';

function schedule(text: string): CronSchedule {
  const e = parseScheduleExpression(text);
  if (e.type !== 'cron') throw new Error(text);
  return e.schedule;
}

/** Wall times are shown as UTC ISO strings without seconds: the search is zone-free. */
const w = (iso: string) => Date.parse(`${iso}Z`);
const show = (t: number | null) => (t === null ? null : new Date(t).toISOString().slice(0, 16));

function nextN(text: string, from: string, n: number): (string | null)[] {
  const s = schedule(text);
  const out: (string | null)[] = [];
  let t: number | null = w(from);
  for (let i = 0; i < n && t !== null; i++) {
    t = nextMatch(s, t);
    out.push(show(t));
    if (t !== null) t += 60_000;
  }
  return out;
}

const days = (text: string, year: number, month: number) => daysMatching(schedule(text).days, year, month);

describe('L: the last day of the month', () => {
  it('knows leap years: every fourth, but not centuries unless divisible by 400', () => {
    expect(days('cron(0 0 L * ? *)', 2024, 2)).toEqual([29]);
    expect(days('cron(0 0 L * ? *)', 2023, 2)).toEqual([28]);
    expect(days('cron(0 0 L * ? *)', 2000, 2)).toEqual([29]);
    expect(days('cron(0 0 L * ? *)', 2100, 2)).toEqual([28]);
    expect(nextN('cron(30 23 L * ? *)', '2024-01-31T23:31', 4)).toEqual(['2024-02-29T23:30', '2024-03-31T23:30', '2024-04-30T23:30', '2024-05-31T23:30']);
  });

  it('L-n counts back from it, and skips months too short for it', () => {
    expect(days('cron(0 0 L-2 * ? *)', 2023, 2)).toEqual([26]);
    expect(days('cron(0 0 L-2 * ? *)', 2024, 2)).toEqual([27]);
    expect(days('cron(0 0 L-30 * ? *)', 2024, 1)).toEqual([1]);
    expect(days('cron(0 0 L-30 * ? *)', 2024, 4)).toEqual([]);
    expect(days('cron(0 0 L-28 * ? *)', 2023, 2)).toEqual([]);
    expect(days('cron(0 0 L-28 * ? *)', 2024, 2)).toEqual([1]);
  });

  it('LW is the last Monday-Friday', () => {
    expect(days('cron(0 0 LW * ? *)', 2024, 3)).toEqual([29]); // Sunday 31 → Friday 29
    expect(days('cron(0 0 LW * ? *)', 2024, 8)).toEqual([30]); // Saturday 31 → Friday 30
    expect(days('cron(0 0 LW * ? *)', 2024, 7)).toEqual([31]); // a Wednesday
  });
});

describe('W: the nearest Monday-Friday, within the month', () => {
  it.each([
    ['15W', 2024, 6, [14]], // Saturday the 15th → Friday
    ['16W', 2024, 6, [17]], // Sunday the 16th → Monday
    ['12W', 2024, 6, [12]], // a Wednesday stays
    ['1W', 2024, 6, [3]], // Saturday the 1st → Monday the 3rd, not May 31
    ['30W', 2024, 6, [28]], // Sunday the 30th, last of June → Friday the 28th, not July 1
    ['31W', 2024, 6, []], // June has no 31st
    ['29W', 2023, 2, []], // nor February 2023 a 29th
    ['29W', 2024, 2, [29]], // a Thursday
  ])('%s in %i-%i', (field, year, month, expected) => {
    expect(days(`cron(0 0 ${field} * ? *)`, year, month)).toEqual(expected);
  });
});

describe('# and nL: a given day of the week in the month', () => {
  it('n#k is the k-th, and a month without a fifth is skipped', () => {
    expect(days('cron(0 0 ? * 2#1 *)', 2024, 7)).toEqual([1]); // first Monday
    expect(days('cron(0 0 ? * SUN#2 *)', 2024, 9)).toEqual([8]);
    expect(days('cron(0 0 ? * FRI#5 *)', 2024, 3)).toEqual([29]);
    expect(days('cron(0 0 ? * FRI#5 *)', 2024, 4)).toEqual([]);
    expect(nextN('cron(0 9 ? * FRI#5 *)', '2024-03-30T00:00', 3)).toEqual(['2024-05-31T09:00', '2024-08-30T09:00', '2024-11-29T09:00']);
  });

  it('nL is the last one', () => {
    expect(days('cron(0 0 ? * 6L *)', 2024, 5)).toEqual([31]);
    expect(days('cron(0 0 ? * FRIL *)', 2024, 6)).toEqual([28]);
    expect(days('cron(0 0 ? * 1L *)', 2024, 2)).toEqual([25]);
  });

  it('a list of days of the week picks them all, 1 = Sunday', () => {
    expect(days('cron(0 0 ? * 1,7 *)', 2024, 6)).toEqual([1, 2, 8, 9, 15, 16, 22, 23, 29, 30]);
    expect(days('cron(0 0 ? * L *)', 2024, 6)).toEqual([1, 8, 15, 22, 29]);
  });
});

describe('February 29', () => {
  it('fires in leap years only, skipping 2100', () => {
    expect(nextN('cron(0 12 29 2 ? *)', '2023-01-01T00:00', 3)).toEqual(['2024-02-29T12:00', '2028-02-29T12:00', '2032-02-29T12:00']);
    expect(nextN('cron(0 12 29 2 ? *)', '2096-03-01T00:00', 1)).toEqual(['2104-02-29T12:00']);
    expect(show(previousMatch(schedule('cron(0 12 29 2 ? *)'), w('2104-02-29T11:59')))).toBe('2096-02-29T12:00');
  });

  it('a day no month has never fires', () => {
    expect(nextN('cron(0 0 30 2 ? *)', '1970-01-01T00:00', 1)).toEqual([null]);
    expect(nextN('cron(0 0 31 4,6,9,11 ? *)', '1970-01-01T00:00', 1)).toEqual([null]);
  });
});

describe('the years 1970-2199', () => {
  it('ends with 2199', () => {
    expect(nextN('cron(59 23 31 12 ? *)', '2199-12-31T23:58', 2)).toEqual(['2199-12-31T23:59', null]);
    expect(nextN('cron(0 0 1 1 ? 2199)', '2024-06-01T00:00', 2)).toEqual(['2199-01-01T00:00', null]);
  });

  it('begins with 1970', () => {
    expect(show(previousMatch(schedule('cron(0 0 1 1 ? *)'), w('1970-01-01T00:00')))).toBe('1970-01-01T00:00');
    expect(show(previousMatch(schedule('cron(0 0 1 1 ? *)'), w('1969-12-31T23:59')))).toBe(null);
  });

  it('steps across the years of a list, and finds none once they are past', () => {
    expect(nextN('cron(0 0 1 1 ? 2020,2030)', '2020-01-01T00:01', 2)).toEqual(['2030-01-01T00:00', null]);
    expect(nextN('cron(15 10 ? * 6L 2002-2005)', '2024-01-01T00:00', 1)).toEqual([null]);
  });
});

describe('the search', () => {
  it('counts the minute it starts from', () => {
    expect(nextN('cron(30 9 * * ? *)', '2024-05-01T09:30', 1)).toEqual(['2024-05-01T09:30']);
    expect(show(previousMatch(schedule('cron(30 9 * * ? *)'), w('2024-05-01T09:30')))).toBe('2024-05-01T09:30');
  });

  it('rolls minutes into hours, hours into days, days into months, months into years', () => {
    expect(nextN('cron(0,30 0,12 1 1,7 ? *)', '2024-07-01T12:31', 3)).toEqual(['2025-01-01T00:00', '2025-01-01T00:30', '2025-01-01T12:00']);
    expect(show(previousMatch(schedule('cron(0,30 0,12 1 1,7 ? *)'), w('2025-01-01T00:29')))).toBe('2025-01-01T00:00');
    expect(show(previousMatch(schedule('cron(0,30 0,12 1 1,7 ? *)'), w('2024-12-31T23:59')))).toBe('2024-07-01T12:30');
  });
});
