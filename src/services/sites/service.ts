/**
 * Static sites: each deploy reads a site's folder into a version (files in `Blobs`, the version in
 * SQL) and makes it current in one transaction; a request resolves the current version once, so it
 * never sees a mix of two. The ten latest versions are kept, and `rollback` makes the one before
 * current. Files are answered as a CDN in front of a bucket would: strong ETags and `304`,
 * `Last-Modified`, ranges, brotli/gzip copies made at deploy, and a cache policy that keeps
 * content-hashed assets for good and revalidates the rest.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Kysely } from 'kysely';
import type { SiteConfig } from '../../core/app.js';
import { PlatformError } from '../../core/errors.js';
import {
  cacheControlFor,
  chooseEncoding,
  httpDate,
  notModified,
  parseRange,
  preconditionFailed,
  rangeStillValid,
  type ContentCoding,
} from '../../core/static-files.js';
import type { Blobs } from '../../ports/blobs.js';
import type { Clock } from '../../ports/clock.js';
import type { Db, DbSchema } from '../../ports/db.js';
import type { FileAnswer, FileRequest } from '../module.js';
import type { SitesTables } from './migrations.js';
import { blobsOf, sameFiles, snapshot, type SiteFile, type SiteFiles } from './snapshot.js';

/** Versions kept per site, the current one included. */
export const KEPT_VERSIONS = 10;
/** Files up to this size are kept in memory once read; blobs never change, so nothing goes stale. */
const CACHED_FILE_BYTES = 256 * 1024;
const CACHE_BYTES = 32 * 1024 * 1024;
const BUILD_TIMEOUT_MS = 10 * 60_000;

export interface SiteVersionInfo {
  readonly version: number;
  readonly createdAt: number;
  readonly files: number;
  readonly bytes: number;
}

export interface SiteInfo {
  readonly name: string;
  readonly path: string;
  readonly dir: string;
  readonly current: number;
  readonly versions: readonly SiteVersionInfo[];
}

interface Deployed {
  readonly config: SiteConfig;
  version: number;
  files: SiteFiles;
}

export interface SitesServiceDeps {
  readonly db: Db;
  readonly blobs: Blobs;
  readonly clock: Clock;
}

export class SitesService {
  private readonly db: Kysely<DbSchema & SitesTables>;
  private readonly blobs: Blobs;
  private readonly clock: Clock;
  /** By path prefix, longest first: the one a request falls under is the first that matches. */
  private sites: Deployed[] = [];
  private readonly cache = new Map<string, Buffer>();
  private cacheBytes = 0;

  constructor(deps: SitesServiceDeps) {
    this.db = deps.db.kysely.withTables<SitesTables>();
    this.blobs = deps.blobs;
    this.clock = deps.clock;
  }

  /** Builds and reads every site's folder; a site whose files changed gets a new current version. Returns the names of those. */
  async deploy(appDir: string, configs: readonly SiteConfig[]): Promise<string[]> {
    const changed: string[] = [];
    const next: Deployed[] = [];
    for (const config of configs) {
      if (config.build) await runBuild(appDir, config);
      const kept = await this.versionsOf(config.name);
      const files = await snapshot(path.join(appDir, config.dir), this.blobs, kept.map((v) => v.files));
      const latest = kept[0];
      const current = (await this.currentOf(config.name)) ?? latest?.version;
      if (latest && sameFiles(files, latest.files) && current !== undefined) {
        // Unchanged since the latest version: what is served stays (a rollback survives reloads).
        next.push({ config, version: current, files: kept.find((v) => v.version === current)?.files ?? latest.files });
        continue;
      }
      const version = (latest?.version ?? 0) + 1;
      await this.db.transaction().execute(async (trx) => {
        await trx.insertInto('site_versions').values({ site: config.name, version, created_at: this.clock.now(), files: JSON.stringify(files) }).execute();
        await trx.insertInto('sites').values({ site: config.name, current: version }).onConflict((oc) => oc.column('site').doUpdateSet({ current: version })).execute();
      });
      next.push({ config, version, files });
      changed.push(config.name);
      await this.prune(config.name);
    }
    this.sites = next.sort((a, b) => b.config.path.length - a.config.path.length);
    return changed;
  }

  /** The version before the current one becomes current; its number. */
  async rollback(name: string): Promise<number> {
    const site = this.sites.find((s) => s.config.name === name);
    if (!site) throw new PlatformError('SITE_NOT_FOUND', `No site named ${name}`, { name });
    const older = (await this.versionsOf(name)).find((v) => v.version < site.version);
    if (!older) throw new PlatformError('VALIDATION', `Site ${name} has no version before ${site.version} to roll back to`, { name });
    await this.db.updateTable('sites').set({ current: older.version }).where('site', '=', name).execute();
    site.version = older.version;
    site.files = older.files;
    return older.version;
  }

  async list(): Promise<SiteInfo[]> {
    const out: SiteInfo[] = [];
    for (const s of [...this.sites].sort((a, b) => a.config.name.localeCompare(b.config.name))) {
      const versions = (await this.versionsOf(s.config.name)).map((v) => ({
        version: v.version,
        createdAt: v.createdAt,
        files: Object.keys(v.files).length,
        bytes: Object.values(v.files).reduce((n, f) => n + f.size, 0),
      }));
      out.push({ name: s.config.name, path: s.config.path, dir: s.config.dir, current: s.version, versions });
    }
    return out;
  }

  summary(): string[] {
    return [...this.sites].sort((a, b) => a.config.name.localeCompare(b.config.name)).map((s) => `${s.config.path} → ${s.config.dir}/ (${s.config.name}${s.config.spa ? ', single-page app' : ''})`);
  }

  claims(rawPath: string): boolean {
    return this.siteOf(rawPath) !== undefined;
  }

  async serve(req: FileRequest): Promise<FileAnswer> {
    const site = this.siteOf(req.rawPath);
    if (!site) return text(404, 'Not Found');
    if (req.method !== 'GET' && req.method !== 'HEAD') return { ...text(405, 'Method Not Allowed'), headers: { ...text(405, '').headers, allow: 'GET, HEAD' } };
    const rel = relativePath(site.config.path, req.rawPath);
    if (rel === undefined) return text(400, 'Bad Request');
    // One read of the version: the whole answer comes from it, whatever deploys meanwhile.
    const files = site.files;
    const wanted = rel === '' || rel.endsWith('/') ? `${rel}index.html` : rel;
    let file = files[wanted];
    if (!file && files[`${wanted}/index.html`]) {
      // A folder named without its slash: relative links in its page need the slash (as S3 websites do).
      const q = req.rawPath.indexOf('?');
      const location = q < 0 ? `${req.rawPath}/` : `${req.rawPath.slice(0, q)}/${req.rawPath.slice(q)}`;
      return { status: 301, headers: { location, 'content-length': '0' } };
    }
    let status = 200;
    let name = wanted;
    if (!file && site.config.spa && files['index.html'] && wantsPage(wanted, header(req, 'accept'))) {
      file = files['index.html'];
      name = 'index.html';
    } else if (!file && site.config.errorPage && files[site.config.errorPage]) {
      file = files[site.config.errorPage];
      name = site.config.errorPage;
      status = 404;
    }
    if (!file) return text(404, 'Not Found');
    return this.answer(req, file, name, status);
  }

  private async answer(req: FileRequest, file: SiteFile, name: string, status: number): Promise<FileAnswer> {
    const range = header(req, 'range');
    const available: ContentCoding[] = [...(file.br ? ['br' as const] : []), ...(file.gzip ? ['gzip' as const] : [])];
    // A range is of the bytes as stored: asked for one, the client gets the file as it is.
    const coding = range === undefined && status === 200 ? chooseEncoding(header(req, 'accept-encoding'), available) : undefined;
    const variant = coding ? file[coding]! : file;
    const etag = coding ? `"${file.hash}-${coding}"` : `"${file.hash}"`;
    const headers: Record<string, string> = {
      'content-type': file.type,
      etag,
      'last-modified': httpDate(file.mtimeMs),
      'cache-control': status === 200 && name !== 'index.html' ? cacheControlFor(`/${name}`, file.type) : 'no-cache',
      'accept-ranges': 'bytes',
    };
    if (available.length > 0) headers['vary'] = 'Accept-Encoding';
    if (coding) headers['content-encoding'] = coding;
    if (status === 200) {
      const conditions = { ifMatch: header(req, 'if-match'), ifUnmodifiedSince: header(req, 'if-unmodified-since') };
      if (preconditionFailed(conditions, etag, file.mtimeMs)) return text(412, 'Precondition Failed');
      if (notModified({ ifNoneMatch: header(req, 'if-none-match'), ifModifiedSince: header(req, 'if-modified-since') }, etag, file.mtimeMs)) {
        return { status: 304, headers: withoutBodyHeaders(headers) };
      }
      const span = rangeStillValid(header(req, 'if-range'), etag, file.mtimeMs) ? parseRange(range, file.size) : undefined;
      if (span === 'unsatisfiable') {
        return { status: 416, headers: { 'content-range': `bytes */${file.size}`, 'content-type': 'text/plain; charset=utf-8', 'content-length': '0' } };
      }
      if (span) {
        const length = span.end - span.start + 1;
        const partial = { ...headers, 'content-range': `bytes ${span.start}-${span.end}/${file.size}`, 'content-length': String(length) };
        return { status: 206, headers: partial, body: req.method === 'HEAD' ? undefined : await this.read(variant.blob, variant.size, span) };
      }
    }
    headers['content-length'] = String(variant.size);
    return { status, headers, body: req.method === 'HEAD' ? undefined : await this.read(variant.blob, variant.size) };
  }

  /** The bytes of a blob: small ones from memory after their first read. */
  private async read(blob: string, size: number, span?: { start: number; end: number }): Promise<Buffer | Readable> {
    if (size > CACHED_FILE_BYTES) return this.blobs.get(blob, span);
    let bytes = this.cache.get(blob);
    if (bytes) {
      // Most recently used last: the first entries are the ones to drop.
      this.cache.delete(blob);
      this.cache.set(blob, bytes);
    } else {
      const chunks: Buffer[] = [];
      for await (const chunk of await this.blobs.get(blob)) chunks.push(chunk as Buffer);
      bytes = Buffer.concat(chunks);
      this.cache.set(blob, bytes);
      this.cacheBytes += bytes.length;
      for (const [id, b] of this.cache) {
        if (this.cacheBytes <= CACHE_BYTES) break;
        this.cache.delete(id);
        this.cacheBytes -= b.length;
      }
    }
    return span ? bytes.subarray(span.start, span.end + 1) : bytes;
  }

  private siteOf(rawPath: string): Deployed | undefined {
    return this.sites.find((s) => s.config.path === '/' || rawPath === s.config.path || rawPath.startsWith(`${s.config.path}/`) || rawPath.startsWith(`${s.config.path}?`));
  }

  private async versionsOf(name: string): Promise<{ version: number; createdAt: number; files: SiteFiles }[]> {
    const rows = await this.db.selectFrom('site_versions').select(['version', 'created_at', 'files']).where('site', '=', name).orderBy('version', 'desc').execute();
    return rows.map((r) => ({ version: Number(r.version), createdAt: Number(r.created_at), files: JSON.parse(r.files) as SiteFiles }));
  }

  private async currentOf(name: string): Promise<number | undefined> {
    const row = await this.db.selectFrom('sites').select('current').where('site', '=', name).executeTakeFirst();
    return row ? Number(row.current) : undefined;
  }

  /** Drops versions past the kept ones, and the blobs only they named. */
  private async prune(name: string): Promise<void> {
    const versions = await this.versionsOf(name);
    const dropped = versions.slice(KEPT_VERSIONS);
    if (dropped.length === 0) return;
    const kept = new Set(versions.slice(0, KEPT_VERSIONS).flatMap((v) => blobsOf(v.files)));
    await this.db.deleteFrom('site_versions').where('site', '=', name).where('version', '<=', dropped[0]!.version).execute();
    await this.blobs.delete([...new Set(dropped.flatMap((v) => blobsOf(v.files)))].filter((b) => !kept.has(b)));
  }

  /**
   * Blobs that no kept version names: left by a deploy cut short between storing files and
   * committing its version. Only those older than `olderThanMs` go, so a deploy under way keeps its own.
   */
  async sweep(olderThanMs: number): Promise<number> {
    const rows = await this.db.selectFrom('site_versions').select('files').execute();
    const named = new Set(rows.flatMap((r) => blobsOf(JSON.parse(r.files) as SiteFiles)));
    const cutoff = this.clock.now() - olderThanMs;
    const orphans: string[] = [];
    for await (const blob of this.blobs.list()) if (!named.has(blob.id) && blob.createdAt < cutoff) orphans.push(blob.id);
    await this.blobs.delete(orphans);
    return orphans.length;
  }
}

function header(req: FileRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** The path below the site's prefix, decoded, or undefined if it tries to leave it or is malformed. */
function relativePath(prefix: string, rawPath: string): string | undefined {
  const q = rawPath.indexOf('?');
  const raw = (q < 0 ? rawPath : rawPath.slice(0, q)).slice(prefix === '/' ? 1 : prefix.length + 1);
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\') || decoded.split('/').some((s) => s === '..' || s === '.')) return undefined;
  return decoded;
}

/** A page the browser navigates to (a client-side route), not a missing asset. */
function wantsPage(rel: string, accept: string | undefined): boolean {
  if (accept?.includes('text/html')) return true;
  return !path.posix.basename(rel).includes('.');
}

function withoutBodyHeaders(headers: Record<string, string>): Record<string, string> {
  const { 'content-type': _type, 'content-length': _length, ...rest } = headers;
  return rest;
}

function text(status: number, body: string): FileAnswer {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8', 'content-length': String(Buffer.byteLength(body)) }, body: Buffer.from(body) };
}

function runBuild(appDir: string, config: SiteConfig): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('/bin/sh', ['-c', config.build!], { cwd: appDir, timeout: BUILD_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve();
      const tail = `${stdout}${stderr}`.trim().split('\n').slice(-20).join('\n');
      reject(new PlatformError('BUILD_FAILED', `The build of site ${config.name} (${config.build}) failed: ${err.message.split('\n')[0]}${tail ? `\n${tail}` : ''}`, { site: config.name }));
    });
  });
}
