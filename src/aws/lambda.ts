/**
 * The Lambda API (REST-JSON, https://docs.aws.amazon.com/lambda/latest/api/API_Operations.html):
 * Invoke, GetFunction, GetFunctionConfiguration, ListFunctions and the event-invoke-config operations
 * (Put, Update, Get, Delete, List), with Lambda's shapes, headers and error codes, so that
 * `@aws-sdk/client-lambda` and `aws lambda` work unchanged.
 */
import { PlatformError, isPlatformError, type ErrorCode } from '../core/errors.js';
import { ASYNC_DEFAULTS, INVOCATION_TYPES, type AsyncConfig, type FunctionInfo, type FunctionsService, type InvocationType } from '../services/functions/index.js';
import { eventSourceMappings } from './lambda-event-sources.js';
import type { AwsRequest, AwsResponse } from './types.js';

/** PlatformError code → Lambda's HTTP status and error type. */
const ERRORS: Partial<Record<ErrorCode, readonly [number, string]>> = {
  FUNCTION_NOT_FOUND: [404, 'ResourceNotFoundException'],
  QUEUE_NOT_FOUND: [404, 'ResourceNotFoundException'],
  MAPPING_NOT_FOUND: [404, 'ResourceNotFoundException'],
  TOO_MANY_REQUESTS: [429, 'TooManyRequestsException'],
  PAYLOAD_TOO_LARGE: [413, 'RequestTooLargeException'],
  INVALID_REQUEST: [400, 'InvalidRequestContentException'],
  VALIDATION: [400, 'ValidationException'],
  INVALID_PARAMETER: [400, 'InvalidParameterValueException'],
  UNKNOWN_OPERATION: [404, 'UnknownOperationException'],
  SHUTTING_DOWN: [503, 'ServiceException'],
};

const PREFIX = '/2015-03-31/functions';

export interface LambdaApiOptions {
  readonly functions: FunctionsService;
  readonly region: string;
  readonly accountId: string;
  /** Base URL of this platform, for `Code.Location`. */
  readonly endpointUrl: () => string;
}

export async function handleLambdaRequest(options: LambdaApiOptions, req: AwsRequest): Promise<AwsResponse> {
  const requestId = globalThis.crypto.randomUUID();
  try {
    return await route(options, req, requestId);
  } catch (err) {
    return errorResponse(err, requestId);
  }
}

async function route(options: LambdaApiOptions, req: AwsRequest, requestId: string): Promise<AwsResponse> {
  const { functions } = options;
  const path = req.path.replace(/\/+$/, '');
  if (path === PREFIX && req.method === 'GET') {
    return listFunctions(functions, req, requestId);
  }
  const mappings = await eventSourceMappings(functions, req, options.region, options.accountId);
  if (mappings) return json(mappings.status, mappings.body, requestId);
  const config = /^\/2019-09-25\/functions\/([^/]+)\/event-invoke-config(\/list)?$/.exec(path);
  if (config) return eventInvokeConfig(functions, functionName(config[1]!), config[2] !== undefined, req, requestId);
  const m = /^\/2015-03-31\/functions\/([^/]+)(\/invocations|\/configuration)?$/.exec(path);
  if (!m) throw unknownOperation(req);
  const name = functionName(m[1]!);
  const op = m[2];
  if (op === '/invocations' && req.method === 'POST') return invoke(functions, name, req);
  if (op === '/configuration' && req.method === 'GET') return json(200, configuration(functions.get(name)), requestId);
  if (op === undefined && req.method === 'GET') {
    const fn = functions.get(name);
    return json(
      200,
      {
        Configuration: configuration(fn),
        Code: { RepositoryType: 'S3', Location: `${options.endpointUrl()}/_nuvola/functions/${encodeURIComponent(fn.name)}/code` },
        Tags: {},
      },
      requestId,
    );
  }
  throw unknownOperation(req);
}

function functionName(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new PlatformError('VALIDATION', `1 validation error detected: Value '${segment}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?`);
  }
}

/**
 * PutFunctionEventInvokeConfig (PUT: replaces), UpdateFunctionEventInvokeConfig (POST: merges),
 * GetFunctionEventInvokeConfig, DeleteFunctionEventInvokeConfig (back to the manifest's settings) and
 * ListFunctionEventInvokeConfigs. Destinations are functions of the app, by name or ARN.
 */
async function eventInvokeConfig(functions: FunctionsService, name: string, list: boolean, req: AwsRequest, requestId: string): Promise<AwsResponse> {
  const describe = () => {
    const fn = functions.get(name);
    const { config, lastModified } = functions.eventInvokeConfig(name);
    const destination = (to: string | undefined) => (to === undefined ? {} : { Destination: to.startsWith('arn:aws:sqs:') ? to : functions.get(to).arn });
    return {
      LastModified: lastModified / 1000,
      FunctionArn: `${fn.arn}:$LATEST`,
      MaximumRetryAttempts: config.maximumRetryAttempts,
      MaximumEventAgeInSeconds: config.maximumEventAgeSeconds,
      DestinationConfig: { OnSuccess: destination(config.onSuccess), OnFailure: destination(config.onFailure) },
    };
  };
  if (list) {
    if (req.method !== 'GET') throw unknownOperation(req);
    return json(200, { FunctionEventInvokeConfigs: [describe()] }, requestId);
  }
  if (req.method === 'GET') return json(200, describe(), requestId);
  if (req.method === 'DELETE') {
    await functions.setEventInvokeConfig(name, undefined);
    return { status: 204, headers: { 'x-amzn-requestid': requestId }, body: '' };
  }
  if (req.method !== 'PUT' && req.method !== 'POST') throw unknownOperation(req);
  const body = parseJsonObject(req.body.toString('utf8'));
  const base: AsyncConfig = req.method === 'POST' ? functions.eventInvokeConfig(name).config : ASYNC_DEFAULTS;
  const retries = body['MaximumRetryAttempts'];
  const age = body['MaximumEventAgeInSeconds'];
  if (retries !== undefined && !(Number.isInteger(retries) && (retries as number) >= 0 && (retries as number) <= 2)) {
    throw validation(`1 validation error detected: Value '${String(retries)}' at 'maximumRetryAttempts' failed to satisfy constraint: Member must have value less than or equal to 2`);
  }
  if (age !== undefined && !(Number.isInteger(age) && (age as number) >= 60 && (age as number) <= 21600)) {
    throw validation(`1 validation error detected: Value '${String(age)}' at 'maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value between 60 and 21600`);
  }
  const destinations = body['DestinationConfig'] ?? {};
  if (!isObject(destinations)) throw validation('1 validation error detected: Value at \'destinationConfig\' failed to satisfy constraint: Member must be a structure');
  const target = (which: 'OnSuccess' | 'OnFailure', current: string | undefined): string | undefined => {
    const given = destinations[which];
    const at = `destinationConfig.${which === 'OnSuccess' ? 'onSuccess' : 'onFailure'}`;
    if (given === undefined || given === null) return req.method === 'POST' ? current : undefined;
    if (!isObject(given)) throw validation(`1 validation error detected: Value at '${at}' failed to satisfy constraint: Member must be a structure`);
    const destination = given['Destination'];
    if (destination === undefined || destination === null || destination === '') return undefined;
    if (typeof destination !== 'string') throw validation(`1 validation error detected: Value at '${at}.destination' failed to satisfy constraint: Member must be a string`);
    return destinationFunction(destination);
  };
  await functions.setEventInvokeConfig(name, {
    maximumRetryAttempts: (retries as number | undefined) ?? base.maximumRetryAttempts,
    maximumEventAgeSeconds: (age as number | undefined) ?? base.maximumEventAgeSeconds,
    onSuccess: target('OnSuccess', base.onSuccess),
    onFailure: target('OnFailure', base.onFailure),
  });
  return json(200, describe(), requestId);
}

/** A destination: a function's name (from its name or ARN), or a queue's ARN; other kinds of ARN are not destinations here (yet). */
function destinationFunction(destination: string): string {
  const m = /^arn:aws[a-zA-Z-]*:lambda:[^:]*:\d{12}:function:([a-zA-Z0-9-_]+)(?::\$LATEST)?$/.exec(destination);
  if (m) return m[1]!;
  if (/^[a-zA-Z0-9-_]{1,64}$/.test(destination)) return destination;
  if (/^arn:aws:sqs:[^:]*:\d{12}:[A-Za-z0-9_.-]{1,80}$/.test(destination)) return destination;
  throw new PlatformError('INVALID_PARAMETER', `The destination ARN ${destination} is not supported: destinations are functions and queues of the app`, { destination });
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function parseJsonObject(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text === '' ? '{}' : text);
  } catch {
    throw new PlatformError('INVALID_REQUEST', 'Could not parse request body into json');
  }
  if (!isObject(value)) throw new PlatformError('INVALID_REQUEST', 'Could not parse request body into json: expected an object');
  return value;
}

/** The response's `x-amzn-RequestId` is the invocation's request id, as `context.awsRequestId` sees it. */
async function invoke(functions: FunctionsService, name: string, req: AwsRequest): Promise<AwsResponse> {
  const type = (req.headers['x-amz-invocation-type'] ?? 'RequestResponse') as InvocationType;
  if (!INVOCATION_TYPES.includes(type)) {
    throw validation(`1 validation error detected: Value '${type}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [${INVOCATION_TYPES.join(', ')}]`);
  }
  const logType = req.headers['x-amz-log-type'] ?? 'None';
  if (logType !== 'None' && logType !== 'Tail') {
    throw validation(`1 validation error detected: Value '${logType}' at 'logType' failed to satisfy constraint: Member must satisfy enum value set: [None, Tail]`);
  }
  const qualifier = req.query.get('Qualifier');
  if (qualifier && qualifier !== '$LATEST') {
    throw new PlatformError('FUNCTION_NOT_FOUND', `Function not found: ${functions.get(name).arn}:${qualifier}`);
  }
  const clientContextHeader = req.headers['x-amz-client-context'];
  const clientContext = clientContextHeader ? parseClientContext(clientContextHeader) : undefined;
  const out = await functions.invoke(name, { type, payload: req.body.toString('utf8'), tail: logType === 'Tail', clientContext });
  const headers: Record<string, string> = { 'x-amzn-requestid': out.requestId };
  if (type === 'Event') return { status: 202, headers, body: '' };
  if (type === 'DryRun') return { status: 204, headers, body: '' };
  const result = out.result!;
  headers['content-type'] = 'application/json';
  headers['x-amz-executed-version'] = '$LATEST';
  if (result.error) headers['x-amz-function-error'] = 'Unhandled';
  if (out.logTail !== undefined) headers['x-amz-log-result'] = Buffer.from(out.logTail).toString('base64');
  return { status: 200, headers, body: result.payload };
}

function parseClientContext(b64: string): unknown {
  try {
    return JSON.parse(Buffer.from(b64, 'base64').toString('utf8'));
  } catch {
    throw new PlatformError('INVALID_REQUEST', 'Client context must be a valid Base64-encoded JSON object.');
  }
}

function listFunctions(functions: FunctionsService, req: AwsRequest, requestId: string): AwsResponse {
  const all = functions.list();
  const maxItems = Math.min(50, Math.max(1, Number(req.query.get('MaxItems') ?? 50) || 50));
  const marker = req.query.get('Marker');
  const start = marker ? Math.max(0, all.findIndex((f) => f.name === marker)) : 0;
  const page = all.slice(start, start + maxItems);
  const next = all[start + maxItems];
  return json(200, { Functions: page.map(configuration), ...(next ? { NextMarker: next.name } : {}) }, requestId);
}

/** Lambda's `FunctionConfiguration`. */
function configuration(fn: FunctionInfo): Record<string, unknown> {
  return {
    FunctionName: fn.name,
    FunctionArn: fn.arn,
    Runtime: fn.runtime,
    Role: `arn:aws:iam::${fn.arn.split(':')[4]}:role/nuvola-function`,
    Handler: fn.handler,
    CodeSize: fn.codeSize,
    Description: '',
    Timeout: fn.timeoutSeconds,
    MemorySize: fn.memoryMb,
    EphemeralStorage: { Size: fn.ephemeralStorageMb },
    ...(fn.async.deadLetterQueue ? { DeadLetterConfig: { TargetArn: `arn:aws:sqs:${fn.arn.split(':')[3]}:${fn.arn.split(':')[4]}:${fn.async.deadLetterQueue}` } } : {}),
    LastModified: new Date(fn.lastModified).toISOString().replace('Z', '+0000'),
    CodeSha256: Buffer.from(fn.codeSha256, 'hex').toString('base64'),
    Version: '$LATEST',
    Environment: { Variables: { ...fn.environment } },
    TracingConfig: { Mode: 'PassThrough' },
    RevisionId: fn.codeSha256.slice(0, 8) + '-0000-4000-8000-' + fn.codeSha256.slice(8, 20),
    State: 'Active',
    LastUpdateStatus: 'Successful',
    PackageType: 'Zip',
    Architectures: ['x86_64'],
    LoggingConfig: { LogFormat: 'Text', LogGroup: `/aws/lambda/${fn.name}` },
  };
}

function json(status: number, body: unknown, requestId: string): AwsResponse {
  return { status, headers: { 'content-type': 'application/json', 'x-amzn-requestid': requestId }, body: JSON.stringify(body) };
}

function unknownOperation(req: AwsRequest): PlatformError {
  return new PlatformError('UNKNOWN_OPERATION', `Unknown operation ${req.method} ${req.path}`);
}

function validation(message: string): PlatformError {
  return new PlatformError('VALIDATION', message);
}

function errorResponse(err: unknown, requestId: string): AwsResponse {
  let status = 500;
  let type = 'ServiceException';
  let message = 'An internal error occurred';
  const extra: Record<string, unknown> = {};
  if (isPlatformError(err)) {
    const mapped = ERRORS[err.code];
    if (mapped) [status, type] = mapped;
    message = err.message;
    if (err.code === 'TOO_MANY_REQUESTS') extra.Reason = err.details.reason;
  }
  return {
    status,
    headers: { 'content-type': 'application/json', 'x-amzn-requestid': requestId, 'x-amzn-errortype': type },
    body: JSON.stringify({ Type: status < 500 ? 'User' : 'Service', message, ...extra }),
  };
}
