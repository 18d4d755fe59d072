/**
 * The composition root: configuration → drivers → services → listeners. The only place that picks
 * drivers. `startPlatform` runs one app on the embedded drivers (SQLite, local processes).
 */
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Server } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleApp, type Bundle } from './app/bundle.js';
import { loadManifest, type LoadedApp } from './app/load.js';
import { handleLambdaRequest } from './aws/lambda.js';
import type { PlatformConfig } from './config/config.js';
import { LAMBDA_LIMITS } from './core/lambda.js';
import { SqliteDb } from './drivers/embedded/sqlite-db.js';
import { SystemClock } from './drivers/embedded/system-clock.js';
import { handleApiRequest } from './http/api-listener.js';
import { controlHandler } from './http/control.js';
import { createListener, listen } from './http/server.js';
import { ProcessExecutor } from './runtime/process-executor.js';
import { FunctionsService, type DeployedFunction } from './services/functions/index.js';
import { createGateway, type Gateway, type GatewayRoute } from './services/gateway/index.js';
import { LogsService, logsMigrations } from './services/logs/index.js';

export interface Platform {
  readonly url: string;
  readonly appName: string;
  routes(): readonly GatewayRoute[];
  /** The source files the deployed functions were built from (for a file watcher). */
  sources(): readonly string[];
  /** Reloads the manifest and rebuilds changed functions; returns the names of those swapped in. */
  reload(): Promise<string[]>;
  close(): Promise<void>;
}

export async function startPlatform(config: PlatformConfig): Promise<Platform> {
  const clock = new SystemClock();
  const db = new SqliteDb(path.join(config.stateDir, 'nuvola.db'));
  await db.migrate([...logsMigrations]);
  const logs = new LogsService(
    { db, clock, onError: (err) => process.emitWarning(`log write failed: ${String(err)}`) },
    { maxRecordsPerFunction: config.logRetention.perFunction, maxAgeMs: config.logRetention.maxAgeMs },
  );

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
      accessKeyId: config.accessKeyId,
      secretAccessKey: config.secretAccessKey,
    },
    onLog: (record) => functions.log(record),
    maxConcurrency: config.maxConcurrency,
    idleTimeoutMs: config.idleTimeoutMs,
    sparesPerMemorySize: config.spares,
  });
  const functions: FunctionsService = new FunctionsService({
    executor,
    clock,
    region: config.region,
    accountId: config.accountId,
    appendLog: (record) => logs.append(record),
    onAsyncError: (name, err) => process.emitWarning(`asynchronous invocation of ${name} failed: ${String(err)}`),
  });

  let app: LoadedApp | undefined;
  let gateway: Gateway | undefined;
  let routes: GatewayRoute[] = [];
  let sources: string[] = [];

  const server: Server = createListener({
    aws: { lambda: (req) => handleLambdaRequest({ functions, endpointUrl: () => url }, req) },
    control: controlHandler({ app: () => app?.manifest.app, functions, logs, stats: () => executor.stats() }),
    api: (req, res) => {
      if (gateway) return handleApiRequest(gateway, req, res);
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"message":"Service Unavailable"}');
    },
    maxAwsBodyBytes: LAMBDA_LIMITS.MAX_SYNC_REQUEST_BYTES + 1024,
  });

  const deployApp = async (): Promise<string[]> => {
    const next = await loadManifest(config.appDir);
    const bundles = await bundleApp(next, path.join(config.stateDir, 'build'));
    const before = new Map(functions.list().map((f) => [f.name, f]));
    const deployed = await Promise.all(Object.values(next.manifest.functions).map((fn) => toDeployed(fn, bundles[fn.name]!, before.get(fn.name))));
    await functions.deploy(deployed);
    routes = Object.values(next.manifest.functions).flatMap((fn) => fn.events.filter((e) => e.type === 'http').map((e) => ({ routeKey: e.routeKey, fn: fn.name })));
    gateway = createGateway({
      routes,
      cors: next.manifest.api.cors,
      timeoutSeconds: next.manifest.api.timeoutSeconds,
      apiId: apiIdOf(next.manifest.app),
      accountId: config.accountId,
      region: config.region,
      clock,
      invoke: (fn, event, requestId) => executor.invoke(fn, { requestId, payload: JSON.stringify(event) }),
    });
    app = next;
    sources = Object.values(bundles).flatMap((b) => b.inputs);
    return deployed.filter((f) => before.get(f.name)?.codeSha256 !== f.codeSha256 && before.size > 0).map((f) => f.name);
  };

  try {
    url = await listen(server, config.host, config.port);
    await deployApp();
  } catch (err) {
    await closeAll().catch(() => undefined);
    throw err;
  }

  async function closeAll(): Promise<void> {
    server.closeIdleConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await executor.close();
    await functions.drain();
    await logs.close();
    await db.close();
  }

  return {
    url,
    appName: app!.manifest.app,
    routes: () => routes,
    sources: () => sources,
    reload: deployApp,
    close: closeAll,
  };
}

async function toDeployed(fn: LoadedApp['manifest']['functions'][string], bundle: Bundle, before: DeployedFunction | undefined): Promise<DeployedFunction> {
  const size = (await stat(bundle.bundlePath)).size;
  return {
    name: fn.name,
    handler: fn.handler,
    bundlePath: bundle.bundlePath,
    exportName: bundle.exportName,
    codeSha256: bundle.codeSha256,
    runtime: fn.runtime,
    memoryMb: fn.memory,
    timeoutSeconds: fn.timeout,
    environment: fn.environment,
    reservedConcurrency: fn.reservedConcurrency,
    provisionedConcurrency: fn.provisionedConcurrency,
    codeSize: size,
    lastModified: before && before.codeSha256 === bundle.codeSha256 ? before.lastModified : Date.now(),
  };
}

/** API Gateway ids are 10 lower-case alphanumerics; derive a stable one from the app name. */
function apiIdOf(app: string): string {
  let h = 2166136261;
  for (const c of app) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  return (h.toString(36) + 'nuvolaapi0').slice(0, 10);
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
