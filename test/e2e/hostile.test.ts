// Function code that attacks the platform running it: each attack fails that invocation alone, and the
// platform and the other functions keep serving.
import { request } from 'node:http';
import { connect } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyApp, ROOT, startNuvola, TEST_CONTROL_TOKEN, type Running } from '../helpers/nuvola.js';

let nuvola: Running;
beforeAll(async () => {
  nuvola = await startNuvola(await copyApp(path.join(ROOT, 'test/fixtures/hostile')), { env: { NUVOLA_MAX_LOG_BYTES: String(1024 * 1024) } });
});
afterAll(() => nuvola.stop());

const invoke = async (fn: string, event: unknown = {}) => {
  const res = await nuvola.control(`/functions/${fn}/invoke`, { method: 'POST', body: JSON.stringify(event) });
  expect(res.status).toBe(200);
  return (await res.json()) as { requestId: string; result: unknown; error: { type: string; message: string } | null; logs: string };
};

const stillServing = async () => {
  expect(await (await fetch(`${nuvola.url}/ok`)).text()).toBe('ok');
  expect(nuvola.proc.exitCode).toBeNull();
};

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

describe('a function that attacks the platform', () => {
  it('sending a malformed log message fails its own invocation, not the platform', async () => {
    const out = await invoke('forgeLog');
    expect(out.error?.type).toBe('Runtime.ExitError');
    expect(out.error?.message).toMatch(/invalid message from the runtime \(log\.line is not a string\)/);
    await stillServing();
  });

  it('forging a result with a bad duration fails the invocation and the instance is gone', async () => {
    const out = await invoke('forgeResult');
    expect(out.error?.type).toBe('Runtime.ExitError');
    expect(out.error?.message).toMatch(/result\.durationMs is not a number/);
    const stats = (await (await nuvola.control(`/functions`)).json()) as { stats: { functions: Record<string, { busy: number; idle: number }> } };
    expect(stats.stats.functions['forgeResult']).toEqual({ busy: 0, idle: 0 });
    await stillServing();
  });

  it('cannot write into another invocation’s log', async () => {
    const out = await invoke('forgeTail', { target: 'victim-request' });
    expect(out.result).toBe('sent');
    // The line is the sender's own, under its own request id.
    expect(out.logs).toContain('injected into another tail');
    const logs = (await (await nuvola.control(`/logs?fn=forgeTail&requestId=victim-request`)).json()) as { records: unknown[] };
    expect(logs.records).toEqual([]);
  });

  it('flooding stdout without a newline is cut, and the platform stays small', async () => {
    const out = await invoke('flood');
    expect(out.result).toBe('flooded');
    const logs = (await (await nuvola.control(`/logs?fn=flood&limit=50`)).json()) as { records: { message: string }[] };
    const long = logs.records.filter((r) => r.message.startsWith('xxxx'));
    expect(long).toHaveLength(1);
    expect(long[0]!.message.length).toBeLessThanOrEqual(256 * 1024);
    expect(long[0]!.message.endsWith('… [truncated]')).toBe(true);
    await stillServing();
  });

  it('is frozen between invocations: what it left scheduled runs only when it is invoked again', async () => {
    const logsOf = async () => ((await (await nuvola.control('/logs?fn=lingers&limit=100')).json()) as { records: { requestId: string | null; message: string }[] }).records;
    const first = await invoke('lingers');
    expect(first.result).toBe(1);
    await new Promise((r) => setTimeout(r, 400));
    expect((await logsOf()).some((r) => r.message.includes('still running after call 1'))).toBe(false);
    const second = await invoke('lingers');
    expect(second.result).toBe(2);
    await new Promise((r) => setTimeout(r, 300));
    // Thawed for the second call, the first call's timer fired, within the second invocation.
    const line = (await logsOf()).find((r) => r.message.includes('still running after call 1'));
    expect(line?.requestId).toBe(second.requestId);
  });

  it('cannot list or resolve paths outside its own directories', async () => {
    expect((await invoke('peek')).result).toEqual({
      listRoot: 'ERR_ACCESS_DENIED',
      realpath: 'ERR_ACCESS_DENIED',
      realpathNative: 'ERR_ACCESS_DENIED',
      exists: 'ERR_ACCESS_DENIED',
      ownTmp: 'allowed',
    });
  });

  it('runs as a user of its own where the platform runs as root', async () => {
    // Two at once: two instances, each with a user of its own.
    const [a, b] = (await Promise.all([invoke('identity'), invoke('identity')])).map((o) => o.result as { uid: number; gid: number; neighbours: string });
    if (process.getuid?.() !== 0) return;
    expect(a!.uid).toBeGreaterThanOrEqual(200_000);
    expect(a!.gid).toBe(a!.uid);
    expect(b!.uid).not.toBe(a!.uid);
    expect(a!.neighbours).toMatch(/^E(ACCES|RR_ACCESS_DENIED)$/);
  });

  it('cannot signal the platform or any other process, nor renice them', async () => {
    const out = await invoke('signals');
    expect(out.result).toEqual({
      probeParent: 'EPERM',
      probeInit: 'EPERM',
      raw: 'EPERM',
      replace: 'error',
      renice: 'EPERM',
      reniceSelf: 'allowed',
      self: 'allowed',
      killParent: 'EPERM',
    });
    await stillServing();
  });

  it('cannot write more log than an invocation may: the rest is dropped and counted', async () => {
    const out = await invoke('chatty');
    expect(out.result).toBe('said a lot');
    const records = ((await (await nuvola.control(`/logs?fn=chatty&requestId=${out.requestId}&limit=10000`)).json()) as { records: { message: string }[] }).records;
    const kept = records.filter((r) => r.message.endsWith('y'.repeat(99))).length;
    expect(kept).toBeGreaterThan(5_000);
    expect(kept).toBeLessThan(20_000);
    const note = records.find((r) => r.message.includes('of output were dropped'));
    expect(note?.message).toMatch(new RegExp(`^${20_000 - kept} lines \\(\\d+ characters\\) of output were dropped: over this invocation's log limit$`));
    await stillServing();
  });

  it('cannot write more than its ephemeral storage: it fails with ENOSPC, and a fresh instance follows', async () => {
    const out = await invoke('filler');
    expect(out.error).toEqual({ type: 'Error', message: "ENOSPC: no space left on device (the function's 512 MB of ephemeral storage are used up)" });
    const stats = (await (await nuvola.control('/functions')).json()) as { stats: { functions: Record<string, { busy: number; idle: number }> } };
    expect(stats.stats.functions['filler']).toEqual({ busy: 0, idle: 0 });
    await stillServing();
  }, 60_000);

  it('cannot open the platform’s inspector with SIGUSR1', async () => {
    const before = await listening(9229);
    const out = await invoke('inspector');
    if (!before) expect(out.result).toEqual({ signalled: false, inspectorOpen: false });
    // And were the signal to get through (here the test sends it), the platform holds it.
    nuvola.proc.kill('SIGUSR1');
    await new Promise((r) => setTimeout(r, 300));
    if (!before) expect(await listening(9229)).toBe(false);
    expect(nuvola.output()).not.toMatch(/Debugger listening/);
    await stillServing();
  });
});

describe('the control API', () => {
  // node:http, not fetch: fetch will not send a Host header of the caller's choosing.
  const control = (p: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; headers: { get(name: string): string | undefined }; json(): Promise<unknown> }>((resolve, reject) => {
      const req = request(`${nuvola.url}/_nuvola${p}`, { headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: { get: (n) => res.headers[n] as string | undefined }, json: async () => JSON.parse(body) as unknown }),
        );
      });
      req.on('error', reject);
      req.end();
    });
  const bearer = { authorization: `Bearer ${TEST_CONTROL_TOKEN}` };

  it('answers health to anyone, and nothing else without the token', async () => {
    expect((await control('/health')).status).toBe(200);
    for (const p of ['/functions', '/logs', '/functions/ok/code']) {
      const res = await control(p);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="nuvola"');
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
    }
    expect((await control('/functions', { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await control('/functions', bearer)).status).toBe(200);
  });

  it('refuses pages of other sites and rebound host names, even with the token', async () => {
    expect((await control('/functions', { ...bearer, origin: 'https://evil.example' })).status).toBe(403);
    expect((await control('/functions', { ...bearer, 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await control('/health', { host: `evil.example:${new URL(nuvola.url).port}` })).status).toBe(403);
    expect((await control('/functions', { ...bearer, host: `localhost:${new URL(nuvola.url).port}` })).status).toBe(200);
    expect((await control('/functions', { ...bearer, origin: nuvola.url })).status).toBe(200);
  });

  it('is closed to function code, whatever keys it signs with', async () => {
    const out = await invoke('control');
    expect(out.result).toMatchObject({ plain: 401, signed: 401 });
  });
});

describe('a function in namespaces of its own (where the platform is not root)', () => {
  let isolated: Running;
  beforeAll(async () => {
    isolated = await startNuvola(await copyApp(path.join(ROOT, 'test/fixtures/hostile')), { env: { NUVOLA_SANDBOX: 'namespaces' } });
  });
  afterAll(() => isolated.stop());

  const call = async (fn: string) =>
    ((await (await isolated.control(`/functions/${fn}/invoke`, { method: 'POST', body: '{}' })).json()) as { result: unknown }).result;

  it("runs as Lambda's sandbox user, alone in its PID namespace, and still cannot signal or look around", async () => {
    if (/without the kernel's separation/.test(isolated.output())) return; // this machine allows no namespaces
    expect(await call('identity')).toMatchObject({ uid: 993, gid: 990, pid: 1 });
    expect(await call('signals')).toMatchObject({ probeParent: 'EPERM', killParent: 'EPERM', self: 'allowed' });
    expect(await call('peek')).toMatchObject({ listRoot: 'ERR_ACCESS_DENIED', realpath: 'ERR_ACCESS_DENIED' });
    expect(await (await fetch(`${isolated.url}/ok`)).text()).toBe('ok');
  });

  it('is frozen between invocations and killed at its timeout as anywhere else', async () => {
    expect(await call('lingers')).toBe(1);
    expect(await call('lingers')).toBe(2);
  });
});
