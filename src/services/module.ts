/**
 * The shape every service plugs in with. The composition root (`src/main.ts`) builds the platform
 * from a list of these: it applies their migrations, creates them in list order, deploys the app to
 * each on start and on every reload, serves their AWS protocols and control-API routes on the one
 * listener, and closes them in reverse order. Adding a service adds a module to that list.
 */
import type { Readable } from 'node:stream';
import type { AwsRequest, AwsResponse } from '../aws/types.js';
import type { KeyRing } from '../core/access-keys.js';
import type { AppManifest, FunctionBundle } from '../core/app.js';
import type { Blobs } from '../ports/blobs.js';
import type { Broker } from '../ports/broker.js';
import type { Clock } from '../ports/clock.js';
import type { Db, Migration } from '../ports/db.js';
import type { Executor, LogRecord } from '../ports/executor.js';
import type { AnsweredRequest, GatewayRequest, GatewayResponse } from './gateway/index.js';

/** What a service is given: the ports, the platform's identity, its events, and the services before it. */
export interface ServiceContext {
  readonly db: Db;
  readonly clock: Clock;
  readonly executor: Executor;
  /** Durable queues for everything asynchronous. */
  readonly broker: Broker;
  /**
   * The blob store named `name` (one per service, e.g. `sites`): each sweeps its own orphans, which
   * only it can tell from the blobs its rows name.
   */
  blobs(name: string): Blobs;
  readonly region: string;
  readonly accountId: string;
  /** This platform's base URL (for ARNs and locations that point back at it). */
  readonly endpointUrl: () => string;
  readonly events: PlatformEvents;
  readonly settings: ServiceSettings;
  /** The access keys the AWS endpoints accept; a service that hands out keys adds them here. */
  readonly keys: KeyRing;
  /**
   * The service object of the module named `name`. While services are being created (in list order)
   * only those listed before are there; once the platform runs, all are. By name, not by import: a
   * service reaches another only through its index.ts.
   */
  use<S>(name: string): S;
}

/** Settings of the platform's configuration that services read. */
export interface ServiceSettings {
  readonly logRetention: { readonly perFunction: number; readonly maxAgeMs: number };
}

/** What happens on the platform, for the services that act on it and whoever shows it (`nuvola dev`). */
export interface PlatformEventMap {
  /** A line of a function's log: its console output and the runtime's START/END/REPORT lines. */
  log: LogRecord;
  /** An HTTP API request was answered. */
  request: RequestInfo;
  /** Something the user should know that is no request's error (a config mismatch, a failed write). */
  warning: string;
}

export interface PlatformEvents {
  emit<K extends keyof PlatformEventMap>(type: K, event: PlatformEventMap[K]): void;
  /** Returns the function that stops listening. A listener that throws does not stop the others. */
  on<K extends keyof PlatformEventMap>(type: K, listener: (event: PlatformEventMap[K]) => void): () => void;
}

export function createPlatformEvents(onListenerError: (err: unknown) => void = () => undefined): PlatformEvents {
  const listeners = new Map<string, Set<(event: never) => void>>();
  return {
    emit(type, event) {
      for (const listener of listeners.get(type) ?? []) {
        try {
          (listener as (e: typeof event) => void)(event);
        } catch (err) {
          onListenerError(err);
        }
      }
    },
    on(type, listener) {
      let set = listeners.get(type);
      if (!set) listeners.set(type, (set = new Set()));
      set.add(listener);
      return () => set.delete(listener);
    },
  };
}

/** An answered HTTP API request, as the gateway reports it. */
export type RequestInfo = AnsweredRequest;

/** The app being deployed: its manifest and its functions' built code. */
export interface AppRevision {
  readonly dir: string;
  readonly manifest: AppManifest;
  readonly bundles: Readonly<Record<string, FunctionBundle>>;
}

/** What a deploy changed, for the reload message. Names, e.g. functions or route keys. */
export interface DeployChanges {
  readonly changed?: readonly string[];
  readonly added?: readonly string[];
  readonly removed?: readonly string[];
}

export type AwsHandler = (req: AwsRequest) => Promise<AwsResponse>;

/** A control-API route, under `/_nuvola/`. Errors are thrown as `PlatformError`; the listener maps them. */
export interface ControlRoute {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Segments below `/_nuvola/`; `:name` binds one percent-decoded segment, e.g. `functions/:name/invoke`. */
  readonly path: string;
  handle(req: ControlRequest): Promise<ControlReply>;
}

export interface ControlRequest {
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** Reads the body; undefined when it is longer than `limit` bytes (the rest is drained). */
  body(limit: number): Promise<Buffer | undefined>;
}

/** A control answer, written by the listener. */
export type ControlReply =
  | { readonly kind: 'json'; readonly status?: number; readonly body: unknown }
  | { readonly kind: 'file'; readonly path: string; readonly contentType: string }
  /**
   * NDJSON, one item a line, until the client goes away: `start` pushes items (the first push or
   * its settling sends the headers) and resolves with the function that stops it.
   */
  | { readonly kind: 'stream'; start(push: (item: unknown) => void): Promise<() => void> };

/** The data plane's HTTP API: the one service that answers what no other endpoint claims. */
export interface ApiEndpoint {
  handle(req: GatewayRequest): Promise<GatewayResponse>;
  /** A route of the API takes this request (its routes win over a site's files). */
  claims(method: string, rawPath: string): boolean;
  readonly payloadLimitBytes: number;
  payloadTooLarge(): GatewayResponse;
}

/** Files served on the data plane (a static site): the listener asks `claims` for every request the HTTP API has no route for. */
export interface FilesEndpoint {
  claims(rawPath: string): boolean;
  serve(req: FileRequest): Promise<FileAnswer>;
}

export interface FileRequest {
  readonly method: string;
  readonly rawPath: string;
  /** Lower-cased names. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** What the listener writes: the body is the bytes, or a stream of them; none for HEAD and 304. */
export interface FileAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Buffer | Readable | undefined;
}

/** A running service, as the platform sees it. Every part is optional. */
export interface ServiceFace<S> {
  /** What other services get from `ServiceContext.use`. */
  readonly service: S;
  /** Deploys this service's sections of the app; runs on start and on every reload, in list order. */
  deploy?(app: AppRevision): Promise<DeployChanges | void>;
  /** AWS protocol handlers by the signing name of the credential scope (`lambda`, `s3`, …). */
  readonly aws?: Readonly<Record<string, AwsHandler>>;
  readonly control?: readonly ControlRoute[];
  /** The app's HTTP API, when undeployed `undefined`. */
  readonly api?: () => ApiEndpoint | undefined;
  /** Figures for `/_nuvola/health`, e.g. `{ functions: 3 }`. */
  health?(): Record<string, unknown>;
  /** Files it serves on the data plane beside the HTTP API, whose routes win (static sites). */
  readonly files?: FilesEndpoint;
  /** Source files of the app it deployed, besides the functions' (for the file watcher of `nuvola dev`). */
  sources?(): readonly string[];
  /** One line per thing it serves, for the ready banner (e.g. `GET /items/{id} → getItem`). */
  summary?(): readonly string[];
  /** Stops taking work and releases what the service holds; called in reverse list order. */
  close?(): Promise<void>;
}

export interface ServiceModule<S = unknown> {
  readonly name: string;
  /** The manifest sections this service deploys (top-level keys of `nuvola.yaml`). */
  readonly sections: readonly string[];
  /** Its tables, applied in order once at start. */
  readonly migrations?: readonly Migration[];
  create(ctx: ServiceContext): ServiceFace<S> | Promise<ServiceFace<S>>;
}
