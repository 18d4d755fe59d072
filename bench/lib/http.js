/** Requests over kept-alive connections, timed to the first byte of the response. */
import http from 'node:http';

/** One socket, reused: a request's time is then the server's, not TCP's handshake. */
const shared = new http.Agent({ keepAlive: true, maxSockets: 1 });

/**
 * GET `url`. `ttfbMs` runs from sending the request to the arrival of the status line and headers
 * (Nuvola writes them with the first bytes of the body); `body` is the whole body as text.
 * Requests wait for the one shared socket unless given an `agent` of their own.
 */
export function get(url, { agent = shared } = {}) {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    // The control API's token (see children.js); the app's routes ignore it.
    const headers = url.includes('/_nuvola/') ? { authorization: 'Bearer bench-control-token' } : {};
    const req = http.get(url, { agent, headers }, (res) => {
      const ttfbMs = performance.now() - start;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (s) => (body += s));
      res.on('end', () => resolve({ status: res.statusCode, body, ttfbMs }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

export async function getJson(url) {
  const res = await get(url);
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${res.body.slice(0, 200)}`);
  return JSON.parse(res.body);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Calls `check` every `everyMs` until it returns a truthy value, which it returns. */
export async function pollUntil(check, { everyMs = 10, timeoutMs = 10_000, what = 'condition' } = {}) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Drops the kept-alive socket, e.g. before the server it points at is stopped. */
export function closeConnections() {
  shared.destroy();
}
