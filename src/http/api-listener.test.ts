import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { InvokeResult } from '../ports/executor.js';
import { createGateway, type ApiGatewayV2Event, type GatewayOptions } from '../services/gateway/index.js';
import { handleApiRequest } from './api-listener.js';

let server: Server | undefined;

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

function ok(payload: unknown): InvokeResult {
  return { requestId: 'r', payload: JSON.stringify(payload) ?? 'null', durationMs: 1, billedDurationMs: 1, maxMemoryUsedMb: 1 };
}

/** A listener on an ephemeral port whose functions answer with `respond(event)`. */
async function listen(respond: (event: ApiGatewayV2Event) => unknown, options: Partial<GatewayOptions> = {}) {
  const events: ApiGatewayV2Event[] = [];
  const gateway = createGateway({
    apiId: 'local',
    routes: [{ routeKey: 'ANY /{proxy+}', fn: 'f' }],
    invoke: async (_fn, event) => {
      events.push(event as ApiGatewayV2Event);
      return ok(respond(event as ApiGatewayV2Event));
    },
    ...options,
  });
  server = createServer((req, res) => handleApiRequest(gateway, req, res));
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { base: `http://127.0.0.1:${port}`, port, events };
}

describe('API listener', () => {
  it('hands the gateway the raw request and writes its answer', async () => {
    const { base, port, events } = await listen(() => ({
      statusCode: 201,
      headers: { 'content-type': 'text/plain', 'x-answer': 42 },
      cookies: ['a=1; Path=/', 'b=2'],
      body: 'héllo',
    }));
    const res = await fetch(`${base}/things/a%20b?x=1&x=2&y=%2B`, {
      method: 'POST',
      headers: [['content-type', 'application/json'], ['cookie', 'c1=v1; c2=v2'], ['x-multi', 'one'], ['x-multi', 'two']],
      body: '{"hello":"world"}',
    });
    expect(res.status).toBe(201);
    expect(await res.text()).toBe('héllo');
    expect(res.headers.get('content-length')).toBe('6');
    expect(res.headers.get('x-answer')).toBe('42');
    expect(res.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2']);
    expect(res.headers.get('date')).toBeTruthy();

    const [event] = events as [ApiGatewayV2Event];
    expect(res.headers.get('apigw-requestid')).toBe(event.requestContext.requestId);
    expect(event).toMatchObject({
      rawPath: '/things/a b',
      rawQueryString: 'x=1&x=2&y=%2B',
      queryStringParameters: { x: '1,2', y: '+' },
      pathParameters: { proxy: 'things/a b' },
      cookies: ['c1=v1', 'c2=v2'],
      body: '{"hello":"world"}',
      isBase64Encoded: false,
    });
    expect(event.headers).toMatchObject({
      host: `127.0.0.1:${port}`,
      'content-type': 'application/json',
      'x-multi': 'one, two', // fetch itself joins repeats before sending
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-port': String(port),
      'x-forwarded-proto': 'http',
    });
    expect(event.headers).not.toHaveProperty('cookie');
    expect(event.requestContext).toMatchObject({ domainName: `127.0.0.1:${port}`, http: { method: 'POST', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1' } });
  });

  it('passes binary bodies base64-encoded and sends binary results decoded', async () => {
    const bytes = Buffer.from([0, 255, 1, 254]);
    const { base, events } = await listen((e) => ({ statusCode: 200, headers: { 'content-type': 'application/octet-stream' }, body: e.body, isBase64Encoded: true }));
    const res = await fetch(`${base}/bin`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: bytes });
    expect(Buffer.from(await res.arrayBuffer())).toEqual(bytes);
    expect(events[0]).toMatchObject({ body: bytes.toString('base64'), isBase64Encoded: true });
  });

  it('answers JSON data, 404s and bodiless statuses', async () => {
    const { base } = await listen((e) => (e.rawPath === '/empty' ? { statusCode: 204 } : { hello: 'world' }), {
      routes: [{ routeKey: 'GET /{proxy+}', fn: 'f' }],
    });
    const data = await fetch(`${base}/data`);
    expect(data.headers.get('content-type')).toBe('application/json');
    expect(await data.json()).toEqual({ hello: 'world' });

    const missing = await fetch(`${base}/data`, { method: 'DELETE' });
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe('{"message":"Not Found"}');

    const empty = await fetch(`${base}/empty`);
    expect(empty.status).toBe(204);
    expect(empty.headers.get('content-length')).toBeNull();
  });

  it('refuses a declared oversized body with 413 before handing it on, and keeps the connection', async () => {
    const { base, events } = await listen(() => 'ok', { payloadLimitBytes: 16 });
    const res = await fetch(`${base}/up`, { method: 'POST', body: 'x'.repeat(17) });
    expect(res.status).toBe(413);
    expect(await res.text()).toBe('{"message":"Request Entity Too Large"}');
    // Closing under a client still sending its body would turn the answer into a reset.
    expect(res.headers.get('connection')).toBe('keep-alive');
    expect(res.headers.get('apigw-requestid')).toMatch(/^[A-Za-z0-9_-]{15}=$/);
    expect(events).toHaveLength(0);
    const fits = await fetch(`${base}/up`, { method: 'POST', body: 'x'.repeat(16) });
    expect(fits.status).toBe(200);
  });

  it('stops reading a chunked body once it passes the limit', async () => {
    const { port, events } = await listen(() => 'ok', { payloadLimitBytes: 16 });
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ port, host: '127.0.0.1', method: 'POST', path: '/up', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write('x'.repeat(10));
      setImmediate(() => req.write('x'.repeat(10))); // the body is never ended: the answer must not wait for it
    });
    expect(status).toBe(413);
    expect(events).toHaveLength(0);
  });
});
