/**
 * Nuvola's own control API under `/_nuvola/`: health, functions, invoke and logs (also streamed as
 * NDJSON). The CLI and the console talk to the platform only through it.
 */
import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PlatformError, isPlatformError, type ErrorCode } from '../core/errors.js';
import { LAMBDA_LIMITS } from '../core/lambda.js';
import type { LogRecord } from '../ports/executor.js';
import type { FunctionsService, InvocationType } from '../services/functions/index.js';
import { readBody } from './body.js';

export interface LogsReader {
  query(q: { fn?: string; requestId?: string; since?: number; limit?: number }): Promise<readonly LogRecord[]>;
  follow(q: { fn?: string }, onRecord: (record: LogRecord) => void): () => void;
}

export interface ControlOptions {
  /** The app's name once it is deployed; undefined while the platform is starting. */
  readonly app: () => string | undefined;
  readonly functions: FunctionsService;
  readonly logs: LogsReader;
  readonly stats: () => unknown;
}

/** PlatformError code → HTTP status of the control API. */
const STATUS: Partial<Record<ErrorCode, number>> = {
  FUNCTION_NOT_FOUND: 404,
  TOO_MANY_REQUESTS: 429,
  PAYLOAD_TOO_LARGE: 413,
  INVALID_REQUEST: 400,
  VALIDATION: 400,
  UNKNOWN_OPERATION: 404,
  SHUTTING_DOWN: 503,
};

export function controlHandler(options: ControlOptions) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      await route(options, req, res);
    } catch (err) {
      const status = isPlatformError(err) ? (STATUS[err.code] ?? 500) : 500;
      const code = isPlatformError(err) ? err.code : 'INTERNAL';
      const message = isPlatformError(err) || status < 500 ? (err as Error).message : 'Internal error';
      send(res, status, { error: { code, message } });
    }
  };
}

async function route(options: ControlOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://local');
  const parts = url.pathname.split('/').filter(Boolean).slice(1).map(decodeURIComponent);
  const method = req.method ?? 'GET';
  const [what, name, action] = parts;

  if (what === 'health' && method === 'GET') {
    const app = options.app();
    if (app === undefined) return send(res, 503, { status: 'starting' });
    return send(res, 200, { status: 'ok', app, functions: options.functions.list().length });
  }
  if (what === 'functions' && method === 'GET' && name === undefined) {
    return send(res, 200, {
      functions: options.functions.list().map((f) => ({
        name: f.name,
        handler: f.handler,
        runtime: f.runtime,
        memory: f.memoryMb,
        timeout: f.timeoutSeconds,
        codeSha256: f.codeSha256,
      })),
      stats: options.stats(),
    });
  }
  if (what === 'functions' && name && action === 'invoke' && method === 'POST') {
    const limit = LAMBDA_LIMITS.MAX_SYNC_REQUEST_BYTES;
    const body = await readBody(req, limit);
    if (body === 'too-large') throw new PlatformError('PAYLOAD_TOO_LARGE', `Request must be smaller than ${limit} bytes for the InvokeFunction operation`, { limit });
    const payload = body.toString('utf8');
    const type = (url.searchParams.get('type') ?? 'RequestResponse') as InvocationType;
    const out = await options.functions.invoke(name, { type, payload, tail: true });
    return send(res, type === 'Event' ? 202 : 200, {
      requestId: out.requestId,
      ...(out.result ? { result: JSON.parse(out.result.payload) as unknown, error: out.result.error ?? null } : {}),
      logs: out.logTail ?? '',
    });
  }
  if (what === 'functions' && name && action === 'code' && method === 'GET') {
    const fn = options.functions.get(name);
    res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
    createReadStream(fn.bundlePath).pipe(res);
    return;
  }
  if (what === 'logs' && method === 'GET') {
    const fn = url.searchParams.get('fn') ?? undefined;
    const requestId = url.searchParams.get('requestId') ?? undefined;
    const since = url.searchParams.has('since') ? Number(url.searchParams.get('since')) : undefined;
    const limit = url.searchParams.has('limit') ? Number(url.searchParams.get('limit')) : undefined;
    const query = () => (limit === 0 ? Promise.resolve([]) : options.logs.query({ fn, requestId, since, limit }));
    if (url.searchParams.get('follow') !== '1') return send(res, 200, { records: await query() });
    return stream(options, res, query, fn);
  }
  send(res, 404, { error: { code: 'UNKNOWN_OPERATION', message: `No control operation ${method} ${url.pathname}` } });
}

/**
 * The backlog, then live records as NDJSON. Following starts before the backlog is read, so that no
 * record falls between the two; one that is in both is written once.
 */
async function stream(options: ControlOptions, res: ServerResponse, backlog: () => Promise<readonly LogRecord[]>, fn: string | undefined): Promise<void> {
  let early: LogRecord[] | undefined = [];
  const stop = options.logs.follow({ fn }, (r) => (early ? early.push(r) : res.write(JSON.stringify(r) + '\n')));
  res.on('close', stop);
  const past = await backlog();
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
  const seen = new Set(past.map(key));
  for (const r of past) res.write(JSON.stringify(r) + '\n');
  for (const r of early) if (!seen.has(key(r))) res.write(JSON.stringify(r) + '\n');
  early = undefined;
  // Headers go out now, not with the first record: the client knows it is connected.
  res.flushHeaders();
}

const key = (r: LogRecord): string => `${r.time}\u0000${r.requestId ?? ''}\u0000${r.stream}\u0000${r.message}`;

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
