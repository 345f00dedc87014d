// Helpers for the LLM browser tests: a real OpenAI-compatible server (llama-cpp-python's
// llama_cpp.server on the test model), a loopback fault-injecting proxy in front of it,
// share links built the way the app's codec builds them, and readers for what the page
// stored (IndexedDB) so tests can scan it for secrets.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';

export const TEST_MODEL = process.env.COUNCIL_TEST_MODEL
  || path.join(os.homedir(), '.cache/council/models/SmolLM2-135M-Instruct.Q4_1.gguf');
export const VENV_PYTHON = path.join(process.env.COUNCIL_VENV || path.join(os.homedir(), '.cache/council/venv'), 'bin/python');

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

/** Saves the app's backend settings (what the Models & keys page writes) before load. */
export async function presetSettings(context, settings) {
  await context.addInitScript(s => {
    if (!localStorage.getItem('council.backends.v1')) localStorage.setItem('council.backends.v1', s);
  }, JSON.stringify(settings));
}
