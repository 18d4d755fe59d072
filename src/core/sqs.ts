/**
 * Amazon SQS's rules, as its API reference states them: queue names and attributes, message
 * attributes and their MD5 digests, the characters a message may hold, and the limits. Pure: the
 * queues service and the SQS wire protocol decide with these.
 */
import { PlatformError } from './errors.js';

/** From the SQS Developer Guide's quotas and the CreateQueue / SendMessage references. */
export const SQS_LIMITS = {
  QUEUE_NAME_CHARS: 80,
  /** MaximumMessageSize: 1 KiB to 1 MiB, 256 KiB by default. */
  MESSAGE_BYTES: { min: 1024, max: 1_048_576, default: 262_144 },
  /** A batch's messages together (SendMessageBatch). */
  BATCH_BYTES: 1_048_576,
  BATCH_ENTRIES: 10,
  BATCH_ID_CHARS: 80,
  MESSAGE_ATTRIBUTES: 10,
  ATTRIBUTE_NAME_CHARS: 256,
  ATTRIBUTE_TYPE_CHARS: 256,
  /** Seconds. */
  DELAY: { min: 0, max: 900, default: 0 },
  VISIBILITY: { min: 0, max: 43_200, default: 30 },
  RETENTION: { min: 60, max: 1_209_600, default: 345_600 },
  RECEIVE_WAIT: { min: 0, max: 20, default: 0 },
  RECEIVE_MAX: { min: 1, max: 10 },
  MAX_RECEIVE_COUNT: { min: 1, max: 1000 },
  /** In flight at once: standard and FIFO queues (OverLimit past them). */
  IN_FLIGHT: { standard: 120_000, fifo: 120_000 },
  DEDUP_ID_CHARS: 128,
  GROUP_ID_CHARS: 128,
  /** De-duplication interval of FIFO queues. */
  DEDUP_WINDOW_MS: 5 * 60_000,
} as const;

/** Alphanumerics, hyphens and underscores, up to 80 characters; a FIFO queue's ends in `.fifo`. */
export function validQueueName(name: string): boolean {
  const base = name.endsWith('.fifo') ? name.slice(0, -5) : name;
  return name.length >= 1 && name.length <= SQS_LIMITS.QUEUE_NAME_CHARS && /^[A-Za-z0-9_-]+$/.test(base);
}

export const isFifoName = (name: string): boolean => name.endsWith('.fifo');

/** The characters a message may contain (#x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF). */
export function validMessageText(text: string): boolean {
  return !/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u.test(text);
}

/** A message attribute as the API carries it. */
export interface MessageAttributeValue {
  readonly DataType: string;
  readonly StringValue?: string | undefined;
  /** Base64 in JSON. */
  readonly BinaryValue?: string | undefined;
}

/** Names: up to 256 of `A-Za-z0-9_-.`, not starting or ending with `.`, no `..`, not starting with `AWS.` or `Amazon.`. */
export function checkAttributeName(name: string): string | undefined {
  if (name.length === 0 || name.length > SQS_LIMITS.ATTRIBUTE_NAME_CHARS || !/^[A-Za-z0-9_.-]+$/.test(name)) return `Message (user) attribute name '${name}' is invalid: it must be 1 to 256 of A-Z, a-z, 0-9, underscore, hyphen and period.`;
  if (name.startsWith('.') || name.endsWith('.') || name.includes('..')) return `Message (user) attribute name '${name}' is invalid: it must not start or end with a period or hold two in a row.`;
  if (/^(aws|amazon)\./i.test(name)) return `Message (user) attribute name '${name}' is invalid: the prefixes AWS. and Amazon. are reserved.`;
  return undefined;
}

/** What is wrong with an attribute's value, if anything. */
export function checkAttributeValue(name: string, value: MessageAttributeValue): string | undefined {
  const type = value.DataType;
  if (typeof type !== 'string' || !/^(String|Number|Binary)(\..+)?$/.test(type) || type.length > SQS_LIMITS.ATTRIBUTE_TYPE_CHARS) {
    return `The type of message (user) attribute '${name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String.`;
  }
  if (type.startsWith('Binary')) {
    if (typeof value.BinaryValue !== 'string' || value.BinaryValue.length === 0) return `Message (user) attribute '${name}' must contain a non-empty value of type 'Binary'.`;
    return undefined;
  }
  if (typeof value.StringValue !== 'string' || value.StringValue.length === 0) return `Message (user) attribute '${name}' must contain a non-empty message attribute value for message attribute type '${type.split('.')[0]}'.`;
  if (!validMessageText(value.StringValue)) return `Message (user) attribute '${name}' contains characters outside the allowed set.`;
  if (type.startsWith('Number') && !/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(value.StringValue)) return `Value ${value.StringValue} for parameter MessageAttributes.${name} is invalid. Reason: Invalid number.`;
  return undefined;
}

/** Bytes an attribute counts towards the message size: its name, type and value. */
export function attributeBytes(name: string, value: MessageAttributeValue): number {
  const v = value.DataType.startsWith('Binary') ? Buffer.from(value.BinaryValue ?? '', 'base64').length : Buffer.byteLength(value.StringValue ?? '');
  return Buffer.byteLength(name) + Buffer.byteLength(value.DataType) + v;
}

/**
 * SQS's MD5 of message attributes (the SDKs check it): for each attribute in name order, the name,
 * the type and the value, each as a 4-byte big-endian length and its bytes, with a transport byte
 * (1 string or number, 2 binary) before the value.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-message-metadata.html
 */
export function attributesDigestInput(attributes: Readonly<Record<string, MessageAttributeValue>>): Buffer {
  const parts: Buffer[] = [];
  const lengthPrefixed = (bytes: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(bytes.length);
    parts.push(len, bytes);
  };
  for (const name of Object.keys(attributes).sort()) {
    const value = attributes[name]!;
    lengthPrefixed(Buffer.from(name, 'utf8'));
    lengthPrefixed(Buffer.from(value.DataType, 'utf8'));
    if (value.DataType.startsWith('Binary')) {
      parts.push(Buffer.of(2));
      lengthPrefixed(Buffer.from(value.BinaryValue ?? '', 'base64'));
    } else {
      parts.push(Buffer.of(1));
      lengthPrefixed(Buffer.from(value.StringValue ?? '', 'utf8'));
    }
  }
  return Buffer.concat(parts);
}

/** An integer attribute within its bounds, or SQS's InvalidAttributeValue. */
export function intAttribute(name: string, raw: string, bounds: { min: number; max: number }): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < bounds.min || n > bounds.max) {
    throw new PlatformError('INVALID_ATTRIBUTE', `Invalid value for the parameter ${name}.`, { attribute: name });
  }
  return n;
}
