/**
 * Amazon EventBridge's JSON 1.1 protocol (`X-Amz-Target: AWSEvents.<Operation>`), what
 * `@aws-sdk/client-eventbridge` and `aws events` send: PutEvents, rules, targets, buses and
 * TestEventPattern, with EventBridge's shapes and error types.
 */
import { PlatformError, isPlatformError, type ErrorCode } from '../core/errors.js';
import { matches } from '../core/events/match.js';
import { compilePattern } from '../core/events/pattern.js';
import { EVENTS_LIMITS, type EventsService, type Rule, type Target } from '../services/events/index.js';
import type { AwsRequest, AwsResponse } from './types.js';

const ERRORS: Partial<Record<ErrorCode, readonly [number, string]>> = {
  RESOURCE_NOT_FOUND: [400, 'ResourceNotFoundException'],
  ALREADY_EXISTS: [400, 'ResourceAlreadyExistsException'],
  INVALID_EVENT_PATTERN: [400, 'InvalidEventPatternException'],
  VALIDATION: [400, 'ValidationException'],
  INVALID_REQUEST: [400, 'ValidationException'],
  LIMIT_EXCEEDED: [400, 'LimitExceededException'],
  UNKNOWN_OPERATION: [400, 'UnknownOperationException'],
  SHUTTING_DOWN: [503, 'InternalException'],
};

type Input = Record<string, unknown>;
type Handler = (events: EventsService, input: Input) => Promise<unknown>;

const OPERATIONS: Readonly<Record<string, Handler>> = {
  PutEvents: async (events, input) => {
    const entries = input['Entries'];
    if (!Array.isArray(entries) || entries.length === 0 || entries.length > EVENTS_LIMITS.ENTRIES) {
      throw new PlatformError('VALIDATION', `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length less than or equal to ${EVENTS_LIMITS.ENTRIES} and greater than or equal to 1`);
    }
    if (Buffer.byteLength(JSON.stringify(entries)) > EVENTS_LIMITS.BYTES) throw new PlatformError('VALIDATION', 'Total size of the entries in the request is over the limit.');
    const results = await events.put(entries as Input[]);
    return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
  },
  PutRule: async (events, input) => {
    if (input['ScheduleExpression'] !== undefined) throw new PlatformError('VALIDATION', 'Schedule expressions are not served here yet: use an event pattern.');
    const bus = await events.requireBus(str(input, 'EventBusName', false));
    const rule = await events.putRule(bus, str(input, 'Name')!, str(input, 'EventPattern')!, (str(input, 'State', false) ?? 'ENABLED') === 'ENABLED', str(input, 'Description', false));
    return { RuleArn: events.ruleArn(rule) };
  },
  DescribeRule: async (events, input) => describeRule(events, await events.rule(await events.requireBus(str(input, 'EventBusName', false)), str(input, 'Name')!)),
  ListRules: async (events, input) => {
    const prefix = str(input, 'NamePrefix', false) ?? '';
    const rules = (await events.rules(await events.requireBus(str(input, 'EventBusName', false)))).filter((r) => r.name.startsWith(prefix));
    return { Rules: rules.map((r) => describeRule(events, r)) };
  },
  DeleteRule: async (events, input) => void (await events.deleteRule(await events.requireBus(str(input, 'EventBusName', false)), str(input, 'Name')!)),
  EnableRule: async (events, input) => void (await events.setEnabled(await events.requireBus(str(input, 'EventBusName', false)), str(input, 'Name')!, true)),
  DisableRule: async (events, input) => void (await events.setEnabled(await events.requireBus(str(input, 'EventBusName', false)), str(input, 'Name')!, false)),
  PutTargets: async (events, input) => {
    const targets = input['Targets'];
    if (!Array.isArray(targets) || targets.length === 0) throw new PlatformError('VALIDATION', "1 validation error detected: Value at 'targets' failed to satisfy constraint: Member must have length greater than or equal to 1");
    const failed = await events.putTargets(await events.requireBus(str(input, 'EventBusName', false)), str(input, 'Rule')!, (targets as Input[]).map(toTarget));
    return { FailedEntryCount: failed.length, FailedEntries: failed.map((f) => ({ TargetId: f.id, ErrorCode: f.code, ErrorMessage: f.message })) };
  },
  RemoveTargets: async (events, input) => {
    const ids = Array.isArray(input['Ids']) ? (input['Ids'] as unknown[]).filter((i): i is string => typeof i === 'string') : [];
    await events.removeTargets(await events.requireBus(str(input, 'EventBusName', false)), str(input, 'Rule')!, ids);
    return { FailedEntryCount: 0, FailedEntries: [] };
  },
  ListTargetsByRule: async (events, input) => {
    const rule = await events.rule(await events.requireBus(str(input, 'EventBusName', false)), str(input, 'Rule')!);
    return { Targets: rule.targets.map(fromTarget) };
  },
  CreateEventBus: async (events, input) => {
    const name = str(input, 'Name')!;
    await events.createBus(name);
    return { EventBusArn: events.busArn(name) };
  },
  DeleteEventBus: async (events, input) => void (await events.deleteBus(str(input, 'Name')!)),
  DescribeEventBus: async (events, input) => {
    const name = await events.requireBus(str(input, 'Name', false));
    return { Name: name, Arn: events.busArn(name) };
  },
  ListEventBuses: async (events, input) => {
    const prefix = str(input, 'NamePrefix', false) ?? '';
    return { EventBuses: (await events.buses()).filter((b) => b.startsWith(prefix)).map((b) => ({ Name: b, Arn: events.busArn(b) })) };
  },
  CreateArchive: async (events, input) => {
    const bus = await events.requireBus(busOfArn(str(input, 'EventSourceArn')!));
    const retention = input['RetentionDays'] === undefined ? 0 : Number(input['RetentionDays']);
    if (!Number.isInteger(retention) || retention < 0) throw new PlatformError('VALIDATION', 'RetentionDays must be an integer >= 0.');
    const archive = await events.archives.create({ name: str(input, 'ArchiveName')!, bus, pattern: str(input, 'EventPattern', false), retentionDays: retention });
    return { ArchiveArn: archiveArn(events, archive.name), State: 'ENABLED', CreationTime: archive.createdAt / 1000 };
  },
  DescribeArchive: async (events, input) => describeArchive(events, events.archives.get(str(input, 'ArchiveName')!)),
  ListArchives: async (events, input) => {
    const prefix = str(input, 'NamePrefix', false) ?? '';
    const source = str(input, 'EventSourceArn', false);
    const bus = source === undefined ? undefined : busOfArn(source);
    return { Archives: events.archives.list(bus).filter((a) => a.name.startsWith(prefix)).map((a) => describeArchive(events, a)) };
  },
  DeleteArchive: async (events, input) => void (await events.archives.delete(str(input, 'ArchiveName')!)),
  StartReplay: async (events, input) => {
    const archive = /:archive\/([^/]+)$/.exec(str(input, 'EventSourceArn')!)?.[1];
    if (!archive) throw new PlatformError('VALIDATION', 'Parameter EventSourceArn is not valid: expected an archive ARN.');
    const seconds = (key: string) => {
      const v = input[key];
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new PlatformError('VALIDATION', `Parameter ${key} is not valid.`);
      return v * 1000;
    };
    const replay = await events.replay(str(input, 'ReplayName')!, archive, seconds('EventStartTime'), seconds('EventEndTime'));
    return { ReplayArn: replayArn(events, replay.name), State: replay.state, StateReason: `${replay.replayed} events replayed`, ReplayStartTime: replay.at / 1000 };
  },
  DescribeReplay: async (events, input) => describeReplay(events, events.archives.getReplay(str(input, 'ReplayName')!)),
  ListReplays: async (events) => ({ Replays: events.archives.listReplays().map((r) => describeReplay(events, r)) }),
  TestEventPattern: async (_events, input) => {
    const pattern = compilePattern(str(input, 'EventPattern')!);
    let event: unknown;
    try {
      event = JSON.parse(str(input, 'Event')!);
    } catch {
      throw new PlatformError('VALIDATION', 'Parameter Event is not valid.');
    }
    const e = event as Record<string, unknown>;
    for (const field of ['id', 'account', 'source', 'time', 'region', 'detail-type']) {
      if (e === null || typeof e !== 'object' || !(field in e)) throw new PlatformError('VALIDATION', 'Parameter Event is not valid.');
    }
    return { Result: matches(pattern, event) };
  },
};

export async function handleEventsRequest(events: EventsService, req: AwsRequest): Promise<AwsResponse> {
  const requestId = globalThis.crypto.randomUUID();
  try {
    const target = req.headers['x-amz-target'] ?? '';
    const operation = target.startsWith('AWSEvents.') ? target.slice('AWSEvents.'.length) : '';
    const handler = Object.hasOwn(OPERATIONS, operation) ? OPERATIONS[operation] : undefined;
    if (req.method !== 'POST' || !handler) throw new PlatformError('UNKNOWN_OPERATION', `Unknown operation ${operation.slice(0, 64) || '(none)'}`);
    let input: unknown;
    try {
      input = req.body.length === 0 ? {} : JSON.parse(req.body.toString('utf8'));
    } catch {
      throw new PlatformError('INVALID_REQUEST', 'The request body is not valid JSON.');
    }
    if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new PlatformError('INVALID_REQUEST', 'The request body must be a JSON object.');
    const out = await handler(events, input as Input);
    return { status: 200, headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': requestId }, body: JSON.stringify(out ?? {}) };
  } catch (err) {
    let [status, type] = [500, 'InternalException'];
    let message = 'An internal error occurred.';
    if (isPlatformError(err)) {
      [status, type] = ERRORS[err.code] ?? [400, 'ValidationException'];
      message = err.message;
    }
    return { status, headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': requestId }, body: JSON.stringify({ __type: type, message }) };
  }
}

const busOfArn = (arn: string): string => arn.slice(arn.lastIndexOf('/') + 1);
const archiveArn = (events: EventsService, name: string) => events.busArn('x').replace(/event-bus\/x$/, `archive/${name}`);
const replayArn = (events: EventsService, name: string) => events.busArn('x').replace(/event-bus\/x$/, `replay/${name}`);

function describeArchive(events: EventsService, a: { name: string; bus: string; pattern?: string | undefined; retentionDays: number; createdAt: number }) {
  return { ArchiveName: a.name, ArchiveArn: archiveArn(events, a.name), EventSourceArn: events.busArn(a.bus), ...(a.pattern ? { EventPattern: a.pattern } : {}), State: 'ENABLED', RetentionDays: a.retentionDays, CreationTime: a.createdAt / 1000 };
}

function describeReplay(events: EventsService, r: { name: string; archive: string; from: number; to: number; state: string; replayed: number; at: number }) {
  return {
    ReplayName: r.name,
    ReplayArn: replayArn(events, r.name),
    EventSourceArn: archiveArn(events, r.archive),
    State: r.state,
    StateReason: `${r.replayed} events replayed`,
    EventStartTime: r.from / 1000,
    EventEndTime: r.to / 1000,
    ReplayStartTime: r.at / 1000,
    ReplayEndTime: r.at / 1000,
  };
}

function describeRule(events: EventsService, r: Rule) {
  return {
    Name: r.name,
    Arn: events.ruleArn(r),
    EventPattern: r.pattern,
    State: r.enabled ? 'ENABLED' : 'DISABLED',
    EventBusName: r.bus,
    ...(r.description ? { Description: r.description } : {}),
    ...(r.origin === 'manifest' ? { ManagedBy: 'nuvola.yaml' } : {}),
  };
}

function toTarget(t: Input): Target {
  const transformer = t['InputTransformer'] as { InputPathsMap?: Record<string, string>; InputTemplate?: unknown } | undefined;
  if (transformer !== undefined && typeof transformer.InputTemplate !== 'string') throw new PlatformError('VALIDATION', 'InputTransformer needs an InputTemplate.');
  return {
    id: str(t, 'Id')!,
    arn: str(t, 'Arn')!,
    input: str(t, 'Input', false),
    inputPath: str(t, 'InputPath', false),
    inputTransformer: transformer ? { inputPathsMap: transformer.InputPathsMap, inputTemplate: transformer.InputTemplate as string } : undefined,
  };
}

function fromTarget(t: Target) {
  return {
    Id: t.id,
    Arn: t.arn,
    ...(t.input !== undefined ? { Input: t.input } : {}),
    ...(t.inputPath !== undefined ? { InputPath: t.inputPath } : {}),
    ...(t.inputTransformer ? { InputTransformer: { InputPathsMap: t.inputTransformer.inputPathsMap, InputTemplate: t.inputTransformer.inputTemplate } } : {}),
  };
}

function str(input: Input, key: string, required = true): string | undefined {
  const v = input[key];
  if (v === undefined || v === null) {
    if (required) throw new PlatformError('VALIDATION', `1 validation error detected: Value null at '${key[0]!.toLowerCase()}${key.slice(1)}' failed to satisfy constraint: Member must not be null`);
    return undefined;
  }
  if (typeof v !== 'string') throw new PlatformError('VALIDATION', `Value for ${key} must be a string.`);
  return v;
}
