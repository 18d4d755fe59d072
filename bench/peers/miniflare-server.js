/**
 * The Miniflare peer: a Worker answering `hello` as text/plain, like the bench app's handler, in
 * workerd under Miniflare. Its own process, so that neither its CPU nor its event loop is the
 * bench's. Argument: the directory miniflare is installed in (see lib/peers.js).
 */
import { createRequire } from 'node:module';
import path from 'node:path';

const { Miniflare } = createRequire(path.join(process.argv[2], 'package.json'))('miniflare');

const mf = new Miniflare({
  modules: true,
  script: `export default { fetch() { return new Response('hello', { headers: { 'content-type': 'text/plain' } }); } };`,
  // Fixed, so that a newer Miniflare does not change what runs; any workerd of Miniflare 4 knows it.
  compatibilityDate: '2025-01-01',
  host: '127.0.0.1',
  port: 0,
});
const url = await mf.ready;
process.stdout.write(`miniflare peer at ${new URL('/hello', url)}\n`);
// Started with an IPC channel: when the bench dies, so does this. Miniflare's own exit hook
// then stops workerd (it does on SIGTERM/SIGINT too).
process.on('disconnect', () => process.exit(0));
