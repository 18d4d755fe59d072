/**
 * The platform's closed set of error codes. Services throw `PlatformError`s with one of these codes;
 * listeners map codes to HTTP status and wire format in one table each. `docs/errors.md` lists every
 * code (a test keeps the two in sync).
 */
export const ERROR_CODES = {
  MANIFEST_NOT_FOUND: { kind: 'user', summary: 'The app directory has no nuvola.yaml.' },
  MANIFEST_INVALID: { kind: 'user', summary: 'nuvola.yaml does not match the manifest schema; the message names file, line, path and what was expected.' },
  BUILD_FAILED: { kind: 'user', summary: "esbuild could not bundle a function handler, or the files it includes (`package.include`) are unsafe or over Lambda's size limit." },
  HANDLER_NOT_FOUND: { kind: 'user', summary: "A function's handler file or export does not exist." },
  FUNCTION_NOT_FOUND: { kind: 'user', summary: 'No function of that name is deployed.' },
  QUEUE_NOT_FOUND: { kind: 'user', summary: 'No queue of that name exists.' },
  SITE_NOT_FOUND: { kind: 'user', summary: 'No site of that name is deployed.' },
  INVALID_EVENT_PATTERN: { kind: 'user', summary: "An event pattern does not follow EventBridge's grammar; the message says why, as EventBridge's does." },
  RESOURCE_NOT_FOUND: { kind: 'user', summary: 'No event bus or rule of that name exists.' },
  ALREADY_EXISTS: { kind: 'user', summary: 'An event bus of that name exists already.' },
  MAPPING_NOT_FOUND: { kind: 'user', summary: 'No event source mapping has that id.' },
  QUEUE_EXISTS: { kind: 'user', summary: 'A queue of that name exists with other attributes.' },
  RECEIPT_INVALID: { kind: 'user', summary: 'A receipt handle is malformed or was not issued by this platform.' },
  INVALID_ATTRIBUTE: { kind: 'user', summary: 'A queue attribute is unknown or its value is out of range.' },
  INVALID_MESSAGE: { kind: 'user', summary: 'A message holds characters a queue does not take.' },
  LIMIT_EXCEEDED: { kind: 'user', summary: 'A queue holds as many messages in flight as it may.' },
  PURGE_IN_PROGRESS: { kind: 'user', summary: 'The queue was purged less than a minute ago.' },
  TOO_MANY_REQUESTS: { kind: 'user', summary: "The function's reserved concurrency or the platform's concurrency limit is reached." },
  PAYLOAD_TOO_LARGE: { kind: 'user', summary: 'A request or invocation payload is over its limit.' },
  INVALID_REQUEST: { kind: 'user', summary: 'A request body is malformed (for example, not JSON where JSON is required).' },
  VALIDATION: { kind: 'user', summary: 'A request parameter is outside its allowed values.' },
  INVALID_PARAMETER: { kind: 'user', summary: 'A request parameter names something that does not exist or cannot be used there (a destination that is no function of the app).' },
  UNKNOWN_OPERATION: { kind: 'user', summary: 'An AWS API request names no operation this platform serves.' },
  UNAUTHORIZED: { kind: 'user', summary: 'A control API request has no bearer token, or not the platform’s.' },
  FORBIDDEN: { kind: 'user', summary: "A control API request came from another site's page, or names a host that is not this listener's (DNS rebinding)." },
  BLOB_NOT_FOUND: { kind: 'system', summary: 'The stored bytes of an object are missing: no blob has that id.' },
  INSTANCE_FAILED: { kind: 'system', summary: 'A function instance could not be started.' },
  SHUTTING_DOWN: { kind: 'system', summary: 'The platform is stopping and takes no new work.' },
  INTERNAL: { kind: 'system', summary: 'An unexpected platform fault.' },
} as const satisfies Record<string, { kind: 'user' | 'system'; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An error of the platform's own, recognised by `code` (also after crossing a process boundary). */
export class PlatformError<C extends ErrorCode = ErrorCode> extends Error {
  override readonly name = 'PlatformError';
  readonly code: C;
  readonly kind: 'user' | 'system';
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: C, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.kind = ERROR_CODES[code].kind;
    this.details = details;
  }

  /** The shape errors travel in between processes. */
  toJSON(): SerializedError {
    return { name: this.name, code: this.code, message: this.message, stack: this.stack };
  }
}

export interface SerializedError {
  name: string;
  code?: string;
  message: string;
  stack?: string | undefined;
}

export function isPlatformError<C extends ErrorCode>(err: unknown, code?: C): err is PlatformError<C> {
  return err instanceof PlatformError && (code === undefined || err.code === code);
}
