// Bundles each function's handler with esbuild into one ESM file plus a source map, stored by content
// hash under `<outDir>/<function>/<hash>/index.mjs`. A function instance imports that file; the
// linked source map points at the user's own files, so `node --enable-source-maps` reports
// `src/items.ts:12` in stack traces.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { createRequire, isBuiltin } from 'node:module';
import path from 'node:path';
import { build, version as esbuildVersion } from 'esbuild';
import type { Message, Metafile, OutputFile, Plugin } from 'esbuild';
import { isPlatformError, PlatformError } from '../core/errors.js';
import { runtimeMajor } from '../core/lambda.js';
import type { LoadedApp } from './load.js';
import { copyIncludedFiles, findIncludedFiles } from './package-files.js';
import type { FunctionBundle, FunctionConfig } from '../core/app.js';

/**
 * Tried in this order after the handler's module path. Lambda's Node runtime tries .js, .mjs, .cjs;
 * TypeScript comes first so a source file wins over compiled output left beside it.
 */
export const HANDLER_EXTENSIONS = ['.ts', '.mts', '.cts', '.tsx', '.js', '.mjs', '.cjs', '.jsx'] as const;

export type Bundle = FunctionBundle;

export interface BundleOptions {
  appDir: string;
  /** Where bundles go, e.g. `<app>/.nuvola/build`. */
  outDir: string;
  fn: FunctionConfig;
}

// Older builds stay a while: an instance started from one may still read its source map.
const KEEP_BUILDS = 3;
// Part of the cache key: bump it when the esbuild options or the checks of a build change, so old
// builds are not reused.
const BUILD_FORMAT = 5;
const HASH_DIR = /^[0-9a-f]{16}$/;
// A file modified this close to the build's start is not trusted by the fast path ("racy git"): file
// times are coarse (a kernel tick on Linux, 1 s on HFS+), so an edit racing esbuild's read could
// carry an mtime from before the build. Such a build is simply redone on the next call.
const RACY_MS = 1000;
/** The included files' directory in a build, beside `index.mjs`: never mixed with the bundle's own names. */
const FILES_DIR = 'files';

// Bundled CommonJS dependencies call `require` for Node built-ins, which an ES module lacks. esbuild
// renames user code's own top-level `require` (it treats the name as reserved), so this cannot clash.
const BANNER =
  "import { createRequire as __nuvolaCreateRequire } from 'node:module'; const require = __nuvolaCreateRequire(import.meta.url);";

interface LastBuild {
  key: string;
  bundle: Bundle;
  inputs: { path: string; mtimeMs: number; size: number }[];
}

/**
 * Bundles one function. Reuses the previous build without running esbuild when none of its input
 * files changed. Throws HANDLER_NOT_FOUND (no file, or no such export) or BUILD_FAILED.
 */
export async function bundleFunction(opts: BundleOptions): Promise<Bundle> {
  const { fn } = opts;
  const appDir = path.resolve(opts.appDir);
  const fnDir = path.join(path.resolve(opts.outDir), fn.name);
  const entry = await resolveHandlerFile(appDir, fn);
  // Globbed on every build: a file new to a pattern changes the key, an edited one its recorded input.
  const included = await findIncludedFiles({ appDir, patterns: fn.include ?? [], skip: [path.resolve(opts.outDir)], fn: fn.name });
  const key = JSON.stringify([BUILD_FORMAT, esbuildVersion, entry, fn.exportName, fn.runtime, sha256(included.paths.join('\u0000'))]);
  const previous = await reuseLastBuild(fnDir, key);
  if (previous) return previous;

  const startedAt = Date.now();
  const placeholder = path.join(fnDir, '0'.repeat(16), 'index.mjs');
  const { outputFiles, metafile, warnings } = await runEsbuild(appDir, entry, placeholder, fn);
  checkModuleFormat(appDir, entry, fn, warnings);
  checkExport(appDir, entry, fn, metafile);

  const js = outputOf(outputFiles, '.mjs');
  const map = { contents: absoluteSources(outputOf(outputFiles, '.mjs.map').text, path.dirname(placeholder)) };
  const hash = createHash('sha256').update(js.contents).update(map.contents);
  // The files are copied before the hash is known: it covers them, so that an edit of one reloads
  // the function's instances as an edit of its code does.
  const staged = included.paths.length === 0 ? undefined : path.join(fnDir, `files.tmp-${randomBytes(6).toString('hex')}`);
  let filesBytes = 0;
  try {
    if (staged) {
      const copied = await copyIncludedFiles(fn.name, included, staged, js.contents.byteLength);
      filesBytes = copied.bytes;
      hash.update(`\u0000files\u0000${copied.sha256}`);
    }
    const codeSha256 = hash.digest('hex');
    const buildDir = path.join(fnDir, codeSha256.slice(0, 16));
    await storeBuild(buildDir, js, map, staged);
    await pruneBuilds(fnDir, buildDir);

    const inputs = Object.keys(metafile.inputs)
      .filter((p) => !/^[a-z-]+:/.test(p)) // esbuild's virtual modules (`ns:path`) are no files
      .map((p) => path.resolve(appDir, p));
    const bundle: Bundle = {
      fn: fn.name,
      bundlePath: path.join(buildDir, 'index.mjs'),
      exportName: fn.exportName,
      codeSha256,
      size: js.contents.byteLength + filesBytes,
      inputs: [...inputs, ...included.sources],
      ...(staged ? { files: { root: path.join(buildDir, FILES_DIR), paths: included.paths } } : {}),
    };
    await recordBuild(fnDir, key, bundle, startedAt);
    return bundle;
  } finally {
    if (staged) await rm(staged, { recursive: true, force: true });
  }
}

/** Bundles all functions of an app in parallel; throws one error listing every function that failed. */
export async function bundleApp(app: LoadedApp, outDir: string): Promise<Record<string, Bundle>> {
  const fns = Object.values(app.manifest.functions);
  const results = await Promise.allSettled(fns.map((fn) => bundleFunction({ appDir: app.dir, outDir, fn })));
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (failures.length > 0) {
    const unexpected = failures.find((e) => !isPlatformError(e, 'BUILD_FAILED') && !isPlatformError(e, 'HANDLER_NOT_FOUND'));
    if (unexpected !== undefined) throw unexpected;
    const errors = failures as PlatformError<'BUILD_FAILED' | 'HANDLER_NOT_FOUND'>[];
    const code = errors.every((e) => e.code === 'HANDLER_NOT_FOUND') ? 'HANDLER_NOT_FOUND' : 'BUILD_FAILED';
    throw new PlatformError(code, errors.map((e) => e.message).join('\n'), {
      errors: errors.map((e) => ({ code: e.code, message: e.message, ...e.details })),
    });
  }
  const bundles = results.map((r) => (r as PromiseFulfilledResult<Bundle>).value);
  return Object.fromEntries(bundles.map((b) => [b.fn, b]));
}

async function resolveHandlerFile(appDir: string, fn: FunctionConfig): Promise<string> {
  const base = path.resolve(appDir, fn.handlerFile);
  const exact = (HANDLER_EXTENSIONS as readonly string[]).includes(path.extname(base));
  const candidates = [...(exact ? [base] : []), ...HANDLER_EXTENSIONS.map((ext) => base + ext)];
  for (const file of candidates) {
    if ((await stat(file).catch(() => undefined))?.isFile()) return file;
  }
  const tried = exact ? fn.handlerFile : `${fn.handlerFile}.{${HANDLER_EXTENSIONS.map((e) => e.slice(1)).join(',')}}`;
  throw new PlatformError('HANDLER_NOT_FOUND', `Function "${fn.name}": handler file ${tried} not found in ${appDir}`, {
    fn: fn.name,
    handler: fn.handler,
    appDir,
  });
}

async function runEsbuild(appDir: string, entry: string, outfile: string, fn: FunctionConfig) {
  try {
    return await build({
      absWorkingDir: appDir,
      entryPoints: [entry],
      outfile,
      bundle: true,
      platform: 'node',
      target: `node${runtimeMajor(fn.runtime)}`,
      format: 'esm',
      sourcemap: 'linked',
      sourcesContent: true,
      keepNames: true,
      write: false,
      metafile: true,
      logLevel: 'silent',
      banner: { js: BANNER },
      // CommonJS dependencies read these; in an ES module they exist only on import.meta (Node >= 20.11).
      define: { __dirname: 'import.meta.dirname', __filename: 'import.meta.filename' },
      plugins: awsSdkPlugins(),
    });
  } catch (err) {
    const messages = (err as { errors?: Message[] }).errors;
    if (!Array.isArray(messages)) throw err;
    const lines = await Promise.all(messages.map(async (m) => `Function "${fn.name}": ${at(m)}${m.text}${await installHint(appDir, m)}`));
    throw new PlatformError('BUILD_FAILED', lines.join('\n'), {
      fn: fn.name,
      errors: messages.map((m) => ({ text: m.text, file: m.location?.file, line: m.location?.line, column: m.location && m.location.column + 1 })),
    }, { cause: err });
  }
}

/**
 * Lambda's Node.js runtimes come with the AWS SDK v3 (https://docs.aws.amazon.com/lambda/latest/dg/lambda-nodejs.html),
 * so handlers import its clients without installing them. Here, an `@aws-sdk/*` (or `@smithy/*`,
 * `@aws-crypto/*`) import the app cannot resolve itself is resolved from the packages installed
 * with Nuvola, and bundled like any dependency; the app's own installed version always wins.
 *
 * A plugin, not esbuild's `nodePaths`: that would lend the app every package Nuvola has (zod, pg,
 * …), hiding a missing dependency that would then fail on AWS, and the `npm install` hint with it.
 */
const AWS_SDK_IMPORT = /^@(?:aws-sdk|smithy|aws-crypto)\//;

function awsSdkPlugins(): Plugin[] {
  const shipped = shippedSdk();
  if (shipped === undefined) return [];
  const retry = Symbol('aws-sdk-fallback');
  return [{
    name: 'nuvola-aws-sdk',
    setup(b) {
      b.onResolve({ filter: AWS_SDK_IMPORT }, async (args) => {
        // The SDK's imports of its own packages resolve beside it, as they always did.
        if (args.pluginData === retry || args.importer.startsWith(shipped.nodeModules)) return undefined;
        const { kind, importer, resolveDir } = args;
        const own = await b.resolve(args.path, { kind, importer, resolveDir, pluginData: retry });
        if (own.errors.length === 0) return own;
        const lent = await b.resolve(args.path, { kind, importer, resolveDir: shipped.resolveDir, pluginData: retry });
        // Neither has it (a client Nuvola does not ship): esbuild reports it as usual, with the hint.
        return lent.errors.length === 0 ? lent : undefined;
      });
    },
  }];
}

let shippedSdkDir: { nodeModules: string; resolveDir: string } | undefined | null = null;

/**
 * The node_modules holding the SDK installed with Nuvola, found from this module's own location:
 * `<repo>/node_modules` here, the app's `node_modules` when npm hoisted Nuvola's dependencies there.
 */
function shippedSdk(): { nodeModules: string; resolveDir: string } | undefined {
  if (shippedSdkDir !== null) return shippedSdkDir;
  try {
    const manifest = createRequire(import.meta.url).resolve('@aws-sdk/client-lambda/package.json');
    const nodeModules = path.resolve(path.dirname(manifest), '..', '..');
    shippedSdkDir = { nodeModules: nodeModules + path.sep, resolveDir: path.dirname(nodeModules) };
  } catch {
    shippedSdkDir = undefined; // installed without it (pruned): handlers must bring their own
  }
  return shippedSdkDir;
}

/**
 * esbuild's `Could not resolve "lodash"` leaves a newcomer guessing. For a package (not a path, not
 * a Node built-in) that no `node_modules` above the importing file holds, say how to install it;
 * an installed package that lacks the subpath is another problem, and gets no hint.
 */
async function installHint(appDir: string, m: Message): Promise<string> {
  const specifier = /^Could not resolve "(.+)"$/.exec(m.text)?.[1];
  const pkg = specifier === undefined ? undefined : packageName(specifier);
  if (pkg === undefined || isBuiltin(pkg) || !m.location) return '';
  for (let dir = path.dirname(path.resolve(appDir, m.location.file)); ; dir = path.dirname(dir)) {
    if (await exists(path.join(dir, 'node_modules', pkg))) return '';
    if (path.dirname(dir) === dir) return ` (not installed? run: npm install ${pkg})`;
  }
}

/**
 * The npm package a bare specifier names: `@scope/pkg/sub` → `@scope/pkg`, `pkg/sub` → `pkg`.
 * Undefined for relative and absolute paths, `node:` and other schemes, `#imports` and aliases such
 * as `@/lib` or `~/lib`.
 */
export function packageName(specifier: string): string | undefined {
  return /^((?:@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*)(?:\/|$)/i.exec(specifier)?.[1];
}

/**
 * CommonJS (`exports.handler = …`, `module.exports = …`) in a file that Node treats as an ES module,
 * most often because package.json says `"type": "module"`. esbuild only warns; the bundle then
 * exports nothing, or throws `ReferenceError: exports is not defined` when an instance imports it.
 * Only the app's own files are held to this: a dependency (or a sibling workspace package) may
 * touch `module` behind a `typeof module` guard, where it does no harm.
 */
function checkModuleFormat(appDir: string, entry: string, fn: FunctionConfig, warnings: readonly Message[]): void {
  const flagged = warnings.filter((w) => {
    if (w.id !== 'commonjs-variable-in-esm' || !w.location) return false;
    const file = path.relative(appDir, path.resolve(appDir, w.location.file));
    return !file.startsWith(`..${path.sep}`) && !path.isAbsolute(file) && !file.split(path.sep).includes('node_modules');
  });
  if (flagged.length === 0) return;
  throw new PlatformError('BUILD_FAILED', flagged.map((w) => `Function "${fn.name}": ${at(w)}${commonJsInEsm(appDir, entry, fn, w)}`).join('\n'), {
    fn: fn.name,
    errors: flagged.map((w) => ({ text: w.text, file: w.location?.file, line: w.location?.line, column: w.location && w.location.column + 1 })),
  });
}

/** What is wrong and how to fix it, from esbuild's warning and its note on why the file is ESM. */
function commonJsInEsm(appDir: string, entry: string, fn: FunctionConfig, w: Message): string {
  const file = w.location?.file ?? '';
  const variable = /"(\w+)" variable/.exec(w.text)?.[1] ?? 'exports';
  const example = fn.exportName === 'default' ? 'export default …' : `export const ${fn.exportName} = …`;
  const useExport = path.resolve(appDir, file) === entry ? `export (${example})` : 'export';
  const note = w.notes[0];
  const keyword = note && /because of the "(\w+)" keyword/.exec(note.text)?.[1];
  if (keyword) {
    // Mixing both module systems makes an ES module whatever the file's name: renaming does not help.
    const line = note.location ? ` at line ${note.location.line}` : '';
    return `uses CommonJS "${variable}" in an ES module (it also uses "${keyword}"${line}): use ${useExport} instead`;
  }
  const extension = note && /ends in "(\.\w+)"/.exec(note.text)?.[1];
  const why = note?.location?.file.endsWith('package.json')
    ? ` (${note.location.file} has "type": "module")`
    : extension
      ? ` (its name ends in "${extension}")`
      : '';
  const renamed = path.basename(file, path.extname(file)) + (/\.[mc]?tsx?$/.test(file) ? '.cts' : '.cjs');
  return `uses CommonJS "${variable}" in an ES module${why}: rename the file to ${renamed}, or use ${useExport}`;
}

/** `file:line:col ` of a message, as in esbuild's own output. */
function at(m: Message): string {
  return m.location ? `${m.location.file}:${m.location.line}:${m.location.column + 1} ` : '';
}

function checkExport(appDir: string, entry: string, fn: FunctionConfig, metafile: Metafile): void {
  const output = Object.values(metafile.outputs).find((o) => o.entryPoint !== undefined);
  const source = output?.entryPoint === undefined ? undefined : metafile.inputs[output.entryPoint];
  // A CommonJS entry's exports are only known when it runs: the bundle exports just `default`, and
  // the instance looks the handler up on it at import time.
  if (!output || source?.format === 'cjs' || output.exports.includes(fn.exportName)) return;
  const file = path.relative(appDir, entry).split(path.sep).join('/');
  const exports = output.exports.length > 0 ? output.exports.join(', ') : 'none';
  throw new PlatformError('HANDLER_NOT_FOUND', `Function "${fn.name}": ${file} has no export "${fn.exportName}" (exports: ${exports})`, {
    fn: fn.name,
    handler: fn.handler,
    exports: output.exports,
  });
}

function outputOf(files: OutputFile[], suffix: string): OutputFile {
  const file = files.find((f) => f.path.endsWith(`index${suffix}`));
  if (!file) throw new PlatformError('INTERNAL', `esbuild produced no index${suffix}`);
  return file;
}

/**
 * Rewrites the map's `sources` from paths relative to the bundle into absolute ones: instances run
 * the bundle from a directory of their own, and stack traces must still name the user's files.
 */
function absoluteSources(mapText: string, bundleDir: string): string {
  const map = JSON.parse(mapText) as { sources: string[] };
  map.sources = map.sources.map((s) => path.resolve(bundleDir, s));
  return JSON.stringify(map);
}

// Written to a private directory and renamed into place, so a concurrent build of the same content
// (or a crash half-way) never leaves a reader with a partial bundle. The included files, copied to
// `staged`, move in with it.
async function storeBuild(buildDir: string, js: OutputFile, map: { contents: string }, staged: string | undefined): Promise<void> {
  if (!(await exists(path.join(buildDir, 'index.mjs')))) {
    const tmp = `${buildDir}.tmp-${randomBytes(6).toString('hex')}`;
    await mkdir(tmp, { recursive: true });
    if (staged) await rename(staged, path.join(tmp, FILES_DIR));
    await writeFile(path.join(tmp, 'index.mjs.map'), map.contents);
    await writeFile(path.join(tmp, 'index.mjs'), js.contents);
    try {
      await rename(tmp, buildDir);
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      if (!(await exists(path.join(buildDir, 'index.mjs')))) throw err;
    }
  }
  // pruneBuilds keeps the most recently used builds; set explicitly, as directory times are coarse.
  const now = new Date();
  await utimes(buildDir, now, now);
}

async function pruneBuilds(fnDir: string, current: string): Promise<void> {
  const dirs = (await readdir(fnDir)).filter((d) => HASH_DIR.test(d)).map((d) => path.join(fnDir, d));
  const aged = await Promise.all(dirs.map(async (dir) => ({ dir, mtimeMs: (await stat(dir).catch(() => undefined))?.mtimeMs ?? 0 })));
  const older = aged.filter((d) => d.dir !== current).sort((a, b) => b.mtimeMs - a.mtimeMs);
  await Promise.all(older.slice(KEEP_BUILDS - 1).map((d) => rm(d.dir, { recursive: true, force: true })));
}

async function reuseLastBuild(fnDir: string, key: string): Promise<Bundle | undefined> {
  let last: LastBuild;
  try {
    last = JSON.parse(await readFile(path.join(fnDir, 'last.json'), 'utf8')) as LastBuild;
  } catch {
    return undefined;
  }
  if (last.key !== key || !(await exists(last.bundle.bundlePath))) return undefined;
  for (const input of last.inputs) {
    const now = await stat(input.path).catch(() => undefined);
    if (!now || now.mtimeMs !== input.mtimeMs || now.size !== input.size) return undefined;
  }
  return last.bundle;
}

async function recordBuild(fnDir: string, key: string, bundle: Bundle, startedAt: number): Promise<void> {
  const record: LastBuild = { key, bundle, inputs: [] };
  for (const file of bundle.inputs) {
    const s = await stat(file).catch(() => undefined);
    if (!s || s.mtimeMs >= startedAt - RACY_MS) {
      await rm(path.join(fnDir, 'last.json'), { force: true });
      return;
    }
    record.inputs.push({ path: file, mtimeMs: s.mtimeMs, size: s.size });
  }
  const tmp = path.join(fnDir, `last.json.tmp-${randomBytes(6).toString('hex')}`);
  await writeFile(tmp, JSON.stringify(record));
  await rename(tmp, path.join(fnDir, 'last.json'));
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

async function exists(file: string): Promise<boolean> {
  return (await stat(file).catch(() => undefined)) !== undefined;
}
