/**
 * Reload: on a copy of the bench app (the repository's stays untouched), rewrite the handler's
 * source and time until `GET /hello` answers with the new body — the file watcher's debounce,
 * the rebuild, the swap and the new version's cold start together.
 */
import { cpSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeTempDir, startNuvola, stopChild } from '../lib/children.js';
import { get, pollUntil, sleep } from '../lib/http.js';
import { median, round } from '../lib/stats.js';

const POLL_MS = 10;
/** Between reloads: lets the previous one's instances and spares settle. */
const PAUSE_MS = 300;

const source = (body) => `export const handler = async () => ({
  statusCode: 200,
  headers: { 'content-type': 'text/plain' },
  body: ${JSON.stringify(body)},
});
`;

export async function measureReload({ appDir, times }) {
  const copy = makeTempDir('app');
  cpSync(appDir, copy, { recursive: true, filter: (src) => path.basename(src) !== '.nuvola' });
  const nuvola = await startNuvola(copy);
  const durations = [];
  try {
    await pollUntil(async () => (await get(`${nuvola.url}/hello`)).body === 'hello', { what: 'the first /hello' });
    for (let i = 1; i <= times; i++) {
      await sleep(PAUSE_MS);
      const body = `hello v${i}`;
      const start = performance.now();
      writeFileSync(path.join(copy, 'src/hello.mjs'), source(body));
      await pollUntil(async () => (await get(`${nuvola.url}/hello`)).body === body, {
        everyMs: POLL_MS,
        timeoutMs: 15_000,
        what: `GET /hello to answer "${body}"`,
      });
      durations.push(performance.now() - start);
    }
  } finally {
    await stopChild(nuvola.child);
  }
  return { times, reloadMs: round(median(durations), 1), allMs: durations.map((d) => round(d, 1)) };
}
