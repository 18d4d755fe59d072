import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { FilesEndpoint } from '../services/module.js';

/**
 * Serves a request for files (a static site) on node's http server: asks the endpoint for the answer
 * and writes it, streaming a body that is a stream. A client that goes away mid-body ends the stream.
 */
export async function handleFilesRequest(files: FilesEndpoint, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const answer = await files.serve({ method: req.method ?? 'GET', rawPath: req.url ?? '/', headers: req.headers });
  res.writeHead(answer.status, answer.headers);
  const body = answer.body;
  if (body === undefined || req.method === 'HEAD') {
    res.end();
    if (body !== undefined && !Buffer.isBuffer(body)) body.destroy();
    return;
  }
  if (Buffer.isBuffer(body)) {
    res.end(body);
    return;
  }
  await pipeline(body, res).catch(() => res.destroy());
}
