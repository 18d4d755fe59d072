import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SiteConfig } from '../../core/app.js';
import { FakeClock } from '../../drivers/conformance/fake-clock.js';
import { DiskBlobs } from '../../drivers/embedded/disk-blobs.js';
import { SqliteDb } from '../../drivers/embedded/sqlite-db.js';
import { sitesMigrations } from './migrations.js';
import { KEPT_VERSIONS, SitesService } from './service.js';

describe('SitesService versions', () => {
  let dir: string;
  let db: SqliteDb;
  let blobs: DiskBlobs;
  let clock: FakeClock;
  let sites: SitesService;
  const site: SiteConfig = { name: 'web', dir: 'public', path: '/', spa: false };

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'nuvola-sites-'));
    db = new SqliteDb(':memory:');
    await db.migrate(sitesMigrations);
    clock = new FakeClock();
    blobs = new DiskBlobs(path.join(dir, 'blobs'), clock);
    sites = new SitesService({ db, blobs, clock });
  });
  afterEach(async () => {
    await blobs.close();
    await db.close();
    await rm(dir, { recursive: true, force: true });
  });

  const publish = async (html: string) => {
    await mkdir(path.join(dir, 'public'), { recursive: true });
    await writeFile(path.join(dir, 'public/index.html'), html);
    return sites.deploy(dir, [site]);
  };
  const page = async () => {
    const answer = await sites.serve({ method: 'GET', rawPath: '/', headers: {} });
    return (answer.body as Buffer).toString();
  };
  const blobCount = async () => {
    let n = 0;
    for await (const _ of blobs.list()) n++;
    return n;
  };

  it('makes a version only when files change, and keeps a rollback across unchanged reloads', async () => {
    expect(await publish('one')).toEqual(['web']);
    expect(await publish('one')).toEqual([]);
    expect(await publish('two')).toEqual(['web']);
    expect(await sites.rollback('web')).toBe(1);
    expect(await page()).toBe('one');
    // A reload of the same folder (another file of the app changed): the rollback stays.
    expect(await sites.deploy(dir, [site])).toEqual([]);
    expect(await page()).toBe('one');
    expect(await publish('three')).toEqual(['web']);
    expect(await page()).toBe('three');
    expect((await sites.list())[0]!.versions.map((v) => v.version)).toEqual([3, 2, 1]);
  });

  it(`keeps ${KEPT_VERSIONS} versions and deletes the files only older ones named`, async () => {
    for (let i = 1; i <= KEPT_VERSIONS + 3; i++) await publish(`version ${i}`);
    const versions = (await sites.list())[0]!.versions.map((v) => v.version);
    expect(versions).toHaveLength(KEPT_VERSIONS);
    expect(versions.at(-1)).toBe(4);
    expect(await blobCount()).toBe(KEPT_VERSIONS);
  });

  it('sweeps blobs no version names once they are old enough', async () => {
    await publish('kept');
    const orphan = await blobs.put(Readable.from([Buffer.from('left by a deploy cut short')]));
    expect(await sites.sweep(60_000)).toBe(0);
    clock.advance(60_001);
    expect(await sites.sweep(60_000)).toBe(1);
    await expect(blobs.stat(orphan.id)).rejects.toMatchObject({ code: 'BLOB_NOT_FOUND' });
    expect(await page()).toBe('kept');
  });
});
