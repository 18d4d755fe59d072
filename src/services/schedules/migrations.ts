import type { Migration } from '../../ports/db.js';

/** The schedules service's tables, for `db.kysely.withTables<SchedulesTables>()`. */
// A type, not an interface: Kysely's withTables needs the implicit index signature.
export type SchedulesTables = {
  schedule_fires: { schedule: string; tick: number };
};

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
];
