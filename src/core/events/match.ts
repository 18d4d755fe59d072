/**
 * Matching a compiled event pattern against an event, as EventBridge (aws/event-ruler) does: every
 * field of the pattern must match, and one alternative of each `$or`; a field matches when one of
 * its conditions holds for one of its values; an array contributes each of its elements to the same
 * path. Fields matched in objects inside an array must come from the same element of that array
 * ("array consistency"): `{"employees": {"first": ["Anna"], "last": ["Jones"]}}` does not match Anna
 * Smith beside John Jones.
 */
import { inCidr } from './cidr.js';
import type { CompiledPattern, Condition, Scalar } from './pattern.js';

/** A leaf value with the array elements it sits in: (array, index) pairs. */
interface Leaf {
  readonly value: Scalar;
  readonly trail: readonly (readonly [number, number])[];
}

/** An event's leaf values by dotted path. */
export type FlatEvent = ReadonlyMap<string, readonly Leaf[]>;

export function flatten(event: unknown): FlatEvent {
  const out = new Map<string, Leaf[]>();
  let arrays = 0;
  const walk = (v: unknown, path: string, trail: readonly (readonly [number, number])[]): void => {
    if (Array.isArray(v)) {
      const id = arrays++;
      v.forEach((item, i) => walk(item, path, [...trail, [id, i]]));
    } else if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v as Record<string, unknown>)) walk(child, path === '' ? k : `${path}.${k}`, trail);
    } else if (path !== '') {
      let list = out.get(path);
      if (!list) out.set(path, (list = []));
      list.push({ value: v as Scalar, trail });
    }
  };
  walk(event, '', []);
  return out;
}

/** Whether the event (already flattened, or as it is) matches the pattern. */
export function matches(pattern: CompiledPattern, event: FlatEvent | unknown): boolean {
  const flat = event instanceof Map ? (event as FlatEvent) : flatten(event);
  return solve([{ pattern, prefix: '' }], flat, new Map(), []);
}

interface Goal {
  readonly pattern: CompiledPattern;
  readonly prefix: string;
}

/** The array elements chosen so far: array → index. */
type Context = ReadonlyMap<number, number>;

/** A field that must have no value in the chosen elements (`exists: false`), checked once all else is chosen. */
interface Absence {
  readonly path: string;
}

/**
 * Backtracking over the pattern's fields: each positive field takes one of its matching values that
 * agrees with the array elements chosen so far; absences are checked against the final choice.
 */
function solve(goals: readonly Goal[], flat: FlatEvent, ctx: Context, absences: readonly Absence[]): boolean {
  const [first, ...rest] = goals;
  if (!first) return absences.every((a) => !(flat.get(a.path) ?? []).some((leaf) => consistent(leaf, ctx)));
  const { pattern, prefix } = first;
  // Expand: nested patterns and $or groups become goals; fields are taken one at a time.
  const fields = [...pattern.fields];
  if (fields.length === 0) {
    const nested = [...pattern.nested].map(([key, p]) => ({ pattern: p, prefix: `${prefix}${key}.` }));
    const [group, ...groups] = pattern.or;
    if (group) {
      const remaining: Goal = { pattern: { fields: new Map(), nested: new Map(), or: groups }, prefix };
      return group.some((alternative) => solve([{ pattern: alternative, prefix }, remaining, ...nested, ...rest], flat, ctx, absences));
    }
    return solve([...nested, ...rest], flat, ctx, absences);
  }
  const [[key, conditions], ...others] = fields as [[string, readonly Condition[]], ...[string, readonly Condition[]][]];
  const after: Goal = { pattern: { fields: new Map(others), nested: pattern.nested, or: pattern.or }, prefix };
  const path = prefix + key;
  const leaves = flat.get(path) ?? [];
  for (const leaf of leaves) {
    if (!consistent(leaf, ctx) || !conditions.some((c) => c.kind !== 'exists' && test(c, leaf.value))) continue;
    if (solve([after, ...rest], flat, extend(ctx, leaf), absences)) return true;
  }
  // `exists: true` is met by any value; `exists: false` by none in the chosen elements.
  if (conditions.some((c) => c.kind === 'exists' && c.exists)) {
    for (const leaf of leaves) if (consistent(leaf, ctx) && solve([after, ...rest], flat, extend(ctx, leaf), absences)) return true;
  }
  if (conditions.some((c) => c.kind === 'exists' && !c.exists)) return solve([after, ...rest], flat, ctx, [...absences, { path }]);
  return false;
}

function consistent(leaf: Leaf, ctx: Context): boolean {
  return leaf.trail.every(([array, index]) => (ctx.get(array) ?? index) === index);
}

function extend(ctx: Context, leaf: Leaf): Context {
  if (leaf.trail.length === 0) return ctx;
  const next = new Map(ctx);
  for (const [array, index] of leaf.trail) next.set(array, index);
  return next;
}

function test(c: Condition, v: Scalar): boolean {
  switch (c.kind) {
    case 'exact':
      return c.value === v;
    case 'prefix':
      return typeof v === 'string' && (c.ignoreCase ? v.toLowerCase().startsWith(c.value.toLowerCase()) : v.startsWith(c.value));
    case 'suffix':
      return typeof v === 'string' && (c.ignoreCase ? v.toLowerCase().endsWith(c.value.toLowerCase()) : v.endsWith(c.value));
    case 'equals-ignore-case':
      return typeof v === 'string' && v.toLowerCase() === c.value.toLowerCase();
    case 'wildcard':
      return typeof v === 'string' && c.regex.test(v);
    case 'anything-but':
      // Anything there that is not excluded, null included (AWS's recorded answers).
      return !c.not.some((n) => test(n, v));
    case 'numeric':
      return typeof v === 'number' && c.ranges.every(([op, n]) => (op === '=' ? v === n : op === '<' ? v < n : op === '<=' ? v <= n : op === '>' ? v > n : v >= n));
    case 'cidr':
      return typeof v === 'string' && inCidr(c.cidr, v);
    case 'exists':
      return true;
  }
}
