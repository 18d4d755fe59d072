/**
 * HTTP's rules for serving stored files (RFC 9110 and 9111): validators and conditional requests,
 * byte ranges, content coding by `Accept-Encoding`, and the caching policy Nuvola gives site files.
 * Pure: the sites service decides with these, the listener writes the bytes.
 */

/** Inclusive byte offsets. */
export interface ByteSpan {
  readonly start: number;
  readonly end: number;
}

/**
 * The one range of a `Range` header for a representation of `size` bytes: a span, `unsatisfiable`
 * (answer 416), or `undefined` when the header is absent, malformed, or asks for several ranges —
 * then the whole representation is sent, as a server may (RFC 9110 §14.2).
 */
export function parseRange(header: string | undefined, size: number): ByteSpan | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m) return undefined;
  const [, first, last] = m;
  if (first === '' && last === '') return undefined;
  if (first === '') {
    // A suffix: the last N bytes.
    const n = Number(last);
    if (n === 0) return 'unsatisfiable';
    return size === 0 ? 'unsatisfiable' : { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (last !== '' && Number(last) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

/** The entity tags of an `If-None-Match` / `If-Match` list, weak marks dropped (weak comparison). */
function tagsOf(header: string): string[] {
  return header.split(',').map((t) => t.trim().replace(/^W\//, '')).filter((t) => t !== '');
}

/**
 * Whether a GET or HEAD is answered 304: `If-None-Match` (weak comparison) when present, else
 * `If-Modified-Since` against the modification time (HTTP dates have whole seconds).
 */
export function notModified(headers: { ifNoneMatch?: string | undefined; ifModifiedSince?: string | undefined }, etag: string, lastModifiedMs: number): boolean {
  if (headers.ifNoneMatch !== undefined) {
    const tags = tagsOf(headers.ifNoneMatch);
    return tags.includes('*') || tags.includes(etag.replace(/^W\//, ''));
  }
  if (headers.ifModifiedSince !== undefined) {
    const since = Date.parse(headers.ifModifiedSince);
    return Number.isFinite(since) && Math.floor(lastModifiedMs / 1000) * 1000 <= since;
  }
  return false;
}

/**
 * `If-Match` / `If-Unmodified-Since` failing: answer 412. `If-Match` uses the strong comparison, and
 * takes precedence (RFC 9110 §13.2.2).
 */
export function preconditionFailed(headers: { ifMatch?: string | undefined; ifUnmodifiedSince?: string | undefined }, etag: string, lastModifiedMs: number): boolean {
  if (headers.ifMatch !== undefined) {
    const tags = headers.ifMatch.split(',').map((t) => t.trim());
    return !(tags.includes('*') || tags.includes(etag));
  }
  if (headers.ifUnmodifiedSince !== undefined) {
    const since = Date.parse(headers.ifUnmodifiedSince);
    return Number.isFinite(since) && Math.floor(lastModifiedMs / 1000) * 1000 > since;
  }
  return false;
}

/** `If-Range`: the range applies only if the representation is still the one it names (a strong tag or the exact date). */
export function rangeStillValid(ifRange: string | undefined, etag: string, lastModifiedMs: number): boolean {
  if (ifRange === undefined) return true;
  const value = ifRange.trim();
  if (value.startsWith('"')) return value === etag;
  const date = Date.parse(value);
  return Number.isFinite(date) && Math.floor(lastModifiedMs / 1000) * 1000 === date;
}

export type ContentCoding = 'br' | 'gzip';

/** The best of the codings stored for a file that the client accepts (brotli first, being smaller); undefined: identity. */
export function chooseEncoding(acceptEncoding: string | undefined, available: readonly ContentCoding[]): ContentCoding | undefined {
  if (acceptEncoding === undefined || available.length === 0) return undefined;
  const q = new Map<string, number>();
  for (const part of acceptEncoding.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    q.set(name, qParam ? Number(qParam.slice(2)) || 0 : 1);
  }
  const accepted = (c: ContentCoding) => (q.get(c) ?? q.get('*') ?? 0) > 0;
  return (['br', 'gzip'] as const).find((c) => available.includes(c) && accepted(c));
}

/** Worth compressing: text of any kind, and the structured formats that compress well. */
export function compressible(contentType: string): boolean {
  return /^text\/|[/+](json|xml|javascript|wasm|manifest\+json)\b|^image\/svg\+xml|^application\/(x-)?font|^font\/(otf|ttf)/.test(contentType);
}

/**
 * A file name carrying a hash of its content (`index-BdF3k2xq.js`, `app.3f9a1c7e.css`), as bundlers
 * name build output: its content never changes under that name, so it may be cached for good.
 */
export function isContentHashed(urlPath: string): boolean {
  const base = urlPath.slice(urlPath.lastIndexOf('/') + 1);
  // Conservative: a name taken for a hash by mistake would be cached stale for a year, one missed
  // is only revalidated. Rollup, Vite and esbuild write 8 characters of letters and digits; webpack
  // and Parcel hexadecimal. A hash of letters only (`index-DiwrgTda.js`) is not told from a word.
  return /[.-](?=[A-Za-z0-9_]{0,7}\d)(?=[A-Za-z0-9_]{0,7}[A-Za-z])[A-Za-z0-9_]{8}\.[a-z0-9]+$/.test(base) || /[.-](?=[0-9a-f]*\d)[0-9a-f]{8,}\.[a-z0-9]+$/.test(base);
}

/** Cache policy: hashed assets for a year, `immutable`; everything else revalidated each time (its ETag makes that cheap). */
export function cacheControlFor(urlPath: string, contentType: string): string {
  if (!contentType.startsWith('text/html') && isContentHashed(urlPath)) return 'public, max-age=31536000, immutable';
  return 'no-cache';
}

/** An HTTP date (IMF-fixdate). */
export const httpDate = (ms: number): string => new Date(ms).toUTCString();
