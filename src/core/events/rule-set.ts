/**
 * The rules of a bus, matched against each event. Most rules name the event's `source` exactly, so
 * rules are indexed by those values: an event is tried only against the rules of its source and the
 * rules that name none. (aws/event-ruler compiles all rules into one state machine; this index is
 * the part of that which pays for a bus of many rules from many sources.)
 */
import { flatten, matches } from './match.js';
import type { CompiledPattern } from './pattern.js';

export class RuleSet<Id = string> {
  private readonly rules = new Map<Id, { pattern: CompiledPattern; order: number }>();
  private added = 0;
  private readonly bySource = new Map<string, Set<Id>>();
  private readonly anySource = new Set<Id>();

  get size(): number {
    return this.rules.size;
  }

  /** Adds the rule, or replaces its pattern (it then comes last in the order of matches). */
  add(id: Id, pattern: CompiledPattern): void {
    this.remove(id);
    this.rules.set(id, { pattern, order: this.added++ });
    const sources = exactSources(pattern);
    if (!sources) {
      this.anySource.add(id);
      return;
    }
    for (const s of sources) {
      let set = this.bySource.get(s);
      if (!set) this.bySource.set(s, (set = new Set()));
      set.add(id);
    }
  }

  remove(id: Id): void {
    if (!this.rules.delete(id)) return;
    this.anySource.delete(id);
    for (const [s, set] of this.bySource) {
      set.delete(id);
      if (set.size === 0) this.bySource.delete(s);
    }
  }

  /** The rules the event matches, in the order they were added. */
  match(event: unknown): Id[] {
    const flat = flatten(event);
    const source = (event as { source?: unknown } | null)?.source;
    const candidates = [...this.anySource, ...(typeof source === 'string' ? (this.bySource.get(source) ?? []) : [])];
    const hits = candidates.map((id) => ({ id, rule: this.rules.get(id)! })).filter(({ rule }) => matches(rule.pattern, flat));
    return hits.sort((a, b) => a.rule.order - b.rule.order).map((h) => h.id);
  }
}

/** The strings a pattern requires `source` to equal, when that is all it says of `source`. */
function exactSources(p: CompiledPattern): string[] | undefined {
  const conditions = p.fields.get('source');
  if (!conditions || p.or.length > 0) return undefined;
  const values: string[] = [];
  for (const c of conditions) {
    if (c.kind !== 'exact' || typeof c.value !== 'string') return undefined;
    values.push(c.value);
  }
  return values;
}
