import { randomUUID } from 'node:crypto';
import { PlatformError } from '../../core/errors.js';
import { compileRoutes } from '../../core/routes.js';
import type { Clock } from '../../ports/clock.js';
import type { InvokeResult } from '../../ports/executor.js';
import { compileCors, type CompiledCors, type CorsConfig } from './cors.js';
import { buildEvent, decodePath, newRequestId, scanHeaders, type GatewayRequest } from './event.js';
import { GatewayLimits, GatewayMessages, gatewayError, mapFunctionResult, type GatewayResponse } from './response.js';

export interface GatewayRoute {
  /** `"GET /items/{id}"`, `"ANY /{proxy+}"` or `"$default"`. */
  readonly routeKey: string;
  /** The function the route integrates with. */
  readonly fn: string;
}

export interface GatewayOptions {
  readonly routes: readonly GatewayRoute[];
  readonly cors?: CorsConfig | undefined;
  /** Integration timeout, 0.05–30 s; 30 by default, as on AWS. */
  readonly timeoutSeconds?: number | undefined;
  /** HTTP APIs here have the one auto-deployed `$default` stage (no stage prefix in paths). */
  readonly stage?: '$default' | undefined;
  readonly apiId: string;
  readonly accountId?: string | undefined;
  readonly region?: string | undefined;
  /**
   * Runs the function synchronously with `event` (the 2.0 event object; the caller serializes it for
   * the executor). `requestId` is the Lambda request ID (a UUID, as `context.awsRequestId` is on
   * AWS), distinct from the gateway's `apigw-requestid`. The result's `payload` is JSON text.
   */
  readonly invoke: (fn: string, event: unknown, requestId: string) => Promise<InvokeResult>;
  /** Time and timers; a fake one makes timeouts testable. Defaults to the system clock. */
  readonly clock?: Clock | undefined;
  /** Overrides `clock.now` alone. */
  readonly now?: (() => number) | undefined;
  /** 10 MB by default, API Gateway's quota. */
  readonly payloadLimitBytes?: number | undefined;
  /** Told of every answered request (for access logs). */
  readonly onRequest?: ((info: AnsweredRequest) => void) | undefined;
}

export interface AnsweredRequest {
  readonly method: string;
  /** The raw path, as requested. */
  readonly path: string;
  readonly status: number;
  /** The function of the matched route. */
  readonly fn?: string | undefined;
  readonly durationMs: number;
  /** The invocation started a new instance (its result has an Init Duration). */
  readonly cold: boolean;
}

/** An HTTP API: routes requests to functions with API Gateway's payload format 2.0 and its answers. */
export interface Gateway {
  /** Never rejects: every failure is an HTTP answer, as API Gateway gives one. */
  handle(req: GatewayRequest): Promise<GatewayResponse>;
  /** A route takes this request (else `handle` would answer 404). */
  claims(method: string, rawPath: string): boolean;
  /** Bodies over this many bytes are refused with 413; listeners stop reading past it. */
  readonly payloadLimitBytes: number;
  /** The 413 answer, for a listener that refuses a body before reading it all. */
  payloadTooLarge(): GatewayResponse;
}

/** The methods a preflight may ask about. */
const PREFLIGHT_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'] as const;

const systemClock: Clock = {
  now: Date.now,
  setTimer(ms, fn) {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};

type Outcome = { readonly result: InvokeResult } | { readonly error: unknown } | null;
/** What `route` learnt about a request, for `onRequest`. */
type Seen = { fn?: string; cold?: boolean };

/** Validates `options` and compiles routes and CORS once; throws `INVALID_REQUEST` when malformed. */
export function createGateway(options: GatewayOptions): Gateway {
  const timeoutSeconds = options.timeoutSeconds ?? GatewayLimits.MAX_TIMEOUT_SECONDS;
  if (!(timeoutSeconds >= GatewayLimits.MIN_TIMEOUT_SECONDS && timeoutSeconds <= GatewayLimits.MAX_TIMEOUT_SECONDS)) {
    throw new PlatformError('INVALID_REQUEST', `timeoutSeconds must be from ${GatewayLimits.MIN_TIMEOUT_SECONDS} to ${GatewayLimits.MAX_TIMEOUT_SECONDS}, got ${timeoutSeconds}.`);
  }
  const payloadLimitBytes = options.payloadLimitBytes ?? GatewayLimits.MAX_PAYLOAD_BYTES;
  if (!Number.isSafeInteger(payloadLimitBytes) || payloadLimitBytes < 0) {
    throw new PlatformError('INVALID_REQUEST', `payloadLimitBytes must be a non-negative integer, got ${payloadLimitBytes}.`);
  }
  const stage = options.stage ?? '$default';
  if (stage !== '$default') throw new PlatformError('INVALID_REQUEST', `Only the $default stage is supported, got ${String(stage)}.`);

  const router = compileRoutes(options.routes.map((r) => ({ routeKey: r.routeKey, target: r.fn })));
  const cors: CompiledCors | null = options.cors ? compileCors(options.cors) : null;
  const clock = options.clock ?? systemClock;
  const now = options.now ?? (() => clock.now());
  const timeoutMs = timeoutSeconds * 1000;
  const { invoke, apiId } = options;
  const accountId = options.accountId ?? '000000000000';
  const region = options.region ?? 'us-east-1';

  /** Settles with the invocation's outcome, or null once the integration timeout passes first. */
  function invokeWithTimeout(fn: string, event: unknown): Promise<Outcome> {
    return new Promise<Outcome>((resolve) => {
      const cancel = clock.setTimer(timeoutMs, () => resolve(null));
      let pending: Promise<InvokeResult>;
      try {
        pending = invoke(fn, event, randomUUID());
      } catch (error) {
        pending = Promise.reject(error);
      }
      // The invocation keeps running past a timeout (as on AWS); its late outcome is dropped.
      pending.then(
        (result) => {
          cancel();
          resolve({ result });
        },
        (error: unknown) => {
          cancel();
          resolve({ error });
        },
      );
    });
  }

  async function handle(req: GatewayRequest): Promise<GatewayResponse> {
    const requestId = newRequestId();
    const seen: Seen = {};
    const started = now();
    let response: GatewayResponse;
    try {
      response = await route(req, requestId, seen);
    } catch {
      // A defect of ours; the client still gets API Gateway's answer, not a dropped connection.
      response = gatewayError(500, GatewayMessages.INTERNAL_SERVER_ERROR, requestId);
    }
    options.onRequest?.({ method: req.method, path: req.rawPath, status: response.statusCode, fn: seen.fn, durationMs: now() - started, cold: seen.cold === true });
    return response;
  }

  async function route(req: GatewayRequest, requestId: string, seen: Seen): Promise<GatewayResponse> {
    if (req.body !== null && req.body.length > payloadLimitBytes) {
      return gatewayError(413, GatewayMessages.PAYLOAD_TOO_LARGE, requestId);
    }
    const path = req.rawPath.startsWith('/') ? decodePath(req.rawPath) : null;
    if (path === null) return gatewayError(400, GatewayMessages.BAD_REQUEST, requestId);

    const scanned = scanHeaders(req);
    const origin = cors === null ? undefined : scanned.headers['origin'];
    const match = router.match(req.method, path);

    // A preflight is answered here unless an explicit `OPTIONS` route claims the path.
    if (origin !== undefined && req.method === 'OPTIONS' && scanned.headers['access-control-request-method'] !== undefined && !match?.routeKey.startsWith('OPTIONS ')) {
      return { statusCode: 204, headers: [['apigw-requestid', requestId], ...(cors as CompiledCors).preflight(origin)], body: '' };
    }

    let response: GatewayResponse;
    if (match === null) {
      response = gatewayError(404, GatewayMessages.NOT_FOUND, requestId);
    } else {
      const event = buildEvent(req, scanned, {
        routeKey: match.routeKey,
        pathParameters: match.pathParameters,
        path,
        requestId,
        timeEpoch: now(),
        apiId,
        accountId,
        region,
        stage,
      });
      seen.fn = match.target;
      const outcome = await invokeWithTimeout(match.target, event);
      seen.cold = outcome !== null && 'result' in outcome && outcome.result.initDurationMs !== undefined;
      response = toResponse(outcome, requestId, cors !== null);
    }
    if (origin !== undefined) (cors as CompiledCors).decorate(origin, response.headers);
    return response;
  }

  return {
    handle,
    claims(method, rawPath) {
      const path = rawPath.startsWith('/') ? decodePath(rawPath) : null;
      if (path === null) return false;
      if (router.match(method, path) !== null) return true;
      // A CORS preflight is the API's when any of its routes takes the path.
      return method === 'OPTIONS' && cors !== null && PREFLIGHT_METHODS.some((m) => router.match(m, path) !== null);
    },
    payloadLimitBytes,
    payloadTooLarge: () => gatewayError(413, GatewayMessages.PAYLOAD_TOO_LARGE, newRequestId()),
  };
}

function toResponse(outcome: Outcome, requestId: string, stripCors: boolean): GatewayResponse {
  if (outcome === null) return gatewayError(503, GatewayMessages.SERVICE_UNAVAILABLE, requestId);
  if ('error' in outcome) {
    // Throttling is the caller's to retry; every other failure (no such function, an instance that
    // would not start, a platform fault) is API Gateway's opaque 500.
    // Recognised by code: errors from across a process boundary are not PlatformError instances.
    const code = (outcome.error as { code?: unknown } | null)?.code;
    if (code === 'TOO_MANY_REQUESTS') return gatewayError(429, GatewayMessages.TOO_MANY_REQUESTS, requestId);
    // The event is over Lambda's 6 MB synchronous payload: the body fit API Gateway's 10 MB, not Lambda.
    if (code === 'PAYLOAD_TOO_LARGE') return gatewayError(413, GatewayMessages.PAYLOAD_TOO_LARGE, requestId);
    return gatewayError(500, GatewayMessages.INTERNAL_SERVER_ERROR, requestId);
  }
  const { result } = outcome;
  if (result.error) return gatewayError(500, GatewayMessages.INTERNAL_SERVER_ERROR, requestId);
  let value: unknown;
  try {
    value = JSON.parse(result.payload);
  } catch {
    return gatewayError(500, GatewayMessages.INTERNAL_SERVER_ERROR, requestId);
  }
  return mapFunctionResult(value, requestId, stripCors) ?? gatewayError(500, GatewayMessages.INTERNAL_SERVER_ERROR, requestId);
}
