/**
 * Nuvola's own control API under `/_nuvola/`: `health`, and the routes the services bring (functions,
 * invoke, logs, …). The CLI and the console talk to the platform only through it. Services answer
 * with a `ControlReply`; this listener writes it and maps their error codes to statuses.
 */
import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isPlatformError, type ErrorCode } from '../core/errors.js';
import type { ControlReply, ControlRoute } from '../services/module.js';
import { readBody } from './body.js';

export const CONTROL_PREFIX = '/_nuvola/';

export interface ControlOptions {
  /** The app's name once it is deployed; undefined while the platform is starting. */
  readonly app: () => string | undefined;
  /** What `health` reports besides the app, e.g. counts per service. */
  readonly health: () => Record<string, unknown>;
  readonly routes: readonly ControlRoute[];
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

interface CompiledRoute {
  readonly method: string;
  readonly segments: readonly string[];
  readonly route: ControlRoute;
}

export function controlHandler(options: ControlOptions) {
  const routes: CompiledRoute[] = options.routes.map((route) => ({ method: route.method, segments: route.path.split('/'), route }));
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      await dispatch(options, routes, req, res);
    } catch (err) {
      const status = isPlatformError(err) ? (STATUS[err.code] ?? 500) : 500;
      const code = isPlatformError(err) ? err.code : 'INTERNAL';
      const message = isPlatformError(err) || status < 500 ? (err as Error).message : 'Internal error';
      if (res.headersSent) res.end();
      else send(res, status, { error: { code, message } });
    }
  };
}

async function dispatch(options: ControlOptions, routes: readonly CompiledRoute[], req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://local');
  const method = req.method ?? 'GET';
  const parts = url.pathname.slice(CONTROL_PREFIX.length).split('/').filter(Boolean);
  if (parts.length === 1 && parts[0] === 'health' && method === 'GET') {
    const app = options.app();
    if (app === undefined) return send(res, 503, { status: 'starting' });
    return send(res, 200, { status: 'ok', app, ...options.health() });
  }
  for (const { method: m, segments, route } of routes) {
    if (m !== method || segments.length !== parts.length) continue;
    const params = matchPath(segments, parts);
    if (!params) continue;
    const reply = await route.handle({
      params,
      query: url.searchParams,
      body: async (limit) => {
        const body = await readBody(req, limit);
        return body === 'too-large' ? undefined : body;
      },
    });
    return write(res, reply);
  }
  send(res, 404, { error: { code: 'UNKNOWN_OPERATION', message: `No control operation ${method} ${url.pathname}` } });
}

/** Binds `:name` segments; undefined when the path does not match. */
function matchPath(segments: readonly string[], parts: readonly string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const want = segments[i]!;
    const got = parts[i]!;
    if (want.startsWith(':')) {
      let value: string;
      try {
        value = decodeURIComponent(got);
      } catch {
        return undefined; // malformed percent-encoding names nothing
      }
      params[want.slice(1)] = value;
    } else if (want !== got) {
      return undefined;
    }
  }
  return params;
}

async function write(res: ServerResponse, reply: ControlReply): Promise<void> {
  switch (reply.kind) {
    case 'json':
      return send(res, reply.status ?? 200, reply.body);
    case 'file':
      res.writeHead(200, { 'content-type': reply.contentType });
      createReadStream(reply.path).on('error', () => res.destroy()).pipe(res);
      return;
    case 'stream': {
      const head = () => {
        if (!res.headersSent) res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
      };
      const stop = await reply.start((item) => {
        head();
        res.write(JSON.stringify(item) + '\n');
      });
      if (res.destroyed) stop();
      else res.on('close', stop);
      head();
      // Headers go out now, not with the first record: the client knows it is connected.
      res.flushHeaders();
      return;
    }
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
