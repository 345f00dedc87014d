// The dev/test static server (scripts/static-server.mjs) against hostile request paths:
// malformed percent-encoding, `..` walks (plain and encoded) into a sibling folder whose
// name starts with the served folder's name, a symlink out of the folder, NUL bytes,
// methods it does not serve and bytes that are not HTTP. Each gets a 4xx and the server
// keeps answering; a plain file, a Range request and the single-page fallback still work,
// and every answer carries the Content-Security-Policy. Raw sockets send the paths
// byte-for-byte (fetch and http.request would normalise `..` away).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startStaticServer, resolveInside, CSP_HEADER } from '../../scripts/static-server.mjs';

let dir, server;
const SECRET = 'the sibling folder must stay private';

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'council-static-'));
  const root = path.join(dir, 'dist');
  fs.mkdirSync(path.join(root, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>app</title>');
  fs.writeFileSync(path.join(root, 'sub', 'a.txt'), '0123456789');
  // A sibling whose name starts with the served folder's name: a string-prefix check passes it.
  fs.mkdirSync(path.join(dir, 'dist-secret'));
  fs.writeFileSync(path.join(dir, 'dist-secret', 'secret.txt'), SECRET);
  fs.symlinkSync(path.join(dir, 'dist-secret'), path.join(root, 'link-out'));
  fs.mkdirSync(path.join(dir, 'models'));
  fs.writeFileSync(path.join(dir, 'models', 'm.gguf'), 'GGUF....');
  server = await startStaticServer({ root, mounts: { '/models/': path.join(dir, 'models') } });
});
after(async () => {
  await server?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Sends `raw` bytes on a fresh connection; resolves with { status, headers, body } (or status 0 when cut). */
function rawRequest(raw) {
  const { port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    sock.on('data', d => { data = Buffer.concat([data, d]); });
    sock.on('error', reject);
    sock.on('close', () => {
      const text = data.toString('latin1');
      const [head, ...rest] = text.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1] || 0);
      const headers = Object.fromEntries(head.split('\r\n').slice(1).map(l => {
        const i = l.indexOf(':');
        return [l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim()];
      }));
      resolve({ status, headers, body: rest.join('\r\n\r\n') });
    });
    sock.setTimeout(5000, () => { sock.destroy(); reject(new Error('no answer in 5 s')); });
    sock.write(raw);
  });
}

const get = (p, extra = '') => rawRequest(`GET ${p} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n${extra}\r\n`);

async function assertAlive() {
  const r = await get('/sub/a.txt');
  assert.equal(r.status, 200, 'the server still answers');
  assert.equal(r.body, '0123456789');
}

test('malformed percent-encoding gets 400 and the server lives on', async () => {
  for (const p of ['/%E0%A4%A', '/%', '/%zz', '/sub/%E0%A4%A.txt', '/%C0%AF']) {
    const r = await get(p);
    assert.equal(r.status, 400, `${p} -> ${r.status}`);
    await assertAlive();
  }
});

test('no path leaves the served folder: sibling with a shared name prefix, encoded dots, symlink, NUL', async () => {
  const attempts = [
    '/../dist-secret/secret.txt',
    '/%2e%2e/dist-secret/secret.txt',
    '/..%2fdist-secret%2fsecret.txt',
    '/sub/../../dist-secret/secret.txt',
    '/sub/%2e%2e%2f%2e%2e%2fdist-secret%2fsecret.txt',
    '/..\\dist-secret\\secret.txt',
    '/link-out/secret.txt',
    '/models/../dist-secret/secret.txt',
    '/models/%2e%2e/dist-secret/secret.txt',
    '/sub/a.txt%00.html',
    '/%00',
  ];
  for (const p of attempts) {
    const r = await get(p);
    assert.ok(r.status >= 400 && r.status < 500, `${p} -> ${r.status}`);
    assert.ok(!r.body.includes(SECRET), `${p} leaked the sibling's file`);
  }
  await assertAlive();
});

test('resolveInside: containment is by resolved path and separator, not string prefix', () => {
  const base = path.join(path.sep, 'srv', 'dist');
  assert.equal(resolveInside(base, '/a/b.txt'), path.join(base, 'a', 'b.txt'));
  assert.equal(resolveInside(base, '/'), base);
  assert.equal(resolveInside(base, '/../dist-secret/x'), null, 'the sibling /srv/dist-secret starts with the same string');
  assert.equal(resolveInside(base, '/a/../../dist/ok'), path.join(base, 'ok'), 'a walk that comes back in is fine');
  assert.equal(resolveInside(base, '/%E0%A4%A'), null);
  assert.equal(resolveInside(base, '/a%00b'), null);
});

test('files, ranges, mounts and the single-page fallback still work, with the CSP header', async () => {
  const whole = await get('/sub/a.txt');
  assert.equal(whole.headers['content-security-policy'], CSP_HEADER);
  assert.equal(whole.headers['cross-origin-embedder-policy'], 'require-corp');
  assert.equal(whole.headers['x-content-type-options'], 'nosniff');
  const part = await get('/sub/a.txt', 'range: bytes=2-4\r\n');
  assert.equal(part.status, 206);
  assert.equal(part.body, '234');
  assert.equal(part.headers['content-range'], 'bytes 2-4/10');
  const tail = await get('/sub/a.txt', 'range: bytes=-3\r\n');
  assert.equal(tail.body, '789');
  assert.equal((await get('/sub/a.txt', 'range: bytes=50-\r\n')).status, 416);
  assert.equal((await get('/models/m.gguf')).body, 'GGUF....');
  assert.equal((await get('/modelsm.gguf')).status, 404, 'a mount matches whole path segments');
  const spa = await get('/runs');
  assert.equal(spa.status, 200);
  assert.match(spa.body, /<title>app<\/title>/);
  assert.match(spa.headers['content-security-policy'], /script-src 'self' 'wasm-unsafe-eval'/);
  assert.equal((await get('/missing.js')).status, 404);
});

test('methods other than GET/HEAD get 405; bytes that are not HTTP get 400; the server lives on', async () => {
  const post = await rawRequest('POST /sub/a.txt HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
  assert.equal(post.status, 405);
  const head = await rawRequest('HEAD /sub/a.txt HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
  assert.equal(head.status, 200);
  assert.equal(head.body, '');
  const junk = await rawRequest('\x00\x01\x02 not http at all\r\n\r\n');
  assert.equal(junk.status, 400);
  const badTarget = await rawRequest('GET http://[::1 HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
  assert.ok(badTarget.status >= 400 && badTarget.status < 500, `absolute-form junk -> ${badTarget.status}`);
  await assertAlive();
});
