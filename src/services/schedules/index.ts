/** Schedules: the functions' schedule events and EventBridge Scheduler's schedules. */
import type { ApiSchedules } from './api-schedules.js';

export { DEFAULT_GROUP, ApiSchedules, type ApiSchedule } from './api-schedules.js';
export { Scheduler, type ScheduleSpec } from './scheduler.js';

/** What the Scheduler API works on: the schedules made through it, and a way to run them anew after a change. */
export interface SchedulesFace {
  readonly api: ApiSchedules;
  refresh(): Promise<void>;
}
