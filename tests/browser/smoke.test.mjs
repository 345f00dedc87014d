// Foundation smoke tests: the app loads cleanly, and wgpu compiled into the app's worker bundle
// reaches a WebGPU adapter and computes correctly.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { launch, openApp, screenshot } from './harness.mjs';
import { startEngineWorker } from './engine-helpers.mjs';

let env;
before(async () => { env = await launch(); });
after(async () => { await env?.close(); });

test('the app loads with zero console errors and shows the home screen', async () => {
  const page = await openApp(env);
  await page.waitForSelector('header h1');
  assert.match(await page.textContent('header h1'), /Council/);
  assert.equal(await page.evaluate(() => self.crossOriginIsolated), true, 'COOP/COEP must make the page cross-origin isolated');
  const shot = await screenshot(page, 'home');
  assert.ok(fs.statSync(shot).size > 5_000, 'screenshot written');
  assert.deepEqual(page.errors, []);
});

test('wgpu inside the worker wasm gets a WebGPU adapter and runs a WGSL dispatch correctly', async () => {
  const page = await openApp(env);
  await startEngineWorker(page);
  const report = JSON.parse(await page.evaluate(() => window.engineCall('webgpu_selftest', 1000)));
  console.log('webgpu selftest:', report);
  assert.equal(report.n, 1000);
  assert.ok(report.max_abs_error <= 1e-5, `max error ${report.max_abs_error}`);
  assert.ok(Math.abs(report.sum_gpu - report.sum_expected) < 1e-2, `sums ${report.sum_gpu} vs ${report.sum_expected}`);
  assert.equal(report.passed, true);
  assert.deepEqual(page.errors, []);
});
