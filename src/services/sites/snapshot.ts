/**
 * A site's folder read into a version: every file's bytes stored as a blob (and, for text, a brotli
 * and a gzip copy when they are smaller), with its hash, type and time. Files unchanged since the
 * previous version (same size and time, or same content) keep their blobs: a reload that touched one
 * file stores one file.
 */
import { createHash } from 'node:crypto';
import { lstat, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import mime from 'mime-types';
import { glob } from 'tinyglobby';
import { compressible } from '../../core/static-files.js';
import type { Blobs } from '../../ports/blobs.js';

export interface StoredVariant {
  readonly blob: string;
  readonly size: number;
}

export interface SiteFile {
  readonly blob: string;
  readonly size: number;
  /** sha256 of the bytes, base64url: the strong ETag. */
  readonly hash: string;
  readonly type: string;
  readonly mtimeMs: number;
  readonly br?: StoredVariant | undefined;
  readonly gzip?: StoredVariant | undefined;
}

/** Paths (relative, `/`-separated, without a leading slash) to files. */
export type SiteFiles = Readonly<Record<string, SiteFile>>;

/** Smaller files are sent as they are: compressing them saves less than the headers cost. */
const MIN_COMPRESS_BYTES = 1024;
/** Larger files are not compressed at deploy: a reload must stay quick. */
const MAX_COMPRESS_BYTES = 16 * 1024 * 1024;
const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);

/**
 * Reads `dir` into a version, reusing what `previous` versions stored. Dotfiles and symbolic links
 * are left out: neither is served (a link could point anywhere on the machine).
 */
export async function snapshot(dir: string, blobs: Blobs, previous: readonly SiteFiles[]): Promise<SiteFiles> {
  const byPath = previous[0] ?? {};
  const byHash = new Map<string, SiteFile>();
  for (const files of previous) for (const f of Object.values(files)) byHash.set(f.hash, f);
  const paths = (await glob('**/*', { cwd: dir, dot: false, onlyFiles: true, followSymbolicLinks: false, expandDirectories: false })).sort();
  const out: Record<string, SiteFile> = {};
  for (const rel of paths) {
    const file = path.join(dir, rel);
    const st = await lstat(file).catch(() => undefined);
    if (!st?.isFile()) continue;
    const before = byPath[rel];
    if (before && before.size === st.size && before.mtimeMs === st.mtimeMs) {
      out[rel] = before;
      continue;
    }
    const bytes = await readFile(file);
    const hash = createHash('sha256').update(bytes).digest('base64url');
    const same = byHash.get(hash);
    if (same) {
      out[rel] = { ...same, type: typeOf(rel), mtimeMs: st.mtimeMs };
      continue;
    }
    const type = typeOf(rel);
    const stored = await blobs.put(Readable.from([bytes]));
    const entry: { -readonly [K in keyof SiteFile]: SiteFile[K] } = { blob: stored.id, size: bytes.length, hash, type, mtimeMs: st.mtimeMs };
    if (compressible(type) && bytes.length >= MIN_COMPRESS_BYTES && bytes.length <= MAX_COMPRESS_BYTES) {
      // Quality 9 of 11: nearly the smallest output, many times faster to make than 11.
      entry.br = await storeIfSmaller(blobs, bytes, await brotli(bytes, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 9 } }));
      entry.gzip = await storeIfSmaller(blobs, bytes, await gzip(bytes, { level: 9 }));
    }
    out[rel] = entry;
    byHash.set(hash, entry);
  }
  return out;
}

/** A compressed copy is worth a blob if it saves a tenth at least. */
async function storeIfSmaller(blobs: Blobs, original: Buffer, compressed: Buffer): Promise<StoredVariant | undefined> {
  if (compressed.length > original.length * 0.9) return undefined;
  const stored = await blobs.put(Readable.from([compressed]));
  return { blob: stored.id, size: compressed.length };
}

function typeOf(rel: string): string {
  const type = mime.lookup(rel) || 'application/octet-stream';
  // Text without a charset is read as Latin-1 by some clients; sites are written in UTF-8.
  return type.startsWith('text/') || type === 'application/json' || type === 'image/svg+xml' ? `${type}; charset=utf-8` : type;
}

/** Every blob a version names. */
export function blobsOf(files: SiteFiles): string[] {
  return Object.values(files).flatMap((f) => [f.blob, ...(f.br ? [f.br.blob] : []), ...(f.gzip ? [f.gzip.blob] : [])]);
}

/** Same paths with the same content: no new version. */
export function sameFiles(a: SiteFiles, b: SiteFiles): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => b[k]?.hash === a[k]!.hash);
}
