/**
 * Schedules made through EventBridge Scheduler's API, in groups (`default` always exists), kept in
 * SQL, checked as Scheduler checks them.
 */
import type { Kysely } from 'kysely';
import { PlatformError } from '../../core/errors.js';
import { checkTimeZone, parseScheduleExpression } from '../../core/schedules/index.js';
import type { Clock } from '../../ports/clock.js';
import type { DbSchema } from '../../ports/db.js';
import type { SchedulesTables } from './migrations.js';

export interface ApiSchedule {
  readonly group: string;
  readonly name: string;
  readonly expression: string;
  readonly timeZone?: string | undefined;
  readonly state: 'ENABLED' | 'DISABLED';
  readonly description?: string | undefined;
  readonly startDate?: number | undefined;
  readonly endDate?: number | undefined;
  readonly target: { readonly arn: string; readonly input?: string | undefined; readonly roleArn?: string | undefined };
  readonly flexibleWindow: { readonly mode: 'OFF' | 'FLEXIBLE'; readonly maximumWindowInMinutes?: number | undefined };
  readonly actionAfterCompletion: 'NONE' | 'DELETE';
  readonly createdAt: number;
  readonly modifiedAt: number;
}

export const DEFAULT_GROUP = 'default';
const NAME = /^[0-9a-zA-Z-_.]{1,64}$/;

export class ApiSchedules {
  constructor(
    private readonly db: Kysely<DbSchema & SchedulesTables>,
    private readonly clock: Clock,
  ) {}

  async groups(): Promise<{ name: string; createdAt: number }[]> {
    const rows = await this.db.selectFrom('schedule_groups').selectAll().orderBy('name').execute();
    return [{ name: DEFAULT_GROUP, createdAt: 0 }, ...rows.map((r) => ({ name: r.name, createdAt: Number(r.created_at) }))];
  }

  async createGroup(name: string): Promise<void> {
    if (!NAME.test(name)) throw new PlatformError('VALIDATION', `Invalid schedule group name ${name.slice(0, 64)}.`);
    if ((await this.groups()).some((g) => g.name === name)) throw new PlatformError('ALREADY_EXISTS', `Schedule group ${name} already exists.`);
    await this.db.insertInto('schedule_groups').values({ name, created_at: this.clock.now() }).execute();
  }

  async deleteGroup(name: string): Promise<void> {
    if (name === DEFAULT_GROUP) throw new PlatformError('VALIDATION', 'Cannot delete the default schedule group.');
    await this.requireGroup(name);
    await this.db.deleteFrom('schedules').where('grp', '=', name).execute();
    await this.db.deleteFrom('schedule_groups').where('name', '=', name).execute();
  }

  async requireGroup(name: string): Promise<void> {
    if (!(await this.groups()).some((g) => g.name === name)) throw new PlatformError('RESOURCE_NOT_FOUND', `Schedule group ${name} does not exist.`);
  }

  async list(group?: string, prefix = ''): Promise<ApiSchedule[]> {
    let q = this.db.selectFrom('schedules').select('data').orderBy('name');
    if (group !== undefined) q = q.where('grp', '=', group);
    return (await q.execute()).map((r) => JSON.parse(r.data) as ApiSchedule).filter((s) => s.name.startsWith(prefix));
  }

  async get(group: string, name: string): Promise<ApiSchedule> {
    const row = await this.db.selectFrom('schedules').select('data').where('grp', '=', group).where('name', '=', name).executeTakeFirst();
    if (!row) throw new PlatformError('RESOURCE_NOT_FOUND', `Schedule ${name} does not exist.`);
    return JSON.parse(row.data) as ApiSchedule;
  }

  /** Creates (or, `replace`, updates) a schedule, checked as Scheduler does. */
  async put(s: Omit<ApiSchedule, 'createdAt' | 'modifiedAt'>, replace: boolean): Promise<ApiSchedule> {
    if (!NAME.test(s.name)) throw new PlatformError('VALIDATION', `Invalid schedule name ${s.name.slice(0, 64)}.`);
    await this.requireGroup(s.group);
    parseScheduleExpression(s.expression, 'scheduler');
    if (s.timeZone !== undefined) checkTimeZone(s.timeZone);
    if (!/^arn:aws:(lambda|sqs):/.test(s.target.arn)) throw new PlatformError('VALIDATION', `Target ${s.target.arn.slice(0, 200)} is not supported: targets are functions and queues of the app.`);
    if (s.startDate !== undefined && s.endDate !== undefined && s.startDate >= s.endDate) throw new PlatformError('VALIDATION', 'The StartDate must come before the EndDate.');
    const existing = await this.db.selectFrom('schedules').select('data').where('grp', '=', s.group).where('name', '=', s.name).executeTakeFirst();
    if (existing && !replace) throw new PlatformError('ALREADY_EXISTS', `Schedule ${s.name} already exists.`);
    if (!existing && replace) throw new PlatformError('RESOURCE_NOT_FOUND', `Schedule ${s.name} does not exist.`);
    const now = this.clock.now();
    const full: ApiSchedule = { ...s, createdAt: existing ? (JSON.parse(existing.data) as ApiSchedule).createdAt : now, modifiedAt: now };
    if (existing) await this.db.updateTable('schedules').set({ data: JSON.stringify(full) }).where('grp', '=', s.group).where('name', '=', s.name).execute();
    else await this.db.insertInto('schedules').values({ grp: s.group, name: s.name, data: JSON.stringify(full) }).execute();
    return full;
  }

  async delete(group: string, name: string): Promise<void> {
    await this.get(group, name);
    await this.db.deleteFrom('schedules').where('grp', '=', group).where('name', '=', name).execute();
  }
}
