import { PlatformError } from '../../core/errors.js';

/**
 * CORS as HTTP APIs do it (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-cors.html):
 * with CORS configured, the gateway answers preflight requests itself, adds the configured headers to
 * every other response of an allowed origin, and ignores the `access-control-*` headers a function
 * returns.
 */
export interface CorsConfig {
  readonly allowOrigins: readonly string[];
  readonly allowMethods: readonly string[];
  readonly allowHeaders: readonly string[];
  readonly exposeHeaders: readonly string[];
  readonly allowCredentials: boolean;
  /** Seconds a browser may cache a preflight answer; AWS's console caps it at 86400. */
  readonly maxAge?: number | undefined;
}

export interface CompiledCors {
  /** Headers answering a preflight from `origin`; empty when the origin is not allowed. */
  preflight(origin: string): [string, string][];
  /** Appends the headers of an actual response to `headers` when `origin` is allowed. */
  decorate(origin: string, headers: [string, string][]): void;
}

/** Validates and precompiles `config` (at deploy time); throws `INVALID_REQUEST` when malformed. */
export function compileCors(config: CorsConfig): CompiledCors {
  if (config.maxAge !== undefined && (!Number.isInteger(config.maxAge) || config.maxAge < -1 || config.maxAge > 86400)) {
    throw new PlatformError('INVALID_REQUEST', `CORS maxAge must be an integer from -1 to 86400, got ${config.maxAge}.`);
  }
  for (const value of [...config.allowOrigins, ...config.allowMethods, ...config.allowHeaders, ...config.exposeHeaders]) {
    // Each becomes (part of) a header value: one with a control character could not be sent.
    if (typeof value !== 'string' || value === '' || CONTROL.test(value)) {
      throw new PlatformError('INVALID_REQUEST', `CORS values must be non-empty strings without control characters, got ${JSON.stringify(value)}.`);
    }
  }
  const anyOrigin = config.allowOrigins.includes('*');
  const origins = new Set(config.allowOrigins.map((o) => o.toLowerCase()));
  // A literal `*` next to credentials is refused by browsers, so the origin is echoed instead.
  const wildcard = anyOrigin && !config.allowCredentials;

  const preflightRest: [string, string][] = [];
  if (config.allowCredentials) preflightRest.push(['access-control-allow-credentials', 'true']);
  if (config.allowMethods.length > 0) preflightRest.push(['access-control-allow-methods', config.allowMethods.join(',')]);
  if (config.allowHeaders.length > 0) preflightRest.push(['access-control-allow-headers', config.allowHeaders.join(',')]);
  if (config.maxAge !== undefined) preflightRest.push(['access-control-max-age', String(config.maxAge)]);

  const actualRest: [string, string][] = [];
  if (config.allowCredentials) actualRest.push(['access-control-allow-credentials', 'true']);
  if (config.exposeHeaders.length > 0) actualRest.push(['access-control-expose-headers', config.exposeHeaders.join(',')]);

  const allowOrigin = (origin: string): string | null => {
    if (wildcard) return '*';
    if (anyOrigin || origins.has(origin.toLowerCase())) return origin;
    return null;
  };

  return {
    preflight(origin) {
      const allowed = allowOrigin(origin);
      if (allowed === null) return [];
      return [['access-control-allow-origin', allowed], ...preflightRest];
    },
    decorate(origin, headers) {
      const allowed = allowOrigin(origin);
      if (allowed === null) return;
      headers.push(['access-control-allow-origin', allowed]);
      for (const h of actualRest) headers.push(h);
    },
  };
}

const CONTROL = /[\x00-\x1f\x7f]/;
