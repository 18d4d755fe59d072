/**
 * Event routing alone: events matched against a bus's rules (`RuleSet` of `src/core/events`), with
 * 1, 100 and 1,000 rules of mixed operators over 50 sources, events of those sources. Events/s and the
 * matching cost per event; the target is a cost nearly flat from 100 to 1,000 rules.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { ROOT } from '../lib/children.js';
import { round } from '../lib/stats.js';

const SOURCES = 50;

export async function measurePatterns({ events, log }) {
  const out = path.join(ROOT, 'node_modules', '.cache', 'nuvola-bench', 'patterns.mjs');
  mkdirSync(path.dirname(out), { recursive: true });
  await build({ stdin: { contents: "export { RuleSet } from './src/core/events/rule-set.ts'; export { compilePattern } from './src/core/events/pattern.ts';", resolveDir: ROOT, loader: 'ts' }, bundle: true, platform: 'node', format: 'esm', outfile: out, logLevel: 'warning' });
  const { RuleSet, compilePattern } = await import(pathToFileURL(out).href);
  const sample = Array.from({ length: 1000 }, (_, i) => ({
    version: '0',
    id: String(i),
    source: `app.service${i % SOURCES}`,
    'detail-type': i % 3 === 0 ? 'Order Placed' : 'Order Shipped',
    account: '000000000000',
    time: '2026-01-01T00:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail: { total: i % 500, currency: i % 2 ? 'EUR' : 'USD', ip: `10.0.${i % 256}.1`, items: [{ sku: `a-${i % 10}` }, { sku: `b-${i % 7}` }] },
  }));
  const results = [];
  for (const n of [1, 100, 1000]) {
    const rules = new RuleSet();
    for (let r = 0; r < n; r++) rules.add(`r${r}`, compilePattern(ruleOf(r)));
    log(`event routing: ${events} events against ${n} rules`);
    let matched = 0;
    const started = performance.now();
    for (let i = 0; i < events; i++) matched += rules.match(sample[i % sample.length]).length;
    const seconds = (performance.now() - started) / 1000;
    results.push({ rules: n, perSec: round(events / seconds, 0), usPerEvent: round((seconds * 1e6) / events, 2), matched });
  }
  return { events, results };
}

/** Rule `r`: one source, and a condition of one of the operators on the detail. */
function ruleOf(r) {
  const source = [`app.service${r % SOURCES}`];
  switch (r % 6) {
    case 0: return { source, 'detail-type': ['Order Placed'] };
    case 1: return { source, detail: { total: [{ numeric: ['>', r % 400, '<=', 500] }] } };
    case 2: return { source, detail: { currency: [{ 'anything-but': ['GBP', 'JPY'] }] } };
    case 3: return { source, detail: { items: { sku: [{ prefix: `a-${r % 10}` }] } } };
    case 4: return { source, detail: { ip: [{ cidr: `10.0.${r % 256}.0/24` }] } };
    default: return { source, 'detail-type': [{ wildcard: 'Order *' }], detail: { currency: [{ 'equals-ignore-case': 'eur' }] } };
  }
}
