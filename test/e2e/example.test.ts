// The example app of the README, as a new user runs it: TypeScript handlers, an npm dependency.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, startNuvola, TEST_CONTROL_TOKEN, type Running } from '../helpers/nuvola.js';

let nuvola: Running;
let stateDir: string;

beforeAll(async () => {
  stateDir = await mkdtemp(path.join(os.tmpdir(), 'nuvola-example-'));
  nuvola = await startNuvola(path.join(ROOT, 'examples/hello'), { env: { NUVOLA_STATE_DIR: stateDir }, keepDir: true });
});
afterAll(async () => {
  await nuvola?.stop();
  await rm(stateDir, { recursive: true, force: true });
});

describe('examples/hello', () => {
  it('is healthy once ready', async () => {
    const res = await fetch(`${nuvola.url}/_nuvola/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', app: 'hello', functions: 4 });
  });

  it('greets', async () => {
    const res = await fetch(`${nuvola.url}/hello/reader`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('hello, reader\n');
  });

  it('creates an item with an id from its npm dependency', async () => {
    const res = await fetch(`${nuvola.url}/items`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"pen"}' });
    expect(res.status).toBe(201);
    const item = (await res.json()) as { id: string; name: string; table: string };
    expect(item).toMatchObject({ name: 'pen', table: 'items' });
    expect(item.id).toMatch(/^[A-Za-z0-9_-]{21}$/);
    expect(res.headers.get('location')).toBe(`/items/${item.id}`);
  });

  it('validates input in the handler', async () => {
    const res = await fetch(`${nuvola.url}/items`, { method: 'POST', body: 'not json' });
    expect(res.status).toBe(400);
  });

  it('streams logs to `nuvola logs --follow`', async () => {
    const follower = spawn(process.execPath, [BIN, 'logs', 'createItem', '--follow', '--lines', '0', '--url', nuvola.url], {
      env: { ...process.env, NUVOLA_CONTROL_TOKEN: TEST_CONTROL_TOKEN },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    follower.stdout.on('data', (c: Buffer) => (out += c.toString()));
    try {
      // Lines made before the follower connects are not shown (--lines 0): keep making them until one is.
      const until = Date.now() + 15_000;
      while (!/INFO\tcreated item \S+ in createItem/.test(out) && Date.now() < until) {
        await fetch(`${nuvola.url}/items`, { method: 'POST', body: '{"name":"followed"}' });
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(out).toMatch(/INFO\tcreated item \S+ in createItem/);
      expect(out).toMatch(/REPORT RequestId: /);
    } finally {
      follower.kill();
    }
  });
});
