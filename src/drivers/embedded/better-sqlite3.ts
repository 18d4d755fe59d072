import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';

/**
 * better-sqlite3 12 wraps its objects in `node::ObjectWrap`, whose destructor aborts Node 24.19+
 * (`Assertion failed: (env) != nullptr`, nodejs/node#65446) when V8 collects a statement at the wrong
 * moment; 13 is rebuilt on Node-API and is safe, but needs Node 22. Both are installed (13 under the
 * alias `better-sqlite3-v13`) and the one that fits the running Node is loaded. Same API.
 */
export const Database = createRequire(import.meta.url)(
  Number(process.versions.node.split('.')[0]) >= 22 ? 'better-sqlite3-v13' : 'better-sqlite3',
) as typeof BetterSqlite3;

export type SqliteDatabase = BetterSqlite3.Database;
