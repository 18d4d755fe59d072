/** The targets the numbers are held to, and the table `npm run bench` prints. */

/** Worker threads of the worker-thread floor (bench/worker-floor-server.js). */
export const WORKER_FLOOR_THREADS = 8;

/** A row without a target is context for the rows with one. */
export function tableRows(r) {
  const m = r.throughput.many;
  const one = r.throughput.one;
  const { burst: b, parallelCold: pc } = r;
  const measuredRounds = pc.rounds - 1;
  const rows = [
    [`bare req/s (${m.connections} conn)`, m.bare.reqPerSec, ''],
    [`fork+IPC floor req/s (${m.connections} children)`, m.floor.reqPerSec, ''],
    ['floor ÷ bare (cost of process-per-instance here)', m.floorRatio, ''],
    [`worker-thread floor req/s (${WORKER_FLOOR_THREADS} workers in one host process)`, m.workerFloor.reqPerSec, ''],
    ['worker-thread floor ÷ bare (the classic model on threads)', m.workerFloorRatio, ''],
    ['Nuvola /hello req/s (instanceConcurrency 1)', m.nuvola.reqPerSec, ''],
    ['Nuvola ÷ bare', m.ratio, '', ['≥', 0.3]],
    ['Nuvola ÷ floor (cost of Nuvola itself)', m.nuvolaToFloor, ''],
    ['Nuvola (64) /hello64 req/s (instanceConcurrency 64)', m.nuvola64.reqPerSec, ''],
    ['Nuvola (64) ÷ bare', m.ratio64, '', ['≥', 0.5]],
    ...m.peers.map((p) =>
      p.skipped ? [`peer ${p.name}: ${clip(p.skipped, 70)}`, 'skipped', ''] : [`peer ${p.name}: req/s / ÷ bare`, `${p.reqPerSec} / ${p.ratio}`, ''],
    ),
    ...(m.bestPeer
      ? [
          [`Nuvola (64) ÷ best peer (${m.bestPeer})`, m.nuvola64ToBestPeer, '', ['≥', 3]],
          ['Nuvola ÷ best peer', m.nuvolaToBestPeer, ''],
        ]
      : [['Nuvola (64) ÷ best peer', 'no peer started', '']]),
    ['p50 / p99 bare', `${m.bare.p50Ms} / ${m.bare.p99Ms}`, 'ms'],
    ['p50 / p99 Nuvola', `${m.nuvola.p50Ms} / ${m.nuvola.p99Ms}`, 'ms'],
    ['p50 / p99 Nuvola (64)', `${m.nuvola64.p50Ms} / ${m.nuvola64.p99Ms}`, 'ms'],
    ['Nuvola errors (timeouts) / non-2xx', failures(m.nuvola), ''],
    ['Nuvola (64) errors (timeouts) / non-2xx', failures(m.nuvola64), ''],
    ['req/s bare / Nuvola (1 conn)', `${one.bare.reqPerSec} / ${one.nuvola.reqPerSec}`, ''],
    ['p50 bare / Nuvola (1 conn)', `${one.bare.p50Ms} / ${one.nuvola.p50Ms}`, 'ms'],
    ['p50 added (1 conn)', one.addedP50Ms, 'ms', ['≤', 0.5]],
    ['p99 added (1 conn)', one.addedP99Ms, 'ms'],
    ['Nuvola errors (timeouts) / non-2xx (1 conn)', failures(one.nuvola), ''],
    [`burst on a cold app: failed of ${b.requests} (${b.connections} conn, ${b.durationS} s)`, b.failed, '', ['=', 0]],
    ['burst: p99', b.p99Ms, 'ms', ['≤', 250]],
    ['burst: p50', b.p50Ms, 'ms'],
    ['burst: req/s', b.reqPerSec, ''],
    ['burst: instances / spares at the end', `${b.instances} / ${b.spares}`, ''],
    [`cold start TTFB p50 (n=${r.cold.count})`, r.cold.ttfbP50Ms, 'ms', ['≤', 10]],
    ['cold start TTFB p99', r.cold.ttfbP99Ms, 'ms', ['≤', 25]],
    ['warm TTFB p50, same function', r.cold.warmTtfbP50Ms, 'ms'],
    [`Init Duration p50 / p99 (${r.cold.reportsWithInit} REPORTs)`, `${r.cold.initP50Ms} / ${r.cold.initP99Ms}`, 'ms'],
    [`${pc.functions} cold starts at once: TTFB p50 (${measuredRounds} rounds, n=${pc.samples})`, pc.ttfbP50Ms, 'ms', ['≤', 100]],
    [`${pc.functions} at once: TTFB p99`, pc.ttfbP99Ms, 'ms', ['≤', 250]],
    [`${pc.functions} at once, warm-up round: TTFB p50 / max`, `${pc.warmupP50Ms} / ${pc.warmupMaxMs}`, 'ms'],
    [
      `${pc.functions} at once: fewest spares ready before a round${pc.unsettledRounds > 0 ? ` (${pc.unsettledRounds} rounds unsettled)` : ''}`,
      pc.sparesReadyMin,
      '',
    ],
    [`idle warm instance PSS (n=${r.memory.instances})`, r.memory.pssMb, 'MB', ['≤', 30]],
    ['idle warm instance RSS', r.memory.rssMb, 'MB'],
    [`idle spare PSS / RSS (n=${r.memory.spares})`, `${r.memory.sparePssMb} / ${r.memory.spareRssMb}`, 'MB'],
    [`idle PSS / RSS after load, hello and hello64 (n=${r.memoryAfterLoad.instances})`, `${r.memoryAfterLoad.pssMb} / ${r.memoryAfterLoad.rssMb}`, 'MB'],
    [`ready: spawn → "Nuvola ready" (median of ${r.ready.starts})`, r.ready.readyMs, 'ms', ['≤', 300]],
    ['ready: spawn → first /_nuvola/health', r.ready.healthMs, 'ms'],
    ['ready: as Nuvola reports it', r.ready.reportedMs, 'ms'],
    [`reload: write → new body (median of ${r.reload.times})`, r.reload.reloadMs, 'ms', ['≤', 1000]],
    [`site asset (1 KB) GET req/s: static server / Nuvola (${r.site.connections} conn)`, `${r.site.get.bare.reqPerSec} / ${r.site.get.nuvola.reqPerSec}`, ''],
    ['site asset GET: Nuvola ÷ static server', r.site.getRatio, '', ['≥', 0.7]],
    ['site asset revalidation (304) req/s: static server / Nuvola', `${r.site.revalidate.bare.reqPerSec} / ${r.site.revalidate.nuvola.reqPerSec}`, ''],
    ['site asset revalidation: Nuvola ÷ static server', r.site.revalidateRatio, '', ['≥', 0.7]],
    [`Broker (SQLite) msgs/s, publish → pull → ack, batches of 10 (n=${r.broker.messages})`, r.broker.broker.perSec, ''],
    r.broker.bullmq.skipped
      ? ['BullMQ (Redis)', `skipped: ${clip(r.broker.bullmq.skipped, 60)}`, '']
      : [`BullMQ ${r.broker.bullmq.version} jobs/s, add → worker, batches of 10`, r.broker.bullmq.perSec, ''],
    ['Broker ÷ BullMQ', r.broker.ratio, '', ['≥', 2]],
    ...r.patterns.results.map((p) => [`event routing: events/s matched against ${p.rules} rule${p.rules === 1 ? '' : 's'} (µs per event)`, `${p.perSec} (${p.usPerEvent})`, '', ...(p.rules === 100 ? [['≥', 20000]] : [])]),
    ['event routing: cost per event, 1,000 rules ÷ 100 rules', round2(r.patterns.results[2].usPerEvent / r.patterns.results[1].usPerEvent), ''],
    [`SQS API msgs/s, SendMessageBatch → ReceiveMessage → DeleteMessageBatch (n=${r.sqs.messages})`, r.sqs.api.perSec, ''],
    ['SQS API ÷ BullMQ', r.broker.bullmq.perSec ? Math.round((r.sqs.api.perSec / r.broker.bullmq.perSec) * 100) / 100 : 'no BullMQ', '', ['≥', 0.5]],
    [`queue → function msgs/s (burst of ${r.sqs.messages}, batches of 10)`, r.sqs.feed.perSec, ''],
    [`queue → function hop p50 (n=${r.sqs.feed.hops}, one at a time)`, r.sqs.feed.hopP50Ms, 'ms', ['≤', 5]],
    ['queue → function hop p99', r.sqs.feed.hopP99Ms, 'ms'],
  ];
  return rows.map(([metric, value, unit, target]) => ({
    metric,
    value,
    unit,
    target: target ? `${target[0]} ${target[1]}${unit ? ` ${unit}` : ''}` : '',
    met: target ? meets(value, target) : null,
  }));
}

const round2 = (n) => Math.round(n * 100) / 100;

/** autocannon counts timeouts among the errors. */
const failures = (r) => `${r.errors} (${r.timeouts}) / ${r.non2xx}`;

const clip = (s, n) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

function meets(value, [op, limit]) {
  if (typeof value !== 'number') return false;
  if (op === '=') return value === limit;
  return op === '≥' ? value >= limit : value <= limit;
}

/** The peers' releases, for the line under the table. */
export function peerVersions(r) {
  const started = r.throughput.many.peers.filter((p) => !p.skipped);
  return started.length > 0 ? `peers: ${started.map((p) => `${p.name}: ${p.versions}`).join('; ')}` : 'peers: none started';
}

export function formatTable(rows) {
  const cells = rows.map((r) => [r.metric, `${r.value ?? '–'}${r.unit ? ` ${r.unit}` : ''}`, r.target, r.met === null ? '' : r.met ? 'yes' : 'NO']);
  const header = ['metric', 'value', 'target', 'met'];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c) => c.map((s, i) => (i === 1 ? s.padStart(widths[i]) : s.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}
