import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { InvokeResult } from '../../ports/executor.js';
import { createGateway } from './service.js';
import type { ApiGatewayV2Event, GatewayRequest } from './event.js';

/**
 * Our payload format 2.0 events against the public samples of the AWS SDKs (aws-lambda-go,
 * powertools-python, aws-lambda-java-libs), read from the conformance data in test/conformance: for a request
 * equivalent to each sample, the same keys at every level and the same value formats. Fields we do
 * not produce (authorizer, authentication: no authorizers or mTLS here; stageVariables: the `$default`
 * stage has none) are left out of the comparison.
 */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const samplesDir = path.resolve(repoRoot, 'test/conformance/lambda-events');

const NOT_PRODUCED = new Set(['authorizer', 'authentication', 'stageVariables']);
/**
 * Samples whose key order is AWS's own: the documentation's example (copied by powertools) and a
 * captured event (aws-lambda-go). The other samples were written by hand in another order.
 */
const ORDER_REFERENCES = ['powertools-python/apiGatewayProxyV2Event.json', 'aws-lambda-go/apigw-v2-request-no-authorizer.json'];

const REQUEST_ID = /^[A-Za-z0-9_-]{15}=$/;
const TIME = /^\d{2}\/(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/;
// Some hand-written samples drop the space before the zone.
const SAMPLE_TIME = /^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} ?\+0000$/;

interface Sample {
  name: string;
  event: ApiGatewayV2Event & { type?: string; stageVariables?: unknown };
}

function listJson(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return listJson(full);
    return entry.name.endsWith('.json') ? [full] : [];
  });
}

/** HTTP API proxy events: version 2.0 with an `http` context, not authorizer inputs (`type`), not function URLs. */
function loadSamples(): Sample[] {
  const samples: Sample[] = [];
  for (const file of listJson(samplesDir)) {
    let event: Sample['event'];
    try {
      event = JSON.parse(readFileSync(file, 'utf8')) as Sample['event'];
    } catch {
      continue; // one sample is deliberately invalid JSON
    }
    const ctx = event?.requestContext as Partial<ApiGatewayV2Event['requestContext']> | undefined;
    if (event?.version !== '2.0' || !ctx?.http || event.type !== undefined || !ctx.domainName?.includes('.execute-api.')) continue;
    samples.push({ name: path.relative(samplesDir, file), event });
  }
  return samples.sort((a, b) => a.name.localeCompare(b.name));
}

const FORWARDED = ['x-forwarded-for', 'x-forwarded-port', 'x-forwarded-proto'];

/** The request that, sent to API Gateway, would have produced `sample`. */
function equivalentRequest(sample: ApiGatewayV2Event): { req: GatewayRequest; added: Set<string> } {
  const headers: [string, string][] = [];
  const sent = new Set<string>();
  for (const [name, value] of Object.entries(sample.headers ?? {})) {
    if (FORWARDED.includes(name.toLowerCase())) continue; // the gateway sets these itself
    sent.add(name.toLowerCase());
    // Repeats were joined by AWS; send them apart so the joining is exercised.
    for (const part of value.split(',')) headers.push([name, part]);
  }
  const added = new Set<string>(FORWARDED);
  const add = (name: string, value: string) => {
    if (sent.has(name)) return;
    headers.push([name, value]);
    added.add(name);
  };
  add('host', sample.requestContext.domainName);
  if (sample.requestContext.http.userAgent) add('user-agent', sample.requestContext.http.userAgent);
  if (sample.cookies) headers.push(['Cookie', sample.cookies.join('; ')]);
  let body: Buffer | null = null;
  if (sample.body !== undefined) {
    body = Buffer.from(sample.body, sample.isBase64Encoded ? 'base64' : 'utf8');
    add('content-type', sample.isBase64Encoded ? 'application/octet-stream' : 'application/json');
  }
  const forwardedPort = sample.headers?.['x-forwarded-port'];
  const req: GatewayRequest = {
    method: sample.requestContext.http.method,
    rawPath: encodeURI(sample.rawPath),
    rawQueryString: sample.rawQueryString,
    headers,
    body,
    sourceIp: sample.requestContext.http.sourceIp,
    protocol: sample.requestContext.http.protocol,
    port: forwardedPort ? Number(forwardedPort) : 443,
    scheme: 'https',
  };
  return { req, added };
}

async function eventFor(sample: ApiGatewayV2Event): Promise<{ event: ApiGatewayV2Event; added: Set<string> }> {
  const { req, added } = equivalentRequest(sample);
  let captured: ApiGatewayV2Event | undefined;
  const gateway = createGateway({
    apiId: sample.requestContext.apiId,
    accountId: sample.requestContext.accountId,
    // A route with variables where the sample has path parameters, `$default` otherwise.
    routes: [
      { routeKey: sample.pathParameters ? 'ANY /{first}/{proxy+}' : '$default', fn: 'f' },
      { routeKey: '$default', fn: 'f' },
    ].filter((r, i, all) => all.findIndex((o) => o.routeKey === r.routeKey) === i),
    now: () => sample.requestContext.timeEpoch,
    invoke: async (_fn, event): Promise<InvokeResult> => {
      captured = event as ApiGatewayV2Event;
      return { requestId: 'r', payload: '"ok"', durationMs: 1, billedDurationMs: 1, maxMemoryUsedMb: 1 };
    },
  });
  const res = await gateway.handle(req);
  expect(res.statusCode).toBe(200);
  if (!captured) throw new Error('function not invoked');
  return { event: captured, added };
}

const keys = (o: object | undefined) => Object.keys(o ?? {}).filter((k) => !NOT_PRODUCED.has(k));
const sorted = (o: object | undefined) => keys(o).sort();

const samples = loadSamples();

describe('payload format 2.0 conformance', () => {
  it('finds the HTTP API samples', () => {
    expect(samples.length).toBeGreaterThanOrEqual(8);
    expect(samples.map((s) => s.name)).toEqual(expect.arrayContaining(ORDER_REFERENCES));
  });

  describe.each(samples)('$name', ({ name, event: sample }) => {
    it('has the same keys at every level', async () => {
      const { event } = await eventFor(sample);
      expect(sorted(event)).toEqual(sorted(sample));
      expect(sorted(event.requestContext)).toEqual(sorted(sample.requestContext));
      expect(sorted(event.requestContext.http)).toEqual(sorted(sample.requestContext.http));
      if (ORDER_REFERENCES.includes(name)) {
        expect(keys(event)).toEqual(keys(sample));
        expect(keys(event.requestContext)).toEqual(keys(sample.requestContext));
        expect(keys(event.requestContext.http)).toEqual(keys(sample.requestContext.http));
      }
    });

    it('has the same values and value formats', async () => {
      const { event, added } = await eventFor(sample);
      expect(event.version).toBe('2.0');
      expect(event.rawPath).toBe(sample.rawPath);
      expect(event.rawQueryString).toBe(sample.rawQueryString);
      expect(event.cookies).toEqual(sample.cookies);
      expect(event.queryStringParameters).toEqual(sample.queryStringParameters);
      expect(event.body).toEqual(sample.body);
      expect(event.isBase64Encoded).toBe(sample.isBase64Encoded);

      const lowered = Object.fromEntries(Object.entries(sample.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
      expect(event.headers).toMatchObject(lowered);
      for (const extra of Object.keys(event.headers).filter((k) => !(k in lowered))) expect(added).toContain(extra);

      const ours = event.requestContext;
      const theirs = sample.requestContext;
      expect(ours.accountId).toBe(theirs.accountId);
      expect(ours.apiId).toBe(theirs.apiId);
      expect(ours.domainName).toBe(theirs.domainName);
      expect(ours.domainPrefix).toBe(theirs.domainPrefix);
      expect(ours.domainName.startsWith(`${ours.domainPrefix}.`)).toBe(true);
      expect(ours.http).toEqual({ ...theirs.http, path: event.rawPath });
      expect(ours.stage).toBe(theirs.stage);
      expect(ours.routeKey).toBe(event.routeKey);
      expect(event.routeKey).toMatch(/^(\$default|(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|ANY) \/\S*)$/);

      expect(ours.requestId).toMatch(REQUEST_ID);
      if (theirs.requestId !== 'id') expect(theirs.requestId).toMatch(REQUEST_ID); // 'id' is a placeholder
      expect(theirs.time).toMatch(SAMPLE_TIME);
      expect(ours.time).toMatch(TIME);
      expect(ours.timeEpoch).toBe(theirs.timeEpoch);
      if (TIME.test(theirs.time) && sameSecond(theirs.time, theirs.timeEpoch)) expect(ours.time).toBe(theirs.time);
    });
  });
});

/** Whether a sample's `time` and `timeEpoch` agree (hand-written samples often do not). */
function sameSecond(time: string, epoch: number): boolean {
  const [date, h, m, s] = time.slice(0, 20).split(':') as [string, string, string, string];
  const [day, mon, year] = date.split('/') as [string, string, string];
  const parsed = Date.parse(`${day} ${mon} ${year} ${h}:${m}:${s} GMT`);
  return Math.floor(parsed / 1000) === Math.floor(epoch / 1000);
}
