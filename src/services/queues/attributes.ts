/**
 * A queue's attributes as SQS names them (`VisibilityTimeout`, `RedrivePolicy`, …): which may be
 * set, their checks and defaults, and what they mean for the Broker queue behind.
 */
import { PlatformError } from '../../core/errors.js';
import { intAttribute, isFifoName, SQS_LIMITS } from '../../core/sqs.js';

export type QueueAttributes = Readonly<Record<string, string>>;

const BOOLEAN = /^(true|false)$/;

/** What each settable attribute takes; the value as it is kept (SQS answers with the same text). */
const SETTABLE: Readonly<Record<string, (value: string, fifo: boolean) => string>> = {
  DelaySeconds: (v) => String(intAttribute('DelaySeconds', v, SQS_LIMITS.DELAY)),
  MaximumMessageSize: (v) => String(intAttribute('MaximumMessageSize', v, SQS_LIMITS.MESSAGE_BYTES)),
  MessageRetentionPeriod: (v) => String(intAttribute('MessageRetentionPeriod', v, SQS_LIMITS.RETENTION)),
  ReceiveMessageWaitTimeSeconds: (v) => String(intAttribute('ReceiveMessageWaitTimeSeconds', v, SQS_LIMITS.RECEIVE_WAIT)),
  VisibilityTimeout: (v) => String(intAttribute('VisibilityTimeout', v, SQS_LIMITS.VISIBILITY)),
  RedrivePolicy: (v) => (v === '' ? '' : JSON.stringify(redrivePolicy(v))),
  RedriveAllowPolicy: (v) => (v === '' ? '' : redriveAllowPolicy(v)),
  Policy: (v) => v,
  KmsMasterKeyId: (v) => v,
  KmsDataKeyReusePeriodSeconds: (v) => String(intAttribute('KmsDataKeyReusePeriodSeconds', v, { min: 60, max: 86_400 })),
  SqsManagedSseEnabled: (v) => bool('SqsManagedSseEnabled', v),
  FifoQueue: (v, fifo) => {
    if (bool('FifoQueue', v) === 'true' && !fifo) throw invalid('FifoQueue', 'The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.');
    if (v === 'false' && fifo) throw invalid('FifoQueue', 'Invalid value for the parameter FifoQueue.');
    return v;
  },
  ContentBasedDeduplication: (v, fifo) => fifoOnly('ContentBasedDeduplication', fifo, bool('ContentBasedDeduplication', v)),
  DeduplicationScope: (v, fifo) => fifoOnly('DeduplicationScope', fifo, oneOf('DeduplicationScope', v, ['messageGroup', 'queue'])),
  FifoThroughputLimit: (v, fifo) => fifoOnly('FifoThroughputLimit', fifo, oneOf('FifoThroughputLimit', v, ['perQueue', 'perMessageGroupId'])),
};

/** Attributes only `GetQueueAttributes` reports. */
export const COMPUTED = [
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
  'CreatedTimestamp',
  'LastModifiedTimestamp',
  'QueueArn',
] as const;

/** The checked, kept form of attributes to set; throws SQS's errors for unknown names and bad values. */
export function checkAttributes(name: string, attributes: QueueAttributes): QueueAttributes {
  const fifo = isFifoName(name);
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(attributes)) {
    const check = Object.hasOwn(SETTABLE, key) ? SETTABLE[key] : undefined;
    if (!check) throw new PlatformError('INVALID_ATTRIBUTE', `Unknown Attribute ${key}.`, { attribute: key, unknown: true });
    if (typeof value !== 'string') throw invalid(key, `Invalid value for the parameter ${key}.`);
    out[key] = check(value, fifo);
  }
  return out;
}

/** Every attribute of a queue, defaults included (as GetQueueAttributes `All` gives them, computed ones aside). */
export function withDefaults(name: string, attributes: QueueAttributes): Record<string, string> {
  const fifo = isFifoName(name);
  const out: Record<string, string> = {
    DelaySeconds: String(SQS_LIMITS.DELAY.default),
    MaximumMessageSize: String(SQS_LIMITS.MESSAGE_BYTES.default),
    MessageRetentionPeriod: String(SQS_LIMITS.RETENTION.default),
    ReceiveMessageWaitTimeSeconds: String(SQS_LIMITS.RECEIVE_WAIT.default),
    VisibilityTimeout: String(SQS_LIMITS.VISIBILITY.default),
    SqsManagedSseEnabled: 'true',
    ...(fifo ? { FifoQueue: 'true', ContentBasedDeduplication: 'false', DeduplicationScope: 'queue', FifoThroughputLimit: 'perQueue' } : {}),
  };
  for (const [k, v] of Object.entries(attributes)) if (v !== '') out[k] = v;
  return out;
}

export interface RedrivePolicy {
  readonly deadLetterTargetArn: string;
  readonly maxReceiveCount: number;
}

function redrivePolicy(text: string): RedrivePolicy {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalid('RedrivePolicy', 'Value for parameter RedrivePolicy is invalid. Reason: Redrive policy is not a valid JSON map.');
  }
  const p = parsed as { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown };
  if (typeof p !== 'object' || p === null || typeof p.deadLetterTargetArn !== 'string' || !/^arn:aws:sqs:[^:]*:\d*:[A-Za-z0-9_.-]+$/.test(p.deadLetterTargetArn)) {
    throw invalid('RedrivePolicy', 'Value for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist.');
  }
  const count = Number(p.maxReceiveCount);
  if (!Number.isInteger(count) || count < SQS_LIMITS.MAX_RECEIVE_COUNT.min || count > SQS_LIMITS.MAX_RECEIVE_COUNT.max) {
    throw invalid('RedrivePolicy', 'Value for parameter RedrivePolicy is invalid. Reason: Invalid value for maxReceiveCount: must be an integer from 1 to 1000.');
  }
  return { deadLetterTargetArn: p.deadLetterTargetArn, maxReceiveCount: count };
}

function redriveAllowPolicy(text: string): string {
  try {
    const p = JSON.parse(text) as { redrivePermission?: unknown };
    if (['allowAll', 'denyAll', 'byQueue'].includes(String(p.redrivePermission))) return text;
  } catch {
    // answered below
  }
  throw invalid('RedriveAllowPolicy', 'Value for parameter RedriveAllowPolicy is invalid. Reason: Amazon SQS can\'t parse the redrive allow policy.');
}

/** The dead-letter queue a queue's attributes name, with its receive count; undefined without one. */
export function redriveOf(attributes: QueueAttributes): { queue: string; maxReceiveCount: number } | undefined {
  const text = attributes['RedrivePolicy'];
  if (!text) return undefined;
  const p = JSON.parse(text) as RedrivePolicy;
  return { queue: p.deadLetterTargetArn.slice(p.deadLetterTargetArn.lastIndexOf(':') + 1), maxReceiveCount: p.maxReceiveCount };
}

const bool = (name: string, v: string): string => {
  if (!BOOLEAN.test(v)) throw invalid(name, `Invalid value for the parameter ${name}.`);
  return v;
};

const oneOf = (name: string, v: string, allowed: readonly string[]): string => {
  if (!allowed.includes(v)) throw invalid(name, `Invalid value for the parameter ${name}.`);
  return v;
};

const fifoOnly = (name: string, fifo: boolean, v: string): string => {
  if (!fifo) throw new PlatformError('INVALID_ATTRIBUTE', `Unknown Attribute ${name}.`, { attribute: name, unknown: true });
  return v;
};

const invalid = (attribute: string, message: string) => new PlatformError('INVALID_ATTRIBUTE', message, { attribute });
