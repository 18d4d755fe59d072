// The behaviour every `Blobs` must show: whole blobs or none, ranges, limits, unguessable ids, and
// streaming without holding a blob in memory; what was stored survives a restart.
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isPlatformError } from '../../core/errors.js';
import type { BlobInfo, Blobs } from '../../ports/blobs.js';
import { FakeClock } from './fake-clock.js';

/** What a driver is given: a directory of its own and the clock. Opening twice on the same ones is a restart. */
export interface BlobsSetup {
  readonly dir: string;
  readonly clock: FakeClock;
}

export function describeBlobsConformance(name: string, open: (setup: BlobsSetup) => Promise<Blobs>): void {
  describe(`Blobs conformance: ${name}`, () => {
    let setup: BlobsSetup;
    let blobs: Blobs;

    beforeEach(async () => {
      setup = { dir: await mkdtemp(path.join(os.tmpdir(), 'nuvola-blobs-')), clock: new FakeClock() };
      blobs = await open(setup);
    });

    afterEach(async () => {
      await blobs.close();
      await rm(setup.dir, { recursive: true, force: true });
    });

    const text = async (stream: Readable): Promise<string> => {
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString();
    };
    const all = async (): Promise<BlobInfo[]> => {
      const out: BlobInfo[] = [];
      for await (const info of blobs.list()) out.push(info);
      return out;
    };
    const code = (err: unknown) => (isPlatformError(err) ? err.code : err);

    it('stores what a stream yields and gives it back, under an unguessable id, with its size and time', async () => {
      const stored = await blobs.put(Readable.from([Buffer.from('hello, '), Buffer.from('world')]));
      expect(stored.size).toBe(12);
      expect(stored.id).toMatch(/^[A-Za-z0-9_-]{22,}$/);
      expect(await text(await blobs.get(stored.id))).toBe('hello, world');
      expect(await blobs.stat(stored.id)).toEqual({ id: stored.id, size: 12, createdAt: setup.clock.now() });
      const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => blobs.put(Readable.from([Buffer.from(`blob ${i}`)]))));
      expect(new Set(ids.map((b) => b.id)).size).toBe(20);
      expect(await text(await blobs.get(ids[7]!.id))).toBe('blob 7');
    });

    it('stores an empty blob', async () => {
      const stored = await blobs.put(Readable.from([]));
      expect(stored.size).toBe(0);
      expect(await text(await blobs.get(stored.id))).toBe('');
    });

    it('reads a byte range, clamped to the end', async () => {
      const { id } = await blobs.put(Readable.from([Buffer.from('0123456789')]));
      expect(await text(await blobs.get(id, { start: 2, end: 5 }))).toBe('2345');
      expect(await text(await blobs.get(id, { start: 7, end: 100 }))).toBe('789');
      expect(await text(await blobs.get(id, { start: 9, end: 9 }))).toBe('9');
    });

    it('knows no blob by an unknown id, nor by one shaped like a path', async () => {
      const { id } = await blobs.put(Readable.from([Buffer.from('x')]));
      for (const bad of ['0'.repeat(32), '', '../x', `../${id}`, `${id}/..`, 'incoming', '%2e%2e']) {
        await expect(blobs.get(bad).catch(code)).resolves.toBe('BLOB_NOT_FOUND');
        await expect(blobs.stat(bad).catch(code)).resolves.toBe('BLOB_NOT_FOUND');
      }
    });

    it('keeps nothing of a source that fails midway', async () => {
      async function* failing() {
        yield Buffer.from('part of it');
        throw new Error('the client went away');
      }
      await expect(blobs.put(failing())).rejects.toThrow('the client went away');
      expect(await all()).toEqual([]);
    });

    it('refuses a source over the limit, keeping nothing, and takes one at the limit', async () => {
      await expect(blobs.put(Readable.from([Buffer.alloc(6), Buffer.alloc(5)]), { maxBytes: 10 }).catch(code)).resolves.toBe('PAYLOAD_TOO_LARGE');
      expect(await all()).toEqual([]);
      expect((await blobs.put(Readable.from([Buffer.alloc(10)]), { maxBytes: 10 })).size).toBe(10);
    });

    it('deletes blobs, ignoring ids that name none', async () => {
      const a = await blobs.put(Readable.from([Buffer.from('a')]));
      const b = await blobs.put(Readable.from([Buffer.from('b')]));
      await blobs.delete([a.id, '0'.repeat(32), '../nothing']);
      await expect(blobs.get(a.id).catch(code)).resolves.toBe('BLOB_NOT_FOUND');
      expect((await all()).map((i) => i.id)).toEqual([b.id]);
    });

    it('lists every blob with its size and time, for the sweep of those nothing names', async () => {
      const a = await blobs.put(Readable.from([Buffer.from('aa')]));
      setup.clock.advance(60_000);
      const b = await blobs.put(Readable.from([Buffer.from('bbb')]));
      const listed = (await all()).sort((x, y) => x.createdAt - y.createdAt);
      expect(listed).toEqual([
        { id: a.id, size: 2, createdAt: setup.clock.now() - 60_000 },
        { id: b.id, size: 3, createdAt: setup.clock.now() },
      ]);
    });

    it('keeps what it stored across a restart, and takes no work once closed', async () => {
      const { id } = await blobs.put(Readable.from([Buffer.from('kept')]));
      await blobs.close();
      await expect(blobs.put(Readable.from([Buffer.from('late')])).catch(code)).resolves.toBe('SHUTTING_DOWN');
      blobs = await open(setup);
      expect(await text(await blobs.get(id))).toBe('kept');
      expect((await all()).map((i) => i.id)).toEqual([id]);
    });

    it('streams a blob far larger than the memory it uses, in and out', async () => {
      const chunk = Buffer.alloc(1024 * 1024, 7);
      const mb = 256;
      async function* source() {
        for (let i = 0; i < mb; i++) yield chunk;
      }
      const rssBefore = process.memoryUsage().rss;
      const { id, size } = await blobs.put(source());
      expect(size).toBe(mb * chunk.length);
      const hash = createHash('sha256');
      for await (const part of await blobs.get(id)) hash.update(part as Buffer);
      const expected = createHash('sha256');
      for (let i = 0; i < mb; i++) expected.update(chunk);
      expect(hash.digest('hex')).toBe(expected.digest('hex'));
      // Held whole, the blob alone would add 256 MB.
      expect(process.memoryUsage().rss - rssBefore).toBeLessThan(96 * 1024 * 1024);
    });
  });
}
