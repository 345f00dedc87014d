// Benchmark (not a test): policy-gradient training speed of the conductor's policy (burn) in
// the page's training worker, on WebGPU (SwiftShader here: a software adapter) and on burn's
// CPU backend, beside native `council train` with the same steps, batch and seed, measured in
// the same run. Steps/s include the simulated episodes each step plays (batch of them).
// Run: source scripts/lib.sh && trunk build --release &&
//      cargo build --release -p council-cli --features train &&
//      COUNCIL_CLI=target/release/council node tests/browser/bench-train.mjs
import { execFileSync } from 'node:child_process';
import { launch, openApp, CLI } from './harness.mjs';

const STEPS = Number(process.env.STEPS || 200);
const BATCH = Number(process.env.BATCH || 16);

async function setField(page, id, value) {
  const el = page.locator(`[data-testid=${id}]`);
  await el.fill(String(value));
  await el.dispatchEvent('change');
}

/** Trains in the page; seconds from the click to "finished" (worker start and bundle fetch included). */
async function pageTrain(env, backend) {
  const page = await openApp(env, '#/train');
  await page.waitForSelector('[data-testid=train-start]');
  await setField(page, 'train-steps', STEPS);
  await setField(page, 'train-batch', BATCH);
  await page.selectOption('[data-testid=train-backend]', backend);
  const t0 = Date.now();
  await page.click('[data-testid=train-start]');
  await page.waitForFunction(() => /finished/.test(document.querySelector('[data-testid=train-status]')?.textContent || ''),
    null, { timeout: 1_800_000, polling: 250 });
  const secs = (Date.now() - t0) / 1000;
  const used = await page.getAttribute('[data-testid=train-status]', 'data-backend');
  await page.close();
  return { secs, used };
}

const env = await launch();
try {
  console.log(`${env.browser.version()} · ${STEPS} steps × ${BATCH} episodes`);
  for (const backend of ['auto', 'cpu']) {
    const { secs, used } = await pageTrain(env, backend);
    console.log(`page (${used}): ${secs.toFixed(1)} s, ${(STEPS / secs).toFixed(2)} steps/s`);
  }
  for (const backend of ['cpu', 'wgpu']) {
    try {
      const out = execFileSync(CLI, ['train', '--seed', '1', '--steps', String(STEPS), '--batch', String(BATCH), '--eval-pools', '0', '--backend', backend, '--json'],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      const r = JSON.parse(out);
      console.log(`native council train (${backend}): ${r.seconds.toFixed(1)} s, ${r.steps_per_s.toFixed(2)} steps/s`);
    } catch (e) {
      console.log(`native council train (${backend}): not run (${String(e.stderr || e.message).trim().split('\n')[0]})`);
    }
  }
} finally {
  await env.close();
}
