import { randomFillSync } from 'node:crypto';

/**
 * The request side of an HTTP API: a listener-neutral request, and the Lambda event of payload
 * format 2.0 built from it exactly as API Gateway builds it
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html),
 * checked against public samples in `conformance.test.ts`.
 */

/** A request as a listener received it, before any decoding. */
export interface GatewayRequest {
  readonly method: string;
  /** The path as received, percent-encoded, without the query string. */
  readonly rawPath: string;
  /** The query string as received, without `?`. */
  readonly rawQueryString: string;
  /** Header pairs in arrival order with their original case (node's `req.rawHeaders`, paired). */
  readonly headers: ReadonlyArray<readonly [name: string, value: string]>;
  readonly body: Buffer | null;
  readonly sourceIp: string;
  /** `HTTP/1.1`. */
  readonly protocol: string;
  /** The listener's port and scheme: API Gateway tells functions both in `x-forwarded-port`/`-proto`. */
  readonly port?: number | undefined;
  readonly scheme?: 'http' | 'https' | undefined;
}

/** The payload format 2.0 event, keys in the order AWS sends them. */
export interface ApiGatewayV2Event {
  version: '2.0';
  routeKey: string;
  rawPath: string;
  rawQueryString: string;
  cookies?: string[];
  headers: Record<string, string>;
  queryStringParameters?: Record<string, string>;
  requestContext: {
    accountId: string;
    apiId: string;
    domainName: string;
    domainPrefix: string;
    http: { method: string; path: string; protocol: string; sourceIp: string; userAgent: string };
    requestId: string;
    routeKey: string;
    stage: string;
    time: string;
    timeEpoch: number;
  };
  body?: string;
  pathParameters?: Record<string, string>;
  isBase64Encoded: boolean;
}

/** The headers of a request as the event carries them, and the few the gateway itself reads. */
export interface ScannedHeaders {
  /** Lower-case names; repeats joined with `,` (no space, as AWS joins them); no `cookie`. */
  readonly headers: Record<string, string>;
  /** Every `Cookie` header split into its `name=value` pairs; null when there are none. */
  readonly cookies: string[] | null;
}

/**
 * Lower-cases names, joins repeats with `,`, moves cookies out of `headers` (HTTP APIs do: the
 * `cookie` header is not in a 2.0 event) and sets the `x-forwarded-*` headers as API Gateway does:
 * the client address appended to `x-forwarded-for`, the listener's port and scheme.
 */
export function scanHeaders(req: GatewayRequest): ScannedHeaders {
  const headers: Record<string, string> = {};
  let cookies: string[] | null = null;
  for (const [name, value] of req.headers) {
    const key = name.toLowerCase();
    if (key === 'cookie') {
      cookies ??= [];
      splitCookies(value, cookies);
      continue;
    }
    const existing = headers[key];
    if (existing !== undefined && Object.hasOwn(headers, key)) headers[key] = `${existing},${value}`;
    else setKey(headers, key, value);
  }
  const forwardedFor = headers['x-forwarded-for'];
  headers['x-forwarded-for'] = forwardedFor ? `${forwardedFor}, ${req.sourceIp}` : req.sourceIp;
  if (req.port !== undefined) headers['x-forwarded-port'] = String(req.port);
  headers['x-forwarded-proto'] = req.scheme ?? 'http';
  return { headers, cookies: cookies !== null && cookies.length > 0 ? cookies : null };
}

function splitCookies(value: string, into: string[]): void {
  let start = 0;
  while (start < value.length) {
    let end = value.indexOf(';', start);
    if (end === -1) end = value.length;
    const pair = value.slice(start, end).trim();
    if (pair !== '') into.push(pair);
    start = end + 1;
  }
}

/**
 * The path API Gateway routes on and hands to functions: HTTP APIs percent-decode it once, `%2F`
 * included, before routing, so `rawPath` and `requestContext.http.path` are decoded (captured from
 * a live HTTP API: `/capture/space%20value` arrives as `/capture/space value`). Null when the
 * encoding is malformed; AWS answers such paths with 400.
 */
export function decodePath(rawPath: string): string | null {
  if (!rawPath.includes('%')) return rawPath;
  try {
    return decodeURIComponent(rawPath);
  } catch {
    return null;
  }
}

/**
 * `queryStringParameters`: names and values form-decoded (`+` is a space), repeats joined with `,`;
 * null when there is no query string. A malformed escape is kept as written rather than failing.
 */
export function parseQuery(raw: string): Record<string, string> | null {
  if (raw === '') return null;
  const out: Record<string, string> = {};
  let any = false;
  let start = 0;
  while (start <= raw.length) {
    let end = raw.indexOf('&', start);
    if (end === -1) end = raw.length;
    if (end > start) {
      const eq = raw.indexOf('=', start);
      const hasValue = eq !== -1 && eq < end;
      const key = decodeForm(raw.slice(start, hasValue ? eq : end));
      const value = hasValue ? decodeForm(raw.slice(eq + 1, end)) : '';
      const existing = Object.hasOwn(out, key) ? out[key] : undefined;
      setKey(out, key, existing === undefined ? value : `${existing},${value}`);
      any = true;
    }
    start = end + 1;
  }
  return any ? out : null;
}

function decodeForm(s: string): string {
  const plus = s.includes('+');
  if (!plus && !s.includes('%')) return s;
  const spaced = plus ? s.replaceAll('+', ' ') : s;
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

/**
 * Media types HTTP APIs pass as text; every other body, one without a content type and (as verified
 * against AWS) `application/x-www-form-urlencoded` included, reaches the function base64-encoded.
 */
export const TEXT_MEDIA_TYPES: ReadonlySet<string> = new Set(['application/json', 'application/xml', 'application/javascript']);

export function isTextContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const semi = contentType.indexOf(';');
  const type = (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  return type.startsWith('text/') || TEXT_MEDIA_TYPES.has(type);
}

export interface EventContext {
  readonly routeKey: string;
  readonly pathParameters: Record<string, string> | null;
  /** The decoded path (see `decodePath`). */
  readonly path: string;
  readonly requestId: string;
  readonly timeEpoch: number;
  readonly apiId: string;
  readonly accountId: string;
  readonly region: string;
  readonly stage: string;
}

export function buildEvent(req: GatewayRequest, scanned: ScannedHeaders, ctx: EventContext): ApiGatewayV2Event {
  const { headers, cookies } = scanned;
  // AWS reports the host the client used; on a laptop that is `localhost:<port>`, so the Host header
  // is taken as is (port included, so URLs built from it work) and the AWS name only without one.
  const domainName = headers['host'] ?? `${ctx.apiId}.execute-api.${ctx.region}.amazonaws.com`;
  const event: ApiGatewayV2Event = {
    version: '2.0',
    routeKey: ctx.routeKey,
    rawPath: ctx.path,
    rawQueryString: req.rawQueryString,
  } as ApiGatewayV2Event;
  if (cookies !== null) event.cookies = cookies;
  event.headers = headers;
  const query = parseQuery(req.rawQueryString);
  if (query !== null) event.queryStringParameters = query;
  event.requestContext = {
    accountId: ctx.accountId,
    apiId: ctx.apiId,
    domainName,
    domainPrefix: domainPrefixOf(domainName),
    http: {
      method: req.method,
      path: ctx.path,
      protocol: req.protocol,
      sourceIp: req.sourceIp,
      userAgent: headers['user-agent'] ?? '',
    },
    requestId: ctx.requestId,
    routeKey: ctx.routeKey,
    stage: ctx.stage,
    time: formatRequestTime(ctx.timeEpoch),
    timeEpoch: ctx.timeEpoch,
  };
  let isBase64Encoded = false;
  if (req.body !== null && req.body.length > 0) {
    isBase64Encoded = !isTextContentType(headers['content-type']);
    event.body = req.body.toString(isBase64Encoded ? 'base64' : 'utf8');
  }
  if (ctx.pathParameters !== null) event.pathParameters = ctx.pathParameters;
  event.isBase64Encoded = isBase64Encoded;
  return event;
}

function domainPrefixOf(domainName: string): string {
  let end = domainName.length;
  for (let i = 0; i < domainName.length; i++) {
    const c = domainName.charCodeAt(i);
    if (c === 0x2e /* . */ || (c === 0x3a /* : */ && domainName.charCodeAt(0) !== 0x5b /* [ */)) {
      end = i;
      break;
    }
  }
  return domainName.slice(0, end);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
let cachedSecond = Number.NaN;
let cachedTime = '';

/** `requestContext.time`: `10/Jul/2026:19:19:05 +0000` (CLF, always UTC); formatted once a second. */
export function formatRequestTime(epochMs: number): string {
  const second = Math.floor(epochMs / 1000);
  if (second === cachedSecond) return cachedTime;
  const d = new Date(second * 1000);
  cachedTime = `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
  cachedSecond = second;
  return cachedTime;
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

// AWS request IDs are 11 bytes in URL-safe base64 with its one `=` of padding (`LV7fzho-PHcEJPw=`).
const ID_BYTES = 11;
const idPool = Buffer.allocUnsafe(ID_BYTES * 512);
let idOffset = idPool.length;

/** A new `requestContext.requestId` / `apigw-requestid`; random bytes are drawn 512 IDs at a time. */
export function newRequestId(): string {
  if (idOffset === idPool.length) {
    randomFillSync(idPool);
    idOffset = 0;
  }
  const id = idPool.toString('base64url', idOffset, idOffset + ID_BYTES);
  idOffset += ID_BYTES;
  return `${id}=`;
}

/** Sets `obj[key]`, keeping a `__proto__` key (a legal header or query name) an ordinary property. */
function setKey(obj: Record<string, string>, key: string, value: string): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}
