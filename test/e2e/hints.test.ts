// A newcomer's common mistakes stop `nuvola dev` at start with a hint that says what to do, instead
// of failing obscurely at the first request.
import { spawn } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, copyApp, ROOT, startNuvola, type Running } from '../helpers/nuvola.js';

const MINIMAL = path.join(ROOT, 'test/fixtures/minimal');
let nuvola: Running | undefined;
afterEach(async () => {
  await nuvola?.stop();
  nuvola = undefined;
});

/** The minimal app with `files` written over it. */
async function brokenApp(files: Record<string, string>): Promise<string> {
  const dir = await copyApp(MINIMAL);
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
  return dir;
}

/** Runs `nuvola dev` on an app that should not start; one that does start is stopped (and the test fails on its exit code). */
function devOn(dir: string): Promise<{ code: number | null; output: string }> {
  const proc = spawn(process.execPath, [BIN, 'dev', dir, '--port', '0'], { env: { ...process.env, NUVOLA_SPARES: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    if (/Nuvola ready at/.test(output)) proc.kill('SIGTERM');
  };
  proc.stdout.on('data', onData);
  proc.stderr.on('data', onData);
  return new Promise((resolve) => proc.on('close', (code) => resolve({ code, output })));
}

describe('a platform started on a broken app exits with a hint', () => {
  it('for a CommonJS handler in a "type": "module" package', async () => {
    const dir = await brokenApp({
      'package.json': '{ "name": "minimal", "type": "module" }\n',
      'src/version.js': 'exports.handler = async () => ({ version: 1 });\n',
    });
    await rm(path.join(dir, 'src/version.ts'));
    const { code, output } = await devOn(dir);
    expect(code).toBe(1);
    expect(output).toContain(
      'Function "version": src/version.js:1:1 uses CommonJS "exports" in an ES module (package.json has "type": "module"): ' +
        'rename the file to version.cjs, or use export (export const handler = …)',
    );
  });

  it('for a package that is not installed', async () => {
    const dir = await brokenApp({ 'src/version.ts': "import { nanoid } from 'nanoid/non-secure';\nexport const handler = async () => ({ id: nanoid() });\n" });
    const { code, output } = await devOn(dir);
    expect(code).toBe(1);
    expect(output).toContain('Function "version": src/version.ts:1:24 Could not resolve "nanoid/non-secure" (not installed? run: npm install nanoid)');
  });

  it('for a handler export that is no function', async () => {
    const dir = await brokenApp({ 'src/version.ts': 'export const handler = 42;\n' });
    const { code, output } = await devOn(dir);
    expect(code).toBe(1);
    expect(output).toContain('Function "version": src/version.handler is a number, not a function');
  });
});

describe('a reload to a handler that is no function', () => {
  it('fails with the hint and keeps serving the previous version', async () => {
    nuvola = await startNuvola(await copyApp(MINIMAL));
    const n = nuvola;
    await writeFile(path.join(n.dir, 'src/version.ts'), 'export const handler = { version: 2 };\n');
    await n.waitForOutput(/reload failed, still serving the previous version/);
    expect(n.output()).toContain('Function "version": src/version.handler is an object, not a function');
    expect(((await (await fetch(`${n.url}/version`)).json()) as { version: number }).version).toBe(1);
  });
});
