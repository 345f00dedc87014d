// The other two remote APIs end to end: a loopback server speaking Anthropic Messages (SSE
// events) and Ollama's /api/chat (NDJSON), translating to the real llama_cpp.server so the
// text is the real model's. A debate runs in Chromium on each, through an overloaded/busy
// reply that is retried; the Anthropic key travels only as x-api-key to the profile's URL,
// and never shows in exports, the link, IndexedDB, the page or the console.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { launch, openApp, screenshot } from './harness.mjs';
import { startLlamaServer, startApiTranslator, linkFor, dumpIndexedDb, presetSettings, testKey } from './llm-helpers.mjs';

const { key: KEY, core: KEY_CORE } = testKey('ant-council-test-');
const WRONG = testKey('ant-wrong-');

let env, llama, api;
const consoleLines = [];
const realErrors = p => p.errors.filter(e => !/Failed to load resource/.test(e));

before(async () => {
  env = await launch();
  llama = await startLlamaServer();
  api = await startApiTranslator(llama.url, KEY);
});
after(async () => {
  await env?.close();
  await api?.close();
  llama?.kill();
});

function scenarioFor(backend, title) {
  return {
    title,
    agents: [{ name: 'Ada', backend }, { name: 'Ben', backend }, { name: 'Cy', backend }],
    mechanism: { kind: 'debate', params: { rounds: 1 } },
    task: { kind: 'multiple_choice', params: { difficulty: 0.2 } },
    seed: 4,
  };
}

const settings = () => ({
  profiles: [
    { name: 'claude', kind: 'anthropic', url: api.url, key: KEY, model: 'smollm2', max_tokens: 24, temperature: 0, price_in: 0.8, price_out: 4 },
    { name: 'olla', kind: 'ollama', url: api.url, key: '', model: 'smollm2', max_tokens: 24, temperature: 0, price_in: 0, price_out: 0 },
  ],
  max_remote_calls: 50, timeout_s: 30, max_attempts: 3, local_max_tokens: 24,
});

/** Runs `scenario` by link in a fresh context; returns the page and the stored run. */
async function runIt(scenario) {
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  await presetSettings(context, settings());
  const p = await env.newPage({ context });
  p.on('console', m => consoleLines.push(m.text()));
  await openApp(env, linkFor(scenario), p);
  await p.waitForSelector('[data-testid=link-gate]');
  await p.click('[data-testid=link-continue]');
  await p.click('[data-testid=run]');
  const retry = await p.waitForSelector('[data-testid=live-ask][data-state=retrying] [data-testid=live-retry]', { timeout: 30_000 });
  const retryText = await retry.textContent();
  const streaming = await p.waitForSelector('[data-testid=live-ask][data-state=streaming] [data-testid=live-text]', { timeout: 60_000 });
  assert.ok((await streaming.textContent()).length > 0, 'text shows while the reply streams');
  await p.waitForSelector('[data-testid=live-panel][data-running=false]', { timeout: 150_000 });
  assert.match(await p.textContent('[data-testid=live-status]'), /finished/);
  const dump = JSON.parse(await dumpIndexedDb(p));
  const run = dump.bodies.map(b => JSON.parse(b.json)).find(r => r.scenario.title === scenario.title);
  assert.ok(run, 'the run is stored');
  const asks = run.log.events.filter(e => e.kind === 'ask');
  const answers = run.log.events.filter(e => e.kind === 'answer');
  assert.equal(answers.length, 6, 'three answers and three revisions');
  assert.equal(answers.length, asks.length, 'every ask has its recorded reply');
  assert.ok(answers.every(a => a.raw.length > 0 && !a.raw.includes('⚠')), JSON.stringify(answers.map(a => a.raw)));
  return { p, run, retryText };
}

test('Anthropic Messages: a debate streams real text through an overloaded (529) reply; the key goes only as x-api-key to the profile URL', async () => {
  api.state.seen = [];
  api.state.failNext = [529];
  const { p, retryText } = await runIt(scenarioFor('remote:claude', 'Anthropic debate'));
  assert.match(retryText, /529.*Overloaded/);
  const seen = api.state.seen;
  assert.equal(seen[0].status, 529);
  assert.ok(seen.slice(1).every(s => s.status === 200), JSON.stringify(seen));
  assert.ok(seen.every(s => s.path === '/v1/messages'), 'requests go only to the profile URL');
  assert.ok(seen.every(s => s.xApiKey === KEY && s.auth === '' && s.version === '2023-06-01'), 'the key only in x-api-key, with the API version');
  const usage = await p.$$eval('[data-testid=agent-usage]', rows => rows.map(r => r.textContent));
  console.log('anthropic per-agent usage:', usage);
  await screenshot(p, 'llm-anthropic-done');

  const grab = async testid => {
    const [d] = await Promise.all([p.waitForEvent('download'), p.click(`[data-testid=${testid}]`)]);
    return fs.readFileSync(await d.path(), 'utf8');
  };
  const exported = [await grab('export-scenario'), await grab('export-jsonl'), await grab('export-html')];
  await p.click('[data-testid=copy-link]');
  const link = await p.inputValue('[data-testid=share-link]');
  for (const [what, text] of [['scenario export', exported[0]], ['JSONL export', exported[1]], ['HTML export', exported[2]],
    ['share link', link], ['IndexedDB', await dumpIndexedDb(p)], ['console', consoleLines.join('\n')], ['page', await p.content()]]) {
    assert.ok(!text.includes(KEY_CORE), `${what} contains the test key`);
  }
  assert.deepEqual(realErrors(p), []);
});

test('Ollama /api/chat: a debate streams real NDJSON text through a busy (503) reply, with no key header', async () => {
  api.state.seen = [];
  api.state.failNext = [503];
  const { p, retryText } = await runIt(scenarioFor('remote:olla', 'Ollama debate'));
  assert.match(retryText, /503/);
  const seen = api.state.seen;
  assert.equal(seen[0].status, 503);
  assert.ok(seen.slice(1).every(s => s.status === 200), JSON.stringify(seen));
  assert.ok(seen.every(s => s.path === '/api/chat' && s.auth === '' && s.xApiKey === ''), JSON.stringify(seen));
  const usage = await p.$$eval('[data-testid=agent-usage]', rows => rows.map(r => r.textContent));
  console.log('ollama per-agent usage:', usage);
  assert.ok(!consoleLines.join('\n').includes(KEY_CORE));
  assert.deepEqual(realErrors(p), []);
});

test('Anthropic with a wrong key (401, authentication_error): a clear stop per agent, no more calls, the key nowhere', async () => {
  api.state.seen = [];
  api.state.failNext = [];
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 } });
  const wrong = settings();
  wrong.profiles[0].key = WRONG.key;
  await presetSettings(context, wrong);
  const p = await env.newPage({ context });
  p.on('console', m => consoleLines.push(m.text()));
  await openApp(env, linkFor(scenarioFor('remote:claude', 'Anthropic wrong key')), p);
  await p.click('[data-testid=link-continue]');
  await p.click('[data-testid=run]');
  await p.waitForSelector('[data-testid=live-panel][data-running=false]', { timeout: 60_000 });
  const errs = await p.$$eval('[data-testid=live-error]', els => els.map(e => e.textContent));
  assert.ok(errs.length > 0 && errs.every(e => /refused|not called/.test(e)), errs.join(' | '));
  assert.ok(api.state.seen.length <= 3 && api.state.seen.every(s => s.status === 401), JSON.stringify(api.state.seen));
  const page = await p.content();
  assert.ok(page.includes('invalid x-api-key'), 'the API\'s own sentence shows on the page');
  for (const secret of [WRONG.core, KEY_CORE]) {
    assert.ok(!page.includes(secret) && !(await dumpIndexedDb(p)).includes(secret) && !consoleLines.join('\n').includes(secret));
  }
});
