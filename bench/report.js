/** The targets the numbers are held to, and the table `npm run bench` prints. */

/** A row without a target is context for the rows with one. */
export function tableRows(r) {
  const c = r.throughput[`c${r.config.connections}`];
  const c1 = r.throughput.c1;
  const rows = [
    [`bare req/s (${c.bare.connections} conn)`, c.bare.reqPerSec, ''],
    [`Nuvola req/s (${c.nuvola.connections} conn)`, c.nuvola.reqPerSec, ''],
    ['Nuvola ÷ bare req/s', c.ratio, '', ['≥', 0.6]],
    [`fork+IPC floor req/s (${c.bare.connections} children)`, c.floor.reqPerSec, ''],
    ['floor ÷ bare (cost of process-per-instance here)', c.floorRatio, ''],
    ['Nuvola ÷ floor (cost of Nuvola itself)', c.nuvolaToFloor, ''],
    ['p50 / p99 bare', `${c.bare.p50Ms} / ${c.bare.p99Ms}`, 'ms'],
    ['p50 / p99 Nuvola', `${c.nuvola.p50Ms} / ${c.nuvola.p99Ms}`, 'ms'],
    ['p50 added', c.addedP50Ms, 'ms'],
    ['Nuvola errors / non-2xx', `${c.nuvola.errors} / ${c.nuvola.non2xx}`, ''],
    ['req/s bare / Nuvola (1 conn)', `${c1.bare.reqPerSec} / ${c1.nuvola.reqPerSec}`, ''],
    ['p50 bare / Nuvola (1 conn)', `${c1.bare.p50Ms} / ${c1.nuvola.p50Ms}`, 'ms'],
    ['p50 added (1 conn)', c1.addedP50Ms, 'ms', ['≤', 0.5]],
    ['p99 added (1 conn)', c1.addedP99Ms, 'ms'],
    ['Nuvola errors / non-2xx (1 conn)', `${c1.nuvola.errors} / ${c1.nuvola.non2xx}`, ''],
    [`cold start TTFB p50 (n=${r.cold.count})`, r.cold.ttfbP50Ms, 'ms', ['≤', 10]],
    ['cold start TTFB p99', r.cold.ttfbP99Ms, 'ms', ['≤', 25]],
    ['warm TTFB p50, same function', r.cold.warmTtfbP50Ms, 'ms'],
    [`Init Duration p50 / p99 (${r.cold.reportsWithInit} REPORTs)`, `${r.cold.initP50Ms} / ${r.cold.initP99Ms}`, 'ms'],
    [`idle warm instance PSS (n=${r.memory.instances})`, r.memory.pssMb, 'MB', ['≤', 30]],
    ['idle warm instance RSS', r.memory.rssMb, 'MB'],
    [`idle spare PSS / RSS (n=${r.memory.spares})`, `${r.memory.sparePssMb} / ${r.memory.spareRssMb}`, 'MB'],
    [`idle PSS / RSS after load (n=${r.memoryAfterLoad.instances})`, `${r.memoryAfterLoad.pssMb} / ${r.memoryAfterLoad.rssMb}`, 'MB'],
    [`ready: spawn → "Nuvola ready" (median of ${r.ready.starts})`, r.ready.readyMs, 'ms', ['≤', 300]],
    ['ready: spawn → first /_nuvola/health', r.ready.healthMs, 'ms'],
    ['ready: as Nuvola reports it', r.ready.reportedMs, 'ms'],
    [`reload: write → new body (median of ${r.reload.times})`, r.reload.reloadMs, 'ms', ['≤', 1000]],
  ];
  return rows.map(([metric, value, unit, target]) => ({
    metric,
    value,
    unit,
    target: target ? `${target[0]} ${target[1]}${unit ? ` ${unit}` : ''}` : '',
    met: target ? meets(value, target) : null,
  }));
}

function meets(value, [op, limit]) {
  if (typeof value !== 'number') return false;
  return op === '≥' ? value >= limit : value <= limit;
}

export function formatTable(rows) {
  const cells = rows.map((r) => [r.metric, `${r.value ?? '–'}${r.unit ? ` ${r.unit}` : ''}`, r.target, r.met === null ? '' : r.met ? 'yes' : 'NO']);
  const header = ['metric', 'value', 'target', 'met'];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c) => c.map((s, i) => (i === 1 ? s.padStart(widths[i]) : s.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}
