// Hostile input in the page: a sample of the hostile-input suite (tests/tests/hostile.rs)
// given to the app the way a stranger would. Forged share links (junk after the compressed
// data, a `+1` version, duplicate keys, a `javascript:` paper-card link, a deflate bomb)
// must show the error banner and leave the gallery working; hostile GGUF files added from
// a file input (bad magic, a tensor count of 2^64-1, the real test model cut short, and the
// real model with its chat template replaced by nested ranges and by list doubling) must
// end a local agent's ask with an error on the engine status line, while the page keeps
// answering (a timer keeps ticking, a click still switches views).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { launch, openApp, screenshot } from './harness.mjs';
import { TEST_MODEL, linkFor, presetSettings } from './llm-helpers.mjs';

let env;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'council-hostile-'));
before(async () => { env = await launch(); });
after(async () => {
  await env?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** `#s=1.<payload>` for `json` deflated as the app does, with `junk` after the stream. */
function rawLink(json, junk = Buffer.alloc(0), version = '1') {
  const z = Buffer.concat([zlib.deflateRawSync(Buffer.from(json), { level: 9 }), junk]);
  return `#s=${version}.${z.toString('base64url')}`;
}

/** The page answers: script runs, and a click re-renders a view. */
async function assertResponsive(page) {
  const t0 = Date.now();
  assert.equal(await page.evaluate(() => 6 * 7), 42);
  assert.ok(Date.now() - t0 < 5_000, 'the page took over 5 s to run a line of script');
}

const LINKS = [
  ['junk after the compressed data', rawLink('{"$base":"debate","$patch":{}}', Buffer.from('junk')), /junk after the compressed data/],
  ['a +1 version', rawLink('{"$base":"debate","$patch":{}}', undefined, '+1'), /not a number/],
  ['duplicate keys', rawLink('{"$base":"debate","$patch":{"seed":1,"seed":2}}'), /duplicate key "seed"/],
  ['a javascript: card link', rawLink(JSON.stringify({ $base: 'debate', $patch: { card: { paper: 'P', year: 2023, link: 'javascript:alert(1)', summary: 's', look_for: 'l' } } })), /http:\/\/ or https:\/\//],
  ['escape codes in a title', rawLink(JSON.stringify({ $base: 'debate', $patch: { title: '\u001b[2Jhi' } })), /control character/],
  ['a deflate bomb', `#s=1.${zlib.deflateRawSync(Buffer.alloc(8 << 20, 32), { level: 9 }).toString('base64url')}`, /inflates beyond/],
];

test('forged links show an error and the gallery stays usable', async () => {
  const page = await env.newPage();
  for (const [name, link, expect] of LINKS) {
    await openApp(env, link, page);
    const banner = await page.waitForSelector('[data-testid=error-banner]', { timeout: 10_000 });
    const text = await banner.textContent();
    console.log(`link with ${name}: ${text.trim().slice(0, 120)}`);
    assert.match(text, /This link cannot be opened/, name);
    assert.match(text, expect, name);
    assert.equal(await page.locator('[data-testid=link-gate]').count(), 0, `${name}: no scenario opened`);
    await assertResponsive(page);
    assert.deepEqual(page.errors, [], name);
  }
  // The javascript: card never reached the page as a link.
  assert.equal(await page.locator('a[href^="javascript:"]').count(), 0);
  await screenshot(page, 'hostile-link');
});

// --- hostile model files -------------------------------------------------------------------

const FIXED = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };

/** The real test model with its chat template replaced: the header is rewritten (key
 *  values, then tensor infos as they were, then padding to the alignment) and the tensor
 *  data copied after it unchanged. */
function withTemplate(bytes, template) {
  const u64 = p => Number(bytes.readBigUInt64LE(p));
  const nTensors = u64(8);
  const nKv = u64(16);
  const skip = (p, t) => {
    if (t in FIXED) return p + FIXED[t];
    if (t === 8) return p + 8 + u64(p);
    if (t === 9) {
      const et = bytes.readUInt32LE(p);
      const n = u64(p + 4);
      p += 12;
      if (et in FIXED) return p + n * FIXED[et];
      for (let i = 0; i < n; i++) p = skip(p, et);
      return p;
    }
    throw new Error(`GGUF value type ${t}`);
  };
  const parts = [bytes.subarray(0, 24)];
  let p = 24;
  let alignment = 32;
  for (let i = 0; i < nKv; i++) {
    const start = p;
    const keyLen = u64(p);
    const key = bytes.subarray(p + 8, p + 8 + keyLen).toString();
    p += 8 + keyLen;
    const t = bytes.readUInt32LE(p);
    const end = skip(p + 4, t);
    if (key === 'general.alignment') alignment = bytes.readUInt32LE(p + 4);
    if (key === 'tokenizer.chat_template') {
      const v = Buffer.from(template);
      const head = Buffer.alloc(4 + 8);
      head.writeUInt32LE(8, 0);
      head.writeBigUInt64LE(BigInt(v.length), 4);
      parts.push(bytes.subarray(start, p), head, v);
    } else {
      parts.push(bytes.subarray(start, end));
    }
    p = end;
  }
  const infosStart = p;
  for (let i = 0; i < nTensors; i++) {
    p += 8 + u64(p);
    const nDims = bytes.readUInt32LE(p);
    p += 4 + 8 * nDims + 4 + 8;
  }
  parts.push(bytes.subarray(infosStart, p));
  const oldData = Math.ceil(p / alignment) * alignment;
  const header = Buffer.concat(parts);
  const padded = Math.ceil(header.length / alignment) * alignment;
  return Buffer.concat([header, Buffer.alloc(padded - header.length), bytes.subarray(oldData)]);
}

function hostileModels() {
  if (!fs.existsSync(TEST_MODEL)) throw new Error(`test model missing at ${TEST_MODEL}: run scripts/setup or set COUNCIL_TEST_MODEL`);
  const real = fs.readFileSync(TEST_MODEL);
  const huge = Buffer.alloc(64);
  huge.write('GGUF', 0);
  huge.writeUInt32LE(3, 4);
  huge.writeBigUInt64LE(0xffffffffffffffffn, 8);
  return [
    ['badmagic', Buffer.concat([Buffer.from('GGML'), Buffer.alloc(4096)]), /not a GGUF file/],
    ['hugecount', huge, /tensor count is 18446744073709551615, more than the limit/],
    ['cut', real.subarray(0, 4 << 20), /GGUF truncated: tensor data/],
    ['ranges', withTemplate(real, '{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}'), /chat template failed: used up its budget/],
    ['doubling', withTemplate(real, '{% set ns = namespace(l=range(100000)|list) %}{% for i in range(64) %}{% set ns.l = ns.l + ns.l %}{% endfor %}{{ ns.l|length }}'), /chat template refused/],
  ];
}

test('hostile GGUF files end a local ask with an error and the page keeps answering', async () => {
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 } });
  await presetSettings(context, { profiles: [], max_remote_calls: 10, timeout_s: 60, max_attempts: 1, local_max_tokens: 4, local_engine: 'cpu' });
  const page = await env.newPage({ context });
  for (const [id, bytes, expect] of hostileModels()) {
    const file = path.join(dir, `${id}.gguf`);
    fs.writeFileSync(file, bytes);
    await openApp(env, '#/models', page);
    await page.fill('[data-testid=model-file-id]', id);
    await page.setInputFiles('[data-testid=model-file]', file);
    await page.waitForSelector(`[data-testid=model-row][data-model=${id}]`, { timeout: 60_000 });

    const scenario = {
      title: `Hostile model ${id}`,
      agents: [{ name: 'Ada', backend: `local:${id}` }],
      mechanism: { kind: 'debate', params: { rounds: 0 } },
      task: { kind: 'multiple_choice', params: { difficulty: 0.2 } },
      seed: 3,
    };
    await openApp(env, linkFor(scenario), page);
    await page.waitForSelector('[data-testid=link-gate]');
    await page.click('[data-testid=link-continue]');
    // A timer on the page: if the main thread froze, its ticks would stop.
    await page.evaluate(() => { window.__ticks = 0; window.__timer = setInterval(() => window.__ticks++, 50); });
    const t0 = Date.now();
    await page.click('[data-testid=run]');
    await page.waitForFunction(() => (document.querySelector('[data-testid=engine-status]')?.dataset.state || '').startsWith('error'), null, { timeout: 120_000, polling: 100 });
    const state = await page.getAttribute('[data-testid=engine-status]', 'data-state');
    console.log(`model ${id}: ${((Date.now() - t0) / 1000).toFixed(1)} s to "${state.slice(0, 140)}"`);
    assert.match(state, expect, id);
    await page.waitForSelector('[data-testid=live-panel][data-running=false]', { timeout: 60_000 });
    assert.match(await page.textContent('[data-testid=live-error]'), expect, `${id}: the ask shows why it failed`);
    assert.ok(await page.evaluate(() => window.__ticks) > 0, `${id}: the page's timers kept running`);
    await assertResponsive(page);
    await page.click('[data-testid=tab-edit]');
    await page.waitForSelector('[data-testid=tab-edit][aria-selected=true]', { timeout: 5_000 });
    if (id === 'ranges') await screenshot(page, 'hostile-model');
    assert.deepEqual(page.errors.filter(e => !/Failed to load resource/.test(e)), [], id);
  }
  await context.close();
});
