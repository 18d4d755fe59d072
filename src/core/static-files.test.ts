import { describe, expect, it } from 'vitest';
import { cacheControlFor, chooseEncoding, compressible, isContentHashed, notModified, parseRange, preconditionFailed, rangeStillValid } from './static-files.js';

describe('byte ranges', () => {
  it('reads the forms of RFC 9110, clamped to the size', () => {
    expect(parseRange('bytes=0-3', 10)).toEqual({ start: 0, end: 3 });
    expect(parseRange('bytes=5-', 10)).toEqual({ start: 5, end: 9 });
    expect(parseRange('bytes=-3', 10)).toEqual({ start: 7, end: 9 });
    expect(parseRange('bytes=-30', 10)).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=8-100', 10)).toEqual({ start: 8, end: 9 });
  });
  it('is unsatisfiable past the end, and ignored when malformed or multiple', () => {
    expect(parseRange('bytes=10-', 10)).toBe('unsatisfiable');
    expect(parseRange('bytes=-0', 10)).toBe('unsatisfiable');
    expect(parseRange('bytes=0-', 0)).toBe('unsatisfiable');
    for (const h of [undefined, 'bytes=', 'bytes=-', 'bytes=5-2', 'items=0-1', 'bytes=0-1,3-4', 'bytes=a-b']) expect(parseRange(h, 10)).toBeUndefined();
  });
});

describe('conditional requests', () => {
  const etag = '"abc"';
  const modified = Date.parse('2026-01-02T03:04:05.678Z');
  it('answers 304 for a matching tag (weak comparison), any tag with *, or an unchanged date', () => {
    expect(notModified({ ifNoneMatch: '"x", W/"abc"' }, etag, modified)).toBe(true);
    expect(notModified({ ifNoneMatch: '*' }, etag, modified)).toBe(true);
    expect(notModified({ ifNoneMatch: '"x"', ifModifiedSince: 'Fri, 02 Jan 2026 03:04:05 GMT' }, etag, modified)).toBe(false);
    expect(notModified({ ifModifiedSince: 'Fri, 02 Jan 2026 03:04:05 GMT' }, etag, modified)).toBe(true);
    expect(notModified({ ifModifiedSince: 'Fri, 02 Jan 2026 03:04:04 GMT' }, etag, modified)).toBe(false);
    expect(notModified({ ifModifiedSince: 'yesterday' }, etag, modified)).toBe(false);
  });
  it('fails If-Match by the strong comparison, and If-Unmodified-Since after a change', () => {
    expect(preconditionFailed({ ifMatch: '"abc"' }, etag, modified)).toBe(false);
    expect(preconditionFailed({ ifMatch: 'W/"abc"' }, etag, modified)).toBe(true);
    expect(preconditionFailed({ ifUnmodifiedSince: 'Fri, 02 Jan 2026 03:04:04 GMT' }, etag, modified)).toBe(true);
    expect(rangeStillValid('"abc"', etag, modified)).toBe(true);
    expect(rangeStillValid('"old"', etag, modified)).toBe(false);
    expect(rangeStillValid('Fri, 02 Jan 2026 03:04:05 GMT', etag, modified)).toBe(true);
  });
});

describe('content coding and caching', () => {
  it('prefers brotli, honours q=0 and *', () => {
    expect(chooseEncoding('gzip, deflate, br', ['br', 'gzip'])).toBe('br');
    expect(chooseEncoding('gzip, br;q=0', ['br', 'gzip'])).toBe('gzip');
    expect(chooseEncoding('*', ['gzip'])).toBe('gzip');
    expect(chooseEncoding('identity', ['br', 'gzip'])).toBeUndefined();
    expect(chooseEncoding(undefined, ['br'])).toBeUndefined();
  });
  it('compresses text and structured formats, not images', () => {
    expect(compressible('text/html; charset=utf-8')).toBe(true);
    expect(compressible('application/json')).toBe(true);
    expect(compressible('text/javascript')).toBe(true);
    expect(compressible('image/svg+xml')).toBe(true);
    expect(compressible('image/png')).toBe(false);
  });
  it('caches content-hashed names for good, and revalidates everything else', () => {
    for (const p of ['/assets/index-BdF3k2xq.js', '/chunk-NAPD66HL.js', '/app.3f9a1c7e.css', '/main.0a1b2c3d4e5f60718293.js']) expect(isContentHashed(p)).toBe(true);
    for (const p of ['/index.html', '/app-component.js', '/logo.svg', '/assets/MyComponent.js', '/deadbeef.js']) expect(isContentHashed(p)).toBe(false);
    expect(cacheControlFor('/assets/index-BdF3k2xq.js', 'text/javascript')).toContain('immutable');
    expect(cacheControlFor('/index.html', 'text/html')).toBe('no-cache');
  });
});
