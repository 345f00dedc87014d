// A small static file server for dist/ (and, in tests, for model files).
//
// Why not `trunk serve` or `python -m http.server`: we need cross-origin isolation headers
// (COOP/COEP, so SharedArrayBuffer and wasm threads are available), the app's
// Content-Security-Policy as a header, correct MIME types for .wasm, and HTTP Range requests
// (resumable model downloads are tested against this server). Node's standard library is
// enough; no dependency.
//
// It serves only what lies inside its folder (and each mount's folder): a request path is
// percent-decoded (malformed encoding: 400), resolved, and must land inside the folder by
// real path (symlinks included) and a path separator, so `/../served-sibling/x` or a
// sibling folder whose name starts with the served folder's name is never read.
//
// CLI:  node scripts/static-server.mjs DIR [--port N] [--host 127.0.0.1]
// API:  import { startStaticServer, CONTENT_SECURITY_POLICY } from './static-server.mjs'

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

/**
 * The app's Content-Security-Policy, the same as the `<meta>` in app/index.html (a test
 * checks they agree; the header adds `frame-ancestors`, which a meta tag cannot carry).
 *
 * - Scripts: only the app's own files; `'wasm-unsafe-eval'` lets them compile WebAssembly
 *   and nothing else (no eval, no inline script, no inline handlers).
 * - Workers (the sweep and model workers) come only from this origin.
 * - Styles: only style.css. The app sets its few computed styles (positions, custom
 *   properties) through the CSSOM, which CSP allows, never through `style` attributes.
 * - connect-src is this header's widest case: the page narrows it before the app starts
 *   (app/boot.js writes a second policy listing the endpoints the user configured, model
 *   hosts and loopback servers). Two policies both apply, so the page can only get
 *   stricter than this one; the server cannot know the user's endpoints (they live in the
 *   browser), so here it allows https and loopback.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self' https: http://127.0.0.1:* http://localhost:*",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "object-src 'none'",
].join('; ');

/** The CSP header: the meta policy plus what only a header can say. */
export const CSP_HEADER = `${CONTENT_SECURITY_POLICY}; frame-ancestors 'none'`;

/**
 * `pathname` (still percent-encoded) resolved inside `base`, or null when it is malformed
 * or would leave `base`. `base` must be a resolved real path.
 */
export function resolveInside(base, pathname) {
  let decoded;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const file = path.resolve(base, `.${path.posix.sep}${decoded}`);
  return isInside(base, file) ? file : null;
}

function isInside(base, file) {
  return file === base || file.startsWith(base.endsWith(path.sep) ? base : base + path.sep);
}

/** Serves `root` on `host:port` (port 0 picks a free one). `mounts` maps URL prefixes to extra dirs. */
export function startStaticServer({ root, host = '127.0.0.1', port = 0, mounts = {}, log = false }) {
  const real = dir => fs.realpathSync(path.resolve(dir));
  const rootAbs = real(root);
  const mountList = Object.entries(mounts).map(([prefix, dir]) => [prefix, real(dir)]);
  const baseHeaders = {
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-embedder-policy': 'require-corp',
    'cross-origin-resource-policy': 'same-origin',
    'content-security-policy': CSP_HEADER,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
  const fail = (res, status, text) => {
    if (res.headersSent) { res.destroy(); return; }
    res.writeHead(status, { ...baseHeaders, 'content-type': 'text/plain; charset=utf-8' }).end(text);
  };

  /** The file to send for `url`, or [status, text] when there is none. */
  function lookup(rawPath) {
    let base = rootAbs;
    let pathname = rawPath;
    for (const [prefix, dir] of mountList) {
      // A mount matches whole path segments: `/models` serves `/models/x`, not `/modelsx`.
      const p = prefix.replace(/\/+$/, '');
      if (pathname === p || pathname.startsWith(`${p}/`)) { base = dir; pathname = pathname.slice(p.length) || '/'; break; }
    }
    let file = resolveInside(base, pathname);
    if (file === null) return [400, 'bad request path'];
    const stat = p => { try { return fs.statSync(p); } catch { return null; } };
    let st = stat(file);
    if (st?.isDirectory()) { file = path.join(file, 'index.html'); st = stat(file); }
    if (!st) {
      // Single-page app: unknown paths without an extension get index.html.
      const index = path.join(rootAbs, 'index.html');
      if (path.extname(pathname) || !stat(index)) return [404, 'not found'];
      base = rootAbs;
      file = index;
      st = stat(file);
    }
    // Symlinks must not lead out of the served folder either.
    let realFile;
    try { realFile = fs.realpathSync(file); } catch { return [404, 'not found']; }
    if (!isInside(base, realFile)) return [403, 'forbidden'];
    if (!st.isFile()) return [403, 'forbidden'];
    return { file: realFile, size: st.size };
  }

  function handle(req, res) {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...baseHeaders, allow: 'GET, HEAD' }).end();
      return;
    }
    let url;
    try { url = new URL(req.url, 'http://x'); } catch { fail(res, 400, 'bad request'); return; }
    const found = lookup(url.pathname);
    if (Array.isArray(found)) { fail(res, found[0], found[1]); return; }
    const { file, size } = found;
    const headers = {
      ...baseHeaders,
      'content-type': MIME[path.extname(file)] || 'application/octet-stream',
      'accept-ranges': 'bytes',
      'cache-control': 'no-cache',
    };
    const send = (status, extra, opts) => {
      res.writeHead(status, { ...headers, ...extra });
      if (req.method === 'HEAD') { res.end(); return; }
      const stream = fs.createReadStream(file, opts);
      // A file that vanished or cannot be read after the headers went: cut the response.
      stream.on('error', () => res.destroy());
      stream.pipe(res);
    };
    const range = req.headers.range && /^bytes=(\d*)-(\d*)$/.exec(req.headers.range);
    if (range && !(range[1] === '' && range[2] === '')) {
      let start = range[1] === '' ? size - Number(range[2]) : Number(range[1]);
      let end = range[1] !== '' && range[2] !== '' ? Number(range[2]) : size - 1;
      if (start >= size || start < 0 || end < start) {
        res.writeHead(416, { ...headers, 'content-range': `bytes */${size}` }).end();
        return;
      }
      end = Math.min(end, size - 1);
      send(206, { 'content-range': `bytes ${start}-${end}/${size}`, 'content-length': end - start + 1 }, { start, end });
    } else {
      send(200, { 'content-length': size });
    }
    if (log) console.log(`${req.method} ${req.url}`);
  }

  const server = http.createServer((req, res) => {
    try {
      handle(req, res);
    } catch (e) {
      // One bad request never takes the server down.
      if (log) console.error(`${req.method} ${req.url}: ${e.message}`);
      fail(res, 500, 'internal error');
    }
  });
  // Garbage that is not HTTP at all: answer 400 and close, as Node does by default, but
  // without letting a socket error escape.
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const { port: actual } = server.address();
      resolve({ server, url: `http://${host}:${actual}`, close: () => new Promise(r => { server.closeAllConnections?.(); server.close(r); }) });
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
