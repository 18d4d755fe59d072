/**
 * The one listener: as one `AWS_ENDPOINT_URL` should, a single port serves
 *   - AWS API calls: any request signed with Signature V4 (header or presigned query), routed by the
 *     service named in its credential scope;
 *   - `/_nuvola/…`: Nuvola's own control API;
 *   - everything else: the app's HTTP API (the gateway).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, createHmac } from 'node:crypto';
import { credentialScope, verifySigV4, type SigV4Crypto } from '../core/sigv4.js';
import { signatureErrorResponse } from '../aws/auth-errors.js';
import type { AwsHandler } from '../services/module.js';
import { readBody } from './body.js';
import { CONTROL_PREFIX } from './control.js';

export type { AwsHandler };
export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface ListenerOptions {
  /** AWS protocol adapters by the service name of the credential scope (`lambda`, `s3`, …). */
  readonly aws: Readonly<Record<string, AwsHandler>>;
  readonly control: NodeHandler;
  readonly api: NodeHandler;
  /** Largest AWS API request body read. */
  readonly maxAwsBodyBytes: number;
  /** The secret of an access key the platform issued, for verifying signatures. */
  readonly secretOf: (accessKeyId: string) => string | undefined;
  readonly now: () => number;
  /** Told of a fault of the platform while serving a request (the client got a 500). */
  readonly onError: (err: unknown) => void;
}

const NODE_CRYPTO: SigV4Crypto = {
  sha256Hex: (data) => createHash('sha256').update(data).digest('hex'),
  hmac: (key, data) => createHmac('sha256', key).update(data).digest(),
};

export function createListener(options: ListenerOptions): Server {
  const server = createServer((req, res) => {
    void dispatch(options, req, res).catch((err: unknown) => {
      // A client that went away mid-request is no fault of ours, and has no one to answer.
      if (req.destroyed || (err as NodeJS.ErrnoException).code === 'ECONNRESET' || (err as Error).message === 'aborted') {
        res.destroy();
        return;
      }
      // A fault of the platform itself: answer, never crash the listener.
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'Internal Server Error' }));
      options.onError(err);
    });
  });
  server.keepAliveTimeout = 65_000;
  return server;
}

async function dispatch(options: ListenerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const query = q < 0 ? '' : url.slice(q + 1);
  // The control API first: a SigV4 signature (a function's own keys) never reaches it another way.
  if (url.startsWith(CONTROL_PREFIX) || url === '/_nuvola') return options.control(req, res);
  const auth = req.headers.authorization;
  const signed = auth?.startsWith('AWS4-') === true || query.includes('X-Amz-Credential=');
  const scope = signed ? credentialScope(auth, query) : undefined;
  if (scope) return serveAws(options, scope.service, req, res, url, query);
  // A signature whose credential scope cannot be read names no service: AWS's answer, not the app's.
  if (signed) return send(res, signatureErrorResponse('', 'incomplete', 'Authorization header requires a Credential of the form AKID/YYYYMMDD/region/service/aws4_request.'));
  // An AWS SDK call without credentials (the SDKs mark every call with this header).
  if (req.headers['amz-sdk-invocation-id'] !== undefined) {
    return send(res, { status: 403, headers: { 'content-type': 'application/json', 'x-amzn-errortype': 'MissingAuthenticationTokenException' }, body: JSON.stringify({ message: 'Missing Authentication Token' }) });
  }
  return options.api(req, res);
}

async function serveAws(options: ListenerOptions, service: string, req: IncomingMessage, res: ServerResponse, url: string, query: string): Promise<void> {
  // An own property only: a scope naming `constructor` or `__proto__` names no service.
  const handler = Object.hasOwn(options.aws, service) ? options.aws[service] : undefined;
  if (!handler) {
    res.writeHead(400, { 'content-type': 'application/json', 'x-amzn-errortype': 'UnknownServiceException' });
    res.end(JSON.stringify({ message: `Service '${service}' is not served by this Nuvola (served: ${Object.keys(options.aws).join(', ')})` }));
    return;
  }
  const body = await readBody(req, options.maxAwsBodyBytes);
  if (body === 'too-large') {
    res.writeHead(413, { 'content-type': 'application/json', 'x-amzn-errortype': 'RequestTooLargeException' });
    res.end(JSON.stringify({ Type: 'User', message: `Request must be smaller than ${options.maxAwsBodyBytes} bytes` }));
    return;
  }
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const verified = verifySigV4(
    { method: req.method ?? 'GET', path, query, headers: pairs(req.rawHeaders), body },
    { crypto: NODE_CRYPTO, secretOf: options.secretOf, now: options.now(), s3: service === 's3' },
  );
  if (!verified.ok) return send(res, signatureErrorResponse(service, verified.problem, verified.message));
  const out = await handler({
    method: req.method ?? 'GET',
    path,
    query: new URLSearchParams(query),
    headers: req.headers as Record<string, string | undefined>,
    body,
  });
  send(res, out);
}

function send(res: ServerResponse, out: { status: number; headers: Record<string, string>; body: string | Buffer }): void {
  res.writeHead(out.status, { ...out.headers, 'content-length': Buffer.byteLength(out.body) });
  res.end(out.body);
}

function pairs(raw: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}

/** Listens and resolves with the base URL. */
export function listen(server: Server, host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') reject(new Error(`${host}:${port} is already in use: stop what listens there, or pass --port (0 picks a free one)`));
      else reject(err);
    });
    server.listen(port, host, () => {
      server.removeAllListeners('error');
      const addr = server.address() as AddressInfo;
      const h = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      resolve(`http://${h}:${addr.port}`);
    });
  });
}
