// The files a function takes beside its code (`package.include`, serverless.yml's `package.patterns`):
// found by glob in the app directory, checked, and copied into the function's build, where the
// runtime links them into each instance's task root (src/runtime/task-root.ts).
//
// Globs: Node's own `fs.glob` is missing on Node 20 and `path.matchesGlob` is experimental there
// (it warns on use), so tinyglobby crawls (the glob library of Vite, Vitest and typescript-eslint,
// already in our tree) and picomatch, on which tinyglobby itself matches, applies the patterns in
// order, as serverless does: tinyglobby would apply every `!` pattern after all others.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, realpath, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import picomatch from 'picomatch';
import { glob } from 'tinyglobby';
import { PlatformError } from '../core/errors.js';
import { LAMBDA_LIMITS } from '../core/lambda.js';

/** Where the bundle itself lies in the task root: an included file may not take its place. */
const BUNDLE_NAMES = new Set(['index.mjs', 'index.mjs.map']);
/** Never part of a function: version control, and Nuvola's own state (bundles included). */
const ALWAYS_IGNORED = ['.git/**', '.nuvola/**'];
/** Files copied at once: enough to keep the disk busy, few enough not to exhaust descriptors. */
const COPIES_AT_ONCE = 8;

export interface IncludedFiles {
  /** Relative to the app directory, `/`-separated, sorted. */
  readonly paths: string[];
  /** Absolute paths in the app directory, in the order of `paths` (for the watcher and the build cache). */
  readonly sources: string[];
  /** Where each file's content is read: `sources`, with symbolic links (inside the app) resolved. */
  readonly real: string[];
  /** Their total size when found. */
  readonly bytes: number;
}

export interface FindOptions {
  readonly appDir: string;
  readonly patterns: readonly string[];
  /** Directories never searched (the build output, when it lies in the app directory). */
  readonly skip: readonly string[];
  /** The function's name, for messages. */
  readonly fn: string;
}

/**
 * The files `patterns` take, in order: a file is in when the last pattern that matches it is not a
 * `!` pattern. Symbolic links met on the way are left out, not followed (one pointing at `/` would
 * walk the disk); a pattern that starts in a linked directory is followed, and fails the build if
 * it leads out of the app directory. More than Lambda's unzipped size limit fails it too. Only
 * regular files count (a FIFO or socket matched by `**` is left out: reading one would block).
 */
export async function findIncludedFiles(opts: FindOptions): Promise<IncludedFiles> {
  const none: IncludedFiles = { paths: [], sources: [], real: [], bytes: 0 };
  const positive = opts.patterns.filter((p) => !p.startsWith('!'));
  if (positive.length === 0) return none;
  const appDir = path.resolve(opts.appDir);
  const ignore = [
    ...ALWAYS_IGNORED,
    ...opts.skip.map((d) => path.relative(appDir, d)).filter((r) => r !== '' && !r.startsWith('..') && !path.isAbsolute(r)).map((r) => `${r.split(path.sep).join('/')}/**`),
  ];
  const found = await glob(positive, { cwd: appDir, ignore, dot: true, onlyFiles: true, followSymbolicLinks: false, expandDirectories: false });
  const rules = opts.patterns.map((p) => {
    const exclude = p.startsWith('!');
    return { exclude, matches: picomatch(exclude ? p.slice(1) : p, { dot: true }) };
  });
  const taken = found.filter((file) => {
    let inside = false;
    for (const rule of rules) if (rule.matches(file)) inside = !rule.exclude;
    return inside;
  }).sort();

  const problems: string[] = [];
  const realApp = await realpath(appDir);
  const result = { paths: [] as string[], sources: [] as string[], real: [] as string[], sizes: [] as number[] };
  for (const file of taken) {
    const source = path.join(appDir, file);
    if (isOutside(appDir, source)) {
      problems.push(`${file} is outside the app directory`);
      continue;
    }
    if (BUNDLE_NAMES.has(file)) {
      problems.push(`${file} would replace the function's bundle in its task root: rename it or exclude it (!${file})`);
      continue;
    }
    const real = await realpath(source).catch(() => undefined);
    if (real === undefined) continue; // removed since the glob saw it, or a dangling link
    if (isOutside(realApp, real)) {
      problems.push(`${file} is ${real}, outside the app directory (through a symbolic link): copy the files in, or exclude them (!${file})`);
      continue;
    }
    const info = await stat(real).catch(() => undefined);
    if (!info?.isFile()) continue;
    result.paths.push(file);
    result.sources.push(source);
    result.real.push(real);
    result.sizes.push(info.size);
  }
  if (problems.length > 0) fail(opts.fn, problems.map((p) => `package.include: ${p}`));
  const bytes = result.sizes.reduce((a, b) => a + b, 0);
  checkSize(opts.fn, bytes, 0, () => largest(result.paths, result.sizes));
  return { paths: result.paths, sources: result.sources, real: result.real, bytes };
}

/**
 * Copies the files into a new directory `dir` (which must not exist), hashing each as it is
 * written: the digest is of what was copied, even if a file changes meanwhile. Returns the digest
 * of paths and contents together and the bytes copied; fails past Lambda's limit counting
 * `codeBytes` (the bundle) in. On failure nothing is left behind.
 */
export async function copyIncludedFiles(fn: string, files: IncludedFiles, dir: string, codeBytes: number): Promise<{ sha256: string; bytes: number }> {
  const hashes: string[] = new Array<string>(files.paths.length);
  let bytes = 0;
  let next = 0;
  const copyOne = async (i: number): Promise<void> => {
    const to = path.join(dir, files.paths[i]!);
    await mkdir(path.dirname(to), { recursive: true });
    const hash = createHash('sha256');
    await pipeline(
      createReadStream(files.real[i]!),
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          bytes += chunk.byteLength;
          // A file that grew since it was found must not slip past the limit.
          checkSize(fn, bytes, codeBytes, () => `${files.paths[i]} while copying`);
          hash.update(chunk);
          yield chunk;
        }
      },
      createWriteStream(to, { flags: 'wx' }),
    );
    hashes[i] = hash.digest('hex');
  };
  const worker = async (): Promise<void> => {
    while (next < files.paths.length) await copyOne(next++);
  };
  try {
    await mkdir(dir, { recursive: true });
    await Promise.all(Array.from({ length: Math.min(COPIES_AT_ONCE, files.paths.length) }, worker));
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const digest = createHash('sha256');
  files.paths.forEach((p, i) => digest.update(`${p}\u0000${hashes[i]}\u0000`));
  return { sha256: digest.digest('hex'), bytes };
}

function isOutside(dir: string, file: string): boolean {
  const rel = path.relative(dir, file);
  return rel === '' || rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel);
}

function checkSize(fn: string, bytes: number, codeBytes: number, biggest: () => string): void {
  const total = bytes + codeBytes;
  if (total < LAMBDA_LIMITS.MAX_UNZIPPED_CODE_BYTES) return;
  fail(fn, [
    `Unzipped size must be smaller than ${LAMBDA_LIMITS.MAX_UNZIPPED_CODE_BYTES} bytes (Lambda's limit for a function's code): ` +
      `its bundle and package.include files come to at least ${total} bytes (largest: ${biggest()})`,
  ]);
}

function largest(paths: readonly string[], sizes: readonly number[]): string {
  const order = sizes.map((size, i) => ({ size, file: paths[i]! })).sort((a, b) => b.size - a.size).slice(0, 3);
  return order.map((o) => `${o.file} ${o.size} bytes`).join(', ');
}

function fail(fn: string, problems: readonly string[]): never {
  throw new PlatformError('BUILD_FAILED', problems.map((p) => `Function "${fn}": ${p}`).join('\n'), { fn, errors: problems.map((text) => ({ text })) });
}
