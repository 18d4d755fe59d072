import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, it, expect } from 'vitest';
import { loadManifest } from './load.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'nuvola-load-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

const MANIFEST = 'app: hello\nfunctions:\n  a:\n    handler: src/a.handler\n';

describe('loadManifest', () => {
  it('loads nuvola.yaml from an app directory', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'nuvola.yaml'), MANIFEST);
    const app = await loadManifest(dir);
    expect(app.dir).toBe(dir);
    expect(app.file).toBe(path.join(dir, 'nuvola.yaml'));
    expect(app.manifest.functions['a']?.handlerFile).toBe('src/a');
  });

  it('accepts nuvola.yml, and the manifest file itself', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'nuvola.yml'), MANIFEST);
    expect((await loadManifest(dir)).file).toBe(path.join(dir, 'nuvola.yml'));
    expect((await loadManifest(path.join(dir, 'nuvola.yml'))).dir).toBe(dir);
  });

  it('refuses to guess between nuvola.yaml and nuvola.yml', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'nuvola.yml'), MANIFEST);
    await writeFile(path.join(dir, 'nuvola.yaml'), MANIFEST);
    await expect(loadManifest(dir)).rejects.toMatchObject({ code: 'MANIFEST_INVALID', message: expect.stringMatching(/^Both .* exist/) });
  });

  it('names the directory when there is no manifest', async () => {
    const dir = await tempDir();
    await expect(loadManifest(dir)).rejects.toMatchObject({
      code: 'MANIFEST_NOT_FOUND',
      message: `No nuvola.yaml or nuvola.yml in ${dir}`,
    });
    await expect(loadManifest(path.join(dir, 'missing'))).rejects.toMatchObject({ code: 'MANIFEST_NOT_FOUND' });
  });

  it('labels issues with the manifest path', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'nuvola.yaml'), 'app: hello\nfunctions:\n  a:\n    handler: src/a.handler\n    memory: 64\n');
    const file = path.relative(process.cwd(), path.join(dir, 'nuvola.yaml'));
    const shown = file.startsWith('..') ? path.join(dir, 'nuvola.yaml') : file;
    await expect(loadManifest(dir)).rejects.toMatchObject({
      code: 'MANIFEST_INVALID',
      message: `Invalid app manifest ${shown}:\n${shown}:5:13 functions.a.memory — expected an integer from 128 to 10240 (MB), got 64`,
    });
  });
});
