/**
 * SQS's Query protocol: `Action=<Operation>` form-encoded (in the body or the query string) with XML
 * answers, what older SDKs and CLIs send. Requests are turned into the JSON protocol's input shapes
 * and answers back into SQS's XML, so both protocols share one implementation (`sqs.ts`).
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-making-api-requests-xml.html
 */

type Input = Record<string, unknown>;

const NS = 'http://queue.amazonaws.com/doc/2012-11-05/';

/** Lists of the Query protocol, `Name.N` (or `Name.N.Member`), with the JSON name they become. */
const LISTS: Readonly<Record<string, string>> = {
  AttributeName: 'AttributeNames',
  MessageAttributeName: 'MessageAttributeNames',
  MessageSystemAttributeName: 'MessageSystemAttributeNames',
  TagKey: 'TagKeys',
  SendMessageBatchRequestEntry: 'Entries',
  DeleteMessageBatchRequestEntry: 'Entries',
  ChangeMessageVisibilityBatchRequestEntry: 'Entries',
};

/** Name/value pairs of the Query protocol that become maps in JSON. */
const MAPS: Readonly<Record<string, readonly [string, string, string]>> = {
  Attribute: ['Attributes', 'Name', 'Value'],
  Tag: ['Tags', 'Key', 'Value'],
  MessageAttribute: ['MessageAttributes', 'Name', 'Value'],
  MessageSystemAttribute: ['MessageSystemAttributes', 'Name', 'Value'],
};

const INTEGERS = new Set(['DelaySeconds', 'MaxNumberOfMessages', 'VisibilityTimeout', 'WaitTimeSeconds', 'MaxResults', 'MaxNumberOfMessagesPerSecond']);

/** The operation and the JSON-shaped input of a Query request. */
export function fromQuery(params: URLSearchParams): { action: string; input: Input } {
  const tree: Record<string, unknown> = {};
  for (const [key, value] of params) {
    if (key === 'Action' || key === 'Version' || key.startsWith('X-Amz-')) continue;
    let node = tree;
    const parts = key.split('.');
    parts.forEach((part, i) => {
      if (part === '__proto__' || part === 'constructor' || part === 'prototype') return;
      if (i === parts.length - 1) node[part] = value;
      else node = (node[part] = typeof node[part] === 'object' && node[part] !== null ? node[part] : {}) as Record<string, unknown>;
    });
  }
  return { action: params.get('Action') ?? '', input: shape(tree) };
}

/** Turns the dotted tree into the JSON protocol's shapes: numbered lists, name/value maps, integers. */
function shape(tree: Record<string, unknown>): Input {
  const out: Input = {};
  for (const [key, value] of Object.entries(tree)) {
    if (Object.hasOwn(MAPS, key) && isObject(value)) {
      const [name, k, v] = MAPS[key]!;
      const map: Record<string, unknown> = {};
      for (const entry of numbered(value)) {
        if (!isObject(entry) || typeof entry[k] !== 'string') continue;
        const val = entry[v];
        map[entry[k]] = isObject(val) ? shapeAttributeValue(val) : val;
      }
      out[name] = map;
    } else if (Object.hasOwn(LISTS, key) && isObject(value)) {
      out[LISTS[key]!] = numbered(value).map((item) => (isObject(item) ? shape(item) : item));
    } else if (INTEGERS.has(key) && typeof value === 'string' && /^-?\d+$/.test(value)) {
      out[key] = Number(value);
    } else {
      out[key] = isObject(value) ? shape(value) : value;
    }
  }
  return out;
}

/** A message attribute's value: `DataType`, `StringValue`, `BinaryValue` as they are. */
function shapeAttributeValue(v: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of ['DataType', 'StringValue', 'BinaryValue']) if (typeof v[k] === 'string') out[k] = v[k];
  return out;
}

/** `{1: a, 2: b}` → `[a, b]`, by number. */
function numbered(value: Record<string, unknown>): unknown[] {
  return Object.keys(value)
    .filter((k) => /^\d{1,5}$/.test(k))
    .sort((a, b) => Number(a) - Number(b))
    .map((k) => value[k]);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An operation's answer as SQS's XML. */
export function toQueryXml(action: string, out: Input, requestId: string): string {
  return `<?xml version="1.0"?><${action}Response xmlns="${NS}"><${action}Result>${resultXml(action, out)}</${action}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`;
}

/** An error as SQS's Query protocol gives it. */
export function queryErrorXml(code: string, message: string, sender: boolean, requestId: string): string {
  return `<?xml version="1.0"?><ErrorResponse xmlns="${NS}"><Error><Type>${sender ? 'Sender' : 'Receiver'}</Type><Code>${esc(code)}</Code><Message>${esc(message)}</Message><Detail/></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
}

function resultXml(action: string, out: Input): string {
  switch (action) {
    case 'ListQueues':
    case 'ListDeadLetterSourceQueues':
      return [...list(out['QueueUrls'] ?? out['queueUrls']).map((u) => el('QueueUrl', u)), ...(out['NextToken'] ? [el('NextToken', out['NextToken'])] : [])].join('');
    case 'GetQueueAttributes':
      return pairs(out['Attributes'], 'Attribute', 'Name', 'Value');
    case 'ListQueueTags':
      return pairs(out['Tags'], 'Tag', 'Key', 'Value');
    case 'SendMessageBatch':
      return batchXml(out, 'SendMessageBatchResultEntry');
    case 'DeleteMessageBatch':
      return batchXml(out, 'DeleteMessageBatchResultEntry');
    case 'ChangeMessageVisibilityBatch':
      return batchXml(out, 'ChangeMessageVisibilityBatchResultEntry');
    case 'ReceiveMessage':
      return list(out['Messages']).map((m) => el('Message', messageXml(m as Input), true)).join('');
    case 'ListMessageMoveTasks':
      return list(out['Results']).map((r) => el('ListMessageMoveTasksResultEntry', fields(r as Input), true)).join('');
    default:
      return fields(out);
  }
}

function messageXml(m: Input): string {
  const attributes = pairs(m['Attributes'], 'Attribute', 'Name', 'Value');
  const messageAttributes = Object.entries((m['MessageAttributes'] as Record<string, Input> | undefined) ?? {})
    .map(([name, v]) => el('MessageAttribute', el('Name', name) + el('Value', fields(v), true), true))
    .join('');
  return (
    el('MessageId', m['MessageId']) +
    el('ReceiptHandle', m['ReceiptHandle']) +
    el('MD5OfBody', m['MD5OfBody']) +
    el('Body', m['Body']) +
    attributes +
    (m['MD5OfMessageAttributes'] ? el('MD5OfMessageAttributes', m['MD5OfMessageAttributes']) : '') +
    messageAttributes
  );
}

function batchXml(out: Input, entry: string): string {
  const ok = list(out['Successful']).map((s) => el(entry, fields(s as Input), true));
  const failed = list(out['Failed']).map((f) => el('BatchResultErrorEntry', fields(f as Input), true));
  return [...ok, ...failed].join('');
}

/** Each scalar field as an element, in order. */
function fields(o: Input): string {
  return Object.entries(o)
    .filter(([, v]) => v !== undefined && v !== null && typeof v !== 'object')
    .map(([k, v]) => el(k, v))
    .join('');
}

function pairs(map: unknown, wrapper: string, k: string, v: string): string {
  if (!isObject(map)) return '';
  return Object.entries(map)
    .map(([key, value]) => el(wrapper, el(k, key) + el(v, value), true))
    .join('');
}

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function el(name: string, value: unknown, raw = false): string {
  return `<${name}>${raw ? String(value) : esc(String(value))}</${name}>`;
}

/** XML text: the five entities, and characters XML 1.0 cannot carry as character references SQS uses. */
function esc(s: string): string {
  return s.replace(/[&<>"'\r]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\r': '&#xD;' })[c]!);
}
