/**
 * The second baseline: the least a gateway can do that hands each request to another process, as
 * Nuvola does. N forked children answer `hello` over Node's IPC channel, one request in flight per
 * child, the rest queued: Nuvola' process-per-instance model with nothing else (no event shape, no
 * routing, no logs, no limits). Nuvola ÷ this is the overhead of Nuvola itself; this ÷ bare is the
 * cost of the model on this machine.
 */
import http from 'node:http';
import { fork } from 'node:child_process';

if (process.argv[2] === 'child') {
  process.on('message', (m) => process.send({ id: m.id, body: 'hello' }));
  process.on('disconnect', () => process.exit(0));
} else {
  const n = Number(process.argv[2] ?? 1);
  const children = Array.from({ length: n }, () => fork(new URL(import.meta.url).pathname, ['child']));
  const idle = [...children];
  const queue = [];
  const pending = new Map();
  let seq = 0;
  const send = (child, req, res) => {
    const id = seq++;
    pending.set(id, res);
    child.send({ id, method: req.method, url: req.url, headers: req.headers });
  };
  for (const child of children) {
    child.on('message', (m) => {
      const res = pending.get(m.id);
      pending.delete(m.id);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(m.body);
      const next = queue.shift();
      if (next) send(child, ...next);
      else idle.push(child);
    });
  }
  const server = http.createServer((req, res) => {
    const child = idle.pop();
    if (child) send(child, req, res);
    else queue.push([req, res]);
  });
  server.keepAliveTimeout = 65_000;
  server.listen(0, '127.0.0.1', () => process.stdout.write(`ipc floor server at http://127.0.0.1:${server.address().port}\n`));
  process.on('disconnect', () => {
    for (const c of children) c.kill();
    process.exit(0);
  });
}
