// App performance figures, each printed beside a named peer measured in the same run:
//   - first paint: first-contentful-paint and time until the gallery's cards are in the DOM,
//     over fresh browser contexts (cold HTTP cache), beside a static one-line HTML page
//     served by the same server;
//   - transfer: gzip -9 bytes of what the first visit loads (from the page's own resource
//     list) and of the worker bundle loaded later (models, sweeps);
//   - a 100-agent debate *run* (not an imported log) playing at 32 events/s: rAF frame
//     times, beside the same page idle;
//   - a 1,000-run sweep in the Web Worker (debate, 10 accuracies × 100 seeds), beside the
//     native CLI's `council sweep` of the same 1,000 runs.
// Usage: node tests/browser/bench-app.mjs [--loads N]   (needs dist/ and target/release/council)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { launch, openApp, DIST, CLI } from './harness.mjs';

const loads = Number(process.argv[process.argv.indexOf('--loads') + 1]) || 7;
const median = v => [...v].sort((a, b) => a - b)[v.length >> 1];
const fmt = x => x.toFixed(1);
const peerDir = fs.mkdtempSync(path.join(os.tmpdir(), 'council-bench-'));
fs.writeFileSync(path.join(peerDir, 'static.html'), '<!doctype html><meta charset="utf-8"><title>peer</title><h1>Council</h1>');
const env = await launch({ mounts: { '/peer': peerDir } });

try {
  // First paint, app vs a static page.
  const app = { fcp: [], gallery: [] }, peer = { fcp: [] };
  const fcpOf = page => page.evaluate(() => new Promise(res => {
    const e = performance.getEntriesByName('first-contentful-paint')[0];
    if (e) return res(e.startTime);
    new PerformanceObserver(l => res(l.getEntries()[0].startTime)).observe({ type: 'paint', buffered: true });
  }));
  let firstLoad = [];
  for (let i = 0; i < loads; i++) {
    const page = await env.newPage();
    await page.goto(`${env.url}/#/`);
    await page.waitForSelector('[data-scenario-id]', { timeout: 60_000 });
    app.gallery.push(await page.evaluate(() => performance.now()));
    app.fcp.push(await fcpOf(page));
    if (i === 0) firstLoad = await page.evaluate(() => performance.getEntriesByType('resource').map(r => new URL(r.name).pathname));
    await page.context().close();
    const p = await env.newPage();
    await p.goto(`${env.url}/peer/static.html`);
    peer.fcp.push(await fcpOf(p));
    await p.context().close();
  }
  console.log(`bench: first-contentful-paint  app ${fmt(median(app.fcp))} ms  | peer static page ${fmt(median(peer.fcp))} ms  (median of ${loads} cold loads)`);
  console.log(`bench: gallery cards in DOM    app ${fmt(median(app.gallery))} ms after navigation start (median; min ${fmt(Math.min(...app.gallery))}, max ${fmt(Math.max(...app.gallery))})`);

  // Transfer sizes.
  const gz = f => zlib.gzipSync(fs.readFileSync(path.join(DIST, f)), { level: 9 }).length;
  const first = ['index.html', ...firstLoad.map(p => p.replace(/^\//, '')).filter(f => f && fs.existsSync(path.join(DIST, f)))];
  const worker = fs.readdirSync(DIST).filter(f => /^council-worker/.test(f));
  const sum = fs_ => fs_.reduce((a, f) => a + gz(f), 0);
  console.log(`bench: first visit transfer    ${(sum([...new Set(first)]) / 1024).toFixed(0)} KiB gzip (${[...new Set(first)].join(', ')})`);
  console.log(`bench: worker bundle (lazy)    ${(sum(worker) / 1024).toFixed(0)} KiB gzip (${worker.join(', ')}; loaded on the first sweep or local model)`);

  // A 100-agent run animating.
  const page = await env.newPage();
  await openApp(env, '#/s/debate', page);
  await page.waitForSelector('[data-testid=run-view]');
  const frames = async ms => page.evaluate(ms => new Promise(res => {
    const f = []; let t = performance.now(); const end = t + ms;
    const tick = n => { f.push(n - t); t = n; if (n < end) requestAnimationFrame(tick); else res(f.slice(3)); };
    requestAnimationFrame(tick);
  }), ms);
  const stats = f => { const s = [...f].sort((a, b) => a - b); return `p50 ${fmt(s[s.length >> 1])} ms, p95 ${fmt(s[Math.floor(s.length * 0.95)])} ms, max ${fmt(s[s.length - 1])} ms over ${s.length} frames`; };
  const big = {
    title: 'Society of 100', agents: [...Array(100).keys()].map(i => ({ name: `A${i}`, traits: { accuracy: 0.4 + (i % 5) / 10 } })),
    topology: { kind: 'watts_strogatz', k: 3, beta: 0.1 }, mechanism: { kind: 'debate', params: { rounds: 2 } }, task: { kind: 'multiple_choice', params: {} }, seed: 7,
  };
  await page.setInputFiles('[data-testid=import-file]', { name: 'society100.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(big)) });
  await page.waitForSelector('[data-testid=editor]');
  await page.click('[data-testid=run]');
  await page.click('[data-testid=tab-watch]').catch(() => {});
  await page.waitForFunction(() => document.querySelectorAll('g[data-agent]').length === 100, null, { timeout: 60_000 });
  const idle = await frames(2000);
  await page.selectOption('[data-testid=speed]', '32');
  await page.fill('[data-testid=scrub]', '0');
  await page.click('[data-testid=play]');
  const playing = await frames(3000);
  const reached = await page.evaluate(() => window.wasmBindings.current_cursor());
  await page.click('[data-testid=play]');
  console.log(`bench: 100-agent debate run playing at 32 events/s: ${stats(playing)} (cursor reached ${reached}) | peer same page idle: ${stats(idle)}`);

  // 1,000-run sweep in the worker vs the native CLI.
  await page.click('[data-testid=nav-gallery]');
  await openApp(env, '#/s/debate', page);
  await page.waitForSelector('[data-testid=run-view]');
  await page.click('[data-testid=tab-sweep]');
  await page.selectOption('[aria-label="First swept parameter"]', 'agents.*.traits.accuracy');
  await page.fill('[data-testid=sweep-x-values]', '0.3:0.9:10');
  await page.fill('[data-testid=sweep-seeds]', '100');
  await page.press('[data-testid=sweep-seeds]', 'Tab');
  const sweepOnce = async () => {
    await page.evaluate(() => { window.__gaps = []; let t = performance.now(); window.__tick = setInterval(() => { const n = performance.now(); window.__gaps.push(n - t); t = n; }, 10); });
    const before = await page.locator('[data-testid=sweep-time]').count() ? await page.textContent('[data-testid=sweep-time]') : '';
    await page.click('[data-testid=sweep-start]');
    await page.waitForFunction(b => { const e = document.querySelector('[data-testid=sweep-time]'); return e && e.textContent !== b && /^1000 runs/.test(e.textContent); }, before, { timeout: 300_000 });
    const gap = await page.evaluate(() => { clearInterval(window.__tick); return Math.max(...window.__gaps); });
    const text = await page.textContent('[data-testid=sweep-time]');
    return { text: text.trim(), gap };
  };
  const cold = await sweepOnce(); // includes starting the worker (fetch + compile its wasm)
  const warm = await sweepOnce();
  const values = Array.from({ length: 10 }, (_, i) => 0.3 + (0.9 - 0.3) * i / 9);
  const t0 = process.hrtime.bigint();
  execFileSync(CLI, ['sweep', 'builtin:debate', '--seeds', '100', '--set', `agents.*.traits.accuracy=${values.join(',')}`, '--json'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const cliMs = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(`bench: 1,000-run sweep, first (worker start included): ${cold.text}; longest main-thread gap ${fmt(cold.gap)} ms`);
  console.log(`bench: 1,000-run sweep, again (warm worker): ${warm.text}; longest main-thread gap ${fmt(warm.gap)} ms | peer native \`council sweep\` (process included): ${fmt(cliMs)} ms`);
  if (page.errors.length) console.log(`bench: page errors: ${page.errors.join(' | ')}`);
} finally {
  await env.close();
}
