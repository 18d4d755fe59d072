import type { Migration } from '../../ports/db.js';

/** The functions service's tables, for `db.kysely.withTables<FunctionsTables>()`. */
// A type, not an interface: Kysely's withTables needs the implicit index signature.
export type FunctionsTables = {
  event_invoke_configs: EventInvokeConfigsTable;
  async_invocations: AsyncInvocationsTable;
  event_source_mappings: EventSourceMappingsTable;
};

/** Event source mappings made through the Lambda API (the manifest's are rebuilt on each deploy). */
export interface EventSourceMappingsTable {
  uuid: string;
  fn: string;
  queue: string;
  batch_size: number;
  batching_window: number;
  report_failures: number;
  max_concurrency: number | null;
  enabled: number;
  last_modified: number;
}

/** The latest asynchronous invocations of each function and where they stand (`nuvola invocations`). */
export interface AsyncInvocationsTable {
  request_id: string;
  fn: string;
  status: string;
  attempts: number;
  error_type: string | null;
  error_message: string | null;
  destination: string | null;
  queued_at: number;
  updated_at: number;
}

/** Asynchronous settings set through the Lambda API (PutFunctionEventInvokeConfig), over the manifest's. */
export interface EventInvokeConfigsTable {
  fn: string;
  /** JSON of the `AsyncConfig`. */
  config: string;
  last_modified: number;
}

/** Append; never edit a shipped one. */
export const functionsMigrations: readonly Migration[] = [
  {
    id: 'functions/001-event-invoke-configs',
    async up(db) {
      await db.schema
        .createTable('event_invoke_configs')
        .addColumn('fn', 'text', (c) => c.primaryKey())
        .addColumn('config', 'text', (c) => c.notNull())
        .addColumn('last_modified', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
  {
    id: 'functions/002-async-invocations',
    async up(db) {
      await db.schema
        .createTable('async_invocations')
        .addColumn('request_id', 'text', (c) => c.primaryKey())
        .addColumn('fn', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('error_type', 'text')
        .addColumn('error_message', 'text')
        .addColumn('destination', 'text')
        .addColumn('queued_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      // A function's latest first, and its pruning threshold, without a sort.
      await db.schema.createIndex('async_invocations_fn_updated').on('async_invocations').columns(['fn', 'updated_at']).execute();
    },
  },
  {
    id: 'functions/003-event-source-mappings',
    async up(db) {
      await db.schema
        .createTable('event_source_mappings')
        .addColumn('uuid', 'text', (c) => c.primaryKey())
        .addColumn('fn', 'text', (c) => c.notNull())
        .addColumn('queue', 'text', (c) => c.notNull())
        .addColumn('batch_size', 'integer', (c) => c.notNull())
        .addColumn('batching_window', 'integer', (c) => c.notNull())
        .addColumn('report_failures', 'integer', (c) => c.notNull())
        .addColumn('max_concurrency', 'integer')
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('last_modified', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
];
