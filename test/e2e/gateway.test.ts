// The HTTP API end to end: a real `nuvola dev` process, real function processes, real HTTP.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive, copyApp, eventually, ROOT, startNuvola, type Running } from '../helpers/nuvola.js';

let nuvola: Running;

beforeAll(async () => {
  nuvola = await startNuvola(await copyApp(path.join(ROOT, 'test/fixtures/app')));
});
afterAll(() => nuvola?.stop());

const get = (p: string, init?: RequestInit) => fetch(nuvola.url + p, init);

describe('routing', () => {
  it('passes path parameters and prefers exact routes over parameters over greedy paths', async () => {
    const param = (await (await get('/echo/42')).json()) as { event: { routeKey: string; pathParameters: unknown } };
    expect(param.event.routeKey).toBe('GET /echo/{id}');
    expect(param.event.pathParameters).toEqual({ id: '42' });

    const greedy = (await (await get('/echo/a/b%20c')).json()) as { event: { routeKey: string; pathParameters: unknown } };
    expect(greedy.event.routeKey).toBe('ANY /echo/{proxy+}');
    expect(greedy.event.pathParameters).toEqual({ proxy: 'a/b c' });

    const exact = (await (await get('/exact/path')).json()) as { event: { routeKey: string } };
    expect(exact.event.routeKey).toBe('GET /exact/path');
  });

  it('sends what no route matches to $default', async () => {
    const res = await get('/nowhere/at/all?x=1');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { event: { routeKey: string; rawPath: string } };
    expect(body.event.routeKey).toBe('$default');
    expect(body.event.rawPath).toBe('/nowhere/at/all');
  });
});

describe('the payload format 2.0 event', () => {
  it('is what API Gateway sends', async () => {
    const res = await get('/echo?a=1&a=2&b=x%20y', {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: 'c1=v1; c2=v2', 'x-multi': 'one', 'user-agent': 'tester/1.0' },
      body: JSON.stringify({ hello: 'world' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('apigw-requestid')).toBeTruthy();
    const { event, context } = (await res.json()) as { event: Record<string, unknown> & { requestContext: Record<string, unknown> }; context: Record<string, unknown> };
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'POST /echo',
      rawPath: '/echo',
      rawQueryString: 'a=1&a=2&b=x%20y',
      cookies: ['c1=v1', 'c2=v2'],
      queryStringParameters: { a: '1,2', b: 'x y' },
      body: '{"hello":"world"}',
      isBase64Encoded: false,
    });
    expect(event.headers).toMatchObject({ 'content-type': 'application/json', 'x-multi': 'one', 'user-agent': 'tester/1.0' });
    expect(event.headers).not.toHaveProperty('cookie');
    expect(event).not.toHaveProperty('pathParameters');
    const rc = event.requestContext;
    expect(rc).toMatchObject({ routeKey: 'POST /echo', stage: '$default', accountId: '000000000000' });
    expect(rc.http).toMatchObject({ method: 'POST', path: '/echo', protocol: 'HTTP/1.1', userAgent: 'tester/1.0' });
    expect(rc.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    expect(typeof rc.timeEpoch).toBe('number');
    expect(rc.requestId).toBe(res.headers.get('apigw-requestid'));
    expect(context.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(context.functionName).toBe('echo');
    expect(context.invokedFunctionArn).toBe('arn:aws:lambda:us-east-1:000000000000:function:echo');
  });

  it('base64-encodes binary bodies', async () => {
    const bytes = Buffer.from([0, 1, 2, 250, 251, 252]);
    const res = await get('/echo', { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: bytes });
    const { event } = (await res.json()) as { event: { body: string; isBase64Encoded: boolean } };
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body, 'base64')).toEqual(bytes);
  });

  it('joins repeated headers with commas', async () => {
    const headers = new Headers();
    headers.append('x-rep', 'a');
    headers.append('x-rep', 'b');
    const { event } = (await (await get('/echo/1', { headers })).json()) as { event: { headers: Record<string, string> } };
    expect(event.headers['x-rep']).toBe('a, b');
  });
});

describe('responses', () => {
  it('maps statusCode, headers, cookies and body', async () => {
    const res = await get('/respond');
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toBe('text/plain');
    expect(res.headers.get('x-number')).toBe('7');
    expect(res.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; HttpOnly']);
    expect(await res.text()).toBe('created');
  });

  it('sends an object without statusCode as 200 JSON', async () => {
    const res = await get('/respond?shape=object');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ hello: 'world' });
  });

  it('sends a string result as the body', async () => {
    const res = await get('/respond?shape=string');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('just a string');
  });

  it('decodes base64 bodies', async () => {
    const res = await get('/respond?shape=binary');
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await res.arrayBuffer())).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 255]));
  });

  it('answers a malformed function response with 500', async () => {
    const res = await get('/respond?shape=invalid');
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ message: 'Internal Server Error' });
  });
});

describe('errors', () => {
  it('sends an unmatched method of a known path to $default, as API Gateway does', async () => {
    const res = await get('/exact/path', { method: 'DELETE' });
    const body = (await res.json()) as { event: { routeKey: string } };
    expect(body.event.routeKey).toBe('$default');
  });

  it('answers 413 for bodies over the payload limit', async () => {
    const res = await get('/echo', { method: 'POST', body: Buffer.alloc(10 * 1024 * 1024 + 1) });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ message: 'Request Entity Too Large' });
  });

  it('answers 413 for a body within API Gateway’s 10 MB whose event is over Lambda’s 6 MB', async () => {
    const res = await get('/echo', { method: 'POST', body: Buffer.alloc(7 * 1024 * 1024, 'a') });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ message: 'Request Entity Too Large' });
    expect((await get('/echo/1')).status).toBe(200);
  });

  it('answers 500 when the function throws, and keeps serving', async () => {
    const res = await get('/throws');
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ message: 'Internal Server Error' });
    expect((await get('/echo/1')).status).toBe(200);
  });

  it('answers 500 when a function times out, and kills it', async () => {
    const before = (await (await get('/sleepy?ms=1')).json()) as { pid: number };
    const res = await get('/sleepy?ms=5000');
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ message: 'Internal Server Error' });
    await eventually(async () => !alive(before.pid));
    const logs = (await (await nuvola.control('/logs?fn=sleepy')).json()) as { records: { message: string }[] };
    expect(logs.records.map((r) => r.message).join('\n')).toMatch(/Task timed out after 1\.00 seconds/);
    const after = (await (await get('/sleepy?ms=1')).json()) as { pid: number };
    expect(after.pid).not.toBe(before.pid);
  }, 20_000);

  it('answers 503 when the integration outlasts the API timeout', async () => {
    const started = Date.now();
    const res = await get('/patient?ms=9000');
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ message: 'Service Unavailable' });
    // Answered at the API's 3 s timeout, long before the function's 9 s are over.
    expect(Date.now() - started).toBeLessThan(8_000);
  }, 20_000);
});

describe('CORS', () => {
  it('answers preflight requests without invoking', async () => {
    const res = await get('/echo/1', {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(res.headers.get('access-control-allow-methods')).toMatch(/POST/);
    expect(res.headers.get('access-control-max-age')).toBe('300');
  });

  it('adds CORS headers to actual responses of allowed origins only', async () => {
    const ok = await get('/echo/1', { headers: { origin: 'https://app.example.com' } });
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(ok.headers.get('access-control-expose-headers')).toMatch(/x-request-id/);
    const other = await get('/echo/1', { headers: { origin: 'https://evil.example.com' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});
