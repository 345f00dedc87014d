// The browser end-to-end harness: serves the release build (dist/) on a free loopback port
// with COOP/COEP headers, launches Debian's headless Chromium with WebGPU enabled
// (SwiftShader, since CI has no GPU) and a fresh profile, and hands tests a page.
//
// Why playwright-core from Node and not a Rust CDP client: it is one npm package that needs
// no browser download, it was verified against Debian's Chromium on these machines, it gives
// console capture, screenshots, isolated contexts and request interception, and Node's
// test runner output is what CI reads. A Rust driver would add minutes to every cold build.

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStaticServer } from '../../scripts/static-server.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DIST = process.env.COUNCIL_DIST || path.join(ROOT, 'dist');
export const SHOTS = path.join(ROOT, 'target', 'screenshots');
export const CHROMIUM = process.env.COUNCIL_CHROMIUM || '/usr/bin/chromium';
export const CLI = process.env.COUNCIL_CLI || path.join(ROOT, 'target', 'release', 'council');

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',          // the one flag SwiftShader WebGPU needs
  '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

/**
 * Starts the server and the browser (`args`: extra Chromium flags). Returns { url, browser, newPage, close }.
 * Playwright's `launch` gives Chromium a fresh temporary profile. `newPage()` opens a page
 * in a new context (its own storage, like a fresh browser) unless one is passed, and
 * records console errors and page errors into `page.errors` (tests assert it is empty).
 */
export async function launch({ mounts = {}, args = [] } = {}) {
  if (!fs.existsSync(path.join(DIST, 'index.html'))) {
    throw new Error(`no app build at ${DIST}: run \`trunk build --release\` (scripts/test does)`);
  }
  const server = await startStaticServer({ root: DIST, mounts });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, ...args] })
    .catch(e => { throw new Error(`cannot start Chromium at ${CHROMIUM}: ${e.message}`); });

  async function newPage({ context = null } = {}) {
    context = context || await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    page.errors = [];
    page.on('console', m => { if (m.type() === 'error') page.errors.push(`console: ${m.text()}`); });
    page.on('pageerror', e => page.errors.push(`pageerror: ${e.message}`));
    return page;
  }

  async function close() {
    await browser.close().catch(() => {});
    await server.close();
  }
  return { url: server.url, browser, newPage, close };
}

/** Opens the app at `hash` and waits until the wasm has loaded and mounted. */
export async function openApp(env, hash = '', page = null) {
  page = page || await env.newPage();
  await page.goto(`${env.url}/${hash}`);
  await page.waitForFunction(() => window.wasmBindings !== undefined && document.querySelector('body > *') !== null,
    null, { timeout: 60_000 });
  return page;
}

/** Saves a screenshot under target/screenshots/ and returns its path. */
export async function screenshot(page, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  const file = path.join(SHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  return file;
}
