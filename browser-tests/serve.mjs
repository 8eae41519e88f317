// A minimal static server for the built page: files from dist/, and index.html for every
// path without a file extension (the page routes on the client). Text and wasm go gzip-encoded
// when the browser accepts it, as any static host serves them, so that the transfers the tests
// record are what a reader would download.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.safetensors': 'application/octet-stream',
};
// Model weights are int8 and barely compress; everything else here is text or wasm.
const compressible = new Set(['.html', '.js', '.wasm', '.css', '.json', '.jsonl', '.svg']);
// Each file is compressed once per server: the 16 MB wasm takes about a second.
const gzipped = new Map();

function gzipOf(file) {
  if (!gzipped.has(file)) {
    gzipped.set(file, zlib.gzipSync(fs.readFileSync(file), { level: 9 }));
  }
  return gzipped.get(file);
}

export async function serveDist(distDir) {
  if (!fs.existsSync(path.join(distDir, 'index.html'))) {
    throw new Error(`${distDir}/index.html does not exist; build the page first with \`trunk build --release\``);
  }
  const server = http.createServer((request, response) => {
    const url = new URL(request.url, 'http://localhost');
    let file = path.normalize(path.join(distDir, decodeURIComponent(url.pathname)));
    if (!file.startsWith(distDir)) {
      response.writeHead(403).end();
      return;
    }
    if (!path.extname(file) || !fs.existsSync(file)) {
      if (path.extname(file)) {
        response.writeHead(404).end();
        return;
      }
      file = path.join(distDir, 'index.html');
    }
    const headers = {
      'content-type': types[path.extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-store',
      vary: 'accept-encoding',
    };
    const acceptsGzip = /\bgzip\b/.test(request.headers['accept-encoding'] ?? '');
    if (acceptsGzip && compressible.has(path.extname(file))) {
      const body = gzipOf(file);
      response.writeHead(200, { ...headers, 'content-encoding': 'gzip', 'content-length': body.length });
      response.end(body);
      return;
    }
    response.writeHead(200, headers);
    fs.createReadStream(file).pipe(response);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
