// Queues feeding functions through a real `nuvola dev`: Lambda's SQS event, partial batch failures
// that end in the dead-letter queue, a FIFO queue's group order under concurrent pollers, and the
// Lambda API's event source mapping operations.
import { CreateEventSourceMappingCommand, DeleteEventSourceMappingCommand, GetEventSourceMappingCommand, LambdaClient, ListEventSourceMappingsCommand } from '@aws-sdk/client-lambda';
import { ReceiveMessageCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyApp, eventually, ROOT, startNuvola, TEST_KEY, type Running } from '../helpers/nuvola.js';

describe('event source mappings', () => {
  let nuvola: Running;
  let sqs: SQSClient;
  let lambda: LambdaClient;
  const url = (q: string) => `${nuvola.url}/000000000000/${q}`;
  const logs = async (fn: string) =>
    ((await (await nuvola.control(`/logs?fn=${fn}&limit=500`)).json()) as { records: { message: string }[] }).records.map((r) => r.message);
  const said = async (fn: string, re: RegExp) => (await logs(fn)).flatMap((m) => m.split('\n')).filter((l) => re.test(l));

  beforeAll(async () => {
    nuvola = await startNuvola(await copyApp(path.join(ROOT, 'test/fixtures/event-sources')));
    const config = { endpoint: nuvola.url, region: 'us-east-1', credentials: TEST_KEY, maxAttempts: 1 };
    sqs = new SQSClient(config);
    lambda = new LambdaClient(config);
  });
  afterAll(async () => {
    sqs?.destroy();
    lambda?.destroy();
    await nuvola?.stop();
  });

  it('hands batches to the function, deletes what it took, and dead-letters what keeps failing', async () => {
    const bodies = ['a', 'b', 'fail', 'c', 'd', 'e', 'f'];
    await sqs.send(new SendMessageBatchCommand({ QueueUrl: url('work'), Entries: bodies.map((b, i) => ({ Id: `m${i}`, MessageBody: b })) }));
    await eventually(async () => (await said('consume', /^.*took /)).length === 6, 20_000, 100);
    const took = await said('consume', /took /);
    expect(took.map((l) => /took (\w+)/.exec(l)![1]).sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(took[0]).toMatch(/from arn:aws:sqs:us-east-1:000000000000:work \(aws:sqs, receive 1\)/);
    // "fail" came back after the visibility timeout, failed again, and is in the dead-letter queue.
    let dead: string[] = [];
    await eventually(async () => {
      const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url('work-dlq'), VisibilityTimeout: 0 }));
      dead = (Messages ?? []).map((m) => m.Body!);
      return dead.length > 0;
    }, 30_000, 250);
    expect(dead).toEqual(['fail']);
    // Nothing is left in the queue itself: the others were deleted once taken.
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url('work') }));
    expect(Messages ?? []).toEqual([]);
  });

  it("keeps each FIFO group's order with several pollers", async () => {
    const entries = [];
    for (let i = 0; i < 6; i++) for (const g of ['x', 'y', 'z']) entries.push({ Id: `${g}${i}`, MessageBody: `${g}${i}`, MessageGroupId: g });
    for (let i = 0; i < entries.length; i += 10) await sqs.send(new SendMessageBatchCommand({ QueueUrl: url('ordered.fifo'), Entries: entries.slice(i, i + 10) }));
    await eventually(async () => (await said('inOrder', /got /)).length === 18, 30_000, 100);
    const lines = await said('inOrder', /got /);
    for (const g of ['x', 'y', 'z']) {
      const seen = lines.filter((l) => l.includes(`group ${g} `)).map((l) => /got (\w+)/.exec(l)![1]);
      expect(seen).toEqual([0, 1, 2, 3, 4, 5].map((i) => `${g}${i}`));
    }
  });

  it("sends a failed asynchronous invocation's event to its dead-letter queue and Lambda's record to its onFailure queue", async () => {
    const accepted = await nuvola.control('/functions/flaky/invoke?type=Event', { method: 'POST', body: '{"order":7}' });
    const { requestId } = (await accepted.json()) as { requestId: string };
    const take = async (queue: string) => {
      let got: { Body?: string; MessageAttributes?: Record<string, { StringValue?: string }> }[] = [];
      await eventually(async () => {
        got = (await sqs.send(new ReceiveMessageCommand({ QueueUrl: url(queue), MessageAttributeNames: ['All'], WaitTimeSeconds: 1 }))).Messages ?? [];
        return got.length > 0;
      }, 20_000, 100);
      return got[0]!;
    };
    const dead = await take('flaky-dlq');
    expect(JSON.parse(dead.Body!)).toEqual({ order: 7 });
    expect(dead.MessageAttributes).toMatchObject({ RequestID: { StringValue: requestId }, ErrorCode: { StringValue: '200' }, ErrorMessage: { StringValue: 'always broken' } });
    const record = JSON.parse((await take('failures')).Body!) as Record<string, unknown>;
    expect(record).toMatchObject({ requestContext: { requestId, condition: 'RetriesExhausted', approximateInvokeCount: 1 }, requestPayload: { order: 7 }, responsePayload: { errorMessage: 'always broken' } });
  });

  it('creates, lists, gets and deletes mappings through the Lambda API, and refuses what Lambda refuses', async () => {
    const listed = await lambda.send(new ListEventSourceMappingsCommand({ FunctionName: 'consume' }));
    expect(listed.EventSourceMappings).toEqual([
      expect.objectContaining({ EventSourceArn: 'arn:aws:sqs:us-east-1:000000000000:work', BatchSize: 5, FunctionResponseTypes: ['ReportBatchItemFailures'], State: 'Enabled' }),
    ]);
    const created = await lambda.send(new CreateEventSourceMappingCommand({ FunctionName: 'other', EventSourceArn: 'arn:aws:sqs:us-east-1:000000000000:spare', BatchSize: 2 }));
    expect(created).toMatchObject({ State: 'Creating', BatchSize: 2, FunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:other' });
    expect(await lambda.send(new GetEventSourceMappingCommand({ UUID: created.UUID }))).toMatchObject({ UUID: created.UUID, State: 'Enabled' });
    expect(await lambda.send(new DeleteEventSourceMappingCommand({ UUID: created.UUID }))).toMatchObject({ State: 'Deleting' });
    const gone = await lambda.send(new GetEventSourceMappingCommand({ UUID: created.UUID })).catch((e: unknown) => e);
    expect(gone).toMatchObject({ name: 'ResourceNotFoundException' });
    // The queue hides a message 3 s; the function may run 10 s: a batch could come back while it runs.
    const tooShort = await lambda.send(new CreateEventSourceMappingCommand({ FunctionName: 'other', EventSourceArn: 'arn:aws:sqs:us-east-1:000000000000:slow' })).catch((e: unknown) => e);
    expect(tooShort).toMatchObject({ name: 'InvalidParameterValueException', message: 'Queue visibility timeout: 3 seconds is less than Function timeout: 10 seconds' });
    const noQueue = await lambda.send(new CreateEventSourceMappingCommand({ FunctionName: 'other', EventSourceArn: 'arn:aws:sqs:us-east-1:000000000000:nope' })).catch((e: unknown) => e);
    expect(noQueue).toMatchObject({ name: 'InvalidParameterValueException' });
  });
});
