/**
 * A third baseline: the classic model (one request at a time per execution environment, frozen
 * between requests) with the environments as worker threads of ONE host process instead of one
 * process each. The gateway hands requests to the host over IPC, one message per turn of its event
 * loop; the host gives each to a free worker, which blocks in `Atomics.wait` between requests and
 * reads its request with `receiveMessageOnPort` when woken. It does nothing else (no event shape, no
 * logs, no limits): what that model costs on this machine, against the fork+IPC floor beside it.
 */
import http from 'node:http';
import { fork } from 'node:child_process';
import { MessageChannel, Worker, isMainThread, receiveMessageOnPort, workerData } from 'node:worker_threads';

const EVENT = JSON.stringify({ version: '2.0', rawPath: '/hello', headers: Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`header-${i}`, 'v'.repeat(24)])) });

if (!isMainThread) {
  const { flag, port } = workerData;
  for (;;) {
    Atomics.wait(flag, 0, 0); // frozen until the host hands over a request
    Atomics.store(flag, 0, 0);
    const got = receiveMessageOnPort(port);
    if (!got) continue;
    JSON.parse(got.message.payload);
    port.postMessage({ id: got.message.id, payload: JSON.stringify({ statusCode: 200, body: 'hello' }) });
  }
} else if (process.argv[2] === 'host') {
  const idle = [];
  const queue = [];
  let outbox = [];
  const flush = () => {
    process.send(outbox);
    outbox = [];
  };
  const hand = (w, m) => {
    w.port.postMessage(m);
    Atomics.store(w.flag, 0, 1);
    Atomics.notify(w.flag, 0);
  };
  for (let i = 0; i < Number(process.argv[3]); i++) {
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const { port1, port2 } = new MessageChannel();
    new Worker(new URL(import.meta.url), { workerData: { flag, port: port2 }, transferList: [port2] }).unref();
    const w = { port: port1, flag };
    port1.on('message', (r) => {
      if (outbox.length === 0) setImmediate(flush);
      outbox.push(r);
      const next = queue.shift();
      if (next) hand(w, next);
      else idle.push(w);
    });
    idle.push(w);
  }
  process.on('message', (batch) => {
    for (const m of batch) {
      const w = idle.pop();
      if (w) hand(w, m);
      else queue.push(m);
    }
  });
  process.on('disconnect', () => process.exit(0));
} else {
  const host = fork(new URL(import.meta.url).pathname, ['host', process.argv[2] ?? '8']);
  const pending = new Map();
  let seq = 0;
  let outbox = [];
  const flush = () => {
    host.send(outbox);
    outbox = [];
  };
  host.on('message', (batch) => {
    for (const r of batch) {
      const res = pending.get(r.id);
      pending.delete(r.id);
      const value = JSON.parse(r.payload);
      res.writeHead(value.statusCode, { 'content-type': 'text/plain' });
      res.end(value.body);
    }
  });
  const server = http.createServer((req, res) => {
    const id = seq++;
    pending.set(id, res);
    if (outbox.length === 0) setImmediate(flush);
    outbox.push({ id, payload: EVENT });
  });
  server.keepAliveTimeout = 65_000;
  server.listen(0, '127.0.0.1', () => process.stdout.write(`worker floor server at http://127.0.0.1:${server.address().port}\n`));
  process.on('disconnect', () => {
    host.kill();
    process.exit(0);
  });
}
