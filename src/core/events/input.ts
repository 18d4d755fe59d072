/**
 * What a rule's target receives, as EventBridge shapes it: the event itself, a constant `Input`, the
 * part `InputPath` selects, or an `InputTransformer`'s template filled from `InputPathsMap`.
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html
 */
import { PlatformError } from '../errors.js';

export interface TargetInput {
  readonly input?: string | undefined;
  readonly inputPath?: string | undefined;
  readonly inputTransformer?: { readonly inputPathsMap?: Readonly<Record<string, string>> | undefined; readonly inputTemplate: string } | undefined;
}

export interface RuleRef {
  readonly name: string;
  readonly arn: string;
}

/** The target's payload (JSON text, or plain text from a template that is not JSON). */
export function targetPayload(target: TargetInput, event: Record<string, unknown>, rule: RuleRef): string {
  if (target.input !== undefined) return target.input;
  if (target.inputPath !== undefined) return JSON.stringify(select(event, target.inputPath) ?? null);
  if (target.inputTransformer) return transform(target.inputTransformer, event, rule);
  return JSON.stringify(event);
}

/** Checks a target's input settings as PutTargets does; throws VALIDATION. */
export function checkTargetInput(target: TargetInput): void {
  const set = [target.input, target.inputPath, target.inputTransformer].filter((v) => v !== undefined).length;
  if (set > 1) throw new PlatformError('VALIDATION', 'Only one of Input, InputPath, or InputTransformer can be specified for a target.');
  if (target.input !== undefined) {
    try {
      JSON.parse(target.input);
    } catch {
      throw new PlatformError('VALIDATION', 'Input is not valid JSON text.');
    }
  }
  if (target.inputPath !== undefined) parsePath(target.inputPath);
  for (const [name, path] of Object.entries(target.inputTransformer?.inputPathsMap ?? {})) {
    if (name.startsWith('aws.events.')) throw new PlatformError('VALIDATION', `InputPathsMap key ${name} is reserved.`);
    parsePath(path);
  }
}

/** `$`, `$.a.b`, `$.a[0].b`, `$['a b']`: the reference paths EventBridge takes. */
function parsePath(path: string): (string | number)[] {
  if (!path.startsWith('$')) throw new PlatformError('VALIDATION', `Invalid JSONPath ${path}: it must start with $`);
  const out: (string | number)[] = [];
  const re = /\.([^.[\]]+)|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\]/y;
  re.lastIndex = 1;
  while (re.lastIndex < path.length) {
    const m = re.exec(path);
    if (!m) throw new PlatformError('VALIDATION', `Invalid JSONPath ${path}`);
    out.push(m[1] ?? (m[2] !== undefined ? Number(m[2]) : (m[3] ?? m[4]!)));
  }
  return out;
}

function select(value: unknown, path: string): unknown {
  let v = value;
  for (const step of parsePath(path)) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[step];
  }
  return v;
}

/**
 * Fills the template. In a JSON template, a placeholder inside quotes takes a string's text as it is
 * and any other value as JSON; outside quotes every value goes in as JSON. In a template that is not
 * JSON, values go in as text. A path that selects nothing gives `null` (JSON) or nothing (text).
 */
function transform(t: { inputPathsMap?: Readonly<Record<string, string>> | undefined; inputTemplate: string }, event: Record<string, unknown>, rule: RuleRef): string {
  const values = new Map<string, unknown>();
  for (const [name, path] of Object.entries(t.inputPathsMap ?? {})) values.set(name, select(event, path));
  values.set('aws.events.rule-arn', rule.arn);
  values.set('aws.events.rule-name', rule.name);
  values.set('aws.events.event.ingestion-time', event['time']);
  values.set('aws.events.event', event);
  values.set('aws.events.event.json', event);
  const template = t.inputTemplate;
  const looksJson = /^\s*[[{"]/.test(template);
  let out = '';
  let inString = false;
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if (c === '"' && template[i - 1] !== '\\') inString = !inString;
    const m = c === '<' ? /^<([A-Za-z0-9_.-]+)>/.exec(template.slice(i)) : null;
    if (!m || !values.has(m[1]!)) {
      out += c;
      continue;
    }
    const v = values.get(m[1]!);
    i += m[0].length - 1;
    if (!looksJson) out += v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
    else if (inString) out += typeof v === 'string' ? JSON.stringify(v).slice(1, -1) : v === undefined ? '' : JSON.stringify(v);
    else out += v === undefined ? 'null' : JSON.stringify(v);
  }
  return out;
}
