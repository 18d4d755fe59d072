/**
 * Functions: the deployed set, their configuration, and invocation in Lambda's three types
 * (`RequestResponse`, `Event`, `DryRun`). Runs code only through the `Executor` port.
 */
import { PlatformError } from '../../core/errors.js';
import { LAMBDA_LIMITS, functionArn } from '../../core/lambda.js';
import type { Kysely } from 'kysely';
import type { Clock } from '../../ports/clock.js';
import type { Db, DbSchema } from '../../ports/db.js';
import type { Executor, FunctionSpec, InvokeResult, LogRecord } from '../../ports/executor.js';
import { isQueueArn, type AsyncConfig, type AsyncInvoker, type AsyncOutcome } from './async-invoker.js';
import type { QueuesService } from '../queues/index.js';
import { EventSources, type EventSourceMapping } from './event-sources.js';
import { Mappings, type MappingInput } from './mappings.js';
import type { FunctionsTables } from './migrations.js';

export interface DeployedFunction extends FunctionSpec {
  /** Bundle size in bytes, Lambda's `CodeSize`. */
  readonly codeSize: number;
  readonly lastModified: number;
  /** How its asynchronous invocations are retried and where their outcome goes. */
  readonly async: AsyncConfig;
}

export interface FunctionInfo extends DeployedFunction {
  readonly arn: string;
}

export const INVOCATION_TYPES = ['RequestResponse', 'Event', 'DryRun'] as const;
export type InvocationType = (typeof INVOCATION_TYPES)[number];

export interface InvokeRequest {
  readonly type?: InvocationType;
  /** The event as JSON text; empty means `{}` as Lambda takes an empty body. */
  readonly payload: string;
  /** Collect the invocation's log for `X-Amz-Log-Result`. */
  readonly tail?: boolean;
  readonly clientContext?: unknown;
}

export interface InvokeResponse {
  readonly type: InvocationType;
  readonly requestId: string;
  /** Present for `RequestResponse`. */
  readonly result?: InvokeResult;
  /** The last 4 KB of the invocation's log, when asked for. */
  readonly logTail?: string;
}

export interface FunctionsServiceDeps {
  readonly executor: Executor;
  /** Where the asynchronous settings set through the API are kept. */
  readonly db: Db;
  readonly clock: Clock;
  readonly region: string;
  readonly accountId: string;
  /** Where `Event` invocations are queued and run from. */
  readonly asyncInvoker: AsyncInvoker;
  /** The queues that feed functions through event source mappings. */
  readonly queues: QueuesService;
  readonly onWarning: (message: string) => void;
}

/** Deployed functions and their invocation. Function errors are results; platform faults throw `PlatformError`. */
export class FunctionsService {
  private readonly deps: FunctionsServiceDeps;
  private functions = new Map<string, FunctionInfo>();
  /**
   * Asynchronous settings set through the Lambda API (PutFunctionEventInvokeConfig), over the
   * manifest's, with when; kept in the database while the function exists, as Lambda keeps them.
   */
  private asyncOverrides = new Map<string, { config: AsyncConfig; lastModified: number }>();
  private readonly db: Kysely<DbSchema & FunctionsTables>;
  private outcomesSincePrune = 0;
  private readonly mappings: Mappings;
  private readonly eventSources: EventSources;
  private readonly tails = new Map<string, string[]>();

  constructor(deps: FunctionsServiceDeps) {
    this.deps = deps;
    this.db = deps.db.kysely.withTables<FunctionsTables>();
    this.mappings = new Mappings(this.db, deps.clock);
    this.eventSources = new EventSources({ executor: deps.executor, clock: deps.clock, region: deps.region, queues: () => deps.queues, onWarning: deps.onWarning });
  }

  /** Sets the manifest's event source mappings (after `deploy`), checked as Lambda checks them, and runs them all. */
  async deployEventSources(app: string, byFunction: ReadonlyMap<string, readonly Omit<MappingInput, 'functionName'>[]>): Promise<void> {
    for (const [fn, events] of byFunction) for (const e of events) await this.mappings.check({ ...e, functionName: fn }, this.deps.queues, this.get(fn).timeoutSeconds);
    this.mappings.setManifest(app, byFunction, this.deps.clock.now());
    await this.mappings.forgetFunctionsOtherThan(new Set(this.functions.keys()));
    await this.eventSources.apply(await this.mappings.all());
  }

  listMappings(filter: { functionName?: string | undefined; queue?: string | undefined }): Promise<EventSourceMapping[]> {
    const fn = filter.functionName === undefined ? undefined : this.get(filter.functionName).name;
    return this.mappings.all().then((all) => all.filter((m) => (fn === undefined || m.functionName === fn) && (filter.queue === undefined || m.queue === filter.queue)));
  }

  getMapping(uuid: string): Promise<EventSourceMapping> {
    return this.mappings.get(uuid);
  }

  async createMapping(input: MappingInput): Promise<EventSourceMapping> {
    const fn = this.get(input.functionName);
    await this.mappings.check({ ...input, functionName: fn.name }, this.deps.queues, fn.timeoutSeconds);
    const created = await this.mappings.create({ ...input, functionName: fn.name });
    await this.eventSources.apply(await this.mappings.all());
    return created;
  }

  async updateMapping(uuid: string, patch: Partial<MappingInput>): Promise<EventSourceMapping> {
    const current = await this.mappings.get(uuid);
    const fn = this.get(patch.functionName ?? current.functionName);
    await this.mappings.check({ ...current, ...patch, functionName: fn.name }, this.deps.queues, fn.timeoutSeconds);
    const updated = await this.mappings.update(uuid, { ...patch, functionName: fn.name });
    await this.eventSources.apply(await this.mappings.all());
    return updated;
  }

  async deleteMapping(uuid: string): Promise<EventSourceMapping> {
    const deleted = await this.mappings.delete(uuid);
    await this.eventSources.apply(await this.mappings.all());
    return deleted;
  }

  async deploy(functions: readonly DeployedFunction[]): Promise<void> {
    const next = new Map<string, FunctionInfo>();
    for (const f of functions) next.set(f.name, { ...f, arn: functionArn(f.name, this.deps.region, this.deps.accountId) });
    this.functions = next;
    const gone = (await this.db.selectFrom('event_invoke_configs').select('fn').execute()).map((r) => r.fn).filter((fn) => !next.has(fn));
    if (gone.length > 0) await this.db.deleteFrom('event_invoke_configs').where('fn', 'in', gone).execute();
    const rows = await this.db.selectFrom('event_invoke_configs').selectAll().execute();
    this.asyncOverrides = new Map(rows.map((r) => [r.fn, { config: JSON.parse(r.config) as AsyncConfig, lastModified: Number(r.last_modified) }]));
    await this.deps.executor.deploy(functions);
    await this.deployAsync();
  }

  /** How the function's asynchronous invocations run: the API's settings, else the manifest's. */
  eventInvokeConfig(name: string): { config: AsyncConfig; lastModified: number } {
    const fn = this.get(name);
    return this.asyncOverrides.get(fn.name) ?? { config: fn.async, lastModified: fn.lastModified };
  }

  /** Sets them (PutFunctionEventInvokeConfig); `undefined` goes back to the manifest's (Delete…). */
  async setEventInvokeConfig(name: string, config: AsyncConfig | undefined): Promise<void> {
    const fn = this.get(name);
    for (const to of [config?.onSuccess, config?.onFailure]) {
      if (to === undefined || this.functions.has(to)) continue;
      if (isQueueArn(to) && (await this.deps.queues.resolve(to.slice(to.lastIndexOf(':') + 1)).catch(() => undefined))) continue;
      throw new PlatformError('INVALID_PARAMETER', `The destination ${to} is not a function or queue of the app (topics and buses are not destinations yet)`, { destination: to });
    }
    if (config) {
      const lastModified = this.deps.clock.now();
      const row = { fn: fn.name, config: JSON.stringify(config), last_modified: lastModified };
      await this.db.insertInto('event_invoke_configs').values(row).onConflict((oc) => oc.column('fn').doUpdateSet({ config: row.config, last_modified: lastModified })).execute();
      this.asyncOverrides.set(fn.name, { config, lastModified });
    } else {
      await this.db.deleteFrom('event_invoke_configs').where('fn', '=', fn.name).execute();
      this.asyncOverrides.delete(fn.name);
    }
    await this.deployAsync();
  }

  private deployAsync(): Promise<void> {
    return this.deps.asyncInvoker.deploy([...this.functions.values()].map((f) => ({ ...f, async: this.asyncOverrides.get(f.name)?.config ?? f.async })));
  }

  get(name: string): FunctionInfo {
    const f = this.functions.get(name) ?? this.functions.get(nameFromArn(name));
    if (!f) throw new PlatformError('FUNCTION_NOT_FOUND', `Function not found: ${functionArn(name, this.deps.region, this.deps.accountId)}`, { name });
    return f;
  }

  list(): FunctionInfo[] {
    return [...this.functions.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Sees every log record, to keep the lines of invocations whose caller asked for a tail. */
  observeLog(record: LogRecord): void {
    if (record.requestId) this.tails.get(record.requestId)?.push(record.message);
  }

  async invoke(name: string, request: InvokeRequest): Promise<InvokeResponse> {
    const fn = this.get(name);
    const type = request.type ?? 'RequestResponse';
    const requestId = globalThis.crypto.randomUUID();
    const payload = request.payload.trim() === '' ? '{}' : request.payload;
    const limit = type === 'Event' ? LAMBDA_LIMITS.MAX_ASYNC_REQUEST_BYTES : LAMBDA_LIMITS.MAX_SYNC_REQUEST_BYTES;
    if (payload.length > limit / 4 && Buffer.byteLength(payload) > limit) {
      throw new PlatformError('PAYLOAD_TOO_LARGE', `Request must be smaller than ${limit} bytes for the InvokeFunction operation`, { limit });
    }
    try {
      JSON.parse(payload);
    } catch (err) {
      throw new PlatformError('INVALID_REQUEST', `Could not parse request body into json: ${(err as Error).message}`);
    }
    if (type === 'DryRun') return { type, requestId };
    if (type === 'Event') {
      // Answered once the event is stored: from then on it runs at least once, restarts included.
      await this.deps.asyncInvoker.enqueue(fn.name, { requestId, payload, clientContext: request.clientContext });
      return { type, requestId };
    }
    if (!request.tail) {
      const result = await this.deps.executor.invoke(fn.name, { requestId, payload, clientContext: request.clientContext });
      return { type, requestId, result };
    }
    const lines: string[] = [];
    this.tails.set(requestId, lines);
    try {
      const result = await this.deps.executor.invoke(fn.name, { requestId, payload, clientContext: request.clientContext });
      return { type, requestId, result, logTail: tailOf(lines) };
    } finally {
      this.tails.delete(requestId);
    }
  }

  /** Keeps an asynchronous invocation's latest outcome; a function keeps its latest `KEPT_OUTCOMES`. */
  async recordOutcome(o: AsyncOutcome): Promise<void> {
    const row = {
      request_id: o.requestId,
      fn: o.fn,
      status: o.status,
      attempts: o.attempts,
      error_type: o.error?.type ?? null,
      error_message: o.error?.message.slice(0, 1024) ?? null,
      destination: o.destination ?? null,
      queued_at: o.queuedAt,
      updated_at: o.at,
    };
    const { request_id: _id, ...update } = row;
    await this.db.insertInto('async_invocations').values(row).onConflict((oc) => oc.column('request_id').doUpdateSet(update)).execute();
    // Pruned now and then, not on every write: the table may run over by that many.
    if (++this.outcomesSincePrune < PRUNE_EVERY) return;
    this.outcomesSincePrune = 0;
    for (const { fn } of await this.db.selectFrom('async_invocations').select('fn').distinct().execute()) {
      const oldest = await this.db.selectFrom('async_invocations').select('updated_at').where('fn', '=', fn).orderBy('updated_at', 'desc').offset(KEPT_OUTCOMES).limit(1).executeTakeFirst();
      if (oldest) await this.db.deleteFrom('async_invocations').where('fn', '=', fn).where('updated_at', '<=', oldest.updated_at).execute();
    }
  }

  /** The latest asynchronous invocations, newest first; of one function, and only failed or expired ones if asked. */
  async invocations(options: { fn?: string | undefined; failed?: boolean; limit: number }): Promise<AsyncOutcome[]> {
    let q = this.db.selectFrom('async_invocations').selectAll().orderBy('updated_at', 'desc').limit(options.limit);
    if (options.fn !== undefined) q = q.where('fn', '=', this.get(options.fn).name);
    if (options.failed) q = q.where('status', 'in', ['failed', 'expired']);
    return (await q.execute()).map((r) => ({
      requestId: r.request_id,
      fn: r.fn,
      status: r.status as AsyncOutcome['status'],
      attempts: Number(r.attempts),
      error: r.error_type !== null ? { type: r.error_type, message: r.error_message ?? '' } : undefined,
      destination: r.destination ?? undefined,
      queuedAt: Number(r.queued_at),
      at: Number(r.updated_at),
    }));
  }

  /**
   * Hands `payload` to a target by its ARN, durably: a function of the app is invoked asynchronously
   * (queued before this resolves), a queue of the app gets it as a message. What event rules and
   * schedules deliver to.
   */
  async deliver(arn: string, payload: string, sender: string): Promise<void> {
    const fn = /^arn:aws:lambda:[^:]*:\d{12}:function:([^:]+)/.exec(arn)?.[1];
    if (fn) {
      await this.invoke(fn, { type: 'Event', payload });
      return;
    }
    const queue = /^arn:aws:sqs:[^:]*:\d{12}:(.+)$/.exec(arn)?.[1];
    if (!queue) throw new PlatformError('VALIDATION', `Target ${arn.slice(0, 200)} is not a function or queue of the app`);
    const [sent] = await this.deps.queues.send(queue, [{ body: payload }], sender);
    if (sent instanceof Error) throw sent;
  }

  /** Stops running queued asynchronous invocations and waits for those in flight (for an orderly stop). */
  async drain(): Promise<void> {
    await this.eventSources.close();
    await this.deps.asyncInvoker.close();
  }
}

/** Asynchronous invocations kept per function for `nuvola invocations`. */
export const KEPT_OUTCOMES = 1000;
const PRUNE_EVERY = 100;

function nameFromArn(nameOrArn: string): string {
  // arn:aws:lambda:region:account:function:name[:qualifier], or a partial "account:function:name".
  const m = /(?:^|:)function:([^:]+)(?::[^:]+)?$/.exec(nameOrArn);
  return m?.[1] ?? nameOrArn;
}

function tailOf(lines: string[]): string {
  const text = lines.join('\n') + '\n';
  const bytes = Buffer.from(text);
  return bytes.length <= LAMBDA_LIMITS.LOG_TAIL_BYTES ? text : bytes.subarray(bytes.length - LAMBDA_LIMITS.LOG_TAIL_BYTES).toString();
}
