/**
 * AWS Signature Version 4 on incoming requests: reading the credential scope (which service a request
 * is for) and verifying the signature, from the `Authorization` header or a presigned query
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html). Pure: the hash and
 * HMAC functions are passed in, so every endpoint (Lambda, S3, SQS, …) shares this one verifier.
 */
export interface CredentialScope {
  readonly accessKeyId: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
const HEADER = /^AWS4-HMAC-SHA256\s+Credential=([^,\s]+)/;
/** Header-signed requests may be this far from the server's clock, either way (AWS: 15 minutes). */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;
/** Presigned URLs live at most 7 days (`X-Amz-Expires` ≤ 604800). */
export const MAX_PRESIGN_EXPIRES_S = 604_800;

/** `AKID/20150830/us-east-1/iam/aws4_request` → its parts; undefined when malformed. */
export function parseCredential(credential: string): CredentialScope | undefined {
  const parts = credential.split('/');
  if (parts.length !== 5 || parts[4] !== 'aws4_request') return undefined;
  const [accessKeyId, date, region, service] = parts as [string, string, string, string];
  if (!accessKeyId || !/^\d{8}$/.test(date) || !region || !service) return undefined;
  return { accessKeyId, date, region, service };
}

/** The credential scope of a signed request, from its Authorization header or presigned query. */
export function credentialScope(authorization: string | undefined, query: string): CredentialScope | undefined {
  if (authorization) {
    const m = HEADER.exec(authorization);
    return m ? parseCredential(m[1]!) : undefined;
  }
  if (!query.includes('X-Amz-Credential=')) return undefined;
  const credential = new URLSearchParams(query).get('X-Amz-Credential');
  return credential ? parseCredential(credential) : undefined;
}

/** Hashing, passed in by the caller (Node's `crypto`, WebCrypto, …). */
export interface SigV4Crypto {
  sha256Hex(data: string | Uint8Array): string;
  hmac(key: string | Uint8Array, data: string): Uint8Array;
}

/** An incoming request as it came off the wire: the path and query undecoded, headers as sent. */
export interface IncomingSignedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  /** Name/value pairs in arrival order, repeated names repeated. */
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Uint8Array | string;
}

export interface VerifyOptions {
  readonly crypto: SigV4Crypto;
  /** The secret of an access key this platform issued; undefined for an unknown key. */
  readonly secretOf: (accessKeyId: string) => string | undefined;
  /** Milliseconds since the epoch. */
  readonly now: number;
  /**
   * S3 signs the path as sent (no normalization, no second encoding) and presigned S3 URLs carry no
   * payload hash; every other service normalizes and encodes the path again.
   */
  readonly s3?: boolean;
  /** Resolve `.`, `..` and empty segments of the path before encoding it (all SDKs do; default true). */
  readonly normalizePath?: boolean;
}

export type SigV4Problem =
  /** The signature's parts are missing or malformed (AWS: `IncompleteSignatureException`, 400). */
  | 'incomplete'
  /** The access key is not one this platform issued (`UnrecognizedClientException`, 403). */
  | 'unknown-key'
  /** The signature does not match (`InvalidSignatureException` / S3 `SignatureDoesNotMatch`, 403). */
  | 'mismatch'
  /** Signed too long ago or in the future, or a presigned URL past its expiry (403). */
  | 'expired';

export type VerifyResult =
  | { readonly ok: true; readonly scope: CredentialScope }
  | { readonly ok: false; readonly problem: SigV4Problem; readonly message: string };

interface Parsed {
  readonly scope: CredentialScope;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
  readonly amzDate: string;
  readonly presigned: boolean;
  /** Presigned: seconds the URL is valid from `amzDate`. */
  readonly expires?: number;
  /** The query pairs that are signed (a presigned one without its own signature). */
  readonly query: readonly (readonly [string, string])[];
}

type Failure = Extract<VerifyResult, { ok: false }>;
const fail = (problem: SigV4Problem, message: string): Failure => ({ ok: false, problem, message });

const SIGV4_MESSAGES = {
  UNKNOWN_KEY: 'The security token included in the request is invalid.',
  MISMATCH:
    'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
} as const;

/** Verifies the SigV4 signature of a request; names what is wrong as AWS would. */
export function verifySigV4(req: IncomingSignedRequest, options: VerifyOptions): VerifyResult {
  const parsed = parseSignature(req);
  if ('problem' in parsed) return parsed;
  const { scope, amzDate } = parsed;
  const signedAt = parseAmzDate(amzDate);
  if (signedAt === undefined) return fail('incomplete', `Invalid X-Amz-Date: ${amzDate}`);
  if (amzDate.slice(0, 8) !== scope.date) return fail('mismatch', `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scope.date}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`);
  const secret = options.secretOf(scope.accessKeyId);
  if (secret === undefined) return fail('unknown-key', SIGV4_MESSAGES.UNKNOWN_KEY);

  const expired = checkTime(parsed, signedAt, options.now);
  if (expired) return expired;

  const canonical = canonicalRequest(req, parsed, options);
  const toSign = stringToSign(amzDate, scope, options.crypto.sha256Hex(canonical));
  const key = signingKey(options.crypto, secret, scope);
  const expected = hex(options.crypto.hmac(key, toSign));
  if (!sameText(expected, parsed.signature.toLowerCase())) return fail('mismatch', SIGV4_MESSAGES.MISMATCH);
  return { ok: true, scope };
}

function checkTime(parsed: Parsed, signedAt: number, now: number): Failure | undefined {
  if (parsed.presigned) {
    if (signedAt - now > MAX_CLOCK_SKEW_MS) return fail('expired', 'Request is not yet valid');
    if (now > signedAt + (parsed.expires ?? 0) * 1000) return fail('expired', 'Request has expired');
    return undefined;
  }
  if (now - signedAt > MAX_CLOCK_SKEW_MS) {
    return fail('expired', `Signature expired: ${parsed.amzDate} is now earlier than ${amzDateOf(now - MAX_CLOCK_SKEW_MS)} (${amzDateOf(now)} - 15 min.)`);
  }
  if (signedAt - now > MAX_CLOCK_SKEW_MS) {
    return fail('expired', `Signature not yet current: ${parsed.amzDate} is still later than ${amzDateOf(now + MAX_CLOCK_SKEW_MS)} (${amzDateOf(now)} + 15 min.)`);
  }
  return undefined;
}

function parseSignature(req: IncomingSignedRequest): Parsed | Failure {
  const authorization = headerValues(req.headers, 'authorization');
  const query = parseQuery(req.query);
  if (authorization.length > 0) {
    const auth = authorization[0]!.trim();
    if (!auth.startsWith(`${ALGORITHM} `)) return fail('incomplete', `Authorization header requires the ${ALGORITHM} algorithm.`);
    const fields = new Map<string, string>();
    for (const part of auth.slice(ALGORITHM.length + 1).split(',')) {
      const eq = part.indexOf('=');
      if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
    }
    const missing = ['Credential', 'SignedHeaders', 'Signature'].filter((f) => !fields.get(f));
    if (missing.length > 0) {
      return fail('incomplete', missing.map((f) => `Authorization header requires '${f}' parameter.`).join(' ') + ` Authorization=${ALGORITHM}`);
    }
    const scope = parseCredential(fields.get('Credential')!);
    if (!scope) return fail('incomplete', `Credential should be scoped correctly: ${fields.get('Credential')}`);
    const amzDate = headerValues(req.headers, 'x-amz-date')[0] ?? fromHttpDate(headerValues(req.headers, 'date')[0]);
    if (!amzDate) return fail('incomplete', "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
    return { scope, signedHeaders: fields.get('SignedHeaders')!.split(';'), signature: fields.get('Signature')!, amzDate, presigned: false, query };
  }
  const get = (name: string) => query.find(([k]) => k === name)?.[1];
  const credential = get('X-Amz-Credential');
  const missing = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-SignedHeaders', 'X-Amz-Date'].filter((p) => !get(p));
  if (missing.length > 0) return fail('incomplete', `AWS query-string parameters must include ${missing.map((p) => `'${p}'`).join(', ')}. Re-examine the query-string parameters.`);
  if (get('X-Amz-Algorithm') !== ALGORITHM) return fail('incomplete', `X-Amz-Algorithm only supports "${ALGORITHM}"`);
  const scope = parseCredential(credential!);
  if (!scope) return fail('incomplete', `Credential should be scoped correctly: ${credential}`);
  const expiresText = get('X-Amz-Expires') ?? '';
  const expires = /^\d{1,7}$/.test(expiresText) ? Number(expiresText) : NaN;
  if (!(expires >= 1 && expires <= MAX_PRESIGN_EXPIRES_S)) return fail('incomplete', `X-Amz-Expires must be a number of seconds from 1 to ${MAX_PRESIGN_EXPIRES_S}, got ${JSON.stringify(expiresText)}`);
  return {
    scope,
    signedHeaders: get('X-Amz-SignedHeaders')!.split(';'),
    signature: get('X-Amz-Signature')!,
    amzDate: get('X-Amz-Date')!,
    presigned: true,
    expires,
    query: query.filter(([k]) => k !== 'X-Amz-Signature'),
  };
}

/** The canonical request of SigV4's step 1. */
function canonicalRequest(req: IncomingSignedRequest, parsed: Pick<Parsed, 'signedHeaders' | 'presigned' | 'query'>, options: Pick<VerifyOptions, 'crypto' | 's3' | 'normalizePath'>): string {
  const path = options.s3 ? req.path : canonicalPath(req.path, options.normalizePath ?? true);
  const query = parsed.query
    .map(([k, v]) => [escapeUri(k), escapeUri(v)] as const)
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const names = parsed.signedHeaders.map((h) => h.toLowerCase());
  const headers = names.map((name) => `${name}:${headerValues(req.headers, name).map(canonicalValue).join(',')}\n`).join('');
  const declared = headerValues(req.headers, 'x-amz-content-sha256')[0];
  const payloadHash = declared ?? (parsed.presigned && options.s3 ? 'UNSIGNED-PAYLOAD' : options.crypto.sha256Hex(req.body));
  return `${req.method}\n${path}\n${query}\n${headers}\n${names.join(';')}\n${payloadHash}`;
}

function stringToSign(amzDate: string, scope: CredentialScope, canonicalRequestHash: string): string {
  return `${ALGORITHM}\n${amzDate}\n${scope.date}/${scope.region}/${scope.service}/aws4_request\n${canonicalRequestHash}`;
}

function signingKey(crypto: SigV4Crypto, secret: string, scope: Pick<CredentialScope, 'date' | 'region' | 'service'>): Uint8Array {
  const date = crypto.hmac(`AWS4${secret}`, scope.date);
  return crypto.hmac(crypto.hmac(crypto.hmac(date, scope.region), scope.service), 'aws4_request');
}

/** The path as the SDKs sign it for every service but S3: dot segments resolved, then encoded (again). */
function canonicalPath(path: string, normalize: boolean): string {
  let p = path;
  if (normalize) {
    const segments: string[] = [];
    for (const s of path.split('/')) {
      if (s === '' || s === '.') continue;
      if (s === '..') segments.pop();
      else segments.push(s);
    }
    p = `${path.startsWith('/') ? '/' : ''}${segments.join('/')}${segments.length > 0 && path.endsWith('/') ? '/' : ''}`;
    if (p === '') p = '/';
  }
  return escapeUri(p).replaceAll('%2F', '/');
}

/** RFC 3986 encoding of everything but the unreserved characters, as SigV4 specifies. */
function escapeUri(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Query pairs, percent-decoded (`+` stays `+`: SigV4 clients encode a space as `%20`). */
function parseQuery(query: string): [string, string][] {
  if (query === '') return [];
  return query.split('&').filter((p) => p !== '').map((pair) => {
    const eq = pair.indexOf('=');
    const [k, v] = eq < 0 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)];
    return [decode(k), decode(v)];
  });
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text; // malformed escapes: signed as sent, and the signature decides
  }
}

function headerValues(headers: IncomingSignedRequest['headers'], name: string): string[] {
  const out: string[] = [];
  for (const [n, v] of headers) if (n.length === name.length && n.toLowerCase() === name) out.push(v);
  return out;
}

/** Leading and trailing spaces trimmed, inner runs of spaces as one (multi-line values joined). */
const canonicalValue = (value: string): string => value.replace(/\s+/g, ' ').trim();

function parseAmzDate(text: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) return undefined;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return Number.isNaN(t) ? undefined : t;
}

function amzDateOf(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** An RFC 7231 `Date` header as an X-Amz-Date. */
function fromHttpDate(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const t = Date.parse(text);
  return Number.isNaN(t) ? undefined : amzDateOf(t);
}

function hex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

/** Compares in time independent of where the texts differ. */
function sameText(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
