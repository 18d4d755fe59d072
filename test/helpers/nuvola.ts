/**
 * Starts `nuvola dev` as a real process on a free port and waits until it is ready. Each test app
 * is copied to a temporary directory so that its state and edits stay out of the repository.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const BIN = path.join(ROOT, 'bin/nuvola.js');
/** The control API token every test platform is started with (NUVOLA_CONTROL_TOKEN). */
export const TEST_CONTROL_TOKEN = 'test-control-token';
/** The developer key pair every test platform is started with (NUVOLA_ACCESS_KEY_ID / _SECRET_). */
export const TEST_KEY = { accessKeyId: 'AKIATESTKEYFORNUVOLA', secretAccessKey: 'test/secret/of/forty/characters/for/sdk0' } as const;

export interface Running {
  readonly url: string;
  readonly dir: string;
  readonly proc: ChildProcess;
  /** Everything the process printed so far. */
  output(): string;
  /** A request to the control API (`path` below `/_nuvola`), with the token. */
  control(path: string, init?: RequestInit): Promise<Response>;
  /** Resolves once the output matches. */
  waitForOutput(re: RegExp, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function copyApp(fixture: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'nuvola-test-'));
  // As an app directory usually is: searchable by others, so that instances can run as users of
  // their own where the tests run as root (mkdtemp makes it private).
  await chmod(dir, 0o755);
  await cp(fixture, dir, { recursive: true, filter: (src) => !src.includes(`${path.sep}.nuvola`) });
  return dir;
}

export async function startNuvola(
  appDir: string,
  options: { env?: Record<string, string>; args?: string[]; keepDir?: boolean } = {},
): Promise<Running> {
  const proc = spawn(process.execPath, [BIN, 'dev', appDir, '--port', '0', ...(options.args ?? [])], {
    env: {
      ...process.env,
      NUVOLA_SPARES: '1',
      NUVOLA_ACCESS_KEY_ID: TEST_KEY.accessKeyId,
      NUVOLA_SECRET_ACCESS_KEY: TEST_KEY.secretAccessKey,
      NUVOLA_CONTROL_TOKEN: TEST_CONTROL_TOKEN,
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    out += chunk.toString();
    for (const w of waiters) w();
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));

  const waitForOutput = (re: RegExp, timeoutMs = 20_000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (re.test(out)) {
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out waiting for ${re} in output:\n${out}`));
      }, timeoutMs);
      waiters.add(check);
      check();
      void exited.then(() => {
        if (waiters.has(check)) {
          waiters.delete(check);
          clearTimeout(timer);
          reject(new Error(`nuvola exited (code ${proc.exitCode}) before ${re}:\n${out}`));
        }
      });
    });

  await waitForOutput(/Nuvola ready at (http:\/\/\S+)/);
  const url = /Nuvola ready at (http:\/\/\S+)/.exec(out)![1]!;
  return {
    url,
    dir: appDir,
    proc,
    output: () => out,
    control: (p, init = {}) => fetch(`${url}/_nuvola${p}`, { ...init, headers: { ...init.headers, authorization: `Bearer ${TEST_CONTROL_TOKEN}` } }),
    waitForOutput,
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      await exited;
      if (!options.keepDir) await rm(appDir, { recursive: true, force: true });
    },
  };
}

/** Runs the CLI to completion. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, NUVOLA_CONTROL_TOKEN: TEST_CONTROL_TOKEN, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    proc.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Polls `check` until it returns true: for state that changes in another process. */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 10_000, everyMs = 50): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > until) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Whether a process exists (and is not a zombie awaiting its parent). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
