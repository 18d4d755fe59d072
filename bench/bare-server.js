/**
 * The baseline: the least a Node HTTP server can do to answer like the bench's `hello` function.
 * Runs as its own process so that it does not share an event loop with the load generator.
 */
import http from 'node:http';

const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('hello');
});
// Match Nuvola' keep-alive so that neither side closes connections the other keeps.
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`bare server at http://127.0.0.1:${server.address().port}\n`);
});
// Started by the bench with an IPC channel: when the bench dies, so does this.
process.on('disconnect', () => process.exit(0));
