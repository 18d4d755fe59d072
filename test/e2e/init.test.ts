// `nuvola init demo && cd demo && npm install && npx nuvola dev`, as a user runs it: Nuvola installed
// from a packed tarball (what `npm publish` ships), the scaffold's other dependencies from the registry.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, eventually } from '../helpers/nuvola.js';

// The npm_* variables of the `npm`/`npx` that started vitest would steer the nested npm (its
// prefix, its lifecycle): a user's shell has none of them.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')));

// Process groups that may still hold a process of ours, to be killed if a test fails or times out.
const groups = new Set<number>();

/** Starts a command in its own process group, so that it and everything it starts can be signalled at once. */
function start(cmd: string, args: string[], cwd: string): { proc: ChildProcess; output: () => string; exited: Promise<number> } {
  const proc = spawn(cmd, args, { cwd, env: { ...env, NUVOLA_SPARES: '1' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const pid = proc.pid!;
  groups.add(pid);
  let out = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number>((resolve) =>
    proc.once('close', (code) => {
      // Forgotten once empty: its id may then be reused by a group that is not ours.
      if (!groupAlive(pid)) groups.delete(pid);
      resolve(code ?? -1);
    }),
  );
  return { proc, output: () => out, exited };
}

async function run(cmd: string, args: string[], cwd: string): Promise<{ code: number; output: string }> {
  const p = start(cmd, args, cwd);
  return { code: await p.exited, output: p.output() };
}

/** Whether any process of the group led by `pid` is left. */
function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'nuvola-init-'));
});
afterAll(async () => {
  for (const pid of groups) if (groupAlive(pid)) process.kill(-pid, 'SIGKILL');
  await rm(tmp, { recursive: true, force: true });
});

describe('nuvola init', () => {
  it('refuses to write into an existing app, and writes nothing', async () => {
    const dir = path.join(tmp, 'existing');
    await mkdir(dir);
    await writeFile(path.join(dir, 'nuvola.yaml'), 'app: mine\n');
    const { code, output } = await run(process.execPath, [BIN, 'init', 'existing'], tmp);
    expect(code).toBe(1);
    expect(output).toBe('nuvola: existing/nuvola.yaml already exists; nothing was written (init does not overwrite files)\n');
    expect(await readdir(dir)).toEqual(['nuvola.yaml']);
    expect(await readFile(path.join(dir, 'nuvola.yaml'), 'utf8')).toBe('app: mine\n');
  });

  it('names the app after its directory, within the manifest rule', async () => {
    for (const [dir, app] of [['My App!', 'My-App'], ['2048', 'app-2048']] as const) {
      const { code, output } = await run(process.execPath, [BIN, 'init', dir], tmp);
      expect(code, output).toBe(0);
      expect(await readFile(path.join(tmp, dir, 'nuvola.yaml'), 'utf8')).toContain(`\napp: ${app}\n`);
      const pkg = JSON.parse(await readFile(path.join(tmp, dir, 'package.json'), 'utf8')) as { name: string };
      expect(pkg.name).toBe(app.toLowerCase());
    }
  });

  // npm install builds better-sqlite3 from source: over a minute on two cores.
  it('scaffolds an app that `npm install && npx nuvola dev` serves and `npm test` checks', { timeout: 600_000 }, async () => {
    // dist/ is fresh: vitest's global setup built it. `prepare` would build it again.
    const packed = await run('npm', ['pack', '--ignore-scripts', '--pack-destination', tmp], ROOT);
    expect(packed.code, packed.output).toBe(0);
    const tarball = path.join(tmp, (await readdir(tmp)).find((f) => f.endsWith('.tgz'))!);

    const init = await run(process.execPath, [BIN, 'init', 'demo'], tmp);
    expect(init.code, init.output).toBe(0);
    expect(init.output).toContain('cd demo && npm install && npx nuvola dev');
    const demo = path.join(tmp, 'demo');
    expect((await readdir(demo, { recursive: true })).sort()).toEqual(
      ['.gitignore', 'nuvola.yaml', 'package.json', 'src', 'src/hello.ts', 'tsconfig.json'],
    );

    const pkgFile = path.join(demo, 'package.json');
    const pkg = JSON.parse(await readFile(pkgFile, 'utf8')) as { devDependencies: Record<string, string> };
    const ownVersion = (JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    expect(pkg.devDependencies['nuvola']).toBe(`^${ownVersion}`);
    pkg.devDependencies['nuvola'] = `file:${tarball}`;
    await writeFile(pkgFile, JSON.stringify(pkg, null, 2));

    const install = await run('npm', ['install', '--no-audit', '--no-fund'], demo);
    expect(install.code, install.output).toBe(0);
    const test = await run('npm', ['test'], demo);
    expect(test.code, test.output).toBe(0);

    const dev = start('npx', ['nuvola', 'dev', '--port', '0'], demo);
    await eventually(async () => /Nuvola ready at http:\/\/\S+/.test(dev.output()) || dev.proc.exitCode !== null, 60_000);
    const url = /Nuvola ready at (http:\/\/\S+)/.exec(dev.output())?.[1];
    expect(url, dev.output()).toBeDefined();

    const res = await fetch(`${url}/hello?name=Ada`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ message: 'Hello, Ada!' });
    expect(await (await fetch(`${url}/hello`)).json()).toEqual({ message: 'Hello, world!' });

    // To the whole group, as a terminal signals one on Ctrl-C: npx and the Nuvola under it. Nothing may be left.
    process.kill(-dev.proc.pid!, 'SIGTERM');
    await dev.exited;
    await eventually(async () => !groupAlive(dev.proc.pid!), 15_000);
    groups.delete(dev.proc.pid!);
  });
});
