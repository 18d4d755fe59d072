// The function runtime end to end: isolation, limits, crashes, concurrency and logs, through a real
// `nuvola dev` process.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyApp, eventually, ROOT, runCli, startNuvola, type Running } from '../helpers/nuvola.js';

let nuvola: Running;

beforeAll(async () => {
  nuvola = await startNuvola(await copyApp(path.join(ROOT, 'test/fixtures/app')));
});
afterAll(() => nuvola?.stop());

const get = (p: string, init?: RequestInit) => fetch(nuvola.url + p, init);

interface Record_ {
  fn: string;
  requestId: string | null;
  message: string;
}
async function logsOf(fn: string): Promise<string[]> {
  const body = (await (await nuvola.control(`/logs?fn=${fn}&limit=1000`)).json()) as { records: Record_[] };
  return body.records.map((r) => r.message);
}

describe('the Lambda contract', () => {
  it('gives the handler its context and Lambda environment', async () => {
    const { context, env } = (await (await get('/echo/1')).json()) as { context: Record<string, unknown>; env: Record<string, unknown> };
    expect(context).toMatchObject({
      functionName: 'echo',
      functionVersion: '$LATEST',
      memoryLimitInMB: '128',
      logGroupName: '/aws/lambda/echo',
      callbackWaitsForEmptyEventLoop: true,
    });
    expect(context.logStreamName).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
    expect(context.remaining).toBeGreaterThan(2000);
    expect(context.remaining).toBeLessThanOrEqual(3000);
    expect(env).toMatchObject({
      GREETING: 'hi',
      NUMBER: '42',
      AWS_LAMBDA_FUNCTION_NAME: 'echo',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL: nuvola.url,
      AWS_ACCESS_KEY_ID: expect.stringMatching(/^ASIA[A-Z2-7]{16}$/) as unknown as string,
      _HANDLER: 'src/echo.handler',
    });
    // Nothing of the platform's own environment leaks into functions: HOME is a home of their own.
    expect(env.HOME).toMatch(/[/\\]home$/);
    expect(env.HOME).not.toBe(process.env.HOME);
  });

  it('runs CommonJS callback handlers', async () => {
    const res = await get('/legacy');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('legacy/ok');
  });

  it('writes START, END and REPORT lines and tags console output with the request id', async () => {
    const res = await get('/echo/logs-check');
    const { context } = (await res.json()) as { context: { awsRequestId: string } };
    const id = context.awsRequestId;
    await eventually(async () => (await logsOf('echo')).some((l) => l.startsWith(`REPORT RequestId: ${id}`)));
    const lines = (await logsOf('echo')).filter((l) => l.includes(id));
    expect(lines[0]).toBe(`START RequestId: ${id} Version: $LATEST`);
    expect(lines[1]).toMatch(new RegExp(`^\\d{4}-\\d{2}-\\d{2}T[\\d:.]+Z\\t${id}\\tINFO\\techo /echo/logs-check$`));
    expect(lines[2]).toBe(`END RequestId: ${id}`);
    expect(lines[3]).toMatch(/^REPORT RequestId: \S+\tDuration: \d+\.\d{2} ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: \d+ MB/);
  });

  it('reports Init Duration on the first invocation of an instance only', async () => {
    await get('/legacy');
    await get('/legacy');
    const reports = (await logsOf('legacy')).filter((l) => l.startsWith('REPORT'));
    expect(reports[0]).toMatch(/Init Duration: \d+\.\d{2} ms/);
    expect(reports.at(-1)).not.toMatch(/Init Duration/);
  });
});

describe('isolation', () => {
  it('lets a function read only its own code and write only its temporary directory', async () => {
    const res = await get('/snoop');
    expect(await res.json()).toEqual({ readPasswd: 'ERR_ACCESS_DENIED', readOwnCode: 'allowed', writeTmp: 'allowed', writeElsewhere: 'ERR_ACCESS_DENIED' });
  });
});

describe('failures never take the platform down', () => {
  it.each([
    ['exits', /Runtime\.ExitError.*exit status 3/],
    ['uncaught', /"errorType":"Error","errorMessage":"thrown outside the handler"/],
    ['rejects', /Runtime\.UnhandledPromiseRejection.*nobody caught me/],
  ])('%s: the invocation fails, the instance is replaced, others keep serving', async (fn, logLine) => {
    const res = await get(`/${fn}`);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ message: 'Internal Server Error' });
    await eventually(async () => (await logsOf(fn)).some((l) => logLine.test(l)));
    expect((await get('/echo/still-here')).status).toBe(200);
    expect((await get(`/${fn}`)).status).toBe(500);
  });

  it('stops a function at its memory limit with Runtime.OutOfMemory', async () => {
    const res = await get('/hog');
    expect(res.status).toBe(500);
    await eventually(async () => (await logsOf('hog')).some((l) => l.includes('Runtime.OutOfMemory')));
    expect((await get('/echo/after-oom')).status).toBe(200);
  }, 30_000);

  it('reports a thrown error as Lambda does, with the TypeScript source line', async () => {
    const out = await runCli(['invoke', 'throws', '--url', nuvola.url]);
    expect(out.code).toBe(1);
    const result = JSON.parse(out.stdout) as { errorType: string; errorMessage: string; trace: string[] };
    expect(result.errorType).toBe('ValidationError');
    expect(result.errorMessage).toBe('the input was wrong');
    // The stack names the user's own TypeScript file, where it is, at the line of the throw.
    expect(result.trace[1]).toContain(`(${nuvola.dir}/src/errors.ts:6:9)`);
    // …and nothing of the platform's own files.
    expect(result.trace.filter((line) => /bootstrap\.worker|\/dist\//.test(line))).toEqual([]);
  });
});

describe('concurrency', () => {
  it('throttles beyond reserved concurrency with 429', async () => {
    const slow = get('/limited?ms=1500');
    await eventually(async () => {
      const stats = (await (await nuvola.control('/functions')).json()) as { stats: { functions: Record<string, { busy: number }> } };
      return stats.stats.functions.limited!.busy === 1;
    });
    const throttled = await get('/limited?ms=1');
    expect(throttled.status).toBe(429);
    expect(await throttled.json()).toEqual({ message: 'Too Many Requests' });
    expect((await slow).status).toBe(200);
  });

  it('scales out: concurrent requests run on separate instances', async () => {
    const results = await Promise.all([1, 2, 3].map(() => get('/patient?ms=300').then((r) => r.json() as Promise<{ pid: number }>)));
    expect(new Set(results.map((r) => r.pid)).size).toBe(3);
  });
});

describe('the CLI', () => {
  it('invokes a function with --data and prints its result', async () => {
    const out = await runCli(['invoke', 'echo', '--data', '{"rawPath":"/from-cli"}', '--url', nuvola.url]);
    expect(out.code).toBe(0);
    expect((JSON.parse(out.stdout) as { event: unknown }).event).toEqual({ rawPath: '/from-cli' });
  });

  it('prints logs of one function', async () => {
    const out = await runCli(['logs', 'legacy', '--url', nuvola.url]);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/START RequestId: /);
  });

  it('fails with one clear line for an unknown function', async () => {
    const out = await runCli(['invoke', 'nope', '--url', nuvola.url]);
    expect(out.code).toBe(1);
    expect(out.stderr.trim()).toBe('nuvola: Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope');
  });
});
