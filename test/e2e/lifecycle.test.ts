// Platform lifecycle end to end: manifest errors, hot reload, scale to zero, provisioned instances.
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { alive, copyApp, eventually, ROOT, runCli, startNuvola, type Running } from '../helpers/nuvola.js';

const MINIMAL = path.join(ROOT, 'test/fixtures/minimal');
let nuvola: Running | undefined;
afterEach(async () => {
  await nuvola?.stop();
  nuvola = undefined;
});

const version = async (n: Running) => (await (await fetch(`${n.url}/version`)).json()) as { version: number; pid: number };

describe('the manifest', () => {
  it('names file, line, path and expectation of an invalid manifest, in one line each', async () => {
    const dir = await copyApp(MINIMAL);
    const manifest = path.join(dir, 'nuvola.yaml');
    await writeFile(manifest, (await readFile(manifest, 'utf8')).replace('handler: src/version.handler', 'handler: src/version.handler\n    memory: 99999'));
    const out = await runCli(['dev', dir, '--port', '0']);
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/nuvola\.yaml:5:13 functions\.version\.memory/);
    expect(out.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('says so when there is no manifest', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'nuvola-empty-'));
    const out = await runCli(['dev', dir, '--port', '0']);
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/^nuvola: No nuvola\.yaml or nuvola\.yml in /);
    // Nothing is made in a directory that holds no app: no state directory, no database.
    expect(await readdir(dir)).toEqual([]);
    await rm(dir, { recursive: true });
  });
});

describe('an app without $default', () => {
  it('answers 404 Not Found where no route matches', async () => {
    nuvola = await startNuvola(await copyApp(MINIMAL));
    for (const [method, p] of [['GET', '/nothing'], ['POST', '/version'], ['GET', '/version/']]) {
      const res = await fetch(`${nuvola.url}${p}`, { method });
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ message: 'Not Found' });
      expect(res.headers.get('apigw-requestid')).toBeTruthy();
    }
  });
});

describe('hot reload', () => {
  it('swaps in changed code without dropping requests in flight', async () => {
    nuvola = await startNuvola(await copyApp(MINIMAL));
    const n = nuvola;
    expect((await version(n)).version).toBe(1);
    const source = path.join(n.dir, 'src/version.ts');
    // A request in flight during the reload completes on the old code.
    await writeFile(source, 'export const handler = async () => { await new Promise((r) => setTimeout(r, 800)); return { version: 1, pid: process.pid }; };\n');
    await eventually(async () => /functions changed: version/.test(n.output()));
    const inFlight = version(n);
    await new Promise((r) => setTimeout(r, 100));
    await writeFile(source, 'export const handler = async () => ({ version: 2, pid: process.pid });\n');
    await eventually(async () => (await version(n)).version === 2, 5_000);
    expect((await inFlight).version).toBe(1);
  });

  it('keeps serving the previous version when the new one does not build', async () => {
    nuvola = await startNuvola(await copyApp(MINIMAL));
    const n = nuvola;
    await writeFile(path.join(n.dir, 'src/version.ts'), 'export const handler = async () => ({ version: ;\n');
    await n.waitForOutput(/reload failed, still serving the previous version/);
    expect((await version(n)).version).toBe(1);
  });
});

describe('scaling', () => {
  it('stops idle instances (scale to zero) and starts a fresh one on the next request', async () => {
    nuvola = await startNuvola(await copyApp(MINIMAL), { env: { NUVOLA_IDLE_TIMEOUT_MS: '300' } });
    const first = await version(nuvola);
    await eventually(async () => !alive(first.pid), 5_000);
    const second = await version(nuvola);
    expect(second.pid).not.toBe(first.pid);
  });

  it('keeps provisioned instances warm from the start', async () => {
    const dir = await copyApp(MINIMAL);
    const manifest = path.join(dir, 'nuvola.yaml');
    await writeFile(manifest, (await readFile(manifest, 'utf8')).replace('handler: src/version.handler', 'handler: src/version.handler\n    provisionedConcurrency: 2'));
    nuvola = await startNuvola(dir, { env: { NUVOLA_IDLE_TIMEOUT_MS: '200' } });
    const res = await nuvola.control(`/functions`);
    const { stats } = (await res.json()) as { stats: { functions: Record<string, { idle: number }> } };
    expect(stats.functions.version!.idle).toBe(2);
    const first = await version(nuvola);
    await new Promise((r) => setTimeout(r, 600));
    expect(alive(first.pid)).toBe(true);
    // A provisioned instance's first invocation reports no Init Duration: it was initialised ahead.
    const logs = (await (await nuvola.control(`/logs?fn=version`)).json()) as { records: { message: string }[] };
    expect(logs.records.find((r) => r.message.startsWith('REPORT'))?.message).not.toMatch(/Init Duration/);
  });
});

describe('a platform killed with -9', () => {
  it('leaves no function instance running, and its leftovers are cleaned by the next start', async () => {
    const dir = await copyApp(MINIMAL);
    const first = await startNuvola(dir, { keepDir: true });
    const { pid } = await version(first);
    first.proc.kill('SIGKILL');
    await eventually(async () => !alive(pid), 5_000);
    const leftovers = path.join(dir, '.nuvola/instances', String(first.proc.pid));
    expect(existsSync(leftovers)).toBe(true);
    nuvola = await startNuvola(dir);
    expect(existsSync(leftovers)).toBe(false);
    expect((await version(nuvola)).version).toBe(1);
  });
});

describe('a port in use', () => {
  it('is one clear line', async () => {
    nuvola = await startNuvola(await copyApp(MINIMAL));
    const port = new URL(nuvola.url).port;
    const out = await runCli(['dev', nuvola.dir, '--port', port]);
    expect(out.code).toBe(1);
    expect(out.stderr.trim()).toBe(`nuvola: 127.0.0.1:${port} is already in use: stop what listens there, or pass --port (0 picks a free one)`);
  });
});
