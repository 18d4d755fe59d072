/**
 * Memory of idle warm instances of `hello`, and of idle spares for comparison. Before the load
 * runs, only `hello` has been invoked on the Nuvola measured here, so every loaded instance is one
 * of `hello`'s; after it, they are `hello`'s and `hello64`'s.
 */
import { listInstances, memoryOf } from '../lib/instances.js';
import { get, sleep } from '../lib/http.js';
import { median, round } from '../lib/stats.js';

/** Lets the last response's garbage and timers settle: "idle", not "just finished a request". */
const SETTLE_MS = 500;

export async function measureIdleMemory({ nuvola, warmRequests }) {
  for (let i = 0; i < warmRequests; i++) {
    const res = await get(`${nuvola.url}/hello`);
    if (res.status !== 200) throw new Error(`GET /hello: ${res.status} ${res.body}`);
  }
  await sleep(SETTLE_MS);
  const instances = listInstances(nuvola.child.pid);
  const loaded = instances.filter((i) => i.loaded).map((i) => memoryOf(i.pid));
  const spares = instances.filter((i) => !i.loaded).map((i) => memoryOf(i.pid));
  if (loaded.length === 0) throw new Error(`no loaded instance among Nuvola' children (${instances.length} instance processes)`);
  return {
    instances: loaded.length,
    pssMb: round(median(loaded.map((m) => m.pssMb)), 1),
    rssMb: round(median(loaded.map((m) => m.rssMb)), 1),
    spares: spares.length,
    sparePssMb: round(median(spares.map((m) => m.pssMb)), 1),
    spareRssMb: round(median(spares.map((m) => m.rssMb)), 1),
  };
}
