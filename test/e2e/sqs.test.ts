// SQS through a real `nuvola dev` with the AWS SDK v3 and the AWS CLI: queues from the manifest and the
// API, messages with their attributes and MD5s (the SDK checks them), FIFO order and de-duplication,
// visibility, dead-lettering and the move back, batches that partly fail, and a kill -9 that loses
// nothing that was acknowledged.
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListMessageMoveTasksCommand,
  ListQueuesCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyApp, ROOT, runCli, startNuvola, TEST_KEY, type Running } from '../helpers/nuvola.js';

const FIXTURE = path.join(ROOT, 'test/fixtures/queues');

describe('SQS', () => {
  let nuvola: Running;
  let sqs: SQSClient;
  const url = (name: string) => `${nuvola.url}/000000000000/${name}`;

  beforeAll(async () => {
    nuvola = await startNuvola(await copyApp(FIXTURE));
    sqs = new SQSClient({ endpoint: nuvola.url, region: 'us-east-1', credentials: TEST_KEY, maxAttempts: 1 });
  });
  afterAll(async () => {
    sqs?.destroy();
    await nuvola?.stop();
  });

  it('creates queues from the manifest and the API, idempotently, and lists them', async () => {
    const { QueueUrls } = await sqs.send(new ListQueuesCommand({}));
    expect(QueueUrls).toEqual([url('jobs'), url('jobs-dlq'), url('orders.fifo')]);
    const created = await sqs.send(new CreateQueueCommand({ QueueName: 'api-made', Attributes: { VisibilityTimeout: '10' } }));
    expect(created.QueueUrl).toBe(url('api-made'));
    expect((await sqs.send(new CreateQueueCommand({ QueueName: 'api-made', Attributes: { VisibilityTimeout: '10' } }))).QueueUrl).toBe(url('api-made'));
    const clash = await sqs.send(new CreateQueueCommand({ QueueName: 'api-made', Attributes: { VisibilityTimeout: '11' } })).catch((e: unknown) => e);
    expect(clash).toMatchObject({ name: 'QueueNameExists', $metadata: { httpStatusCode: 400 } });
    expect((await sqs.send(new GetQueueUrlCommand({ QueueName: 'jobs' }))).QueueUrl).toBe(url('jobs'));
    const attributes = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url('jobs'), AttributeNames: ['All'] }))).Attributes;
    expect(attributes).toMatchObject({ VisibilityTimeout: '5', QueueArn: 'arn:aws:sqs:us-east-1:000000000000:jobs', ApproximateNumberOfMessages: '0' });
    expect(JSON.parse(attributes!['RedrivePolicy']!)).toEqual({ deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:jobs-dlq', maxReceiveCount: 2 });
    await sqs.send(new DeleteQueueCommand({ QueueUrl: url('api-made') }));
    const gone = await sqs.send(new GetQueueUrlCommand({ QueueName: 'api-made' })).catch((e: unknown) => e);
    expect(gone).toMatchObject({ name: 'QueueDoesNotExist' });
  });

  it('sends and receives messages with attributes whose MD5s the SDK checks, and deletes them', async () => {
    const sent = await sqs.send(
      new SendMessageCommand({
        QueueUrl: url('jobs'),
        MessageBody: 'résumé ✓',
        MessageAttributes: { kind: { DataType: 'String', StringValue: 'pdf' }, size: { DataType: 'Number', StringValue: '42' }, raw: { DataType: 'Binary', BinaryValue: Buffer.from([1, 2, 3]) } },
      }),
    );
    expect(sent.MessageId).toEqual(expect.any(String));
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url('jobs'), MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'], MaxNumberOfMessages: 10 }));
    expect(Messages).toHaveLength(1);
    const m = Messages![0]!;
    expect(m).toMatchObject({ Body: 'résumé ✓', MessageId: sent.MessageId, Attributes: { ApproximateReceiveCount: '1', SenderId: TEST_KEY.accessKeyId } });
    expect(m.MessageAttributes!['size']).toMatchObject({ DataType: 'Number', StringValue: '42' });
    expect(Buffer.from(m.MessageAttributes!['raw']!.BinaryValue!)).toEqual(Buffer.from([1, 2, 3]));
    await sqs.send(new DeleteMessageCommand({ QueueUrl: url('jobs'), ReceiptHandle: m.ReceiptHandle }));
    expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl: url('jobs') }))).Messages ?? []).toEqual([]);
    const forged = await sqs.send(new DeleteMessageCommand({ QueueUrl: url('jobs'), ReceiptHandle: `${m.ReceiptHandle!.split('.')[0]}.forged` })).catch((e: unknown) => e);
    expect(forged).toMatchObject({ name: 'ReceiptHandleIsInvalid' });
  });

  it('answers a batch entry by entry, and refuses malformed batches as SQS does', async () => {
    const out = await sqs.send(
      new SendMessageBatchCommand({ QueueUrl: url('jobs'), Entries: [{ Id: 'a', MessageBody: 'one' }, { Id: 'b', MessageBody: 'two', DelaySeconds: 901 }, { Id: 'c', MessageBody: '\u0000' }] }),
    );
    expect(out.Successful!.map((s) => s.Id)).toEqual(['a']);
    expect(out.Failed!.map((f) => [f.Id, f.Code, f.SenderFault])).toEqual([
      ['b', 'InvalidParameterValue', true],
      ['c', 'InvalidMessageContents', true],
    ]);
    const same = await sqs.send(new SendMessageBatchCommand({ QueueUrl: url('jobs'), Entries: [{ Id: 'x', MessageBody: '1' }, { Id: 'x', MessageBody: '2' }] })).catch((e: unknown) => e);
    expect(same).toMatchObject({ name: 'BatchEntryIdsNotDistinct' });
    const many = await sqs.send(new SendMessageBatchCommand({ QueueUrl: url('jobs'), Entries: Array.from({ length: 11 }, (_, i) => ({ Id: `m${i}`, MessageBody: 'x' })) })).catch((e: unknown) => e);
    expect(many).toMatchObject({ name: 'TooManyEntriesInBatchRequest' });
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url('jobs'), MaxNumberOfMessages: 10 }));
    const del = await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: url('jobs'), Entries: [{ Id: 'ok', ReceiptHandle: Messages![0]!.ReceiptHandle }, { Id: 'bad', ReceiptHandle: 'nonsense' }] }));
    expect(del.Successful!.map((s) => s.Id)).toEqual(['ok']);
    expect(del.Failed).toEqual([expect.objectContaining({ Id: 'bad', Code: 'ReceiptHandleIsInvalid' })]);
  });

  it('keeps a FIFO group in order, one batch in flight, and drops duplicates within the window', async () => {
    for (const [group, body] of [['a', 'a1'], ['b', 'b1'], ['a', 'a2'], ['a', 'a1'], ['b', 'b2']]) {
      await sqs.send(new SendMessageCommand({ QueueUrl: url('orders.fifo'), MessageBody: body, MessageGroupId: group }));
    }
    const first = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url('orders.fifo'), MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['All'] }));
    // a1 was sent twice with the same content: content-based de-duplication kept one.
    expect(first.Messages!.map((m) => m.Body)).toEqual(['a1', 'b1', 'a2', 'b2']);
    expect(first.Messages![0]!.Attributes).toMatchObject({ MessageGroupId: 'a', SequenceNumber: expect.stringMatching(/^\d{20}$/) });
    // Nothing more of either group while their messages are in flight.
    expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl: url('orders.fifo') }))).Messages ?? []).toEqual([]);
    const noGroup = await sqs.send(new SendMessageCommand({ QueueUrl: url('orders.fifo'), MessageBody: 'x' })).catch((e: unknown) => e);
    expect(noGroup).toMatchObject({ name: 'InvalidParameterValue' });
  });

  it('dead-letters a message received too often, and moves it back', async () => {
    await sqs.send(new PurgeQueueCommand({ QueueUrl: url('jobs') }));
    await sqs.send(new SendMessageCommand({ QueueUrl: url('jobs'), MessageBody: 'poison' }));
    for (let i = 0; i < 2; i++) {
      const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url('jobs') }));
      expect(Messages![0]!.Body).toBe('poison');
      // Visible again at once: a consumer giving up on it.
      await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: url('jobs'), ReceiptHandle: Messages![0]!.ReceiptHandle, VisibilityTimeout: 0 }));
    }
    // The third receive finds it past maxReceiveCount: it is in the dead-letter queue.
    expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl: url('jobs') }))).Messages ?? []).toEqual([]);
    const dead = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url('jobs-dlq'), VisibilityTimeout: 0 }));
    expect(dead.Messages![0]!.Body).toBe('poison');
    const task = await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: 'arn:aws:sqs:us-east-1:000000000000:jobs-dlq' }));
    expect(task.TaskHandle).toEqual(expect.any(String));
    const tasks = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: 'arn:aws:sqs:us-east-1:000000000000:jobs-dlq' }));
    expect(tasks.Results).toEqual([expect.objectContaining({ Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 1 })]);
    const back = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url('jobs') }));
    expect(back.Messages![0]!.Body).toBe('poison');
    await sqs.send(new DeleteMessageCommand({ QueueUrl: url('jobs'), ReceiptHandle: back.Messages![0]!.ReceiptHandle }));
    const again = await sqs.send(new PurgeQueueCommand({ QueueUrl: url('jobs') })).catch((e: unknown) => e);
    expect(again).toMatchObject({ name: 'PurgeQueueInProgress' });
  });

  it('refuses bad attributes and hostile bodies with SQS errors, never a crash', async () => {
    const bad = await sqs.send(new SetQueueAttributesCommand({ QueueUrl: url('jobs-dlq'), Attributes: { VisibilityTimeout: '99999' } })).catch((e: unknown) => e);
    expect(bad).toMatchObject({ name: 'InvalidAttributeValue' });
    const unknown = await sqs.send(new SetQueueAttributesCommand({ QueueUrl: url('jobs-dlq'), Attributes: { Nope: '1' } as Record<string, string> })).catch((e: unknown) => e);
    expect(unknown).toMatchObject({ name: 'InvalidAttributeName' });
    const missing = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url('nope') })).catch((e: unknown) => e);
    expect(missing).toMatchObject({ name: 'QueueDoesNotExist' });
    // The raw protocol: not JSON, no operation.
    const { SignatureV4 } = await import('@smithy/signature-v4');
    const { Sha256 } = await import('../helpers/signing.js');
    const signer = new SignatureV4({ service: 'sqs', region: 'us-east-1', credentials: TEST_KEY, sha256: Sha256 });
    const u = new URL(nuvola.url);
    for (const [target, body] of [['AmazonSQS.SendMessage', '{not json'], ['AmazonSQS.Nope', '{}'], ['AmazonSQS.SendMessage', '[]'], ['AmazonSQS.ReceiveMessage', '{"QueueUrl": 5}']]) {
      const signed = await signer.sign({ method: 'POST', protocol: 'http:', hostname: u.hostname, port: Number(u.port), path: '/', headers: { host: u.host, 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': target! }, body });
      const res = await fetch(nuvola.url, { method: 'POST', headers: signed.headers as Record<string, string>, body });
      expect(res.status).toBe(400);
      const text = await res.text();
      expect(JSON.parse(text)).toMatchObject({ __type: expect.stringMatching(/^com\.amazonaws\.sqs#/) });
      expect(text).not.toContain('    at ');
    }
  });

  it('speaks the Query protocol older clients send: form bodies in, XML out', async () => {
    const { SignatureV4 } = await import('@smithy/signature-v4');
    const { Sha256 } = await import('../helpers/signing.js');
    const signer = new SignatureV4({ service: 'sqs', region: 'us-east-1', credentials: TEST_KEY, sha256: Sha256 });
    const u = new URL(nuvola.url);
    const call = async (path: string, form: Record<string, string>) => {
      const body = new URLSearchParams({ Version: '2012-11-05', ...form }).toString();
      const signed = await signer.sign({ method: 'POST', protocol: 'http:', hostname: u.hostname, port: Number(u.port), path, headers: { host: u.host, 'content-type': 'application/x-www-form-urlencoded' }, body });
      const res = await fetch(`${nuvola.url}${path}`, { method: 'POST', headers: signed.headers as Record<string, string>, body });
      return { status: res.status, xml: await res.text() };
    };
    const created = await call('/', { Action: 'CreateQueue', QueueName: 'query-made', 'Attribute.1.Name': 'VisibilityTimeout', 'Attribute.1.Value': '7' });
    expect(created.xml).toContain(`<CreateQueueResult><QueueUrl>${url('query-made')}</QueueUrl></CreateQueueResult>`);
    const sent = await call('/000000000000/query-made', {
      Action: 'SendMessage',
      MessageBody: 'a <b> & c',
      'MessageAttribute.1.Name': 'kind',
      'MessageAttribute.1.Value.DataType': 'String',
      'MessageAttribute.1.Value.StringValue': 'x',
    });
    expect(sent.xml).toMatch(/<SendMessageResult><MD5OfMessageBody>[0-9a-f]{32}<\/MD5OfMessageBody><MD5OfMessageAttributes>[0-9a-f]{32}<\/MD5OfMessageAttributes><MessageId>/);
    const got = await call('/', { Action: 'ReceiveMessage', QueueUrl: url('query-made'), 'MessageAttributeName.1': 'All', 'AttributeName.1': 'ApproximateReceiveCount' });
    expect(got.xml).toContain('<Body>a &lt;b&gt; &amp; c</Body><Attribute><Name>ApproximateReceiveCount</Name><Value>1</Value></Attribute>');
    expect(got.xml).toContain('<MessageAttribute><Name>kind</Name><Value><DataType>String</DataType><StringValue>x</StringValue></Value></MessageAttribute>');
    const attrs = await call('/', { Action: 'GetQueueAttributes', QueueUrl: url('query-made'), 'AttributeName.1': 'VisibilityTimeout' });
    expect(attrs.xml).toContain('<Attribute><Name>VisibilityTimeout</Name><Value>7</Value></Attribute>');
    const batch = await call('/', { Action: 'SendMessageBatch', QueueUrl: url('query-made'), 'SendMessageBatchRequestEntry.1.Id': 'a', 'SendMessageBatchRequestEntry.1.MessageBody': 'one', 'SendMessageBatchRequestEntry.2.Id': 'b', 'SendMessageBatchRequestEntry.2.MessageBody': 'two', 'SendMessageBatchRequestEntry.2.DelaySeconds': '901' });
    expect(batch.xml).toMatch(/<SendMessageBatchResultEntry><Id>a<\/Id>.*<BatchResultErrorEntry><Id>b<\/Id><SenderFault>true<\/SenderFault><Code>InvalidParameterValue<\/Code>/);
    const missing = await call('/', { Action: 'GetQueueUrl', QueueName: 'nope' });
    expect(missing.status).toBe(400);
    expect(missing.xml).toContain('<Error><Type>Sender</Type><Code>AWS.SimpleQueueService.NonExistentQueue</Code><Message>The specified queue does not exist.</Message>');
    const unknown = await call('/', { Action: 'Explode' });
    expect(unknown.xml).toContain('<Code>AWS.SimpleQueueService.UnsupportedOperation</Code>');
    const hostile = await call('/', { Action: 'CreateQueue', QueueName: 'x', '__proto__.polluted': '1', 'Attribute.constructor.Name': 'y' });
    expect(hostile.status).toBeLessThan(500);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('works from the AWS CLI', async () => {
    const env = { ...process.env, AWS_ACCESS_KEY_ID: TEST_KEY.accessKeyId, AWS_SECRET_ACCESS_KEY: TEST_KEY.secretAccessKey, AWS_DEFAULT_REGION: 'us-east-1' };
    const aws = (args: string[]) =>
      new Promise<{ code: number; stdout: string }>((resolve) => execFile('aws', ['--endpoint-url', nuvola.url, ...args], { env }, (err, stdout) => resolve({ code: err ? 1 : 0, stdout })));
    // Without the AWS CLI on the machine there is nothing to check here.
    if ((await aws(['--version'])).code !== 0) return;
    const sent = await aws(['sqs', 'send-message', '--queue-url', url('jobs-dlq'), '--message-body', 'from the cli']);
    expect(sent.code).toBe(0);
    const received = await aws(['sqs', 'receive-message', '--queue-url', url('jobs-dlq'), '--attribute-names', 'All']);
    expect(JSON.parse(received.stdout)).toMatchObject({ Messages: [expect.objectContaining({ Body: 'from the cli' })] });
  });

  it('lists queues with their counts, peeks into one and redrives a dead-letter queue from `nuvola queues`', async () => {
    const env = { NUVOLA_URL: nuvola.url };
    const out = await runCli(['queues'], env);
    expect(out.stdout).toMatch(/^jobs\t\d+\t\d+\t\d+\tjobs-dlq$/m);
    expect(out.stdout).toMatch(/^orders\.fifo\t/m);
    await sqs.send(new PurgeQueueCommand({ QueueUrl: url('jobs-dlq') }));
    await sqs.send(new SendMessageCommand({ QueueUrl: url('jobs-dlq'), MessageBody: 'stuck', MessageAttributes: { why: { DataType: 'String', StringValue: 'test' } } }));
    const peeked = await runCli(['queues', 'peek', 'jobs-dlq'], env);
    expect(peeked.stdout).toMatch(/\treceived 0\tstuck\twhy=test\n$/);
    // Peeking received nothing: it is still there to receive.
    expect((await runCli(['queues', 'peek', 'jobs-dlq'], env)).stdout).toContain('received 0');
    const redriven = await runCli(['queues', 'redrive', 'jobs-dlq', '--to', 'jobs'], env);
    expect(redriven.stdout).toBe('jobs-dlq: moved 1 message\n');
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url('jobs') }));
    expect(Messages![0]!.Body).toBe('stuck');
    const missing = await runCli(['queues', 'peek', 'nope'], env);
    expect(missing.stderr).toContain('The specified queue does not exist.');
  });
});

describe('SQS across a kill -9', () => {
  it('keeps every message whose send was acknowledged', async () => {
    const dir = await copyApp(FIXTURE);
    const first = await startNuvola(dir, { keepDir: true });
    const sqs = new SQSClient({ endpoint: first.url, region: 'us-east-1', credentials: TEST_KEY, maxAttempts: 1 });
    const queueUrl = `${first.url}/000000000000/jobs-dlq`;
    const sent = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const r = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: Array.from({ length: 10 }, (_, j) => ({ Id: `e${j}`, MessageBody: `m${i * 10 + j}` })) }));
      for (const s of r.Successful!) sent.add(s.MessageId!);
    }
    sqs.destroy();
    first.proc.kill('SIGKILL');
    await first.stop();
    const second = await startNuvola(dir);
    try {
      const again = new SQSClient({ endpoint: second.url, region: 'us-east-1', credentials: TEST_KEY, maxAttempts: 1 });
      const got = new Set<string>();
      for (;;) {
        const { Messages } = await again.send(new ReceiveMessageCommand({ QueueUrl: `${second.url}/000000000000/jobs-dlq`, MaxNumberOfMessages: 10, VisibilityTimeout: 60 }));
        if (!Messages?.length) break;
        for (const m of Messages) got.add(m.MessageId!);
      }
      again.destroy();
      expect(got).toEqual(sent);
    } finally {
      await second.stop();
    }
  });
});
