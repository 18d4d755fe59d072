/**
 * The six fields of an EventBridge cron expression, `minutes hours day-of-month month day-of-week
 * year`, parsed into the sets the search of cron.ts walks. The grammar is the one AWS documents
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html#eb-cron-expressions),
 * read the way Quartz reads it where AWS says nothing (AWS's syntax is Quartz's without seconds):
 *
 * | field        | values          | wildcards     |
 * |--------------|-----------------|---------------|
 * | minutes      | 0-59            | , - * /       |
 * | hours        | 0-23            | , - * /       |
 * | day-of-month | 1-31            | , - * ? / L W |
 * | month        | 1-12 or JAN-DEC | , - * /       |
 * | day-of-week  | 1-7 or SUN-SAT  | , - * ? L #   |
 * | year         | 1970-2199       | , - * /       |
 *
 * Exactly one of day-of-month and day-of-week is `?`. `L`, `L-n`, `LW`, `nW` (day-of-month) and
 * `L`, `nL`, `n#k` (day-of-week) stand alone in their field: Quartz refuses them in lists and AWS
 * says a `#` field holds one expression. Ranges may wrap (`22-2`, `FRI-MON`, `NOV-FEB`), as in Quartz,
 * except years. Names and letters are case-insensitive (Quartz upper-cases the expression).
 */

export type DayRule =
  /** Days of the month from a list, ranges or increments (`1,15`, `1-7`, `*`, `1/4`). */
  | { readonly type: 'days-of-month'; readonly days: readonly number[] }
  /** `L` (offset 0) and `L-n`: the last day of the month, or n days before it. */
  | { readonly type: 'last-day-of-month'; readonly offset: number }
  /** `LW`: the last Monday–Friday of the month. */
  | { readonly type: 'last-business-day-of-month' }
  /** `nW`: the Monday–Friday nearest day n, without leaving the month. */
  | { readonly type: 'nearest-business-day'; readonly day: number }
  /** Days of the week, 1–7 = Sunday–Saturday (`MON-FRI`, `1,7`, `*`, `L` = Saturday). */
  | { readonly type: 'days-of-week'; readonly days: readonly number[] }
  /** `nL`: the last such day of the week in the month (`6L`, `FRIL`: the last Friday). */
  | { readonly type: 'last-day-of-week-in-month'; readonly dayOfWeek: number }
  /** `n#k`: the k-th such day of the week in the month (`2#1`: the first Monday). */
  | { readonly type: 'nth-day-of-week-in-month'; readonly dayOfWeek: number; readonly nth: number };

/** A parsed cron expression: sorted, distinct values per field, and the rule that picks days. */
export interface CronSchedule {
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly days: DayRule;
  readonly months: readonly number[];
  readonly years: readonly number[];
}

export const CRON_YEARS = { min: 1970, max: 2199 } as const;

interface FieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  /** Quartz refuses increments past a field's largest value ("Increment > 60"); years have no such bound there. */
  readonly maxIncrement: number;
  readonly names?: readonly string[];
  readonly wraps: boolean;
}

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] as const;
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const;

const MINUTES: FieldSpec = { name: 'minutes', min: 0, max: 59, maxIncrement: 59, wraps: true };
const HOURS: FieldSpec = { name: 'hours', min: 0, max: 23, maxIncrement: 23, wraps: true };
const DAY_OF_MONTH: FieldSpec = { name: 'day-of-month', min: 1, max: 31, maxIncrement: 31, wraps: true };
const MONTH: FieldSpec = { name: 'month', min: 1, max: 12, maxIncrement: 12, names: MONTH_NAMES, wraps: true };
const DAY_OF_WEEK: FieldSpec = { name: 'day-of-week', min: 1, max: 7, maxIncrement: 7, names: DAY_NAMES, wraps: true };
const YEAR: FieldSpec = { name: 'year', min: CRON_YEARS.min, max: CRON_YEARS.max, maxIncrement: CRON_YEARS.max - CRON_YEARS.min, wraps: false };

class CronSyntaxError extends Error {}

function fail(reason: string): never {
  throw new CronSyntaxError(reason);
}

export type CronParseResult = { readonly ok: true; readonly schedule: CronSchedule } | { readonly ok: false; readonly reason: string };

/** Parses the text between `cron(` and `)`: six fields, each separated by one space. */
export function parseCronFields(body: string): CronParseResult {
  try {
    return { ok: true, schedule: parseFields(body) };
  } catch (err) {
    if (err instanceof CronSyntaxError) return { ok: false, reason: err.message };
    throw err;
  }
}

function parseFields(body: string): CronSchedule {
  const fields = body.toUpperCase().split(' ');
  if (fields.length !== 6) fail(`a cron expression has 6 fields separated by one space; this one has ${fields.length}`);
  const [minutes, hours, dayOfMonth, month, dayOfWeek, year] = fields as [string, string, string, string, string, string];
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) fail('exactly one of day-of-month and day-of-week must be ?');
  return {
    minutes: parseList(minutes, MINUTES),
    hours: parseList(hours, HOURS),
    days: dayOfMonth === '?' ? parseDayOfWeek(dayOfWeek) : parseDayOfMonth(dayOfMonth),
    months: parseList(month, MONTH),
    years: parseList(year, YEAR),
  };
}

function parseDayOfMonth(field: string): DayRule {
  if (field === 'L') return { type: 'last-day-of-month', offset: 0 };
  if (field === 'LW') return { type: 'last-business-day-of-month' };
  const lastMinus = /^L-(\d{1,2})$/.exec(field);
  if (lastMinus) {
    const offset = Number(lastMinus[1]);
    // L-30 can still fire (on the 1st of 31-day months); L-31 never could.
    if (offset < 1 || offset > 30) fail(`day-of-month L-n takes n from 1 to 30, not ${offset}`);
    return { type: 'last-day-of-month', offset };
  }
  const nearest = /^(\d{1,2})W$/.exec(field);
  if (nearest) return { type: 'nearest-business-day', day: value(nearest[1]!, DAY_OF_MONTH) };
  if (/[LW#]/.test(field)) fail(`day-of-month ${field}: L and W are written L, L-n, LW or nW, alone in the field`);
  return { type: 'days-of-month', days: parseList(field, DAY_OF_MONTH) };
}

function parseDayOfWeek(field: string): DayRule {
  // Alone in day-of-week, L is the last day of the week (AWS: "the last day of the month or week").
  if (field === 'L') return { type: 'days-of-week', days: [7] };
  const last = /^(\d|[A-Z]{3})L$/.exec(field);
  if (last) return { type: 'last-day-of-week-in-month', dayOfWeek: value(last[1]!, DAY_OF_WEEK) };
  const nth = /^(\d|[A-Z]{3})#(\d)$/.exec(field);
  if (nth) {
    const k = Number(nth[2]);
    if (k < 1 || k > 5) fail(`day-of-week n#k takes k from 1 to 5, not ${k}`);
    return { type: 'nth-day-of-week-in-month', dayOfWeek: value(nth[1]!, DAY_OF_WEEK), nth: k };
  }
  if (/[L#]/.test(field)) fail(`day-of-week ${field}: L and # are written L, nL or n#k, alone in the field`);
  // AWS documents no increments for day-of-week.
  if (field.includes('/')) fail('day-of-week takes no increments (/)');
  return { type: 'days-of-week', days: parseList(field, DAY_OF_WEEK) };
}

/** `*`, or a comma-separated list of values, ranges and increments. */
function parseList(field: string, spec: FieldSpec): number[] {
  if (field === '*') return range(spec.min, spec.max, 1, spec);
  const values = new Set<number>();
  for (const item of field.split(',')) {
    if (item === '') fail(`${spec.name} ${field}: an empty list item`);
    for (const v of parseItem(item, spec)) values.add(v);
  }
  return [...values].sort((a, b) => a - b);
}

function parseItem(item: string, spec: FieldSpec): number[] {
  const slash = item.indexOf('/');
  if (slash >= 0) {
    const base = item.slice(0, slash);
    const step = item.slice(slash + 1);
    if (!/^\d{1,3}$/.test(step)) fail(`${spec.name} ${item}: the increment is not a number`);
    const increment = Number(step);
    if (increment < 1 || increment > spec.maxIncrement) fail(`${spec.name} ${item}: the increment must be from 1 to ${spec.maxIncrement}`);
    if (base === '*') return range(spec.min, spec.max, increment, spec);
    const dash = base.indexOf('-');
    if (dash < 0) return range(value(base, spec), spec.max, increment, spec);
    return range(value(base.slice(0, dash), spec), value(base.slice(dash + 1), spec), increment, spec);
  }
  const dash = item.indexOf('-');
  if (dash >= 0) return range(value(item.slice(0, dash), spec), value(item.slice(dash + 1), spec), 1, spec);
  return [value(item, spec)];
}

/** Inclusive; a range whose end comes before its start wraps past the field's largest value. */
function range(from: number, to: number, step: number, spec: FieldSpec): number[] {
  if (to < from && !spec.wraps) fail(`${spec.name} ${from}-${to}: the range ends before it starts`);
  const size = spec.max - spec.min + 1;
  const length = to >= from ? to - from : size - (from - to);
  const out: number[] = [];
  for (let offset = 0; offset <= length; offset += step) out.push(spec.min + ((from - spec.min + offset) % size));
  return out;
}

function value(token: string, spec: FieldSpec): number {
  const named = spec.names?.indexOf(token) ?? -1;
  if (named >= 0) return named + 1;
  const digits = spec === YEAR ? /^\d{4}$/ : /^\d{1,2}$/;
  if (!digits.test(token)) fail(`${spec.name}: ${token || 'nothing'} is not a value`);
  const n = Number(token);
  if (n < spec.min || n > spec.max) fail(`${spec.name}: ${n} is outside ${spec.min}-${spec.max}`);
  return n;
}
