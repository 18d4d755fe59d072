/**
 * Archives and replays, as EventBridge has them: an archive keeps the events put on its bus that match
 * its pattern (all, without one), for its retention; a replay puts the archived events of a time range
 * back through the bus's rules, each marked with `replay-name`.
 */
import type { Kysely } from 'kysely';
import { PlatformError } from '../../core/errors.js';
import { matches } from '../../core/events/match.js';
import { compilePattern, type CompiledPattern } from '../../core/events/pattern.js';
import type { Clock } from '../../ports/clock.js';
import type { DbSchema } from '../../ports/db.js';
import type { EventsTables } from './migrations.js';

export interface Archive {
  readonly name: string;
  readonly bus: string;
  readonly pattern?: string | undefined;
  /** Days; 0 keeps events for good. */
  readonly retentionDays: number;
  readonly createdAt: number;
}

export interface Replay {
  readonly name: string;
  readonly archive: string;
  readonly from: number;
  readonly to: number;
  readonly state: 'COMPLETED' | 'FAILED';
  readonly replayed: number;
  readonly at: number;
}

export class Archives {
  private compiled = new Map<string, { archive: Archive; pattern: CompiledPattern | undefined }>();
  private readonly replays = new Map<string, Replay>();

  constructor(
    private readonly db: Kysely<DbSchema & EventsTables>,
    private readonly clock: Clock,
  ) {}

  async load(): Promise<void> {
    const rows = await this.db.selectFrom('event_archives').selectAll().execute();
    this.compiled = new Map(rows.map((r) => [r.name, { archive: fromRow(r), pattern: r.pattern ? compilePattern(r.pattern) : undefined }]));
  }

  list(bus?: string): Archive[] {
    return [...this.compiled.values()].map((c) => c.archive).filter((a) => bus === undefined || a.bus === bus);
  }

  get(name: string): Archive {
    const found = this.compiled.get(name);
    if (!found) throw new PlatformError('RESOURCE_NOT_FOUND', `Archive ${name} does not exist.`, { archive: name });
    return found.archive;
  }

  async create(archive: Omit<Archive, 'createdAt'>): Promise<Archive> {
    if (!/^[.\-_A-Za-z0-9]{1,48}$/.test(archive.name)) throw new PlatformError('VALIDATION', `Archive name ${archive.name.slice(0, 48)} is not valid.`);
    if (this.compiled.has(archive.name)) throw new PlatformError('ALREADY_EXISTS', `Archive ${archive.name} already exists.`);
    const pattern = archive.pattern ? compilePattern(archive.pattern) : undefined;
    const full = { ...archive, createdAt: this.clock.now() };
    await this.db.insertInto('event_archives').values({ name: full.name, bus: full.bus, pattern: full.pattern ?? null, retention_days: full.retentionDays, created_at: full.createdAt }).execute();
    this.compiled.set(full.name, { archive: full, pattern });
    return full;
  }

  async delete(name: string): Promise<void> {
    this.get(name);
    await this.db.deleteFrom('archived_events').where('archive', '=', name).execute();
    await this.db.deleteFrom('event_archives').where('name', '=', name).execute();
    this.compiled.delete(name);
  }

  /** Keeps the event in every archive of its bus whose pattern it matches; replayed events are not archived again. */
  async keep(bus: string, event: Record<string, unknown>): Promise<void> {
    if (event['replay-name'] !== undefined) return;
    const now = this.clock.now();
    for (const { archive, pattern } of this.compiled.values()) {
      if (archive.bus !== bus || (pattern && !matches(pattern, event))) continue;
      await this.db.insertInto('archived_events').values({ archive: archive.name, time: now, event: JSON.stringify(event) }).execute();
    }
  }

  /** Drops events past their archive's retention. */
  async expire(): Promise<void> {
    for (const { archive } of this.compiled.values()) {
      if (archive.retentionDays === 0) continue;
      await this.db.deleteFrom('archived_events').where('archive', '=', archive.name).where('time', '<', this.clock.now() - archive.retentionDays * 86_400_000).execute();
    }
  }

  /** The archived events of [from, to), oldest first, through `route` with `replay-name` set. */
  async replay(name: string, archiveName: string, from: number, to: number, route: (bus: string, event: Record<string, unknown>) => Promise<void>): Promise<Replay> {
    if (this.replays.has(name)) throw new PlatformError('ALREADY_EXISTS', `Replay ${name} already exists.`);
    if (!(from < to)) throw new PlatformError('VALIDATION', 'Parameter EventEndTime is not valid. Reason: EventStartTime must be before EventEndTime.');
    const archive = this.get(archiveName);
    const rows = await this.db.selectFrom('archived_events').select(['event']).where('archive', '=', archive.name).where('time', '>=', from).where('time', '<', to).orderBy('time').execute();
    for (const r of rows) await route(archive.bus, { ...(JSON.parse(r.event) as Record<string, unknown>), 'replay-name': name });
    const replay: Replay = { name, archive: archive.name, from, to, state: 'COMPLETED', replayed: rows.length, at: this.clock.now() };
    this.replays.set(name, replay);
    return replay;
  }

  getReplay(name: string): Replay {
    const r = this.replays.get(name);
    if (!r) throw new PlatformError('RESOURCE_NOT_FOUND', `Replay ${name} does not exist.`);
    return r;
  }

  listReplays(): Replay[] {
    return [...this.replays.values()];
  }
}

function fromRow(r: { name: string; bus: string; pattern: string | null; retention_days: number; created_at: number }): Archive {
  return { name: r.name, bus: r.bus, pattern: r.pattern ?? undefined, retentionDays: Number(r.retention_days), createdAt: Number(r.created_at) };
}
