import { mkdir, mkdtemp, readFile, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isPlatformError } from '../core/errors.js';
import { LAMBDA_LIMITS } from '../core/lambda.js';
import { parseManifest } from './load.js';
import { copyIncludedFiles, findIncludedFiles } from './package-files.js';

const roots: string[] = [];
afterAll(async () => {
  await Promise.all(roots.map((d) => rm(d, { recursive: true, force: true })));
});

async function makeDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'nuvola-include-'));
  roots.push(dir);
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), text);
  }
  return dir;
}

const find = (appDir: string, patterns: string[], skip: string[] = []) => findIncludedFiles({ appDir, patterns, skip, fn: 'reader' });

/** The message of the BUILD_FAILED error `run` rejects with. */
async function buildFailure(run: Promise<unknown>): Promise<string> {
  const err = await run.then(() => undefined, (e: unknown) => e);
  if (!isPlatformError(err, 'BUILD_FAILED')) throw new Error(`expected BUILD_FAILED, got ${String(err)}`);
  return err.message;
}

describe('package.include in the manifest', () => {
  it("takes the app's patterns, then the function's own", () => {
    const manifest = parseManifest(
      `app: files
package:
  include: [data/**, ./templates/*.html]
functions:
  reader:
    handler: src/reader.handler
    package:
      include: ['!data/secret.json']
  plain:
    handler: src/plain.handler
`,
      'nuvola.yaml',
    );
    expect(manifest.functions['reader']?.include).toEqual(['data/**', 'templates/*.html', '!data/secret.json']);
    expect(manifest.functions['plain']?.include).toEqual(['data/**', 'templates/*.html']);
    expect(manifest.functions['reader']).not.toHaveProperty('package');
  });

  it('refuses patterns that leave the app directory, naming each', () => {
    let message = '';
    try {
      parseManifest(
        `app: files
package:
  include: [/etc/passwd, ../secrets/**, 'data/../../x', '{..,data}/x', '!', 'C:/x']
functions:
  reader:
    handler: src/reader.handler
    package: { include: 'data/**' }
`,
        'nuvola.yaml',
      );
    } catch (err) {
      if (!isPlatformError(err, 'MANIFEST_INVALID')) throw err;
      message = err.message;
    }
    expect(message.split('\n').slice(1)).toEqual([
      'nuvola.yaml:3:13 package.include[0] — expected a glob relative to the app directory, e.g. data/**, got "/etc/passwd"',
      'nuvola.yaml:3:26 package.include[1] — expected a glob inside the app directory, without "..", got "../secrets/**"',
      'nuvola.yaml:3:41 package.include[2] — expected a glob inside the app directory, without "..", got "data/../../x"',
      'nuvola.yaml:3:57 package.include[3] — expected a glob inside the app directory, without "..", got "{..,data}/x"',
      'nuvola.yaml:3:72 package.include[4] — expected a glob pattern, e.g. data/** or !data/secret.json, got "!"',
      'nuvola.yaml:3:77 package.include[5] — expected a glob relative to the app directory, e.g. data/**, got "C:/x"',
      'nuvola.yaml:7:25 functions.reader.package.include — expected a list of glob patterns, e.g. - data/**, got "data/**"',
    ]);
  });
});

describe('findIncludedFiles', () => {
  it('applies the patterns in order, as serverless does: a later pattern takes back what a "!" left out', async () => {
    const dir = await makeDir({
      'data/greeting.json': '{}',
      'data/secret.json': '{}',
      'data/.hidden': '',
      'data/nested/deep.txt': '',
      'node_modules/a/index.js': '',
      'node_modules/node-fetch/lib/index.js': '',
      'src/reader.ts': '',
    });
    expect((await find(dir, ['data/**', '!data/secret.json'])).paths).toEqual(['data/.hidden', 'data/greeting.json', 'data/nested/deep.txt']);
    expect((await find(dir, ['data/*.json', '!data/**', 'data/secret.json'])).paths).toEqual(['data/secret.json']);
    expect((await find(dir, ['**/*.js', '!node_modules/**', 'node_modules/node-fetch/**'])).paths).toEqual(['node_modules/node-fetch/lib/index.js']);
    // Only "!" patterns take nothing; a directory name is not its contents (serverless's patterns).
    expect((await find(dir, ['!data/secret.json'])).paths).toEqual([]);
    expect((await find(dir, ['data'])).paths).toEqual([]);
  });

  it('never takes version control or the build output', async () => {
    const dir = await makeDir({ '.git/HEAD': 'ref', '.nuvola/build/x/index.mjs': '', 'out/build/y.js': '', 'a.txt': 'a' });
    const found = await find(dir, ['**'], [path.join(dir, 'out/build')]);
    expect(found.paths).toEqual(['a.txt']);
    expect(found.sources).toEqual([path.join(dir, 'a.txt')]);
    expect(found.bytes).toBe(1);
  });

  it('leaves symbolic links out, and refuses a pattern that leads out of the app through one', async () => {
    const outside = await makeDir({ 'other.txt': 'other' });
    const dir = await makeDir({ 'data/real.txt': 'real', 'v2/config.json': '{}' });
    await symlink(path.join(dir, 'data/real.txt'), path.join(dir, 'data/alias.txt'));
    await symlink(path.join(outside, 'other.txt'), path.join(dir, 'data/leak.txt'));
    await symlink(outside, path.join(dir, 'data/linked'));
    expect((await find(dir, ['data/**'])).paths).toEqual(['data/real.txt']);

    // A pattern starting in a linked directory is followed, inside the app only.
    await symlink(path.join(dir, 'v2'), path.join(dir, 'current'));
    expect((await find(dir, ['current/*.json'])).paths).toEqual(['current/config.json']);
    await symlink(outside, path.join(dir, 'elsewhere'));
    expect(await buildFailure(find(dir, ['elsewhere/*.txt']))).toBe(
      `Function "reader": package.include: elsewhere/other.txt is ${path.join(outside, 'other.txt')}, outside the app directory (through a symbolic link): copy the files in, or exclude them (!elsewhere/other.txt)`,
    );
    expect((await find(dir, ['elsewhere/*.txt', '!elsewhere/**'])).paths).toEqual([]);
  });

  it("refuses a file that would replace the function's bundle", async () => {
    const dir = await makeDir({ 'index.mjs': '', 'data/index.mjs': '' });
    expect(await buildFailure(find(dir, ['*.mjs', 'data/*']))).toBe(
      `Function "reader": package.include: index.mjs would replace the function's bundle in its task root: rename it or exclude it (!index.mjs)`,
    );
  });

  it("refuses more than Lambda's unzipped code size, naming the largest files", async () => {
    const dir = await makeDir({ 'data/small.txt': 'x' });
    // Sparse: as large as the limit to stat, nothing on disk.
    await writeFile(path.join(dir, 'data/huge.bin'), '');
    await truncate(path.join(dir, 'data/huge.bin'), LAMBDA_LIMITS.MAX_UNZIPPED_CODE_BYTES);
    expect(await buildFailure(find(dir, ['data/**']))).toBe(
      `Function "reader": Unzipped size must be smaller than 262144000 bytes (Lambda's limit for a function's code): ` +
        'its bundle and package.include files come to at least 262144001 bytes (largest: data/huge.bin 262144000 bytes, data/small.txt 1 bytes)',
    );
  });
});

describe('copyIncludedFiles', () => {
  it('copies the files and digests paths and contents together', async () => {
    const dir = await makeDir({ 'data/a.json': '{"a":1}', 'data/b/c.txt': 'c' });
    const found = await find(dir, ['data/**']);
    const out = path.join(await makeDir({}), 'files');
    const first = await copyIncludedFiles('reader', found, out, 100);
    expect(first.bytes).toBe(8);
    expect(await readFile(path.join(out, 'data/b/c.txt'), 'utf8')).toBe('c');

    const again = await copyIncludedFiles('reader', found, path.join(path.dirname(out), 'again'), 100);
    expect(again.sha256).toBe(first.sha256);
    await writeFile(path.join(dir, 'data/b/c.txt'), 'C');
    const edited = await copyIncludedFiles('reader', found, path.join(path.dirname(out), 'edited'), 100);
    expect(edited.sha256).not.toBe(first.sha256);
  });

  it('leaves nothing behind when the bundle and the files together are over the limit', async () => {
    const dir = await makeDir({ 'data/a.json': '{"a":1}' });
    const out = path.join(await makeDir({}), 'files');
    const message = await buildFailure(copyIncludedFiles('reader', await find(dir, ['data/**']), out, LAMBDA_LIMITS.MAX_UNZIPPED_CODE_BYTES - 3));
    expect(message).toMatch(/Unzipped size must be smaller than 262144000 bytes .* at least 262144004 bytes \(largest: data\/a\.json while copying\)/);
    await expect(readFile(path.join(out, 'data/a.json'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
