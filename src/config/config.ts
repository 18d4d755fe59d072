/**
 * Platform configuration: parsed once with zod, then frozen. The only reader of `process.env`
 * (variables `NUVOLA_*`); command-line options win over the environment, which wins over defaults.
 */
import path from 'node:path';
import { z } from 'zod';
import { DEFAULT_ACCOUNT_ID, DEFAULT_REGION } from '../core/lambda.js';

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);

export const ConfigSchema = z.object({
  /** The app: a directory holding nuvola.yaml. */
  appDir: z.string().min(1),
  /** Platform state (database, bundles, instances); default `<appDir>/.nuvola`. */
  stateDir: z.string().min(1).optional(),
  host: z.string().default('127.0.0.1'),
  /** 0 picks a free port. */
  port: int(0, 65535).default(4000),
  region: z.string().default(DEFAULT_REGION),
  accountId: z.string().regex(/^\d{12}$/).default(DEFAULT_ACCOUNT_ID),
  /** Concurrent executions across all functions (Lambda's account concurrency is 1,000; one OS process each here). */
  maxConcurrency: int(1).default(100),
  /** An instance idle this long is stopped: scale to zero. */
  idleTimeoutMs: int(100).default(5 * 60_000),
  /** Pre-started empty instances per memory size in use. */
  spares: int(0, 64).default(2),
  /**
   * The kernel's wall around instances: `users` (root: a user each), `namespaces` (user and PID
   * namespaces), `none`, or `auto`, the strongest this machine allows.
   */
  sandbox: z.enum(['auto', 'users', 'namespaces', 'none']).default('auto'),
  /** Output one invocation may write; the rest is dropped and counted in its log. */
  maxLogBytesPerInvocation: int(1024).default(10 * 1024 * 1024),
  logRetention: z
    .object({ perFunction: int(100).default(10_000), maxAgeMs: int(60_000).default(7 * 24 * 3_600_000) })
    .default({ perFunction: 10_000, maxAgeMs: 7 * 24 * 3_600_000 }),
  /** Rebuild and swap functions when their source changes. */
  watch: z.boolean().default(false),
});

export type PlatformConfig = Readonly<z.infer<typeof ConfigSchema> & { stateDir: string }>;
export type ConfigInput = z.input<typeof ConfigSchema>;

const ENV: Record<string, keyof ConfigInput> = {
  NUVOLA_HOST: 'host',
  NUVOLA_PORT: 'port',
  NUVOLA_REGION: 'region',
  NUVOLA_ACCOUNT_ID: 'accountId',
  NUVOLA_MAX_CONCURRENCY: 'maxConcurrency',
  NUVOLA_IDLE_TIMEOUT_MS: 'idleTimeoutMs',
  NUVOLA_SPARES: 'spares',
  NUVOLA_MAX_LOG_BYTES: 'maxLogBytesPerInvocation',
  NUVOLA_SANDBOX: 'sandbox',
  NUVOLA_STATE_DIR: 'stateDir',
};

/** Reads the configuration from `input` (command line), then `env`, then defaults. */
export function loadConfig(input: Partial<ConfigInput> & { appDir: string }, env: NodeJS.ProcessEnv = process.env): PlatformConfig {
  const fromEnv: Record<string, string> = {};
  for (const [name, key] of Object.entries(ENV)) {
    const v = env[name];
    if (v !== undefined && v !== '') fromEnv[key] = v;
  }
  const defined = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
  const parsed = ConfigSchema.safeParse({ ...fromEnv, ...defined });
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`).join('; ');
    throw new Error(`Invalid configuration: ${issues}`);
  }
  const appDir = path.resolve(parsed.data.appDir);
  return Object.freeze({ ...parsed.data, appDir, stateDir: path.resolve(parsed.data.stateDir ?? path.join(appDir, '.nuvola')) });
}

/** Where the commands that talk to a running platform look for it, from the environment. */
export interface ClientConfig {
  /** `NUVOLA_URL`: the platform's base URL, if set. */
  readonly url?: string | undefined;
  /** The state directory of an app in `cwd`, where a running platform records its URL. */
  readonly stateDir: string;
  /** `NUVOLA_HOST` / `NUVOLA_PORT` (default 127.0.0.1:4000), the last resort. */
  readonly fallbackUrl: string;
  /** `NUVOLA_CONTROL_TOKEN`, if set; else the CLI reads the one in `stateDir`. */
  readonly controlToken?: string | undefined;
}

export function loadClientConfig(cwd: string, env: NodeJS.ProcessEnv = process.env): ClientConfig {
  const port = env['NUVOLA_PORT'] || '4000';
  const host = env['NUVOLA_HOST'] || '127.0.0.1';
  return Object.freeze({
    url: env['NUVOLA_URL'] || undefined,
    stateDir: path.resolve(cwd, env['NUVOLA_STATE_DIR'] || '.nuvola'),
    fallbackUrl: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    controlToken: env['NUVOLA_CONTROL_TOKEN'] || undefined,
  });
}

/**
 * Colours on a terminal only: https://no-color.org (`NO_COLOR` set and not empty turns them off);
 * `FORCE_COLOR` (set, not `0`) turns them on where output is not a terminal.
 */
export function useColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env['NO_COLOR']) return false;
  if (env['FORCE_COLOR'] !== undefined) return env['FORCE_COLOR'] !== '0';
  return stream.isTTY === true;
}
