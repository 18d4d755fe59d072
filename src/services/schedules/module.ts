/**
 * Schedules as the platform plugs them in: the functions' `schedule` events and the schedules made
 * through EventBridge Scheduler's API (signing name `scheduler`) fire on time (from the `Clock`), each
 * tick once, into a function's durable asynchronous path (EventBridge's Scheduled Event, or the
 * input given) or a queue.
 */
import { handleSchedulerRequest } from '../../aws/scheduler.js';
import type { FunctionsService } from '../functions/index.js';
import type { ServiceModule } from '../module.js';
import { ApiSchedules, type ApiSchedule } from './api-schedules.js';
import type { SchedulesFace } from './index.js';
import { schedulesMigrations, type SchedulesTables } from './migrations.js';
import { Scheduler, type ScheduleSpec } from './scheduler.js';

interface Target {
  /** A function's or a queue's ARN. */
  readonly arn: string;
  readonly input?: string | undefined;
  readonly ruleName?: string | undefined;
  /** Scheduler's ActionAfterCompletion DELETE: the group and name to delete once it fired its last. */
  readonly deleteWhenDone?: readonly [string, string] | undefined;
}


export const schedulesModule: ServiceModule<SchedulesFace> = {
  name: 'schedules',
  sections: [],
  migrations: schedulesMigrations,
  create(ctx) {
    const api = new ApiSchedules(ctx.db.kysely.withTables<SchedulesTables>(), ctx.clock);
    let targets = new Map<string, Target>();
    let manifestSpecs: ScheduleSpec[] = [];
    let manifestTargets = new Map<string, Target>();
    let lines: string[] = [];
    const arn = (service: string, resource: string) => `arn:aws:${service}:${ctx.region}:${ctx.accountId}:${resource}`;
    const scheduler = new Scheduler({
      db: ctx.db,
      clock: ctx.clock,
      onWarning: (message) => ctx.events.emit('warning', message),
      async fire(spec, tick) {
        const target = targets.get(spec.id);
        if (!target) return;
        const payload =
          target.input ??
          (target.ruleName
            ? JSON.stringify({
                version: '0',
                id: globalThis.crypto.randomUUID(),
                'detail-type': 'Scheduled Event',
                source: 'aws.events',
                account: ctx.accountId,
                time: new Date(tick).toISOString().replace(/\.\d{3}Z$/, 'Z'),
                region: ctx.region,
                resources: [arn('events', `rule/${target.ruleName}`)],
                detail: {},
              })
            : '{}');
        await ctx.use<FunctionsService>('functions').deliver(target.arn, payload, 'scheduler.amazonaws.com');
      },
      async completed(spec) {
        const done = targets.get(spec.id)?.deleteWhenDone;
        if (!done) return;
        await api.delete(done[0], done[1]).catch(() => undefined);
        await face.refresh();
      },
    });

    const apiSpec = (s: ApiSchedule): [ScheduleSpec, Target] => {
      const id = `scheduler/${s.group}/${s.name}/${s.createdAt}`;
      return [
        { id, expression: s.expression, timeZone: s.timeZone, enabled: s.state === 'ENABLED', startMs: s.createdAt, startDate: s.startDate, endDate: s.endDate },
        { arn: s.target.arn, input: s.target.input, deleteWhenDone: s.actionAfterCompletion === 'DELETE' ? [s.group, s.name] : undefined },
      ];
    };

    const face: SchedulesFace = {
      api,
      async refresh() {
        const fromApi = (await api.list()).map(apiSpec);
        targets = new Map([...manifestTargets, ...fromApi.map(([spec, t]) => [spec.id, t] as const)]);
        await scheduler.apply([...manifestSpecs, ...fromApi.map(([spec]) => spec)]);
      },
    };

    return {
      service: face,
      async deploy(app) {
        const specs: ScheduleSpec[] = [];
        const next = new Map<string, Target>();
        for (const fn of Object.values(app.manifest.functions)) {
          fn.events.forEach((e, i) => {
            if (e.type !== 'schedule') return;
            const id = `${app.manifest.app}/${fn.name}/schedule/${i + 1}`;
            // rate() counts from the epoch, so that a restart does not shift it.
            specs.push({ id, expression: e.expression, timeZone: e.timeZone, enabled: e.enabled, startMs: 0 });
            next.set(id, { arn: arn('lambda', `function:${fn.name}`), input: e.input, ruleName: `${fn.name}-schedule-${i + 1}` });
          });
        }
        manifestSpecs = specs;
        manifestTargets = next;
        await face.refresh();
        lines = specs.map((s) => `${s.expression}${s.timeZone ? ` (${s.timeZone})` : ''} → ${next.get(s.id)!.arn.split(':').pop()}${s.enabled ? '' : ' (disabled)'}`);
      },
      aws: { scheduler: (req) => handleSchedulerRequest(face, req, ctx.region, ctx.accountId) },
      summary: () => lines,
      close: () => {
        scheduler.close();
        return Promise.resolve();
      },
    };
  },
};
