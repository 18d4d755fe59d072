/**
 * Nuvola's own control API under `/_nuvola/`: `health`, and the routes the services bring (functions,
 * invoke, logs, …). The CLI and the console talk to the platform only through it. Services answer
 * with a `ControlReply`; this listener writes it and maps their error codes to statuses.
 *
 * It serves function code, environments (secrets) and logs, and invokes anything, so every route but
 * `health` needs the bearer token; and no request is served that a browser sent from another site's
 * page (`Origin`, `Sec-Fetch-Site`) or that names a host the listener is not (DNS rebinding).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isPlatformError, PlatformError, type ErrorCode } from '../core/errors.js';
import type { ControlReply, ControlRoute } from '../services/module.js';
import { readBody } from './body.js';

export const CONTROL_PREFIX = '/_nuvola/';

export interface ControlOptions {
  /** The app's name once it is deployed; undefined while the platform is starting. */
  readonly app: () => string | undefined;
  /** What `health` reports besides the app, e.g. counts per service. */
  readonly health: () => Record<string, unknown>;
  readonly routes: readonly ControlRoute[];
  /** The bearer token every route but `health` requires. */
  readonly token: string;
  /** The listener's own address (`host:port`), for the `Host` check; undefined before it listens. */
  readonly listening: () => { host: string; port: number } | undefined;
}

/** PlatformError code → HTTP status of the control API. */
const STATUS: Partial<Record<ErrorCode, number>> = {
  FUNCTION_NOT_FOUND: 404,
  QUEUE_NOT_FOUND: 404,
  SITE_NOT_FOUND: 404,
  TOO_MANY_REQUESTS: 429,
  PAYLOAD_TOO_LARGE: 413,
  INVALID_REQUEST: 400,
  VALIDATION: 400,
  INVALID_PARAMETER: 400,
  UNKNOWN_OPERATION: 404,
  SHUTTING_DOWN: 503,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
};

interface CompiledRoute {
  readonly method: string;
  readonly segments: readonly string[];
  readonly route: ControlRoute;
}

export function controlHandler(options: ControlOptions) {
  const routes: CompiledRoute[] = options.routes.map((route) => ({ method: route.method, segments: route.path.split('/'), route }));
  const tokenDigest = digest(options.token);
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      checkSite(req, options.listening());
      if (!isHealth(req)) checkToken(req, tokenDigest);
      await dispatch(options, routes, req, res);
    } catch (err) {
      const status = isPlatformError(err) ? (STATUS[err.code] ?? 500) : 500;
      const code = isPlatformError(err) ? err.code : 'INTERNAL';
      const message = isPlatformError(err) || status < 500 ? (err as Error).message : 'Internal error';
      if (res.headersSent) res.end();
      else {
        if (status === 401) res.setHeader('www-authenticate', 'Bearer realm="nuvola"');
        send(res, status, { error: { code, message } });
      }
    }
  };
}

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

function isHealth(req: IncomingMessage): boolean {
  const path = (req.url ?? '').split('?')[0];
  return req.method === 'GET' && (path === `${CONTROL_PREFIX}health` || path === `${CONTROL_PREFIX}health/`);
}

function checkToken(req: IncomingMessage, expected: Buffer): void {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  if (!m) throw new PlatformError('UNAUTHORIZED', 'The control API needs the bearer token: `Authorization: Bearer <token>` (NUVOLA_CONTROL_TOKEN, or .nuvola/control-token of the app)');
  // Digests of equal length, compared in constant time: the token's length leaks nothing either.
  if (!timingSafeEqual(digest(m[1]!), expected)) throw new PlatformError('UNAUTHORIZED', 'The bearer token is not this platform’s control token');
}

const LOOPBACK_NAMES = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\]|\[::ffff:127(?:\.\d{1,3}){3}\])$/i;

/**
 * Refuses a request a browser made for another site's page, and, on a loopback listener, one whose
 * `Host` is not a loopback name with the listener's port: a rebinding attacker's page reaches
 * 127.0.0.1 under its own domain name.
 */
function checkSite(req: IncomingMessage, listening: { host: string; port: number } | undefined): void {
  const host = req.headers.host ?? '';
  if (req.headers['sec-fetch-site'] === 'cross-site') throw new PlatformError('FORBIDDEN', 'Cross-site requests are refused by the control API');
  const origin = req.headers.origin;
  if (origin !== undefined) {
    let originHost: string | undefined;
    try {
      originHost = new URL(origin).host;
    } catch {
      originHost = undefined;
    }
    if (originHost !== host) throw new PlatformError('FORBIDDEN', `Requests from pages of ${JSON.stringify(origin)} are refused by the control API`);
  }
  if (!listening || !isLoopback(listening.host)) return;
  const m = /^(.*?)(?::(\d+))?$/.exec(host)!;
  if (!LOOPBACK_NAMES.test(m[1] ?? '') || Number(m[2] ?? 80) !== listening.port) {
    throw new PlatformError('FORBIDDEN', `Host ${JSON.stringify(host)} is not this listener's (${listening.host}:${listening.port})`);
  }
}

/** A loopback address or name, as a listener's host is written (`::1` bare or bracketed). */
export const isLoopback = (host: string): boolean => LOOPBACK_NAMES.test(host) || LOOPBACK_NAMES.test(`[${host}]`) || host === '::1';

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
    case 'file': {
      // Opened before the status is sent: a file gone missing is an error answer, not a cut stream.
      const stream = createReadStream(reply.path);
      await new Promise<void>((resolve, reject) => stream.once('open', () => resolve()).once('error', reject)).catch((err: unknown) => {
        throw new PlatformError('INTERNAL', `The file behind this answer cannot be read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
      });
      res.writeHead(200, { 'content-type': reply.contentType });
      stream.on('error', () => res.destroy()).pipe(res);
      return;
    }
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
