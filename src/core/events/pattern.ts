/**
 * EventBridge event patterns: parsed and checked once into a tree of compiled conditions, then
 * matched against events. The grammar is EventBridge's (and aws/event-ruler's): exact values, arrays
 * (any of), nesting, `prefix`, `suffix`, `anything-but` (values, `prefix`, `suffix`,
 * `equals-ignore-case`, `wildcard`), `numeric` ranges, `exists`, `cidr`, `equals-ignore-case`,
 * `wildcard` and `$or`. A bad pattern is refused with EventBridge's `InvalidEventPatternException`
 * message ("Event pattern is not valid. Reason: …").
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
 */
import { PlatformError } from '../errors.js';
import { parseCidr, type Cidr } from './cidr.js';

/** One condition on a field's values. */
export type Condition =
  | { readonly kind: 'exact'; readonly value: Scalar }
  | { readonly kind: 'prefix' | 'suffix' | 'equals-ignore-case'; readonly value: string; readonly ignoreCase: boolean }
  | { readonly kind: 'wildcard'; readonly regex: RegExp }
  | { readonly kind: 'anything-but'; readonly not: readonly Condition[] }
  | { readonly kind: 'numeric'; readonly ranges: readonly (readonly [string, number])[] }
  | { readonly kind: 'exists'; readonly exists: boolean }
  | { readonly kind: 'cidr'; readonly cidr: Cidr };

export type Scalar = string | number | boolean | null;

/** A compiled pattern: conditions by field, nested patterns by field, and `$or` alternatives. */
export interface CompiledPattern {
  readonly fields: ReadonlyMap<string, readonly Condition[]>;
  readonly nested: ReadonlyMap<string, CompiledPattern>;
  readonly or: readonly (readonly CompiledPattern[])[];
}

/** EventBridge's limit on a pattern's text. */
export const MAX_PATTERN_CHARS = 4096;

const fail = (reason: string): never => {
  throw new PlatformError('INVALID_EVENT_PATTERN', `Event pattern is not valid. Reason: ${reason}`);
};

/** Parses and checks a pattern (its JSON text or the parsed value); throws `INVALID_EVENT_PATTERN`. */
export function compilePattern(source: string | unknown): CompiledPattern {
  let value = source;
  if (typeof source === 'string') {
    if (source.length > MAX_PATTERN_CHARS) fail(`Event pattern is too long: ${source.length} characters, at most ${MAX_PATTERN_CHARS}`);
    value = parseStrict(source);
  }
  if (!isObject(value)) fail('Filter is not an object');
  return compileObject(value as Record<string, unknown>);
}

/**
 * The pattern's JSON. A key given twice keeps its last value, as event-ruler (EventBridge's engine)
 * reads it. Syntax errors are worded as EventBridge words them (it parses with Jackson).
 */
function parseStrict(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    return fail(jacksonMessage(text, (err as Error).message));
  }
}

/** The two syntax errors people make most, in Jackson's words; others as JSON.parse says them. */
function jacksonMessage(text: string, message: string): string {
  const trimmed = text.trimStart();
  const word = /^[A-Za-z_][\w]*/.exec(trimmed)?.[0];
  if (word) return `Unrecognized token '${word}': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')`;
  const at = /position (\d+)/.exec(message);
  if (at && /property name/.test(message)) {
    const c = text[Number(at[1])] ?? '';
    return `Unexpected character ('${c}' (code ${c.codePointAt(0) ?? 0})): was expecting double-quote to start field name`;
  }
  return `Unrecognized JSON: ${message}`;
}

function compileObject(obj: Record<string, unknown>): CompiledPattern {
  const keys = Object.keys(obj);
  if (keys.length === 0) fail('Empty objects are not allowed');
  const fields = new Map<string, Condition[]>();
  const nested = new Map<string, CompiledPattern>();
  const or: CompiledPattern[][] = [];
  for (const key of keys) {
    const value = obj[key];
    if (key === '$or') {
      if (!Array.isArray(value) || value.length < 2 || !value.every(isObject)) fail('Value of $or must be an array of at least two objects');
      for (const alternative of value as Record<string, unknown>[]) {
        const op = Object.keys(alternative).find((k) => OPERATORS.has(k));
        if (op !== undefined) fail(`Unrecognized match type ${op}: an alternative of $or is a pattern, not a match expression`);
      }
      or.push((value as Record<string, unknown>[]).map(compileObject));
    } else if (Array.isArray(value)) {
      if (value.length === 0) fail('Empty arrays are not allowed');
      fields.set(key, value.map(compileCondition));
    } else if (isObject(value)) {
      nested.set(key, compileObject(value as Record<string, unknown>));
    } else {
      fail(`${JSON.stringify(key)} must be an object or an array`);
    }
  }
  return { fields, nested, or };
}

function compileCondition(item: unknown): Condition {
  if (!isObject(item)) {
    if (Array.isArray(item)) fail('Match value must be String, number, true, false, or null');
    return { kind: 'exact', value: item as Scalar };
  }
  const entries = Object.entries(item as Record<string, unknown>);
  if (entries.length !== 1) fail(entries.length === 0 ? 'Empty objects are not allowed' : 'Only one key allowed in match expression');
  const [op, arg] = entries[0]!;
  switch (op) {
    case 'prefix':
    case 'suffix':
      return affix(op, arg);
    case 'equals-ignore-case':
      if (typeof arg !== 'string') fail('equals-ignore-case match pattern must be a string');
      return { kind: 'equals-ignore-case', value: arg as string, ignoreCase: true };
    case 'wildcard':
      if (typeof arg !== 'string') fail('wildcard match pattern must be a string');
      return { kind: 'wildcard', regex: wildcardRegex(arg as string) };
    case 'exactly':
      // event-ruler's spelling of an exact string match.
      if (typeof arg !== 'string') fail('exactly match pattern must be a string');
      return { kind: 'exact', value: arg as string };
    case 'anything-but':
      return anythingBut(arg);
    case 'numeric':
      return numeric(arg);
    case 'exists':
      if (typeof arg !== 'boolean') fail('exists match pattern must be either true or false.');
      return { kind: 'exists', exists: arg as boolean };
    case 'cidr':
      if (typeof arg !== 'string') fail('prefix match pattern must be a string');
      return { kind: 'cidr', cidr: parseCidr(arg as string, fail) };
    default:
      return fail(`Unrecognized match type ${op}`);
  }
}

function affix(op: 'prefix' | 'suffix', arg: unknown): Condition {
  if (isObject(arg)) {
    const inner = Object.entries(arg as Record<string, unknown>);
    if (inner.length !== 1 || inner[0]![0] !== 'equals-ignore-case') fail(`Unsupported ${op} pattern: only equals-ignore-case is allowed inside it`);
    if (typeof inner[0]![1] !== 'string') fail(`equals-ignore-case match pattern must be a string`);
    return { kind: op, value: inner[0]![1] as string, ignoreCase: true };
  }
  if (typeof arg !== 'string') fail(`${op} match pattern must be a string`);
  return { kind: op, value: arg as string, ignoreCase: false };
}

function anythingBut(arg: unknown): Condition {
  if (Array.isArray(arg)) {
    if (arg.length === 0) fail('Empty arrays are not allowed');
    const strings = arg.every((v) => typeof v === 'string');
    const numbers = arg.every((v) => typeof v === 'number');
    if (!strings && !numbers) fail('Inside anything but list, start|null|boolean is not supported.');
    return { kind: 'anything-but', not: arg.map((v) => ({ kind: 'exact', value: v as Scalar })) };
  }
  if (typeof arg === 'string' || typeof arg === 'number') return { kind: 'anything-but', not: [{ kind: 'exact', value: arg }] };
  if (!isObject(arg)) fail('Value of anything-but must be an array or single string/number value.');
  const inner = Object.entries(arg as Record<string, unknown>);
  if (inner.length !== 1) fail('Value of anything-but must be an array or single string/number value.');
  const [op, value] = inner[0]!;
  const list = Array.isArray(value) ? value : [value];
  if (Array.isArray(value) && value.length === 0) fail('Empty arrays are not allowed');
  switch (op) {
    case 'prefix':
    case 'suffix':
      if (!list.every((v) => typeof v === 'string' && v !== '')) {
        if (list.some(isObject)) fail('Value of anything-but must be an array or single string/number value.');
        fail('prefix/suffix match pattern must be a string');
      }
      return { kind: 'anything-but', not: (list as string[]).map((v) => ({ kind: op, value: v, ignoreCase: false })) };
    case 'equals-ignore-case':
      if (!list.every((v) => typeof v === 'string')) fail('Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.');
      return { kind: 'anything-but', not: (list as string[]).map((v) => ({ kind: 'equals-ignore-case', value: v, ignoreCase: true })) };
    case 'wildcard':
      if (!list.every((v) => typeof v === 'string')) fail('wildcard match pattern must be a string');
      return { kind: 'anything-but', not: (list as string[]).map((v) => ({ kind: 'wildcard', regex: wildcardRegex(v) })) };
    default:
      return fail('Value of anything-but must be an array or single string/number value.');
  }
}

const NUMERIC_OPS = new Set(['=', '<', '<=', '>', '>=']);
const OPERATORS = new Set(['prefix', 'suffix', 'anything-but', 'numeric', 'exists', 'cidr', 'equals-ignore-case', 'wildcard', 'exactly']);

function numeric(arg: unknown): Condition {
  if (!Array.isArray(arg) || arg.length === 0) fail('Value of numeric must be an array.');
  const list = arg as unknown[];
  const ranges: [string, number][] = [];
  let lower = false;
  let upper = false;
  for (let i = 0; i < list.length; i += 2) {
    const op = list[i];
    if (typeof op !== 'string' || !NUMERIC_OPS.has(op)) fail(`Unrecognized numeric range operator: ${String(op)}`);
    const n = list[i + 1];
    if (typeof n !== 'number') fail(`Value of ${op as string} must be numeric`);
    if (op === '=') {
      if (list.length !== 2) fail('Bad numeric range operator: =');
    } else if ((op as string).startsWith('>')) {
      if (lower) fail(`Bad numeric range operator: ${op as string}`);
      lower = true;
    } else {
      if (upper) fail(`Bad numeric range operator: ${op as string}`);
      upper = true;
    }
    // A range is written bottom first: [">", a, "<", b].
    if (i > 0 && (op as string).startsWith('>')) fail(`Bad numeric range operator: ${op as string}`);
    if (Math.abs(n as number) > 5e9) fail(`Value of ${op as string} must be between -5.0E9 and 5.0E9 inclusive`);
    ranges.push([op as string, n as number]);
  }
  const lo = ranges.find(([op]) => op.startsWith('>'));
  const hi = ranges.find(([op]) => op.startsWith('<'));
  if (lo && hi && lo[1] >= hi[1]) fail('Bottom must be less than top');
  return { kind: 'numeric', ranges };
}

/** `*` matches any run of characters, `\*` a star, `\\` a backslash; two stars in a row are refused. */
function wildcardRegex(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      const next = pattern[i + 1];
      if (next !== '*' && next !== '\\') fail(`Invalid escape character at pos ${i}`);
      out += `\\${next}`;
      i++;
    } else if (c === '*') {
      if (pattern[i + 1] === '*') fail(`Consecutive wildcard characters at pos ${i + 1}`);
      out += '[\\s\\S]*';
    } else {
      out += c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
    }
  }
  return new RegExp(`^${out}$`);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
