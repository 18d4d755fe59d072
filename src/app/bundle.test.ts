import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import * as esbuild from 'esbuild';
import { afterAll, beforeEach, describe, it, expect, vi } from 'vitest';
import { bundleApp, bundleFunction } from './bundle.js';
import { parseManifest } from './load.js';
import type { LoadedApp } from './load.js';

// Spied on, not replaced, so tests can tell a cache hit (no esbuild run) from a rebuild.
vi.mock('esbuild', async (importOriginal) => {
  const actual = await importOriginal<typeof esbuild>();
  return { ...actual, build: vi.fn(actual.build) };
});
const build = vi.mocked(esbuild.build);

const roots: string[] = [];
afterAll(async () => {
  await Promise.all(roots.map((d) => rm(d, { recursive: true, force: true })));
});
beforeEach(() => {
  build.mockClear();
});

/** A temporary app directory holding `files`, with its manifest parsed from `functions` (YAML). */
async function makeApp(files: Record<string, string>, functions: string): Promise<LoadedApp & { outDir: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'nuvola-bundle-'));
  roots.push(dir);
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), text);
  }
  const manifest = parseManifest(`app: test\nfunctions:\n${functions}`, 'nuvola.yaml');
  return { dir, file: path.join(dir, 'nuvola.yaml'), manifest, outDir: path.join(dir, '.nuvola', 'build') };
}

async function bundleOne(app: LoadedApp & { outDir: string }, name: string) {
  const fn = app.manifest.functions[name];
  if (!fn) throw new Error(`no function ${name}`);
  return bundleFunction({ appDir: app.dir, outDir: app.outDir, fn });
}

const ITEMS_TS = `import { label } from './label.js';

interface Item { id: string }

export async function get(event: { id: string }): Promise<Item & { label: string }> {
  return { id: event.id, label: label(event.id) };
}

export function fail(): never {
  throw new Error('boom from items.ts');
}
`;

describe('bundleFunction', () => {
  it('bundles a TypeScript ES module into a content-addressed .mjs with a source map', async () => {
    const app = await makeApp(
      { 'src/items.ts': ITEMS_TS, 'src/label.ts': 'export const label = (id: string): string => `item ${id}`;\n' },
      '  getItem:\n    handler: src/items.get\n',
    );
    const bundle = await bundleOne(app, 'getItem');
    expect(bundle).toMatchObject({ fn: 'getItem', exportName: 'get', codeSha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(bundle.bundlePath).toBe(path.join(app.outDir, 'getItem', bundle.codeSha256.slice(0, 16), 'index.mjs'));
    expect(bundle.inputs.sort()).toEqual([path.join(app.dir, 'src/items.ts'), path.join(app.dir, 'src/label.ts')]);
    const mod = (await import(pathToFileURL(bundle.bundlePath).href)) as { get: (e: { id: string }) => Promise<unknown> };
    expect(await mod.get({ id: '7' })).toEqual({ id: '7', label: 'item 7' });
    const map = JSON.parse(await readFile(`${bundle.bundlePath}.map`, 'utf8')) as { sources: string[] };
    expect(map.sources.map((s) => path.resolve(path.dirname(bundle.bundlePath), s)).sort()).toEqual(bundle.inputs.sort());
  });

  it("maps a thrown error's stack to the user's .ts file and line under --enable-source-maps", async () => {
    const app = await makeApp({ 'src/items.ts': ITEMS_TS, 'src/label.ts': 'export const label = (id: string) => id;\n' }, '  failing:\n    handler: src/items.fail\n');
    const bundle = await bundleOne(app, 'failing');
    const script = `import(${JSON.stringify(pathToFileURL(bundle.bundlePath).href)}).then((m) => m.fail());`;
    const run = promisify(execFile)(process.execPath, ['--enable-source-maps', '--input-type=module', '-e', script]);
    const err = (await run.catch((e: unknown) => e)) as { stderr: string };
    expect(err.stderr).toContain('boom from items.ts');
    expect(err.stderr).toContain(`${path.join(app.dir, 'src', 'items.ts')}:10:9`);
  });

  it('bundles a CommonJS handler, which exports only default', async () => {
    const app = await makeApp(
      { 'src/legacy.js': "exports.handler = async (event) => ({ echoed: event, dir: typeof __dirname });\n" },
      '  legacy:\n    handler: src/legacy.handler\n',
    );
    const bundle = await bundleOne(app, 'legacy');
    const mod = (await import(pathToFileURL(bundle.bundlePath).href)) as { default: { handler: (e: unknown) => Promise<unknown> } };
    expect(await mod.default.handler(1)).toEqual({ echoed: 1, dir: 'string' });
  });

  it("bundles the app's npm dependencies, letting their require() reach Node built-ins", async () => {
    const app = await makeApp(
      {
        'node_modules/tiny-join/package.json': '{ "name": "tiny-join", "version": "1.0.0", "main": "index.js" }\n',
        'node_modules/tiny-join/index.js': "const path = require('node:path');\nmodule.exports = (...parts) => path.posix.join(...parts);\n",
        'src/api.ts': "import join from 'tiny-join';\nexport const handler = async () => join('a', 'b');\n",
      },
      '  api:\n    handler: src/api.handler\n',
    );
    const bundle = await bundleOne(app, 'api');
    expect(bundle.inputs).toContain(path.join(app.dir, 'node_modules/tiny-join/index.js'));
    const mod = (await import(pathToFileURL(bundle.bundlePath).href)) as { handler: () => Promise<string> };
    expect(await mod.handler()).toBe('a/b');
  });

  it('reuses the previous build without running esbuild while no input changed', async () => {
    const app = await makeApp({ 'src/h.ts': 'export const handler = () => 1;\n' }, '  h:\n    handler: src/h.handler\n');
    // Files saved within a second of a build are not trusted by the fast path (coarse mtimes).
    const past = new Date(Date.now() - 10_000);
    await utimes(path.join(app.dir, 'src/h.ts'), past, past);
    const first = await bundleOne(app, 'h');
    expect(build).toHaveBeenCalledTimes(1);
    expect(await bundleOne(app, 'h')).toEqual(first);
    expect(build).toHaveBeenCalledTimes(1);

    await writeFile(path.join(app.dir, 'src/h.ts'), 'export const handler = () => 2;\n');
    const second = await bundleOne(app, 'h');
    expect(build).toHaveBeenCalledTimes(2);
    expect(second.codeSha256).not.toBe(first.codeSha256);
    // Just saved, so not trusted yet: the next call builds again, to the same content.
    expect(await bundleOne(app, 'h')).toEqual(second);
    expect(build).toHaveBeenCalledTimes(3);
  });

  it('keeps only the three newest builds of a function', async () => {
    const app = await makeApp({ 'src/h.ts': '' }, '  h:\n    handler: src/h.handler\n');
    const hashes: string[] = [];
    for (let i = 0; i < 5; i++) {
      await writeFile(path.join(app.dir, 'src/h.ts'), `export const handler = () => ${i};\n`);
      hashes.push((await bundleOne(app, 'h')).codeSha256.slice(0, 16));
    }
    const dirs = (await readdir(path.join(app.outDir, 'h'))).filter((d) => d !== 'last.json');
    expect(dirs.sort()).toEqual(hashes.slice(2).sort());
  });

  it('names the handler file it looked for when none exists', async () => {
    const app = await makeApp({}, '  getItem:\n    handler: src/items.get\n');
    await expect(bundleOne(app, 'getItem')).rejects.toMatchObject({
      code: 'HANDLER_NOT_FOUND',
      message: `Function "getItem": handler file src/items.{ts,mts,cts,tsx,js,mjs,cjs,jsx} not found in ${app.dir}`,
    });
  });

  it('lists the exports when the handler export is missing', async () => {
    const app = await makeApp({ 'src/items.ts': 'export const a = 1;\nexport function b() {}\n' }, '  getItem:\n    handler: src/items.get\n');
    await expect(bundleOne(app, 'getItem')).rejects.toMatchObject({
      code: 'HANDLER_NOT_FOUND',
      message: 'Function "getItem": src/items.ts has no export "get" (exports: a, b)',
    });
  });

  it('reports every syntax error with file:line:col', async () => {
    const app = await makeApp({ 'src/items.ts': 'export const get = ;\n' }, '  getItem:\n    handler: src/items.get\n');
    await expect(bundleOne(app, 'getItem')).rejects.toMatchObject({
      code: 'BUILD_FAILED',
      message: 'Function "getItem": src/items.ts:1:20 Unexpected ";"',
    });
  });
});

describe('bundleApp', () => {
  it('bundles every function', async () => {
    const app = await makeApp(
      { 'a.ts': 'export const handler = () => "a";\n', 'b.js': 'exports.handler = () => "b";\n' },
      '  a:\n    handler: a.handler\n  b:\n    handler: b.handler\n',
    );
    const bundles = await bundleApp(app, app.outDir);
    expect(Object.keys(bundles).sort()).toEqual(['a', 'b']);
    expect(bundles['b']?.exportName).toBe('handler');
  });

  it('collects the errors of all functions into one', async () => {
    const app = await makeApp(
      { 'ok.ts': 'export const handler = () => 1;\n', 'broken.ts': 'export const handler = (;\n' },
      '  ok:\n    handler: ok.handler\n  broken:\n    handler: broken.handler\n  missing:\n    handler: missing.handler\n',
    );
    const err = (await bundleApp(app, app.outDir).catch((e: unknown) => e)) as { code: string; message: string };
    expect(err.code).toBe('BUILD_FAILED');
    expect(err.message.split('\n')).toEqual([
      'Function "broken": broken.ts:1:25 Unexpected ";"',
      `Function "missing": handler file missing.{ts,mts,cts,tsx,js,mjs,cjs,jsx} not found in ${app.dir}`,
    ]);
  });
});
