import { createHash, createHmac } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { credentialScope, parseCredential, verifySigV4, type IncomingSignedRequest, type SigV4Crypto, type VerifyOptions } from './sigv4.js';

const SUITE = path.resolve(import.meta.dirname, '../../test/conformance/sigv4');

function signedRequests(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? signedRequests(p) : name.endsWith('.sreq') ? [p] : [];
  });
}

describe('credential scope of signed requests', () => {
  const files = signedRequests(path.join(SUITE, 'botocore'));

  it('finds the botocore suite', () => expect(files.length).toBeGreaterThan(20));

  it.each(files.map((f) => [path.basename(f), f]))('%s names its service and region', (_name, file) => {
    const text = readFileSync(file, 'utf8');
    const auth = /^Authorization:\s*(.+)$/im.exec(text)?.[1];
    const scope = credentialScope(auth, '');
    expect(scope).toEqual({ accessKeyId: 'AKIDEXAMPLE', date: '20150830', region: 'us-east-1', service: 'service' });
  });

  const presign = JSON.parse(readFileSync(path.join(SUITE, 'presign-cases.json'), 'utf8')) as {
    name: string;
    service: string;
    region: string;
    expectedQuery?: Record<string, string>;
  }[];
  const withCredential = presign.filter((c) => c.expectedQuery?.['X-Amz-Credential']);

  it.each(withCredential.map((c) => [c.name, c]))('presigned %s names its service', (_name, c) => {
    const query = new URLSearchParams(c.expectedQuery).toString();
    expect(credentialScope(undefined, query)).toMatchObject({ service: c.service, region: c.region });
  });

  it('rejects malformed scopes', () => {
    expect(parseCredential('AKID/2015/us-east-1/s3/aws4_request')).toBeUndefined();
    expect(parseCredential('AKID/20150830/us-east-1/s3')).toBeUndefined();
    expect(credentialScope('Bearer abc', '')).toBeUndefined();
    expect(credentialScope(undefined, 'a=b')).toBeUndefined();
  });
});

// Verification, against the signing suites: each signed request in them must verify at its own
// time with its own key, and fail with a wrong secret, an unknown key, a changed byte or a late clock.
const nodeCrypto: SigV4Crypto = {
  sha256Hex: (data) => createHash('sha256').update(data).digest('hex'),
  hmac: (key, data) => createHmac('sha256', key).update(data).digest(),
};

/** A signed request as the suites write it: request line, `Name:value` lines (folded lines go on), blank line, body. */
function parseHttp(text: string): IncomingSignedRequest {
  const [head = '', ...rest] = text.split(/\r?\n\r?\n/);
  const [requestLine = '', ...lines] = head.split(/\r?\n/);
  const m = /^(\S+) (.*) HTTP\/1\.1$/.exec(requestLine)!;
  const target = m[2]!;
  const q = target.indexOf('?');
  const headers: [string, string][] = [];
  for (const line of lines) {
    if (/^\s/.test(line) && headers.length > 0) headers[headers.length - 1]![1] += `\n${line}`;
    // As an HTTP parser does, the space after the colon is not part of the value.
    else if (line.includes(':')) headers.push([line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trimStart()]);
  }
  return { method: m[1]!, path: q < 0 ? target : target.slice(0, q), query: q < 0 ? '' : target.slice(q + 1), headers, body: rest.join('\n\n') };
}

describe('SigV4 verification: aws-c-auth signing suite', () => {
  const root = path.join(SUITE, 'aws-c-auth/aws-signing-test-suite/v4');
  const cases = readdirSync(root).filter((d) => existsSync(path.join(root, d, 'context.json')));
  it('finds the suite', () => expect(cases.length).toBeGreaterThan(30));

  for (const kind of ['header', 'query'] as const) {
    it.each(cases)(`%s (${kind}) verifies, and fails when tampered with`, (name) => {
      const dir = path.join(root, name);
      const context = JSON.parse(readFileSync(path.join(dir, 'context.json'), 'utf8')) as {
        credentials: { access_key_id: string; secret_access_key: string };
        normalize: boolean;
        timestamp: string;
        omit_session_token?: boolean;
      };
      const file = path.join(dir, `${kind}-signed-request.txt`);
      // A token added after signing (IoT's presigned style) is a query parameter AWS's own verifiers
      // would include: such a URL is not one an AWS endpoint accepts, and neither do we.
      if (!existsSync(file) || (kind === 'query' && context.omit_session_token)) return;
      const req = parseHttp(readFileSync(file, 'utf8'));
      const now = Date.parse(context.timestamp);
      const secrets = { [context.credentials.access_key_id]: context.credentials.secret_access_key };
      const options: VerifyOptions = { crypto: nodeCrypto, secretOf: (k: string) => secrets[k], now, normalizePath: context.normalize };
      const verify = (r: IncomingSignedRequest, o: Partial<VerifyOptions> = {}) => verifySigV4(r, { ...options, ...o });
      expect(verify(req)).toMatchObject({ ok: true, scope: { accessKeyId: 'AKIDEXAMPLE', service: 'service' } });
      expect(verify(req, { secretOf: () => 'wrong' })).toMatchObject({ ok: false, problem: 'mismatch' });
      expect(verify(req, { secretOf: () => undefined })).toMatchObject({ ok: false, problem: 'unknown-key' });
      expect(verify({ ...req, method: req.method === 'GET' ? 'PUT' : 'GET' })).toMatchObject({ ok: false, problem: 'mismatch' });
      expect(verify(req, { now: now + (kind === 'header' ? 16 * 60_000 : 3601_000) })).toMatchObject({ ok: false, problem: 'expired' });
    });
  }
});

describe('SigV4 verification: botocore aws4 suite', () => {
  const root = path.join(SUITE, 'botocore/aws4_testsuite');
  const cases = readdirSync(root).filter((d) => existsSync(path.join(root, d, `${d}.authz`)));
  // The signed request with the expected Authorization header (some .sreq files carry a stale one).
  it.each(cases)('%s verifies', (name) => {
    const signed = parseHttp(readFileSync(path.join(root, name, `${name}.sreq`), 'utf8'));
    const authorization = readFileSync(path.join(root, name, `${name}.authz`), 'utf8').trim();
    const headers = signed.headers.map(([n, v]) => [n, n.toLowerCase() === 'authorization' ? authorization : v] as const);
    const req = { ...signed, headers };
    const result = verifySigV4(req, {
      crypto: nodeCrypto,
      secretOf: (k) => (k === 'AKIDEXAMPLE' ? 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' : undefined),
      now: Date.parse('2015-08-30T12:36:00Z'),
    });
    expect(result).toMatchObject({ ok: true });
  });
});

describe('SigV4 verification: presigned URLs', () => {
  const presigned = (JSON.parse(readFileSync(path.join(SUITE, 'presign-cases.json'), 'utf8')) as {
    name: string;
    signer: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
    time: string;
    request: { method: string; url: string; headers: Record<string, string> };
    expectedQuery?: Record<string, string>;
  }[]).filter((c) => c.expectedQuery?.['X-Amz-Signature']);

  it.each(presigned.map((c) => [c.name, c] as const))('%s verifies until it expires', (_name, c) => {
    const url = new URL(c.request.url);
    const query = new URLSearchParams({ ...Object.fromEntries(url.searchParams), ...c.expectedQuery }).toString().replaceAll('+', '%20');
    const req: IncomingSignedRequest = { method: c.request.method, path: url.pathname, query, headers: [['Host', url.host]], body: '' };
    const s3 = c.signer.startsWith('S3 ');
    const now = Date.parse(c.time);
    const options = { crypto: nodeCrypto, secretOf: (k: string) => (k === c.credentials.accessKeyId ? c.credentials.secretAccessKey : undefined), s3 };
    expect(verifySigV4(req, { ...options, now: now + 30_000 })).toMatchObject({ ok: true });
    const expires = Number(c.expectedQuery!['X-Amz-Expires']);
    expect(verifySigV4(req, { ...options, now: now + expires * 1000 + 1000 })).toEqual({ ok: false, problem: 'expired', message: 'Request has expired' });
  });
});
