/**
 * The embedded `Blobs`: one file per blob under `<dir>/<first two hex digits>/<id>`. A blob is written
 * to `<dir>/incoming/` first, flushed to disk, then renamed into place (a rename within one file
 * system is atomic) and its directory flushed: a blob is either absent or whole, and once `put`
 * resolved it survives a crash. What a crash leaves in `incoming/` is removed when the directory is
 * opened again; one process owns it. Ids are 128 random bits in hex: unguessable, and safe as file
 * names (an id of any other shape names no blob, so no id can reach outside the directory).
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { mkdir, open, readdir, rename, stat, unlink, utimes } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PlatformError } from '../../core/errors.js';
import type { BlobInfo, Blobs, ByteRange, PutOptions, StoredBlob } from '../../ports/blobs.js';
import type { Clock } from '../../ports/clock.js';

const ID = /^[0-9a-f]{32}$/;
const INCOMING = 'incoming';

export class DiskBlobs implements Blobs {
  private readonly writing = new Set<Promise<unknown>>();
  private closed = false;

  /** Opens (creating it if needed) the store in `dir`; removes what an interrupted write left. */
  constructor(
    private readonly dir: string,
    private readonly clock: Clock,
  ) {
    rmSync(path.join(dir, INCOMING), { recursive: true, force: true });
    mkdirSync(path.join(dir, INCOMING), { recursive: true });
  }

  put(source: AsyncIterable<Uint8Array> | Readable, options: PutOptions = {}): Promise<StoredBlob> {
    if (this.closed) return Promise.reject(shuttingDown());
    const write = this.write(source, options.maxBytes ?? Infinity);
    this.writing.add(write);
    void write.finally(() => this.writing.delete(write)).catch(() => undefined);
    return write;
  }

  async get(id: string, range?: ByteRange): Promise<Readable> {
    this.open();
    const file = await open(this.pathOf(id), 'r').catch((err: unknown) => {
      throw notFoundOr(err, id);
    });
    if (!range) return file.createReadStream();
    const size = (await file.stat()).size;
    // An empty range still needs a stream: one that reads nothing (start past end).
    return file.createReadStream({ start: range.start, end: Math.min(range.end, size - 1) });
  }

  async stat(id: string): Promise<BlobInfo> {
    this.open();
    const s = await stat(this.pathOf(id)).catch((err: unknown) => {
      throw notFoundOr(err, id);
    });
    return { id, size: s.size, createdAt: s.mtimeMs };
  }

  async delete(ids: readonly string[]): Promise<void> {
    this.open();
    await Promise.all(
      ids.filter((id) => ID.test(id)).map((id) =>
        unlink(this.pathOf(id)).catch((err: unknown) => {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }),
      ),
    );
  }

  async *list(): AsyncIterable<BlobInfo> {
    this.open();
    for (const shard of await readdir(this.dir)) {
      if (!/^[0-9a-f]{2}$/.test(shard)) continue;
      for (const id of await readdir(path.join(this.dir, shard)).catch(() => [] as string[])) {
        if (!ID.test(id)) continue;
        const info = await this.stat(id).catch(() => undefined);
        if (info) yield info;
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.writing]);
  }

  private async write(source: AsyncIterable<Uint8Array> | Readable, maxBytes: number): Promise<StoredBlob> {
    const id = randomBytes(16).toString('hex');
    const part = path.join(this.dir, INCOMING, id);
    let size = 0;
    const count = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length;
        if (size > maxBytes) done(new PlatformError('PAYLOAD_TOO_LARGE', `The blob is over its limit of ${maxBytes} bytes`, { maxBytes }));
        else done(null, chunk);
      },
    });
    try {
      // `flush`: the bytes are on disk before the stream reports it is finished.
      await pipeline(source, count, createWriteStream(part, { flush: true }));
      // The blob's time is the platform clock's, so that sweeps by age follow the same clock.
      const now = new Date(this.clock.now());
      await utimes(part, now, now);
      const final = this.pathOf(id);
      await mkdir(path.dirname(final), { recursive: true });
      await rename(part, final);
      await syncDir(path.dirname(final));
      return { id, size };
    } catch (err) {
      await unlink(part).catch(() => undefined);
      throw err;
    }
  }

  private pathOf(id: string): string {
    // Any other shape names no blob: the error below, never a path outside the directory.
    if (!ID.test(id)) return path.join(this.dir, INCOMING, 'none');
    return path.join(this.dir, id.slice(0, 2), id);
  }

  private open(): void {
    if (this.closed) throw shuttingDown();
  }
}

/** A rename is durable once its directory is flushed too. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function notFoundOr(err: unknown, id: string): unknown {
  if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new PlatformError('BLOB_NOT_FOUND', `No blob ${id.slice(0, 64)}`, { id: id.slice(0, 64) });
  return err;
}

const shuttingDown = () => new PlatformError('SHUTTING_DOWN', 'The blob store is closed');
