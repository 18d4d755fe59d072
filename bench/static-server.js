/**
 * The baseline for static files: a bare Node file server, as the `send` module behind Express's
 * `serve-static` works: per request, stat the file, answer 304 when the client's ETag (size and
 * time) still matches, else stream the file. Serves the folder given as its argument.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';

const root = path.resolve(process.argv[2] ?? '.');
const server = http.createServer(async (req, res) => {
  const file = path.join(root, path.normalize(decodeURIComponent(req.url.split('?')[0])));
  const st = await stat(file).catch(() => undefined);
  if (!file.startsWith(root) || !st?.isFile()) {
    res.writeHead(404).end();
    return;
  }
  const etag = `W/"${st.size.toString(16)}-${st.mtimeMs.toString(16)}"`;
  const headers = { etag, 'last-modified': st.mtime.toUTCString(), 'cache-control': 'public, max-age=0' };
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, headers).end();
    return;
  }
  res.writeHead(200, { ...headers, 'content-type': 'text/javascript; charset=utf-8', 'content-length': st.size });
  createReadStream(file).pipe(res);
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`static server at http://127.0.0.1:${server.address().port}\n`));
process.on('disconnect', () => process.exit(0));
