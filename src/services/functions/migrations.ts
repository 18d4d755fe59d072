import type { Migration } from '../../ports/db.js';

/** The functions service's tables, for `db.kysely.withTables<FunctionsTables>()`. */
// A type, not an interface: Kysely's withTables needs the implicit index signature.
export type FunctionsTables = {
  event_invoke_configs: EventInvokeConfigsTable;
};

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
];
