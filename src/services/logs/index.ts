export { LOGS_LIMITS, LogsService, TRUNCATED_SUFFIX } from './service.js';
export type { LogQuery, LogsOptions, LogsServiceDeps, LogsStats } from './service.js';
export { logsMigrations } from './migrations.js';
export type { LogsTable, LogsTables } from './migrations.js';
