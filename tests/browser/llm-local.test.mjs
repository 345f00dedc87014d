// Local models end to end: the test GGUF downloaded in the page with byte progress from a
// loopback server that cuts the connection halfway (the download resumes with a Range
// request after a reload), stored in OPFS, then a 3-agent debate whose agents all run
// that model in the page's worker on the CPU path, streaming tokens into the live panel,
// with the run stored in IndexedDB; then the engine choice in the settings: forced WebGPU
// runs on SwiftShader (after the self-check) and writes a few tokens, "auto" passes that
// software adapter over for the CPU path, and forced CPU reports the CPU engine. Prints load time, time to first token and tok/s.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import { launch, openApp, screenshot } from './harness.mjs';
import { TEST_MODEL, freePort, linkFor, dumpIndexedDb, presetSettings } from './llm-helpers.mjs';

let env, models;

/** Serves the test model with Range support and CORS, throttled; the first full request is cut halfway. */
async function startModelServer() {
  if (!fs.existsSync(TEST_MODEL)) throw new Error(`test model missing at ${TEST_MODEL}: run scripts/setup or set COUNCIL_TEST_MODEL`);
  const size = fs.statSync(TEST_MODEL).size;
  const state = { requests: [], cutDone: false, bytesPerTick: 4 << 20 };
  const port = await freePort();
  const server = http.createServer((req, res) => {
    const cors = {
      'access-control-allow-origin': req.headers.origin || '*',
      'access-control-allow-headers': 'range',
      'access-control-expose-headers': 'content-range, content-length, accept-ranges',
      'cross-origin-resource-policy': 'cross-origin',
    };
    if (req.method === 'OPTIONS') { res.writeHead(204, cors); res.end(); return; }
    const range = req.headers.range;
    state.requests.push(range || 'full');
    let start = 0;
    if (range) {
      const m = /^bytes=(\d+)-$/.exec(range);
      start = Number(m[1]);
      res.writeHead(206, { ...cors, 'content-type': 'application/octet-stream', 'accept-ranges': 'bytes',
        'content-length': size - start, 'content-range': `bytes ${start}-${size - 1}/${size}` });
    } else {
      res.writeHead(200, { ...cors, 'content-type': 'application/octet-stream', 'accept-ranges': 'bytes', 'content-length': size });
    }
    const cutAt = !range && !state.cutDone ? Math.floor(size / 2) : Infinity;
    const fd = fs.openSync(TEST_MODEL, 'r');
    let pos = start;
    const tick = () => {
      if (res.destroyed) { fs.closeSync(fd); return; }
      if (pos >= cutAt) { state.cutDone = true; fs.closeSync(fd); res.socket.destroy(); return; }
      if (pos >= size) { fs.closeSync(fd); res.end(); return; }
      const n = Math.min(state.bytesPerTick, size - pos, cutAt - pos);
      const buf = Buffer.alloc(n);
      fs.readSync(fd, buf, 0, n, pos);
      pos += n;
      res.write(buf, () => setTimeout(tick, 100));
    };
    tick();
  });
  await new Promise(r => server.listen(port, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${port}/SmolLM2-135M-Instruct.Q4_1.gguf`, size, state, close: () => new Promise(r => { server.closeAllConnections?.(); server.close(r); }) };
}

before(async () => {
  env = await launch();
  models = await startModelServer();
});
after(async () => {
  await env?.close();
  await models?.close();
});

const realErrors = p => p.errors.filter(e => !/Failed to load resource/.test(e));
let context;

test('a model download shows byte progress, survives a cut connection and a reload, and resumes with Range', async () => {
  context = await env.browser.newContext({ viewport: { width: 1280, height: 900 } });
  // Short replies keep the CPU path quick (prefill dominates on a 2-core box); the debate
  // forces the CPU engine (SwiftShader's WebGPU is ~1 s a token).
  await presetSettings(context, { profiles: [], max_remote_calls: 10, timeout_s: 60, max_attempts: 2, local_max_tokens: 16, local_engine: 'cpu' });
  const p = await openApp(env, '#/models', await env.newPage({ context }));
  await p.fill('[data-testid=model-id]', 'smol');
  await p.fill('[data-testid=model-url]', models.url);
  await p.click('[data-testid=model-add]');
  await p.waitForFunction(() => Number(document.querySelector('[data-testid=model-row][data-model=smol] [data-testid=download-progress]')?.dataset.bytes || 0) > 0);
  const total = Number(await p.getAttribute('[data-testid=model-row][data-model=smol] [data-testid=download-progress]', 'data-total'));
  assert.equal(total, models.size, 'the total comes from the server before the bytes');
  await p.waitForSelector('[data-testid=model-row][data-model=smol][data-state=paused]', { timeout: 60_000 });
  assert.match(await p.textContent('[data-testid=model-row][data-model=smol] [data-testid=download-detail]'), /cut/);
  await screenshot(p, 'llm-local-download-cut');

  await p.reload();
  await p.waitForSelector('[data-testid=model-row][data-model=smol][data-state=paused]');
  await p.click('[data-testid=model-row][data-model=smol] [data-testid=model-resume]');
  await p.waitForSelector('[data-testid=model-row][data-model=smol][data-state=done]', { timeout: 120_000 });
  const resumedFrom = Number(await p.getAttribute('[data-testid=model-row][data-model=smol] [data-testid=download-progress]', 'data-resumed-from'));
  assert.ok(resumedFrom >= models.size * 0.3, `resumed from ${resumedFrom} of ${models.size} (commits every 8 MB)`);
  assert.equal(models.state.requests[0], 'full');
  assert.match(models.state.requests.at(-1), new RegExp(`^bytes=${resumedFrom}-$`), JSON.stringify(models.state.requests));
  const stored = await p.evaluate(async () => {
    const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('models');
    return (await (await dir.getFileHandle('smol.gguf')).getFile()).size;
  });
  assert.equal(stored, models.size, 'the stored file has exactly the server size');
  assert.deepEqual(realErrors(p), []);
});

test('a 3-agent debate runs on the local model in the worker (CPU path), its asks batched with prompt prefixes reused, streaming, and is stored', async () => {
  const p = await env.newPage({ context });
  const scenario = {
    title: 'Local debate',
    agents: [
      { name: 'Ada', backend: 'local:smol' },
      { name: 'Ben', backend: 'local:smol' },
      { name: 'Cy', backend: 'local:smol' },
    ],
    mechanism: { kind: 'debate', params: { rounds: 1 } },
    task: { kind: 'multiple_choice', params: { difficulty: 0.2 } },
    seed: 2,
  };
  await openApp(env, linkFor(scenario), p);
  await p.waitForSelector('[data-testid=link-gate]');
  assert.match(await p.textContent('[data-testid=gate-details]'), /already stored/);
  await p.click('[data-testid=link-continue]');
  const t0 = Date.now();
  await p.click('[data-testid=run]');
  const live = await p.waitForSelector('[data-testid=live-ask][data-state=streaming] [data-testid=live-text]', { timeout: 180_000 });
  assert.ok((await live.textContent()).length > 0, 'tokens show while the model writes');
  // The worker serves a round's asks together: several stream at once (one decode step feeds all).
  await p.waitForFunction(() => document.querySelectorAll('[data-testid=live-ask][data-state=streaming]').length >= 2, null, { timeout: 180_000, polling: 50 });
  await screenshot(p, 'llm-local-streaming');
  await p.waitForSelector('[data-testid=live-panel][data-running=false]', { timeout: 480_000 });
  // Prompt prefixes are reused: each agent's revision repeats its first prompt's header and question.
  const reuse = await p.$$eval('[data-testid=prefix-reuse-round]', els => els.map(e => ({ ...e.dataset })));
  console.log('prefix reuse per round:', JSON.stringify(reuse));
  assert.deepEqual(reuse.map(r => r.round), ['0', '1']);
  assert.ok(Number(reuse[1].reused) > Number(reuse[1].prompt) * 0.2, `round 1 reuses its prompts' shared prefix: ${JSON.stringify(reuse[1])}`);
  assert.ok(Number(reuse[1].savedMs) > 0);
  const wall = (Date.now() - t0) / 1000;
  const engine = await p.getAttribute('[data-testid=engine-status]', 'data-engine');
  assert.match(engine, /cpu/);
  console.log('local engine:', await p.textContent('[data-testid=engine-status]'), `· run wall time ${wall.toFixed(1)} s`);
  assert.match(await p.textContent('[data-testid=live-status]'), /finished/);
  await screenshot(p, 'llm-local-done');
  const dump = JSON.parse(await dumpIndexedDb(p));
  const run = dump.bodies.map(b => JSON.parse(b.json)).find(r => r.scenario.title === 'Local debate');
  assert.ok(run, 'the run is stored in IndexedDB');
  assert.equal(run.determinism, 'best-effort');
  const answers = run.log.events.filter(e => e.kind === 'answer');
  assert.equal(answers.length, 6, 'three first answers and three revisions');
  assert.ok(answers.every(a => a.raw.length > 0 && !a.raw.includes('could not answer')), JSON.stringify(answers.map(a => a.raw)));
  assert.deepEqual(realErrors(p), []);
});

/** Runs a one-agent, one-ask scenario on the local model; returns the engine status and the stored run. */
async function runOneAsk(p, title) {
  const scenario = {
    title,
    agents: [{ name: 'Ada', backend: 'local:smol' }],
    mechanism: { kind: 'debate', params: { rounds: 0 } },
    task: { kind: 'multiple_choice', params: { difficulty: 0.2 } },
    seed: 3,
  };
  await openApp(env, linkFor(scenario), p);
  await p.waitForSelector('[data-testid=link-gate]');
  await p.click('[data-testid=link-continue]');
  // On the CPU path three tokens stream in ~0.1 s, too briefly for polling to see: an
  // observer records the longest text shown while the ask was still streaming.
  await p.evaluate(() => {
    window.__streamed = '';
    window.__ran = false;
    new MutationObserver(() => {
      if (document.querySelector('[data-testid=live-panel][data-running=true]')) window.__ran = true;
      const t = document.querySelector('[data-testid=live-ask][data-state=streaming] [data-testid=live-text]');
      if (t && t.textContent.length > window.__streamed.length) window.__streamed = t.textContent;
    }).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  });
  await p.click('[data-testid=run]');
  // The panel of an earlier run may still say "not running": wait for this run to start and end.
  await p.waitForFunction(() => window.__ran && document.querySelector('[data-testid=live-panel][data-running=false]'), null, { timeout: 400_000, polling: 250 });
  assert.match(await p.textContent('[data-testid=live-status]'), /finished/);
  assert.ok((await p.evaluate(() => window.__streamed)).length > 0, 'tokens showed while the model wrote');
  const status = { engine: await p.getAttribute('[data-testid=engine-status]', 'data-engine'), text: await p.textContent('[data-testid=engine-status]') };
  const dump = JSON.parse(await dumpIndexedDb(p));
  const run = dump.bodies.map(b => JSON.parse(b.json)).find(r => r.scenario.title === title);
  return { status, run };
}

async function chooseEngine(p, engine, maxTokens) {
  await openApp(env, '#/models', p);
  await p.fill('[data-testid=local-max-tokens]', String(maxTokens));
  await p.selectOption('[data-testid=local-engine]', engine);
  await p.click('[data-testid=limits-save]');
  await p.waitForFunction(e => JSON.parse(localStorage.getItem('council.backends.v1')).local_engine === e, engine);
}

test('forcing WebGPU runs the model on SwiftShader (after the self-check) and streams a few tokens; auto passes the software adapter over for the CPU path; forcing CPU reports CPU', async () => {
  // One page, one worker: it reloads the model whenever the engine choice changes.
  const p = await env.newPage({ context });
  await chooseEngine(p, 'webgpu', 3);
  const gpu = await runOneAsk(p, 'Local one ask, webgpu');
  console.log('local engine (webgpu forced):', gpu.status.text);
  assert.match(gpu.status.engine, /^webgpu \(.*Cpu\)$/, `SwiftShader is a CPU-type WebGPU adapter: ${gpu.status.engine}`);
  assert.ok(gpu.run, 'the run is stored');
  const answers = gpu.run.log.events.filter(e => e.kind === 'answer');
  assert.equal(answers.length, 1);
  assert.ok(answers[0].raw.length > 0, 'the WebGPU engine wrote text');
  await screenshot(p, 'llm-local-webgpu');

  await chooseEngine(p, 'auto', 3);
  const auto = await runOneAsk(p, 'Local one ask, auto');
  console.log('local engine (auto):', auto.status.text);
  assert.match(auto.status.engine, /^cpu \(wasm.*software renderer/, `auto takes the CPU path over a software adapter: ${auto.status.engine}`);

  await chooseEngine(p, 'cpu', 3);
  const cpu = await runOneAsk(p, 'Local one ask, cpu');
  console.log('local engine (cpu):', cpu.status.text);
  assert.match(cpu.status.engine, /^cpu \(wasm [^)]*\)$/, `forcing CPU reports CPU: ${cpu.status.engine}`);
  assert.ok(cpu.run.log.events.some(e => e.kind === 'answer' && e.raw.length > 0));
  assert.deepEqual(realErrors(p), []);
});
