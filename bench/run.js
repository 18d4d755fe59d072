/**
 * `npm run bench`: how much Nuvola costs over a bare Node HTTP server and where it stands among
 * peer simulators, how it takes a burst when cold, and how fast it starts, cold-starts (one at a
 * time and ten at once), reloads and how small its idle instances are. Prints a table and writes
 * bench/results/<timestamp>.json and bench/results/latest.json. See bench/README.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startChild, startNuvola, stopAll, stopChild } from './lib/children.js';
import { closeConnections } from './lib/http.js';
import { startPeers } from './lib/peers.js';
import { measureBroker } from './measure/broker.js';
import { measureBurst } from './measure/burst.js';
import { measureColdStarts, IDLE_TIMEOUT_MS } from './measure/cold-start.js';
import { measureIdleMemory } from './measure/memory.js';
import { FUNCTIONS, measureParallelColdStarts } from './measure/parallel-cold.js';
import { measurePatterns } from './measure/patterns.js';
import { measureReady } from './measure/ready.js';
import { measureReload } from './measure/reload.js';
import { measureSite } from './measure/site.js';
import { measureSqs } from './measure/sqs.js';
import { measureThroughput } from './measure/throughput.js';
import { formatTable, peerVersions, tableRows, WORKER_FLOOR_THREADS } from './report.js';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const APP_DIR = path.join(BENCH_DIR, 'app');
const MANY_APP_DIR = path.join(BENCH_DIR, 'app-many');
const RESULTS_DIR = path.join(BENCH_DIR, 'results');

function positiveInt(name, fallback, min = 1) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}, got "${raw}"`);
  return n;
}

const config = Object.freeze({
  durationS: positiveInt('BENCH_DURATION', 10),
  connections: positiveInt('BENCH_CONNECTIONS', 50),
  burstS: positiveInt('BENCH_BURST_S', 10),
  coldStarts: positiveInt('BENCH_COLD', 60),
  // The first round is a warm-up: at least one more is measured.
  parallelRounds: positiveInt('BENCH_PARALLEL_ROUNDS', 6, 2),
  // Nuvola' own default; the cold-start loop waits for at least this many booted spares.
  spares: Number(process.env.NUVOLA_SPARES || 2),
  brokerMessages: positiveInt('BENCH_BROKER_MESSAGES', 50_000),
  sqsMessages: positiveInt('BENCH_SQS_MESSAGES', 5_000),
  sqsHops: positiveInt('BENCH_SQS_HOPS', 50),
  patternEvents: positiveInt('BENCH_PATTERN_EVENTS', 200_000),
  readyStarts: 5,
  reloads: 3,
});

const log = (msg) => process.stderr.write(`bench: ${msg}\n`);

async function main() {
  const startedAt = new Date();
  const loadBefore = os.loadavg();
  log(
    `${config.durationS} s per load run, ${config.connections} connections, ${config.burstS} s of burst, ` +
      `${config.coldStarts} cold starts, ${config.parallelRounds} rounds of ${FUNCTIONS.length} at once`,
  );

  const [bare, floor, workerFloor, nuvola, peers] = await Promise.all([
    startChild([path.join(BENCH_DIR, 'bare-server.js')], { ready: /bare server at (\S+)/, ipc: true }),
    startChild([path.join(BENCH_DIR, 'ipc-floor-server.js'), String(config.connections)], { ready: /ipc floor server at (\S+)/, ipc: true }),
    startChild([path.join(BENCH_DIR, 'worker-floor-server.js'), String(WORKER_FLOOR_THREADS)], { ready: /worker floor server at (\S+)/, ipc: true }),
    startNuvola(APP_DIR),
    startPeers({ log }),
  ]);
  const bareUrl = bare.match[1];
  log(`bare server ${bareUrl}, Nuvola ${nuvola.url}`);

  log('idle memory of a warm `hello` instance');
  const memory = await measureIdleMemory({ nuvola, warmRequests: 5 });
  const throughput = await measureThroughput({
    bareUrl,
    floorUrl: floor.match[1],
    workerFloorUrl: workerFloor.match[1],
    nuvolaUrl: `${nuvola.url}/hello`,
    nuvola64Url: `${nuvola.url}/hello64`,
    peers,
    connections: config.connections,
    durationS: config.durationS,
    log,
  });
  const memoryAfterLoad = await measureIdleMemory({ nuvola, warmRequests: 0 });
  await Promise.all([stopChild(bare.child), stopChild(floor.child), stopChild(workerFloor.child), stopChild(nuvola.child), ...peers.filter((p) => p.stop).map((p) => p.stop())]);

  log(`burst: ${config.connections} connections on a Nuvola just ready, ${config.burstS} s`);
  const burst = await measureBurst({ appDir: APP_DIR, connections: config.connections, durationS: config.burstS });

  log(`cold starts (NUVOLA_IDLE_TIMEOUT_MS=${IDLE_TIMEOUT_MS})`);
  const coldEnv = { NUVOLA_IDLE_TIMEOUT_MS: String(IDLE_TIMEOUT_MS) };
  const coldNuvola = await startNuvola(APP_DIR, coldEnv);
  const cold = await measureColdStarts({ nuvola: coldNuvola, count: config.coldStarts, spares: config.spares, log });
  await stopChild(coldNuvola.child);

  // A Nuvola of its own: the sequential cold starts would have grown its spare pool already.
  log(`${FUNCTIONS.length} cold starts at once, ${config.parallelRounds} rounds (the first a warm-up)`);
  const parallelNuvola = await startNuvola(MANY_APP_DIR, coldEnv);
  const parallelCold = await measureParallelColdStarts({ nuvola: parallelNuvola, rounds: config.parallelRounds, log });
  await stopChild(parallelNuvola.child);

  log(`ready time (${config.readyStarts} starts)`);
  const ready = await measureReady({ appDir: APP_DIR, starts: config.readyStarts });
  log(`reload time (${config.reloads} reloads)`);
  const reload = await measureReload({ appDir: APP_DIR, times: config.reloads });

  const site = await measureSite({ benchDir: BENCH_DIR, connections: config.connections, durationS: config.durationS, log });

  log('the Broker alone, and BullMQ on Redis');
  const broker = await measureBroker({ messages: config.brokerMessages, log });
  const patterns = await measurePatterns({ events: config.patternEvents, log });
  const sqs = await measureSqs({ appDir: path.join(BENCH_DIR, 'app-queues'), messages: config.sqsMessages, hops: config.sqsHops, log });

  const results = { config, throughput, burst, cold, parallelCold, memory, memoryAfterLoad, ready, reload, site, broker, sqs, patterns };
  const rows = tableRows(results);
  const report = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: { node: process.version, platform: `${os.platform()} ${os.release()}`, cpus: os.cpus().length, loadBefore, loadAfter: os.loadavg() },
    ...results,
    summary: rows,
  };
  process.stdout.write(`\n${formatTable(rows)}\n${peerVersions(results)}\n\n`);
  warnAboutErrors(results);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${startedAt.toISOString().replace(/:/g, '-')}.json`);
  const json = `${JSON.stringify(report, null, 2)}\n`;
  writeFileSync(file, json);
  writeFileSync(path.join(RESULTS_DIR, 'latest.json'), json);
  log(`wrote ${path.relative(process.cwd(), file)} (and latest.json)`);
}

/** Every load run that saw an error, a timeout or an answer other than 2xx. */
function warnAboutErrors({ throughput: { many, one }, burst }) {
  const runs = [
    ...['bare', 'floor', 'workerFloor', 'nuvola', 'nuvola64'].map((k) => [`${k}, ${many.connections} conn`, many[k]]),
    ...many.peers.filter((p) => !p.skipped).map((p) => [`${p.name}, ${many.connections} conn`, p]),
    ...['bare', 'floor', 'nuvola'].map((k) => [`${k}, 1 conn`, one[k]]),
    ['burst on a cold Nuvola', burst],
  ];
  for (const [name, r] of runs) {
    if (r.errors > 0 || r.non2xx > 0) {
      // autocannon counts timeouts among the errors.
      log(`WARNING ${name}: ${r.errors} errors (${r.timeouts} of them timeouts), ${r.non2xx} non-2xx of ${r.requests}; status codes ${JSON.stringify(r.statusCodes)}`);
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
