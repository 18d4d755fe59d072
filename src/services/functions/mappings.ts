/**
 * The event source mappings of the app: the manifest's `sqs` events (named by a stable id, rebuilt on
 * each deploy) and those made through the Lambda API (kept in SQL), checked as Lambda checks them.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { PlatformError } from '../../core/errors.js';
import type { Clock } from '../../ports/clock.js';
import type { DbSchema } from '../../ports/db.js';
import type { QueuesService } from '../queues/index.js';
import { checkVisibility, type EventSourceMapping } from './event-sources.js';
import type { FunctionsTables } from './migrations.js';

export type MappingInput = Omit<EventSourceMapping, 'uuid' | 'lastModified' | 'origin'>;

export class Mappings {
  private manifest: EventSourceMapping[] = [];

  constructor(
    private readonly db: Kysely<DbSchema & FunctionsTables>,
    private readonly clock: Clock,
  ) {}

  /** The manifest's mappings: `events` of type `sqs`, by function. */
  setManifest(app: string, byFunction: ReadonlyMap<string, readonly Omit<MappingInput, 'functionName'>[]>, lastModified: number): void {
    this.manifest = [...byFunction].flatMap(([fn, events]) =>
      events.map((e, i) => ({ ...e, functionName: fn, uuid: stableUuid(`${app}/${fn}/${i}/${e.queue}`), lastModified, origin: 'manifest' as const })),
    );
  }

  async all(): Promise<EventSourceMapping[]> {
    const rows = await this.db.selectFrom('event_source_mappings').selectAll().orderBy('last_modified').execute();
    return [...this.manifest, ...rows.map(fromRow)];
  }

  async get(uuid: string): Promise<EventSourceMapping> {
    const found = (await this.all()).find((m) => m.uuid === uuid);
    if (!found) throw new PlatformError('MAPPING_NOT_FOUND', `The resource you requested does not exist. (Service: Lambda, Status Code: 404, Request ID: ${randomUUID()})`, { uuid: uuid.slice(0, 64) });
    return found;
  }

  /** Checks a mapping as Lambda does: the queue exists, a batch can finish before it comes back, sizes fit. */
  async check(m: MappingInput, queues: QueuesService, functionTimeoutSeconds: number): Promise<void> {
    const q = await queues.resolve(m.queue).catch(() => {
      throw new PlatformError('INVALID_PARAMETER', `Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified queue does not exist.`);
    });
    const visibility = Number((await queues.getAttributes(q.name, ['VisibilityTimeout']))['VisibilityTimeout']);
    checkVisibility(visibility, functionTimeoutSeconds);
    if (!Number.isInteger(m.batchSize) || m.batchSize < 1 || m.batchSize > (q.fifo ? 10 : 10_000)) {
      throw new PlatformError('INVALID_PARAMETER', `BatchSize must be between 1 and ${q.fifo ? 10 : 10_000} for ${q.fifo ? 'a FIFO' : 'an SQS'} queue.`);
    }
    if (m.batchSize > 10 && m.maximumBatchingWindow < 1) {
      throw new PlatformError('INVALID_PARAMETER', 'Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10');
    }
    if (m.maximumConcurrency !== undefined && (m.maximumConcurrency < 2 || m.maximumConcurrency > 1000)) {
      throw new PlatformError('INVALID_PARAMETER', 'MaximumConcurrency must be between 2 and 1000.');
    }
  }

  async create(m: MappingInput): Promise<EventSourceMapping> {
    const mapping: EventSourceMapping = { ...m, uuid: randomUUID(), lastModified: this.clock.now(), origin: 'api' };
    await this.db.insertInto('event_source_mappings').values(toRow(mapping)).execute();
    return mapping;
  }

  async update(uuid: string, patch: Partial<MappingInput>): Promise<EventSourceMapping> {
    const current = await this.get(uuid);
    if (current.origin === 'manifest') throw new PlatformError('INVALID_PARAMETER', 'This event source mapping comes from nuvola.yaml: change it there.');
    const next: EventSourceMapping = { ...current, ...patch, lastModified: this.clock.now() };
    await this.db.updateTable('event_source_mappings').set(toRow(next)).where('uuid', '=', uuid).execute();
    return next;
  }

  async delete(uuid: string): Promise<EventSourceMapping> {
    const current = await this.get(uuid);
    if (current.origin === 'manifest') throw new PlatformError('INVALID_PARAMETER', 'This event source mapping comes from nuvola.yaml: remove it there.');
    await this.db.deleteFrom('event_source_mappings').where('uuid', '=', uuid).execute();
    return current;
  }

  /** Mappings of functions that are gone go with them, as Lambda deletes them with the function. */
  async forgetFunctionsOtherThan(names: ReadonlySet<string>): Promise<void> {
    const rows = await this.db.selectFrom('event_source_mappings').select(['uuid', 'fn']).execute();
    const gone = rows.filter((r) => !names.has(r.fn)).map((r) => r.uuid);
    if (gone.length > 0) await this.db.deleteFrom('event_source_mappings').where('uuid', 'in', gone).execute();
  }
}

/** A UUID derived from a name: the manifest's mappings keep their ids across restarts. */
function stableUuid(name: string): string {
  const h = createHash('sha256').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${h.slice(18, 20)}-${h.slice(20, 32)}`;
}

function toRow(m: EventSourceMapping) {
  return {
    uuid: m.uuid,
    fn: m.functionName,
    queue: m.queue,
    batch_size: m.batchSize,
    batching_window: m.maximumBatchingWindow,
    report_failures: m.reportBatchItemFailures ? 1 : 0,
    max_concurrency: m.maximumConcurrency ?? null,
    enabled: m.enabled ? 1 : 0,
    last_modified: m.lastModified,
  };
}

function fromRow(r: ReturnType<typeof toRow>): EventSourceMapping {
  return {
    uuid: r.uuid,
    functionName: r.fn,
    queue: r.queue,
    batchSize: Number(r.batch_size),
    maximumBatchingWindow: Number(r.batching_window),
    reportBatchItemFailures: Number(r.report_failures) === 1,
    maximumConcurrency: r.max_concurrency === null ? undefined : Number(r.max_concurrency),
    enabled: Number(r.enabled) === 1,
    lastModified: Number(r.last_modified),
    origin: 'api',
  };
}
