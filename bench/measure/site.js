/**
 * A static site's asset through Nuvola against a bare Node static file server (../static-server.js)
 * serving the same folder, in the same run: plain GETs of a 1 KB asset, then revalidations (the
 * browser's `If-None-Match`, answered 304), each with `connections` connections.
 */
import path from 'node:path';
import { startChild, startNuvola, stopChild } from '../lib/children.js';
import { runLoad } from '../lib/load.js';
import { round } from '../lib/stats.js';

const ASSET = '/assets/app-4f7a9c1b.js';
const WARMUP_S = 2;

export async function measureSite({ benchDir, connections, durationS, log }) {
  const appDir = path.join(benchDir, 'app-site');
  const [bare, nuvola] = await Promise.all([
    startChild([path.join(benchDir, 'static-server.js'), path.join(appDir, 'public')], { ready: /static server at (\S+)/, ipc: true }),
    startNuvola(appDir),
  ]);
  try {
    const urls = { bare: `${bare.match[1]}${ASSET}`, nuvola: `${nuvola.url}${ASSET}` };
    const etags = {};
    for (const [name, url] of Object.entries(urls)) etags[name] = (await fetch(url)).headers.get('etag');
    log(`site asset: warm-up, then ${durationS} s each of GET and revalidation, bare static server and Nuvola`);
    for (const url of Object.values(urls)) await runLoad({ url, connections, durationS: WARMUP_S });
    const get = {};
    const revalidate = {};
    for (const name of ['bare', 'nuvola']) get[name] = await runLoad({ url: urls[name], connections, durationS });
    for (const name of ['bare', 'nuvola']) revalidate[name] = await runLoad({ url: urls[name], connections, durationS, headers: { 'if-none-match': etags[name] } });
    return {
      connections,
      get,
      revalidate,
      getRatio: ratio(get.nuvola, get.bare),
      revalidateRatio: ratio(revalidate.nuvola, revalidate.bare),
      // Every revalidation must have been a 304, or the figure measures something else.
      notModified: revalidate.nuvola.statusCodes?.['304']?.count ?? 0,
    };
  } finally {
    await Promise.all([stopChild(bare.child), stopChild(nuvola.child)]);
  }
}

const ratio = (a, b) => (b.reqPerSec > 0 ? round(a.reqPerSec / b.reqPerSec, 3) : null);
