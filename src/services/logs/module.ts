/**
 * The logs service as the platform plugs it in: keeps every function's log lines (from the platform's
 * `log` events) and serves them, also as a live NDJSON stream, under `/_nuvola/logs`.
 */
import { PlatformError } from '../../core/errors.js';
import type { LogRecord } from '../../ports/executor.js';
import type { FunctionsService } from '../functions/index.js';
import type { ServiceModule } from '../module.js';
import { logsMigrations } from './migrations.js';
import { LogsService } from './service.js';

export const logsModule: ServiceModule<LogsService> = {
  name: 'logs',
  sections: [],
  migrations: logsMigrations,
  create(ctx) {
    const logs = new LogsService(
      { db: ctx.db, clock: ctx.clock, onError: (err) => ctx.events.emit('warning', `log write failed: ${String(err)}`) },
      { maxRecordsPerFunction: ctx.settings.logRetention.perFunction, maxAgeMs: ctx.settings.logRetention.maxAgeMs },
    );
    ctx.events.on('log', (record) => logs.append(record));
    return {
      service: logs,
      control: [
        {
          method: 'GET',
          path: 'logs',
          async handle(req) {
            const fn = req.query.get('fn') ?? undefined;
            // A name with no function behind it is a typo far more often than a deleted function.
            if (fn !== undefined) ctx.use<FunctionsService>('functions').get(fn);
            const requestId = req.query.get('requestId') ?? undefined;
            const since = numberParam(req.query, 'since');
            const limit = numberParam(req.query, 'limit');
            const backlog = () => (limit === 0 ? Promise.resolve([]) : logs.query({ fn, requestId, since, limit }));
            if (req.query.get('follow') !== '1') return { kind: 'json', body: { records: await backlog() } };
            return { kind: 'stream', start: (push) => follow(logs, fn, backlog, push) };
          },
        },
      ],
      close: () => logs.close(),
    };
  },
};

function numberParam(query: URLSearchParams, name: string): number | undefined {
  const text = query.get(name);
  if (text === null) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) throw new PlatformError('INVALID_REQUEST', `${name} must be a number >= 0, got ${JSON.stringify(text)}`);
  return n;
}

/**
 * The backlog, then live records. Following starts before the backlog is read, so that no record
 * falls between the two; one that is in both is pushed once.
 */
async function follow(logs: LogsService, fn: string | undefined, backlog: () => Promise<readonly LogRecord[]>, push: (r: LogRecord) => void): Promise<() => void> {
  let early: LogRecord[] | undefined = [];
  const stop = logs.follow({ fn }, (r) => (early ? early.push(r) : push(r)));
  try {
    const past = await backlog();
    const seen = new Set(past.map(key));
    for (const r of past) push(r);
    for (const r of early) if (!seen.has(key(r))) push(r);
    early = undefined;
    return stop;
  } catch (err) {
    stop();
    throw err;
  }
}

const key = (r: LogRecord): string => `${r.time}\u0000${r.requestId ?? ''}\u0000${r.stream}\u0000${r.message}`;
