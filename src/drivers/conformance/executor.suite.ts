// The behaviour every `Executor` must show: Lambda's instance model (reuse, reaping on the clock,
// provisioned instances, code swaps, throttling), its error objects and its limits. Drivers run it
// with real instances; time that the executor waits on comes from the fake clock.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isPlatformError } from '../../core/errors.js';
import type { Executor, FunctionSpec, LogRecord } from '../../ports/executor.js';
import { FakeClock } from './fake-clock.js';

/** What a driver is given to build the executor under test: 3 concurrent executions, 60 s idle timeout. */
export interface ExecutorSetup {
  readonly dir: string;
  readonly clock: FakeClock;
  readonly onLog: (record: LogRecord) => void;
  readonly maxConcurrency: number;
  readonly idleTimeoutMs: number;
}

export function describeExecutorConformance(name: string, create: (setup: ExecutorSetup) => Executor): void {
  describe(`Executor conformance: ${name}`, () => {
    let dir: string;
    let clock: FakeClock;
    let logs: LogRecord[];
    let executor: Executor;

    async function bundle(file: string, code: string): Promise<string> {
      const p = path.join(dir, `${file}.mjs`);
      await writeFile(p, code);
      return p;
    }

    function spec(fn: string, bundlePath: string, extra: Partial<FunctionSpec> = {}): FunctionSpec {
      return {
        name: fn,
        handler: `${fn}.handler`,
        bundlePath,
        exportName: 'handler',
        codeSha256: bundlePath,
        runtime: 'nodejs20.x',
        memoryMb: 128,
        timeoutSeconds: 3,
        ephemeralStorageMb: 512,
        environment: {},
        credentials: { accessKeyId: `ASIA${fn.toUpperCase()}`, secretAccessKey: 'secret' },
        ...extra,
      };
    }

    const invoke = async (fn: string, event: unknown = {}) => {
      const r = await executor.invoke(fn, { requestId: globalThis.crypto.randomUUID(), payload: JSON.stringify(event) });
      return { ...r, value: JSON.parse(r.payload) as Record<string, unknown> };
    };

    beforeEach(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'nuvola-executor-'));
      clock = new FakeClock();
      logs = [];
      executor = create({ dir: path.join(dir, 'instances'), clock, onLog: (r) => logs.push(r), maxConcurrency: 3, idleTimeoutMs: 60_000 });
    });

    afterEach(async () => {
      await executor.close();
      await rm(dir, { recursive: true, force: true });
    });

    // `pid` names the instance: a value made once per process (in a PID namespace every pid is 1).
    const PID = 'const ID = Math.random(); export const handler = async (e) => { if (e.ms) await new Promise((r) => setTimeout(r, e.ms)); return { pid: ID, v: VERSION }; };';


      it('reuses a warm instance and reports Init Duration only on its first invocation', async () => {
        await executor.deploy([spec('f', await bundle('f', `const VERSION = 1; ${PID}`))]);
        const a = await invoke('f');
        const b = await invoke('f');
        expect(b.value.pid).toBe(a.value.pid);
        expect(a.initDurationMs).toBeGreaterThan(0);
        expect(b.initDurationMs).toBeUndefined();
        const reports = logs.filter((l) => l.message.startsWith('REPORT'));
        expect(reports).toHaveLength(2);
        expect(reports[0]!.message).toMatch(/Init Duration/);
      });

      it('stops instances idle past the idle timeout, on the clock', async () => {
        await executor.deploy([spec('f', await bundle('f', `const VERSION = 1; ${PID}`))]);
        const a = await invoke('f');
        clock.advance(59_000);
        expect((await invoke('f')).value.pid).toBe(a.value.pid);
        expect(executor.stats().functions.f).toEqual({ busy: 0, idle: 1 });
        clock.advance(61_000);
        clock.advance(30_000);
        expect(executor.stats().functions.f).toEqual({ busy: 0, idle: 0 });
        expect((await invoke('f')).value.pid).not.toBe(a.value.pid);
      });

      it('keeps provisioned instances through idle time', async () => {
        await executor.deploy([spec('f', await bundle('f', `const VERSION = 1; ${PID}`), { provisionedConcurrency: 2 })]);
        expect(executor.stats().functions.f).toEqual({ busy: 0, idle: 2 });
        const first = await invoke('f');
        expect(first.initDurationMs).toBeUndefined();
        clock.advance(10 * 60_000);
        expect(executor.stats().functions.f).toEqual({ busy: 0, idle: 2 });
      });

      it('finishes a request on the old code and serves the next one on the new', async () => {
        const v1 = spec('f', await bundle('f1', `const VERSION = 1; ${PID}`));
        await executor.deploy([v1]);
        await invoke('f');
        const inFlight = invoke('f', { ms: 300 });
        await new Promise((r) => setTimeout(r, 50));
        await executor.deploy([spec('f', await bundle('f2', `const VERSION = 2; ${PID}`))]);
        expect((await invoke('f')).value.v).toBe(2);
        expect((await inFlight).value.v).toBe(1);
        // The old instance retired after its request; only the new one remains.
        expect(executor.stats().functions.f!.idle).toBe(1);
      });

      it('throttles beyond reserved concurrency and beyond the platform limit', async () => {
        const code = await bundle('f', `const VERSION = 1; ${PID}`);
        await executor.deploy([spec('limited', code, { reservedConcurrency: 1 }), spec('open', code)]);
        const busy = invoke('limited', { ms: 300 });
        const throttled = await invoke('limited').catch((e: unknown) => e);
        expect(isPlatformError(throttled, 'TOO_MANY_REQUESTS')).toBe(true);
        expect((throttled as { details: { reason: string } }).details.reason).toBe('ReservedFunctionConcurrentInvocationLimitExceeded');
        const more = [invoke('open', { ms: 300 }), invoke('open', { ms: 300 })];
        const overLimit = await invoke('open').catch((e: unknown) => e);
        expect(isPlatformError(overLimit, 'TOO_MANY_REQUESTS')).toBe(true);
        await Promise.all([busy, ...more]);
      });

      it('fails an unknown function with FUNCTION_NOT_FOUND', async () => {
        await executor.deploy([]);
        const err = await invoke('nope').catch((e: unknown) => e);
        expect(isPlatformError(err, 'FUNCTION_NOT_FOUND')).toBe(true);
      });

      it('reports a missing export, or one that is no function, as Runtime.HandlerNotFound', async () => {
        await executor.deploy([
          spec('f', await bundle('f', 'export const other = () => 1;')),
          spec('g', await bundle('g', 'export const handler = 42;')),
        ]);
        const r = await invoke('f');
        expect(r.error?.type).toBe('Runtime.HandlerNotFound');
        expect(r.value).toMatchObject({ errorType: 'Runtime.HandlerNotFound', errorMessage: 'f.handler is undefined or not exported' });
        expect((await invoke('g')).value).toMatchObject({ errorType: 'Runtime.HandlerNotFound', errorMessage: 'g.handler is a number, not a function' });
      });

      it('probes code in a throwaway instance: reports its init, deploys and logs nothing', async () => {
        const r = await executor.probe(spec('f', await bundle('f', "console.log('init'); export const handler = () => 1;")));
        expect(r).toEqual({ ok: true, initDurationMs: expect.any(Number) });
        expect(isPlatformError(await invoke('f').catch((e: unknown) => e), 'FUNCTION_NOT_FOUND')).toBe(true);
        expect(executor.stats().functions).toEqual({});
        expect(logs).toEqual([]);
      });

      it('probes a handler that is missing or no function as Runtime.HandlerNotFound, saying what it is', async () => {
        const cases = [
          ['export const other = () => 1;', 'f.handler is undefined or not exported'],
          ['export const handler = 42;', 'f.handler is a number, not a function'],
          ["export const handler = 'index.handler';", 'f.handler is a string, not a function'],
          ['export const handler = { get: () => 1 };', 'f.handler is an object, not a function'],
          ['export const handler = Promise.resolve(() => 1);', 'f.handler is a Promise, not a function'],
          // A CommonJS module's exports come as the default export of its bundle.
          ['export default { handler: null };', 'f.handler is null, not a function'],
        ];
        for (const [i, [code, message]] of cases.entries()) {
          const r = await executor.probe(spec('f', await bundle(`f${i}`, code!)));
          expect(r).toEqual({ ok: false, error: { type: 'Runtime.HandlerNotFound', message } });
        }
      });

      it("probes a module that throws on import as the module's error", async () => {
        const r = await executor.probe(spec('f', await bundle('f', "throw new TypeError('no database'); export const handler = () => 1;")));
        expect(r).toEqual({ ok: false, error: { type: 'TypeError', message: 'no database' } });
      });

      it('refuses to probe once closed', async () => {
        await executor.close();
        const err = await executor.probe(spec('f', await bundle('f', 'export const handler = () => 1;'))).catch((e: unknown) => e);
        expect(isPlatformError(err, 'SHUTTING_DOWN')).toBe(true);
      });

      it('answers callbacks only once the event loop is empty, unless told not to wait', async () => {
        await executor.deploy([
          spec('waits', await bundle('w', "export const handler = (e, c, cb) => { setTimeout(() => console.log('late'), 100); cb(null, 'done'); };")),
          spec('hurries', await bundle('h', "export const handler = (e, c, cb) => { c.callbackWaitsForEmptyEventLoop = false; setTimeout(() => {}, 20000); cb(null, 'done'); };")),
        ]);
        const waits = await invoke('waits');
        expect(waits.value).toBe('done');
        expect(waits.durationMs).toBeGreaterThanOrEqual(90);
        // Had it waited for its 20 s timer, the 3 s timeout would have failed it.
        const hurries = await invoke('hurries');
        expect(hurries.value).toBe('done');
      });

      it('hands an event of several MB, in any script, to a warm instance whole, invocation after invocation', async () => {
        await executor.deploy([spec('echo', await bundle('e', 'export const handler = async (e) => ({ n: e.text.length, tail: e.text.slice(-3), id: e.id });'))]);
        // Over a pipe's buffer many times: the instance reads it in parts.
        const text = 'ä€😀x'.repeat(1024 * 1024);
        for (const id of [1, 2]) {
          const r = await invoke('echo', { text, id });
          expect(r.value).toEqual({ n: text.length, tail: text.slice(-3), id });
        }
      });

      // Several invocations per instance, as Lambda Managed Instances run them.
      const CONCURRENT = `const ID = Math.random();
export const handler = async (e, c) => {
  console.log('begin', c.awsRequestId);
  await new Promise((r) => setTimeout(r, e.ms ?? 0));
  if (e.spin) for (;;) {}
  if (e.crash) setTimeout(() => { throw new Error('boom'); }, 0);
  if (e.crash) await new Promise((r) => setTimeout(r, 1000));
  console.log('end', c.awsRequestId);
  return { pid: ID, id: c.awsRequestId, max: process.env.AWS_LAMBDA_MAX_CONCURRENCY };
};`;
      const run = (fn: string, event: unknown) => {
        const requestId = globalThis.crypto.randomUUID();
        return executor.invoke(fn, { requestId, payload: JSON.stringify(event) }).then((r) => ({ ...r, requestId, value: JSON.parse(r.payload) as Record<string, unknown> }));
      };

      it('runs invocations at once in one instance, each with its own context and log lines', async () => {
        await executor.deploy([spec('f', await bundle('f', CONCURRENT), { instanceConcurrency: 3 })]);
        // Interleaved: the first waits longest, so all three are in flight together.
        const results = await Promise.all([run('f', { ms: 300 }), run('f', { ms: 200 }), run('f', { ms: 100 })]);
        expect(new Set(results.map((r) => r.value.pid)).size).toBe(1);
        for (const r of results) {
          expect(r.value).toMatchObject({ id: r.requestId, max: '3' });
          const own = logs.filter((l) => l.requestId === r.requestId && l.stream === 'stdout').map((l) => l.message.split('\t').slice(2).join(' '));
          expect(own).toEqual([`INFO begin ${r.requestId}`, `INFO end ${r.requestId}`]);
          expect(logs.filter((l) => l.requestId === r.requestId && l.message.startsWith('REPORT'))).toHaveLength(1);
        }
        expect(executor.stats().functions.f).toEqual({ busy: 0, idle: 1 });
      });

      it('adds an instance only when every slot is taken, and throttles past reserved concurrency', async () => {
        await executor.deploy([spec('f', await bundle('f', CONCURRENT), { instanceConcurrency: 2, reservedConcurrency: 3 })]);
        const inFlight = [run('f', { ms: 400 }), run('f', { ms: 400 }), run('f', { ms: 400 })];
        await new Promise((r) => setTimeout(r, 100));
        const throttled = await run('f', {}).catch((e: unknown) => e);
        expect(isPlatformError(throttled, 'TOO_MANY_REQUESTS')).toBe(true);
        const pids = (await Promise.all(inFlight)).map((r) => r.value.pid);
        expect(new Set(pids).size).toBe(2);
      });

      it('times out one invocation without failing the others in its instance, then replaces the instance', async () => {
        await executor.deploy([spec('f', await bundle('f', CONCURRENT), { instanceConcurrency: 4, timeoutSeconds: 1 })]);
        const late = run('f', { ms: 2500 });
        const quick = await Promise.all([run('f', { ms: 100 }), run('f', { ms: 300 })]);
        for (const r of quick) expect(r.error).toBeUndefined();
        const timedOut = await late;
        expect(timedOut.timedOut).toBe(true);
        expect(timedOut.value).toMatchObject({ errorType: 'Sandbox.Timedout' });
        expect(timedOut.durationMs).toBeLessThan(2000);
        // The instance that ran it took no more invocations and was stopped: the next one is new.
        const next = await run('f', {});
        expect(next.value.pid).not.toBe(quick[0]!.value.pid);
        expect(next.initDurationMs).toBeGreaterThan(0);
      });

      it('kills an instance whose event loop never comes back, once every invocation in it timed out', async () => {
        await executor.deploy([spec('f', await bundle('f', CONCURRENT), { instanceConcurrency: 4, timeoutSeconds: 1 })]);
        const first = await run('f', {});
        const [spinning, blocked] = await Promise.all([run('f', { ms: 50, spin: true }), run('f', { ms: 100 })]);
        expect(spinning.timedOut).toBe(true);
        expect(blocked.timedOut).toBe(true);
        const next = await run('f', {});
        expect(next.error).toBeUndefined();
        expect(next.value.pid).not.toBe(first.value.pid);
      });

      it('fails every invocation in flight when an error escapes one of them, as the process ends', async () => {
        await executor.deploy([spec('f', await bundle('f', CONCURRENT), { instanceConcurrency: 4 })]);
        const [crashed, bystander] = await Promise.all([run('f', { crash: true }), run('f', { ms: 500 })]);
        expect(crashed.value).toMatchObject({ errorType: 'Error', errorMessage: 'boom' });
        expect(bystander.value).toMatchObject({ errorType: 'Error', errorMessage: 'boom' });
        expect((await run('f', {})).error).toBeUndefined();
      });

      it('serves a burst with fewer instances than requests, all answered', async () => {
        await executor.deploy([spec('f', await bundle('f', `const VERSION = 1; ${PID}`), { reservedConcurrency: 3 })]);
        const rounds = [];
        for (let i = 0; i < 5; i++) rounds.push(await Promise.all([invoke('f'), invoke('f'), invoke('f')]));
        const all = rounds.flat();
        expect(all.every((r) => r.error === undefined)).toBe(true);
        expect(new Set(all.map((r) => r.value.pid)).size).toBeLessThanOrEqual(3);
      });

      it('never leaves an invocation waiting on a busy instance that may be waiting for it (a function calling itself)', async () => {
        await executor.deploy([spec('f', await bundle('f', `const VERSION = 1; ${PID}`))]);
        await invoke('f');
        // The only instance is busy for 1.5 s; the nested invocation is answered well before it frees.
        const outer = invoke('f', { ms: 1500 }).then(() => performance.now());
        await new Promise((r) => setTimeout(r, 50));
        const inner = await invoke('f');
        const innerDone = performance.now();
        expect(inner.error).toBeUndefined();
        expect(innerDone).toBeLessThan(await outer);
      });

      it('fails an invocation whose memory peaked over the limit, however briefly', async () => {
        await executor.deploy([spec('f', await bundle('f', 'export const handler = async () => { const b = Buffer.alloc(200 * 1024 * 1024, 1); return b.length; };'))]);
        const r = await invoke('f');
        expect(r.error?.type).toBe('Runtime.OutOfMemory');
        expect(executor.stats().functions.f!.idle).toBe(0);
      });
  });
}
