import type { Migration } from '../../ports/db.js';

/** The schedules service's tables, for `db.kysely.withTables<SchedulesTables>()`. */
// A type, not an interface: Kysely's withTables needs the implicit index signature.
export type SchedulesTables = {
  schedule_fires: { schedule: string; tick: number };
  schedules: SchedulesTable;
  schedule_groups: { name: string; created_at: number };
};

/** Schedules made through EventBridge Scheduler's API. */
export interface SchedulesTable {
  grp: string;
  name: string;
  /** JSON of the `ApiSchedule`. */
  data: string;
}

/** Append; never edit a shipped one. */
export const schedulesMigrations: readonly Migration[] = [
  {
    id: 'schedules/001-create',
    async up(db) {
      // One row per fired tick, unique: the platform whose insert goes in is the one that fires.
      await db.schema
        .createTable('schedule_fires')
        .addColumn('schedule', 'text', (c) => c.notNull())
        .addColumn('tick', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('schedule_fires_pk', ['schedule', 'tick'])
        .execute();
    },
  },
  {
    id: 'schedules/002-api',
    async up(db) {
      await db.schema
        .createTable('schedules')
        .addColumn('grp', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('schedules_pk', ['grp', 'name'])
        .execute();
      await db.schema
        .createTable('schedule_groups')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
];
