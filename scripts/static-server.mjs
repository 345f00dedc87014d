// A small static file server for dist/ (and, in tests, for model files).
//
// Why not `trunk serve` or `python -m http.server`: we need cross-origin isolation headers
// (COOP/COEP, so SharedArrayBuffer and wasm threads are available), correct MIME types for
// .wasm, and HTTP Range requests (resumable model downloads are tested against this server).
// Node's standard library is enough; no dependency.
//
// CLI:  node scripts/static-server.mjs DIR [--port N] [--host 127.0.0.1]
// API:  import { startStaticServer } from './static-server.mjs'

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const MIME = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm', '.json': 'application/json', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.ico': 'image/x-icon', '.txt': 'text/plain; charset=utf-8',
  '.gguf': 'application/octet-stream',
};

/** Serves `root` on `host:port` (port 0 picks a free one). `mounts` maps URL prefixes to extra dirs. */
export function startStaticServer({ root, host = '127.0.0.1', port = 0, mounts = {}, log = false }) {
  const rootAbs = path.resolve(root);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    let pathname = decodeURIComponent(url.pathname);
    let base = rootAbs;
    for (const [prefix, dir] of Object.entries(mounts)) {
      if (pathname.startsWith(prefix)) { base = path.resolve(dir); pathname = pathname.slice(prefix.length - 1); break; }
    }
    let file = path.join(base, pathname);
    if (!file.startsWith(base)) { res.writeHead(403).end('forbidden'); return; }
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
    if (!fs.existsSync(file)) {
      // Single-page app: unknown paths without an extension get index.html.
      if (!path.extname(pathname) && fs.existsSync(path.join(rootAbs, 'index.html'))) file = path.join(rootAbs, 'index.html');
      else { res.writeHead(404, { 'content-type': 'text/plain' }).end('not found'); return; }
    }
    const size = fs.statSync(file).size;
    const headers = {
      'content-type': MIME[path.extname(file)] || 'application/octet-stream',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-embedder-policy': 'require-corp',
      'cross-origin-resource-policy': 'same-origin',
      'accept-ranges': 'bytes',
      'cache-control': 'no-cache',
    };
    const range = req.headers.range && /^bytes=(\d*)-(\d*)$/.exec(req.headers.range);
    if (range) {
      let start = range[1] === '' ? size - Number(range[2]) : Number(range[1]);
      let end = range[1] !== '' && range[2] !== '' ? Number(range[2]) : size - 1;
      if (start >= size || start < 0 || end < start) {
        res.writeHead(416, { ...headers, 'content-range': `bytes */${size}` }).end();
        return;
      }
      end = Math.min(end, size - 1);
      res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${end}/${size}`, 'content-length': end - start + 1 });
      if (req.method === 'HEAD') { res.end(); return; }
      fs.createReadStream(file, { start, end }).pipe(res);
    } else {
      res.writeHead(200, { ...headers, 'content-length': size });
      if (req.method === 'HEAD') { res.end(); return; }
      fs.createReadStream(file).pipe(res);
    }
    if (log) console.log(`${req.method} ${req.url}`);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const { port: actual } = server.address();
      resolve({ server, url: `http://${host}:${actual}`, close: () => new Promise(r => server.close(r)) });
    });
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
  const root = args.find((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--'))) || 'dist';
  const { url } = await startStaticServer({ root, host: opt('--host', '127.0.0.1'), port: Number(opt('--port', '8080')) });
  console.log(`Council is being served at ${url}/  (Ctrl-C to stop)`);
}
