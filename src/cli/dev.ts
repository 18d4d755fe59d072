/** `nuvola dev`: the embedded platform for one app, in this process, rebuilt as its source changes. */
import { loadConfig } from '../config/config.js';
import { startPlatform } from '../main.js';
import { watchApp } from '../app/watch.js';

export interface DevOptions {
  appDir: string;
  port?: string | undefined;
  host?: string | undefined;
  watch: boolean;
}

export async function dev(options: DevOptions): Promise<void> {
  const started = performance.now();
  const config = loadConfig({ appDir: options.appDir, port: options.port, host: options.host, watch: options.watch });
  const platform = await startPlatform(config);
  const out = process.stdout;
  let stopWatching = (): void => undefined;
  if (config.watch) {
    let reloading: Promise<void> = Promise.resolve();
    const watcher = watchApp(config.appDir, platform.sources(), () => {
      // Reloads run one after another; a burst during a reload is picked up by the next one.
      reloading = reloading.then(async () => {
        const t = performance.now();
        try {
          const changes = await platform.reload();
          watcher.update(platform.sources());
          const changed = changes['functions']?.changed ?? [];
          if (changed.length > 0) out.write(`Reloaded ${changed.join(', ')} (${Math.round(performance.now() - t)} ms)\n`);
        } catch (err) {
          process.stderr.write(`nuvola: reload failed, still serving the previous version:\n${(err as Error).message}\n`);
        }
      });
    });
    stopWatching = () => watcher.close();
  }

  // Ready is announced once the watcher is in place: an edit made on seeing it is not missed.
  out.write(`Nuvola ready at ${platform.url} (${Math.round(performance.now() - started)} ms), app "${platform.appName}"\n`);
  out.write(`  HTTP API      ${platform.url}/\n`);
  for (const route of platform.summary()['gateway'] ?? []) out.write(`    ${route}\n`);
  out.write(`  AWS endpoint  AWS_ENDPOINT_URL=${platform.url}\n`);
  out.write(`  Control API   ${platform.url}/_nuvola/health\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    stopWatching();
    out.write(`\n${signal}: stopping…\n`);
    void platform.close().then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
