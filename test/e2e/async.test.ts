// Asynchronous invocations through a real `nuvola dev`: durable before the 202, run within the
// function's concurrency, and every accepted one run at least once, also across a kill -9.
import { GetFunctionEventInvokeConfigCommand, LambdaClient, PutFunctionEventInvokeConfigCommand } from '@aws-sdk/client-lambda';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { copyApp, eventually, ROOT, runCli, startNuvola, TEST_KEY, type Running } from '../helpers/nuvola.js';

const FIXTURE = path.join(ROOT, 'test/fixtures/async');

/** An HTTP endpoint counting the numbers functions report to it. */
async function startSink(): Promise<{ url: string; seen: Map<number, number>; server: Server }> {
  const seen = new Map<number, number>();
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const n = Number(body);
      seen.set(n, (seen.get(n) ?? 0) + 1);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, seen, server };
}

describe('asynchronous invocations', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  const invokeEvent = (nuvola: Running, event: unknown) => nuvola.control('/functions/report/invoke?type=Event', { method: 'POST', body: JSON.stringify(event) });

  it('runs all of 100 Event invocations of a function that reserves one execution', async () => {
    const sink = await startSink();
    cleanup.push(() => new Promise((r) => sink.server.close(r)));
    const nuvola = await startNuvola(await copyApp(FIXTURE));
    cleanup.push(() => nuvola.stop());
    const answers = await Promise.all(Array.from({ length: 100 }, (_, n) => invokeEvent(nuvola, { n, ms: 5, sink: sink.url })));
    expect(answers.map((a) => a.status)).toEqual(Array(100).fill(202));
    // Queued, not dropped: the control API shows them waiting (one at a time runs).
    const queued = ((await (await nuvola.control('/functions')).json()) as { async: Record<string, { visible: number; inFlight: number }> }).async['report']!;
    expect(queued.visible + queued.inFlight + sink.seen.size).toBeGreaterThanOrEqual(100 - 1);
    await eventually(async () => sink.seen.size === 100, 60_000);
    expect([...sink.seen.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, n) => n));
  });

  const lambdaOf = (nuvola: Running) => new LambdaClient({ endpoint: nuvola.url, region: 'us-east-1', credentials: TEST_KEY, maxAttempts: 1 });

  it('runs every accepted Event invocation at least once when the platform is killed mid-way and started again, with the settings put through the API', async () => {
    const sink = await startSink();
    cleanup.push(() => new Promise((r) => sink.server.close(r)));
    const dir = await copyApp(FIXTURE);
    const first = await startNuvola(dir, { keepDir: true });
    await lambdaOf(first).send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'report', MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 600 }));
    const count = 40;
    for (let n = 0; n < count; n++) expect((await invokeEvent(first, { n, ms: 100, sink: sink.url })).status).toBe(202);
    // One at a time, 100 ms each: some have run, most are still queued, one is in flight.
    await eventually(async () => sink.seen.size >= 5, 20_000);
    first.proc.kill('SIGKILL');
    await first.stop();
    const ranBefore = sink.seen.size;
    expect(ranBefore).toBeLessThan(count);
    const second = await startNuvola(dir);
    cleanup.push(() => second.stop());
    // Kept as Lambda keeps them, not only in the memory of the process that was killed.
    expect(await lambdaOf(second).send(new GetFunctionEventInvokeConfigCommand({ FunctionName: 'report' }))).toMatchObject({ MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 600 });
    await eventually(async () => sink.seen.size === count, 60_000);
    expect([...sink.seen.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: count }, (_, n) => n));
  });

  it('shows the latest asynchronous invocations with their outcome, and the queues, from the CLI: a failure is never silent', async () => {
    const nuvola = await startNuvola(await copyApp(FIXTURE));
    cleanup.push(() => nuvola.stop());
    const accepted = await nuvola.control('/functions/broken/invoke?type=Event', { method: 'POST', body: '{}' });
    const { requestId } = (await accepted.json()) as { requestId: string };
    const env = { NUVOLA_URL: nuvola.url };
    await eventually(async () => (await runCli(['invocations', '--failed'], env)).stdout.includes(requestId), 20_000, 200);
    const failed = await runCli(['invocations', 'broken', '--failed'], env);
    expect(failed.stdout).toMatch(new RegExp(`\\tbroken\\t${requestId}\\tfailed\\t1 attempt\\tRangeError: out of stock\\n`));
    const queues = await runCli(['queues'], env);
    expect(queues.stdout).toMatch(/^broken \(async\)\t0\t0\t0$/m);
    expect(queues.stdout).toMatch(/^report \(async\)\t/m);
    const unknown = await runCli(['invocations', 'nobody'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('Function not found');
  });
});
