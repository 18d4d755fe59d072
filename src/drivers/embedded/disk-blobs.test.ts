import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeBlobsConformance } from '../conformance/blobs.suite.js';
import { FakeClock } from '../conformance/fake-clock.js';
import { DiskBlobs } from './disk-blobs.js';

describeBlobsConformance('DiskBlobs', ({ dir, clock }) => Promise.resolve(new DiskBlobs(dir, clock)));

describe('DiskBlobs', () => {
  it('removes what a write cut short by a crash left, when it opens', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'nuvola-blobs-'));
    try {
      const first = new DiskBlobs(dir, new FakeClock());
      await first.close();
      // What a process killed in the middle of a write leaves behind.
      await writeFile(path.join(dir, 'incoming', '0123456789abcdef0123456789abcdef'), 'half of it');
      const blobs = new DiskBlobs(dir, new FakeClock());
      expect(await readdir(path.join(dir, 'incoming'))).toEqual([]);
      expect(existsSync(dir)).toBe(true);
      await blobs.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
