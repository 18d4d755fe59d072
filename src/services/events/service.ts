/**
 * Event buses and rules, as EventBridge has them: a `default` bus always exists, more come from the
 * manifest and the API; a rule's pattern (see `src/core/events`) routes each event put on its bus to
 * the rule's targets. A put is answered once every matched target holds the event durably (a
 * function's asynchronous queue, a queue, another bus): nothing acknowledged is lost, and a put cut
 * short by a crash is retried by its sender, at least once as on EventBridge.
 */
import type { Kysely } from 'kysely';
import { PlatformError } from '../../core/errors.js';
import { checkTargetInput, targetPayload, type TargetInput } from '../../core/events/input.js';
import { compilePattern, MAX_PATTERN_CHARS } from '../../core/events/pattern.js';
import { RuleSet } from '../../core/events/rule-set.js';
import type { Clock } from '../../ports/clock.js';
import type { Db, DbSchema } from '../../ports/db.js';
import { Archives } from './archives.js';
import type { EventsTables } from './migrations.js';

export const DEFAULT_BUS = 'default';

export interface Target extends TargetInput {
  readonly id: string;
  /** A function's, a queue's or a bus's ARN. */
  readonly arn: string;
}

export interface Rule {
  readonly name: string;
  readonly bus: string;
  readonly pattern: string;
  readonly enabled: boolean;
  readonly description?: string | undefined;
  readonly targets: readonly Target[];
  readonly origin: 'manifest' | 'api';
}

export interface PutEntry {
  readonly Source?: unknown;
  readonly DetailType?: unknown;
  readonly Detail?: unknown;
  readonly EventBusName?: unknown;
  readonly Resources?: unknown;
  readonly Time?: unknown;
}

export type PutResult = { readonly EventId: string } | { readonly ErrorCode: string; readonly ErrorMessage: string };

/** Where a matched event goes: the platform's durable paths, by the target's ARN. */
export type Deliver = (arn: string, payload: string) => Promise<void>;

export interface EventsServiceDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly region: string;
  readonly accountId: string;
  readonly deliver: Deliver;
  readonly onWarning: (message: string) => void;
}

/** PutEvents' limits. */
export const EVENTS_LIMITS = { ENTRIES: 10, BYTES: 256 * 1024, BUS_HOPS: 5 } as const;

export class EventsService {
  private readonly db: Kysely<DbSchema & EventsTables>;
  private readonly deps: EventsServiceDeps;
  private manifestBuses = new Set<string>();
  private manifestRules: Rule[] = [];
  /** By bus: the compiled rules, rebuilt when rules change. */
  private compiled = new Map<string, { rules: Map<string, Rule>; set: RuleSet }>();
  /** Archives of buses' events, and their replays. */
  readonly archives: Archives;

  constructor(deps: EventsServiceDeps) {
    this.deps = deps;
    this.db = deps.db.kysely.withTables<EventsTables>();
    this.archives = new Archives(this.db, deps.clock);
  }

  /** Replays the archive's events of [from, to) through its bus's rules, marked with `replay-name`. */
  replay(name: string, archive: string, from: number, to: number) {
    return this.archives.replay(name, archive, from, to, (bus, event) => this.route(bus, event, 0));
  }

  busArn(bus: string): string {
    return `arn:aws:events:${this.deps.region}:${this.deps.accountId}:event-bus/${bus}`;
  }

  ruleArn(rule: Rule | { bus: string; name: string }): string {
    return `arn:aws:events:${this.deps.region}:${this.deps.accountId}:rule/${rule.bus === DEFAULT_BUS ? '' : `${rule.bus}/`}${rule.name}`;
  }

  /** The manifest's buses and rules (checked, compiled); the API's stay. */
  async deploy(buses: readonly string[], rules: readonly Omit<Rule, 'origin'>[]): Promise<void> {
    for (const r of rules) {
      compilePattern(r.pattern);
      for (const t of r.targets) checkTargetInput(t);
    }
    this.manifestBuses = new Set(buses);
    this.manifestRules = rules.map((r) => ({ ...r, origin: 'manifest' }));
    await this.archives.load();
    await this.rebuild();
  }

  async buses(): Promise<string[]> {
    const rows = await this.db.selectFrom('event_buses').select('name').execute();
    return [...new Set([DEFAULT_BUS, ...this.manifestBuses, ...rows.map((r) => r.name)])].sort();
  }

  async createBus(name: string): Promise<void> {
    if (!/^[A-Za-z0-9._-]{1,256}$/.test(name) || name === DEFAULT_BUS || name.startsWith('aws.')) {
      throw new PlatformError('VALIDATION', `Event bus name ${name.slice(0, 256)} is not valid.`);
    }
    if ((await this.buses()).includes(name)) throw new PlatformError('ALREADY_EXISTS', `Event bus ${name} already exists.`);
    await this.db.insertInto('event_buses').values({ name }).execute();
  }

  async deleteBus(name: string): Promise<void> {
    if (name === DEFAULT_BUS) throw new PlatformError('VALIDATION', 'Cannot delete event bus default.');
    if (this.manifestBuses.has(name)) throw new PlatformError('VALIDATION', `Event bus ${name} comes from nuvola.yaml: remove it there.`);
    await this.db.deleteFrom('event_rules').where('bus', '=', name).execute();
    await this.db.deleteFrom('event_buses').where('name', '=', name).execute();
    await this.rebuild();
  }

  async requireBus(nameOrArn: string | undefined): Promise<string> {
    const name = busName(nameOrArn);
    if (!(await this.buses()).includes(name)) throw new PlatformError('RESOURCE_NOT_FOUND', `Event bus ${name} does not exist.`, { bus: name });
    return name;
  }

  async rules(bus: string): Promise<Rule[]> {
    const rows = await this.db.selectFrom('event_rules').selectAll().where('bus', '=', bus).execute();
    return [...this.manifestRules.filter((r) => r.bus === bus), ...rows.map(fromRow)].sort((a, b) => a.name.localeCompare(b.name));
  }

  async rule(bus: string, name: string): Promise<Rule> {
    const found = (await this.rules(bus)).find((r) => r.name === name);
    if (!found) throw new PlatformError('RESOURCE_NOT_FOUND', `Rule ${name} does not exist on EventBus ${bus}.`, { rule: name });
    return found;
  }

  /** Creates or updates an API rule (PutRule); the manifest's are changed in nuvola.yaml. */
  async putRule(bus: string, name: string, pattern: string, enabled: boolean, description?: string): Promise<Rule> {
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(name)) throw new PlatformError('VALIDATION', `1 validation error detected: Value '${name.slice(0, 64)}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+`);
    if (pattern.length > MAX_PATTERN_CHARS) throw new PlatformError('VALIDATION', `Event pattern is too long.`);
    compilePattern(pattern);
    const existing = (await this.rules(bus)).find((r) => r.name === name);
    if (existing?.origin === 'manifest') throw new PlatformError('VALIDATION', `Rule ${name} comes from nuvola.yaml: change it there.`);
    const rule: Rule = { name, bus, pattern, enabled, description, targets: existing?.targets ?? [], origin: 'api' };
    await this.save(rule, existing !== undefined);
    return rule;
  }

  async deleteRule(bus: string, name: string): Promise<void> {
    const rule = await this.rule(bus, name);
    if (rule.origin === 'manifest') throw new PlatformError('VALIDATION', `Rule ${name} comes from nuvola.yaml: remove it there.`);
    if (rule.targets.length > 0) throw new PlatformError('VALIDATION', "Rule can't be deleted since it has targets.");
    await this.db.deleteFrom('event_rules').where('bus', '=', bus).where('name', '=', name).execute();
    await this.rebuild();
  }

  async setEnabled(bus: string, name: string, enabled: boolean): Promise<void> {
    const rule = await this.rule(bus, name);
    if (rule.origin === 'manifest') throw new PlatformError('VALIDATION', `Rule ${name} comes from nuvola.yaml: change it there.`);
    await this.save({ ...rule, enabled }, true);
  }

  async putTargets(bus: string, name: string, targets: readonly Target[]): Promise<{ id: string; code: string; message: string }[]> {
    const rule = await this.rule(bus, name);
    if (rule.origin === 'manifest') throw new PlatformError('VALIDATION', `Rule ${name} comes from nuvola.yaml: change its targets there.`);
    const failed: { id: string; code: string; message: string }[] = [];
    const next = new Map(rule.targets.map((t) => [t.id, t]));
    for (const t of targets) {
      try {
        checkTargetInput(t);
        if (!/^arn:aws:(lambda|sqs|events):/.test(t.arn)) throw new PlatformError('VALIDATION', `Target ${t.arn} is not supported: targets are functions, queues and buses of the app.`);
        next.set(t.id, t);
      } catch (err) {
        failed.push({ id: t.id, code: 'ValidationException', message: (err as Error).message });
      }
    }
    if (next.size > 5) throw new PlatformError('LIMIT_EXCEEDED', 'The requested resource exceeds the maximum number allowed: a rule has at most 5 targets.');
    await this.save({ ...rule, targets: [...next.values()] }, true);
    return failed;
  }

  async removeTargets(bus: string, name: string, ids: readonly string[]): Promise<void> {
    const rule = await this.rule(bus, name);
    if (rule.origin === 'manifest') throw new PlatformError('VALIDATION', `Rule ${name} comes from nuvola.yaml: change its targets there.`);
    await this.save({ ...rule, targets: rule.targets.filter((t) => !ids.includes(t.id)) }, true);
  }

  /** Puts events on their buses; each entry's result, in order, as PutEvents answers. */
  async put(entries: readonly PutEntry[], hops = 0): Promise<PutResult[]> {
    const out: PutResult[] = [];
    for (const entry of entries) {
      try {
        const { bus, event } = await this.envelope(entry);
        await this.archives.keep(bus, event);
        await this.route(bus, event, hops);
        out.push({ EventId: event['id'] as string });
      } catch (err) {
        if (err instanceof EntryError) out.push({ ErrorCode: err.code, ErrorMessage: err.message });
        else throw err;
      }
    }
    return out;
  }

  private async envelope(entry: PutEntry): Promise<{ bus: string; event: Record<string, unknown> }> {
    const need = (key: string, v: unknown): string => {
      if (typeof v !== 'string' || v === '') throw new EntryError('InvalidArgument', `Parameter ${key} is not valid. Reason: ${key} is a required argument.`);
      return v;
    };
    const source = need('Source', entry.Source);
    const detailType = need('DetailType', entry.DetailType);
    const detailText = need('Detail', entry.Detail);
    let detail: unknown;
    try {
      detail = JSON.parse(detailText);
    } catch {
      throw new EntryError('MalformedDetail', 'Detail is malformed.');
    }
    if (detail === null || typeof detail !== 'object' || Array.isArray(detail)) throw new EntryError('MalformedDetail', 'Detail is malformed.');
    let bus: string;
    try {
      bus = await this.requireBus(typeof entry.EventBusName === 'string' ? entry.EventBusName : undefined);
    } catch {
      throw new EntryError('InvalidArgument', `Event bus ${String(entry.EventBusName)} does not exist.`);
    }
    const resources = Array.isArray(entry.Resources) ? entry.Resources.filter((r): r is string => typeof r === 'string') : [];
    const time = entry.Time instanceof Date ? entry.Time : typeof entry.Time === 'number' ? new Date(entry.Time * 1000) : typeof entry.Time === 'string' ? new Date(entry.Time) : new Date(this.deps.clock.now());
    const event = {
      version: '0',
      id: globalThis.crypto.randomUUID(),
      'detail-type': detailType,
      source,
      account: this.deps.accountId,
      time: (Number.isNaN(time.getTime()) ? new Date(this.deps.clock.now()) : time).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: this.deps.region,
      resources,
      detail,
    };
    return { bus, event };
  }

  /** Delivers the event to the targets of every enabled rule of the bus that matches it. */
  private async route(bus: string, event: Record<string, unknown>, hops: number): Promise<void> {
    const compiled = this.compiled.get(bus);
    if (!compiled) return;
    for (const name of compiled.set.match(event)) {
      const rule = compiled.rules.get(name)!;
      for (const target of rule.targets) {
        const payload = targetPayload(target, event, { name: rule.name, arn: this.ruleArn(rule) });
        if (target.arn.startsWith('arn:aws:events:')) {
          if (hops >= EVENTS_LIMITS.BUS_HOPS) {
            this.deps.onWarning(`event ${String(event['id'])}: not sent on to ${target.arn}, it went through ${hops} buses already`);
            continue;
          }
          const next = target.arn.slice(target.arn.lastIndexOf('/') + 1);
          const e = JSON.parse(payload) as Record<string, unknown>;
          await this.route(await this.requireBus(next), { ...e, id: globalThis.crypto.randomUUID() }, hops + 1);
        } else {
          await this.deps.deliver(target.arn, payload);
        }
      }
    }
  }

  private async save(rule: Rule, exists: boolean): Promise<void> {
    const row = { bus: rule.bus, name: rule.name, pattern: rule.pattern, enabled: rule.enabled ? 1 : 0, description: rule.description ?? null, targets: JSON.stringify(rule.targets) };
    if (exists) await this.db.updateTable('event_rules').set(row).where('bus', '=', rule.bus).where('name', '=', rule.name).execute();
    else await this.db.insertInto('event_rules').values(row).execute();
    await this.rebuild();
  }

  private async rebuild(): Promise<void> {
    const next = new Map<string, { rules: Map<string, Rule>; set: RuleSet }>();
    for (const bus of await this.buses()) {
      const rules = new Map<string, Rule>();
      const set = new RuleSet();
      for (const r of await this.rules(bus)) {
        if (!r.enabled) continue;
        try {
          set.add(r.name, compilePattern(r.pattern));
          rules.set(r.name, r);
        } catch (err) {
          this.deps.onWarning(`rule ${r.name}: ${(err as Error).message}`);
        }
      }
      next.set(bus, { rules, set });
    }
    this.compiled = next;
  }
}

class EntryError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A bus by name or ARN; none is `default`. */
export function busName(nameOrArn: string | undefined): string {
  if (nameOrArn === undefined || nameOrArn === '') return DEFAULT_BUS;
  const m = /^arn:aws:events:[^:]*:\d{12}:event-bus\/(.+)$/.exec(nameOrArn);
  return m ? m[1]! : nameOrArn;
}

function fromRow(r: { bus: string; name: string; pattern: string; enabled: number; description: string | null; targets: string }): Rule {
  return { bus: r.bus, name: r.name, pattern: r.pattern, enabled: Number(r.enabled) === 1, description: r.description ?? undefined, targets: JSON.parse(r.targets) as Target[], origin: 'api' };
}
