/**
 * Amazon EventBridge Scheduler's REST-JSON API (`/schedules/{Name}`, `/schedule-groups/{Name}`), what
 * `@aws-sdk/client-scheduler` and `aws scheduler` send: Create/Get/Update/Delete/ListSchedules and
 * the schedule group operations, with Scheduler's shapes and errors.
 */
import { PlatformError, isPlatformError, type ErrorCode } from '../core/errors.js';
import { DEFAULT_GROUP, type ApiSchedule, type SchedulesFace } from '../services/schedules/index.js';
import type { AwsRequest, AwsResponse } from './types.js';

const ERRORS: Partial<Record<ErrorCode, readonly [number, string]>> = {
  RESOURCE_NOT_FOUND: [404, 'ResourceNotFoundException'],
  ALREADY_EXISTS: [409, 'ConflictException'],
  VALIDATION: [400, 'ValidationException'],
  INVALID_REQUEST: [400, 'ValidationException'],
  UNKNOWN_OPERATION: [404, 'UnknownOperationException'],
};

export async function handleSchedulerRequest(face: SchedulesFace, req: AwsRequest, region: string, accountId: string): Promise<AwsResponse> {
  const requestId = globalThis.crypto.randomUUID();
  const arn = (resource: string) => `arn:aws:scheduler:${region}:${accountId}:${resource}`;
  const json = (status: number, body: unknown): AwsResponse => ({ status, headers: { 'content-type': 'application/json', 'x-amzn-requestid': requestId }, body: JSON.stringify(body) });
  try {
    const schedule = /^\/schedules(?:\/([^/]+))?\/?$/.exec(req.path);
    const group = /^\/schedule-groups(?:\/([^/]+))?\/?$/.exec(req.path);
    const groupParam = req.query.get('groupName') ?? DEFAULT_GROUP;
    if (schedule?.[1] !== undefined) {
      const name = decodeURIComponent(schedule[1]);
      if (req.method === 'GET') return json(200, describe(await face.api.get(groupParam, name), arn));
      if (req.method === 'DELETE') {
        await face.api.delete(groupParam, name);
        await face.refresh();
        return json(200, {});
      }
      if (req.method === 'POST' || req.method === 'PUT') {
        const body = object(req.body);
        const created = await face.api.put(toSchedule(name, body), req.method === 'PUT');
        await face.refresh();
        return json(200, { ScheduleArn: arn(`schedule/${created.group}/${created.name}`) });
      }
    }
    if (schedule && schedule[1] === undefined && req.method === 'GET') {
      const g = req.query.get('ScheduleGroup') ?? undefined;
      const list = await face.api.list(g, req.query.get('NamePrefix') ?? '');
      return json(200, { Schedules: list.map((s) => ({ Name: s.name, GroupName: s.group, Arn: arn(`schedule/${s.group}/${s.name}`), State: s.state, CreationDate: s.createdAt / 1000, LastModificationDate: s.modifiedAt / 1000, Target: { Arn: s.target.arn } })) });
    }
    if (group?.[1] !== undefined) {
      const name = decodeURIComponent(group[1]);
      if (req.method === 'POST') {
        await face.api.createGroup(name);
        return json(200, { ScheduleGroupArn: arn(`schedule-group/${name}`) });
      }
      if (req.method === 'GET') {
        const found = (await face.api.groups()).find((g) => g.name === name);
        if (!found) throw new PlatformError('RESOURCE_NOT_FOUND', `Schedule group ${name} does not exist.`);
        return json(200, { Name: found.name, Arn: arn(`schedule-group/${found.name}`), State: 'ACTIVE', CreationDate: found.createdAt / 1000 });
      }
      if (req.method === 'DELETE') {
        await face.api.deleteGroup(name);
        await face.refresh();
        return json(200, {});
      }
    }
    if (group && group[1] === undefined && req.method === 'GET') {
      return json(200, { ScheduleGroups: (await face.api.groups()).map((g) => ({ Name: g.name, Arn: arn(`schedule-group/${g.name}`), State: 'ACTIVE', CreationDate: g.createdAt / 1000 })) });
    }
    throw new PlatformError('UNKNOWN_OPERATION', `Unknown operation ${req.method} ${req.path}`);
  } catch (err) {
    let [status, type] = [500, 'InternalServerException'];
    let message = 'An internal error occurred.';
    if (isPlatformError(err)) {
      [status, type] = ERRORS[err.code] ?? [400, 'ValidationException'];
      message = err.message;
    }
    return { status, headers: { 'content-type': 'application/json', 'x-amzn-requestid': requestId, 'x-amzn-errortype': type }, body: JSON.stringify({ Message: message }) };
  }
}

function toSchedule(name: string, b: Record<string, unknown>): Omit<ApiSchedule, 'createdAt' | 'modifiedAt'> {
  const target = b['Target'] as { Arn?: unknown; Input?: unknown; RoleArn?: unknown } | undefined;
  const window = b['FlexibleTimeWindow'] as { Mode?: unknown; MaximumWindowInMinutes?: unknown } | undefined;
  if (typeof b['ScheduleExpression'] !== 'string') throw new PlatformError('VALIDATION', '1 validation error detected: Value null at \'scheduleExpression\' failed to satisfy constraint: Member must not be null');
  if (!target || typeof target.Arn !== 'string') throw new PlatformError('VALIDATION', "1 validation error detected: Value null at 'target' failed to satisfy constraint: Member must not be null");
  if (!window || (window.Mode !== 'OFF' && window.Mode !== 'FLEXIBLE')) throw new PlatformError('VALIDATION', "1 validation error detected: Value null at 'flexibleTimeWindow' failed to satisfy constraint: Member must not be null");
  const time = (key: string) => (typeof b[key] === 'number' ? (b[key] as number) * 1000 : undefined);
  return {
    group: typeof b['GroupName'] === 'string' ? b['GroupName'] : DEFAULT_GROUP,
    name,
    expression: b['ScheduleExpression'],
    timeZone: typeof b['ScheduleExpressionTimezone'] === 'string' ? b['ScheduleExpressionTimezone'] : undefined,
    state: b['State'] === 'DISABLED' ? 'DISABLED' : 'ENABLED',
    description: typeof b['Description'] === 'string' ? b['Description'] : undefined,
    startDate: time('StartDate'),
    endDate: time('EndDate'),
    target: { arn: target.Arn, input: typeof target.Input === 'string' ? target.Input : undefined, roleArn: typeof target.RoleArn === 'string' ? target.RoleArn : undefined },
    flexibleWindow: { mode: window.Mode, maximumWindowInMinutes: typeof window.MaximumWindowInMinutes === 'number' ? window.MaximumWindowInMinutes : undefined },
    actionAfterCompletion: b['ActionAfterCompletion'] === 'DELETE' ? 'DELETE' : 'NONE',
  };
}

function describe(s: ApiSchedule, arn: (resource: string) => string) {
  return {
    Name: s.name,
    GroupName: s.group,
    Arn: arn(`schedule/${s.group}/${s.name}`),
    ScheduleExpression: s.expression,
    ...(s.timeZone ? { ScheduleExpressionTimezone: s.timeZone } : {}),
    State: s.state,
    ...(s.description ? { Description: s.description } : {}),
    ...(s.startDate !== undefined ? { StartDate: s.startDate / 1000 } : {}),
    ...(s.endDate !== undefined ? { EndDate: s.endDate / 1000 } : {}),
    Target: { Arn: s.target.arn, ...(s.target.input !== undefined ? { Input: s.target.input } : {}), ...(s.target.roleArn ? { RoleArn: s.target.roleArn } : {}) },
    FlexibleTimeWindow: { Mode: s.flexibleWindow.mode, ...(s.flexibleWindow.maximumWindowInMinutes !== undefined ? { MaximumWindowInMinutes: s.flexibleWindow.maximumWindowInMinutes } : {}) },
    ActionAfterCompletion: s.actionAfterCompletion,
    CreationDate: s.createdAt / 1000,
    LastModificationDate: s.modifiedAt / 1000,
  };
}

function object(body: Buffer): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(body.length === 0 ? '{}' : body.toString('utf8'));
  } catch {
    throw new PlatformError('INVALID_REQUEST', 'The request body is not valid JSON.');
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new PlatformError('INVALID_REQUEST', 'The request body must be a JSON object.');
  return v as Record<string, unknown>;
}
