import type { Migration } from '../../ports/db.js';

/** The queues service's tables, for `db.kysely.withTables<QueuesTables>()`. Messages live in the Broker. */
// A type, not an interface: Kysely's withTables needs the implicit index signature.
export type QueuesTables = {
  queues: QueuesTable;
  queue_secrets: QueueSecretsTable;
};

export interface QueuesTable {
  name: string;
  /** JSON of the attributes set (SQS's names and string values); defaults are not stored. */
  attributes: string;
  /** JSON of the tags. */
  tags: string;
  /** Seconds since the epoch, as SQS reports them. */
  created_at: number;
  modified_at: number;
  /** `manifest` or `api`: a queue the manifest no longer declares is deleted at deploy only if it came from it. */
  origin: string;
}

/** The key receipt handles are signed with, made once: a handle stays good across restarts. */
export interface QueueSecretsTable {
  id: string;
  secret: string;
}

/** Append; never edit a shipped one. */
export const queuesMigrations: readonly Migration[] = [
  {
    id: 'queues/001-create',
    async up(db) {
      await db.schema
        .createTable('queues')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('attributes', 'text', (c) => c.notNull())
        .addColumn('tags', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('modified_at', 'bigint', (c) => c.notNull())
        .addColumn('origin', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('queue_secrets')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('secret', 'text', (c) => c.notNull())
        .execute();
    },
  },
];
