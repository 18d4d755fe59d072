import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Gateway, GatewayRequest, GatewayResponse } from '../services/gateway/index.js';
import { readBody } from './body.js';

/**
 * Serves one HTTP API request on node's http server: reads the body up to the gateway's payload
 * limit (413 as soon as it is over), hands the gateway a `GatewayRequest` built from the raw request
 * line and headers, and writes its answer.
 */
export function handleApiRequest(gateway: Gateway, req: IncomingMessage, res: ServerResponse): void {
  const declared = req.headers['content-length'];
  // Nothing to read: answer without waiting a turn for 'end'.
  if (declared === '0' || (declared === undefined && req.headers['transfer-encoding'] === undefined)) {
    dispatch(gateway, req, res, null);
    return;
  }
  readBody(req, gateway.payloadLimitBytes).then(
    (body) => {
      // The connection stays open while the rest of the body drains: closing it under a client that
      // is still sending makes the client see a reset instead of the answer.
      if (body === 'too-large') write(res, gateway.payloadTooLarge());
      else dispatch(gateway, req, res, body.length === 0 ? null : body);
    },
    // A client that goes away mid-body gets no answer; the socket is already gone.
    () => res.destroy(),
  );
}

function dispatch(gateway: Gateway, req: IncomingMessage, res: ServerResponse, body: Buffer | null): void {
  gateway.handle(toGatewayRequest(req, body)).then(
    (response) => write(res, response),
    // `handle` answers every failure itself; this is a defect, not a request outcome.
    () => write(res, { statusCode: 500, headers: [['content-type', 'application/json']], body: '{"message":"Internal Server Error"}' }),
  );
}

/** Exported for tests: the request line and headers, undecoded. */
export function toGatewayRequest(req: IncomingMessage, body: Buffer | null): GatewayRequest {
  let target = req.url ?? '/';
  if (!target.startsWith('/')) {
    // absolute-form (`http://host/path?q`), which proxies send; `*` and the like stay as they are.
    const scheme = target.indexOf('://');
    if (scheme !== -1) {
      const slash = target.indexOf('/', scheme + 3);
      target = slash === -1 ? '/' : target.slice(slash);
    }
  }
  const q = target.indexOf('?');
  const raw = req.rawHeaders;
  const headers: [string, string][] = new Array<[string, string]>(raw.length >> 1);
  for (let i = 0, j = 0; i < raw.length; i += 2, j++) headers[j] = [raw[i] as string, raw[i + 1] as string];
  const socket = req.socket;
  const remote = socket.remoteAddress ?? '';
  return {
    method: req.method ?? 'GET',
    rawPath: q === -1 ? target : target.slice(0, q),
    rawQueryString: q === -1 ? '' : target.slice(q + 1),
    headers,
    body,
    // IPv4 clients of a dual-stack listener show up as IPv4-mapped IPv6 addresses.
    sourceIp: remote.startsWith('::ffff:') ? remote.slice(7) : remote,
    protocol: `HTTP/${req.httpVersion}`,
    port: socket.localPort,
    scheme: (socket as { encrypted?: boolean }).encrypted === true ? 'https' : 'http',
  };
}

function write(res: ServerResponse, response: GatewayResponse): void {
  if (res.headersSent || res.destroyed) return;
  const { statusCode, body } = response;
  const flat: string[] = [];
  for (const [name, value] of response.headers) flat.push(name, value);
  // 204 and 304 carry neither a body nor its length.
  const bodyless = statusCode === 204 || statusCode === 304;
  if (!bodyless) flat.push('content-length', String(typeof body === 'string' ? Buffer.byteLength(body) : body.length));
  try {
    res.writeHead(statusCode, flat);
  } catch {
    // A header node refuses (the gateway validates function headers; this guards config values).
    res.writeHead(500, ['content-type', 'application/json', 'content-length', '35']);
    res.end('{"message":"Internal Server Error"}');
    return;
  }
  // node drops the body of HEAD responses itself.
  res.end(bodyless ? undefined : body);
}
