import { PlatformError } from '../errors.js';
import { daysInMonth, wallTime, DAY_MS, HOUR_MS, MINUTE_MS } from './calendar.js';
import { parseCronFields, type CronSchedule } from './cron-fields.js';

/**
 * Schedule expressions as AWS takes them: `rate(value unit)` and `cron(fields)` in EventBridge rules
 * (`PutRule`) and EventBridge Scheduler (`CreateSchedule`), and `at(yyyy-mm-ddThh:mm:ss)`, Scheduler's
 * one-time schedules. Parsing is strict where AWS was seen to be strict (no spaces around or inside
 * the parentheses, lowercase units, the singular only with 1).
 */

/** Which API a schedule expression was given to: it decides the forms accepted and the error text. */
export type ScheduleApi = 'events' | 'scheduler';

export type RateUnit = 'minute' | 'hour' | 'day';

export type ScheduleExpression =
  /** Fixed intervals of `intervalMs` from a start: days are 24 hours, whatever the clocks do. */
  | { readonly type: 'rate'; readonly text: string; readonly value: number; readonly unit: RateUnit; readonly intervalMs: number }
  | { readonly type: 'cron'; readonly text: string; readonly schedule: CronSchedule }
  /** One time, on the wall clock of the schedule's time zone (`wall` as in calendar.ts). */
  | { readonly type: 'at'; readonly text: string; readonly wall: number };

/** Error texts of the reference, word for word (recorded against AWS; see test/conformance/cron). */
export const SCHEDULE_EXPRESSION_MESSAGES = {
  events: (_expression: string) => 'Parameter ScheduleExpression is not valid.',
  scheduler: (expression: string) => `Invalid Schedule Expression ${expression}.`,
} as const satisfies Record<ScheduleApi, (expression: string) => string>;

/** `ScheduleExpression`'s length limit in both APIs' models. */
export const SCHEDULE_EXPRESSION_MAX_LENGTH = 256;

const UNIT_MS: Record<RateUnit, number> = { minute: MINUTE_MS, hour: HOUR_MS, day: DAY_MS };

/**
 * Parses and validates a schedule expression as `api` would.
 *
 * Guarantees: what it returns is a well-formed expression whose fields are in range; whatever it
 * refuses, it refuses with `PlatformError('VALIDATION')` carrying the reference's message for `api`
 * (AWS names no cause) and our own diagnosis in `details.reason`. `at()` is Scheduler's only;
 * EventBridge rules refuse it. An expression that can never fire again (`cron(0 0 30 2 ? *)`, years
 * all past) is valid, as AWS accepts it: `nextFire` answers `null`.
 */
export function parseScheduleExpression(text: string, api: ScheduleApi = 'scheduler'): ScheduleExpression {
  const result = checkScheduleExpression(text, api);
  if ('reason' in result) {
    throw new PlatformError('VALIDATION', SCHEDULE_EXPRESSION_MESSAGES[api](text), { reason: result.reason, expression: text });
  }
  return result;
}

/** `parseScheduleExpression` without the throw: the expression, or why it is refused. */
export function checkScheduleExpression(text: string, api: ScheduleApi = 'scheduler'): ScheduleExpression | { readonly reason: string } {
  if (text.length > SCHEDULE_EXPRESSION_MAX_LENGTH) return { reason: `longer than ${SCHEDULE_EXPRESSION_MAX_LENGTH} characters` };
  const call = /^(rate|cron|at)\((.*)\)$/s.exec(text);
  if (!call) return { reason: 'not rate(…), cron(…) or at(…)' };
  const [, kind, body] = call as unknown as [string, 'rate' | 'cron' | 'at', string];
  switch (kind) {
    case 'rate':
      return parseRate(text, body);
    case 'cron': {
      const cron = parseCronFields(body);
      return cron.ok ? { type: 'cron', text, schedule: cron.schedule } : { reason: cron.reason };
    }
    case 'at':
      return api === 'scheduler' ? parseAt(text, body) : { reason: 'EventBridge rules take rate() and cron() only' };
  }
}

function parseRate(text: string, body: string): ScheduleExpression | { reason: string } {
  const m = /^(\d+) (minute|hour|day)(s?)$/.exec(body);
  if (!m) return { reason: 'rate takes a positive whole number and one of minute(s), hour(s), day(s)' };
  const value = Number(m[1]);
  const unit = m[2] as RateUnit;
  // Java services read the value as an int, we assume; past that there is nothing useful anyway.
  if (value < 1 || value > 2 ** 31 - 1) return { reason: `rate value ${m[1]} is not from 1 to ${2 ** 31 - 1}` };
  if ((value === 1) === (m[3] === 's')) return { reason: value === 1 ? `rate(1 …) takes the singular ${unit}` : `a rate of ${value} takes the plural ${unit}s` };
  return { type: 'rate', text, value, unit, intervalMs: value * UNIT_MS[unit] };
}

function parseAt(text: string, body: string): ScheduleExpression | { reason: string } {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(body);
  if (!m) return { reason: 'at takes yyyy-mm-ddThh:mm:ss, with no zone or offset (the zone is ScheduleExpressionTimezone)' };
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) {
    return { reason: `at(${body}) is no date and time of the calendar` };
  }
  return { type: 'at', text, wall: wallTime(year, month, day, hour, minute, second) };
}
