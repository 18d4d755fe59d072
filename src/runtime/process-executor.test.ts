import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../drivers/conformance/fake-clock.js';
import { describeExecutorConformance } from '../drivers/conformance/executor.suite.js';
import { ProcessExecutor } from './process-executor.js';
import type { SandboxMode } from './sandbox.js';

const BOOTSTRAP = path.resolve(import.meta.dirname, '../../dist/bootstrap.worker.mjs');

const executorWith = (sandbox?: SandboxMode) => (setup: Parameters<Parameters<typeof describeExecutorConformance>[1]>[0]) =>
  new ProcessExecutor({
    ...setup,
    bootstrapPath: BOOTSTRAP,
    identity: { region: 'us-east-1', accountId: '000000000000', endpointUrl: () => 'http://127.0.0.1:1' },
    sparesPerMemorySize: 1,
    sandbox,
  });

describeExecutorConformance('ProcessExecutor', executorWith());

// The same suite with every instance in user and PID namespaces of its own (as where the platform is
// not root); where this machine allows none, the executor says so and runs without them.
describeExecutorConformance('ProcessExecutor in namespaces', executorWith('namespaces'));

describe('instance directories left by other platforms', () => {
  it('are removed when their pid is gone or now names another process, and kept while their owner runs', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'nuvola-instances-'));
    const dirOf = (pid: number) => path.join(root, String(pid));
    // pid 1 runs, but started long before this record says its owner did: the pid was reused.
    await mkdir(dirOf(1), { recursive: true });
    await writeFile(path.join(dirOf(1), '.owner'), '1');
    // Our parent runs and is the owner on record.
    const parentStart = (await readFile(`/proc/${process.ppid}/stat`, 'utf8')).split(') ')[1]!.split(' ')[19]!;
    await mkdir(dirOf(process.ppid), { recursive: true });
    await writeFile(path.join(dirOf(process.ppid), '.owner'), parentStart);
    // No process has this pid.
    await mkdir(dirOf(4_194_000), { recursive: true });

    const executor = new ProcessExecutor({
      dir: path.join(root, String(process.pid)),
      bootstrapPath: BOOTSTRAP,
      clock: new FakeClock(),
      identity: { region: 'us-east-1', accountId: '000000000000', endpointUrl: () => 'http://127.0.0.1:1' },
      onLog: () => undefined,
      maxConcurrency: 1,
      idleTimeoutMs: 60_000,
      sparesPerMemorySize: 0,
    });
    expect((await readdir(root)).sort()).toEqual([String(process.pid), String(process.ppid)].sort());
    await executor.close();
    await rm(root, { recursive: true, force: true });
  });
});
