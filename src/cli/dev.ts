/**
 * `nuvola dev`: the embedded platform for one app, in this process, rebuilt as its source changes.
 * It shows what happens (requests, the functions' output and errors, reloads) and stops, with every
 * instance, on SIGINT, SIGTERM or SIGHUP, and when the process that started it goes away.
 */
import { loadConfig, useColor } from '../config/config.js';
import { createPlatformEvents, startPlatform, type Platform } from '../main.js';
import { watchApp } from '../app/watch.js';
import { formatLog, formatReload, formatRequest, paint, type Paint } from './output.js';
import { isLoopback } from '../http/control.js';
import { watchParents } from './parent-watch.js';
import { recordPlatform } from './platform-file.js';

export interface DevOptions {
  appDir: string;
  port?: string | undefined;
  host?: string | undefined;
  watch: boolean;
  /** No line per request. */
  quiet: boolean;
}

export async function dev(options: DevOptions): Promise<void> {
  const started = performance.now();
  const config = loadConfig({ appDir: options.appDir, port: options.port, host: options.host, watch: options.watch });
  const out = process.stdout;
  const err = process.stderr;
  const p = paint(useColor(out));
  const pe = paint(useColor(err));
  const events = createPlatformEvents((e) => err.write(`nuvola: ${String(e)}\n`));
  events.on('warning', (message) => err.write(`${pe.yellow('warning:')} ${message}\n`));
  const live = batched(out);
  events.on('log', (record) => {
    const line = formatLog(record, p);
    if (line !== undefined) live(line);
  });
  if (!options.quiet) events.on('request', (r) => live(formatRequest(r, p)));
  const platform = await startPlatform(config, { events });
  const forget = recordPlatform(config.stateDir, platform.url);

  const stopWatching = config.watch ? watchSources(platform, config.appDir, p, pe) : () => undefined;

  if (!isLoopback(config.host)) {
    err.write(
      [
        `${pe.yellow('warning:')} listening on ${config.host}: Nuvola is reachable from the network, not only from this machine.`,
        '  Exposed: the app\'s HTTP API (its routes answer anyone, as on AWS),',
        '           the AWS endpoints (only requests signed with the key pair shown below or a function\'s own),',
        '           the control API (only with the bearer token in the state directory or NUVOLA_CONTROL_TOKEN).',
        '  Function code runs on this machine. See the README\'s security section before exposing Nuvola.',
      ].join('\n') + '\n',
    );
  }
  // Ready is announced once the watcher is in place: an edit made on seeing it is not missed.
  out.write(`Nuvola ready at ${platform.url} (${Math.round(performance.now() - started)} ms), app "${platform.appName}"\n`);
  out.write(`  HTTP API      ${platform.url}/\n`);
  const routes = (platform.summary()['gateway'] ?? []).map((r) => r.split(' → '));
  const width = Math.max(0, ...routes.map(([key = '']) => key.length));
  for (const [key = '', fn = ''] of routes) out.write(`    ${key.padEnd(width)}  → ${fn}\n`);
  // What the other services serve (sites, queues, …), under their name.
  for (const [service, lines] of Object.entries(platform.summary())) {
    if (service === 'gateway' || lines.length === 0) continue;
    out.write(`  ${service[0]!.toUpperCase()}${service.slice(1)}\n`);
    for (const line of lines) out.write(`    ${line}\n`);
  }
  out.write(`  AWS endpoint  AWS_ENDPOINT_URL=${platform.url}\n`);
  const key = platform.credentials;
  out.write(`                AWS_ACCESS_KEY_ID=${key.accessKeyId} AWS_SECRET_ACCESS_KEY=${key.secretAccessKey}\n`);
  if (key.source !== 'environment') out.write(`                (${key.source === 'new' ? 'a new key pair, kept' : 'kept'} in ${config.stateDir}; \`nuvola credentials\` prints it again)\n`);
  out.write(`  Control API   ${platform.url}/_nuvola/health\n`);

  let stopping = false;
  const stop = (why: string) => {
    // A second signal while stopping: the user insists.
    if (stopping) process.exit(1);
    stopping = true;
    stopWatching();
    stopParentWatch();
    forget();
    out.write(`\n${why}: stopping…\n`);
    void platform.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => stop(signal));
  const stopParentWatch = watchParents(stop);
}

/**
 * Lines written together once per turn of the event loop: a terminal (or pipe) write per request
 * halved the gateway's throughput, as stdout writes to a pipe or file are synchronous.
 */
function batched(stream: NodeJS.WriteStream): (line: string) => void {
  let pending: string[] = [];
  const flush = () => {
    const text = pending.join('\n') + '\n';
    pending = [];
    stream.write(text);
  };
  return (line) => {
    if (pending.push(line) === 1) setImmediate(flush);
  };
}

/** Rebuilds on change, one reload after another; returns the function that stops watching. */
function watchSources(platform: Platform, appDir: string, p: Paint, pe: Paint): () => void {
  let reloading: Promise<void> = Promise.resolve();
  let broken = false;
  const watcher = watchApp(appDir, platform.sources(), () => {
    // A burst of changes during a reload is picked up by the next one.
    reloading = reloading.then(async () => {
      const t = performance.now();
      try {
        const changes = await platform.reload();
        watcher.update(platform.sources());
        const lines = formatReload({ ms: Math.round(performance.now() - t), fixed: broken, changes }, p);
        if (lines.length > 0) process.stdout.write(`${lines.join('\n')}\n`);
        broken = false;
      } catch (err) {
        broken = true;
        process.stderr.write(`${pe.red('nuvola: reload failed')}, still serving the previous version:\n${(err as Error).message}\n`);
      }
    });
  });
  return () => watcher.close();
}
