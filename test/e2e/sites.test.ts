// A static site beside the HTTP API, through a real `nuvola dev`: caching headers, compression,
// ranges, the single-page fallback, hostile paths, and a live redeploy rolled back from the CLI.
import { readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import path from 'node:path';
import { brotliDecompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyApp, eventually, ROOT, runCli, startNuvola, type Running } from '../helpers/nuvola.js';

describe('static sites', () => {
  let nuvola: Running;
  let asset: string;

  beforeAll(async () => {
    nuvola = await startNuvola(await copyApp(path.join(ROOT, 'test/fixtures/site-app')));
    asset = await readFile(path.join(nuvola.dir, 'public/assets/app-BdF3k2xq.js'), 'utf8');
  });
  afterAll(() => nuvola?.stop());

  const get = (p: string, headers: Record<string, string> = {}, method = 'GET') => fetch(`${nuvola.url}${p}`, { method, headers, redirect: 'manual' });

  it('serves the index page, revalidated each time, and the API routes beside it', async () => {
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(page.headers.get('etag')).toMatch(/^"[A-Za-z0-9_-]{43}"$/);
    expect(page.headers.get('last-modified')).toMatch(/GMT$/);
    expect(await page.text()).toContain('version one');
    const api = await get('/api/hello');
    expect(await api.text()).toBe('from the api');
    // A CORS preflight for an API route is the API's, not the site's.
    const preflight = await get('/api/hello', { origin: 'https://example.com', 'access-control-request-method': 'GET' }, 'OPTIONS');
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://example.com');
    expect(nuvola.output()).toMatch(/\/ → public\/ \(web, single-page app\)/);
  });

  it('answers 304 to a client that has the file, and a byte range as asked', async () => {
    const first = await get('/robots.txt');
    const etag = first.headers.get('etag')!;
    const again = await get('/robots.txt', { 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    expect((await get('/robots.txt', { 'if-modified-since': first.headers.get('last-modified')! })).status).toBe(304);
    const part = await get('/robots.txt', { range: 'bytes=0-9' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe('bytes 0-9/23');
    expect(await part.text()).toBe('User-agent');
    const beyond = await get('/robots.txt', { range: 'bytes=100-' });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe('bytes */23');
  });

  it('sends content-hashed assets compressed, cached for good, under an ETag of their own coding', async () => {
    const res = await fetch(`${nuvola.url}/assets/app-BdF3k2xq.js`, { headers: { 'accept-encoding': 'br' } });
    expect(res.headers.get('content-encoding')).toBe('br');
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(res.headers.get('vary')).toBe('Accept-Encoding');
    expect(res.headers.get('etag')).toMatch(/-br"$/);
    // fetch decodes it; node:http below gives the bytes as sent.
    expect(await res.text()).toBe(asset);
    const raw = await rawGet(nuvola.url, '/assets/app-BdF3k2xq.js', { 'accept-encoding': 'br' });
    expect(Number(raw.headers['content-length'])).toBeLessThan(asset.length / 3);
    expect(brotliDecompressSync(raw.body).toString()).toBe(asset);
    const plain = await rawGet(nuvola.url, '/assets/app-BdF3k2xq.js', {});
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString()).toBe(asset);
  });

  it('answers client-side routes with the index page, and 404 for a missing asset', async () => {
    const route = await get('/orders/42', { accept: 'text/html' });
    expect(route.status).toBe(200);
    expect(await route.text()).toContain('version one');
    expect((await get('/missing.png')).status).toBe(404);
    const folder = await get('/about');
    expect(folder.status).toBe(301);
    expect(folder.headers.get('location')).toBe('/about/');
    expect(await (await get('/about/')).text()).toContain('about us');
  });

  it('never leaves its folder, and takes only GET and HEAD', async () => {
    for (const p of ['/..%2f..%2fnuvola.yaml', '/%2e%2e/nuvola.yaml', '/assets/..%5c..%5cnuvola.yaml', '/%00', '/%E0%A4%A']) {
      const res = await rawGet(nuvola.url, p, {});
      expect([400, 404]).toContain(res.status);
      expect(res.body.toString()).not.toContain('site-app');
    }
    const post = await get('/', {}, 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    const head = await get('/robots.txt', {}, 'HEAD');
    expect(head.headers.get('content-length')).toBe('23');
  });

  it('redeploys an edited file as a new version, atomically, and rolls back to the one before', async () => {
    await writeFile(path.join(nuvola.dir, 'public/index.html'), '<!doctype html><body>version two</body>');
    await eventually(async () => (await (await get('/')).text()).includes('version two'), 15_000);
    const env = { NUVOLA_URL: nuvola.url };
    const listed = await runCli(['sites'], env);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/\* v2/);
    const rolled = await runCli(['sites', 'rollback', 'web'], env);
    expect(rolled.stdout).toContain('web: now serving v1');
    expect(await (await get('/')).text()).toContain('version one');
    const none = await runCli(['sites', 'rollback', 'web'], env);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('no version before 1');
    const unknown = await runCli(['sites', 'rollback', 'nope'], env);
    expect(unknown.stderr).toContain('No site named nope');
  });
});

/** A GET through node:http, which leaves the body as sent (fetch decodes it). */
async function rawGet(base: string, p: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const url = new URL(base);
    const req = request({ host: url.hostname, port: url.port, path: p, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}
