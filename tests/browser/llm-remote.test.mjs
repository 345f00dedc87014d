// Remote LLM agents end to end: a ReConcile round table whose agents call a real
// OpenAI-compatible server (llama-cpp-python's llama_cpp.server on the test model) from
// Chromium, streaming; then the faults a real API throws — 429 then 200, a wrong key
// (401), the server killed mid-stream — each showing the right state without losing the
// transcript; and a scan of everything the app writes or shows for the test key.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { launch, openApp, screenshot } from './harness.mjs';
import { startLlamaServer, startProxy, linkFor, dumpIndexedDb, presetSettings, testKey } from './llm-helpers.mjs';

const { key: KEY, core: KEY_CORE } = testKey('council-test-');

const scenario = {
  title: 'Remote round table',
  agents: [
    { name: 'Ada', role: 'Careful.', backend: 'remote:llama' },
    { name: 'Ben', backend: 'remote:llama' },
    { name: 'Cy', backend: 'remote:llama' },
  ],
  mechanism: { kind: 'reconcile', params: { rounds: 1 } },
  task: { kind: 'multiple_choice', params: { difficulty: 0.2 } },
  seed: 5,
};

function settingsFor(url, extra = {}) {
  return {
    profiles: [{ name: 'llama', kind: 'openai', url: `${url}/v1`, key: KEY, model: 'smollm2', max_tokens: 24, temperature: 0, price_in: 0.5, price_out: 1.5 }],
    max_remote_calls: 50, timeout_s: 30, max_attempts: 3, local_max_tokens: 24, ...extra,
  };
}

let env, llama, proxy;
const consoleLines = [];
/** Page errors other than resource loads (a missing favicon, requests the fault cases cut). */
const realErrors = p => p.errors.filter(e => !/Failed to load resource/.test(e));

before(async () => {
  env = await launch();
  llama = await startLlamaServer();
  proxy = await startProxy(llama.url);
});
after(async () => {
  await env?.close();
  await proxy?.close();
  llama?.kill();
});

async function page(settings) {
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  if (settings) await presetSettings(context, settings);
  const p = await env.newPage({ context });
  p.on('console', m => consoleLines.push(m.text()));
  return p;
}

/** Opens the scenario by link, accepts the gate, presses Run; resolves when the run ends. */
async function runByLink(p, { expectGate = /llama/ } = {}) {
  await openApp(env, linkFor(scenario), p);
  await p.waitForSelector('[data-testid=link-gate]');
  assert.match(await p.textContent('[data-testid=gate-details]'), expectGate);
  assert.equal(proxy.state.seen.length, 0, 'nothing is called before the click');
  await p.click('[data-testid=link-continue]');
  await p.click('[data-testid=run]');
  await p.waitForSelector('[data-testid=live-panel]');
}

async function waitEnd(p, timeout = 150_000) {
  await p.waitForSelector('[data-testid=live-panel][data-running=false]', { timeout });
  return p.textContent('[data-testid=live-status]');
}

async function storedRuns(p) {
  await p.waitForFunction(async () => {
    const db = await new Promise(r => { const q = indexedDB.open('council'); q.onsuccess = () => r(q.result); });
    if (!Array.from(db.objectStoreNames).includes('bodies')) return false;
    const n = await new Promise(r => { const q = db.transaction('bodies').objectStore('bodies').count(); q.onsuccess = () => r(q.result); });
    db.close();
    return n > 0;
  }, null, { timeout: 20_000 });
  const dump = JSON.parse(await dumpIndexedDb(p));
  return dump.bodies.map(b => JSON.parse(b.json));
}

function answers(run) {
  return run.log.events.filter(e => e.kind === 'answer');
}

test('a ReConcile round table runs against llama_cpp.server with streaming, set up through the UI', async () => {
  proxy.state.mode = 'pass';
  proxy.state.seen = [];
  const p = await page(null);
  await openApp(env, '#/models', p);
  await p.fill('[data-testid=profile-name]', 'llama');
  await p.selectOption('[data-testid=profile-kind]', 'openai');
  await p.fill('[data-testid=profile-url]', `${proxy.url}/v1`);
  await p.fill('[data-testid=profile-key]', KEY);
  await p.fill('[data-testid=profile-model]', 'smollm2');
  await p.fill('[data-testid=profile-max-tokens]', '24');
  await p.fill('[data-testid=profile-price-in]', '0.5');
  await p.fill('[data-testid=profile-price-out]', '1.5');
  await p.click('[data-testid=profile-save]');
  await p.waitForSelector('[data-testid=profile-row][data-profile=llama]');
  assert.ok(!(await p.content()).includes(KEY_CORE), 'the key is not shown after saving');

  await runByLink(p, { expectGate: new RegExp(`llama.*${proxy.url.replace(/[.:/]/g, '.')}`) });
  // Text appears while the reply is still streaming.
  const streaming = await p.waitForSelector('[data-testid=live-ask][data-state=streaming] [data-testid=live-text]', { timeout: 60_000 });
  const partial = await streaming.textContent();
  assert.ok(partial.length > 0, 'streamed text shows before the reply ends');
  await screenshot(p, 'llm-remote-streaming');
  const status = await waitEnd(p);
  assert.match(status, /finished/);
  await screenshot(p, 'llm-remote-done');

  // Figures from the live panel: time to first text per ask.
  const lines = await p.$$eval('[data-testid=live-ask] .who', els => els.map(e => e.textContent));
  console.log('remote live asks (last wave):', lines);
  const usage = await p.$$eval('[data-testid=agent-usage]', rows => rows.map(r => r.textContent));
  console.log('remote per-agent usage:', usage);
  assert.equal(usage.length, 3);
  // llama_cpp.server 0.3.36 sends no usage in streams: tokens are estimated, and say so.
  assert.ok(usage.every(u => /reported|estimated/.test(u) && /\$0\.\d+/.test(u)), usage.join(' | '));

  const runs = await storedRuns(p);
  assert.equal(runs.length, 1);
  const run = runs[0];
  assert.equal(run.determinism, 'recorded');
  const ans = answers(run);
  const asks = run.log.events.filter(e => e.kind === 'ask');
  // A real model may agree unanimously in round 0, and ReConcile then stops: one wave of 3 asks.
  assert.ok(ans.length >= 3 && ans.length === asks.length, `every ask has its recorded reply (${ans.length}/${asks.length})`);
  const unanimousStop = run.log.events.some(e => e.kind === 'note' && /Consensus/.test(e.text ?? ''));
  assert.ok(ans.length >= 6 || unanimousStop, 'a second round ran, or the table stopped at consensus and said so');
  assert.ok(ans.every(a => a.raw.length > 0 && !a.raw.includes('could not answer')), 'real model text in every reply');
  assert.ok(run.log.events.some(e => e.kind === 'decision' && e.final), 'a final decision');
  assert.ok(proxy.state.seen.every(s => s.path === '/v1/chat/completions' && s.status === 200), JSON.stringify(proxy.state.seen));
  assert.ok(proxy.state.seen.every(s => s.auth === `Bearer ${KEY}`), 'the key goes only to the profile URL, as a bearer header');
  // The transcript shows the recorded replies.
  await p.click('[data-testid=tab-watch]');
  const [len, cursor] = await p.evaluate(() => [window.wasmBindings.current_log_len(), window.wasmBindings.current_cursor()]);
  assert.equal(len, run.log.events.length, 'the views show the stored log');
  assert.equal(cursor, len, 'the views followed the live run to its end');

  // (c) Exports, link, IndexedDB and console never hold the key.
  const grab = async testid => {
    const [d] = await Promise.all([p.waitForEvent('download'), p.click(`[data-testid=${testid}]`)]);
    return fs.readFileSync(await d.path(), 'utf8');
  };
  const exported = [await grab('export-scenario'), await grab('export-jsonl'), await grab('export-html')];
  await p.click('[data-testid=copy-link]');
  const link = await p.inputValue('[data-testid=share-link]');
  const idb = await dumpIndexedDb(p);
  for (const [what, text] of [['scenario export', exported[0]], ['JSONL export', exported[1]], ['HTML export', exported[2]],
    ['share link', link], ['IndexedDB', idb], ['console', consoleLines.join('\n')], ['page', await p.content()]]) {
    assert.ok(!text.includes(KEY_CORE), `${what} contains the test key`);
  }
  assert.ok(exported[1].includes('"kind":"answer"'), 'the JSONL export holds the recorded replies');
  assert.deepEqual(realErrors(p), []);
});

test('429 then 200: the ask shows it is retrying, then completes; nothing is lost', async () => {
  proxy.state.mode = 'once429';
  proxy.state.counts429 = 0;
  proxy.state.seen = [];
  const p = await page(settingsFor(proxy.url));
  await runByLink(p);
  const retry = await p.waitForSelector('[data-testid=live-ask][data-state=retrying] [data-testid=live-retry]', { timeout: 30_000 });
  assert.match(await retry.textContent(), /429.*slow down/);
  assert.match(await waitEnd(p), /finished/);
  assert.equal(proxy.state.seen[0].status, 429);
  assert.ok(proxy.state.seen.slice(1).every(s => s.status === 200));
  const run = (await storedRuns(p))[0];
  assert.ok(answers(run).every(a => !a.raw.includes('could not answer')), 'the retried ask got its real reply');
  assert.equal(await p.$$eval('[data-testid=agent-usage][data-error]:not([data-error=""])', r => r.length), 0);
  assert.deepEqual(realErrors(p), []);
});

test('a wrong key (401): a clear error per agent, the key redacted, no more calls to that profile', async () => {
  proxy.state.mode = 'unauthorized';
  proxy.state.seen = [];
  const p = await page(settingsFor(proxy.url));
  await runByLink(p);
  assert.match(await waitEnd(p), /finished/);
  const errs = await p.$$eval('[data-testid=live-error]', els => els.map(e => e.textContent));
  assert.ok(errs.length > 0 && errs.every(e => /refused|not called/.test(e)), errs.join(' | '));
  const page401 = await p.content();
  assert.ok(page401.includes('Incorrect API key provided: ***'), 'the API message shows, with the key redacted');
  assert.ok(!page401.includes(KEY_CORE));
  // The first wave's three concurrent asks hit the 401; after that the profile is not called.
  assert.ok(proxy.state.seen.length <= 3, `calls after the refusal: ${proxy.state.seen.length}`);
  const run = (await storedRuns(p))[0];
  const ans = answers(run);
  assert.ok(ans.length >= 3 && ans.every(a => a.answer === null), 'every reply is kept, unparsed');
  assert.ok(run.log.events.some(e => e.kind === 'error'), 'error events in the log');
  assert.ok(run.metrics.some(([k, v]) => k === 'unparsed' && v === ans.length), JSON.stringify(run.metrics));
  assert.ok(!(await dumpIndexedDb(p)).includes(KEY_CORE));
  assert.ok(!consoleLines.join('\n').includes(KEY_CORE));
  await screenshot(p, 'llm-remote-401');
});

test('the server killed mid-stream: the partial text is kept and the agent marked; the run ends cleanly', async () => {
  const victim = await startLlamaServer();
  const kproxy = await startProxy(victim.url);
  kproxy.state.mode = 'kill';
  kproxy.state.onKill = () => victim.kill();
  try {
    const p = await page(settingsFor(kproxy.url, { max_attempts: 2 }));
    await openApp(env, linkFor(scenario), p);
    await p.click('[data-testid=link-continue]');
    await p.click('[data-testid=run]');
    assert.match(await waitEnd(p, 90_000), /finished/);
    assert.equal(kproxy.state.killed, true);
    const run = (await storedRuns(p))[0];
    const ans = answers(run);
    const cut = ans.filter(a => a.raw.includes('was cut off'));
    assert.ok(cut.length >= 1, 'the reply that was streaming when the server died keeps its text: ' + JSON.stringify(ans.map(a => a.raw)));
    assert.ok(cut[0].raw.split('⚠')[0].trim().length > 0, 'partial text before the error note');
    assert.ok(ans.every(a => a.answer === null || !a.raw.includes('⚠')), 'failed asks are unparsed, never guessed');
    const errs = await p.$$eval('[data-testid=agent-usage]', rows => rows.map(r => r.getAttribute('data-error')));
    assert.ok(errs.some(e => /network|no data|attempts/.test(e)), errs.join(' | '));
    await screenshot(p, 'llm-remote-killed');
    assert.deepEqual(realErrors(p), []);
  } finally {
    victim.kill();
    await kproxy.close();
  }
});
