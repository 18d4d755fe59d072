/**
 * The `nuvola` command. Thin: `dev` starts a platform in this process; the other commands talk to a
 * running platform through its control API. Errors are one line, not a stack trace.
 */
import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { isPlatformError } from '../core/errors.js';
import { loadClientConfig } from '../config/config.js';
import { findControlToken } from '../config/control-token.js';
import { controlClient } from './client.js';
import { recordedUrl } from './platform-file.js';
import { nuvolaVersion } from './version.js';

const program = new Command('nuvola')
  .description('A serverless cloud you run yourself')
  .version(nuvolaVersion(), '-v, --version', 'print the version')
  .showHelpAfterError()
  .configureOutput({ outputError: (text, write) => write(text) });

program
  .command('init')
  .description('create a new app in DIR (created if missing) that `nuvola dev` runs; never overwrites a file')
  .argument('[dir]', 'the app directory', '.')
  .action(async (dir: string) => {
    const { init } = await import('./init.js');
    await init(dir);
  });

program
  .command('dev')
  .description('run the app in DIR on the embedded platform, rebuilding functions as their source changes')
  .argument('[dir]', 'the app directory (holds nuvola.yaml)', '.')
  .option('-p, --port <port>', 'port of the HTTP API, AWS endpoint and control API (0: any free port)')
  .option('--host <host>', 'address to listen on')
  .option('--no-watch', 'do not rebuild on changes')
  .option('-q, --quiet', 'no line per request')
  .action(async (dir: string, opts: { port?: string; host?: string; watch: boolean; quiet?: boolean }) => {
    // Loaded on demand: the platform is not needed by the commands that only talk to one.
    const { dev } = await import('./dev.js');
    await dev({ appDir: dir, port: opts.port, host: opts.host, watch: opts.watch, quiet: opts.quiet === true });
  });

const urlOption = new Option(
  '--url <url>',
  'the platform to talk to (default: NUVOLA_URL, else the one running for the app in this directory, else NUVOLA_PORT on 127.0.0.1)',
);

/**
 * The running platform's control API: at `--url`, else `NUVOLA_URL`, else the URL a running platform
 * recorded for the app here, else `NUVOLA_PORT`; with `NUVOLA_CONTROL_TOKEN`, else the app's token.
 */
function platform(url: string | undefined) {
  const client = loadClientConfig(process.cwd());
  const base = url || (client.url ?? recordedUrl(client.stateDir) ?? client.fallbackUrl);
  return controlClient(base, client.controlToken ?? findControlToken(client.stateDir));
}

program
  .command('credentials')
  .description("print the AWS key pair of the app in DIR as `export` lines (creating it if there is none yet)")
  .argument('[dir]', 'the app directory', '.')
  .action(async (dir: string) => {
    const { loadConfig } = await import('../config/config.js');
    const { loadDeveloperKey } = await import('../config/credentials.js');
    const { loadManifest } = await import('../app/load.js');
    // Keys belong to an app: none is made where there is none.
    await loadManifest(dir);
    const config = loadConfig({ appDir: dir });
    const key = loadDeveloperKey(config.stateDir);
    const url = recordedUrl(config.stateDir) ?? loadClientConfig(config.appDir).fallbackUrl;
    process.stdout.write(
      [`export AWS_ENDPOINT_URL=${url}`, `export AWS_ACCESS_KEY_ID=${key.accessKeyId}`, `export AWS_SECRET_ACCESS_KEY=${key.secretAccessKey}`, `export AWS_REGION=${config.region}`, `export AWS_DEFAULT_REGION=${config.region}`].join('\n') + '\n',
    );
  });

program
  .command('invoke')
  .description('invoke a function and print its result')
  .argument('<function>', 'the function name')
  .option('-d, --data <json>', 'the event as JSON, or @file to read it from a file', '{}')
  .option('--async', 'invoke asynchronously (Event) and return at once')
  .option('--logs', 'print the invocation log to stderr')
  .addOption(urlOption)
  .action(async (fn: string, opts: { data: string; async?: boolean; logs?: boolean; url?: string }) => {
    const payload = opts.data.startsWith('@') ? await readFile(opts.data.slice(1), 'utf8') : opts.data;
    const out = await platform(opts.url).invoke(fn, payload, opts.async ? 'Event' : 'RequestResponse');
    if (opts.logs && out.logs) process.stderr.write(out.logs);
    if (opts.async) {
      process.stdout.write(`${out.requestId}\n`);
      return;
    }
    process.stdout.write(JSON.stringify(out.result, null, 2) + '\n');
    if (out.error) process.exitCode = 1;
  });

program
  .command('logs')
  .description('print the logs of all functions or of one')
  .argument('[function]', 'only this function')
  .option('-f, --follow', 'keep printing new lines as they come')
  .option('-n, --lines <n>', 'how many recent lines', '100')
  .addOption(urlOption)
  .action(async (fn: string | undefined, opts: { follow?: boolean; lines: string; url?: string }) => {
    const client = platform(opts.url);
    const print = (r: { fn: string; message: string }) => process.stdout.write(fn ? `${r.message}\n` : `${r.fn}\t${r.message}\n`);
    if (opts.follow) await client.follow(fn, Number(opts.lines), print);
    else for (const r of await client.logs(fn, Number(opts.lines))) print(r);
  });

const queuesCommand = program
  .command('queues')
  .description("the app's queues and those of asynchronous invocations: messages waiting, in flight and delayed, and the dead-letter queue")
  .addOption(urlOption);
queuesCommand
  .command('peek')
  .description("a queue's messages as they sit there, without receiving them")
  .argument('<queue>', 'the queue name')
  .option('-n, --max <n>', 'how many', '10')
  .addOption(urlOption)
  .action(async (queue: string, opts: { max: string; url?: string }) => {
    for (const m of await platform(opts.url ?? queuesCommand.opts<{ url?: string }>().url).peek(queue, Number(opts.max))) {
      const attributes = Object.entries(m.attributes).map(([k, v]) => `${k}=${v.StringValue ?? '(binary)'}`).join(' ');
      process.stdout.write(`${new Date(m.sentAt).toISOString()}\t${m.messageId}\treceived ${m.receiveCount}\t${m.groupId ? `group ${m.groupId}\t` : ''}${m.body}${attributes ? `\t${attributes}` : ''}\n`);
    }
  });
queuesCommand
  .command('redrive')
  .description("move a dead-letter queue's messages back to the queues they were sent to (or to --to)")
  .argument('<queue>', 'the dead-letter queue')
  .option('--to <queue>', 'move them all to this queue instead')
  .addOption(urlOption)
  .action(async (queue: string, opts: { to?: string; url?: string }) => {
    const moved = await platform(opts.url ?? queuesCommand.opts<{ url?: string }>().url).redrive(queue, opts.to);
    process.stdout.write(`${queue}: moved ${moved} message${moved === 1 ? '' : 's'}\n`);
  });
queuesCommand
  .action(async (opts: { url?: string }) => {
    const client = platform(opts.url);
    process.stdout.write('queue\twaiting\tin flight\tdelayed\tdead-letter queue\n');
    for (const q of await client.queues()) process.stdout.write(`${q.name}\t${q.visible}\t${q.inFlight}\t${q.delayed}${q.deadLetterQueue ? `\t${q.deadLetterQueue}` : ''}\n`);
    for (const [fn, c] of Object.entries(await client.asyncQueues())) process.stdout.write(`${fn} (async)\t${c.visible}\t${c.inFlight}\t${c.delayed}\n`);
  });

program
  .command('invocations')
  .description('the latest asynchronous invocations and their outcome: succeeded, retrying, failed, expired')
  .argument('[function]', 'only this function')
  .option('--failed', 'only those that failed or expired')
  .option('-n, --lines <n>', 'how many', '20')
  .addOption(urlOption)
  .action(async (fn: string | undefined, opts: { failed?: boolean; lines: string; url?: string }) => {
    for (const i of await platform(opts.url).invocations(fn, opts.failed === true, Number(opts.lines))) {
      const error = i.error ? `\t${i.error.type}: ${i.error.message.split('\n')[0]}` : '';
      const to = i.destination ? `\t→ ${i.destination}` : '';
      process.stdout.write(`${new Date(i.at).toISOString()}\t${i.fn}\t${i.requestId}\t${i.status}\t${i.attempts} attempt${i.attempts === 1 ? '' : 's'}${to}${error}\n`);
    }
  });

const eventsCommand = program.command('events').description('the event buses, their rules, patterns and targets').addOption(urlOption);
eventsCommand.action(async (opts: { url?: string }) => {
  for (const bus of await platform(opts.url).events()) {
    process.stdout.write(`${bus.name}\n`);
    for (const r of bus.rules) process.stdout.write(`  ${r.name}${r.enabled ? '' : ' (disabled)'}\t${r.pattern}\t→ ${r.targets.map((t) => t.split(':').pop()).join(', ')}\n`);
  }
});
eventsCommand
  .command('put')
  .description('put one event on a bus, as PutEvents does')
  .requiredOption('--source <source>', 'the event source')
  .requiredOption('--detail-type <type>', 'the detail type')
  .option('--detail <json>', 'the detail, a JSON object, or @file', '{}')
  .option('--bus <bus>', 'the bus', 'default')
  .addOption(urlOption)
  .action(async (opts: { source: string; detailType: string; detail: string; bus: string; url?: string }) => {
    const detail = opts.detail.startsWith('@') ? await readFile(opts.detail.slice(1), 'utf8') : opts.detail;
    const out = await platform(opts.url ?? eventsCommand.opts<{ url?: string }>().url).putEvent({ Source: opts.source, DetailType: opts.detailType, Detail: detail, EventBusName: opts.bus });
    if (out.ErrorCode) {
      process.stderr.write(`nuvola: ${out.ErrorCode}: ${out.ErrorMessage}\n`);
      process.exitCode = 1;
    } else process.stdout.write(`${out.EventId}\n`);
  });

const sites = program.command('sites').description("list the app's static sites and their versions").addOption(urlOption);
sites.action(async (opts: { url?: string }) => {
  for (const site of await platform(opts.url).sites()) {
    process.stdout.write(`${site.name}\t${site.path}\t${site.dir}/\n`);
    for (const v of site.versions) {
      const mark = v.version === site.current ? '*' : ' ';
      process.stdout.write(`  ${mark} v${v.version}\t${new Date(v.createdAt).toISOString()}\t${v.files} files\t${v.bytes} bytes\n`);
    }
  }
});
sites
  .command('rollback')
  .description('serve the version of a site before the current one')
  .argument('<site>', 'the site name')
  .addOption(urlOption)
  .action(async (name: string, opts: { url?: string }) => {
    const version = await platform(opts.url ?? sites.opts<{ url?: string }>().url).rollbackSite(name);
    process.stdout.write(`${name}: now serving v${version}\n`);
  });

program.parseAsync().catch((err: unknown) => {
  const message = isPlatformError(err) || err instanceof Error ? err.message : String(err);
  process.stderr.write(`nuvola: ${message}\n`);
  process.exit(1);
});
