// Learned orchestration in the page: the training view trains the conductor's policy with
// burn in the training worker (WebGPU on SwiftShader here; burn's CPU backend where there is
// no adapter), the reward curve rises, the policy lands in IndexedDB, survives a reload, and
// a scenario's conductor follows it. Also: nothing of the training bundle is fetched before
// the view starts something, and the CPU backend trains too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { launch, openApp, screenshot } from './harness.mjs';

let env;
before(async () => { env = await launch(); });
after(async () => { await env?.close(); });

const STEPS = Number(process.env.COUNCIL_TRAIN_STEPS || 200);
const mean = a => a.reduce((s, x) => s + x, 0) / a.length;

async function setField(page, id, value) {
  const el = page.locator(`[data-testid=${id}]`);
  await el.fill(String(value));
  await el.dispatchEvent('change');
}

// Requests the page and its workers made for the training bundle. Playwright's request events
// include a dedicated worker's own fetches (the wasm is fetched inside the worker, so the
// page's resource timing never lists it).
function watchTrainFetches(page) {
  const seen = [];
  page.on('request', r => { if (r.url().includes('council-train')) seen.push(r.url()); });
  return () => [...seen];
}

async function train(page, { steps, batch, backend }) {
  await setField(page, 'train-steps', steps);
  await setField(page, 'train-batch', batch);
  await page.selectOption('[data-testid=train-backend]', backend);
  await page.click('[data-testid=train-start]');
  await page.waitForFunction(() => /finished/.test(document.querySelector('[data-testid=train-status]')?.textContent || ''),
    null, { timeout: 540_000, polling: 500 });
  return JSON.parse(await page.getAttribute('[data-testid=train-curve]', 'data-rewards'));
}

async function storedPolicies(page) {
  return page.evaluate(() => new Promise((resolve, reject) => {
    const open = indexedDB.open('council');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const req = db.transaction('policies').objectStore('policies').getAll();
      req.onsuccess = () => { resolve(req.result); db.close(); };
      req.onerror = () => reject(req.error);
    };
  }));
}

test('trains a few hundred steps on WebGPU: the curve rises, the policy is stored and a scenario follows it', async () => {
  const page = await env.newPage();
  const trainFetches = watchTrainFetches(page);
  await openApp(env, '#/train', page);
  await page.waitForSelector('[data-testid=train-start]');
  assert.deepEqual(trainFetches(), [], 'the training bundle is not fetched before training starts');

  const t0 = Date.now();
  const curve = await train(page, { steps: STEPS, batch: 16, backend: 'auto' });
  const secs = (Date.now() - t0) / 1000;
  assert.equal(curve.length, STEPS);
  assert.equal(await page.getAttribute('[data-testid=train-status]', 'data-backend'), 'wgpu', 'SwiftShader gives burn a WebGPU device');
  const first = mean(curve.slice(0, 20)), last = mean(curve.slice(-40));
  console.log(`browser training (wgpu): ${STEPS} steps × 16 episodes in ${secs.toFixed(1)} s; reward ${first.toFixed(3)} -> ${last.toFixed(3)}`);
  assert.ok(last > first + 0.03, `the reward curve should rise: first 20 steps ${first.toFixed(3)}, last 40 ${last.toFixed(3)}`);
  assert.ok(trainFetches().some(n => n.endsWith('council-train_bg.wasm')), 'the training bundle loaded when training started');
  assert.ok(await page.locator('[data-testid=probe-row]').count() >= 7, 'probe choices shown');
  assert.ok(await page.locator('[data-testid=topology-graph] svg').count() >= 1, 'the plans are drawn');
  await screenshot(page, 'train-view');

  // Stored in IndexedDB, and still there after a reload.
  await page.waitForSelector('[data-testid=policy-item]');
  const stored = await storedPolicies(page);
  assert.equal(stored.length, 1);
  const policy = JSON.parse(stored[0].json);
  assert.equal(policy.format, 'council-policy');
  assert.equal(stored[0].curve.length, STEPS);
  await page.reload();
  await page.waitForSelector(`[data-testid=policy-item][data-policy="${stored[0].name}"]`);

  // Exported weights are the stored policy file.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=policy-export]')]);
  const exported = JSON.parse(fs.readFileSync(await download.path(), 'utf8'));
  assert.deepEqual(exported.worker1, policy.worker1);

  // A scenario's conductor follows the stored policy.
  await page.selectOption('[data-testid=use-scenario]', 'conductor');
  await page.click('[data-testid=policy-use]');
  await page.waitForSelector('[data-testid=run]');
  assert.match(page.url(), /#s=/);
  await page.click('[data-testid=run]');
  await page.waitForSelector('[data-testid=run-view]');
  const transcript = await page.textContent('[data-testid=transcript]');
  assert.match(transcript, new RegExp(`Policy ${stored[0].name} plans: (parallel|sequential|hierarchical)`));
  assert.equal(await page.locator('[data-testid=error-banner]').count(), 0);
  await screenshot(page, 'train-policy-in-scenario');
  assert.deepEqual(page.errors, []);
});

test('the CPU backend trains in the page too', async () => {
  const page = await openApp(env, '#/train');
  await page.waitForSelector('[data-testid=train-start]');
  const curve = await train(page, { steps: 10, batch: 8, backend: 'cpu' });
  assert.equal(curve.length, 10);
  assert.equal(await page.getAttribute('[data-testid=train-status]', 'data-backend'), 'cpu');
  assert.ok(curve.every(Number.isFinite));
  assert.deepEqual(page.errors, []);
});
