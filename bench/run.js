/**
 * `npm run bench`: how much Nuvola costs over a bare Node HTTP server, and how fast it starts,
 * cold-starts, reloads and how small its idle instances are. Prints a table and writes
 * bench/results/<timestamp>.json and bench/results/latest.json. See bench/README.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startChild, startNuvola, stopAll, stopChild } from './lib/children.js';
import { closeConnections } from './lib/http.js';
import { measureColdStarts, IDLE_TIMEOUT_MS } from './measure/cold-start.js';
import { measureIdleMemory } from './measure/memory.js';
import { measureReady } from './measure/ready.js';
import { measureReload } from './measure/reload.js';
import { measureThroughput } from './measure/throughput.js';
import { formatTable, tableRows } from './report.js';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const APP_DIR = path.join(BENCH_DIR, 'app');
const RESULTS_DIR = path.join(BENCH_DIR, 'results');

function positiveInt(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return n;
}

const config = Object.freeze({
  durationS: positiveInt('BENCH_DURATION', 10),
  connections: positiveInt('BENCH_CONNECTIONS', 10),
  coldStarts: positiveInt('BENCH_COLD', 60),
  // Nuvola' own default; the cold-start loop waits for the pool to be back at this size.
  spares: Number(process.env.NUVOLA_SPARES || 2),
  readyStarts: 5,
  reloads: 3,
});

const log = (msg) => process.stderr.write(`bench: ${msg}\n`);

async function main() {
  const startedAt = new Date();
  const loadBefore = os.loadavg();
  log(`${config.durationS} s per load run, ${config.connections} connections, ${config.coldStarts} cold starts`);

  const bare = await startChild([path.join(BENCH_DIR, 'bare-server.js')], { ready: /bare server at (\S+)/, ipc: true });
  const floor = await startChild([path.join(BENCH_DIR, 'ipc-floor-server.js'), String(config.connections)], { ready: /ipc floor server at (\S+)/, ipc: true });
  const nuvola = await startNuvola(APP_DIR);
  const bareUrl = bare.match[1];
  log(`bare server ${bareUrl}, Nuvola ${nuvola.url}`);

  log('idle memory of a warm `hello` instance');
  const memory = await measureIdleMemory({ nuvola, warmRequests: 5 });
  const throughput = await measureThroughput({
    bareUrl,
    floorUrl: floor.match[1],
    nuvolaUrl: `${nuvola.url}/hello`,
    connections: config.connections,
    durationS: config.durationS,
    log,
  });
  const memoryAfterLoad = await measureIdleMemory({ nuvola, warmRequests: 0 });
  await Promise.all([stopChild(bare.child), stopChild(floor.child), stopChild(nuvola.child)]);

  log(`cold starts (NUVOLA_IDLE_TIMEOUT_MS=${IDLE_TIMEOUT_MS})`);
  const coldNuvola = await startNuvola(APP_DIR, { NUVOLA_IDLE_TIMEOUT_MS: String(IDLE_TIMEOUT_MS) });
  const cold = await measureColdStarts({ nuvola: coldNuvola, count: config.coldStarts, spares: config.spares, log });
  await stopChild(coldNuvola.child);

  log(`ready time (${config.readyStarts} starts)`);
  const ready = await measureReady({ appDir: APP_DIR, starts: config.readyStarts });
  log(`reload time (${config.reloads} reloads)`);
  const reload = await measureReload({ appDir: APP_DIR, times: config.reloads });

  const results = { config, throughput, cold, memory, memoryAfterLoad, ready, reload };
  const rows = tableRows(results);
  const report = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: { node: process.version, platform: `${os.platform()} ${os.release()}`, cpus: os.cpus().length, loadBefore, loadAfter: os.loadavg() },
    ...results,
    summary: rows,
  };
  process.stdout.write(`\n${formatTable(rows)}\n\n`);
  warnAboutErrors(throughput);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${startedAt.toISOString().replace(/:/g, '-')}.json`);
  const json = `${JSON.stringify(report, null, 2)}\n`;
  writeFileSync(file, json);
  writeFileSync(path.join(RESULTS_DIR, 'latest.json'), json);
  log(`wrote ${path.relative(process.cwd(), file)} (and latest.json)`);
}

function warnAboutErrors(throughput) {
  for (const [name, pair] of Object.entries(throughput)) {
    for (const side of ['bare', 'nuvola']) {
      const r = pair[side];
      if (r.errors > 0 || r.non2xx > 0 || r.timeouts > 0) {
        log(`WARNING ${side} ${name}: ${r.errors} errors, ${r.timeouts} timeouts, ${r.non2xx} non-2xx of ${r.requests}; status codes ${JSON.stringify(r.statusCodes)}`);
      }
    }
  }
}

try {
  await main();
} catch (err) {
  process.exitCode = 1;
  process.stderr.write(`bench failed: ${err.stack ?? err}\n`);
} finally {
  closeConnections();
  await stopAll();
}
