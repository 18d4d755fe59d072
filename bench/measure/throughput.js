/**
 * Throughput and latency of `GET /hello` through Nuvola, of the same function with
 * `instanceConcurrency: 64` (`GET /hello64`), of the two baselines and of the peers, all under the
 * same load and in the same rounds: first with `connections` connections, then with one (latency
 * without queueing: bare, floor and `hello` only).
 */
import { runLoad } from '../lib/load.js';
import { round } from '../lib/stats.js';

const WARMUP_S = 2;

/**
 * `peers` are `lib/peers.js` entries: a started one is loaded like the others, a skipped one is
 * passed through with its reason.
 */
export async function measureThroughput({ bareUrl, floorUrl, workerFloorUrl, nuvolaUrl, nuvola64Url, peers, connections, durationS, log }) {
  const started = peers.filter((p) => !p.skipped);
  const targets = [
    ['bare', bareUrl],
    ['floor', floorUrl],
    ['workerFloor', workerFloorUrl],
    ['nuvola', nuvolaUrl],
    ['nuvola64', nuvola64Url],
    ...started.map((p) => [p.name, p.url]),
  ];
  log(`warm-up ${WARMUP_S} s each of ${targets.map(([name]) => name).join(', ')} (JIT, and Nuvola scaling out)`);
  for (const [, url] of targets) await runLoad({ url, connections, durationS: WARMUP_S });

  log(`${connections} connections: ${durationS} s each`);
  const at = {};
  for (const [name, url] of targets) at[name] = await runLoad({ url, connections, durationS });
  const peerResults = peers.map((p) => (p.skipped ? p : { name: p.name, versions: p.versions, ...at[p.name], ratio: ratio(at[p.name], at.bare) }));
  const best = peerResults.filter((p) => !p.skipped).sort((a, b) => b.reqPerSec - a.reqPerSec)[0];
  const many = {
    connections,
    bare: at.bare,
    floor: at.floor,
    workerFloor: at.workerFloor,
    nuvola: at.nuvola,
    nuvola64: at.nuvola64,
    peers: peerResults,
    ratio: ratio(at.nuvola, at.bare),
    ratio64: ratio(at.nuvola64, at.bare),
    floorRatio: ratio(at.floor, at.bare),
    workerFloorRatio: ratio(at.workerFloor, at.bare),
    nuvolaToFloor: ratio(at.nuvola, at.floor),
    bestPeer: best?.name ?? null,
    nuvolaToBestPeer: best ? ratio(at.nuvola, best) : null,
    nuvola64ToBestPeer: best ? ratio(at.nuvola64, best) : null,
  };

  log(`1 connection: bare, fork+IPC floor, then Nuvola, ${durationS} s each`);
  const bare = await runLoad({ url: bareUrl, connections: 1, durationS });
  const floor = await runLoad({ url: floorUrl, connections: 1, durationS });
  const nuvola = await runLoad({ url: nuvolaUrl, connections: 1, durationS });
  const one = {
    bare,
    floor,
    nuvola,
    ratio: ratio(nuvola, bare),
    addedP50Ms: round(nuvola.p50Ms - bare.p50Ms, 3),
    addedP99Ms: round(nuvola.p99Ms - bare.p99Ms, 3),
  };
  return { many, one };
}

const ratio = (a, b) => (b.reqPerSec > 0 ? round(a.reqPerSec / b.reqPerSec, 3) : null);
