// How a function's pool grows under a burst: the policy alone, with instances that answer when told.
// Real processes are the executor suite's business (src/drivers/conformance/executor.suite.ts).
import os from 'node:os';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeClock } from '../drivers/conformance/fake-clock.js';
import type { FunctionSpec } from '../ports/executor.js';
import { FunctionPool, MAX_WAIT_MS, SLOW_WAIT_MS } from './function-pool.js';
import type { Instance, Outcome } from './instance.js';

const CPUS = os.availableParallelism();

const SPEC: FunctionSpec = {
  name: 'f',
  handler: 'f.handler',
  bundlePath: '/nowhere/f.mjs',
  exportName: 'handler',
  codeSha256: 'v1',
  runtime: 'nodejs20.x',
  memoryMb: 128,
  timeoutSeconds: 3,
  ephemeralStorageMb: 512,
  environment: {},
  credentials: { accessKeyId: 'ASIAF', secretAccessKey: 'secret' },
};

/** An instance whose invocations end when the test says so. */
function fakeInstance(): Instance & { running: (() => void)[] } {
  const running: (() => void)[] = [];
  const outcome: Outcome = { kind: 'result', payload: 'null', durationMs: 1, maxRssKb: 1024 };
  return {
    running,
    capacity: 1,
    dead: false,
    draining: false,
    codeSha256: SPEC.codeSha256,
    memoryMb: SPEC.memoryMb,
    lastUsed: 0,
    invoke: () => new Promise<Outcome>((resolve) => running.push(() => resolve(outcome))),
    storageBytes: () => Promise.resolve(0),
    kill: () => undefined,
    dispose: () => Promise.resolve(),
  } as unknown as Instance & { running: (() => void)[] };
}

describe('FunctionPool growth', () => {
  let instances: ReturnType<typeof fakeInstance>[];
  let saturated: boolean;
  let pool: FunctionPool;

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    instances = [];
    saturated = false;
    pool = new FunctionPool(SPEC, {
      clock: new FakeClock(),
      region: 'us-east-1',
      accountId: '000000000000',
      log: () => undefined,
      saturated: () => saturated,
      acquireInstance: () => {
        const instance = fakeInstance();
        instances.push(instance);
        return Promise.resolve({ instance, outcome: { ok: true, initDurationMs: 1 } });
      },
    });
  });

  afterEach(() => {
    pool.retire();
    vi.useRealTimers();
  });

  // Retiring the pool at the end fails those still waiting: of no interest here.
  const invokeMany = (n: number) => Array.from({ length: n }, (_, i) => pool.invoke({ requestId: `r${i}`, payload: '{}' }).catch(() => undefined));
  /** Lets the pool's promise chains run (instance starts, grants). */
  const settle = async () => {
    for (let i = 0; i < 20; i++) await Promise.resolve();
  };

  it('starts a few instances per CPU at once for a burst, however many requests wait', async () => {
    void invokeMany(50);
    await settle();
    expect(instances).toHaveLength(4 * CPUS);
  });

  it('grows past that for requests that wait long while the CPU has room (their instances wait on I/O)', async () => {
    void invokeMany(50);
    await settle();
    await vi.advanceTimersByTimeAsync(SLOW_WAIT_MS + 1);
    await settle();
    expect(instances.length).toBeGreaterThan(4 * CPUS);
  });

  it('on a busy CPU, grows past that only when no instance freed for a while', async () => {
    saturated = true;
    void invokeMany(50);
    await settle();
    const first = instances.length;
    // An instance frees every 10 ms: the waiting requests get it, no new process shares the busy CPU.
    for (let t = 0; t < 3 * MAX_WAIT_MS; t += 10) {
      instances[(t / 10) % first]!.running.shift()?.();
      await vi.advanceTimersByTimeAsync(10);
      await settle();
    }
    expect(instances).toHaveLength(first);
    // None frees for MAX_WAIT_MS (they wait on something, maybe on this very function): one more each round.
    await vi.advanceTimersByTimeAsync(MAX_WAIT_MS + 1);
    await settle();
    expect(instances.length).toBeGreaterThan(first);
  });
});
