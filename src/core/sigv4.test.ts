import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { credentialScope, parseCredential } from './sigv4.js';

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
