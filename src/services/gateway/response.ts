/**
 * The response side of an HTTP API: how a function's result becomes an HTTP response under payload
 * format 2.0, and the gateway's own answers, with API Gateway's limits and texts.
 */

/** A response for a listener to write as is (it adds `content-length` and `date`). */
export interface GatewayResponse {
  readonly statusCode: number;
  /** In order; names may repeat (`set-cookie`). */
  readonly headers: [name: string, value: string][];
  readonly body: Buffer | string;
}

/** API Gateway HTTP API quotas (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html). */
export const GatewayLimits = {
  /** "Payload size: 10 MB", not adjustable. */
  MAX_PAYLOAD_BYTES: 10 * 1024 * 1024,
  /** "Maximum integration timeout: 30 seconds"; also the default. */
  MAX_TIMEOUT_SECONDS: 30,
  /** The smallest integration timeout HTTP APIs accept: 50 ms. */
  MIN_TIMEOUT_SECONDS: 0.05,
} as const;

/** The bodies API Gateway answers with itself, byte for byte. */
export const GatewayMessages = {
  BAD_REQUEST: '{"message":"Bad Request"}',
  NOT_FOUND: '{"message":"Not Found"}',
  PAYLOAD_TOO_LARGE: '{"message":"Request Entity Too Large"}',
  TOO_MANY_REQUESTS: '{"message":"Too Many Requests"}',
  INTERNAL_SERVER_ERROR: '{"message":"Internal Server Error"}',
  SERVICE_UNAVAILABLE: '{"message":"Service Unavailable"}',
} as const;

/**
 * The content type HTTP APIs send when a function returns a `statusCode` but no `content-type`
 * (observed on AWS; AWS's own local emulator, aws-lambda-dotnet's LambdaTestTool-v2, does the same).
 */
export const DEFAULT_RESULT_CONTENT_TYPE = 'text/plain; charset=utf-8';

export function gatewayError(statusCode: number, message: string, requestId: string): GatewayResponse {
  return { statusCode, headers: [['apigw-requestid', requestId], ['content-type', 'application/json']], body: message };
}

/**
 * Maps a function's return value (parsed from the result's JSON) under payload format 2.0; null when the value is a malformed
 * response (which API Gateway answers with 500).
 * - An object with `statusCode` is a response: `statusCode` an integer from 200 to 599 (a 1xx
 *   cannot be a final answer), `headers` (string, number or boolean values),
 *   `cookies` (one `set-cookie` each), `body` (a string; base64-decoded when `isBase64Encoded` is
 *   true). `multiValueHeaders` belongs to format 1.0 and is ignored.
 * - Anything else is data: status 200, `content-type: application/json`, and the value as body — a
 *   string as it is, anything else JSON-serialized (a handler returning nothing gives `null`).
 * `stripCors` drops the function's `access-control-*` headers: with CORS configured, API Gateway
 * ignores them and sends its own.
 */
export function mapFunctionResult(payload: unknown, requestId: string, stripCors: boolean): GatewayResponse | null {
  if (typeof payload === 'string') {
    return { statusCode: 200, headers: [['apigw-requestid', requestId], ['content-type', 'application/json']], body: payload };
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload) || !('statusCode' in payload)) {
    const body = JSON.stringify(payload) ?? 'null';
    return { statusCode: 200, headers: [['apigw-requestid', requestId], ['content-type', 'application/json']], body };
  }
  const result = payload as Record<string, unknown>;
  const { statusCode } = result;
  if (typeof statusCode !== 'number' || !Number.isInteger(statusCode) || statusCode < 200 || statusCode > 599) return null;

  const headers: [string, string][] = [['apigw-requestid', requestId]];
  let hasContentType = false;
  if (result['headers'] !== undefined && result['headers'] !== null) {
    const given = result['headers'];
    if (typeof given !== 'object' || Array.isArray(given)) return null;
    for (const name of Object.keys(given)) {
      const raw = (given as Record<string, unknown>)[name];
      if (raw === undefined || raw === null) continue;
      if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') return null;
      const value = String(raw);
      if (!HEADER_NAME.test(name) || INVALID_VALUE.test(value)) return null;
      const lower = name.toLowerCase();
      if (FRAMING_HEADERS.has(lower) || lower === 'apigw-requestid') continue;
      if (stripCors && lower.startsWith('access-control-')) continue;
      if (lower === 'content-type') hasContentType = true;
      headers.push([name, value]);
    }
  }
  if (!hasContentType) headers.push(['content-type', DEFAULT_RESULT_CONTENT_TYPE]);

  const cookies = result['cookies'];
  if (cookies !== undefined && cookies !== null) {
    if (!Array.isArray(cookies)) return null;
    for (const cookie of cookies) {
      if (typeof cookie !== 'string' || INVALID_VALUE.test(cookie)) return null;
      headers.push(['set-cookie', cookie]);
    }
  }

  const body = result['body'];
  if (body === undefined || body === null) return { statusCode, headers, body: '' };
  if (typeof body !== 'string') return null;
  return { statusCode, headers, body: result['isBase64Encoded'] === true ? Buffer.from(body, 'base64') : body };
}

// What node's http module would refuse to write (it throws, mid-response); checked here instead.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
/** Framing is the listener's: a function's length or encoding would not describe what is sent. */
const FRAMING_HEADERS: ReadonlySet<string> = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive']);
