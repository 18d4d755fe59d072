/**
 * Peer baselines: the bench app's `hello` served by other local serverless simulators, each in its
 * own child process, to show where Nuvola stands among tools of its kind on the same machine.
 * They are installed from npm at run time, never into the project. A peer that cannot be
 * installed or started (no network, a crash) is skipped with the reason; it never fails the bench.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { makeTempDir, ROOT, startChild, stopChild } from './children.js';
import { pollUntil } from './http.js';

const PEERS = [
  // serverless-offline 13 is the last line for serverless 3 (14 needs serverless 4, which needs a
  // login). In-process: the handler runs in serverless-offline's own event loop, its fastest mode.
  { name: 'serverless-offline (in-process)', packages: ['serverless@3', 'serverless-offline@13'], start: startServerlessOffline },
  { name: 'Miniflare', packages: ['miniflare@4'], start: startMiniflare },
];

/**
 * Starts every peer it can, at once. Each entry is `{ name, versions, url, stop }`, with `url`
 * answering `GET` with 200 `hello`, or `{ name, skipped }` with the reason.
 */
export async function startPeers({ log }) {
  return Promise.all(PEERS.map((peer) => startPeer(peer, log)));
}

async function startPeer({ name, packages, start }, log) {
  try {
    const dir = await install(packages, log);
    const { url, stop } = await start(dir);
    try {
      await pollUntil(() => answersHello(url), { everyMs: 50, timeoutMs: 5_000, what: `${name} to answer hello at ${url}` });
    } catch (err) {
      await stop();
      throw err;
    }
    const versions = packages.map((spec) => `${packageName(spec)} ${versionIn(dir, packageName(spec))}`).join(', ');
    log(`peer ${name} (${versions}) at ${url}`);
    return { name, versions, url, stop };
  } catch (err) {
    const skipped = String(err.message ?? err).trim().split('\n').slice(0, 3).join(' | ');
    log(`peer ${name} skipped: ${skipped}`);
    return { name, skipped };
  }
}

const CACHE_DIR = path.join(os.tmpdir(), 'nuvola-bench-peers-cache');
/** A first install of both peers takes under a minute on a fast line; this is for a slow one. */
const INSTALL_TIMEOUT_MS = 5 * 60_000;

/**
 * `npm install`s `packages` into a cache directory named after them and Node's major version (npm
 * picks releases whose `engines` fit the running Node: Miniflare's since 4.20260430 want Node 22),
 * so only a machine's first bench run downloads them, and later runs measure the same releases.
 * Delete `nuvola-bench-peers-cache` under the OS temp dir to take newer ones. The install goes to
 * a temp directory renamed into place when complete, so an interrupted one is never reused.
 */
export async function install(packages, log) {
  const key = `${packages.join('+').replace(/[^\w.+@-]/g, '_')}-node${process.versions.node.split('.')[0]}`;
  const dir = path.join(CACHE_DIR, key);
  if (existsSync(path.join(dir, 'node_modules'))) return dir;
  mkdirSync(CACHE_DIR, { recursive: true });
  const partial = makeTempDir('peers-install');
  try {
    log(`installing ${packages.join(' ')} into ${dir}`);
    await npmInstall(partial, packages);
    try {
      renameSync(partial, dir);
    } catch (err) {
      if (!existsSync(dir)) throw err; // else another run finished first: use its copy
    }
    return dir;
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
}

/** `npm install`, killed if the bench exits first; rejects with npm's own reason. */
function npmInstall(prefix, packages) {
  const args = [
    'install', '--no-save', '--no-audit', '--no-fund', '--no-update-notifier',
    // None of these needs its scripts (workerd's and sharp's binaries come as optional
    // packages), and no install step may fetch anything but packages.
    '--ignore-scripts',
    // A peer is optional: without a network, fail in a second (or install from npm's own cache)
    // rather than retry each request for a minute, npm's default.
    '--fetch-retries=0',
    '--prefix', prefix, ...packages,
  ];
  return new Promise((resolve, reject) => {
    const child = execFile('npm', args, { timeout: INSTALL_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 }, (err, _stdout, stderr) => {
      process.off('exit', kill);
      if (!err) return resolve();
      const reason = stderr
        .split('\n')
        .filter((l) => /^npm (error|ERR!) (?!syscall|errno|A complete log)/.test(l))
        .map((l) => l.replace(/^npm (error|ERR!) /, ''))
        .slice(0, 3)
        .join(' | ');
      reject(new Error(`npm install ${packages.join(' ')}: ${err.killed ? `timed out after ${INSTALL_TIMEOUT_MS / 1000} s` : reason || err.message}`));
    });
    const kill = () => child.kill();
    process.once('exit', kill);
  });
}

const HELLO_HANDLER = path.join(ROOT, 'bench/app/src/hello.mjs');

/**
 * `serverless offline start` (serverless 3) on a temp service holding a copy of the bench app's
 * handler. No AWS credentials are needed to run offline. `HOME` is the service directory, so that
 * serverless' caches (`~/.serverless`) stay out of the user's home; the two `SLS_` variables keep
 * it from calling home (telemetry, notifications); stdin is closed, so it cannot prompt.
 */
async function startServerlessOffline(dir) {
  const service = makeTempDir('sls');
  copyFileSync(HELLO_HANDLER, path.join(service, 'hello.mjs'));
  // serverless loads plugins from the service's node_modules.
  symlinkSync(path.join(dir, 'node_modules'), path.join(service, 'node_modules'));
  // It prints the port it was given, not the one it got: 0 will not do for the API. The Lambda
  // invoke API (unused) may take any.
  const port = await freePort();
  writeFileSync(
    path.join(service, 'serverless.yml'),
    `service: nuvola-bench-peer
frameworkVersion: '3'
provider: { name: aws, runtime: nodejs20.x }
functions:
  hello:
    handler: hello.handler
    events: [{ httpApi: { method: GET, path: /hello } }]
plugins: [serverless-offline]
custom:
  serverless-offline: { useInProcess: true, noPrependStageInUrl: true, noTimeout: true, host: 127.0.0.1, httpPort: ${port}, lambdaPort: 0 }
`,
  );
  const { child } = await startChild([path.join(dir, 'node_modules/serverless/bin/serverless.js'), 'offline', 'start'], {
    cwd: service,
    // Its table of routes, on stdout; printed just before it listens, hence the poll after.
    ready: /GET\s+\|\s+(http:\/\/\S+\/hello)\b/,
    env: { HOME: service, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' },
  });
  return { url: `http://127.0.0.1:${port}/hello`, stop: () => stopChild(child) };
}

async function startMiniflare(dir) {
  const script = path.join(ROOT, 'bench/peers/miniflare-server.js');
  const { child, match } = await startChild([script, dir], { ready: /miniflare peer at (\S+)/, ipc: true });
  return { url: match[1], stop: () => stopChild(child) };
}

/** A port that was free a moment ago. */
async function freePort() {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

/** One GET on a connection of its own (closed after), so that no kept-alive socket outlives a peer. */
function answersHello(url) {
  return new Promise((resolve) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (s) => (body += s));
        res.on('end', () => resolve(res.statusCode === 200 && body === 'hello'));
      })
      .on('error', () => resolve(false));
  });
}

const packageName = (spec) => spec.slice(0, spec.lastIndexOf('@'));
const versionIn = (dir, name) => JSON.parse(readFileSync(path.join(dir, 'node_modules', name, 'package.json'), 'utf8')).version;
