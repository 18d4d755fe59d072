import type { Generated } from 'kysely';
import type { Migration } from '../../ports/db.js';
import { autoId } from '../../ports/db.js';

/** The logs service's tables, for `db.kysely.withTables<LogsTables>()`. */
// A type, not an interface: Kysely's withTables needs the implicit index signature.
export type LogsTables = {
  logs: LogsTable;
};

export interface LogsTable {
  /** Insertion order: queries sort by it, retention deletes below a threshold of it. */
  id: Generated<number>;
  fn: string;
  request_id: string | null;
  /** When the line was written, ms since the epoch (the record's own time, not the insert's). */
  time: number;
  stream: string;
  message: string;
}

/** The logs service's migrations, in order. Append; never edit a shipped one. */
export const logsMigrations: readonly Migration[] = [
  {
    id: 'logs/001-create',
    async up(db, dialect) {
      await db.schema
        .createTable('logs')
        .$call(autoId(dialect))
        .addColumn('fn', 'text', (c) => c.notNull())
        .addColumn('request_id', 'text')
        .addColumn('time', 'bigint', (c) => c.notNull())
        .addColumn('stream', 'text', (c) => c.notNull())
        .addColumn('message', 'text', (c) => c.notNull())
        .execute();
      // (fn, id): a function's latest lines, and its retention threshold, without a sort.
      await db.schema.createIndex('logs_fn_id').on('logs').columns(['fn', 'id']).execute();
      // No index on request_id: random UUIDs make each insert into it cost ~4× the row itself (14 of
      // 18 µs measured), on the hottest path there is. Lookups by request id scan a function's
      // lines, which retention bounds.
    },
  },
];
