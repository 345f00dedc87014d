// API keys at rest in the page. A key typed on the Models & keys page is kept for this tab
// only by default, sealed (AES-GCM under a non-extractable WebCrypto key) in sessionStorage;
// "remember" moves it, sealed, to localStorage; nothing the page stores (localStorage,
// sessionStorage, every IndexedDB database) ever holds it in plain text; the sealing key
// cannot be exported; a run unseals the key and sends it to the profile's URL only (a real
// llama_cpp.server behind a recording proxy); a key saved in plain text by an older version
// is sealed at start-up; "Forget all keys" drops them. The settings view says what is stored
// where (screenshot).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openApp, screenshot } from './harness.mjs';
import { startLlamaServer, startProxy, linkFor, presetSettings, testKey } from './llm-helpers.mjs';

const { key: KEY, core: KEY_CORE } = testKey('council-keys-');

const scenario = {
  title: 'Keyed pair',
  agents: [{ name: 'Ada', backend: 'remote:llama' }, { name: 'Ben', backend: 'remote:llama' }],
  mechanism: { kind: 'debate', params: { rounds: 1 } },
  task: { kind: 'multiple_choice', params: { difficulty: 0.2 } },
  seed: 4,
};

let env, llama, proxy;
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

/** Everything the page keeps: both Web Storages and every record of every IndexedDB database. */
async function everythingStored(page) {
  return page.evaluate(async () => {
    const out = { local: { ...localStorage }, session: { ...sessionStorage }, idb: {} };
    for (const { name } of await indexedDB.databases()) {
      const db = await new Promise((res, rej) => { const r = indexedDB.open(name); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
      for (const store of Array.from(db.objectStoreNames)) {
        const rows = await new Promise((res, rej) => { const r = db.transaction(store).objectStore(store).getAll(); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
        // CryptoKeys serialise to {}: describe them instead.
        out.idb[`${name}/${store}`] = rows.map(v => (v instanceof CryptoKey ? { cryptoKey: v.algorithm.name, extractable: v.extractable } : v));
      }
      db.close();
    }
    return JSON.stringify(out);
  });
}

const place = (page, name) => page.getAttribute(`[data-testid=profile-row][data-profile=${name}] [data-testid=profile-key-place]`, 'data-place');

async function saveProfile(page, { key, remember }) {
  await page.fill('[data-testid=profile-name]', 'llama');
  await page.selectOption('[data-testid=profile-kind]', 'openai');
  await page.fill('[data-testid=profile-url]', `${proxy.url}/v1`);
  await page.fill('[data-testid=profile-key]', key);
  await page.fill('[data-testid=profile-model]', 'smollm2');
  await page.fill('[data-testid=profile-max-tokens]', '8');
  if (remember !== await page.isChecked('[data-testid=profile-remember]')) await page.click('[data-testid=profile-remember]');
  await page.click('[data-testid=profile-save]');
}

/** Opens the scenario by link in `page`, runs it, waits for the end; returns the Authorization headers the proxy saw. */
async function runAndSeeAuth(page) {
  proxy.state.mode = 'pass';
  proxy.state.seen = [];
  await openApp(env, linkFor(scenario), page);
  await page.click('[data-testid=link-continue]');
  await page.click('[data-testid=run]');
  await page.waitForSelector('[data-testid=live-panel][data-running=false]', { timeout: 150_000 });
  assert.match(await page.textContent('[data-testid=live-status]'), /finished/);
  assert.ok(proxy.state.seen.length > 0 && proxy.state.seen.every(s => s.status === 200), `every call answered: ${JSON.stringify(proxy.state.seen.map(s => s.status))}`);
  return [...new Set(proxy.state.seen.map(s => s.auth))];
}

test('a typed key is sealed for this tab, moved to the device on request, used by runs, and never stored in plain text', async () => {
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const tab1 = await env.newPage({ context });
  await openApp(env, '#/models', tab1);
  await saveProfile(tab1, { key: KEY, remember: false });
  await tab1.waitForSelector('[data-testid=profile-row][data-profile=llama] [data-testid=profile-key-place][data-place=tab]');
  let stored = await everythingStored(tab1);
  assert.ok(!stored.includes(KEY_CORE), 'no plain key anywhere the page stores');
  const s1 = JSON.parse(stored);
  assert.ok(JSON.parse(s1.session['council.keys.v1']).llama.ct.length > 32, 'sealed in sessionStorage');
  assert.equal(s1.local['council.keys.v1'], undefined, 'not on the device');
  assert.equal(JSON.parse(s1.local['council.backends.v1']).profiles[0].key, '', 'settings hold no key');
  assert.deepEqual(s1.idb['council-secrets/device-keys'], [{ cryptoKey: 'AES-GCM', extractable: false }]);
  // Page script can use the sealing key but not read it out.
  const exported = await tab1.evaluate(async () => {
    const db = await new Promise(r => { const q = indexedDB.open('council-secrets'); q.onsuccess = () => r(q.result); });
    const k = await new Promise(r => { const q = db.transaction('device-keys').objectStore('device-keys').get('aes-gcm-1'); q.onsuccess = () => r(q.result); });
    try { await crypto.subtle.exportKey('raw', k); return 'exported'; } catch (e) { return e.name; }
  });
  assert.equal(exported, 'InvalidAccessError');
  assert.ok(!(await tab1.content()).includes(KEY_CORE), 'the key is not shown');
  await screenshot(tab1, 'settings-keys');

  assert.deepEqual(await runAndSeeAuth(tab1), [`Bearer ${KEY}`], 'the run unsealed the key and sent it to the profile URL');

  // Another tab of the same browser does not see a tab-only key.
  const tab2 = await env.newPage({ context });
  await openApp(env, '#/models', tab2);
  assert.equal(await place(tab2, 'llama'), 'none');

  // Remember it (no retyping): it moves to localStorage, still sealed; the other tab sees it.
  await openApp(env, '#/models', tab1);
  await tab1.click('[data-testid=profile-row][data-profile=llama] [data-testid=profile-edit]');
  assert.equal(await tab1.isChecked('[data-testid=profile-remember]'), false);
  await tab1.click('[data-testid=profile-remember]');
  await tab1.click('[data-testid=profile-save]');
  await tab1.waitForSelector('[data-testid=profile-row][data-profile=llama] [data-testid=profile-key-place][data-place=device]');
  stored = await everythingStored(tab1);
  assert.ok(!stored.includes(KEY_CORE));
  const s2 = JSON.parse(stored);
  assert.ok(JSON.parse(s2.local['council.keys.v1']).llama.ct.length > 32, 'sealed in localStorage');
  assert.equal(s2.session['council.keys.v1'], undefined, 'no longer in the tab');
  await tab2.reload();
  await tab2.waitForSelector('[data-testid=profile-row][data-profile=llama] [data-testid=profile-key-place][data-place=device]');
  assert.deepEqual(await runAndSeeAuth(tab2), [`Bearer ${KEY}`], 'the remembered key works in the other tab');
  assert.ok(!(await everythingStored(tab2)).includes(KEY_CORE), 'runs store no key either');

  // Forget all: no key anywhere, and runs now go without one.
  await openApp(env, '#/models', tab2);
  await tab2.click('[data-testid=keys-forget-all]');
  await tab2.waitForSelector('[data-testid=profile-row][data-profile=llama] [data-testid=profile-key-place][data-place=none]');
  const s3 = JSON.parse(await everythingStored(tab2));
  assert.equal(s3.local['council.keys.v1'], undefined);
  assert.deepEqual(s3.idb['council-secrets/device-keys'], [], 'the sealing key is gone too');
  assert.match(await tab2.textContent('[data-testid=storage-explainer]'), /sessionStorage.*localStorage.*IndexedDB/s);
  assert.match(await tab2.textContent('[data-testid=key-protection]'), /cannot stop a script running inside this page/);
  assert.deepEqual([...tab1.errors, ...tab2.errors].filter(e => !/Failed to load resource/.test(e)), []);
  await context.close();
});

test('a key an older version saved in plain text is sealed at start-up and still works', async () => {
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 } });
  await presetSettings(context, {
    profiles: [{ name: 'llama', kind: 'openai', url: `${proxy.url}/v1`, key: KEY, model: 'smollm2', max_tokens: 8, temperature: 0, price_in: 0, price_out: 0 }],
    max_remote_calls: 50, timeout_s: 30, max_attempts: 2, local_max_tokens: 8,
  });
  const page = await env.newPage({ context });
  await openApp(env, '#/models', page);
  await page.waitForSelector('[data-testid=profile-row][data-profile=llama] [data-testid=profile-key-place][data-place=device]');
  const stored = await everythingStored(page);
  assert.ok(!stored.includes(KEY_CORE), 'the plain key was replaced by a sealed one');
  assert.deepEqual(await runAndSeeAuth(page), [`Bearer ${KEY}`]);
  assert.deepEqual(page.errors.filter(e => !/Failed to load resource/.test(e)), []);
  await context.close();
});
