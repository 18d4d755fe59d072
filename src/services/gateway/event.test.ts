import { describe, expect, it } from 'vitest';
import { buildEvent, decodePath, formatRequestTime, isTextContentType, newRequestId, parseQuery, scanHeaders, type GatewayRequest } from './event.js';

function request(overrides: Partial<GatewayRequest> = {}): GatewayRequest {
  return {
    method: 'GET',
    rawPath: '/',
    rawQueryString: '',
    headers: [['Host', 'localhost:3000']],
    body: null,
    sourceIp: '127.0.0.1',
    protocol: 'HTTP/1.1',
    ...overrides,
  };
}

function event(req: GatewayRequest, pathParameters: Record<string, string> | null = null) {
  return buildEvent(req, scanHeaders(req), {
    routeKey: 'ANY /{proxy+}',
    pathParameters,
    path: decodePath(req.rawPath) as string,
    requestId: 'LV7fzho-PHcEJPw=',
    timeEpoch: 1587481701067,
    apiId: 'abc123',
    accountId: '123456789012',
    region: 'us-west-2',
    stage: '$default',
  });
}

describe('headers and cookies', () => {
  it('lower-cases names, joins repeats with a bare comma and moves cookies out', () => {
    const scanned = scanHeaders(
      request({
        headers: [
          ['Host', 'example.com'],
          ['X-Probe', 'first'],
          ['Cookie', 'session=abc123; theme=dark'],
          ['x-probe', 'second'],
          ['cookie', 'late=1;packed=2'],
        ],
      }),
    );
    expect(scanned.headers).toEqual({
      host: 'example.com',
      'x-probe': 'first,second',
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-proto': 'http',
    });
    expect(scanned.cookies).toEqual(['session=abc123', 'theme=dark', 'late=1', 'packed=2']);
  });

  it('appends the client address to x-forwarded-for and sets port and scheme', () => {
    const { headers } = scanHeaders(request({ headers: [['X-Forwarded-For', '10.0.0.1']], sourceIp: '1.2.3.4', port: 443, scheme: 'https' }));
    expect(headers).toMatchObject({ 'x-forwarded-for': '10.0.0.1, 1.2.3.4', 'x-forwarded-port': '443', 'x-forwarded-proto': 'https' });
  });

  it('keeps a __proto__ header an ordinary key', () => {
    const { headers } = scanHeaders(request({ headers: [['__proto__', 'x']] }));
    expect(Object.getPrototypeOf(headers)).toBe(Object.prototype);
    expect(Object.keys(headers)).toContain('__proto__');
  });

  it('omits cookies when there are none', () => {
    expect(event(request())).not.toHaveProperty('cookies');
    expect(event(request({ headers: [['Cookie', '']] }))).not.toHaveProperty('cookies');
  });
});

describe('query string', () => {
  it('decodes names and values, + as space, joins repeats with commas', () => {
    // The query of a live HTTP API capture (hotsock/voker testdata/apigwv2-request.json).
    expect(parseQuery('repeat=one&repeat=two&redirect=https%3A%2F%2Fexample.com%2Fa%2Fb&literalPlus=a+b&encodedPlus=a%2Bb&empty=')).toEqual({
      repeat: 'one,two',
      redirect: 'https://example.com/a/b',
      literalPlus: 'a b',
      encodedPlus: 'a+b',
      empty: '',
    });
  });

  it('takes a bare name as an empty value, skips empty parts, keeps malformed escapes', () => {
    expect(parseQuery('flag&&a=%E0%A4%A&b=x=y')).toEqual({ flag: '', a: '%E0%A4%A', b: 'x=y' });
  });

  it('is omitted without a query string', () => {
    expect(parseQuery('')).toBeNull();
    expect(event(request())).not.toHaveProperty('queryStringParameters');
    expect(event(request({ rawQueryString: 'a=1' })).queryStringParameters).toEqual({ a: '1' });
  });
});

describe('path', () => {
  it('is decoded once, %2F included, as HTTP APIs deliver it', () => {
    expect(decodePath('/capture/space%20value')).toBe('/capture/space value');
    expect(decodePath('/capture/slash%2Fvalue')).toBe('/capture/slash/value');
    expect(decodePath('/capture/unicode-%CE%BB')).toBe('/capture/unicode-λ');
    expect(decodePath('/bad/%E0%A4%A')).toBeNull();
    const e = event(request({ rawPath: '/a%20b' }), { id: 'a b' });
    expect(e.rawPath).toBe('/a b');
    expect(e.requestContext.http.path).toBe('/a b');
    expect(e.pathParameters).toEqual({ id: 'a b' });
  });

  it('omits pathParameters when the route has none', () => {
    expect(event(request())).not.toHaveProperty('pathParameters');
  });
});

describe('body', () => {
  it('passes text types as text', () => {
    for (const type of ['application/json', 'text/plain; charset=utf-8', 'Application/XML', 'application/javascript', 'text/csv']) {
      const e = event(request({ method: 'POST', headers: [['Content-Type', type]], body: Buffer.from('héllo') }));
      expect(e.body).toBe('héllo');
      expect(e.isBase64Encoded).toBe(false);
    }
  });

  it('base64-encodes everything else, a missing content type and forms included', () => {
    const bytes = Buffer.from([0, 1, 2, 255]);
    for (const headers of [[['Content-Type', 'application/octet-stream']], [['Content-Type', 'application/x-www-form-urlencoded']], [['Content-Type', 'image/png']], []] as [string, string][][]) {
      const e = event(request({ method: 'POST', headers, body: bytes }));
      expect(e.body).toBe('AAEC/w==');
      expect(e.isBase64Encoded).toBe(true);
    }
  });

  it('is omitted when empty', () => {
    const e = event(request({ method: 'POST', headers: [['Content-Type', 'image/png']], body: Buffer.alloc(0) }));
    expect(e).not.toHaveProperty('body');
    expect(e.isBase64Encoded).toBe(false);
  });

  it('classifies content types', () => {
    expect(isTextContentType(undefined)).toBe(false);
    expect(isTextContentType(' text/html ;charset=utf-8')).toBe(true);
    expect(isTextContentType('application/jsonx')).toBe(false);
  });
});

describe('request context', () => {
  it('takes the domain from the Host header, the AWS name without one', () => {
    expect(event(request()).requestContext).toMatchObject({ domainName: 'localhost:3000', domainPrefix: 'localhost' });
    const aws = event(request({ headers: [] })).requestContext;
    expect(aws).toMatchObject({ domainName: 'abc123.execute-api.us-west-2.amazonaws.com', domainPrefix: 'abc123' });
  });

  it('formats time as AWS does', () => {
    expect(formatRequestTime(1587481701067)).toBe('21/Apr/2020:15:08:21 +0000');
    expect(formatRequestTime(1583348638390)).toBe('04/Mar/2020:19:03:58 +0000');
    expect(formatRequestTime(1587481701999)).toBe('21/Apr/2020:15:08:21 +0000');
  });

  it('reports an empty user agent when none was sent', () => {
    expect(event(request()).requestContext.http.userAgent).toBe('');
  });

  it('makes distinct AWS-shaped request IDs', () => {
    const ids = new Set(Array.from({ length: 2000 }, () => newRequestId()));
    expect(ids.size).toBe(2000);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{15}=$/);
  });
});
