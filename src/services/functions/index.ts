export { FunctionsService, INVOCATION_TYPES } from './service.js';
export { ASYNC_DEFAULTS } from './async-invoker.js';
export type { DeployedFunction, FunctionInfo, FunctionsServiceDeps, InvocationType, InvokeRequest, InvokeResponse } from './service.js';
export type { AsyncConfig } from './async-invoker.js';
export type { EventSourceMapping } from './event-sources.js';
