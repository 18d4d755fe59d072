import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isPlatformError } from '../errors.js';
import { MINUTE_MS } from './calendar.js';
import type { CronSchedule } from './cron-fields.js';
import { checkScheduleExpression, parseScheduleExpression, type ScheduleApi } from './expression.js';
import { nextFire, occurrences, previousFire } from './occurrences.js';

/**
 * Every case of test/conformance/cron/cases.json: the expressions AWS accepted or refused (with its
 * error text), and the aws-croniter library's expansions and fire times (UTC, not checked against
 * AWS). A case we knowingly fail is listed in KNOWN_FAILURES with the reason; the test fails when a
 * listed case passes or an unlisted one fails.
 */

interface ValidityCase {
  kind: 'validity';
  expression: string;
  api: 'events:PutRule' | 'scheduler:CreateSchedule';
  valid: boolean;
  errorMessage?: string;
}

type ExpandedField = (number | string)[];

interface LibraryCase {
  kind: 'parse' | 'valid' | 'invalid' | 'between' | 'next-n' | 'prev-n' | 'final-execution' | 'next-iterative' | 'next-inclusive' | 'prev-iterative' | 'prev-inclusive';
  expression: string;
  id?: string;
  start?: string;
  end?: string;
  n?: number;
  excludeEnds?: boolean;
  expected?: (string | null)[] | string | null;
  expandedFields?: Record<'minutes' | 'hours' | 'daysOfMonth' | 'months' | 'daysOfWeek' | 'years', ExpandedField>;
}

const file = path.resolve(import.meta.dirname, '../../../test/conformance/cron/cases.json');
const data = JSON.parse(readFileSync(file, 'utf8')) as { awsValidatedValidity: ValidityCase[]; libraryOccurrences: LibraryCase[] };

/** Case key → why we do not do what the case expects. */
const KNOWN_FAILURES: Record<string, string> = {
  'library valid cron(15 10 ? * L-2 2019-2022)':
    'L-n in day-of-week has no meaning in AWS’s documentation or in Quartz (which reads day-of-week L as Saturday and ignores the rest); aws-croniter accepts it with one of its own. We refuse it rather than guess.',
};

const keyOf = (section: 'aws' | 'library', c: { kind: string; expression: string; api?: string; start?: string; end?: string }) =>
  [section, c.api ?? c.kind, c.expression, c.start, c.end].filter((p) => p !== undefined).join(' ');

interface Outcome {
  key: string;
  actual: unknown;
  expected: unknown;
}

function runValidity(c: ValidityCase): Outcome {
  const api: ScheduleApi = c.api === 'events:PutRule' ? 'events' : 'scheduler';
  let actual: unknown;
  try {
    parseScheduleExpression(c.expression, api);
    actual = { valid: true };
  } catch (err) {
    if (!isPlatformError(err, 'VALIDATION')) throw err;
    actual = { valid: false, errorMessage: err.message };
  }
  const expected = c.valid ? { valid: true } : { valid: false, errorMessage: c.errorMessage };
  return { key: keyOf('aws', c), actual, expected };
}

const ms = (iso: string) => Date.parse(iso);
const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString().replace('.000Z', 'Z'));
const floorMinute = (t: number) => Math.floor(t / MINUTE_MS) * MINUTE_MS;

/** Our parse in aws-croniter's shape: `['L', n]`, `['W', n]`, `['#', dow, k]` for the special forms. */
function libraryShape(s: CronSchedule) {
  const d = s.days;
  const daysOfMonth = d.type === 'days-of-month' ? d.days : d.type === 'last-day-of-month' ? ['L', d.offset] : d.type === 'nearest-business-day' ? ['W', d.day] : [];
  const daysOfWeek = d.type === 'days-of-week' ? d.days : d.type === 'last-day-of-week-in-month' ? ['L', d.dayOfWeek] : d.type === 'nth-day-of-week-in-month' ? ['#', d.dayOfWeek, d.nth] : [];
  return { minutes: s.minutes, hours: s.hours, daysOfMonth, months: s.months, daysOfWeek, years: s.years };
}

/** What the library's call returns, computed with our API. The library's times are whole UTC minutes. */
function runLibrary(c: LibraryCase): Outcome {
  const key = keyOf('library', c);
  const checked = checkScheduleExpression(c.expression);
  if (c.kind === 'valid' || c.kind === 'invalid') return { key, actual: !('reason' in checked), expected: c.kind === 'valid' };
  if ('reason' in checked || checked.type !== 'cron') return { key, actual: checked, expected: 'a cron expression' };
  const expr = checked;
  if (c.kind === 'parse') return { key, actual: libraryShape(expr.schedule), expected: c.expandedFields };

  const start = ms(c.start!);
  let actual: (string | null)[] | string | null;
  switch (c.kind) {
    case 'between': {
      // Both ends count, at minute precision; excludeEnds drops an occurrence on either.
      const from = floorMinute(start);
      const to = floorMinute(ms(c.end!));
      const all = [...takeWhile(occurrences(expr, from - 1), (t) => t <= to)];
      actual = all.filter((t) => !c.excludeEnds || (t !== from && t !== to)).map(iso);
      break;
    }
    case 'next-n':
      actual = padded([...take(occurrences(expr, start), c.n!)], c.n!);
      break;
    case 'next-iterative':
      actual = [...take(occurrences(expr, start), (c.expected as unknown[]).length)].map(iso);
      break;
    case 'next-inclusive':
      actual = [iso(nextFire(expr, floorMinute(start) - 1))];
      break;
    case 'prev-n':
    case 'prev-iterative': {
      const n = c.n ?? (c.expected as unknown[]).length;
      const out: number[] = [];
      for (let t = previousFire(expr, floorMinute(start)); t !== null && out.length < n; t = previousFire(expr, t)) out.push(t);
      actual = c.kind === 'prev-n' ? padded(out, n) : out.map(iso);
      break;
    }
    case 'prev-inclusive':
      actual = [iso(previousFire(expr, floorMinute(start) + 1))];
      break;
    case 'final-execution':
      // The last fire in [start, end): our StartDate/EndDate bounds.
      actual = iso(previousFire(expr, ms(c.end!), { startDate: start, endDate: ms(c.end!) }));
      break;
  }
  return { key, actual, expected: c.expected };
}

function padded(times: number[], n: number): (string | null)[] {
  return Array.from({ length: n }, (_, i) => (i < times.length ? iso(times[i]!) : null));
}

function* take<T>(it: Iterable<T>, n: number): Generator<T> {
  if (n <= 0) return;
  let i = 0;
  for (const v of it) {
    yield v;
    if (++i >= n) return;
  }
}

function* takeWhile<T>(it: Iterable<T>, ok: (v: T) => boolean): Generator<T> {
  for (const v of it) {
    if (!ok(v)) return;
    yield v;
  }
}

const passes = (o: Outcome) => JSON.stringify(o.actual) === JSON.stringify(o.expected);

const aws = data.awsValidatedValidity.map(runValidity);
const library = data.libraryOccurrences.map(runLibrary);

describe('schedule expressions against test/conformance/cron', () => {
  it('runs every case, and reports pass rates', () => {
    expect(aws.length + library.length).toBe(data.awsValidatedValidity.length + data.libraryOccurrences.length);
    const rate = (os: Outcome[]) => `${os.filter(passes).length}/${os.length}`;
    console.info(`cron conformance: AWS-validated validity ${rate(aws)}, library cases ${rate(library)}; known failures: ${Object.keys(KNOWN_FAILURES).length}`);
  });

  it.each(aws.map((o) => [o.key, o] as const))('%s', (_key, o) => {
    expect(KNOWN_FAILURES[o.key], 'AWS-recorded cases are never allowed to fail').toBeUndefined();
    expect(o.actual).toEqual(o.expected);
  });

  it.each(library.map((o) => [o.key, o] as const))('%s', (key, o) => {
    if (KNOWN_FAILURES[key] !== undefined) {
      expect(passes(o), `listed in KNOWN_FAILURES but passes now: remove it (${KNOWN_FAILURES[key]})`).toBe(false);
    } else {
      expect(o.actual).toEqual(o.expected);
    }
  });

  it('lists no known failure that matches no case', () => {
    const keys = new Set([...aws, ...library].map((o) => o.key));
    expect(Object.keys(KNOWN_FAILURES).filter((k) => !keys.has(k))).toEqual([]);
  });
});
