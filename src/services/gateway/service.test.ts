import { describe, expect, it } from 'vitest';
import { PlatformError } from '../../core/errors.js';
import type { Clock } from '../../ports/clock.js';
import type { InvokeResult } from '../../ports/executor.js';
import { createGateway, type GatewayOptions } from './service.js';
import type { ApiGatewayV2Event, GatewayRequest } from './event.js';
import type { GatewayResponse } from './response.js';
import type { CorsConfig } from './cors.js';

/** Timers that fire only when the test advances time. */
function fakeClock(start = 1_700_000_000_000): Clock & { advance(ms: number): void; pending(): number } {
  let now = start;
  const timers = new Set<{ at: number; fn: () => void }>();
  return {
    now: () => now,
    setTimer(ms, fn) {
      const timer = { at: now + ms, fn };
      timers.add(timer);
      return () => timers.delete(timer);
    },
    advance(ms) {
      now += ms;
      for (const t of [...timers]) {
        if (t.at > now) continue;
        timers.delete(t);
        t.fn();
      }
    },
    pending: () => timers.size,
  };
}

function result(payload: unknown, error?: InvokeResult['error']): InvokeResult {
  return { requestId: 'r', payload: JSON.stringify(payload) ?? 'null', error, durationMs: 1, billedDurationMs: 1, maxMemoryUsedMb: 64 };
}

function request(overrides: Partial<GatewayRequest> = {}): GatewayRequest {
  return { method: 'GET', rawPath: '/', rawQueryString: '', headers: [['Host', 'localhost:3000']], body: null, sourceIp: '127.0.0.1', protocol: 'HTTP/1.1', ...overrides };
}

function header(res: GatewayResponse, name: string): string | undefined {
  return res.headers.find(([n]) => n.toLowerCase() === name)?.[1];
}

interface Call {
  fn: string;
  event: ApiGatewayV2Event;
  requestId: string;
}

function gateway(options: Partial<GatewayOptions> & { respond?: (call: Call) => Promise<InvokeResult> | InvokeResult } = {}) {
  const calls: Call[] = [];
  const clock = options.clock ?? fakeClock();
  const gw = createGateway({
    apiId: 'abc123',
    routes: [
      { routeKey: 'GET /items/{id}', fn: 'getItem' },
      { routeKey: 'ANY /files/{proxy+}', fn: 'files' },
    ],
    clock,
    invoke: async (fn, event, requestId) => {
      const call = { fn, event: event as ApiGatewayV2Event, requestId };
      calls.push(call);
      return options.respond ? options.respond(call) : result({ statusCode: 200, body: 'ok' });
    },
    ...options,
  });
  return { gw, calls, clock };
}

describe('gateway', () => {
  it('routes to the function with the event and answers with its result', async () => {
    const { gw, calls } = gateway();
    const res = await gw.handle(request({ rawPath: '/items/a%20b', rawQueryString: 'x=1' }));
    expect(res).toMatchObject({ statusCode: 200, body: 'ok' });
    expect(calls).toHaveLength(1);
    const [{ fn, event, requestId }] = calls as [Call];
    expect(fn).toBe('getItem');
    expect(event).toMatchObject({ routeKey: 'GET /items/{id}', rawPath: '/items/a b', pathParameters: { id: 'a b' }, queryStringParameters: { x: '1' } });
    expect(event.requestContext).toMatchObject({ apiId: 'abc123', accountId: '000000000000', stage: '$default', timeEpoch: 1_700_000_000_000 });
    // The Lambda request ID is a UUID; the gateway's ID travels in the event and the response.
    expect(requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(header(res, 'apigw-requestid')).toBe(event.requestContext.requestId);
  });

  it('answers 404 without a route, and does not serve HEAD from GET', async () => {
    const { gw, calls } = gateway();
    for (const req of [request({ rawPath: '/nope' }), request({ method: 'HEAD', rawPath: '/items/1' }), request({ rawPath: '/files' })]) {
      const res = await gw.handle(req);
      expect(res).toMatchObject({ statusCode: 404, body: '{"message":"Not Found"}' });
      expect(header(res, 'content-type')).toBe('application/json');
      expect(header(res, 'apigw-requestid')).toMatch(/^[A-Za-z0-9_-]{15}=$/);
    }
    expect(calls).toHaveLength(0);
  });

  it('answers 413 over the payload limit without invoking', async () => {
    const { gw, calls } = gateway({ payloadLimitBytes: 4 });
    expect(gw.payloadLimitBytes).toBe(4);
    expect(await gw.handle(request({ method: 'POST', rawPath: '/files/x', body: Buffer.alloc(4) }))).toMatchObject({ statusCode: 200 });
    expect(await gw.handle(request({ method: 'POST', rawPath: '/files/x', body: Buffer.alloc(5) }))).toMatchObject({ statusCode: 413, body: '{"message":"Request Entity Too Large"}' });
    expect(gw.payloadTooLarge()).toMatchObject({ statusCode: 413 });
    expect(calls).toHaveLength(1);
  });

  it('answers 400 to a malformed path', async () => {
    const { gw } = gateway();
    expect(await gw.handle(request({ rawPath: '/items/%E0%A4%A' }))).toMatchObject({ statusCode: 400, body: '{"message":"Bad Request"}' });
    expect(await gw.handle(request({ rawPath: '*' }))).toMatchObject({ statusCode: 400 });
  });

  it('answers 503 at the integration timeout while the invocation runs on', async () => {
    let finish: (r: InvokeResult) => void = () => {};
    const { gw, clock } = gateway({ timeoutSeconds: 2, respond: () => new Promise((resolve) => (finish = resolve)) });
    const fake = clock as ReturnType<typeof fakeClock>;
    const pending = gw.handle(request({ rawPath: '/items/1' }));
    await Promise.resolve();
    fake.advance(1999);
    fake.advance(1);
    expect(await pending).toMatchObject({ statusCode: 503, body: '{"message":"Service Unavailable"}' });
    finish(result({ statusCode: 200 })); // late: dropped without a trace
  });

  it('cancels the timer when the function answers in time', async () => {
    const { gw, clock } = gateway();
    await gw.handle(request({ rawPath: '/items/1' }));
    expect((clock as ReturnType<typeof fakeClock>).pending()).toBe(0);
  });

  it.each([
    ['a throttled invocation', () => Promise.reject(new PlatformError('TOO_MANY_REQUESTS', 'busy')), 429, '{"message":"Too Many Requests"}'],
    ['a throttle from across a process boundary', () => Promise.reject({ name: 'PlatformError', code: 'TOO_MANY_REQUESTS', message: 'busy' }), 429, '{"message":"Too Many Requests"}'],
    ['a missing function', () => Promise.reject(new PlatformError('FUNCTION_NOT_FOUND', 'no')), 500, '{"message":"Internal Server Error"}'],
    ['an instance that failed', () => Promise.reject(new PlatformError('INSTANCE_FAILED', 'no')), 500, '{"message":"Internal Server Error"}'],
    ['an invoke that throws', () => { throw new Error('sync'); }, 500, '{"message":"Internal Server Error"}'],
    ['a function error', () => result({ errorType: 'Error', errorMessage: 'boom' }, { type: 'Unhandled', message: 'boom' }), 500, '{"message":"Internal Server Error"}'],
    ['a malformed response', () => result({ statusCode: 'teapot' }), 500, '{"message":"Internal Server Error"}'],
    ['a payload that is not JSON', () => ({ ...result(null), payload: '{oops' }), 500, '{"message":"Internal Server Error"}'],
  ])('maps %s to %i', async (_why, respond, status, body) => {
    const { gw } = gateway({ respond: respond as () => Promise<InvokeResult> });
    const res = await gw.handle(request({ rawPath: '/items/1' }));
    expect(res).toMatchObject({ statusCode: status, body });
    expect(header(res, 'apigw-requestid')).toBeDefined();
  });

  it('refuses malformed options', () => {
    expect(() => gateway({ timeoutSeconds: 31 })).toThrow(/timeoutSeconds/);
    expect(() => gateway({ timeoutSeconds: 0 })).toThrow(/timeoutSeconds/);
    expect(() => gateway({ routes: [{ routeKey: 'GET nope', fn: 'f' }] })).toThrow(/route key/);
    expect(() => gateway({ stage: 'prod' as '$default' })).toThrow(/stage/);
  });
});

describe('gateway CORS', () => {
  const cors: CorsConfig = {
    allowOrigins: ['https://app.test'],
    allowMethods: ['GET', 'PUT'],
    allowHeaders: ['content-type'],
    exposeHeaders: ['x-total'],
    allowCredentials: true,
    maxAge: 300,
  };
  const preflight = (origin: string, rawPath = '/items/1') =>
    request({ method: 'OPTIONS', rawPath, headers: [['Origin', origin], ['Access-Control-Request-Method', 'PUT']] });

  it('answers preflights itself with 204, even without an OPTIONS route', async () => {
    const { gw, calls } = gateway({ cors });
    const res = await gw.handle(preflight('https://app.test', '/anywhere'));
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect(res.headers).toEqual([
      ['apigw-requestid', expect.any(String)],
      ['access-control-allow-origin', 'https://app.test'],
      ['access-control-allow-credentials', 'true'],
      ['access-control-allow-methods', 'GET,PUT'],
      ['access-control-allow-headers', 'content-type'],
      ['access-control-max-age', '300'],
    ]);
    expect(calls).toHaveLength(0);
  });

  it('gives a disallowed origin a bare 204', async () => {
    const { gw } = gateway({ cors });
    const res = await gw.handle(preflight('https://evil.test'));
    expect(res.statusCode).toBe(204);
    expect(res.headers.filter(([n]) => n.startsWith('access-control-'))).toEqual([]);
  });

  it('lets an explicit OPTIONS route take the preflight', async () => {
    const { gw, calls } = gateway({ cors, routes: [{ routeKey: 'OPTIONS /items/{id}', fn: 'options' }] });
    const res = await gw.handle(preflight('https://app.test'));
    expect(calls.map((c) => c.fn)).toEqual(['options']);
    expect(header(res, 'access-control-allow-origin')).toBe('https://app.test');
  });

  it('routes OPTIONS that is not a preflight, and preflights without CORS configured', async () => {
    const { gw, calls } = gateway({ cors });
    await gw.handle(request({ method: 'OPTIONS', rawPath: '/files/x', headers: [['Origin', 'https://app.test']] }));
    const plain = gateway();
    await plain.gw.handle(preflight('https://app.test', '/files/x'));
    expect([...calls, ...plain.calls].map((c) => c.fn)).toEqual(['files', 'files']);
  });

  it('puts its own CORS headers on actual responses in place of the function\'s', async () => {
    const { gw } = gateway({ cors, respond: () => result({ statusCode: 200, headers: { 'Access-Control-Allow-Origin': '*', 'X-Total': '3' }, body: '[]' }) });
    const res = await gw.handle(request({ rawPath: '/items/1', headers: [['Origin', 'https://app.test']] }));
    expect(res.headers.filter(([n]) => n.toLowerCase().startsWith('access-control-'))).toEqual([
      ['access-control-allow-origin', 'https://app.test'],
      ['access-control-allow-credentials', 'true'],
      ['access-control-expose-headers', 'x-total'],
    ]);
    const other = await gw.handle(request({ rawPath: '/items/1', headers: [['Origin', 'https://evil.test']] }));
    expect(other.headers.filter(([n]) => n.toLowerCase().startsWith('access-control-'))).toEqual([]);
    const sameOrigin = await gw.handle(request({ rawPath: '/items/1' }));
    expect(sameOrigin.headers.filter(([n]) => n.toLowerCase().startsWith('access-control-'))).toEqual([]);
  });
});
