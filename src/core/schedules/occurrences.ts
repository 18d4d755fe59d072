import { DAY_MS, floorToMinute, MINUTE_MS } from './calendar.js';
import { nextMatch, previousMatch } from './cron.js';
import { parseScheduleExpression, type ScheduleExpression } from './expression.js';
import { checkTimeZone, instantsAt, offsetAt, resolveWall, UTC, wallAt } from './time-zone.js';

/**
 * When a schedule fires. All times are epoch milliseconds; ARCHITECTURE.md beside this file gives
 * the rules (time zones, daylight saving time, rate starts, StartDate and EndDate) and why.
 */
export interface FireOptions {
  /** `ScheduleExpressionTimezone`: the IANA zone cron() and at() are read in. Default UTC. rate() ignores it. */
  readonly timeZone?: string;
  /** `StartDate`: no fire before it (inclusive); a rate() schedule counts its intervals from it. Ignored by at(). */
  readonly startDate?: number;
  /** `EndDate`: no fire at or after it. Ignored by at(). */
  readonly endDate?: number;
  /** When the rule or schedule was made: a rate() schedule without a `startDate` counts its intervals from it. */
  readonly createdAt?: number;
}

type Expression = ScheduleExpression | string;

// cron() knows the years 1970-2199; a day's margin either side covers every zone's offset.
const CRON_FIRST = Date.UTC(1969, 11, 31);
const CRON_LAST = Date.UTC(2200, 0, 2);

function normalize(expression: Expression, instant: [string, number], options: FireOptions | string | undefined) {
  const parsed = typeof expression === 'string' ? parseScheduleExpression(expression) : expression;
  const opts: FireOptions = typeof options === 'string' ? { timeZone: options } : (options ?? {});
  for (const [name, value] of [instant, ['startDate', opts.startDate], ['endDate', opts.endDate], ['createdAt', opts.createdAt]] as const) {
    if (value !== undefined && !Number.isFinite(value)) throw new TypeError(`${name} must be epoch milliseconds, not ${value}`);
  }
  if (parsed.type === 'rate') rateStart(parsed, opts);
  return { parsed, opts, timeZone: checkTimeZone(opts.timeZone ?? UTC) };
}

/**
 * The first time the schedule fires strictly after `after`, or null if it never does again.
 *
 * Guarantees: cron() fires on whole minutes of the zone's wall clock, at most once per wall time: a
 * wall time that a spring-forward skips does not fire, one that a fall-back repeats fires at its
 * first occurrence only (EventBridge Scheduler's documented behaviour). rate() fires at
 * `start + k × interval` (k ≥ 0, start = `startDate ?? createdAt`), in absolute time. at() fires
 * once, at its wall time in the zone. `startDate`/`endDate` bound rate() and cron() as [start, end).
 * Throws `PlatformError('VALIDATION')` for an invalid expression text or zone, and a `TypeError`
 * for a time that is not a finite number or a rate() given neither `startDate` nor `createdAt`.
 */
export function nextFire(expression: Expression, after: number, options?: FireOptions | string): number | null {
  const { parsed, opts, timeZone } = normalize(expression, ['after', after], options);
  switch (parsed.type) {
    case 'at': {
      const at = resolveWall(parsed.wall, timeZone);
      return at > after ? at : null;
    }
    case 'rate': {
      const start = rateStart(parsed, opts);
      const from = Math.max(after, (opts.startDate ?? -Infinity) - 1);
      const k = from < start ? 0 : Math.floor((from - start) / parsed.intervalMs) + 1;
      return withinEnd(start + k * parsed.intervalMs, opts);
    }
    case 'cron': {
      const from = Math.max(after, (opts.startDate ?? -Infinity) - 1);
      if (from >= CRON_LAST) return null;
      let wall = floorToMinute(wallAt(Math.max(from, CRON_FIRST), timeZone));
      for (;;) {
        const match = nextMatch(parsed.schedule, wall);
        if (match === null) return null;
        // Only the first instant of a wall time counts; in an overlap it may lie before `from`.
        const first = instantsAt(match, timeZone)[0];
        if (first !== undefined && first > from) return withinEnd(first, opts);
        wall = match + MINUTE_MS;
      }
    }
  }
}

/**
 * The last time the schedule fired strictly before `before`, or null if it never did: the mirror
 * of `nextFire`, under the same rules and bounds.
 */
export function previousFire(expression: Expression, before: number, options?: FireOptions | string): number | null {
  const { parsed, opts, timeZone } = normalize(expression, ['before', before], options);
  switch (parsed.type) {
    case 'at': {
      const at = resolveWall(parsed.wall, timeZone);
      return at < before ? at : null;
    }
    case 'rate': {
      const start = rateStart(parsed, opts);
      const until = Math.min(before, opts.endDate ?? Infinity);
      if (until <= start) return null;
      const fire = start + Math.floor((until - 1 - start) / parsed.intervalMs) * parsed.intervalMs;
      return withinStart(fire, opts);
    }
    case 'cron': {
      const until = Math.min(before, opts.endDate ?? Infinity);
      if (until <= CRON_FIRST) return null;
      // Just after a fall-back, wall times later than `until`'s own first fired before it: start
      // from the wall time of the larger of the offsets around, and let the check below skip.
      const from = Math.min(until, CRON_LAST);
      const offset = Math.max(offsetAt(from, timeZone), offsetAt(from - DAY_MS, timeZone));
      let wall = floorToMinute(from + offset);
      for (;;) {
        const match = previousMatch(parsed.schedule, wall);
        if (match === null) return null;
        const first = instantsAt(match, timeZone)[0];
        if (first !== undefined && first < until) return withinStart(first, opts);
        wall = match - MINUTE_MS;
      }
    }
  }
}

/**
 * The times the schedule fires strictly after `after`, in order, until it stops (unbounded for a
 * rate() or cron() without `endDate`: take what you need). Same rules as `nextFire`; what it throws,
 * it throws here, not on the first step.
 */
export function occurrences(expression: Expression, after: number, options?: FireOptions | string): IterableIterator<number> {
  const { parsed, opts } = normalize(expression, ['after', after], options);
  return iterate(parsed, after, opts);
}

function* iterate(expression: ScheduleExpression, after: number, opts: FireOptions): Generator<number, void, undefined> {
  for (let t = nextFire(expression, after, opts); t !== null; t = nextFire(expression, t, opts)) yield t;
}

function rateStart(expression: ScheduleExpression, opts: FireOptions): number {
  const start = opts.startDate ?? opts.createdAt;
  if (start === undefined) throw new TypeError(`${expression.text} counts from a start: give startDate or createdAt`);
  return start;
}

function withinEnd(t: number, opts: FireOptions): number | null {
  return opts.endDate === undefined || t < opts.endDate ? t : null;
}

function withinStart(t: number, opts: FireOptions): number | null {
  return opts.startDate === undefined || t >= opts.startDate ? t : null;
}
