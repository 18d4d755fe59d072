import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import * as esbuild from 'esbuild';
import { afterAll, beforeEach, describe, it, expect, vi } from 'vitest';
import { bundleApp, bundleFunction, packageName } from './bundle.js';
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

describe('hints for common mistakes', () => {
  const MODULE_PACKAGE = '{ "name": "app", "type": "module" }\n';

  it('rejects a CommonJS handler in a "type": "module" package, suggesting .cjs or export', async () => {
    const app = await makeApp(
      { 'package.json': MODULE_PACKAGE, 'src/legacy.js': 'exports.handler = async () => 1;\n' },
      '  legacy:\n    handler: src/legacy.handler\n',
    );
    await expect(bundleOne(app, 'legacy')).rejects.toMatchObject({
      code: 'BUILD_FAILED',
      message:
        'Function "legacy": src/legacy.js:1:1 uses CommonJS "exports" in an ES module (package.json has "type": "module"): ' +
        'rename the file to legacy.cjs, or use export (export const handler = …)',
    });
    // Following the hint works: a .cjs file is CommonJS whatever package.json says.
    await rename(path.join(app.dir, 'src/legacy.js'), path.join(app.dir, 'src/legacy.cjs'));
    const bundle = await bundleOne(app, 'legacy');
    const mod = (await import(pathToFileURL(bundle.bundlePath).href)) as { default: { handler: () => Promise<number> } };
    expect(await mod.default.handler()).toBe(1);
  });

  it('suggests .cts for TypeScript and names the package.json that makes the file an ES module', async () => {
    const app = await makeApp(
      { 'src/package.json': MODULE_PACKAGE, 'src/api.ts': 'module.exports = { get: async () => 1 };\n' },
      '  api:\n    handler: src/api.get\n',
    );
    await expect(bundleOne(app, 'api')).rejects.toMatchObject({
      code: 'BUILD_FAILED',
      message:
        'Function "api": src/api.ts:1:1 uses CommonJS "module" in an ES module (src/package.json has "type": "module"): ' +
        'rename the file to api.cts, or use export (export const get = …)',
    });
  });

  it('names a CommonJS helper file that would throw "exports is not defined" on import', async () => {
    const app = await makeApp(
      {
        'package.json': MODULE_PACKAGE,
        'src/api.js': "import { label } from './label.js';\nexport const handler = async () => label;\n",
        'src/label.js': "exports.label = 'x';\n",
      },
      '  api:\n    handler: src/api.handler\n',
    );
    await expect(bundleOne(app, 'api')).rejects.toMatchObject({
      code: 'BUILD_FAILED',
      message: 'Function "api": src/label.js:1:1 uses CommonJS "exports" in an ES module (package.json has "type": "module"): rename the file to label.cjs, or use export',
    });
  });

  it('tells a file that mixes export and module.exports to use export only', async () => {
    const app = await makeApp(
      { 'src/api.ts': 'export const handler = async () => 1;\nmodule.exports.extra = 2;\n' },
      '  api:\n    handler: src/api.handler\n',
    );
    await expect(bundleOne(app, 'api')).rejects.toMatchObject({
      code: 'BUILD_FAILED',
      message: 'Function "api": src/api.ts:2:1 uses CommonJS "module" in an ES module (it also uses "export" at line 1): use export (export const handler = …) instead',
    });
  });

  it("leaves a dependency's guarded CommonJS alone", async () => {
    const app = await makeApp(
      {
        'node_modules/dual/package.json': '{ "name": "dual", "type": "module", "main": "index.js" }\n',
        'node_modules/dual/index.js': "export const two = 2;\nif (typeof module === 'object' && module.exports) module.exports.two = two;\n",
        'src/api.ts': "import { two } from 'dual';\nexport const handler = async () => two;\n",
      },
      '  api:\n    handler: src/api.handler\n',
    );
    const bundle = await bundleOne(app, 'api');
    const mod = (await import(pathToFileURL(bundle.bundlePath).href)) as { handler: () => Promise<number> };
    expect(await mod.handler()).toBe(2);
  });

  it('says how to install a package that is not installed, naming the package only', async () => {
    const app = await makeApp(
      {
        'src/api.ts': [
          "import a from 'left-pad';",
          "import b from '@acme/widgets/button';",
          "import c from 'lodash/fp/map';",
          "import d from './nope.js';",
          'export const handler = () => [a, b, c, d];',
          '',
        ].join('\n'),
      },
      '  api:\n    handler: src/api.handler\n',
    );
    const err = (await bundleOne(app, 'api').catch((e: unknown) => e)) as { code: string; message: string };
    expect(err.code).toBe('BUILD_FAILED');
    expect(err.message.split('\n')).toEqual([
      'Function "api": src/api.ts:1:15 Could not resolve "left-pad" (not installed? run: npm install left-pad)',
      'Function "api": src/api.ts:2:15 Could not resolve "@acme/widgets/button" (not installed? run: npm install @acme/widgets)',
      'Function "api": src/api.ts:3:15 Could not resolve "lodash/fp/map" (not installed? run: npm install lodash)',
      'Function "api": src/api.ts:4:15 Could not resolve "./nope.js"',
    ]);
  });

  it('gives no install hint for an installed package that lacks the subpath', async () => {
    const app = await makeApp(
      {
        'node_modules/tiny/package.json': '{ "name": "tiny", "exports": { ".": "./index.js" } }\n',
        'node_modules/tiny/index.js': 'export default 1;\n',
        'src/api.ts': "import x from 'tiny/missing';\nexport const handler = () => x;\n",
      },
      '  api:\n    handler: src/api.handler\n',
    );
    await expect(bundleOne(app, 'api')).rejects.toMatchObject({ code: 'BUILD_FAILED', message: 'Function "api": src/api.ts:1:15 Could not resolve "tiny/missing"' });
  });

  it.each([
    ['left-pad', 'left-pad'],
    ['lodash/fp/map', 'lodash'],
    ['@aws-sdk/client-s3', '@aws-sdk/client-s3'],
    ['@scope/pkg/sub/path.js', '@scope/pkg'],
    ['./local', undefined],
    ['../up', undefined],
    ['/abs/path', undefined],
    ['node:fs', undefined],
    ['#internal', undefined],
    ['@/lib/util', undefined],
    ['~/lib/util', undefined],
  ])('packageName(%j) is %j', (specifier, name) => {
    expect(packageName(specifier)).toBe(name);
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

describe('files beside the code (package.include)', () => {
  const READER = "import { readFileSync } from 'node:fs';\nexport const handler = () => readFileSync('data/a.json', 'utf8');\n";

  it('copies the files into the build, where the runtime finds them, and counts them in the code size', async () => {
    const app = await makeApp(
      { 'src/r.ts': READER, 'data/a.json': '{"a":1}', 'data/deep/b.txt': 'b', 'data/secret.json': 'no' },
      "  r:\n    handler: src/r.handler\n    package:\n      include: ['data/**', '!data/secret.json']\n  plain:\n    handler: src/r.handler\n",
    );
    const bundle = await bundleOne(app, 'r');
    const buildDir = path.dirname(bundle.bundlePath);
    expect(bundle.files).toEqual({ root: path.join(buildDir, 'files'), paths: ['data/a.json', 'data/deep/b.txt'] });
    expect(await readFile(path.join(buildDir, 'files/data/deep/b.txt'), 'utf8')).toBe('b');
    expect(await readdir(path.join(buildDir, 'files/data'))).not.toContain('secret.json');
    expect(bundle.inputs).toEqual(expect.arrayContaining([path.join(app.dir, 'data/a.json'), path.join(app.dir, 'data/deep/b.txt')]));

    const plain = await bundleOne(app, 'plain');
    expect(plain.files).toBeUndefined();
    expect(bundle.size).toBe(plain.size + '{"a":1}'.length + 1);
    expect(bundle.codeSha256).not.toBe(plain.codeSha256);
  });

  it('gives the code a new hash when an included file changes or a new one matches, and only then', async () => {
    const app = await makeApp({ 'src/r.ts': READER, 'data/a.json': '{"a":1}' }, "  r:\n    handler: src/r.handler\n    package:\n      include: ['data/*']\n");
    const past = new Date(Date.now() - 10_000);
    for (const f of ['src/r.ts', 'data/a.json']) await utimes(path.join(app.dir, f), past, past);
    const first = await bundleOne(app, 'r');
    expect(await bundleOne(app, 'r')).toEqual(first);
    expect(build).toHaveBeenCalledTimes(1);

    await writeFile(path.join(app.dir, 'data/a.json'), '{"a":2}');
    const edited = await bundleOne(app, 'r');
    expect(edited.codeSha256).not.toBe(first.codeSha256);
    expect(await readFile(path.join(edited.files!.root, 'data/a.json'), 'utf8')).toBe('{"a":2}');
    // The old build keeps its own copy: instances started from it read what they were started with.
    expect(await readFile(path.join(first.files!.root, 'data/a.json'), 'utf8')).toBe('{"a":1}');

    await utimes(path.join(app.dir, 'data/a.json'), past, past);
    const settled = await bundleOne(app, 'r');
    await writeFile(path.join(app.dir, 'data/b.json'), '{}');
    await utimes(path.join(app.dir, 'data/b.json'), past, past);
    const added = await bundleOne(app, 'r');
    expect(added.files?.paths).toEqual(['data/a.json', 'data/b.json']);
    expect(added.codeSha256).not.toBe(settled.codeSha256);
    expect(await readdir(path.join(app.outDir, 'r'))).not.toContainEqual(expect.stringMatching(/tmp/));
  });

  it('fails the build on an included file that links out of the app', async () => {
    const outside = await mkdtemp(path.join(os.tmpdir(), 'nuvola-outside-'));
    roots.push(outside);
    await writeFile(path.join(outside, 'secret.txt'), 'secret');
    const app = await makeApp({ 'src/r.ts': READER }, "  r:\n    handler: src/r.handler\n    package:\n      include: ['data/*']\n");
    await symlink(outside, path.join(app.dir, 'data'));
    const err = (await bundleOne(app, 'r').catch((e: unknown) => e)) as { code: string; message: string };
    expect(err.code).toBe('BUILD_FAILED');
    expect(err.message).toMatch(/^Function "r": package\.include: data\/secret\.txt is .*secret\.txt, outside the app directory/);
  });
});

describe('the AWS SDK v3, as Lambda runtimes provide it', () => {
  // makeApp's directories are in the system's temporary directory: no node_modules above them.
  const CALLER = [
    "import { LambdaClient, InvokeCommand } from '@aws-sdk/client-lambda';",
    'export const handler = () => [typeof LambdaClient, typeof InvokeCommand];',
    '',
  ].join('\n');

  it("bundles Nuvola's own client for an app that has not installed it", async () => {
    const app = await makeApp({ 'src/caller.ts': CALLER }, '  caller:\n    handler: src/caller.handler\n');
    const bundle = await bundleOne(app, 'caller');
    const shipped = path.dirname(createRequire(import.meta.url).resolve('@aws-sdk/client-lambda/package.json'));
    expect(bundle.inputs.some((f) => f.startsWith(shipped + path.sep))).toBe(true);
    // In a process of its own: Vitest's own import would transform the 1.4 MB bundle first, for seconds.
    const script = `const m = await import(${JSON.stringify(pathToFileURL(bundle.bundlePath).href)}); console.log(JSON.stringify(m.handler()));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--no-warnings', '--input-type=module', '-e', script]);
    expect(JSON.parse(stdout)).toEqual(['function', 'function']);
  });

  it("uses the app's own installed version when it has one", async () => {
    const app = await makeApp(
      {
        'node_modules/@aws-sdk/client-lambda/package.json': '{ "name": "@aws-sdk/client-lambda", "version": "3.0.0", "main": "index.js" }\n',
        'node_modules/@aws-sdk/client-lambda/index.js': "exports.LambdaClient = 'own'; exports.InvokeCommand = 'own';\n",
        'src/caller.ts': CALLER,
      },
      '  caller:\n    handler: src/caller.handler\n',
    );
    const bundle = await bundleOne(app, 'caller');
    expect(bundle.inputs).toContain(path.join(app.dir, 'node_modules/@aws-sdk/client-lambda/index.js'));
    const mod = (await import(pathToFileURL(bundle.bundlePath).href)) as { handler: () => string[] };
    expect(mod.handler()).toEqual(['string', 'string']);
  });

  it("lends no other package of Nuvola's, nor a client it does not ship", async () => {
    const app = await makeApp(
      { 'src/api.ts': "import { z } from 'zod';\nimport { S3Client } from '@aws-sdk/client-s3';\nexport const handler = () => [z, S3Client];\n" },
      '  api:\n    handler: src/api.handler\n',
    );
    const err = (await bundleOne(app, 'api').catch((e: unknown) => e)) as { code: string; message: string };
    expect(err.message.split('\n')).toEqual([
      'Function "api": src/api.ts:1:19 Could not resolve "zod" (not installed? run: npm install zod)',
      'Function "api": src/api.ts:2:26 Could not resolve "@aws-sdk/client-s3" (not installed? run: npm install @aws-sdk/client-s3)',
    ]);
  });
});
