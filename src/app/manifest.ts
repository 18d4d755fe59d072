// The app manifest (`nuvola.yaml`): its zod schema and the normalized types the platform consumes.
// The shape stays close to serverless.yml so users can move between the two. The schema is strict
// (unknown keys are errors) but open in the right places: later features add top-level sections
// (`queues`, `buses`, `sites`, …) as new keys and event types (`sqs`, `schedule`, …) as new keys of
// an event item, without reshaping what is here.
import path from 'node:path';
import { z } from 'zod';
import { HTTP_METHODS, type AppManifest, type EventBridgeEvent, type FunctionEvent, type HttpEvent, type HttpMethod, type RuleTarget, type ScheduleEvent, type SqsEvent } from '../core/app.js';
import { isPlatformError } from '../core/errors.js';
import { compilePattern } from '../core/events/pattern.js';
import { checkScheduleExpression, isTimeZone } from '../core/schedules/index.js';
import { NODE_RUNTIMES, runtimeForNode, type NodeRuntime } from '../core/lambda.js';

export type { ApiConfig, AppManifest, CorsConfig, FunctionConfig, FunctionEvent, HttpEvent, HttpMethod } from '../core/app.js';
export { HTTP_METHODS } from '../core/app.js';

export const RUNTIMES = NODE_RUNTIMES;
export type Runtime = NodeRuntime;
/** A function without `runtime` runs on the runtime of the Node that runs Nuvola: nothing to warn about. */
export const DEFAULT_RUNTIME: Runtime = runtimeForNode(process.versions.node);


/** Lambda's limits (CreateFunction) and API Gateway HTTP API's, copied from the AWS docs. */
export const LIMITS = {
  MEMORY_MB: { min: 128, max: 10240, default: 128 },
  TIMEOUT_SECONDS: { min: 1, max: 900, default: 3 },
  // Lambda's EphemeralStorage.Size: the function's /tmp.
  EPHEMERAL_STORAGE_MB: { min: 512, max: 10240, default: 512 },
  // HTTP API integrations time out after at most 30 s, whatever the function's own timeout.
  API_TIMEOUT_SECONDS: { min: 1, max: 30, default: 30 },
  // PutFunctionEventInvokeConfig's MaximumRetryAttempts and MaximumEventAgeInSeconds.
  MAXIMUM_RETRY_ATTEMPTS: { min: 0, max: 2, default: 2 },
  MAXIMUM_EVENT_AGE_SECONDS: { min: 60, max: 21600, default: 21600 },
  // Lambda Managed Instances' PerExecutionEnvironmentMaxConcurrency; 1 is the classic model.
  INSTANCE_CONCURRENCY: { min: 1, max: 1600, default: 1 },
  // apigatewayv2 CorsConfiguration.MaxAge: -1 disables preflight caching.
  CORS_MAX_AGE_SECONDS: { min: -1, max: 86400 },
} as const;

// Lambda sets these itself and refuses them in a function's configuration.
const RESERVED_ENV = new Set([
  'AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_EXECUTION_ENV', 'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE', 'AWS_LAMBDA_FUNCTION_VERSION', 'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_LOG_GROUP_NAME', 'AWS_LAMBDA_LOG_STREAM_NAME', 'AWS_ACCESS_KEY', 'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_LAMBDA_RUNTIME_API', 'LAMBDA_TASK_ROOT', 'LAMBDA_RUNTIME_DIR',
  'AWS_LAMBDA_MAX_CONCURRENCY',
]);

/** How a value found in the manifest is named in a message: `99999`, `"abc"`, `a list`. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  return String(value);
}

// Messages of zod's own issues say only what was expected; the loader appends what was found. Custom
// issues (refinements, transforms) say both themselves.

// Integers are checked by a refinement, not z.int(): zod's int check aborts the parent object's
// refinements, which would hide e.g. the provisioned-vs-reserved check behind a bad timeout.
const intWhere = (expected: string, ok: (n: number) => boolean) =>
  z.number({ error: expected }).refine((n) => Number.isInteger(n) && ok(n), {
    error: (iss) => `${expected}, got ${describeValue(iss.input)}`,
  });
const intIn = ({ min, max }: { min: number; max: number }, unit: string) =>
  intWhere(`expected an integer from ${min} to ${max} (${unit})`, (n) => n >= min && n <= max);
const nonNegativeInt = () => intWhere('expected an integer >= 0', (n) => n >= 0);
const stringList = (what: string) => z.array(z.string({ error: `expected ${what}` }), { error: `expected a list of ${what}s` });

/** `z.strictObject` whose unknown-key issue lists the keys that are allowed. */
function section<T extends z.core.$ZodLooseShape>(what: string, shape: T) {
  const allowed = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (iss) =>
      iss.code === 'unrecognized_keys' ? `allowed keys: ${allowed}` : iss.code === 'invalid_type' ? `expected ${what}` : undefined,
  });
}

const handlerSchema = z.string({ error: 'expected "path/to/file.export", e.g. src/items.get' }).transform((handler, ctx) => {
  const fail = (message: string) => {
    ctx.addIssue({ code: 'custom', message: `${message}, got ${describeValue(handler)}`, input: handler });
    return z.NEVER;
  };
  // Lambda's rule: the text after the last dot names the export, everything before it the module.
  const dot = handler.lastIndexOf('.');
  if (dot <= 0 || dot === handler.length - 1) return fail('expected "path/to/file.export", e.g. src/items.get');
  const exportName = handler.slice(dot + 1);
  const file = handler.slice(0, dot);
  if (!/^[A-Za-z_$][\w$]*$/.test(exportName)) return fail(`expected the export "${exportName}" to be a JavaScript identifier`);
  if (file.includes('\\') || path.posix.isAbsolute(file) || /^[A-Za-z]:/.test(file)) {
    return fail('expected a module path relative to the app directory, with "/" separators');
  }
  const handlerFile = path.posix.normalize(file);
  if (handlerFile === '..' || handlerFile.startsWith('../') || handlerFile === '.') {
    return fail('expected a module path inside the app directory');
  }
  return { handler, handlerFile, exportName };
});

const ROUTE_HINT = 'expected "METHOD /path" (e.g. GET /items/{id}), "$default" or { method, path }';

/** Checks a route the way API Gateway HTTP API does; returns the problem, or the normalized event. */
function httpRoute(methodIn: string, routePath: string): HttpEvent | string {
  // serverless.yml's httpApi spells ANY as `*`.
  const method = methodIn === '*' ? 'ANY' : methodIn.toUpperCase();
  if (!(HTTP_METHODS as readonly string[]).includes(method)) {
    return `expected a method among ${HTTP_METHODS.join(' ')}, got ${JSON.stringify(methodIn)}`;
  }
  if (!routePath.startsWith('/')) return `expected the path to start with "/", got ${JSON.stringify(routePath)}`;
  const segments = routePath === '/' ? [] : routePath.slice(1).split('/');
  const params = new Set<string>();
  for (const [i, segment] of segments.entries()) {
    if (segment === '') return `expected no empty path segment (no "//" and no trailing "/"), got ${JSON.stringify(routePath)}`;
    const param = /^\{([^{}]*?)(\+?)\}$/.exec(segment);
    if (!param) {
      if (/[{}\s?#]/.test(segment)) {
        return `expected "{" "}" only around a whole path segment like {id}, and no spaces, "?" or "#", got ${JSON.stringify(segment)}`;
      }
      continue;
    }
    const [, name = '', greedy] = param;
    if (!/^[A-Za-z0-9._-]+$/.test(name)) return `expected a path parameter name of letters, digits, ".", "_" or "-", got ${JSON.stringify(segment)}`;
    // A greedy parameter swallows the rest of the path, so nothing may follow it.
    if (greedy && i !== segments.length - 1) return `expected a greedy parameter like {proxy+} only as the last segment, got ${JSON.stringify(routePath)}`;
    if (params.has(name)) return `expected each path parameter once, got {${name}} twice in ${JSON.stringify(routePath)}`;
    params.add(name);
  }
  return { type: 'http', routeKey: `${method} ${routePath}`, method: method as HttpMethod, path: routePath };
}

const httpEventSchema = z.unknown().transform((value, ctx): HttpEvent => {
  const fail = (message: string) => {
    ctx.addIssue({ code: 'custom', message, input: value });
    return z.NEVER;
  };
  // serverless.yml's httpApi spells the catch-all route `*`.
  if (value === '$default' || value === '*') return { type: 'http', routeKey: '$default' };
  let result: HttpEvent | string;
  if (typeof value === 'string') {
    const m = /^\s*(\S+)\s+(\S+)\s*$/.exec(value);
    if (!m) return fail(`${ROUTE_HINT}, got ${describeValue(value)}`);
    result = httpRoute(m[1] ?? '', m[2] ?? '');
  } else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const { method, path: routePath, ...rest } = value as Record<string, unknown>;
    const unknown = Object.keys(rest);
    if (unknown.length > 0) return fail(`expected only the keys method and path, got ${unknown.map((k) => JSON.stringify(k)).join(', ')}`);
    if (typeof method !== 'string' || typeof routePath !== 'string') return fail(`${ROUTE_HINT}, with method and path both strings`);
    result = httpRoute(method, routePath);
  } else {
    return fail(`${ROUTE_HINT}, got ${describeValue(value)}`);
  }
  return typeof result === 'string' ? fail(result) : result;
});

/** serverless.yml's `sqs` event: a queue's name (or ARN), or a mapping with it and the mapping's settings. */
const sqsEventSchema = z
  .union([
    z.string({ error: 'expected a queue of the app, or { queue, batchSize, … }' }).transform((queue) => ({ queue })),
    section('a mapping with queue and optionally batchSize, maximumBatchingWindow, functionResponseType, maximumConcurrency, enabled', {
      queue: z.string({ error: 'expected the name of a queue of the app' }).optional(),
      arn: z.string({ error: 'expected the ARN of a queue of the app' }).optional(),
      batchSize: intIn({ min: 1, max: 10_000 }, 'messages').optional(),
      maximumBatchingWindow: intIn({ min: 0, max: 300 }, 'seconds').optional(),
      functionResponseType: z.literal('ReportBatchItemFailures', { error: 'expected ReportBatchItemFailures' }).optional(),
      maximumConcurrency: intIn({ min: 2, max: 1000 }, 'batches at once').optional(),
      enabled: z.boolean({ error: 'expected true or false' }).optional(),
    }),
  ])
  .transform((v, ctx): SqsEvent => {
    const e = v as { queue?: string; arn?: string; batchSize?: number; maximumBatchingWindow?: number; functionResponseType?: string; maximumConcurrency?: number; enabled?: boolean };
    const queue = e.queue ?? e.arn?.slice(e.arn.lastIndexOf(':') + 1);
    if (!queue) {
      ctx.addIssue({ code: 'custom', message: 'expected queue: the name of a queue of the app', input: v });
      return z.NEVER;
    }
    const batchSize = e.batchSize ?? 10;
    if (queue.endsWith('.fifo') && batchSize > 10) {
      ctx.addIssue({ code: 'custom', message: `expected a batchSize of at most 10 for a FIFO queue, got ${batchSize}`, input: v });
      return z.NEVER;
    }
    if (batchSize > 10 && (e.maximumBatchingWindow ?? 0) < 1) {
      ctx.addIssue({ code: 'custom', message: 'expected a maximumBatchingWindow of at least 1 second for a batchSize over 10 (as Lambda requires)', input: v });
      return z.NEVER;
    }
    return {
      type: 'sqs',
      queue,
      batchSize,
      maximumBatchingWindow: e.maximumBatchingWindow ?? 0,
      reportBatchItemFailures: e.functionResponseType === 'ReportBatchItemFailures',
      ...(e.maximumConcurrency !== undefined ? { maximumConcurrency: e.maximumConcurrency } : {}),
      enabled: e.enabled ?? true,
    };
  });

/** serverless.yml's `eventBridge` event: `{ eventBus?, pattern }` (`bus` too). */
const eventBridgeEventSchema = section('a mapping with pattern and optionally bus', {
  bus: z.string({ error: 'expected the name of a bus of the app' }).optional(),
  eventBus: z.string({ error: 'expected the name of a bus of the app' }).optional(),
  pattern: z.record(z.string(), z.unknown(), { error: 'expected an event pattern: a mapping' }),
}).transform((e, ctx): EventBridgeEvent => {
  const bus = e.bus ?? e.eventBus?.slice(e.eventBus.lastIndexOf('/') + 1) ?? 'default';
  const problem = patternProblem(e.pattern);
  if (problem) {
    ctx.addIssue({ code: 'custom', message: problem, input: e.pattern });
    return z.NEVER;
  }
  return { type: 'eventBridge', bus, pattern: e.pattern };
});

/** serverless.yml's `schedule` event: an expression, or `{ rate, input?, enabled?, timezone? }`. */
const scheduleEventSchema = z
  .union([
    z.string({ error: 'expected rate(…) or cron(…), or { rate, input, enabled, timezone }' }).transform((rate) => ({ rate })),
    section('a mapping with rate and optionally input, enabled, timezone', {
      rate: z.string({ error: 'expected rate(…) or cron(…)' }),
      input: z.unknown().optional(),
      enabled: z.boolean({ error: 'expected true or false' }).optional(),
      timezone: z.string({ error: 'expected an IANA time zone such as Europe/Paris' }).optional(),
    }),
  ])
  .transform((v, ctx): ScheduleEvent => {
    const e = v as { rate: string; input?: unknown; enabled?: boolean; timezone?: string };
    if ('reason' in checkScheduleExpression(e.rate, 'events')) {
      ctx.addIssue({ code: 'custom', message: `expected rate(…) or cron(…) as EventBridge takes them, got ${describeValue(e.rate)}`, input: v });
      return z.NEVER;
    }
    if (e.timezone !== undefined && !isTimeZone(e.timezone)) {
      ctx.addIssue({ code: 'custom', message: `expected an IANA time zone such as Europe/Paris, got ${describeValue(e.timezone)}`, input: v });
      return z.NEVER;
    }
    return {
      type: 'schedule',
      expression: e.rate,
      ...(e.timezone !== undefined ? { timeZone: e.timezone } : {}),
      ...(e.input !== undefined ? { input: typeof e.input === 'string' ? e.input : JSON.stringify(e.input) } : {}),
      enabled: e.enabled ?? true,
    };
  });

// One item of `events`: a mapping with exactly one key naming the event type (serverless.yml's shape).
// New event sources become new keys here.
const EVENT_TYPES = { http: httpEventSchema, sqs: sqsEventSchema, eventBridge: eventBridgeEventSchema, schedule: scheduleEventSchema };

const eventSchema = z
  .looseObject(
    Object.fromEntries(Object.entries(EVENT_TYPES).map(([type, schema]) => [type, schema.optional()])) as {
      [K in keyof typeof EVENT_TYPES]: z.ZodOptional<(typeof EVENT_TYPES)[K]>;
    },
    { error: 'expected a mapping with one event type, e.g. http: GET /items' },
  )
  .check((ctx) => {
    const types = Object.keys(ctx.value);
    const unknown = types.filter((t) => !Object.hasOwn(EVENT_TYPES, t));
    for (const type of unknown) {
      ctx.issues.push({
        code: 'custom',
        input: ctx.value,
        message: `unknown event type "${type}"; supported: ${Object.keys(EVENT_TYPES).join(', ')}`,
      });
    }
    if (unknown.length === 0 && types.length !== 1) {
      ctx.issues.push({
        code: 'custom',
        input: ctx.value,
        message: `expected exactly one event type per list item, got ${types.length === 0 ? 'none' : types.join(', ')}`,
      });
    }
  })
  .transform((item) => Object.values(item).find((e) => e !== undefined) as FunctionEvent);

const envSchema = z.record(
  z.string().refine((k) => /^[a-zA-Z][a-zA-Z0-9_]+$/.test(k) && !RESERVED_ENV.has(k), {
    error: (iss) =>
      RESERVED_ENV.has(String(iss.input))
        ? 'expected a variable name Lambda does not reserve for itself'
        : 'expected a variable name of a letter then letters, digits or "_" (at least 2 characters)',
  }),
  // serverless.yml stringifies scalar values the same way.
  z.union([z.string(), z.number(), z.boolean()], { error: 'expected a string, number or boolean' }).transform(String),
  { error: 'expected a mapping of variable names to values' },
);

/**
 * What is wrong with a `package.include` pattern, if anything. Patterns are relative to the app
 * directory and stay inside it; the bundler also checks every file found, so this is for a clear
 * message, not the only guard.
 */
function includeProblem(pattern: string): string | undefined {
  const glob = pattern.startsWith('!') ? pattern.slice(1) : pattern;
  if (glob === '') return 'expected a glob pattern, e.g. data/** or !data/secret.json';
  if (glob.startsWith('/') || glob.startsWith('\\') || /^[A-Za-z]:/.test(glob)) {
    return 'expected a glob relative to the app directory, e.g. data/**';
  }
  // Also `..` as one alternative of a brace expansion: {..,data}/x.
  if (/(^|[/\\{,])\.\.($|[/\\},])/.test(glob)) return 'expected a glob inside the app directory, without ".."';
  return undefined;
}

/** serverless.yml's `package.patterns`, as `package.include`: globs of files copied beside the code. */
const packageSchema = section('a mapping with include', {
  include: z
    .array(
      z.string({ error: 'expected a glob pattern' }).transform((pattern, ctx) => {
        const problem = includeProblem(pattern);
        if (problem) ctx.addIssue({ code: 'custom', message: `${problem}, got ${describeValue(pattern)}`, input: pattern });
        // `./data/**` names what `data/**` does; the glob matcher sees paths without the `./`.
        return pattern.replace(/^(!?)(?:\.\/)+/, '$1');
      }),
      { error: 'expected a list of glob patterns, e.g. - data/**' },
    )
    .default([]),
});

const functionSchema = section('a mapping with at least a handler', {
  handler: handlerSchema,
  runtime: z.enum(RUNTIMES, { error: `expected one of ${RUNTIMES.join(', ')}` }).default(DEFAULT_RUNTIME),
  memory: intIn(LIMITS.MEMORY_MB, 'MB').default(LIMITS.MEMORY_MB.default),
  timeout: intIn(LIMITS.TIMEOUT_SECONDS, 'seconds').default(LIMITS.TIMEOUT_SECONDS.default),
  ephemeralStorage: intIn(LIMITS.EPHEMERAL_STORAGE_MB, 'MB').default(LIMITS.EPHEMERAL_STORAGE_MB.default),
  environment: envSchema.default({}),
  reservedConcurrency: nonNegativeInt().optional(),
  provisionedConcurrency: nonNegativeInt().optional(),
  instanceConcurrency: intIn(LIMITS.INSTANCE_CONCURRENCY, 'invocations at once per instance').default(LIMITS.INSTANCE_CONCURRENCY.default),
  maximumRetryAttempts: intIn(LIMITS.MAXIMUM_RETRY_ATTEMPTS, 'retries').default(LIMITS.MAXIMUM_RETRY_ATTEMPTS.default),
  maximumEventAge: intIn(LIMITS.MAXIMUM_EVENT_AGE_SECONDS, 'seconds').default(LIMITS.MAXIMUM_EVENT_AGE_SECONDS.default),
  deadLetterQueue: z.string({ error: 'expected the name of a queue of the app' }).optional(),
  destinations: section('a mapping with onSuccess and/or onFailure', {
    onSuccess: z.string({ error: 'expected the name of a function of the app, or the ARN of one of its queues' }).optional(),
    onFailure: z.string({ error: 'expected the name of a function of the app, or the ARN of one of its queues' }).optional(),
  }).optional(),
  events: z.array(eventSchema, { error: 'expected a list of events, e.g. - http: GET /items' }).default([]),
  package: packageSchema.optional(),
}).check(
  // `when` makes the check run beside other issues of the function, so all are reported at once.
  z.superRefine(({ reservedConcurrency: reserved, provisionedConcurrency: provisioned }, ctx) => {
    if (typeof reserved === 'number' && typeof provisioned === 'number' && provisioned > reserved) {
      ctx.addIssue({
        code: 'custom',
        input: provisioned,
        path: ['provisionedConcurrency'],
        message: `expected at most reservedConcurrency (${reserved}), got ${provisioned}`,
      });
    }
  }, { when: () => true }),
);

const CORS_METHODS = [...HTTP_METHODS.filter((m) => m !== 'ANY'), '*'];
const corsObjectSchema = section('true, false or a mapping of CORS settings', {
  allowOrigins: stringList('an origin').default([]),
  allowMethods: z
    .array(z.string({ error: 'expected a method' }).transform((m) => m.toUpperCase()).pipe(z.enum(CORS_METHODS as [string, ...string[]], { error: `expected one of ${CORS_METHODS.join(' ')}` })), {
      error: 'expected a list of methods',
    })
    .default([]),
  allowHeaders: stringList('a header name').default([]),
  exposeHeaders: stringList('a header name').default([]),
  allowCredentials: z.boolean({ error: 'expected true or false' }).default(false),
  maxAge: intIn(LIMITS.CORS_MAX_AGE_SECONDS, 'seconds').optional(),
}).check(
  z.superRefine(({ allowCredentials, allowOrigins }, ctx) => {
    // Browsers refuse credentialed responses that allow any origin, and API Gateway refuses the config.
    if (allowCredentials === true && Array.isArray(allowOrigins) && allowOrigins.includes('*')) {
      ctx.addIssue({
        code: 'custom',
        input: true,
        path: ['allowCredentials'],
        message: 'expected allowCredentials false when allowOrigins contains "*" (browsers reject credentials with a wildcard origin)',
      });
    }
  }, { when: () => true }),
);

const corsSchema = z.preprocess(
  (v) =>
    v === true
      ? { allowOrigins: ['*'], allowMethods: ['*'], allowHeaders: ['*'] }
      : v === false ? undefined : v,
  corsObjectSchema.optional(),
);

const apiSchema = section('a mapping with cors and/or timeout', {
  cors: corsSchema,
  timeout: intIn(LIMITS.API_TIMEOUT_SECONDS, 'seconds').default(LIMITS.API_TIMEOUT_SECONDS.default),
});

const FUNCTION_NAME = /^[a-zA-Z0-9-_]{1,64}$/;

/**
 * `defaults:` settings every function takes unless it sets its own (serverless.yml's `provider`
 * level); `environment` is merged, the function's own variables winning.
 */
const defaultsSchema = section('a mapping of function settings: runtime, memory, timeout, ephemeralStorage, instanceConcurrency, environment', {
  runtime: z.enum(RUNTIMES, { error: `expected one of ${RUNTIMES.join(', ')}` }).optional(),
  memory: intIn(LIMITS.MEMORY_MB, 'MB').optional(),
  timeout: intIn(LIMITS.TIMEOUT_SECONDS, 'seconds').optional(),
  ephemeralStorage: intIn(LIMITS.EPHEMERAL_STORAGE_MB, 'MB').optional(),
  instanceConcurrency: intIn(LIMITS.INSTANCE_CONCURRENCY, 'invocations at once per instance').optional(),
  environment: envSchema.optional(),
});

/** The manifest's data with valid `defaults` written into each function (an invalid one is reported at `defaults`). */
function withDefaults(data: unknown): unknown {
  const raw = asRecord(data);
  const parsed = defaultsSchema.safeParse(raw?.['defaults']);
  const functions = asRecord(raw?.['functions']);
  if (!raw || !parsed.success || !functions) return data;
  const { environment, ...settings } = parsed.data;
  const merged = Object.fromEntries(
    Object.entries(functions).map(([name, fn]) => {
      const own = asRecord(fn);
      if (!own || Array.isArray(fn)) return [name, fn];
      const env = environment || own['environment'] ? { ...environment, ...asRecord(own['environment']) } : undefined;
      return [name, { ...settings, ...own, ...(env ? { environment: env } : {}) }];
    }),
  );
  return { ...raw, functions: merged };
}

const SITE_NAME = /^[a-zA-Z][a-zA-Z0-9-_]{0,63}$/;

/** A path inside the app directory, `/`-separated: no absolute path, no way out with `..`. */
const relativeDir = (what: string) =>
  z.string({ error: `expected ${what}` }).refine(
    (p) => !p.includes('\\') && !path.posix.isAbsolute(p) && !/^[A-Za-z]:/.test(p) && !path.posix.normalize(p).startsWith('..'),
    { error: (iss) => `expected ${what} inside the app directory, with "/" separators, got ${describeValue(iss.input)}` },
  );

const siteSchema = section('a mapping with dir, and optionally path, spa, errorPage, build', {
  dir: relativeDir('a folder'),
  path: z
    .string({ error: 'expected a path such as / or /docs' })
    .regex(/^\/([A-Za-z0-9._~!$&'()*+,;=:@%-]+(\/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)*)?\/?$/, { error: 'expected a path such as / or /docs' })
    .optional(),
  spa: z.boolean({ error: 'expected true or false' }).optional(),
  errorPage: relativeDir('a file of the folder').optional(),
  build: z.string({ error: 'expected a command' }).min(1, { error: 'expected a command' }).optional(),
});

const QUEUE_NAME = /^[A-Za-z0-9_-]{1,75}(\.fifo)?$|^[A-Za-z0-9_-]{1,80}$/;

const queueSchema = section('a mapping of queue settings', {
  visibilityTimeout: intIn({ min: 0, max: 43_200 }, 'seconds').optional(),
  delaySeconds: intIn({ min: 0, max: 900 }, 'seconds').optional(),
  retentionPeriod: intIn({ min: 60, max: 1_209_600 }, 'seconds').optional(),
  maxMessageSize: intIn({ min: 1024, max: 1_048_576 }, 'bytes').optional(),
  receiveWaitTime: intIn({ min: 0, max: 20 }, 'seconds').optional(),
  contentBasedDeduplication: z.boolean({ error: 'expected true or false' }).optional(),
  deadLetter: section('a mapping with queue and maxReceiveCount', {
    queue: z.string({ error: 'expected the name of a queue of the app' }),
    maxReceiveCount: intIn({ min: 1, max: 1000 }, 'receives'),
  }).optional(),
});

/** EventBridge's reason a pattern is refused, or undefined for a good one. */
function patternProblem(pattern: unknown): string | undefined {
  try {
    compilePattern(pattern);
    return undefined;
  } catch (err) {
    if (isPlatformError(err)) return err.message;
    throw err;
  }
}

const targetSchema = section('a mapping with one of function, queue or bus, and optionally input, inputPath or inputTransformer', {
  function: z.string({ error: 'expected the name of a function of the app' }).optional(),
  queue: z.string({ error: 'expected the name of a queue of the app' }).optional(),
  bus: z.string({ error: 'expected the name of a bus of the app' }).optional(),
  input: z.unknown().optional(),
  inputPath: z.string({ error: 'expected a JSONPath such as $.detail' }).optional(),
  inputTransformer: section('a mapping with inputTemplate and optionally inputPathsMap', {
    inputPathsMap: z.record(z.string(), z.string({ error: 'expected a JSONPath such as $.detail.id' })).optional(),
    inputTemplate: z.string({ error: 'expected a template' }),
  }).optional(),
}).check(
  z.superRefine((t, ctx) => {
    const kinds = ['function', 'queue', 'bus'].filter((k) => (t as Record<string, unknown>)[k] !== undefined);
    if (kinds.length !== 1) ctx.addIssue({ code: 'custom', message: `expected exactly one of function, queue or bus, got ${kinds.length === 0 ? 'none' : kinds.join(', ')}`, input: t });
    const inputs = ['input', 'inputPath', 'inputTransformer'].filter((k) => (t as Record<string, unknown>)[k] !== undefined);
    if (inputs.length > 1) ctx.addIssue({ code: 'custom', message: `expected at most one of input, inputPath and inputTransformer, got ${inputs.join(', ')}`, input: t });
  }),
);

const ruleSchema = section('a mapping with pattern, targets and optionally bus, enabled', {
  bus: z.string({ error: 'expected the name of a bus of the app' }).optional(),
  pattern: z.record(z.string(), z.unknown(), { error: 'expected an event pattern: a mapping' }).superRefine((p, ctx) => {
    const problem = patternProblem(p);
    if (problem) ctx.addIssue({ code: 'custom', message: problem, input: p });
  }),
  enabled: z.boolean({ error: 'expected true or false' }).optional(),
  targets: z.array(targetSchema, { error: 'expected a list of targets' }).min(1, { error: 'expected at least one target' }).max(5, { error: 'expected at most 5 targets (EventBridge)' }),
});

/** Parses the plain data of a manifest into an `AppManifest`; issues carry the data path. */
export const manifestSchema = z.preprocess(withDefaults, section('a mapping with app and functions', {
  app: z.string({ error: 'expected an app name' }).regex(/^[a-zA-Z][a-zA-Z0-9-_]{0,63}$/, {
    error: 'expected an app name: a letter, then up to 63 letters, digits, "-" or "_"',
  }),
  functions: z
    .record(
      z.string().regex(FUNCTION_NAME, { error: 'expected a function name of 1 to 64 letters, digits, "-" or "_"' }),
      functionSchema,
      { error: 'expected a mapping of function names to their configuration' },
    )
    .default({}),
  api: apiSchema.optional(),
  defaults: defaultsSchema.optional(),
  // App-wide, as serverless.yml's service-level `package`: every function's own patterns follow these.
  package: packageSchema.optional(),
  buses: z
    .record(z.string().regex(/^[A-Za-z0-9._-]{1,256}$/, { error: 'expected a bus name of letters, digits, ".", "-" or "_"' }).refine((n) => n !== 'default' && !n.startsWith('aws.'), { error: 'expected a bus name other than default (it always exists) and not starting with aws.' }), z.strictObject({}, { error: 'expected an empty mapping: {}' }), {
      error: 'expected a mapping of bus names, each to {}',
    })
    .optional(),
  rules: z.record(z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, { error: 'expected a rule name of up to 64 letters, digits, ".", "-" or "_"' }), ruleSchema, { error: 'expected a mapping of rule names to rules' }).optional(),
  queues: z
    .record(z.string().regex(QUEUE_NAME, { error: 'expected a queue name: up to 80 letters, digits, "-" or "_", ending in .fifo for a FIFO queue' }), queueSchema, {
      error: 'expected a mapping of queue names to their settings',
    })
    .optional(),
  sites: z
    .record(z.string().regex(SITE_NAME, { error: 'expected a site name: a letter, then up to 63 letters, digits, "-" or "_"' }), siteSchema, {
      error: 'expected a mapping of site names to their configuration',
    })
    .optional(),
})
  // Runs even when other parts are invalid, so a duplicate route is reported with everything else.
  .check(z.superRefine((raw, ctx) => {
    const seen = new Map<string, { fn: string; at: string; routeKey: string }>();
    for (const [fn, config] of Object.entries(asRecord(raw)?.['functions'] ?? {})) {
      const events = asRecord(config)?.['events'];
      if (!Array.isArray(events)) continue;
      events.forEach((event: unknown, i) => {
        const routeKey = asRecord(event)?.['routeKey'];
        if (asRecord(event)?.['type'] !== 'http' || typeof routeKey !== 'string') return;
        // API Gateway cannot tell /items/{id} from /items/{key}: parameter names do not make routes distinct.
        const shape = routeKey.replace(/\{[^}]*?(\+?)\}/g, '{$1}');
        const first = seen.get(shape);
        if (!first) {
          seen.set(shape, { fn, at: `functions.${fn}.events[${i}]`, routeKey });
          return;
        }
        const same = first.routeKey === routeKey ? `is already declared` : `conflicts with "${first.routeKey}" declared`;
        ctx.addIssue({
          code: 'custom',
          path: ['functions', fn, 'events', i, 'http'],
          input: routeKey,
          message: `route "${routeKey}" ${same} by function "${first.fn}" (${first.at})`,
        });
      });
    }
    // A queue's dead-letter queue is a queue of the app, of the same type.
    const queues = asRecord(asRecord(raw)?.['queues']) ?? {};
    // Rules and eventBridge events name buses, functions and queues of the app.
    const buses = new Set(['default', ...Object.keys(asRecord(asRecord(raw)?.['buses']) ?? {})]);
    const fns = asRecord(asRecord(raw)?.['functions']) ?? {};
    for (const [name, rule] of Object.entries(asRecord(asRecord(raw)?.['rules']) ?? {})) {
      const bus = asRecord(rule)?.['bus'];
      if (typeof bus === 'string' && !buses.has(bus)) ctx.addIssue({ code: 'custom', path: ['rules', name, 'bus'], input: bus, message: `expected a bus of the app (default, or under buses:), got "${bus}"` });
      const targets = asRecord(rule)?.['targets'];
      if (!Array.isArray(targets)) continue;
      targets.forEach((t: unknown, i) => {
        const target = asRecord(t) ?? {};
        const check = (key: string, known: (v: string) => boolean, what: string) => {
          const v = target[key];
          if (typeof v === 'string' && !known(v)) ctx.addIssue({ code: 'custom', path: ['rules', name, 'targets', i, key], input: v, message: `expected ${what}, got "${v}"` });
        };
        check('function', (v) => Object.hasOwn(fns, v), 'the name of a function of the app');
        check('queue', (v) => Object.hasOwn(queues, v), 'the name of a queue of the app');
        check('bus', (v) => buses.has(v), 'a bus of the app');
      });
    }
    for (const [fn, config] of Object.entries(fns)) {
      const events = asRecord(config)?.['events'];
      if (!Array.isArray(events)) continue;
      events.forEach((event: unknown, i) => {
        const e = asRecord(event);
        if (e?.['type'] !== 'eventBridge' || typeof e['bus'] !== 'string' || buses.has(e['bus'])) return;
        ctx.addIssue({ code: 'custom', path: ['functions', fn, 'events', i, 'eventBridge'], input: e['bus'], message: `expected a bus of the app (default, or under buses:), got "${e['bus']}"` });
      });
    }
    // An sqs event names a queue of the app.
    for (const [fn, config] of Object.entries(asRecord(asRecord(raw)?.['functions']) ?? {})) {
      const events = asRecord(config)?.['events'];
      if (!Array.isArray(events)) continue;
      events.forEach((event: unknown, i) => {
        const e = asRecord(event);
        if (e?.['type'] !== 'sqs' || typeof e['queue'] !== 'string' || Object.hasOwn(queues, e['queue'])) return;
        ctx.addIssue({ code: 'custom', path: ['functions', fn, 'events', i, 'sqs'], input: e['queue'], message: `expected the name of a queue of the app (under queues:), got "${e['queue']}"` });
      });
    }
    for (const [name, q] of Object.entries(queues)) {
      if (asRecord(q)?.['contentBasedDeduplication'] !== undefined && !name.endsWith('.fifo')) {
        ctx.addIssue({ code: 'custom', path: ['queues', name, 'contentBasedDeduplication'], input: true, message: 'expected only on a FIFO queue (a name ending in .fifo)' });
      }
      const dlq = asRecord(asRecord(q)?.['deadLetter'])?.['queue'];
      if (typeof dlq !== 'string') continue;
      if (!Object.hasOwn(queues, dlq) || dlq === name) {
        ctx.addIssue({ code: 'custom', path: ['queues', name, 'deadLetter', 'queue'], input: dlq, message: `expected the name of another queue of the app, got "${dlq}"` });
      } else if (dlq.endsWith('.fifo') !== name.endsWith('.fifo')) {
        ctx.addIssue({ code: 'custom', path: ['queues', name, 'deadLetter', 'queue'], input: dlq, message: `expected a ${name.endsWith('.fifo') ? 'FIFO' : 'standard'} queue, as the queue itself, got "${dlq}"` });
      }
    }
    // Two sites cannot be served under one path.
    const sitePaths = new Map<string, string>();
    for (const [name, site] of Object.entries(asRecord(asRecord(raw)?.['sites']) ?? {})) {
      const p = asRecord(site)?.['path'];
      const at = typeof p === 'string' ? (p.length > 1 ? p.replace(/\/$/, '') : p) : '/';
      const first = sitePaths.get(at);
      if (first === undefined) sitePaths.set(at, name);
      else ctx.addIssue({ code: 'custom', path: ['sites', name, 'path'], input: p, message: `site "${first}" is already served at ${at}` });
    }
    // Destinations name functions or queues of the app (buses follow with their service).
    const functions = asRecord(asRecord(raw)?.['functions']) ?? {};
    for (const [fn, config] of Object.entries(functions)) {
      const destinations = asRecord(asRecord(config)?.['destinations']) ?? {};
      for (const key of ['onSuccess', 'onFailure']) {
        const target = destinations[key];
        if (typeof target !== 'string' || Object.hasOwn(functions, target)) continue;
        const queue = /^arn:aws:sqs:[^:]*:\d*:([A-Za-z0-9_.-]+)$/.exec(target)?.[1];
        if (queue !== undefined && Object.hasOwn(queues, queue)) continue;
        ctx.addIssue({ code: 'custom', path: ['functions', fn, 'destinations', key], input: target, message: `expected the name of a function of the app, or the ARN of one of its queues, got "${target}"` });
      }
      const dlq = asRecord(config)?.['deadLetterQueue'];
      if (typeof dlq === 'string' && !Object.hasOwn(queues, dlq)) {
        ctx.addIssue({ code: 'custom', path: ['functions', fn, 'deadLetterQueue'], input: dlq, message: `expected the name of a queue of the app (under queues:), got "${dlq}"` });
      }
    }
  }, { when: () => true }))
  .transform((raw): AppManifest => ({
    app: raw.app,
    functions: Object.fromEntries(
      Object.entries(raw.functions).map(([name, { handler, package: own, ...fn }]) => {
        const include = [...(raw.package?.include ?? []), ...(own?.include ?? [])];
        return [name, { name, ...handler, ...fn, ...(include.length > 0 ? { include } : {}) }];
      }),
    ),
    api: { cors: raw.api?.cors, timeoutSeconds: raw.api?.timeout ?? LIMITS.API_TIMEOUT_SECONDS.default },
    queues: Object.fromEntries(Object.entries(raw.queues ?? {}).map(([name, q]) => [name, { name, ...q }])),
    buses: Object.keys(raw.buses ?? {}),
    rules: Object.fromEntries(
      Object.entries(raw.rules ?? {}).map(([name, r]) => [
        name,
        {
          name,
          bus: r.bus ?? 'default',
          pattern: r.pattern,
          enabled: r.enabled ?? true,
          targets: r.targets.map((t) => ({ ...t, ...(t.input !== undefined ? { input: typeof t.input === 'string' ? t.input : JSON.stringify(t.input) } : {}) })) as RuleTarget[],
        },
      ]),
    ),
    sites: Object.fromEntries(
      Object.entries(raw.sites ?? {}).map(([name, site]) => [
        name,
        {
          name,
          dir: path.posix.normalize(site.dir).replace(/\/$/, ''),
          path: site.path === undefined || site.path === '/' ? '/' : site.path.replace(/\/$/, ''),
          spa: site.spa ?? false,
          ...(site.errorPage !== undefined ? { errorPage: path.posix.normalize(site.errorPage) } : {}),
          ...(site.build !== undefined ? { build: site.build } : {}),
        },
      ]),
    ),
  })));

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
}
