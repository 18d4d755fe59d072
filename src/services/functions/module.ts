/**
 * The functions service as the platform plugs it in: deploys the manifest's `functions`, serves the
 * Lambda API (signing name `lambda`) and the control API's function routes.
 */
import { handleLambdaRequest } from '../../aws/lambda.js';
import type { AppRevision, DeployChanges, ServiceModule } from '../module.js';
import { PlatformError } from '../../core/errors.js';
import { newAccessKey } from '../../core/access-keys.js';
import { LAMBDA_LIMITS, runtimeMajor } from '../../core/lambda.js';
import type { Executor, FunctionSpec, ProbeResult } from '../../ports/executor.js';
import { AsyncInvoker, queueOf, type AsyncOutcome } from './async-invoker.js';
import type { QueuesService } from '../queues/index.js';
import { functionsMigrations } from './migrations.js';
import { FunctionsService, type DeployedFunction, type FunctionInfo, type InvocationType } from './service.js';

export const functionsModule: ServiceModule<FunctionsService> = {
  name: 'functions',
  sections: ['functions'],
  migrations: functionsMigrations,
  create(ctx) {
    const functions: FunctionsService = new FunctionsService({
      executor: ctx.executor,
      db: ctx.db,
      queues: ctx.use<QueuesService>('queues'),
      onWarning: (message) => ctx.events.emit('warning', message),
      clock: ctx.clock,
      region: ctx.region,
      accountId: ctx.accountId,
      asyncInvoker: new AsyncInvoker({
        broker: ctx.broker,
        executor: ctx.executor,
        clock: ctx.clock,
        region: ctx.region,
        accountId: ctx.accountId,
        onWarning: (message) => ctx.events.emit('warning', message),
        // Called once invocations run, long after `functions` exists.
        onOutcome: (o: AsyncOutcome): Promise<void> => functions.recordOutcome(o),
        sendToQueue: async (queue, body, attributes) => {
          const [sent] = await ctx.use<QueuesService>('queues').send(queue, [{ body, attributes }], 'lambda.amazonaws.com');
          if (sent instanceof Error) throw sent;
        },
      }),
    });
    ctx.events.on('log', (record) => functions.observeLog(record));
    const warnedRuntimes = new Set<string>();

    return {
      service: functions,
      async deploy(app: AppRevision): Promise<DeployChanges> {
        const before = new Map(functions.list().map((f) => [f.name, f]));
        // A function keeps its key pair across deploys: its running instances hold it.
        const deployed = Object.values(app.manifest.functions).map((fn): DeployedFunction => {
          const bundle = app.bundles[fn.name];
          if (!bundle) throw new PlatformError('INTERNAL', `No bundle for function ${fn.name}`);
          const previous = before.get(fn.name);
          return {
            name: fn.name,
            handler: fn.handler,
            bundlePath: bundle.bundlePath,
            exportName: bundle.exportName,
            codeSha256: bundle.codeSha256,
            files: bundle.files,
            runtime: fn.runtime,
            memoryMb: fn.memory,
            timeoutSeconds: fn.timeout,
            ephemeralStorageMb: fn.ephemeralStorage,
            environment: fn.environment,
            reservedConcurrency: fn.reservedConcurrency,
            provisionedConcurrency: fn.provisionedConcurrency,
            instanceConcurrency: fn.instanceConcurrency,
            async: {
              maximumRetryAttempts: fn.maximumRetryAttempts,
              maximumEventAgeSeconds: fn.maximumEventAge,
              onSuccess: fn.destinations?.onSuccess,
              onFailure: fn.destinations?.onFailure,
              deadLetterQueue: fn.deadLetterQueue,
            },
            credentials: previous?.credentials ?? newAccessKey('ASIA'),
            codeSize: bundle.size,
            lastModified: previous?.codeSha256 === bundle.codeSha256 ? previous.lastModified : ctx.clock.now(),
          };
        });
        warnAboutRuntimes(deployed, warnedRuntimes, (message) => ctx.events.emit('warning', message));
        // The same code under the same export was checked when it was first deployed.
        const newCode = deployed.filter((f) => {
          const b = before.get(f.name);
          return b?.codeSha256 !== f.codeSha256 || b.exportName !== f.exportName;
        });
        await checkHandlers(ctx.executor, newCode);
        await functions.deploy(deployed);
        await functions.deployEventSources(
          app.manifest.app,
          new Map(
            Object.values(app.manifest.functions).map((fn) => [
              fn.name,
              fn.events
                .filter((e) => e.type === 'sqs')
                .map((e) => ({ queue: e.queue, batchSize: e.batchSize, maximumBatchingWindow: e.maximumBatchingWindow, reportBatchItemFailures: e.reportBatchItemFailures, maximumConcurrency: e.maximumConcurrency, enabled: e.enabled })),
            ]),
          ),
        );
        for (const f of deployed) ctx.keys.add(f.credentials, { kind: 'function', name: f.name });
        const names = new Set(deployed.map((f) => f.name));
        for (const [name, f] of before) if (!names.has(name)) ctx.keys.remove(f.credentials.accessKeyId);
        return changesOf(before, deployed);
      },
      health: () => ({ functions: functions.list().length }),
      // Asynchronous invocations in flight finish (or fail, once the executor is closed) first.
      close: () => functions.drain(),
      aws: { lambda: (req) => handleLambdaRequest({ functions, endpointUrl: ctx.endpointUrl, region: ctx.region, accountId: ctx.accountId }, req) },
      control: [
        {
          method: 'GET',
          path: 'functions',
          // `async`: each function's queued asynchronous invocations (visible, in flight, delayed retries).
          handle: async () => ({
            kind: 'json',
            body: {
              functions: functions.list().map(describe),
              stats: ctx.executor.stats(),
              async: Object.fromEntries(await Promise.all(functions.list().map(async (f) => [f.name, await ctx.broker.counts(queueOf(f.name))] as const))),
            },
          }),
        },
        {
          method: 'POST',
          path: 'functions/:name/invoke',
          async handle(req) {
            const limit = LAMBDA_LIMITS.MAX_SYNC_REQUEST_BYTES;
            const body = await req.body(limit);
            if (!body) throw new PlatformError('PAYLOAD_TOO_LARGE', `Request must be smaller than ${limit} bytes for the InvokeFunction operation`, { limit });
            const payload = body.toString('utf8');
            const type = (req.query.get('type') ?? 'RequestResponse') as InvocationType;
            const out = await functions.invoke(req.params['name']!, { type, payload, tail: true });
            return {
              kind: 'json',
              status: type === 'Event' ? 202 : 200,
              body: {
                requestId: out.requestId,
                ...(out.result ? { result: JSON.parse(out.result.payload) as unknown, error: out.result.error ?? null } : {}),
                logs: out.logTail ?? '',
              },
            };
          },
        },
        {
          method: 'GET',
          path: 'invocations',
          // The latest asynchronous invocations and where they stand: `fn`, `failed=1`, `limit` (default 50).
          handle: async (req) => {
            const limit = Math.min(1000, Math.max(1, Number(req.query.get('limit') ?? 50) || 50));
            const fn = req.query.get('fn') ?? undefined;
            return { kind: 'json', body: { invocations: await functions.invocations({ fn, failed: req.query.get('failed') === '1', limit }) } };
          },
        },
        {
          method: 'GET',
          path: 'functions/:name/code',
          handle: async (req) => ({ kind: 'file', path: functions.get(req.params['name']!).bundlePath, contentType: 'text/javascript; charset=utf-8' }),
        },
      ],
    };
  },
};

function describe(f: FunctionInfo) {
  return { name: f.name, handler: f.handler, runtime: f.runtime, memory: f.memoryMb, timeout: f.timeoutSeconds, codeSha256: f.codeSha256 };
}

function changesOf(before: ReadonlyMap<string, DeployedFunction>, after: readonly DeployedFunction[]): DeployChanges {
  const names = new Set(after.map((f) => f.name));
  return {
    added: after.filter((f) => !before.has(f.name)).map((f) => f.name),
    changed: after.filter((f) => {
      const b = before.get(f.name);
      return b !== undefined && (b.codeSha256 !== f.codeSha256 || configOf(b) !== configOf(f));
    }).map((f) => f.name),
    removed: [...before.keys()].filter((n) => !names.has(n)),
  };
}

const configOf = (f: DeployedFunction): string =>
  JSON.stringify([f.runtime, f.memoryMb, f.timeoutSeconds, f.ephemeralStorageMb, f.environment, f.reservedConcurrency, f.provisionedConcurrency, f.instanceConcurrency, f.async, f.handler]);

/** Each probe is a process importing user code; the machines Nuvola is tuned on have two cores. */
const PROBES_AT_ONCE = 2;

/**
 * A handler export that is missing or is no function would fail every invocation: it is found at
 * deploy instead, by loading the code once (the bundler sees export names only, not what they are).
 * Other init failures, such as a module that throws on import, are left to the first invocation as
 * Lambda leaves them: they may depend on the moment (a database not up yet).
 */
async function checkHandlers(executor: Executor, fns: readonly FunctionSpec[]): Promise<void> {
  // Functions built from the same code with the same export (one handler behind several names) are
  // checked once.
  const byCode = new Map<string, FunctionSpec[]>();
  for (const f of fns) {
    const key = `${f.codeSha256}\u0000${f.exportName}`;
    byCode.set(key, [...(byCode.get(key) ?? []), f]);
  }
  const groups = [...byCode.values()];
  const results: ProbeResult[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < groups.length) {
      const i = next++;
      results[i] = await executor.probe(groups[i]![0]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PROBES_AT_ONCE, groups.length) }, worker));
  const failures = groups.flatMap((group, i) => {
    const r = results[i]!;
    if (r.ok || r.error.type !== 'Runtime.HandlerNotFound') return [];
    return group.map((f) => ({ fn: f.name, handler: f.handler, message: `Function "${f.name}": ${r.error.message}` }));
  });
  if (failures.length > 0) {
    throw new PlatformError('HANDLER_NOT_FOUND', failures.map((f) => f.message).join('\n'), { errors: failures });
  }
}

/**
 * Instances run on the Node that runs Nuvola, whatever `runtime` says: a function written for another
 * major version may behave differently, so say so, once per runtime.
 */
function warnAboutRuntimes(fns: readonly DeployedFunction[], warned: Set<string>, warn: (message: string) => void): void {
  const running = Number(process.versions.node.split('.')[0]);
  const byRuntime = new Map<string, string[]>();
  for (const f of fns) {
    if (runtimeMajor(f.runtime) === running || warned.has(f.runtime)) continue;
    byRuntime.set(f.runtime, [...(byRuntime.get(f.runtime) ?? []), f.name]);
  }
  for (const [runtime, names] of byRuntime) {
    warned.add(runtime);
    warn(`runtime ${runtime} (${names.join(', ')}) differs from the Node.js that runs Nuvola and its instances, v${process.versions.node}`);
  }
}
