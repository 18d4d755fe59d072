// EventBridge through a real `nuvola dev` with the AWS SDK v3: buses and rules from the manifest and
// the API, events routed to a function (durably, through its asynchronous queue) and to a queue
// through an input transformer, and EventBridge's answers to bad entries and patterns.
import { DeleteRuleCommand, EventBridgeClient, ListRulesCommand, PutEventsCommand, PutRuleCommand, PutTargetsCommand, TestEventPatternCommand } from '@aws-sdk/client-eventbridge';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyApp, eventually, ROOT, startNuvola, TEST_KEY, type Running } from '../helpers/nuvola.js';

describe('events', () => {
  let nuvola: Running;
  let eb: EventBridgeClient;
  let sqs: SQSClient;
  const url = (q: string) => `${nuvola.url}/000000000000/${q}`;
  const receiveOne = async (queue: string) => {
    let body: string | undefined;
    await eventually(async () => {
      body = (await sqs.send(new ReceiveMessageCommand({ QueueUrl: url(queue), WaitTimeSeconds: 1 }))).Messages?.[0]?.Body;
      return body !== undefined;
    }, 15_000, 50);
    return JSON.parse(body!) as Record<string, unknown>;
  };

  beforeAll(async () => {
    nuvola = await startNuvola(await copyApp(path.join(ROOT, 'test/fixtures/events')));
    const config = { endpoint: nuvola.url, region: 'us-east-1', credentials: TEST_KEY, maxAttempts: 1 };
    eb = new EventBridgeClient(config);
    sqs = new SQSClient(config);
  });
  afterAll(async () => {
    eb?.destroy();
    sqs?.destroy();
    await nuvola?.stop();
  });

  it('routes put events to a function and, transformed, to a queue; answers bad entries one by one', async () => {
    const out = await eb.send(
      new PutEventsCommand({
        Entries: [
          { EventBusName: 'orders', Source: 'shop', DetailType: 'Order Placed', Detail: JSON.stringify({ id: 'o-1', total: 150 }) },
          { EventBusName: 'orders', Source: 'shop', DetailType: 'Order Placed', Detail: JSON.stringify({ id: 'o-2', total: 50 }) },
          { EventBusName: 'orders', Source: 'shop', DetailType: 'Order Placed', Detail: '{not json' },
          { EventBusName: 'nope', Source: 'shop', DetailType: 'x', Detail: '{}' },
        ],
      }),
    );
    expect(out.FailedEntryCount).toBe(2);
    expect(out.Entries![0]!.EventId).toEqual(expect.any(String));
    expect(out.Entries![2]).toMatchObject({ ErrorCode: 'MalformedDetail' });
    expect(out.Entries![3]).toMatchObject({ ErrorCode: 'InvalidArgument' });
    expect(await receiveOne('audit')).toEqual({ order: 'o-1', total: 150, rule: 'to-audit' });
    const logs = async () => ((await (await nuvola.control('/logs?fn=notify&limit=100')).json()) as { records: { message: string }[] }).records.map((r) => r.message).join('\n');
    await eventually(async () => (await logs()).includes('o-2'), 15_000, 100);
    expect(await logs()).toMatch(/got Order Placed o-1 from shop on 000000000000\/us-east-1 at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/);
  });

  it('makes rules and targets through the API, and refuses what EventBridge refuses', async () => {
    const rule = await eb.send(new PutRuleCommand({ Name: 'api-rule', EventPattern: JSON.stringify({ source: [{ prefix: 'billing.' }] }) }));
    expect(rule.RuleArn).toBe('arn:aws:events:us-east-1:000000000000:rule/api-rule');
    await eb.send(new PutTargetsCommand({ Rule: 'api-rule', Targets: [{ Id: 'q', Arn: 'arn:aws:sqs:us-east-1:000000000000:api-target', InputPath: '$.detail' }] }));
    await eb.send(new PutEventsCommand({ Entries: [{ Source: 'billing.invoices', DetailType: 'Invoice', Detail: JSON.stringify({ n: 7 }) }] }));
    expect(await receiveOne('api-target')).toEqual({ n: 7 });
    const listed = await eb.send(new ListRulesCommand({ EventBusName: 'orders' }));
    expect(listed.Rules!.map((r) => r.Name)).toEqual(['notify.eventBridge.1', 'to-audit']);
    const busy = await eb.send(new DeleteRuleCommand({ Name: 'api-rule' })).catch((e: unknown) => e);
    expect(busy).toMatchObject({ name: 'ValidationException', message: "Rule can't be deleted since it has targets." });
    const bad = await eb.send(new PutRuleCommand({ Name: 'bad', EventPattern: JSON.stringify({ source: [] }) })).catch((e: unknown) => e);
    expect(bad).toMatchObject({ name: 'InvalidEventPatternException', message: 'Event pattern is not valid. Reason: Empty arrays are not allowed' });
    const event = { id: '1', account: '000000000000', source: 'billing.x', time: '2026-01-01T00:00:00Z', region: 'us-east-1', 'detail-type': 'x', detail: {} };
    expect((await eb.send(new TestEventPatternCommand({ EventPattern: JSON.stringify({ source: [{ prefix: 'billing' }] }), Event: JSON.stringify(event) }))).Result).toBe(true);
    const missingBus = await eb.send(new ListRulesCommand({ EventBusName: 'nope' })).catch((e: unknown) => e);
    expect(missingBus).toMatchObject({ name: 'ResourceNotFoundException' });
  });
});
