/**
 * Ten cold starts at once, of ten different functions (`c0`…`c9`, one handler), on a Nuvola
 * started with NUVOLA_IDLE_TIMEOUT_MS=100: what a page firing ten API calls meets after a quiet
 * spell. The spare pool grows with the cold starts of the last 30 s, so the first round (two spares
 * by default) is a warm-up, reported apart; the later ones meet the pool that bursts like it built.
 */
import http from 'node:http';
import { get, getJson, sleep } from '../lib/http.js';
import { percentile, round } from '../lib/stats.js';

export const FUNCTIONS = Array.from({ length: 10 }, (_, i) => `c${i}`);
const POLL_MS = 10;
/**
 * The spares count as settled once all have booted and neither count has moved for this long:
 * longer than the executor's pause between two rounds of spare starts (5 ms), so that a pool still
 * growing is not taken for a full one.
 */
const SETTLE_MS = 300;
/** Past this, a round fires with the spares as they are (and says so); on a busy machine they may boot slowly. */
const SETTLE_TIMEOUT_MS = 10_000;
/** Reaping takes 100 ms of idleness and a sweep; this is for a machine that is very busy. */
const REAP_TIMEOUT_MS = 10_000;

export async function measureParallelColdStarts({ nuvola, rounds, log }) {
  // A connection per request, opened before the round: as in the sequential measure, TTFB
  // counts no TCP handshake.
  const agent = new http.Agent({ keepAlive: true });
  const all = [];
  try {
    for (let n = 0; n < rounds; n++) {
      const before = await waitUntilCold(nuvola.url);
      await Promise.all(FUNCTIONS.map(() => get(`${nuvola.url}/_nuvola/health`, { agent })));
      const responses = await Promise.all(FUNCTIONS.map((fn) => get(`${nuvola.url}/${fn}`, { agent })));
      const bad = responses.find((r) => r.status !== 200);
      if (bad) throw new Error(`cold start of c0…c9: ${bad.status} ${bad.body.slice(0, 200)}`);
      const ttfbMs = responses.map((r) => r.ttfbMs);
      all.push({ ...before, ttfbMs: ttfbMs.map((v) => round2(v)) });
      log(
        `${n === 0 ? 'warm-up round' : `round ${n}/${rounds - 1}`}: ${before.sparesReady} spares ready` +
          `${before.settled ? '' : ` (not settled after ${SETTLE_TIMEOUT_MS / 1000} s)`}, TTFB p50 ${round2(percentile(ttfbMs, 50))} max ${round2(Math.max(...ttfbMs))} ms`,
      );
    }
  } finally {
    agent.destroy();
  }
  const [warmup, ...measured] = all;
  const ttfb = measured.flatMap((r) => r.ttfbMs);
  return {
    rounds,
    functions: FUNCTIONS.length,
    samples: ttfb.length,
    ttfbP50Ms: round2(percentile(ttfb, 50)),
    ttfbP99Ms: round2(percentile(ttfb, 99)),
    ttfbMaxMs: ttfb.length > 0 ? round2(Math.max(...ttfb)) : null,
    warmupP50Ms: round2(percentile(warmup.ttfbMs, 50)),
    warmupMaxMs: round2(Math.max(...warmup.ttfbMs)),
    sparesReadyMin: measured.length > 0 ? Math.min(...measured.map((r) => r.sparesReady)) : null,
    unsettledRounds: all.filter((r) => !r.settled).length,
    all,
  };
}

const round2 = (v) => round(v, 2);

/**
 * Until none of c0…c9 has an instance and the spares have settled (all booted, counts still for
 * SETTLE_MS), or SETTLE_TIMEOUT_MS after the reaping. Returns the spares then.
 */
async function waitUntilCold(url) {
  const start = performance.now();
  let reapedAt = null;
  let last = '';
  let since = start;
  for (;;) {
    const { stats } = await getJson(`${url}/_nuvola/functions`);
    const now = performance.now();
    const reaped = FUNCTIONS.every((fn) => {
      const f = stats.functions[fn] ?? { busy: 0, idle: 0 };
      return f.busy === 0 && f.idle === 0;
    });
    const counts = `${stats.spares}/${stats.sparesReady}`;
    if (counts !== last) [last, since] = [counts, now];
    if (reaped) {
      reapedAt ??= now;
      const settled = stats.spares === stats.sparesReady && now - since >= SETTLE_MS;
      if (settled || now - reapedAt >= SETTLE_TIMEOUT_MS) {
        return { sparesReady: stats.sparesReady, spares: stats.spares, settled, waitedMs: Math.round(now - start) };
      }
    } else if (now - start >= REAP_TIMEOUT_MS) {
      throw new Error(`c0…c9 still have instances after ${REAP_TIMEOUT_MS} ms: ${JSON.stringify(stats)}`);
    }
    await sleep(POLL_MS);
  }
}
