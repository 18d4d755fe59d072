// The functions service's asynchronous invocations on the real executor and the embedded Broker, on a fake clock: Lambda's
// retries (a minute, then two), destinations, the event age, and the function's concurrency.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeClock } from '../../src/drivers/conformance/fake-clock.js';
import { SqliteBroker } from '../../src/drivers/embedded/sqlite-broker.js';
import type { LogRecord } from '../../src/ports/executor.js';
import { ProcessExecutor } from '../../src/runtime/process-executor.js';
import { ASYNC_DEFAULTS, AsyncInvoker, type AsyncConfig, type AsyncOutcome } from '../../src/services/functions/async-invoker.js';

const BOOTSTRAP = path.resolve(import.meta.dirname, '../../dist/bootstrap.worker.mjs');

describe('asynchronous invocations', () => {
  let dir: string;
  let clock: FakeClock;
  let logs: LogRecord[];
  let warnings: string[];
  let outcomes: AsyncOutcome[];
  let executor: ProcessExecutor;
  let broker: SqliteBroker;
  let invoker: AsyncInvoker;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'nuvola-async-'));
    clock = new FakeClock(Date.parse('2026-01-01T00:00:00Z'));
    logs = [];
    warnings = [];
    outcomes = [];
    executor = new ProcessExecutor({
      dir: path.join(dir, 'instances'),
      bootstrapPath: BOOTSTRAP,
      clock,
      identity: { region: 'us-east-1', accountId: '000000000000', endpointUrl: () => 'http://127.0.0.1:1' },
      onLog: (r) => logs.push(r),
      maxConcurrency: 100,
      idleTimeoutMs: 10 * 60_000,
      sparesPerMemorySize: 1,
    });
    broker = new SqliteBroker(path.join(dir, 'broker.db'), clock);
    invoker = new AsyncInvoker({ broker, executor, clock, region: 'us-east-1', accountId: '000000000000', onWarning: (m) => warnings.push(m), onOutcome: async (o) => void outcomes.push(o) });
  });

  afterEach(async () => {
    await invoker.close();
    await executor.close();
    await broker.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function deploy(fns: Record<string, { code: string; reservedConcurrency?: number; async?: Partial<AsyncConfig> }>): Promise<void> {
    const specs = [];
    for (const [name, f] of Object.entries(fns)) {
      const bundlePath = path.join(dir, `${name}.mjs`);
      await writeFile(bundlePath, f.code);
      specs.push({
        name,
        handler: `${name}.handler`,
        bundlePath,
        exportName: 'handler',
        codeSha256: name,
        runtime: 'nodejs20.x' as const,
        memoryMb: 128,
        timeoutSeconds: 3,
        ephemeralStorageMb: 512,
        environment: {},
        credentials: { accessKeyId: 'ASIATEST', secretAccessKey: 'secret' },
        reservedConcurrency: f.reservedConcurrency,
        async: { ...ASYNC_DEFAULTS, ...f.async },
      });
    }
    await executor.deploy(specs);
    await invoker.deploy(specs);
  }

  const enqueue = (fn: string, event: unknown) => invoker.enqueue(fn, { requestId: globalThis.crypto.randomUUID(), payload: JSON.stringify(event) });
  const lines = (fn: string, prefix: string) => logs.filter((l) => l.fn === fn && l.message.startsWith(prefix));
  /** The console lines of `fn` (the message after time, request id and level). */
  const printed = (fn: string) => logs.filter((l) => l.fn === fn && l.stream === 'stdout').map((l) => l.message.split('\t').slice(3).join('\t'));

  it('runs every queued invocation of a function that reserves one execution, one after another', async () => {
    await deploy({ one: { code: 'export const handler = async (e) => { await new Promise((r) => setTimeout(r, 20)); console.log(e.n); };', reservedConcurrency: 1 } });
    await Promise.all(Array.from({ length: 20 }, (_, n) => enqueue('one', { n })));
    await vi.waitFor(() => expect(lines('one', 'REPORT')).toHaveLength(20), { timeout: 20_000, interval: 50 });
    expect(printed('one').map(Number).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, n) => n));
    // Never two at once: each START follows the previous END.
    const runtime = logs.filter((l) => l.fn === 'one' && /^(START|END)/.test(l.message)).map((l) => l.message.slice(0, 3));
    expect(runtime.join('')).toBe('STAEND'.repeat(20));
    expect(warnings).toEqual([]);
  });

  it("retries a function error a minute, then two minutes later, then sends Lambda's record to onFailure", async () => {
    await deploy({
      fails: { code: "export const handler = async () => { throw new TypeError('nope'); };", async: { onFailure: 'sink' } },
      sink: { code: 'export const handler = async (e) => { console.log(JSON.stringify(e)); };' },
    });
    await enqueue('fails', { order: 42 });
    await vi.waitFor(() => expect(lines('fails', 'REPORT')).toHaveLength(1), { timeout: 10_000, interval: 20 });
    clock.advance(59_000);
    await new Promise((r) => setTimeout(r, 200));
    expect(lines('fails', 'REPORT')).toHaveLength(1);
    clock.advance(1_000);
    await vi.waitFor(() => expect(lines('fails', 'REPORT')).toHaveLength(2), { timeout: 10_000, interval: 20 });
    clock.advance(120_000);
    await vi.waitFor(() => expect(printed('sink')).toHaveLength(1), { timeout: 10_000, interval: 20 });
    expect(lines('fails', 'REPORT')).toHaveLength(3);
    const record = JSON.parse(printed('sink')[0]!) as Record<string, unknown>;
    expect(record).toMatchObject({
      version: '1.0',
      requestContext: { condition: 'RetriesExhausted', approximateInvokeCount: 3, functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:fails:$LATEST' },
      requestPayload: { order: 42 },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: { errorType: 'TypeError', errorMessage: 'nope' },
    });
    // Each attempt's outcome is kept, the last one final, with where the record went.
    expect(outcomes.filter((o) => o.fn === 'fails').map((o) => [o.status, o.attempts, o.error?.type, o.destination])).toEqual([
      ['retrying', 1, 'TypeError', undefined],
      ['retrying', 2, 'TypeError', undefined],
      ['failed', 3, 'TypeError', 'sink'],
    ]);
    expect(warnings).toEqual([]);
  });

  it('sends a success to onSuccess, and says so when a failure has nowhere to go', async () => {
    await deploy({
      works: { code: 'export const handler = async (e) => ({ doubled: e.n * 2 });', async: { onSuccess: 'sink' } },
      fails: { code: "export const handler = async () => { throw new Error('broken'); };", async: { maximumRetryAttempts: 0 } },
      sink: { code: 'export const handler = async (e) => { console.log(JSON.stringify(e)); };' },
    });
    await enqueue('works', { n: 21 });
    await enqueue('fails', {});
    await vi.waitFor(() => expect(printed('sink')).toHaveLength(1), { timeout: 10_000, interval: 20 });
    expect(JSON.parse(printed('sink')[0]!)).toMatchObject({ requestContext: { condition: 'Success', approximateInvokeCount: 1 }, responsePayload: { doubled: 42 } });
    await vi.waitFor(() => expect(warnings).toEqual([expect.stringMatching(/fails failed: 1 attempts failed: Error: broken$/)]), { timeout: 10_000, interval: 20 });
    expect(outcomes.find((o) => o.fn === 'works')).toMatchObject({ status: 'succeeded', attempts: 1, destination: 'sink' });
    expect(outcomes.find((o) => o.fn === 'fails')).toMatchObject({ status: 'failed', attempts: 1, error: { type: 'Error', message: 'broken' }, destination: undefined });
  });

  it('does not run an event older than its maximum age: onFailure gets it as EventAgeExceeded', async () => {
    await deploy({
      slow: { code: "export const handler = async () => { console.log('ran'); };", reservedConcurrency: 0, async: { maximumEventAgeSeconds: 60, onFailure: 'sink' } },
      sink: { code: 'export const handler = async (e) => { console.log(JSON.stringify(e)); };' },
    });
    await enqueue('slow', { late: true });
    // Throttled (no concurrency reserved at all): retried with backoff until the event is too old.
    for (let i = 0; i < 12 && printed('sink').length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      clock.advance(10_000);
    }
    await vi.waitFor(() => expect(printed('sink')).toHaveLength(1), { timeout: 10_000, interval: 20 });
    expect(JSON.parse(printed('sink')[0]!)).toMatchObject({ requestContext: { condition: 'EventAgeExceeded', approximateInvokeCount: 0 }, requestPayload: { late: true } });
    expect(printed('slow')).toEqual([]);
    expect(outcomes.filter((o) => o.fn === 'slow')).toEqual([expect.objectContaining({ status: 'expired', attempts: 0, destination: 'sink' })]);
  });
});
