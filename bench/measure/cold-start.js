/**
 * Cold starts of `GET /cold` on a Nuvola started with NUVOLA_IDLE_TIMEOUT_MS=100: before each
 * request, the function's instance has been reaped and the spare pool has booted (at least its
 * base size), so every request takes the pre-started-spare path (a spare loads the handler and
 * runs it).
 */
import { get, getJson, pollUntil } from '../lib/http.js';
import { percentile, round } from '../lib/stats.js';

export const IDLE_TIMEOUT_MS = 100;
const WARM_SAMPLES = 200;
/** Keeps the instance busy past the spare refill its own cold start set off. */
const WARM_SETTLE_MS = 300;
const INIT_DURATION = /\tInit Duration: ([\d.]+) ms/;

export async function measureColdStarts({ nuvola, count, spares, log }) {
  const ttfb = [];
  for (let i = 0; i < count; i++) {
    await waitUntilCold(nuvola.url, spares);
    const res = await get(`${nuvola.url}/cold`);
    if (res.status !== 200) throw new Error(`GET /cold: ${res.status} ${res.body}`);
    ttfb.push(res.ttfbMs);
    if ((i + 1) % 20 === 0) log(`${i + 1}/${count} cold starts`);
  }
  // The last REPORT line may be written after the response: wait for that instance's end too.
  await waitUntilCold(nuvola.url, spares);
  const { records } = await getJson(`${nuvola.url}/_nuvola/logs?fn=cold&limit=10000`);
  const init = records.map((r) => INIT_DURATION.exec(r.message)?.[1]).filter(Boolean).map(Number);
  const warm = await measureWarm(nuvola.url);
  return {
    count,
    // Each cold request should have written one REPORT with an Init Duration; fewer means some were warm.
    reportsWithInit: init.length,
    ttfbP50Ms: round(percentile(ttfb, 50), 2),
    ttfbP99Ms: round(percentile(ttfb, 99), 2),
    ttfbMaxMs: round(Math.max(...ttfb), 2),
    warmTtfbP50Ms: round(percentile(warm, 50), 3),
    initP50Ms: round(percentile(init, 50), 2),
    initP99Ms: round(percentile(init, 99), 2),
  };
}

function waitUntilCold(url, spares) {
  return pollUntil(
    async () => {
      const { stats } = await getJson(`${url}/_nuvola/functions`);
      const cold = stats.functions.cold ?? { busy: 0, idle: 0 };
      // sparesReady: spares whose Node has booted, so that the request measures the spare path.
      // The pool grows past `spares` while cold starts keep coming (one more per cold start of the
      // last 30 s, up to 16), so "at least"; and none still booting, whose CPU would be the
      // measured request's on a small machine.
      return cold.busy === 0 && cold.idle === 0 && stats.sparesReady >= spares && stats.spares === stats.sparesReady;
    },
    { everyMs: 5, what: 'the `cold` instance to be reaped and the spares refilled' },
  );
}

/** Requests to the same function, back to back so that its instance stays warm. */
async function measureWarm(url) {
  const until = performance.now() + WARM_SETTLE_MS;
  while (performance.now() < until) await get(`${url}/cold`);
  const samples = [];
  for (let i = 0; i < WARM_SAMPLES; i++) samples.push((await get(`${url}/cold`)).ttfbMs);
  return samples;
}
