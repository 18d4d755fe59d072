/**
 * Throughput and latency of `GET /hello` through Nuvola against the bare server, under the same
 * load: once with `connections` connections, once with one (latency without queueing).
 */
import { runLoad } from '../lib/load.js';
import { round } from '../lib/stats.js';

const WARMUP_S = 2;

export async function measureThroughput({ bareUrl, floorUrl, nuvolaUrl, connections, durationS, log }) {
  log(`warm-up ${WARMUP_S} s each (JIT, and Nuvola scaling out to ${connections} instances)`);
  await runLoad({ url: bareUrl, connections, durationS: WARMUP_S });
  await runLoad({ url: floorUrl, connections, durationS: WARMUP_S });
  await runLoad({ url: nuvolaUrl, connections, durationS: WARMUP_S });
  const pairs = {};
  for (const c of [...new Set([connections, 1])]) {
    log(`${c} connection(s): bare ${durationS} s, fork+IPC floor ${durationS} s, then Nuvola ${durationS} s`);
    const bare = await runLoad({ url: bareUrl, connections: c, durationS });
    const floor = await runLoad({ url: floorUrl, connections: c, durationS });
    const nuvola = await runLoad({ url: nuvolaUrl, connections: c, durationS });
    pairs[`c${c}`] = { ...compare(bare, nuvola), floor, floorRatio: ratio(floor, bare), nuvolaToFloor: ratio(nuvola, floor) };
  }
  return pairs;
}

const ratio = (a, b) => (b.reqPerSec > 0 ? round(a.reqPerSec / b.reqPerSec, 3) : null);

function compare(bare, nuvola) {
  return {
    bare,
    nuvola,
    ratio: bare.reqPerSec > 0 ? round(nuvola.reqPerSec / bare.reqPerSec, 3) : null,
    addedP50Ms: round(nuvola.p50Ms - bare.p50Ms, 3),
    addedP99Ms: round(nuvola.p99Ms - bare.p99Ms, 3),
  };
}
