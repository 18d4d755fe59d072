/**
 * Start-up: from spawning `node bin/nimbus.js dev bench/app` to its "Nimbus ready" line, and to
 * its first answer on /_nimbus/health. Each start gets an empty state directory, so each
 * includes bundling the app (a first `nimbus dev`, or one after a change).
 */
import { startNimbus, stopChild } from '../lib/children.js';
import { get } from '../lib/http.js';
import { median, round } from '../lib/stats.js';

export async function measureReady({ appDir, starts }) {
  const ready = [];
  const health = [];
  const reported = [];
  for (let i = 0; i < starts; i++) {
    const nimbus = await startNimbus(appDir);
    try {
      const res = await get(`${nimbus.url}/_nimbus/health`);
      if (res.status !== 200) throw new Error(`GET /_nimbus/health: ${res.status} ${res.body}`);
      health.push(performance.now() - nimbus.spawnedAt);
      ready.push(nimbus.readyMs);
      reported.push(nimbus.reportedMs);
    } finally {
      await stopChild(nimbus.child);
    }
  }
  return {
    starts,
    readyMs: round(median(ready), 1),
    healthMs: round(median(health), 1),
    // What Nimbus prints itself: from its `dev` command's start, so without Node's own boot.
    reportedMs: median(reported),
    allReadyMs: ready.map((v) => round(v, 1)),
  };
}
