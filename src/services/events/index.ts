/** EventBridge-compatible buses and rules routing events to functions, queues and other buses. */
export { EventsService, DEFAULT_BUS, EVENTS_LIMITS, busName, type PutEntry, type PutResult, type Rule, type Target } from './service.js';
