/**
 * The schedule-expression engine: EventBridge and EventBridge Scheduler's `rate()`, `cron()` and
 * `at()` parsed and validated as AWS does, and their fire times in IANA time zones. Pure: no clock,
 * no I/O; callers pass every instant in. ARCHITECTURE.md beside this file states the rules.
 */
export {
  checkScheduleExpression,
  parseScheduleExpression,
  SCHEDULE_EXPRESSION_MAX_LENGTH,
  SCHEDULE_EXPRESSION_MESSAGES,
  type RateUnit,
  type ScheduleApi,
  type ScheduleExpression,
} from './expression.js';
export { CRON_YEARS, type CronSchedule, type DayRule } from './cron-fields.js';
export { checkTimeZone, isTimeZone, TIME_ZONE_MESSAGE } from './time-zone.js';
export { nextFire, occurrences, previousFire, type FireOptions } from './occurrences.js';
