/**
 * Start-up: from spawning `node bin/nuvola.js dev bench/app` to its "Nuvola ready" line, and to
 * its first answer on /_nuvola/health. Each start gets an empty state directory, so each
 * includes bundling the app (a first `nuvola dev`, or one after a change).
 */
import { startNuvola, stopChild } from '../lib/children.js';
import { get } from '../lib/http.js';
import { median, round } from '../lib/stats.js';

export async function measureReady({ appDir, starts }) {
  const ready = [];
  const health = [];
  const reported = [];
  for (let i = 0; i < starts; i++) {
    const nuvola = await startNuvola(appDir);
    try {
      const res = await get(`${nuvola.url}/_nuvola/health`);
      if (res.status !== 200) throw new Error(`GET /_nuvola/health: ${res.status} ${res.body}`);
      health.push(performance.now() - nuvola.spawnedAt);
      ready.push(nuvola.readyMs);
      reported.push(nuvola.reportedMs);
    } finally {
      await stopChild(nuvola.child);
    }
  }
  return {
    starts,
    readyMs: round(median(ready), 1),
    healthMs: round(median(health), 1),
    // What Nuvola prints itself: from its `dev` command's start, so without Node's own boot.
    reportedMs: median(reported),
    allReadyMs: ready.map((v) => round(v, 1)),
  };
}
