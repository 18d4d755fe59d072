/**
 * The queues service as the platform plugs it in: deploys the manifest's `queues`, serves the SQS
 * API (signing name `sqs`) and the control API's queue list for `nuvola queues`.
 */
import type { QueueConfig } from '../../core/app.js';
import { handleSqsRequest } from '../../aws/sqs.js';
import type { ServiceModule } from '../module.js';
import { queuesMigrations } from './migrations.js';
import { brokerQueueOf, QueuesService } from './service.js';

export const queuesModule: ServiceModule<QueuesService> = {
  name: 'queues',
  sections: ['queues'],
  migrations: queuesMigrations,
  create(ctx) {
    const queues = new QueuesService({ db: ctx.db, broker: ctx.broker, clock: ctx.clock, region: ctx.region, accountId: ctx.accountId, endpointUrl: ctx.endpointUrl });
    let declared: string[] = [];
    return {
      service: queues,
      async deploy(app) {
        const configs = Object.values(app.manifest.queues);
        declared = configs.map((q) => q.name).sort();
        return queues.deploy(configs.map((q) => ({ name: q.name, attributes: attributesOf(q, ctx.region, ctx.accountId) })));
      },
      aws: { sqs: (req) => handleSqsRequest({ queues }, req) },
      control: [
        {
          method: 'GET',
          path: 'queues',
          // Every queue with its counts and, for a queue with a dead-letter queue, that one's name.
          handle: async () => {
            const out = [];
            for (const name of await queues.list()) {
              const attributes = await queues.getAttributes(name, ['RedrivePolicy']);
              const dlq = attributes['RedrivePolicy'] ? (JSON.parse(attributes['RedrivePolicy']) as { deadLetterTargetArn: string }).deadLetterTargetArn.split(':').pop() : undefined;
              out.push({ name, url: queues.url(name), ...(await ctx.broker.counts(brokerQueueOf(name))), ...(dlq ? { deadLetterQueue: dlq } : {}) });
            }
            return { kind: 'json', body: { queues: out } };
          },
        },
        {
          method: 'GET',
          path: 'queues/:name/peek',
          handle: async (req) => {
            const max = Math.min(100, Math.max(1, Number(req.query.get('max') ?? 10) || 10));
            return { kind: 'json', body: { messages: await queues.peek(req.params['name']!, max) } };
          },
        },
        {
          method: 'POST',
          path: 'queues/:name/redrive',
          handle: async (req) => ({ kind: 'json', body: { moved: await queues.move(req.params['name']!, req.query.get('to') ?? undefined) } }),
        },
      ],
      summary: () => declared.map((name) => `${name}  ${queues.url(name)}`),
    };
  },
};

/** The manifest's settings as SQS's queue attributes. */
function attributesOf(q: QueueConfig, region: string, accountId: string): Record<string, string> {
  const out: Record<string, string> = {};
  const set = (key: string, v: number | boolean | undefined) => {
    if (v !== undefined) out[key] = String(v);
  };
  set('VisibilityTimeout', q.visibilityTimeout);
  set('DelaySeconds', q.delaySeconds);
  set('MessageRetentionPeriod', q.retentionPeriod);
  set('MaximumMessageSize', q.maxMessageSize);
  set('ReceiveMessageWaitTimeSeconds', q.receiveWaitTime);
  set('ContentBasedDeduplication', q.contentBasedDeduplication);
  if (q.name.endsWith('.fifo')) out['FifoQueue'] = 'true';
  if (q.deadLetter) {
    out['RedrivePolicy'] = JSON.stringify({ deadLetterTargetArn: `arn:aws:sqs:${region}:${accountId}:${q.deadLetter.queue}`, maxReceiveCount: q.deadLetter.maxReceiveCount });
  }
  return out;
}
