/**
 * The Lambda API (REST-JSON, https://docs.aws.amazon.com/lambda/latest/api/API_Operations.html):
 * Invoke, GetFunction, GetFunctionConfiguration and ListFunctions, with Lambda's shapes, headers
 * and error codes, so that `@aws-sdk/client-lambda` and `aws lambda` work unchanged.
 */
import { PlatformError, isPlatformError, type ErrorCode } from '../core/errors.js';
import { INVOCATION_TYPES, type FunctionInfo, type FunctionsService, type InvocationType } from '../services/functions/index.js';
import type { AwsRequest, AwsResponse } from './types.js';

/** PlatformError code → Lambda's HTTP status and error type. */
const ERRORS: Partial<Record<ErrorCode, readonly [number, string]>> = {
  FUNCTION_NOT_FOUND: [404, 'ResourceNotFoundException'],
  QUEUE_NOT_FOUND: [404, 'ResourceNotFoundException'],
  TOO_MANY_REQUESTS: [429, 'TooManyRequestsException'],
  PAYLOAD_TOO_LARGE: [413, 'RequestTooLargeException'],
  INVALID_REQUEST: [400, 'InvalidRequestContentException'],
  VALIDATION: [400, 'ValidationException'],
  UNKNOWN_OPERATION: [404, 'UnknownOperationException'],
  SHUTTING_DOWN: [503, 'ServiceException'],
};

const PREFIX = '/2015-03-31/functions';

export interface LambdaApiOptions {
  readonly functions: FunctionsService;
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
  const m = /^\/2015-03-31\/functions\/([^/]+)(\/invocations|\/configuration)?$/.exec(path);
  if (!m) throw unknownOperation(req);
  let name: string;
  try {
    name = decodeURIComponent(m[1]!);
  } catch {
    throw new PlatformError('VALIDATION', `1 validation error detected: Value '${m[1]}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?`);
  }
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
