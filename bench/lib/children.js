/**
 * Child processes of the bench (the bare server, `nuvola dev`): spawned here, remembered, and
 * stopped on every way out of the run — normal end, error, Ctrl-C — so none outlives it.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NUVOLA_BIN = path.join(ROOT, 'bin/nuvola.js');
const READY = /Nuvola ready at (http:\/\/\S+) \((\d+) ms\)/;
/** Long enough for esbuild's first bundle on a busy 2-core machine. */
const READY_TIMEOUT_MS = 30_000;

const running = new Set();
const tempDirs = new Set();
/** Set on SIGINT/SIGTERM: the run is ending, nothing new may start. */
let stopping = false;

/** A fresh directory under the OS temp dir, removed when the bench exits. */
export function makeTempDir(prefix) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `nuvola-bench-${prefix}-`));
  tempDirs.add(dir);
  return dir;
}

/**
 * Starts `node <args>` and resolves once a stdout line matches `ready`, with the match and the
 * milliseconds from spawn to that line. Rejects if the process exits or stays silent too long.
 */
const OUTPUT_TAIL = 64 * 1024;

export async function startChild(args, { ready, env = {}, cwd = ROOT, ipc = false, timeoutMs = READY_TIMEOUT_MS }) {
  if (stopping) throw new Error('the bench is stopping');
  const spawnedAt = performance.now();
  const stdio = ['ignore', 'pipe', 'pipe', ...(ipc ? ['ipc'] : [])];
  const child = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env }, stdio });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let output = '';
  // Only the last of what a child prints is kept: `nuvola dev` prints a line per request, and the
  // bench must not spend its CPU on a growing string while it measures.
  const keep = (s) => (output = (output + s).slice(-OUTPUT_TAIL));
  child.stderr.setEncoding('utf8').on('data', keep);
  child.stdout.setEncoding('utf8');
  try {
    const match = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ready line after ${timeoutMs} ms`)), timeoutMs);
      const untilReady = (s) => {
        keep(s);
        const m = ready.exec(output);
        if (m) {
          clearTimeout(timer);
          child.stdout.off('data', untilReady).on('data', keep);
          resolve(m);
        }
      };
      child.stdout.on('data', untilReady);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`exited (${signal ?? `code ${code}`}) before it was ready`));
      });
    });
    const readyMs = performance.now() - spawnedAt;
    return { child, match, readyMs, spawnedAt, output: () => output };
  } catch (err) {
    await stopChild(child);
    throw new Error(`node ${args.join(' ')}: ${err.message}\n${output.trim()}`);
  }
}

/** The control API token of the bench's platforms (`lib/http.js` sends it). */
export const BENCH_CONTROL_TOKEN = 'bench-control-token';

/** `nuvola dev <appDir> --port 0` with its own state directory under the OS temp dir. */
export async function startNuvola(appDir, env = {}) {
  const stateDir = makeTempDir('state');
  // As a user runs it: with a line per request.
  const started = await startChild([NUVOLA_BIN, 'dev', appDir, '--port', '0'], {
    ready: READY,
    env: { NUVOLA_STATE_DIR: stateDir, NUVOLA_CONTROL_TOKEN: BENCH_CONTROL_TOKEN, ...env },
  });
  return { ...started, url: started.match[1], reportedMs: Number(started.match[2]), stateDir };
}

/** SIGTERM (nuvola then stops its own instances), SIGKILL if it has not exited after `graceMs`. */
export async function stopChild(child, graceMs = 5_000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export async function stopAll() {
  await Promise.all([...running].map((c) => stopChild(c)));
  removeTempDirs();
}

/** Resolves when every child has exited, or after `ms`. */
function waitForChildren(ms) {
  const all = Promise.all([...running].map((c) => once(c, 'exit')));
  return Promise.race([all, new Promise((resolve) => setTimeout(resolve, ms).unref())]);
}

function removeTempDirs() {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

// Last resort for paths that skip stopAll(): 'exit' handlers cannot wait, so only signal.
process.once('exit', () => {
  for (const child of running) child.kill('SIGTERM');
  removeTempDirs();
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    stopping = true;
    process.stderr.write(`\nbench: ${signal}, stopping child processes…\n`);
    // Ctrl-C in a terminal reaches the children too, and `nuvola dev` treats a second signal as
    // "exit now" without stopping its instances: give them a moment to stop on the first one.
    void waitForChildren(2_000)
      .then(stopAll)
      .finally(() => process.exit(130));
  });
}
