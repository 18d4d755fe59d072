/**
 * The Lambda API's event source mapping operations (REST-JSON under /2015-03-31/event-source-mappings):
 * Create, List, Get, Update and Delete, for SQS queues, with Lambda's shapes.
 */
import { PlatformError } from '../core/errors.js';
import type { EventSourceMapping, FunctionsService } from '../services/functions/index.js';
import type { AwsRequest } from './types.js';

const PATH = /^\/2015-03-31\/event-source-mappings(?:\/([^/]+))?$/;

export interface MappingAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** The answer, or undefined when the path is no event source mapping's. */
export async function eventSourceMappings(functions: FunctionsService, req: AwsRequest, region: string, accountId: string): Promise<MappingAnswer | undefined> {
  const m = PATH.exec(req.path.replace(/\/+$/, ''));
  if (!m) return undefined;
  const uuid = m[1] === undefined ? undefined : decodeURIComponent(m[1]);
  const shape = (mapping: EventSourceMapping, state?: string) => describe(mapping, functions, region, accountId, state);
  if (uuid === undefined && req.method === 'POST') {
    const body = jsonObject(req.body);
    const created = await functions.createMapping({
      functionName: string(body, 'FunctionName'),
      queue: queueOf(string(body, 'EventSourceArn')),
      batchSize: optInt(body, 'BatchSize') ?? 10,
      maximumBatchingWindow: optInt(body, 'MaximumBatchingWindowInSeconds') ?? 0,
      reportBatchItemFailures: reportsFailures(body),
      maximumConcurrency: scaling(body),
      enabled: body['Enabled'] === undefined ? true : body['Enabled'] === true,
    });
    return { status: 202, body: shape(created, 'Creating') };
  }
  if (uuid === undefined && req.method === 'GET') {
    const fn = req.query.get('FunctionName') ?? undefined;
    const arn = req.query.get('EventSourceArn') ?? undefined;
    const all = await functions.listMappings({ functionName: fn, queue: arn === undefined ? undefined : queueOf(arn) });
    const start = Number(req.query.get('Marker') ?? 0) || 0;
    const max = Math.min(10_000, Math.max(1, Number(req.query.get('MaxItems') ?? 100) || 100));
    const page = all.slice(start, start + max);
    return { status: 200, body: { EventSourceMappings: page.map((x) => shape(x)), ...(start + max < all.length ? { NextMarker: String(start + max) } : {}) } };
  }
  if (uuid !== undefined && req.method === 'GET') return { status: 200, body: shape(await functions.getMapping(uuid)) };
  if (uuid !== undefined && req.method === 'DELETE') return { status: 202, body: shape(await functions.deleteMapping(uuid), 'Deleting') };
  if (uuid !== undefined && req.method === 'PUT') {
    const body = jsonObject(req.body);
    const updated = await functions.updateMapping(uuid, {
      ...(body['FunctionName'] !== undefined ? { functionName: string(body, 'FunctionName') } : {}),
      ...(body['BatchSize'] !== undefined ? { batchSize: optInt(body, 'BatchSize')! } : {}),
      ...(body['MaximumBatchingWindowInSeconds'] !== undefined ? { maximumBatchingWindow: optInt(body, 'MaximumBatchingWindowInSeconds')! } : {}),
      ...(body['FunctionResponseTypes'] !== undefined ? { reportBatchItemFailures: reportsFailures(body) } : {}),
      ...(body['ScalingConfig'] !== undefined ? { maximumConcurrency: scaling(body) } : {}),
      ...(body['Enabled'] !== undefined ? { enabled: body['Enabled'] === true } : {}),
    });
    return { status: 202, body: shape(updated, 'Updating') };
  }
  throw new PlatformError('UNKNOWN_OPERATION', `Unknown operation ${req.method} ${req.path}`);
}

function describe(m: EventSourceMapping, functions: FunctionsService, region: string, accountId: string, state?: string) {
  return {
    UUID: m.uuid,
    BatchSize: m.batchSize,
    MaximumBatchingWindowInSeconds: m.maximumBatchingWindow,
    EventSourceArn: `arn:aws:sqs:${region}:${accountId}:${m.queue}`,
    FunctionArn: functions.get(m.functionName).arn,
    LastModified: m.lastModified / 1000,
    State: state ?? (m.enabled ? 'Enabled' : 'Disabled'),
    StateTransitionReason: 'USER_INITIATED',
    FunctionResponseTypes: m.reportBatchItemFailures ? ['ReportBatchItemFailures'] : [],
    ...(m.maximumConcurrency !== undefined ? { ScalingConfig: { MaximumConcurrency: m.maximumConcurrency } } : {}),
  };
}

function queueOf(arn: string): string {
  const m = /^arn:aws[a-zA-Z-]*:sqs:[^:]*:\d{12}:([A-Za-z0-9_.-]{1,80})$/.exec(arn);
  if (!m) throw new PlatformError('INVALID_PARAMETER', `Unsupported event source ${arn.slice(0, 200)}: event source mappings here read SQS queues`);
  return m[1]!;
}

function jsonObject(body: Buffer): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(body.length === 0 ? '{}' : body.toString('utf8'));
  } catch {
    throw new PlatformError('INVALID_REQUEST', 'Could not parse request body into json');
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new PlatformError('INVALID_REQUEST', 'Could not parse request body into json: expected an object');
  return v as Record<string, unknown>;
}

function string(body: Record<string, unknown>, key: string): string {
  const v = body[key];
  if (typeof v !== 'string' || v === '') throw new PlatformError('VALIDATION', `1 validation error detected: Value null at '${key[0]!.toLowerCase()}${key.slice(1)}' failed to satisfy constraint: Member must not be null`);
  return v;
}

function optInt(body: Record<string, unknown>, key: string): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (!Number.isInteger(v)) throw new PlatformError('VALIDATION', `1 validation error detected: Value '${String(v).slice(0, 40)}' at '${key[0]!.toLowerCase()}${key.slice(1)}' failed to satisfy constraint: Member must be an integer`);
  return v as number;
}

function reportsFailures(body: Record<string, unknown>): boolean {
  const v = body['FunctionResponseTypes'];
  if (v === undefined || v === null) return false;
  if (!Array.isArray(v) || !v.every((t) => t === 'ReportBatchItemFailures')) {
    throw new PlatformError('VALIDATION', "1 validation error detected: Value at 'functionResponseTypes' failed to satisfy constraint: Member must satisfy enum value set: [ReportBatchItemFailures]");
  }
  return v.length > 0;
}

function scaling(body: Record<string, unknown>): number | undefined {
  const s = body['ScalingConfig'];
  if (s === undefined || s === null) return undefined;
  const n = (s as { MaximumConcurrency?: unknown }).MaximumConcurrency;
  if (n === undefined) return undefined;
  if (!Number.isInteger(n)) throw new PlatformError('VALIDATION', "1 validation error detected: Value at 'scalingConfig.maximumConcurrency' failed to satisfy constraint: Member must be an integer");
  return n as number;
}
