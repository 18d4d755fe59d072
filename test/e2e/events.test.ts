// EventBridge through a real `nuvola dev` with the AWS SDK v3: buses and rules from the manifest and
// the API, events routed to a function (durably, through its asynchronous queue) and to a queue
// through an input transformer, and EventBridge's answers to bad entries and patterns.
import { CreateArchiveCommand, DeleteRuleCommand, DescribeReplayCommand, EventBridgeClient, StartReplayCommand, ListRulesCommand, PutEventsCommand, PutRuleCommand, PutTargetsCommand, TestEventPatternCommand } from '@aws-sdk/client-eventbridge';
import { CreateScheduleCommand, CreateScheduleGroupCommand, GetScheduleCommand, ListSchedulesCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { copyApp, eventually, ROOT, runCli, startNuvola, TEST_KEY, type Running } from '../helpers/nuvola.js';

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

  it('takes an event an HTTP handler publishes with the SDK, to a function and, transformed, to a queue', async () => {
    const res = await fetch(`${nuvola.url}/orders`, { method: 'POST', body: JSON.stringify({ id: 'o-3', total: 300 }) });
    expect(res.status).toBe(202);
    expect((await res.json()) as unknown).toEqual({ eventId: expect.any(String) });
    expect(await receiveOne('audit')).toEqual({ order: 'o-3', total: 300, rule: 'to-audit' });
    const logs = async () => ((await (await nuvola.control('/logs?fn=notify&limit=100')).json()) as { records: { message: string }[] }).records.map((r) => r.message).join('\n');
    await eventually(async () => (await logs()).includes('o-3'), 15_000, 100);
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

  it('archives the events of a bus and replays a time range to its rules, marked with replay-name', async () => {
    const busArn = 'arn:aws:events:us-east-1:000000000000:event-bus/orders';
    const created = await eb.send(new CreateArchiveCommand({ ArchiveName: 'big', EventSourceArn: busArn, EventPattern: JSON.stringify({ detail: { total: [{ numeric: ['>', 1000] }] } }) }));
    expect(created.ArchiveArn).toBe('arn:aws:events:us-east-1:000000000000:archive/big');
    const start = new Date(Date.now() - 1000);
    await eb.send(new PutEventsCommand({ Entries: [{ EventBusName: 'orders', Source: 'shop', DetailType: 'Order Placed', Detail: JSON.stringify({ id: 'o-big', total: 5000 }) }, { EventBusName: 'orders', Source: 'shop', DetailType: 'Order Placed', Detail: JSON.stringify({ id: 'o-small', total: 500 }) }] }));
    // Both were routed; only the big one is archived.
    expect((await receiveOne('audit'))['order']).toBe('o-big');
    expect((await receiveOne('audit'))['order']).toBe('o-small');
    const replay = await eb.send(new StartReplayCommand({ ReplayName: 'again', EventSourceArn: created.ArchiveArn, EventStartTime: start, EventEndTime: new Date(Date.now() + 1000), Destination: { Arn: busArn } }));
    expect(replay.State).toBe('COMPLETED');
    expect(await receiveOne('audit')).toEqual({ order: 'o-big', total: 5000, rule: 'to-audit' });
    expect(await eb.send(new DescribeReplayCommand({ ReplayName: 'again' }))).toMatchObject({ State: 'COMPLETED', StateReason: '1 events replayed' });
  });

  it("fires a one-time schedule made through Scheduler's API into a queue, then deletes it as asked", async () => {
    const scheduler = new SchedulerClient({ endpoint: nuvola.url, region: 'us-east-1', credentials: TEST_KEY, maxAttempts: 1 });
    try {
      await scheduler.send(new CreateScheduleGroupCommand({ Name: 'reports' }));
      const at = new Date(Date.now() + 2_000).toISOString().slice(0, 19);
      const created = await scheduler.send(
        new CreateScheduleCommand({
          Name: 'once',
          GroupName: 'reports',
          ScheduleExpression: `at(${at})`,
          FlexibleTimeWindow: { Mode: 'OFF' },
          Target: { Arn: 'arn:aws:sqs:us-east-1:000000000000:api-target', RoleArn: 'arn:aws:iam::000000000000:role/scheduler', Input: '{"report":"daily"}' },
          ActionAfterCompletion: 'DELETE',
        }),
      );
      expect(created.ScheduleArn).toBe('arn:aws:scheduler:us-east-1:000000000000:schedule/reports/once');
      expect((await scheduler.send(new ListSchedulesCommand({ GroupName: 'reports' }))).Schedules!.map((x) => x.Name)).toEqual(['once']);
      expect(await receiveOne('api-target')).toEqual({ report: 'daily' });
      await eventually(async () => (await scheduler.send(new GetScheduleCommand({ Name: 'once', GroupName: 'reports' })).catch((e: unknown) => e)) instanceof Error, 10_000, 100);
      const bad = await scheduler
        .send(new CreateScheduleCommand({ Name: 'bad', ScheduleExpression: 'rate(1 minutes)', FlexibleTimeWindow: { Mode: 'OFF' }, Target: { Arn: 'arn:aws:sqs:us-east-1:000000000000:api-target', RoleArn: 'arn:aws:iam::000000000000:role/x' } }))
        .catch((e: unknown) => e);
      expect(bad).toMatchObject({ name: 'ValidationException' });
    } finally {
      scheduler.destroy();
    }
  });

  it('lists buses and rules, and puts an event, from the nuvola CLI and the AWS CLI', async () => {
    const env = { NUVOLA_URL: nuvola.url };
    const listed = await runCli(['events'], env);
    expect(listed.stdout).toMatch(/^orders\n(.*\n)*  to-audit\t\{"source":\["shop"\].*\t→ audit$/m);
    const put = await runCli(['events', 'put', '--bus', 'orders', '--source', 'shop', '--detail-type', 'Order Placed', '--detail', '{"id":"o-9","total":500}'], env);
    expect(put.stdout).toMatch(/^[0-9a-f-]{36}\n$/);
    expect(await receiveOne('audit')).toEqual({ order: 'o-9', total: 500, rule: 'to-audit' });
    const bad = await runCli(['events', 'put', '--source', 's', '--detail-type', 't', '--detail', '[1]'], env);
    expect(bad.stderr).toContain('MalformedDetail');
    const awsEnv = { ...process.env, AWS_ACCESS_KEY_ID: TEST_KEY.accessKeyId, AWS_SECRET_ACCESS_KEY: TEST_KEY.secretAccessKey, AWS_DEFAULT_REGION: 'us-east-1' };
    const aws = (args: string[]) => new Promise<{ code: number; stdout: string }>((resolve) => execFile('aws', ['--endpoint-url', nuvola.url, ...args], { env: awsEnv }, (err, stdout) => resolve({ code: err ? 1 : 0, stdout })));
    // Without the AWS CLI on the machine there is nothing more to check.
    if ((await aws(['--version'])).code !== 0) return;
    const entries = JSON.stringify([{ EventBusName: 'orders', Source: 'shop', DetailType: 'x', Detail: '{"id":"o-10","total":101}' }]);
    const cli = await aws(['events', 'put-events', '--entries', entries]);
    expect(JSON.parse(cli.stdout)).toMatchObject({ FailedEntryCount: 0 });
    expect(await receiveOne('audit')).toEqual({ order: 'o-10', total: 101, rule: 'to-audit' });
    expect(JSON.parse((await aws(['events', 'list-event-buses'])).stdout).EventBuses.map((b: { Name: string }) => b.Name)).toEqual(['default', 'orders']);
  });
});
