// The `nuvola` command as a user meets it: what `dev` shows, how `invoke` and `logs` find the running
// platform, and how `dev` stops — by a signal to npm, or when whoever started it dies.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { alive, BIN, copyApp, eventually, ROOT, runCli, startNuvola, type Running } from '../helpers/nuvola.js';

const CLI_APP = path.join(ROOT, 'test/fixtures/cli');
const MINIMAL = path.join(ROOT, 'test/fixtures/minimal');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };

let nuvola: Running | undefined;
afterEach(async () => {
  await nuvola?.stop();
  nuvola = undefined;
});

/** The AWS CLI is on the development machines; where it is not, the SDK tests cover the protocol. */
const hasAwsCli = spawnSync('aws', ['--version']).status === 0;

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const proc = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    proc.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Runs the CLI in `cwd` with only the given NUVOLA_* variables. */
function cliIn(cwd: string, args: string[], env: Record<string, string> = {}) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('NUVOLA_')));
  return run(process.execPath, [BIN, ...args], { ...clean, ...env }, cwd);
}

/** Child processes of `pid` (Linux). */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('nuvola --version', () => {
  it('prints the package version', async () => {
    const out = await runCli(['--version']);
    expect(out.code).toBe(0);
    expect(out.stdout.trim()).toBe(pkg.version);
  });
});

describe('nuvola dev output', () => {
  it('shows a line per request, the functions’ console output and their errors, without colours when piped', async () => {
    nuvola = await startNuvola(await copyApp(CLI_APP));
    const n = nuvola;
    expect((await fetch(`${n.url}/hello`)).status).toBe(200);
    expect((await fetch(`${n.url}/hello`)).status).toBe(200);
    expect((await fetch(`${n.url}/fails`)).status).toBe(500);
    await n.waitForOutput(/GET \/fails 500 fails [\d.]+ ms cold/);
    const out = n.output();
    expect(out).toMatch(/^GET \/hello 200 hello [\d.]+ ms cold$/m);
    expect(out).toMatch(/^GET \/hello 200 hello [\d.]+ ms$/m);
    expect(out).toMatch(/^hello saying hello$/m);
    expect(out).toMatch(/^hello WARN a warning$/m);
    expect(out).toMatch(/^fails ERROR TypeError: something broke\n\s+at .*hello\.ts:8/m);
    expect(out).not.toMatch(/^(START|END|REPORT) /m);
    expect(out).not.toContain('\u001b[');
  });

  it('colours on request (FORCE_COLOR), never with NO_COLOR, and drops request lines with --quiet', async () => {
    nuvola = await startNuvola(await copyApp(CLI_APP), { env: { FORCE_COLOR: '1' } });
    await fetch(`${nuvola.url}/hello`);
    await nuvola.waitForOutput(/\u001b\[32m200\u001b\[39m/);
    await nuvola.stop();

    nuvola = await startNuvola(await copyApp(CLI_APP), { env: { FORCE_COLOR: '1', NO_COLOR: '1' }, args: ['--quiet'] });
    await fetch(`${nuvola.url}/hello`);
    await nuvola.waitForOutput(/^hello saying hello$/m);
    expect(nuvola.output()).not.toContain('\u001b[');
    expect(nuvola.output()).not.toMatch(/^GET \/hello 200/m);
  });

  it('says what a reload changed, and when a broken manifest is fixed', async () => {
    nuvola = await startNuvola(await copyApp(CLI_APP));
    const n = nuvola;
    const manifest = path.join(n.dir, 'nuvola.yaml');
    const good = await readFile(manifest, 'utf8');
    await writeFile(path.join(n.dir, 'src/hello.ts'), (await readFile(path.join(n.dir, 'src/hello.ts'), 'utf8')).replace("'hello'", "'hi'"));
    await n.waitForOutput(/functions changed: hello, fails/);
    await writeFile(manifest, good.replace('events:\n      - http: GET /fails', 'memory: 1\n    events:\n      - http: GET /fails'));
    await n.waitForOutput(/reload failed, still serving the previous version:\n[\s\S]*nuvola\.yaml:\d+:\d+ functions\.fails\.memory/);
    await writeFile(manifest, good.replace('GET /fails', 'GET /broken'));
    await n.waitForOutput(/Fixed: the app loads again.*\n {2}\+ routes added: GET \/broken → fails\n {2}- routes removed: GET \/fails → fails\n/);
  });

  it('warns once when a function names another Node.js major version than the one running', async () => {
    const dir = await copyApp(MINIMAL);
    const other = process.versions.node.startsWith('20.') ? 'nodejs22.x' : 'nodejs20.x';
    const manifest = path.join(dir, 'nuvola.yaml');
    await writeFile(manifest, (await readFile(manifest, 'utf8')).replace('handler: src/version.handler', `handler: src/version.handler\n    runtime: ${other}`));
    nuvola = await startNuvola(dir);
    expect(nuvola.output()).toContain(`warning: runtime ${other} (version) differs from the Node.js that runs Nuvola and its instances, v${process.versions.node}`);
  });
});

describe('listening beyond this machine', () => {
  it('says what is exposed, and how each part is protected', async () => {
    nuvola = await startNuvola(await copyApp(MINIMAL), { args: ['--host', '0.0.0.0'] });
    await nuvola.waitForOutput(/warning: listening on 0\.0\.0\.0: Nuvola is reachable from the network/);
    expect(nuvola.output()).toMatch(/the control API \(only with the bearer token/);
    // The control API still refuses a request without the token from any address.
    expect((await fetch(nuvola.url.replace('0.0.0.0', '127.0.0.1') + '/_nuvola/functions')).status).toBe(401);
  });
});

describe('nuvola invoke and logs', () => {
  it('find the platform of the app in the current directory and its token, and refuse an unknown function', async () => {
    // Without NUVOLA_CONTROL_TOKEN: the platform makes a token and keeps it where the CLI finds it.
    nuvola = await startNuvola(await copyApp(CLI_APP), { env: { NUVOLA_CONTROL_TOKEN: '' } });
    const n = nuvola;
    const invoked = await cliIn(n.dir, ['invoke', 'hello']);
    expect(invoked.code).toBe(0);
    expect(JSON.parse(invoked.stdout)).toEqual({ message: 'hello' });
    await eventually(async () => (await cliIn(n.dir, ['logs', 'hello'])).stdout.includes('saying hello'));
    const unknown = await cliIn(n.dir, ['logs', 'nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^nuvola: Function not found: .*:function:nope\n$/);
    // NUVOLA_URL wins over the recorded URL; elsewhere NUVOLA_PORT is the fallback.
    const elsewhere = await mkdtemp(path.join(os.tmpdir(), 'nuvola-elsewhere-'));
    const token = (await readFile(path.join(n.dir, '.nuvola/control-token'), 'utf8')).trim();
    const viaEnv = await cliIn(elsewhere, ['invoke', 'hello'], { NUVOLA_URL: n.url, NUVOLA_CONTROL_TOKEN: token });
    expect(viaEnv.code).toBe(0);
    const viaPort = await cliIn(elsewhere, ['invoke', 'hello'], { NUVOLA_PORT: new URL(n.url).port, NUVOLA_CONTROL_TOKEN: token });
    expect(viaPort.code).toBe(0);
    // Elsewhere, without the token, the control API refuses.
    const noToken = await cliIn(elsewhere, ['invoke', 'hello'], { NUVOLA_URL: n.url });
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toMatch(/^nuvola: The control API needs the bearer token/);
    const wrong = await cliIn(n.dir, ['invoke', 'hello'], { NUVOLA_URL: 'http://127.0.0.1:9' });
    expect(wrong.stderr).toMatch(/cannot reach Nuvola at http:\/\/127\.0\.0\.1:9/);
    await rm(elsewhere, { recursive: true });
  });
});

describe('credentials', () => {
  it('`nuvola credentials` prints the key pair `nuvola dev` uses, and the AWS CLI works with it', async () => {
    const dir = await copyApp(MINIMAL);
    // Without NUVOLA_ACCESS_KEY_ID: the platform makes a pair and keeps it in the state directory.
    nuvola = await startNuvola(dir, { env: { NUVOLA_ACCESS_KEY_ID: '', NUVOLA_SECRET_ACCESS_KEY: '' } });
    const shown = await cliIn(dir, ['credentials']);
    expect(shown.code).toBe(0);
    const vars = Object.fromEntries([...shown.stdout.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
    expect(vars['AWS_ENDPOINT_URL']).toBe(nuvola.url);
    expect(vars['AWS_ACCESS_KEY_ID']).toMatch(/^AKIA[A-Z2-7]{16}$/);
    expect(nuvola.output()).toContain(`AWS_ACCESS_KEY_ID=${vars['AWS_ACCESS_KEY_ID']} AWS_SECRET_ACCESS_KEY=${vars['AWS_SECRET_ACCESS_KEY']}`);
    if (!hasAwsCli) return;
    const aws = (env: Record<string, string>) => run('aws', ['lambda', 'list-functions', '--query', 'Functions[].FunctionName', '--output', 'text'], { ...process.env, ...vars, ...env });
    const ok = await aws({});
    expect(ok.stdout.trim()).toBe('version');
    const wrong = await aws({ AWS_SECRET_ACCESS_KEY: 'wrong' });
    expect(wrong.stderr).toMatch(/\(InvalidSignatureException\) when calling the ListFunctions operation: The request signature we calculated does not match/);
  });

  it('`nuvola credentials` makes nothing where there is no app', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'nuvola-noapp-'));
    const out = await cliIn(dir, ['credentials']);
    expect(out.code).toBe(1);
    expect(readdirSync(dir)).toEqual([]);
    await rm(dir, { recursive: true });
  });
});

describe('stopping', () => {
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    it(`\`npm start\` stopped by npm's PID with ${signal} stops the platform and every instance`, async () => {
      const stateDir = await mkdtemp(path.join(os.tmpdir(), 'nuvola-npm-start-'));
      // --ignore-scripts skips prestart's build: dist/ is built once for the run, and other tests use it.
      const npm = spawn('npm', ['start', '--ignore-scripts'], {
        cwd: ROOT,
        env: { ...process.env, NUVOLA_PORT: '0', NUVOLA_STATE_DIR: stateDir, NUVOLA_SPARES: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      npm.stdout.on('data', (c: Buffer) => (out += c.toString()));
      npm.stderr.on('data', (c: Buffer) => (out += c.toString()));
      await eventually(async () => /Nuvola ready at (http:\/\/\S+)/.test(out), 20_000);
      const url = /Nuvola ready at (http:\/\/\S+)/.exec(out)![1]!;
      expect(await (await fetch(`${url}/hello`)).text()).toMatch(/^hello, world/);
      const { pid } = JSON.parse(await readFile(path.join(stateDir, 'platform.json'), 'utf8')) as { pid: number };
      const instances = childrenOf(pid);
      expect(instances.length).toBeGreaterThan(0);

      npm.kill(signal);
      await eventually(async () => !alive(pid) && instances.every((i) => !alive(i)), 10_000);
      await expect(fetch(`${url}/hello`)).rejects.toThrow();
      await rm(stateDir, { recursive: true, force: true });
    });
  }

  it('the platform stops when the process that started it dies', async () => {
    const dir = await copyApp(MINIMAL);
    const starter = spawn(
      process.execPath,
      ['-e', `require('node:child_process').spawn(process.execPath, ${JSON.stringify([BIN, 'dev', dir, '--port', '0'])}, { stdio: 'inherit' }); setInterval(() => {}, 1000);`],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    starter.stdout.on('data', (c: Buffer) => (out += c.toString()));
    await eventually(async () => /Nuvola ready at (http:\/\/\S+)/.test(out), 20_000);
    const url = /Nuvola ready at (http:\/\/\S+)/.exec(out)![1]!;
    const { pid: instance } = (await (await fetch(`${url}/version`)).json()) as { pid: number };
    const { pid } = JSON.parse(await readFile(path.join(dir, '.nuvola/platform.json'), 'utf8')) as { pid: number };

    starter.kill('SIGKILL');
    await eventually(async () => !alive(pid) && !alive(instance), 10_000);
    await rm(dir, { recursive: true, force: true });
  });
});
