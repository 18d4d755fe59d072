/**
 * The app as the platform deploys it: the normalized manifest (`nuvola.yaml`, parsed and checked by
 * `src/app`) and the built code of its functions. Services read their own sections of it.
 */
import type { NodeRuntime } from './lambda.js';

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'ANY'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export interface AppManifest {
  app: string;
  functions: Record<string, FunctionConfig>;
  api: ApiConfig;
  /** Static sites, by name. */
  sites: Record<string, SiteConfig>;
  /** SQS-compatible queues, by name (`.fifo` for FIFO queues). */
  queues: Record<string, QueueConfig>;
  /** Event buses besides `default`. */
  buses: string[];
  /** EventBridge rules, by name. */
  rules: Record<string, RuleConfig>;
}

/** A rule routing the events of a bus that match its pattern to its targets. */
export interface RuleConfig {
  name: string;
  bus: string;
  /** The event pattern (EventBridge's JSON). */
  pattern: Record<string, unknown>;
  enabled: boolean;
  targets: RuleTarget[];
}

export interface RuleTarget {
  /** One of: a function, a queue or a bus of the app. */
  function?: string;
  queue?: string;
  bus?: string;
  input?: string;
  inputPath?: string;
  inputTransformer?: { inputPathsMap?: Record<string, string>; inputTemplate: string };
}

/** A queue of the manifest; what is not set takes SQS's default. */
export interface QueueConfig {
  name: string;
  visibilityTimeout?: number;
  delaySeconds?: number;
  retentionPeriod?: number;
  maxMessageSize?: number;
  receiveWaitTime?: number;
  contentBasedDeduplication?: boolean;
  /** Where a message received `maxReceiveCount` times goes (SQS's redrive policy). */
  deadLetter?: { queue: string; maxReceiveCount: number };
}

/** A static site: a folder of files served under a path of the app's URL. */
export interface SiteConfig {
  name: string;
  /** The folder, relative to the app dir (`/` separators). */
  dir: string;
  /** Where it is served: `/` or a prefix such as `/docs`, without a trailing slash. */
  path: string;
  /** A single-page app: a GET for a page that is no file answers the index page, 200. */
  spa: boolean;
  /** Answered, with 404, for a path that is no file (relative to the folder). */
  errorPage?: string;
  /** Run in the app dir before the folder is read, on start and on each reload. */
  build?: string;
}

export interface FunctionConfig {
  name: string;
  /** As written, e.g. `src/items.get`. */
  handler: string;
  /** Module path relative to the app dir, without extension unless one was written: `src/items`. */
  handlerFile: string;
  exportName: string;
  runtime: NodeRuntime;
  memory: number;
  timeout: number;
  /** MB of the function's temporary directory (Lambda's `EphemeralStorage.Size`). */
  ephemeralStorage: number;
  environment: Record<string, string>;
  reservedConcurrency?: number;
  provisionedConcurrency?: number;
  /** Invocations one instance runs at once; 1 is Lambda's classic model. */
  instanceConcurrency: number;
  /** Retries of an asynchronous invocation after a function error (Lambda: 0–2, default 2). */
  maximumRetryAttempts: number;
  /** Seconds an asynchronous event may wait to run (Lambda: 60–21600, default 21600). */
  maximumEventAge: number;
  /** Functions of the app that get Lambda's destination record of an asynchronous invocation. */
  destinations?: { onSuccess?: string; onFailure?: string };
  /** A queue of the app that gets the event of an asynchronous invocation that finally failed (Lambda's DeadLetterConfig). */
  deadLetterQueue?: string;
  events: FunctionEvent[];
  /**
   * Globs of files copied beside the code, relative to the app dir: the app's `package.include`,
   * then the function's own. In order, as serverless.yml's `package.patterns`: `!` excludes what
   * earlier patterns took, a later pattern takes it back. Absent: none.
   */
  include?: string[];
}

/** A discriminated union on `type`; later event sources add members. */
export type FunctionEvent = HttpEvent | SqsEvent | EventBridgeEvent | ScheduleEvent;

/** The function runs on a schedule (serverless.yml's `schedule` event, an EventBridge scheduled rule). */
export interface ScheduleEvent {
  type: 'schedule';
  /** `rate(…)` or `cron(…)`. */
  expression: string;
  /** IANA time zone the cron is read in (default UTC). */
  timeZone?: string;
  /** The event the function gets instead of EventBridge's Scheduled Event (JSON text). */
  input?: string;
  enabled: boolean;
}

/** The function gets the events of a bus that match the pattern (serverless.yml's `eventBridge` event). */
export interface EventBridgeEvent {
  type: 'eventBridge';
  bus: string;
  pattern: Record<string, unknown>;
}

/** A queue of the app feeding the function batches of its messages (Lambda's SQS event source mapping). */
export interface SqsEvent {
  type: 'sqs';
  /** A queue of the manifest's `queues`. */
  queue: string;
  /** 1–10 000 (10 for a FIFO queue); default 10. */
  batchSize: number;
  /** Seconds to gather a batch, 0–300; default 0. */
  maximumBatchingWindow: number;
  /** The function answers `batchItemFailures`: only those messages come back. */
  reportBatchItemFailures: boolean;
  /** Batches at once, 2–1000; default 5. */
  maximumConcurrency?: number;
  enabled: boolean;
}

export interface HttpEvent {
  type: 'http';
  /** API Gateway's route key: `GET /items/{id}`, `ANY /{proxy+}` or `$default`. */
  routeKey: string;
  method?: HttpMethod;
  path?: string;
}

export interface ApiConfig {
  cors?: CorsConfig;
  timeoutSeconds: number;
}

/** API Gateway HTTP API's CorsConfiguration. */
export interface CorsConfig {
  allowOrigins: string[];
  allowMethods: string[];
  allowHeaders: string[];
  exposeHeaders: string[];
  allowCredentials: boolean;
  maxAge?: number;
}

/** A function's built code: one ES module with its source map beside it. */
export interface FunctionBundle {
  fn: string;
  /** Absolute path of the bundled ES module; its source map is `${bundlePath}.map`. */
  bundlePath: string;
  exportName: string;
  /** sha256 (hex) of the bundle and its source map. */
  codeSha256: string;
  /** Bytes of the bundle and its included files (Lambda's `CodeSize`). */
  size: number;
  /** Absolute paths of the source files the bundle was built from, and of its included files, for a file watcher. */
  inputs: string[];
  /**
   * The files of `package.include`, copied at build time: each of `paths` (relative, `/`-separated,
   * sorted) is under `root`. Absent when the function includes none.
   */
  files?: { root: string; paths: string[] };
}
