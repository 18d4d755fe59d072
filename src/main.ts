/**
 * The composition root: configuration → drivers → services (built from `SERVICES`) → listener. The
 * only place that picks drivers. `startPlatform` runs one app on the embedded drivers (SQLite, local
 * processes). Adding a service adds its module to `SERVICES`; nothing else here changes.
 */
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleApp } from './app/bundle.js';
import { loadManifest, type LoadedApp } from './app/load.js';
import type { PlatformConfig } from './config/config.js';
import { loadControlToken } from './config/control-token.js';
import { loadDeveloperKey, type DeveloperKey } from './config/credentials.js';
import { KeyRing } from './core/access-keys.js';
import { LAMBDA_LIMITS } from './core/lambda.js';
import { DiskBlobs } from './drivers/embedded/disk-blobs.js';
import { SqliteBroker } from './drivers/embedded/sqlite-broker.js';
import { SqliteDb } from './drivers/embedded/sqlite-db.js';
import { SystemClock } from './drivers/embedded/system-clock.js';
import { handleApiRequest } from './http/api-listener.js';
import { handleFilesRequest } from './http/files-listener.js';
import { controlHandler } from './http/control.js';
import { createListener, listen } from './http/server.js';
import { ProcessExecutor } from './runtime/process-executor.js';
import { eventsModule } from './services/events/module.js';
import { functionsModule } from './services/functions/module.js';
import { gatewayModule } from './services/gateway/module.js';
import { logsModule } from './services/logs/module.js';
import { queuesModule } from './services/queues/module.js';
import { schedulesModule } from './services/schedules/module.js';
import { sitesModule } from './services/sites/module.js';
import { createPlatformEvents, type AwsHandler, type DeployChanges, type PlatformEvents, type RequestInfo, type ServiceContext, type ServiceFace, type ServiceModule } from './services/module.js';

/** The services, in the order they are created and deployed (a service may use those before it). */
const SERVICES: readonly ServiceModule<unknown>[] = [logsModule, queuesModule, functionsModule, eventsModule, schedulesModule, gatewayModule, sitesModule];

export { createPlatformEvents, type PlatformEvents, type RequestInfo };

export interface Platform {
  readonly url: string;
  readonly appName: string;
  /** What happens on the platform: requests, function logs, warnings. */
  readonly events: PlatformEvents;
  /** The developer's key pair for the AWS endpoints, and where it came from. */
  readonly credentials: DeveloperKey;
  /** What each service serves, a line a thing (e.g. the gateway's `GET /items/{id} → getItem`). */
  summary(): Record<string, readonly string[]>;
  /** The source files the deployed app was built from (for a file watcher). */
  sources(): readonly string[];
  /** Reloads the manifest and redeploys every service; what changed, by service. */
  reload(): Promise<Record<string, DeployChanges>>;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Where the platform reports what happens; pass one to hear from the very start (warnings at deploy). */
  readonly events?: PlatformEvents;
}

export async function startPlatform(config: PlatformConfig, options: StartOptions = {}): Promise<Platform> {
  // First, before any state is made: a directory without an app stays as it was.
  let app: LoadedApp | undefined = await loadManifest(config.appDir);
  // SIGUSR1 opens Node's inspector, and the platform runs other people's code: with a listener of its
  // own it no longer does, should such a signal ever reach it (the listener itself does nothing).
  const ignoreSignal = (): void => undefined;
  process.on('SIGUSR1', ignoreSignal);
  const clock = new SystemClock();
  const events = options.events ?? createPlatformEvents((err) => process.emitWarning(`platform event listener failed: ${String(err)}`));
  const db = new SqliteDb(path.join(config.stateDir, 'nuvola.db'));
  // A file of its own: its writes are the busiest, and need no other service's transactions.
  const broker = new SqliteBroker(path.join(config.stateDir, 'broker.db'), clock);
  // A store per service, in a directory of its own: each sweeps the orphans only it can tell.
  const blobStores = new Map<string, DiskBlobs>();
  const blobs = (name: string): DiskBlobs => {
    let store = blobStores.get(name);
    if (!store) blobStores.set(name, (store = new DiskBlobs(path.join(config.stateDir, 'blobs', name), clock)));
    return store;
  };
  const keys = new KeyRing();
  const developerKey = loadDeveloperKey(config.stateDir);
  const controlToken = loadControlToken(config.stateDir);
  keys.add(developerKey, { kind: 'developer' });
  await db.migrate(SERVICES.flatMap((m) => m.migrations ?? []));

  let url = `http://${config.host}:${config.port}`;
  const executor = new ProcessExecutor({
    // Per platform process: two platforms on one app keep apart, and a crashed one's leftovers are
    // told apart by its pid.
    dir: path.join(config.stateDir, 'instances', String(process.pid)),
    bootstrapPath: bootstrapPath(),
    clock,
    identity: {
      region: config.region,
      accountId: config.accountId,
      endpointUrl: () => url,
    },
    onLog: (record) => events.emit('log', record),
    maxConcurrency: config.maxConcurrency,
    idleTimeoutMs: config.idleTimeoutMs,
    sparesPerMemorySize: config.spares,
    maxOutputBytesPerInvocation: config.maxLogBytesPerInvocation,
    sandbox: config.sandbox,
    onWarning: (message) => events.emit('warning', message),
  });

  const faces = new Map<string, ServiceFace<unknown>>();
  const ctx: ServiceContext = {
    db,
    clock,
    executor,
    broker,
    blobs,
    region: config.region,
    accountId: config.accountId,
    endpointUrl: () => url,
    events,
    settings: config,
    keys,
    use: <S>(name: string): S => {
      const face = faces.get(name);
      if (!face) throw new Error(`service "${name}" is not created before the one that uses it: reorder SERVICES`);
      return face.service as S;
    },
  };
  for (const module of SERVICES) faces.set(module.name, await module.create(ctx));
  const all = [...faces.values()];
  const dataPlane = all.find((f) => f.api);
  const files = all.find((f) => f.files)?.files;

  let appName: string | undefined;
  let sources: string[] = [];
  const server: Server = createListener({
    aws: Object.assign({}, ...all.map((f) => f.aws ?? {})) as Record<string, AwsHandler>,
    control: controlHandler({
      app: () => appName,
      health: () => Object.assign({}, ...all.map((f) => f.health?.() ?? {})) as Record<string, unknown>,
      routes: all.flatMap((f) => f.control ?? []),
      token: controlToken,
      listening: () => {
        const address = server.address();
        return address !== null && typeof address === 'object' ? { host: address.address, port: address.port } : undefined;
      },
    }),
    api: (req, res) => {
      const endpoint = dataPlane?.api?.();
      // The API's routes first: a site at `/` must not hide them.
      const rawPath = req.url ?? '/';
      if (files?.claims(rawPath) && !endpoint?.claims(req.method ?? 'GET', rawPath.split('?', 1)[0]!)) return handleFilesRequest(files, req, res);
      if (endpoint) return handleApiRequest(endpoint, req, res);
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"message":"Service Unavailable"}');
    },
    maxAwsBodyBytes: LAMBDA_LIMITS.MAX_SYNC_REQUEST_BYTES + 1024,
    secretOf: (id) => keys.secretOf(id),
    onError: (err) => events.emit('warning', `request failed: ${(err as Error).stack ?? String(err)}`),
    now: () => clock.now(),
  });

  const deployApp = async (): Promise<Record<string, DeployChanges>> => {
    const loaded = app ?? (await loadManifest(config.appDir));
    app = undefined;
    const bundles = await bundleApp(loaded, path.join(config.stateDir, 'build'));
    const changes: Record<string, DeployChanges> = {};
    for (const [name, face] of faces) {
      const changed = await face.deploy?.({ dir: loaded.dir, manifest: loaded.manifest, bundles });
      if (changed) changes[name] = changed;
    }
    appName = loaded.manifest.app;
    sources = [loaded.file, ...Object.values(bundles).flatMap((b) => b.inputs), ...all.flatMap((f) => f.sources?.() ?? [])];
    return changes;
  };

  async function closeAll(): Promise<void> {
    server.closeIdleConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await executor.close();
    for (const face of [...all].reverse()) await face.close?.();
    await broker.close();
    await Promise.all([...blobStores.values()].map((b) => b.close()));
    await db.close();
    process.removeListener('SIGUSR1', ignoreSignal);
  }

  try {
    url = await listen(server, config.host, config.port);
    await deployApp();
  } catch (err) {
    await closeAll().catch(() => undefined);
    throw err;
  }

  return {
    url,
    appName: appName!,
    events,
    credentials: developerKey,
    summary: () => Object.fromEntries([...faces].map(([name, f]) => [name, f.summary?.() ?? []])),
    sources: () => sources,
    reload: deployApp,
    close: closeAll,
  };
}

/** The function-instance bootstrap, built beside the platform into `dist/`. */
function bootstrapPath(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'dist', 'bootstrap.worker.mjs');
    if (existsSync(path.join(dir, 'package.json')) && existsSync(candidate)) return candidate;
    if (existsSync(path.join(dir, 'bootstrap.worker.mjs'))) return path.join(dir, 'bootstrap.worker.mjs');
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('dist/bootstrap.worker.mjs not found: run `npm run build`');
    dir = parent;
  }
}
