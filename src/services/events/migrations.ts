import type { Migration } from '../../ports/db.js';

/** The events service's tables, for `db.kysely.withTables<EventsTables>()`: buses and rules made through the API. */
// A type, not an interface: Kysely's withTables needs the implicit index signature.
export type EventsTables = {
  event_buses: { name: string };
  event_rules: EventRulesTable;
  event_archives: { name: string; bus: string; pattern: string | null; retention_days: number; created_at: number };
  archived_events: { archive: string; time: number; event: string };
};

export interface EventRulesTable {
  bus: string;
  name: string;
  pattern: string;
  enabled: number;
  description: string | null;
  /** JSON of the targets. */
  targets: string;
}

/** Append; never edit a shipped one. */
export const eventsMigrations: readonly Migration[] = [
  {
    id: 'events/001-create',
    async up(db) {
      await db.schema.createTable('event_buses').addColumn('name', 'text', (c) => c.primaryKey()).execute();
      await db.schema
        .createTable('event_rules')
        .addColumn('bus', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('pattern', 'text', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('targets', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('event_rules_pk', ['bus', 'name'])
        .execute();
    },
  },
  {
    id: 'events/002-archives',
    async up(db) {
      await db.schema
        .createTable('event_archives')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('bus', 'text', (c) => c.notNull())
        .addColumn('pattern', 'text')
        .addColumn('retention_days', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('archived_events')
        .addColumn('archive', 'text', (c) => c.notNull())
        .addColumn('time', 'bigint', (c) => c.notNull())
        .addColumn('event', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('archived_events_archive_time').on('archived_events').columns(['archive', 'time']).execute();
    },
  },
];
