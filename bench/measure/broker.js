/**
 * The embedded Broker alone — `SqliteBroker`, the queue behind asynchronous invocations, in a file of
 * its own — against BullMQ on the local Redis, in the same run: messages published in batches of 10
 * while a consumer pulls batches of 10 and acknowledges them, from the first publish to the last
 * acknowledgement. BullMQ is installed like the peers (cached under the OS temp dir) and skipped with
 * the reason when it cannot be installed or Redis does not answer at REDIS_URL (127.0.0.1:6379).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { makeTempDir, ROOT } from '../lib/children.js';
import { install } from '../lib/peers.js';
import { round } from '../lib/stats.js';

const BATCH = 10;
const BODY = JSON.stringify({ order: 1, pad: 'x'.repeat(100) });

export async function measureBroker({ messages, log }) {
  const broker = await measureSqliteBroker(messages, log);
  const bullmq = await measureBullmq(messages, log).catch((err) => ({ skipped: String(err.message ?? err).split('\n')[0] }));
  return { messages, broker, bullmq, ratio: bullmq.perSec ? round(broker.perSec / bullmq.perSec, 2) : null };
}

async function measureSqliteBroker(messages, log) {
  // Bundled where Node finds the project's node_modules (better-sqlite3 stays external).
  const out = path.join(ROOT, 'node_modules', '.cache', 'nuvola-bench', 'sqlite-broker.mjs');
  mkdirSync(path.dirname(out), { recursive: true });
  await build({
    entryPoints: [path.join(ROOT, 'src/drivers/embedded/sqlite-broker.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: out,
    external: ['better-sqlite3', 'better-sqlite3-v13'],
    logLevel: 'warning',
  });
  const { SqliteBroker } = await import(pathToFileURL(out).href);
  const dir = makeTempDir('broker');
  const clock = { now: () => Date.now(), setTimer: (ms, fn) => { const t = setTimeout(fn, ms); return () => clearTimeout(t); } };
  const broker = new SqliteBroker(path.join(dir, 'broker.db'), clock);
  await broker.ensureQueue('bench');
  log(`Broker (SQLite): ${messages} messages, batches of ${BATCH}`);
  const started = performance.now();
  const producing = (async () => {
    // Ten batches in flight: the group commit writes them together.
    for (let sent = 0; sent < messages; ) {
      const round = [];
      for (let i = 0; i < 10 && sent < messages; i++, sent += BATCH) round.push(broker.publish('bench', Array.from({ length: Math.min(BATCH, messages - sent) }, () => ({ body: BODY }))));
      await Promise.all(round);
    }
  })();
  let done = 0;
  while (done < messages) {
    const got = await broker.pull('bench', { max: BATCH, visibilityMs: 30_000, waitMs: 1_000 });
    await broker.ack('bench', got.map((d) => d.receipt));
    done += got.length;
  }
  await producing;
  const seconds = (performance.now() - started) / 1000;
  await broker.close();
  rmSync(dir, { recursive: true, force: true });
  return { perSec: round(messages / seconds, 0) };
}

async function measureBullmq(messages, log) {
  const redis = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  await reachable(redis.hostname, Number(redis.port || 6379));
  const dir = await install(['bullmq@5'], log);
  const requireThere = createRequire(path.join(dir, 'package.json'));
  const { Queue, Worker } = requireThere('bullmq');
  const connection = { host: redis.hostname, port: Number(redis.port || 6379) };
  const name = `nuvola-bench-${process.pid}`;
  const queue = new Queue(name, { connection });
  await queue.obliterate({ force: true }).catch(() => undefined);
  log(`BullMQ: ${messages} jobs, added in batches of ${BATCH}, a worker of concurrency ${BATCH}`);
  let done = 0;
  let finish;
  const finished = new Promise((resolve) => (finish = resolve));
  const started = performance.now();
  const worker = new Worker(name, async () => undefined, { connection, concurrency: BATCH, removeOnComplete: { count: 0 } });
  worker.on('completed', () => {
    if (++done === messages) finish();
  });
  for (let sent = 0; sent < messages; ) {
    const round = [];
    for (let i = 0; i < 10 && sent < messages; i++, sent += BATCH) {
      round.push(queue.addBulk(Array.from({ length: Math.min(BATCH, messages - sent) }, () => ({ name: 'job', data: BODY, opts: { removeOnComplete: true } }))));
    }
    await Promise.all(round);
  }
  await finished;
  const seconds = (performance.now() - started) / 1000;
  await worker.close();
  await queue.obliterate({ force: true }).catch(() => undefined);
  await queue.close();
  const { version } = requireThere('bullmq/package.json');
  return { perSec: round(messages / seconds, 0), version };
}

function reachable(host, port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, timeout: 1_000 });
    socket.once('connect', () => (socket.destroy(), resolve()));
    socket.once('timeout', () => (socket.destroy(), reject(new Error(`Redis at ${host}:${port} does not answer`))));
    socket.once('error', (err) => reject(new Error(`Redis at ${host}:${port}: ${err.message}`)));
  });
}
