// Helpers for the LLM browser tests: a real OpenAI-compatible server (llama-cpp-python's
// llama_cpp.server on the test model), a loopback fault-injecting proxy in front of it,
// share links built the way the app's codec builds them, and readers for what the page
// stored (IndexedDB) so tests can scan it for secrets.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';

export const TEST_MODEL = process.env.COUNCIL_TEST_MODEL
  || path.join(os.homedir(), '.cache/council/models/SmolLM2-135M-Instruct.Q4_1.gguf');
export const VENV_PYTHON = path.join(process.env.COUNCIL_VENV || path.join(os.homedir(), '.cache/council/venv'), 'bin/python');

/** A fresh made-up API key per run (none is kept in the repository): `key` is what the
 *  profile holds, `core` its random tail, which the leak scans look for. */
export function testKey(prefix) {
  const core = randomBytes(6).toString('hex');
  return { key: `${prefix}${core}`, core };
}

/** Fails with a sentence saying how to get what is missing. */
export function requireModelAndServer() {
  if (!fs.existsSync(TEST_MODEL)) {
    throw new Error(`test model missing at ${TEST_MODEL}: run scripts/setup (it fetches it) or set COUNCIL_TEST_MODEL`);
  }
  if (!fs.existsSync(VENV_PYTHON)) {
    throw new Error(`no Python venv at ${VENV_PYTHON}: run scripts/setup (it installs llama-cpp-python[server] there)`);
  }
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
    s.on('error', reject);
  });
}

/** Starts `python -m llama_cpp.server` on a free port; resolves when /v1/models answers. */
export async function startLlamaServer() {
  requireModelAndServer();
  const port = await freePort();
  const proc = spawn(VENV_PYTHON, ['-m', 'llama_cpp.server', '--model', TEST_MODEL, '--host', '127.0.0.1',
    '--port', String(port), '--n_ctx', '2048', '--n_threads', '1',
    // By default a new request cancels the one streaming; agents ask concurrently.
    '--interrupt_requests', 'False'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stdout.on('data', d => { log += d; });
  proc.stderr.on('data', d => { log += d; });
  const url = `http://127.0.0.1:${port}`;
  const t0 = Date.now();
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`llama_cpp.server exited: ${log.slice(-2000)}`);
    try {
      const r = await fetch(`${url}/v1/models`);
      if (r.ok) break;
    } catch { /* not up yet */ }
    if (Date.now() - t0 > 60_000) { proc.kill('SIGKILL'); throw new Error(`llama_cpp.server did not start in 60 s: ${log.slice(-2000)}`); }
    await new Promise(r => setTimeout(r, 250));
  }
  return { url, port, proc, kill: () => { try { proc.kill('SIGKILL'); } catch { /* gone */ } }, log: () => log };
}

function cors(req) {
  return {
    'access-control-allow-origin': req.headers.origin || '*',
    'access-control-allow-headers': 'authorization,content-type,x-api-key,anthropic-version,anthropic-dangerous-direct-browser-access',
    'access-control-allow-methods': 'POST, OPTIONS',
  };
}

/**
 * A proxy on a free loopback port in front of `upstream`. `proxy.mode` decides each
 * request: 'pass'; 'once429' (the first chat request gets 429 + Retry-After: 1, then
 * pass); 'unauthorized' (401 echoing the bearer key the way some APIs do); 'kill' (pass,
 * but when the first content bytes flow, call `onKill` — the test kills the real server —
 * and cut the connection). `proxy.seen` lists what it saw (method, path, status).
 */
export async function startProxy(upstream) {
  const port = await freePort();
  const state = { mode: 'pass', seen: [], onKill: null, killed: false, counts429: 0 };
  const server = http.createServer((req, res) => {
    if (req.method === 'OPTIONS') { res.writeHead(204, cors(req)); res.end(); return; }
    const chunks = [];
    req.on('data', c => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const note = status => state.seen.push({ method: req.method, path: req.url, status, auth: req.headers.authorization || '' });
      if (state.mode === 'once429' && state.counts429 === 0) {
        state.counts429++;
        note(429);
        res.writeHead(429, { ...cors(req), 'content-type': 'application/json', 'retry-after': '1' });
        res.end(JSON.stringify({ error: { message: 'Rate limit reached, slow down' } }));
        return;
      }
      if (state.mode === 'unauthorized') {
        note(401);
        const key = (req.headers.authorization || '').replace(/^Bearer /, '');
        res.writeHead(401, { ...cors(req), 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `Incorrect API key provided: ${key}` } }));
        return;
      }
      if (state.killed) { note(0); req.socket.destroy(); return; }
      const up = http.request(`${upstream}${req.url}`, { method: req.method, headers: { ...req.headers, host: new URL(upstream).host } }, upRes => {
        note(upRes.statusCode);
        res.writeHead(upRes.statusCode, { ...upRes.headers, ...cors(req) });
        let contentChunks = 0;
        upRes.on('data', d => {
          res.write(d);
          if (state.mode === 'kill' && !state.killed && d.toString().includes('"content"')) {
            contentChunks++;
            if (contentChunks >= 3) {
              state.killed = true;
              state.onKill?.();
              setTimeout(() => { res.socket?.destroy(); upRes.destroy(); }, 50);
            }
          }
        });
        upRes.on('end', () => res.end());
        upRes.on('error', () => res.socket?.destroy());
      });
      up.on('error', () => { note(0); res.socket?.destroy(); });
      up.end(body);
    });
  });
  await new Promise(r => server.listen(port, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${port}`, state, close: () => new Promise(r => { server.closeAllConnections?.(); server.close(r); }) };
}

/** `#s=1.<payload>` for a scenario, exactly as core's link codec writes a full scenario. */
export function linkFor(scenario) {
  const raw = zlib.deflateRawSync(Buffer.from(JSON.stringify(scenario)), { level: 9 });
  return `#s=1.${raw.toString('base64url')}`;
}

/** Every record of every store of IndexedDB database `name`, as one JSON text. */
export async function dumpIndexedDb(page, name = 'council') {
  return page.evaluate(async dbName => {
    const db = await new Promise((res, rej) => { const r = indexedDB.open(dbName); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
    const out = {};
    for (const store of Array.from(db.objectStoreNames)) {
      out[store] = await new Promise((res, rej) => {
        const r = db.transaction(store).objectStore(store).getAll();
        r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error);
      });
    }
    db.close();
    return JSON.stringify(out);
  }, name);
}

/** Saves the app's backend settings before load. A profile key given here is in plain text,
 *  as versions before sealed keys saved it: the app seals it before it mounts (see
 *  app/src/backends/keys.rs; app-keys.test.mjs checks that path). */
export async function presetSettings(context, settings) {
  await context.addInitScript(s => {
    if (!localStorage.getItem('council.backends.v1')) localStorage.setItem('council.backends.v1', s);
  }, JSON.stringify(settings));
}

/**
 * A loopback server that speaks the Anthropic Messages API (`POST /v1/messages`, SSE events)
 * and Ollama's chat API (`POST /api/chat`, NDJSON) by translating each request to the real
 * OpenAI-compatible `upstream` (llama_cpp.server) and re-encoding its streamed deltas, so the
 * text is the real model's. `state.seen` records each request (path, status, the key headers);
 * `state.failNext` = [status, ...] answers the next requests with those error statuses in the
 * API's own error shape (529 overloaded, 503 busy...); Anthropic requests whose x-api-key is
 * not `key` get 401 as the real API does.
 */
export async function startApiTranslator(upstream, key) {
  const port = await freePort();
  const state = { seen: [], failNext: [] };
  const server = http.createServer((req, res) => {
    if (req.method === 'OPTIONS') { res.writeHead(204, cors(req)); res.end(); return; }
    const chunks = [];
    req.on('data', c => chunks.push(c));
    req.on('end', () => {
      const anthropic = req.url === '/v1/messages';
      const ollama = req.url === '/api/chat';
      const note = status => state.seen.push({ path: req.url, status, xApiKey: req.headers['x-api-key'] || '',
        auth: req.headers.authorization || '', version: req.headers['anthropic-version'] || '' });
      const fail = (status, message, type) => {
        note(status);
        res.writeHead(status, { ...cors(req), 'content-type': 'application/json' });
        res.end(JSON.stringify(anthropic ? { type: 'error', error: { type, message } } : { error: message }));
      };
      if (req.method !== 'POST' || (!anthropic && !ollama)) { fail(404, `no route ${req.url}`, 'not_found_error'); return; }
      let body;
      try { body = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch { fail(400, 'body is not JSON', 'invalid_request_error'); return; }
      if (state.failNext.length) {
        const status = state.failNext.shift();
        fail(status, status === 529 ? 'Overloaded' : 'server busy, please try again', status === 529 ? 'overloaded_error' : 'api_error');
        return;
      }
      if (anthropic && req.headers['x-api-key'] !== key) { fail(401, 'invalid x-api-key', 'authentication_error'); return; }
      if (anthropic && (!body.max_tokens || body.stream !== true)) { fail(400, 'max_tokens and stream are required here', 'invalid_request_error'); return; }
      const messages = anthropic ? [{ role: 'system', content: body.system || '' }, ...body.messages] : body.messages;
      const upBody = JSON.stringify({ model: body.model, messages, stream: true,
        max_tokens: anthropic ? body.max_tokens : body.options?.num_predict, temperature: anthropic ? body.temperature : body.options?.temperature });
      const up = http.request(`${upstream}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' } }, upRes => {
        if (upRes.statusCode !== 200) { fail(upRes.statusCode, `upstream said ${upRes.statusCode}`, 'api_error'); upRes.resume(); return; }
        note(200);
        res.writeHead(200, { ...cors(req), 'content-type': anthropic ? 'text/event-stream' : 'application/x-ndjson' });
        const sse = (event, data) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
        const nd = obj => res.write(JSON.stringify({ model: body.model, created_at: new Date().toISOString(), ...obj }) + '\n');
        if (anthropic) {
          // input_tokens 0: llama_cpp.server reports no usage when streaming, so there is nothing real to pass on.
          sse('message_start', { type: 'message_start', message: { id: 'msg_test', type: 'message', role: 'assistant', content: [], model: body.model, usage: { input_tokens: 0, output_tokens: 1 } } });
          sse('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
          sse('ping', { type: 'ping' });
        }
        let pieces = 0, buf = '', ended = false;
        const finish = () => {
          if (ended) return;
          ended = true;
          if (anthropic) {
            sse('content_block_stop', { type: 'content_block_stop', index: 0 });
            sse('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: pieces } });
            sse('message_stop', { type: 'message_stop' });
          } else {
            nd({ message: { role: 'assistant', content: '' }, done: true, done_reason: 'stop', eval_count: pieces });
          }
          res.end();
        };
        upRes.setEncoding('utf8');
        upRes.on('data', d => {
          buf += d;
          let nl;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl).trim();
            buf = buf.slice(nl + 1);
            if (!line.startsWith('data:')) continue;
            const data = line.slice(5).trim();
            if (data === '[DONE]') { finish(); continue; }
            let v;
            try { v = JSON.parse(data); } catch { continue; }
            const text = v.choices?.[0]?.delta?.content;
            if (!text) continue;
            pieces++;
            if (anthropic) sse('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } });
            else nd({ message: { role: 'assistant', content: text }, done: false });
          }
        });
        upRes.on('end', finish);
        upRes.on('error', () => res.socket?.destroy());
      });
      up.on('error', () => { note(0); res.socket?.destroy(); });
      up.end(upBody);
    });
  });
  await new Promise(r => server.listen(port, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${port}`, state, close: () => new Promise(r => { server.closeAllConnections?.(); server.close(r); }) };
}
