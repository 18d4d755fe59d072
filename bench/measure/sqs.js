/**
 * Queues through Nuvola, in the same run as the Broker and BullMQ: the SQS API end to end with the
 * AWS SDK (batches of 10 sent while a consumer receives batches of 10 and deletes them, first send
 * to last delete), and a queue feeding a function: msgs/s of a burst, and the hop — a message's
 * send to its function's start — one message at a time, without queueing.
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { setTimeout as sleep } from 'node:timers/promises';
import { BENCH_CONTROL_TOKEN, startNuvola, stopChild } from '../lib/children.js';
import { percentile, round } from '../lib/stats.js';

const KEY = { accessKeyId: 'AKIABENCHKEY00000001', secretAccessKey: 'bench/secret/of/forty/characters/xxxxxxxx' };

export async function measureSqs({ appDir, messages, hops, log }) {
  const nuvola = await startNuvola(appDir, { NUVOLA_ACCESS_KEY_ID: KEY.accessKeyId, NUVOLA_SECRET_ACCESS_KEY: KEY.secretAccessKey });
  const sqs = new SQSClient({ endpoint: nuvola.url, region: 'us-east-1', credentials: KEY, maxAttempts: 1 });
  const url = (q) => `${nuvola.url}/000000000000/${q}`;
  try {
    log(`SQS API: ${messages} messages, SendMessageBatch → ReceiveMessage → DeleteMessageBatch`);
    const api = await endToEnd(sqs, url('bench'), messages);
    log(`queue → function: ${messages} messages, then ${hops} one at a time`);
    const feed = await feedFunction(sqs, url('feed'), nuvola, messages, hops);
    return { messages, api, feed };
  } finally {
    sqs.destroy();
    await stopChild(nuvola.child);
  }
}

/** Producers and consumers at once, each a loop of requests, as services using a queue run. */
const CLIENTS = 8;

async function endToEnd(sqs, queueUrl, messages) {
  const started = performance.now();
  let toSend = messages;
  const producer = async () => {
    while (toSend > 0) {
      const n = Math.min(10, toSend);
      toSend -= n;
      const Entries = Array.from({ length: n }, (_, i) => ({ Id: `m${i}`, MessageBody: `{"order":${toSend + i}}` }));
      await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries }));
    }
  };
  let done = 0;
  const consumer = async () => {
    while (done < messages) {
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      if (Messages.length === 0) continue;
      await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: Messages.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })) }));
      done += Messages.length;
    }
  };
  await Promise.all([...Array.from({ length: CLIENTS }, producer), ...Array.from({ length: CLIENTS }, consumer)]);
  const seconds = (performance.now() - started) / 1000;
  return { perSec: round(messages / seconds, 0), clients: CLIENTS };
}

async function feedFunction(sqs, queueUrl, nuvola, messages, hops) {
  const hopsSeen = async () => {
    const res = await fetch(`${nuvola.url}/_nuvola/logs?fn=sink&limit=100000`, { headers: { authorization: `Bearer ${BENCH_CONTROL_TOKEN}` } });
    const { records } = await res.json();
    return records.flatMap((r) => r.message.split('\n')).filter((l) => l.includes('hops ')).flatMap((l) => l.slice(l.indexOf('hops ') + 5).trim().split(' ').map(Number));
  };
  // A burst: every message sent, then the time until the function has seen them all.
  const started = performance.now();
  for (let sent = 0; sent < messages; sent += 10) {
    const Entries = Array.from({ length: Math.min(10, messages - sent) }, (_, i) => ({ Id: `m${i}`, MessageBody: String(Date.now()) }));
    await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries }));
  }
  while ((await hopsSeen()).length < messages) await sleep(50);
  const burstSeconds = (performance.now() - started) / 1000;
  // The hop, unqueued: one message, then the next once the function has seen it.
  const before = (await hopsSeen()).length;
  for (let i = 0; i < hops; i++) {
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: String(Date.now()) }));
    while ((await hopsSeen()).length < before + i + 1) await sleep(2);
  }
  const single = (await hopsSeen()).slice(before);
  return { perSec: round(messages / burstSeconds, 0), hopP50Ms: percentile(single, 50), hopP99Ms: percentile(single, 99), hops: single.length };
}
