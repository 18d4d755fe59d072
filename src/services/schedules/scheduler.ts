/**
 * Fires schedules on time, from the `Clock`. Each tick fires once, also with several platforms on one
 * database: a fire is claimed by inserting (schedule, tick) under a unique key, and only the platform
 * whose insert went in fires it. After downtime, a schedule whose ticks were missed fires once (the
 * latest missed tick), not once per missed tick, then goes on from now.
 */
import type { Kysely } from 'kysely';
import { nextFire, parseScheduleExpression, type ScheduleExpression } from '../../core/schedules/index.js';
import type { Clock } from '../../ports/clock.js';
import type { Db, DbSchema } from '../../ports/db.js';
import type { SchedulesTables } from './migrations.js';

export interface ScheduleSpec {
  /** Stable across restarts: the claim and the catch-up key on it. */
  readonly id: string;
  readonly expression: string;
  readonly timeZone?: string | undefined;
  /** Where `rate()` counts from (the schedule's creation). */
  readonly startMs?: number | undefined;
  /** Scheduler's StartDate and EndDate: no fire before the one, none at or after the other. */
  readonly startDate?: number | undefined;
  readonly endDate?: number | undefined;
  readonly enabled: boolean;
}

/** Carries a fire out (durably: the fire is claimed already, and is not retried here). */
export type Fire = (spec: ScheduleSpec, tickMs: number) => Promise<void>;

export interface SchedulerDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly fire: Fire;
  /** A schedule fired its last time (an `at()`, or one past its EndDate): Scheduler's ActionAfterCompletion. */
  readonly completed?: ((spec: ScheduleSpec) => Promise<void>) | undefined;
  readonly onWarning: (message: string) => void;
}

/** rate() counts from the spec's start (its creation); cron() reads its zone. */
const fireOptions = (spec: ScheduleSpec) => ({
  ...(spec.timeZone !== undefined ? { timeZone: spec.timeZone } : {}),
  ...(spec.startDate !== undefined ? { startDate: spec.startDate } : {}),
  ...(spec.endDate !== undefined ? { endDate: spec.endDate } : {}),
  createdAt: spec.startMs ?? 0,
});

export class Scheduler {
  private readonly db: Kysely<DbSchema & SchedulesTables>;
  private readonly deps: SchedulerDeps;
  private readonly timers = new Map<string, () => void>();
  private closed = false;

  constructor(deps: SchedulerDeps) {
    this.deps = deps;
    this.db = deps.db.kysely.withTables<SchedulesTables>();
  }

  /** Runs exactly these schedules; each one missed while nothing ran fires once now. */
  async apply(specs: readonly ScheduleSpec[]): Promise<void> {
    for (const cancel of this.timers.values()) cancel();
    this.timers.clear();
    for (const spec of specs) {
      if (!spec.enabled) continue;
      // Scheduler's grammar, which takes at() too: the manifest's were checked as EventBridge rules when loaded.
      let schedule: ScheduleExpression;
      try {
        schedule = parseScheduleExpression(spec.expression, 'scheduler');
      } catch (err) {
        this.deps.onWarning(`schedule ${spec.id}: ${String(err)}`);
        continue;
      }
      const last = await this.db.selectFrom('schedule_fires').select((eb) => eb.fn.max('tick').as('tick')).where('schedule', '=', spec.id).executeTakeFirst();
      const lastTick = last?.tick === null || last?.tick === undefined ? undefined : Number(last.tick);
      const now = this.deps.clock.now();
      if (lastTick !== undefined) {
        // Ticks between the last fire and now were missed: the latest of them fires, once.
        let missed: number | undefined;
        for (let t = nextFire(schedule, lastTick, fireOptions(spec)); t !== null && t <= now; t = nextFire(schedule, t, fireOptions(spec))) missed = t;
        if (missed !== undefined) await this.claimAndFire(spec, missed);
      }
      this.arm(spec, schedule, now);
    }
  }

  close(): void {
    this.closed = true;
    for (const cancel of this.timers.values()) cancel();
    this.timers.clear();
  }

  private arm(spec: ScheduleSpec, schedule: ScheduleExpression, after: number): void {
    if (this.closed) return;
    const next = nextFire(schedule, after, fireOptions(spec));
    if (next === null) {
      if (this.deps.completed) void this.deps.completed(spec).catch((err: unknown) => this.deps.onWarning(`schedule ${spec.id}: ${String(err)}`));
      return;
    }
    this.timers.set(
      spec.id,
      this.deps.clock.setTimer(Math.max(0, next - this.deps.clock.now()), () => {
        void this.claimAndFire(spec, next).finally(() => this.arm(spec, schedule, next));
      }),
    );
  }

  /** Fires the tick if this platform is the one that claims it. */
  private async claimAndFire(spec: ScheduleSpec, tick: number): Promise<void> {
    try {
      const claimed = await this.db.insertInto('schedule_fires').values({ schedule: spec.id, tick }).onConflict((oc) => oc.columns(['schedule', 'tick']).doNothing()).executeTakeFirst();
      if (Number(claimed.numInsertedOrUpdatedRows ?? 0) !== 1) return;
      await this.deps.fire(spec, tick);
      // Only the latest fires are needed (for the catch-up).
      await this.db.deleteFrom('schedule_fires').where('schedule', '=', spec.id).where('tick', '<', tick).execute();
    } catch (err) {
      this.deps.onWarning(`schedule ${spec.id} at ${new Date(tick).toISOString()}: ${String(err)}`);
    }
  }
}
