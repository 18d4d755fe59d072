// The functions service's deploy checks each new handler by loading it once (Executor.probe): a
// handler that is no function fails the deploy, other init failures are left to the invocation.
import { KeyRing } from '../../core/access-keys.js';
import { describe, expect, it } from 'vitest';
import type { AppManifest, FunctionBundle, FunctionConfig } from '../../core/app.js';
import { FakeClock } from '../../drivers/conformance/fake-clock.js';
import { SqliteBroker } from '../../drivers/embedded/sqlite-broker.js';
import { SqliteDb } from '../../drivers/embedded/sqlite-db.js';
import type { Executor, FunctionSpec, ProbeResult } from '../../ports/executor.js';
import { createPlatformEvents, type AppRevision, type ServiceContext, type ServiceFace } from '../module.js';
import { functionsMigrations } from './migrations.js';
import { functionsModule } from './module.js';
import type { FunctionsService } from './service.js';

/** An executor whose probes answer from `outcomes` (by function name) after a turn of the event loop. */
class ProbingExecutor implements Pick<Executor, 'deploy' | 'probe'> {
  probed: string[] = [];
  deployed: string[] = [];
  maxAtOnce = 0;
  private running = 0;

  constructor(private readonly outcomes: Record<string, ProbeResult> = {}) {}

  async probe(spec: FunctionSpec): Promise<ProbeResult> {
    this.probed.push(spec.name);
    this.maxAtOnce = Math.max(this.maxAtOnce, ++this.running);
    await new Promise((r) => setImmediate(r));
    this.running--;
    return this.outcomes[spec.name] ?? { ok: true, initDurationMs: 5 };
  }

  async deploy(specs: readonly FunctionSpec[]): Promise<void> {
    this.deployed = specs.map((s) => s.name);
  }
}

async function create(executor: ProbingExecutor): Promise<ServiceFace<FunctionsService>> {
  const clock = new FakeClock();
  const db = new SqliteDb(':memory:');
  await db.migrate(functionsMigrations);
  const ctx = {
    db,
    executor: executor as unknown as Executor,
    broker: new SqliteBroker(':memory:', clock),
    clock,
    region: 'us-east-1',
    accountId: '000000000000',
    endpointUrl: () => 'http://127.0.0.1:1',
    events: createPlatformEvents(),
    keys: new KeyRing(),
    // No queues here: the apps of these tests have no sqs events.
    use: <S,>() => ({}) as S,
  } as Partial<ServiceContext> as ServiceContext;
  return functionsModule.create(ctx);
}

/**
 * An app revision of functions `name → code version`, each handler `src/<name>.handler`; the code of
 * each function is its own unless `shared` says all are built from one file.
 */
function revision(fns: Record<string, string>, exportName = 'handler', shared = false): AppRevision {
  const functions: Record<string, FunctionConfig> = {};
  const bundles: Record<string, FunctionBundle> = {};
  for (const [name, version] of Object.entries(fns)) {
    const handler = `src/${name}.${exportName}`;
    functions[name] = { name, handler, handlerFile: `src/${name}`, exportName, runtime: 'nodejs20.x', memory: 128, timeout: 3, ephemeralStorage: 512, environment: {}, instanceConcurrency: 1, maximumRetryAttempts: 2, maximumEventAge: 21600, events: [] };
    bundles[name] = { fn: name, bundlePath: `/build/${name}/${version}/index.mjs`, exportName, codeSha256: `${shared ? '' : name}${version}`.padEnd(64, '0'), size: 1, inputs: [] };
  }
  const manifest = { app: 'test', functions, api: {} } as AppManifest;
  return { dir: '/app', manifest, bundles };
}

const notFound = (message: string): ProbeResult => ({ ok: false, error: { type: 'Runtime.HandlerNotFound', message } });

describe('deploying functions', () => {
  it('fails with HANDLER_NOT_FOUND, naming function and handler, when an export is no function', async () => {
    const executor = new ProbingExecutor({
      count: notFound('src/count.handler is a number, not a function'),
      gone: notFound('src/gone.handler is undefined or not exported'),
    });
    const face = await create(executor);
    await expect(face.deploy!(revision({ ok: 'a', count: 'a', gone: 'a' }))).rejects.toMatchObject({
      code: 'HANDLER_NOT_FOUND',
      message: 'Function "count": src/count.handler is a number, not a function\nFunction "gone": src/gone.handler is undefined or not exported',
    });
    // Nothing of the broken revision was deployed.
    expect(executor.deployed).toEqual([]);
    expect(face.service.list()).toEqual([]);
  });

  it('leaves other init failures to the first invocation, as Lambda does', async () => {
    const executor = new ProbingExecutor({ throws: { ok: false, error: { type: 'Error', message: 'no database' } } });
    const face = await create(executor);
    await face.deploy!(revision({ throws: 'a' }));
    expect(executor.deployed).toEqual(['throws']);
  });

  it('probes new and changed code only, two at a time', async () => {
    const executor = new ProbingExecutor();
    const face = await create(executor);
    await face.deploy!(revision({ a: '1', b: '1', c: '1', d: '1', e: '1' }));
    expect(executor.probed.sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(executor.maxAtOnce).toBe(2);

    executor.probed = [];
    await face.deploy!(revision({ a: '1', b: '2', c: '1', d: '1', e: '1', f: '1' }));
    expect(executor.probed.sort()).toEqual(['b', 'f']);
  });

  it('probes code shared by several functions once, and fails each of them', async () => {
    const executor = new ProbingExecutor({ a: notFound('src/a.handler is an object, not a function') });
    const face = await create(executor);
    await expect(face.deploy!(revision({ a: '1', b: '1' }, 'handler', true))).rejects.toMatchObject({
      message: 'Function "a": src/a.handler is an object, not a function\nFunction "b": src/a.handler is an object, not a function',
    });
    expect(executor.probed).toEqual(['a']);
  });

  it('probes again when the handler names another export of the same code', async () => {
    const executor = new ProbingExecutor();
    const face = await create(executor);
    await face.deploy!(revision({ a: '1' }));
    executor.probed = [];
    await face.deploy!(revision({ a: '1' }, 'config'));
    expect(executor.probed).toEqual(['a']);
  });
});
