/**
 * EventBridge's schedule expressions: `rate(value unit)`, `cron(minutes hours day-of-month month
 * day-of-week year)` with `?`, `L`, `W`, `#`, names of months and days, and Scheduler's one-time
 * `at(yyyy-mm-ddThh:mm:ss)`; checked as AWS checks them, and their fire times, in UTC or an IANA
 * time zone. Pure: time comes in as numbers.
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html
 */
import { PlatformError } from '../errors.js';
import { fromLocal, toLocal } from './zone.js';

export type Schedule =
  | { readonly kind: 'rate'; readonly everyMs: number }
  | { readonly kind: 'cron'; readonly fields: CronFields }
  | { readonly kind: 'at'; readonly local: LocalTime };

export interface LocalTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

export interface CronFields {
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  readonly years: ReadonlySet<number>;
  /** Day of month: the days listed, `L` (last, minus an offset), `W` (nearest weekday to a day, or LW). */
  readonly daysOfMonth: { readonly any: boolean; readonly days: ReadonlySet<number>; readonly last?: number | undefined; readonly weekdayNear?: number | 'L' | undefined } | undefined;
  /** Day of week (1 = Sunday … 7 = Saturday): the days listed, `nL` (last n of the month), `n#k` (k-th n). */
  readonly daysOfWeek: { readonly any: boolean; readonly days: ReadonlySet<number>; readonly last?: number | undefined; readonly nth?: readonly [number, number] | undefined } | undefined;
}

const INVALID = 'Parameter ScheduleExpression is not valid.';
const invalid = (): never => {
  throw new PlatformError('VALIDATION', INVALID);
};

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const UNITS: Readonly<Record<string, number>> = { minute: 60_000, minutes: 60_000, hour: 3_600_000, hours: 3_600_000, day: 86_400_000, days: 86_400_000 };

/** Parses and checks an expression; throws VALIDATION with EventBridge's message. */
export function parseSchedule(expression: string): Schedule {
  const m = /^(rate|cron|at)\((.*)\)$/.exec(expression);
  if (!m) return invalid();
  const [, kind, body = ''] = m;
  if (kind === 'rate') {
    const r = /^([1-9]\d*) (minute|minutes|hour|hours|day|days)$/.exec(body);
    if (!r) return invalid();
    const value = Number(r[1]);
    // "1 minute", "5 minutes": the singular only with 1, the plural only with more.
    if ((value === 1) !== !r[2]!.endsWith('s')) return invalid();
    return { kind: 'rate', everyMs: value * UNITS[r[2]!]! };
  }
  if (kind === 'at') {
    const a = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(body);
    if (!a) return invalid();
    const [year, month, day, hour, minute, second] = a.slice(1).map(Number) as [number, number, number, number, number, number];
    if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 59) return invalid();
    return { kind: 'at', local: { year, month, day, hour, minute, second } };
  }
  return { kind: 'cron', fields: parseCron(body) };
}

function parseCron(body: string): CronFields {
  const parts = body.split(' ');
  if (parts.length !== 6 || parts.some((p) => p === '')) return invalid();
  const [min, hour, dom, month, dow, year] = parts as [string, string, string, string, string, string];
  // Exactly one of the day fields is `?`.
  if ((dom === '?') === (dow === '?')) return invalid();
  return {
    minutes: list(min, 0, 59),
    hours: list(hour, 0, 23),
    months: list(month, 1, 12, MONTHS),
    years: list(year, 1970, 2199),
    daysOfMonth: dom === '?' ? undefined : dayOfMonth(dom),
    daysOfWeek: dow === '?' ? undefined : dayOfWeek(dow),
  };
}

/** `*`, `a`, `a-b`, `a/n`, `a-b/n`, `*\/n`, lists of those; names where given. */
function list(field: string, min: number, max: number, names?: readonly string[]): ReadonlySet<number> {
  const out = new Set<number>();
  const value = (t: string): number => {
    const i = names?.indexOf(t.toUpperCase()) ?? -1;
    const n = i >= 0 ? i + min : /^\d+$/.test(t) ? Number(t) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) return invalid();
    return n;
  };
  for (const item of field.split(',')) {
    const [range = '', stepText] = item.split('/') as [string, string | undefined];
    const step = stepText === undefined ? 1 : /^[1-9]\d*$/.test(stepText) && Number(stepText) <= max ? Number(stepText) : invalid();
    let from: number;
    let to: number;
    if (range === '*') [from, to] = [min, max];
    else if (range.includes('-')) {
      const [a, b] = range.split('-');
      [from, to] = [value(a ?? ''), value(b ?? '')];
    } else {
      from = value(range);
      to = stepText === undefined ? from : max;
    }
    // A range may wrap around its end: FRI-MON, NOV-FEB, 22-2.
    const span = to >= from ? to - from : max - from + 1 + (to - min);
    for (let k = 0; k <= span; k += step) out.add(from + k > max ? from + k - (max - min + 1) : from + k);
  }
  return out;
}

function dayOfMonth(field: string): NonNullable<CronFields['daysOfMonth']> {
  if (field === '*') return { any: true, days: new Set() };
  if (field === 'L') return { any: false, days: new Set(), last: 0 };
  const lastMinus = /^L-(\d{1,2})$/.exec(field);
  if (lastMinus) return Number(lastMinus[1]) <= 30 ? { any: false, days: new Set(), last: Number(lastMinus[1]) } : invalid();
  if (field === 'LW') return { any: false, days: new Set(), weekdayNear: 'L' };
  const w = /^(\d{1,2})W$/.exec(field);
  if (w) return Number(w[1]) >= 1 && Number(w[1]) <= 31 ? { any: false, days: new Set(), weekdayNear: Number(w[1]) } : invalid();
  return { any: false, days: list(field, 1, 31) };
}

function dayOfWeek(field: string): NonNullable<CronFields['daysOfWeek']> {
  if (field === '*') return { any: true, days: new Set() };
  const day = (t: string) => {
    const i = DAYS.indexOf(t.toUpperCase());
    const n = i >= 0 ? i + 1 : /^[1-7]$/.test(t) ? Number(t) : invalid();
    return n;
  };
  if (field === 'L') return { any: false, days: new Set(), last: 7 };
  const last = /^(\w+)L$/.exec(field);
  if (last) return { any: false, days: new Set(), last: day(last[1]!) };
  const nth = /^(\w+)#([1-5])$/.exec(field);
  if (nth) return { any: false, days: new Set(), nth: [day(nth[1]!), Number(nth[2])] };
  return { any: false, days: list(field, 1, 7, DAYS) };
}

const daysIn = (year: number, month: number): number => new Date(Date.UTC(year, month, 0)).getUTCDate();
const weekday = (year: number, month: number, day: number): number => new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 1;

/** Whether the schedule fires on a local date (day-of-month and day-of-week rules). */
function dayMatches(f: CronFields, year: number, month: number, day: number): boolean {
  const dim = daysIn(year, month);
  const dom = f.daysOfMonth;
  if (dom) {
    if (dom.any) return true;
    if (dom.last !== undefined) return day === dim - dom.last;
    if (dom.weekdayNear !== undefined) {
      // A month without that day has no such weekday (31W in June never fires).
      if (dom.weekdayNear !== 'L' && dom.weekdayNear > dim) return false;
      return day === nearestWeekday(year, month, dom.weekdayNear === 'L' ? dim : dom.weekdayNear);
    }
    return dom.days.has(day);
  }
  const dow = f.daysOfWeek!;
  const wd = weekday(year, month, day);
  if (dow.any) return true;
  if (dow.last !== undefined) return wd === dow.last && day + 7 > dim;
  if (dow.nth) return wd === dow.nth[0] && Math.ceil(day / 7) === dow.nth[1];
  return dow.days.has(wd);
}

/** The weekday nearest to `day` within its month (cron's `W`). */
function nearestWeekday(year: number, month: number, day: number): number {
  const wd = weekday(year, month, day);
  if (wd >= 2 && wd <= 6) return day;
  if (wd === 7) return day > 1 ? day - 1 : day + 2; // Saturday: Friday, or Monday if the 1st
  return day < daysIn(year, month) ? day + 1 : day - 2; // Sunday: Monday, or Friday if the last
}

/**
 * The first fire time after `afterMs` (strictly), in ms, or undefined when there is none. Cron and `at`
 * are read in `timeZone` (UTC by default); `rate` counts from `startMs`.
 */
export function nextFire(schedule: Schedule, afterMs: number, options: { timeZone?: string | undefined; startMs?: number | undefined } = {}): number | undefined {
  const tz = options.timeZone ?? 'UTC';
  if (schedule.kind === 'rate') {
    const start = options.startMs ?? afterMs;
    if (afterMs < start) return start;
    return start + (Math.floor((afterMs - start) / schedule.everyMs) + 1) * schedule.everyMs;
  }
  if (schedule.kind === 'at') {
    const t = fromLocal(schedule.local, tz);
    return t > afterMs ? t : undefined;
  }
  const f = schedule.fields;
  // From the minute after `afterMs`, local time: the next matching year, month, day, hour, minute.
  const start = toLocal(Math.floor(afterMs / 60_000) * 60_000 + 60_000, tz);
  for (const year of [...f.years].sort((a, b) => a - b)) {
    if (year < start.year) continue;
    for (const month of [...f.months].sort((a, b) => a - b)) {
      if (year === start.year && month < start.month) continue;
      const firstDay = year === start.year && month === start.month ? start.day : 1;
      for (let day = firstDay; day <= daysIn(year, month); day++) {
        if (!dayMatches(f, year, month, day)) continue;
        const sameDay = year === start.year && month === start.month && day === start.day;
        for (const hour of [...f.hours].sort((a, b) => a - b)) {
          if (sameDay && hour < start.hour) continue;
          for (const minute of [...f.minutes].sort((a, b) => a - b)) {
            if (sameDay && hour === start.hour && minute < start.minute) continue;
            const t = fromLocal({ year, month, day, hour, minute, second: 0 }, tz);
            if (t > afterMs) return t;
          }
        }
      }
    }
  }
  return undefined;
}
