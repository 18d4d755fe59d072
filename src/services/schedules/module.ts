/**
 * Schedules as the platform plugs them in: the functions' `schedule` events fire on time (from the
 * `Clock`), each tick once, into the function's durable asynchronous path with EventBridge's
 * Scheduled Event (or the event's `input`).
 */
import type { FunctionsService } from '../functions/index.js';
import type { ServiceModule } from '../module.js';
import { schedulesMigrations } from './migrations.js';
import { Scheduler, type ScheduleSpec } from './scheduler.js';

interface Target {
  readonly fn: string;
  readonly input?: string | undefined;
  readonly ruleName: string;
}

export const schedulesModule: ServiceModule<Scheduler> = {
  name: 'schedules',
  sections: [],
  migrations: schedulesMigrations,
  create(ctx) {
    let targets = new Map<string, Target>();
    let lines: string[] = [];
    const scheduler = new Scheduler({
      db: ctx.db,
      clock: ctx.clock,
      onWarning: (message) => ctx.events.emit('warning', message),
      async fire(spec: ScheduleSpec, tick: number) {
        const target = targets.get(spec.id);
        if (!target) return;
        const payload =
          target.input ??
          JSON.stringify({
            version: '0',
            id: globalThis.crypto.randomUUID(),
            'detail-type': 'Scheduled Event',
            source: 'aws.events',
            account: ctx.accountId,
            time: new Date(tick).toISOString().replace(/\.\d{3}Z$/, 'Z'),
            region: ctx.region,
            resources: [`arn:aws:events:${ctx.region}:${ctx.accountId}:rule/${target.ruleName}`],
            detail: {},
          });
        await ctx.use<FunctionsService>('functions').invoke(target.fn, { type: 'Event', payload });
      },
    });
    return {
      service: scheduler,
      async deploy(app) {
        const specs: ScheduleSpec[] = [];
        const next = new Map<string, Target>();
        for (const fn of Object.values(app.manifest.functions)) {
          fn.events.forEach((e, i) => {
            if (e.type !== 'schedule') return;
            const id = `${app.manifest.app}/${fn.name}/schedule/${i + 1}`;
            // rate() counts from the day's start, so that a restart does not shift it.
            specs.push({ id, expression: e.expression, timeZone: e.timeZone, enabled: e.enabled, startMs: 0 });
            next.set(id, { fn: fn.name, input: e.input, ruleName: `${fn.name}-schedule-${i + 1}` });
          });
        }
        targets = next;
        await scheduler.apply(specs);
        lines = specs.map((s) => `${s.expression}${s.timeZone ? ` (${s.timeZone})` : ''} → ${targets.get(s.id)!.fn}${s.enabled ? '' : ' (disabled)'}`);
      },
      summary: () => lines,
      close: () => {
        scheduler.close();
        return Promise.resolve();
      },
    };
  },
};
