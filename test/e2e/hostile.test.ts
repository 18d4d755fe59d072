// Function code that attacks the platform running it: each attack fails that invocation alone, and the
// platform and the other functions keep serving.
import { connect } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyApp, ROOT, startNuvola, type Running } from '../helpers/nuvola.js';

let nuvola: Running;
beforeAll(async () => {
  nuvola = await startNuvola(await copyApp(path.join(ROOT, 'test/fixtures/hostile')));
});
afterAll(() => nuvola.stop());

const invoke = async (fn: string, event: unknown = {}) => {
  const res = await fetch(`${nuvola.url}/_nuvola/functions/${fn}/invoke`, { method: 'POST', body: JSON.stringify(event) });
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
    const stats = (await (await fetch(`${nuvola.url}/_nuvola/functions`)).json()) as { stats: { functions: Record<string, { busy: number; idle: number }> } };
    expect(stats.stats.functions['forgeResult']).toEqual({ busy: 0, idle: 0 });
    await stillServing();
  });

  it('cannot write into another invocation’s log', async () => {
    const out = await invoke('forgeTail', { target: 'victim-request' });
    expect(out.result).toBe('sent');
    // The line is the sender's own, under its own request id.
    expect(out.logs).toContain('injected into another tail');
    const logs = (await (await fetch(`${nuvola.url}/_nuvola/logs?fn=forgeTail&requestId=victim-request`)).json()) as { records: unknown[] };
    expect(logs.records).toEqual([]);
  });

  it('flooding stdout without a newline is cut, and the platform stays small', async () => {
    const out = await invoke('flood');
    expect(out.result).toBe('flooded');
    const logs = (await (await fetch(`${nuvola.url}/_nuvola/logs?fn=flood&limit=50`)).json()) as { records: { message: string }[] };
    const long = logs.records.filter((r) => r.message.startsWith('xxxx'));
    expect(long).toHaveLength(1);
    expect(long[0]!.message.length).toBeLessThanOrEqual(256 * 1024);
    expect(long[0]!.message.endsWith('… [truncated]')).toBe(true);
    await stillServing();
  });

  it('cannot open the platform’s inspector with SIGUSR1', async () => {
    const before = await listening(9229);
    const out = await invoke('inspector');
    if (!before) expect(out.result).toEqual({ inspectorOpen: false });
    expect(nuvola.output()).not.toMatch(/Debugger listening/);
    await stillServing();
  });
});
