import type { IncomingMessage } from 'node:http';

/** Past this much dropped body the connection is cut: draining a huge upload is not worth it. */
const MAX_DRAIN_BYTES = 64 * 1024 * 1024;

/**
 * Reads a request body up to `limit` bytes. Over the limit (known from `content-length`, or while
 * reading) it answers `'too-large'` at once; the rest of the body is read and dropped, up to a
 * bound, so that a client still sending it gets to read the answer instead of a reset connection.
 */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return drop(req);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return drop(req);
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
}

function drop(req: IncomingMessage): 'too-large' {
  let drained = 0;
  req.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > MAX_DRAIN_BYTES) req.socket.destroy();
  });
  req.resume();
  return 'too-large';
}
