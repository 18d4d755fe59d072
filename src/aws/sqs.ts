/**
 * Amazon SQS's JSON protocol (`X-Amz-Target: AmazonSQS.<Operation>`, `application/x-amz-json-1.0`),
 * what `@aws-sdk/client-sqs` v3 and the AWS CLI send: queues, messages, batches, attributes, tags and
 * message move tasks, with SQS's shapes and errors. SQS is "query compatible": an error also names
 * its Query-protocol code in `x-amzn-query-error`, which the SDKs surface as the error's code.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/
 */
import { PlatformError, isPlatformError, type ErrorCode } from '../core/errors.js';
import { SQS_LIMITS, type MessageAttributeValue } from '../core/sqs.js';
import type { QueuesService, ReceivedMessage, SendInput } from '../services/queues/index.js';
import { fromQuery, queryErrorXml, toQueryXml } from './sqs-query.js';
import type { AwsRequest, AwsResponse } from './types.js';

/** An SQS error: HTTP status, the JSON `__type`, and the Query code. */
type SqsError = readonly [number, string, string];

const ERRORS: Partial<Record<ErrorCode, SqsError>> = {
  QUEUE_NOT_FOUND: [400, 'QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue'],
  QUEUE_EXISTS: [400, 'QueueNameExists', 'QueueAlreadyExists'],
  RECEIPT_INVALID: [400, 'ReceiptHandleIsInvalid', 'ReceiptHandleIsInvalid'],
  INVALID_ATTRIBUTE: [400, 'InvalidAttributeValue', 'InvalidAttributeValue'],
  INVALID_MESSAGE: [400, 'InvalidMessageContents', 'InvalidMessageContents'],
  LIMIT_EXCEEDED: [403, 'OverLimit', 'OverLimit'],
  PURGE_IN_PROGRESS: [403, 'PurgeQueueInProgress', 'AWS.SimpleQueueService.PurgeQueueInProgress'],
  VALIDATION: [400, 'InvalidParameterValue', 'InvalidParameterValue'],
  INVALID_REQUEST: [400, 'InvalidParameterValue', 'InvalidParameterValue'],
  UNKNOWN_OPERATION: [400, 'UnsupportedOperation', 'AWS.SimpleQueueService.UnsupportedOperation'],
  SHUTTING_DOWN: [503, 'ServiceUnavailable', 'ServiceUnavailable'],
};

/** Wire-level errors of a request's shape, answered here. */
const WIRE = {
  missing: [400, 'MissingParameter', 'MissingParameter'],
  emptyBatch: [400, 'EmptyBatchRequest', 'AWS.SimpleQueueService.EmptyBatchRequest'],
  tooManyEntries: [400, 'TooManyEntriesInBatchRequest', 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest'],
  idsNotDistinct: [400, 'BatchEntryIdsNotDistinct', 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct'],
  badEntryId: [400, 'InvalidBatchEntryId', 'AWS.SimpleQueueService.InvalidBatchEntryId'],
  batchTooLong: [400, 'BatchRequestTooLong', 'AWS.SimpleQueueService.BatchRequestTooLong'],
  unknownAttribute: [400, 'InvalidAttributeName', 'InvalidAttributeName'],
  notJson: [400, 'SerializationException', 'SerializationException'],
} as const satisfies Record<string, SqsError>;

class WireError extends Error {
  constructor(
    readonly error: SqsError,
    message: string,
  ) {
    super(message);
  }
}

export interface SqsApiOptions {
  readonly queues: QueuesService;
}

type Input = Record<string, unknown>;
type Handler = (queues: QueuesService, input: Input, req: AwsRequest) => Promise<unknown>;

const OPERATIONS: Readonly<Record<string, Handler>> = {
  CreateQueue: async (queues, input) => ({ QueueUrl: await queues.create(str(input, 'QueueName'), strMap(input, 'Attributes'), strMap(input, 'tags')) }),
  GetQueueUrl: async (queues, input) => ({ QueueUrl: (await queues.resolve(str(input, 'QueueName'))).url }),
  DeleteQueue: async (queues, input) => void (await queues.delete(str(input, 'QueueUrl'))),
  ListQueues: async (queues, input) => {
    const names = await queues.list(optStr(input, 'QueueNamePrefix') ?? '');
    const max = input['MaxResults'] === undefined ? undefined : int(input, 'MaxResults', 1, 1000);
    const start = input['NextToken'] === undefined ? 0 : Number(Buffer.from(str(input, 'NextToken'), 'base64url').toString()) || 0;
    const page = max === undefined ? names.slice(0, 1000) : names.slice(start, start + max);
    const next = max !== undefined && start + max < names.length ? Buffer.from(String(start + max)).toString('base64url') : undefined;
    return { QueueUrls: page.map((n) => queues.url(n)), ...(next ? { NextToken: next } : {}) };
  },
  GetQueueAttributes: async (queues, input) => {
    const names = strList(input, 'AttributeNames');
    return { Attributes: await queues.getAttributes(str(input, 'QueueUrl'), names.length > 0 ? names : []) };
  },
  SetQueueAttributes: async (queues, input) => void (await queues.setAttributes(str(input, 'QueueUrl'), strMap(input, 'Attributes', true))),
  ListQueueTags: async (queues, input) => ({ Tags: await queues.tags(str(input, 'QueueUrl')) }),
  TagQueue: async (queues, input) => void (await queues.setTags(str(input, 'QueueUrl'), strMap(input, 'Tags', true))),
  UntagQueue: async (queues, input) => void (await queues.setTags(str(input, 'QueueUrl'), {}, strList(input, 'TagKeys'))),
  PurgeQueue: async (queues, input) => void (await queues.purge(str(input, 'QueueUrl'))),
  ListDeadLetterSourceQueues: async (queues, input) => {
    const q = await queues.resolve(str(input, 'QueueUrl'));
    return { queueUrls: (await queues.sourcesOf(q.name)).map((n) => queues.url(n)) };
  },

  SendMessage: async (queues, input, req) => {
    const [one] = await queues.send(str(input, 'QueueUrl'), [sendInput(input)], senderOf(req));
    if (one instanceof PlatformError) throw one;
    return sentShape(one!);
  },
  SendMessageBatch: async (queues, input, req) => {
    const entries = batch(input, 'Entries');
    let bytes = 0;
    for (const e of entries) bytes += Buffer.byteLength(String(e['MessageBody'] ?? ''));
    if (bytes > SQS_LIMITS.BATCH_BYTES) throw new WireError(WIRE.batchTooLong, `Batch requests cannot be longer than ${SQS_LIMITS.BATCH_BYTES} bytes. You have sent ${bytes} bytes.`);
    const results = await queues.send(str(input, 'QueueUrl'), entries.map(sendInput), senderOf(req));
    return batchResult(entries, results, (r) => sentShape(r));
  },
  ReceiveMessage: async (queues, input) => {
    const url = str(input, 'QueueUrl');
    const max = input['MaxNumberOfMessages'] === undefined ? 1 : int(input, 'MaxNumberOfMessages', SQS_LIMITS.RECEIVE_MAX.min, SQS_LIMITS.RECEIVE_MAX.max);
    const visibility = input['VisibilityTimeout'] === undefined ? undefined : int(input, 'VisibilityTimeout', SQS_LIMITS.VISIBILITY.min, SQS_LIMITS.VISIBILITY.max);
    const wait = input['WaitTimeSeconds'] === undefined ? undefined : int(input, 'WaitTimeSeconds', SQS_LIMITS.RECEIVE_WAIT.min, SQS_LIMITS.RECEIVE_WAIT.max);
    const systemNames = [...strList(input, 'AttributeNames'), ...strList(input, 'MessageSystemAttributeNames')];
    const attributeNames = strList(input, 'MessageAttributeNames');
    const messages = await queues.receive(url, { max, visibilitySeconds: visibility, waitSeconds: wait });
    return { Messages: messages.map((m) => messageShape(m, systemNames, attributeNames)) };
  },
  DeleteMessage: async (queues, input) => {
    const [one] = await queues.deleteMessages(str(input, 'QueueUrl'), [str(input, 'ReceiptHandle')]);
    if (one instanceof PlatformError) throw one;
  },
  DeleteMessageBatch: async (queues, input) => {
    const entries = batch(input, 'Entries');
    const results = await queues.deleteMessages(str(input, 'QueueUrl'), entries.map((e) => str(e, 'ReceiptHandle')));
    return batchResult(entries, results, () => ({}));
  },
  ChangeMessageVisibility: async (queues, input) => {
    const [one] = await queues.changeVisibility(str(input, 'QueueUrl'), [{ handle: str(input, 'ReceiptHandle'), seconds: int(input, 'VisibilityTimeout', -Infinity, Infinity) }]);
    if (one instanceof PlatformError) throw one;
  },
  ChangeMessageVisibilityBatch: async (queues, input) => {
    const entries = batch(input, 'Entries');
    const results = await queues.changeVisibility(
      str(input, 'QueueUrl'),
      entries.map((e) => ({ handle: str(e, 'ReceiptHandle'), seconds: e['VisibilityTimeout'] === undefined ? 0 : int(e, 'VisibilityTimeout', -Infinity, Infinity) })),
    );
    return batchResult(entries, results, () => ({}));
  },
  StartMessageMoveTask: async (queues, input) => {
    const source = arnName(str(input, 'SourceArn'));
    const destination = optStr(input, 'DestinationArn');
    const q = await queues.resolve(source);
    if ((await queues.sourcesOf(q.name)).length === 0) {
      throw new PlatformError('VALIDATION', 'Source queue must be configured as a Dead Letter Queue.');
    }
    const handle = Buffer.from(JSON.stringify({ q: q.name, t: Date.now() })).toString('base64url');
    // SQS moves in the background and reports progress; here the move is done when it answers.
    const moved = await queues.move(q.name, destination === undefined ? undefined : arnName(destination));
    tasks.set(q.name, { TaskHandle: handle, Status: 'COMPLETED', SourceArn: q.arn, ...(destination ? { DestinationArn: destination } : {}), ApproximateNumberOfMessagesMoved: moved, ApproximateNumberOfMessagesToMove: moved, StartedTimestamp: Date.now() });
    return { TaskHandle: handle };
  },
  ListMessageMoveTasks: async (queues, input) => {
    const q = await queues.resolve(arnName(str(input, 'SourceArn')));
    const task = tasks.get(q.name);
    return { Results: task ? [task] : [] };
  },
  CancelMessageMoveTask: async () => {
    throw new PlatformError('VALIDATION', 'Only active tasks can be cancelled.');
  },
};

/** The latest message move task of each dead-letter queue (ListMessageMoveTasks). */
const tasks = new Map<string, Record<string, unknown>>();

export async function handleSqsRequest(options: SqsApiOptions, req: AwsRequest): Promise<AwsResponse> {
  const requestId = globalThis.crypto.randomUUID();
  // The Query protocol: `Action=…` in a form body or the query string (older SDKs, GET requests).
  const query = req.headers['x-amz-target'] === undefined && (req.query.has('Action') || (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded'));
  try {
    let operation: string;
    let input: unknown;
    if (query) {
      const params = new URLSearchParams(req.query);
      for (const [k, v] of new URLSearchParams(req.body.toString('utf8'))) params.append(k, v);
      ({ action: operation, input } = fromQuery(params));
      // A queue's URL is where a Query request may be sent, instead of naming it.
      const onQueue = /^\/\d{12}\/([A-Za-z0-9_.-]{1,80})$/.exec(req.path);
      if (onQueue && (input as Input)['QueueUrl'] === undefined) (input as Input)['QueueUrl'] = onQueue[1];
    } else {
      const target = req.headers['x-amz-target'] ?? '';
      operation = target.startsWith('AmazonSQS.') ? target.slice('AmazonSQS.'.length) : '';
      try {
        input = req.body.length === 0 ? {} : JSON.parse(req.body.toString('utf8'));
      } catch {
        throw new WireError(WIRE.notJson, 'The request body is not valid JSON.');
      }
    }
    const handler = Object.hasOwn(OPERATIONS, operation) ? OPERATIONS[operation] : undefined;
    if ((req.method !== 'POST' && !query) || !handler) throw new PlatformError('UNKNOWN_OPERATION', `An unknown operation was requested: ${operation.slice(0, 64) || '(none)'}`);
    if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new WireError(WIRE.notJson, 'The request body must be a JSON object.');
    const out = ((await handler(options.queues, input as Input, req)) ?? {}) as Input;
    if (query) return { status: 200, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }, body: toQueryXml(operation, out, requestId) };
    return { status: 200, headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': requestId }, body: JSON.stringify(out) };
  } catch (err) {
    return errorResponse(err, requestId, query);
  }
}

function errorResponse(err: unknown, requestId: string, query = false): AwsResponse {
  let error: SqsError = [500, 'InternalError', 'InternalError'];
  let message = 'We encountered an internal error. Please try again.';
  if (err instanceof WireError) {
    error = err.error;
    message = err.message;
  } else if (isPlatformError(err)) {
    error = (err.code === 'INVALID_ATTRIBUTE' && err.details['unknown'] === true ? WIRE.unknownAttribute : ERRORS[err.code]) ?? error;
    message = err.message;
  }
  const [status, type, queryCode] = error;
  if (query) return { status, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }, body: queryErrorXml(queryCode, message, status < 500, requestId) };
  return {
    status,
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amzn-requestid': requestId,
      'x-amzn-query-error': `${queryCode};${status < 500 ? 'Sender' : 'Receiver'}`,
    },
    body: JSON.stringify({ __type: `com.amazonaws.sqs#${type}`, message }),
  };
}

function sendInput(e: Input): SendInput {
  const traceHeader = (e['MessageSystemAttributes'] as Record<string, MessageAttributeValue> | undefined)?.['AWSTraceHeader']?.StringValue;
  return {
    body: typeof e['MessageBody'] === 'string' ? e['MessageBody'] : missing('MessageBody'),
    delaySeconds: e['DelaySeconds'] === undefined ? undefined : int(e, 'DelaySeconds', -Infinity, Infinity),
    attributes: (e['MessageAttributes'] as Record<string, MessageAttributeValue> | undefined) ?? undefined,
    traceHeader,
    groupId: optStr(e, 'MessageGroupId'),
    dedupId: optStr(e, 'MessageDeduplicationId'),
  };
}

function sentShape(r: { messageId: string; md5OfBody: string; md5OfAttributes?: string | undefined; md5OfSystemAttributes?: string | undefined; sequenceNumber?: string | undefined }) {
  // In SQS's order: the Query protocol's XML follows it.
  return {
    MD5OfMessageBody: r.md5OfBody,
    ...(r.md5OfAttributes ? { MD5OfMessageAttributes: r.md5OfAttributes } : {}),
    ...(r.md5OfSystemAttributes ? { MD5OfMessageSystemAttributes: r.md5OfSystemAttributes } : {}),
    MessageId: r.messageId,
    ...(r.sequenceNumber ? { SequenceNumber: r.sequenceNumber } : {}),
  };
}

/** Only the attributes asked for: `All`, names, or `prefix.*` for message attributes. */
function messageShape(m: ReceivedMessage, systemNames: readonly string[], attributeNames: readonly string[]) {
  const allSystem = systemNames.includes('All');
  const system = Object.fromEntries(Object.entries(m.systemAttributes).filter(([k]) => allSystem || systemNames.includes(k)));
  const wanted = (name: string) => attributeNames.some((w) => w === 'All' || w === '.*' || w === name || (w.endsWith('.*') && name.startsWith(w.slice(0, -1))));
  const attributes = Object.fromEntries(Object.entries(m.attributes).filter(([k]) => wanted(k)));
  return {
    MessageId: m.messageId,
    ReceiptHandle: m.receiptHandle,
    MD5OfBody: m.md5OfBody,
    Body: m.body,
    ...(Object.keys(system).length > 0 ? { Attributes: system } : {}),
    ...(Object.keys(attributes).length > 0 ? { MessageAttributes: attributes, MD5OfMessageAttributes: m.md5OfAttributes } : {}),
  };
}

/** Entries of a batch request, checked as SQS checks them: 1 to 10, ids distinct and well formed. */
function batch(input: Input, key: string): Input[] {
  const entries = input[key];
  if (!Array.isArray(entries) || entries.length === 0) throw new WireError(WIRE.emptyBatch, 'There should be at least one SendMessageBatchRequestEntry in the request.');
  if (entries.length > SQS_LIMITS.BATCH_ENTRIES) throw new WireError(WIRE.tooManyEntries, `Maximum number of entries per request are ${SQS_LIMITS.BATCH_ENTRIES}. You have sent ${entries.length}.`);
  const ids = new Set<string>();
  for (const e of entries as unknown[]) {
    const id = (e as Input | null)?.['Id'];
    if (typeof id !== 'string' || !/^[A-Za-z0-9_-]{1,80}$/.test(id)) throw new WireError(WIRE.badEntryId, 'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.');
    if (ids.has(id)) throw new WireError(WIRE.idsNotDistinct, `Id ${id} repeated.`);
    ids.add(id);
  }
  return entries as Input[];
}

function batchResult<T>(entries: readonly Input[], results: readonly (T | PlatformError)[], shape: (r: T) => object) {
  const Successful: object[] = [];
  const Failed: object[] = [];
  results.forEach((r, i) => {
    const Id = entries[i]!['Id'];
    if (r instanceof PlatformError) {
      const [, type] = ERRORS[r.code] ?? [400, 'InvalidParameterValue'];
      Failed.push({ Id, SenderFault: true, Code: type, Message: r.message });
    } else {
      Successful.push({ Id, ...shape(r) });
    }
  });
  return { Successful, Failed };
}

function senderOf(req: AwsRequest): string {
  // The signing key's id stands for the sender, as SQS gives the IAM identity.
  const m = /Credential=([A-Z0-9]+)\//.exec(req.headers['authorization'] ?? '') ?? /X-Amz-Credential=([A-Z0-9]+)%2F/.exec(req.query.toString());
  return m?.[1] ?? '';
}

const arnName = (arn: string): string => {
  if (!/^arn:aws:sqs:[^:]*:\d*:[A-Za-z0-9_.-]+$/.test(arn)) throw new PlatformError('VALIDATION', `Value ${arn.slice(0, 200)} for parameter SourceArn is invalid.`);
  return arn.slice(arn.lastIndexOf(':') + 1);
};

function missing(key: string): never {
  throw new WireError(WIRE.missing, `The request must contain the parameter ${key}.`);
}

function str(input: Input, key: string): string {
  const v = input[key];
  if (v === undefined || v === null) missing(key);
  if (typeof v !== 'string') throw new PlatformError('VALIDATION', `Value for parameter ${key} is invalid. Reason: must be a string.`);
  return v;
}

function optStr(input: Input, key: string): string | undefined {
  return input[key] === undefined || input[key] === null ? undefined : str(input, key);
}

function int(input: Input, key: string, min: number, max: number): number {
  const v = input[key];
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new PlatformError('VALIDATION', `Value ${String(v).slice(0, 40)} for parameter ${key} is invalid. Reason: must be an integer${Number.isFinite(min) ? ` from ${min} to ${max}` : ''}.`);
  }
  return n;
}

function strList(input: Input, key: string): string[] {
  const v = input[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new PlatformError('VALIDATION', `Value for parameter ${key} is invalid. Reason: must be a list of strings.`);
  return v as string[];
}

function strMap(input: Input, key: string, required = false): Record<string, string> {
  const v = input[key];
  if (v === undefined || v === null) {
    if (required) missing(key);
    return {};
  }
  if (typeof v !== 'object' || Array.isArray(v) || !Object.values(v as object).every((x) => typeof x === 'string')) {
    throw new PlatformError('VALIDATION', `Value for parameter ${key} is invalid. Reason: must be a map of strings.`);
  }
  return { ...(v as Record<string, string>) };
}
