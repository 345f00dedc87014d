// XSS corpus: 68 payloads (script tags, event handlers, javascript:/data: URLs, SVG and
// MathML tricks, markdown link/image tricks, HTML entities, template-literal breakouts,
// CSS expressions, iframe srcdoc, mutation-XSS shapes...) placed in agent names and roles
// (scenario JSON import), in a shared link (encoded with the CLI's codec, which is the
// core's), and in message, note, prompt and raw-reply text (run JSONL import). Each view
// that shows them (editor, graph, transcript with every <details> open, metrics, runs page,
// the offline HTML export) is rendered, and the test asserts that nothing ran: a
// `__hit(n)` trap every payload calls, dialogs (alert/confirm/prompt), CSP violation
// reports, and no element carrying an inline `on*` handler, a javascript: link or a
// script/iframe/object/embed anywhere in the document; and that each payload's text
// is there to read (its marker `Q<n>Z` in the page's text).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { launch, openApp, CLI } from './harness.mjs';

let env;
before(async () => { env = await launch(); });
after(async () => { await env?.close(); });

const H = n => `__hit(${n})`;
const TEMPLATES = [
  n => `<script>${H(n)}</script>`,
  n => `<img src=x onerror=${H(n)}>`,
  n => `<svg onload=${H(n)}>`,
  n => `<svg><script>${H(n)}</script></svg>`,
  n => `<body onload=${H(n)}>`,
  n => `<iframe srcdoc="<script>top.__hit(${n})</script>"></iframe>`,
  n => `<iframe src="javascript:top.__hit(${n})"></iframe>`,
  n => `<a href="javascript:${H(n)}">click me</a>`,
  n => `[click me](javascript:${H(n)})`,
  n => `![image](javascript:${H(n)})`,
  n => `![x](x" onerror="${H(n)})`,
  n => `[data](data:text/html,<script>${H(n)}</script>)`,
  n => `<math><mtext><table><mglyph><style><img src=x onerror=${H(n)}>`,
  n => `<math href="javascript:${H(n)}">m</math>`,
  n => `&lt;img src=x onerror=${H(n)}&gt;`,
  n => `&#60;script&#62;${H(n)}&#60;/script&#62;`,
  n => `\${${H(n)}}`,
  n => `\`;${H(n)};\``,
  n => `</script><script>${H(n)}</script>`,
  n => `"><script>${H(n)}</script>`,
  n => `'><img src=x onerror=${H(n)}>`,
  n => `<div style="width:expression(${H(n)})">css</div>`,
  n => `<style>@import 'javascript:${H(n)}';</style>`,
  n => `<div style="background:url(javascript:${H(n)})">bg</div>`,
  n => `<object data="javascript:${H(n)}"></object>`,
  n => `<embed src="javascript:${H(n)}">`,
  n => `<details open ontoggle=${H(n)}>`,
  n => `<input autofocus onfocus=${H(n)}>`,
  n => `<video><source onerror=${H(n)}></video>`,
  n => `<audio src=x onerror=${H(n)}>`,
  n => `<marquee onstart=${H(n)}>m</marquee>`,
  n => `<form><button formaction=javascript:${H(n)}>x</button></form>`,
  n => `<meta http-equiv="refresh" content="0;url=javascript:${H(n)}">`,
  n => `<base href="javascript:${H(n)}//">`,
  n => `<svg><animate onbegin=${H(n)} attributeName=x dur=1s>`,
  n => `<svg><a xlink:href="javascript:${H(n)}"><text>x</text></a></svg>`,
  n => `<svg><image href=1 onerror=${H(n)}></svg>`,
  n => `<noscript><p title="</noscript><img src=x onerror=${H(n)}>">`,
  n => `<template><script>${H(n)}</script></template>`,
  n => `<table background="javascript:${H(n)}">`,
  n => `javascript:${H(n)}`,
  n => `JaVaScRiPt:${H(n)}`,
  n => `java\u0000script:${H(n)}`,
  n => `data:text/html;base64,${Buffer.from(`<script>${H(n)}</script>`).toString('base64')}`,
  n => `{{constructor.constructor('${H(n)}')()}}`,
  n => `<img src="x" onerror="&#x5f;&#x5f;hit(${n})">`,
  n => `<scr<script>ipt>${H(n)}</scr</script>ipt>`,
  n => `<<script>${H(n)}//<</script>`,
  n => `<IMG SRC=x ONERROR=${H(n)}>`,
  n => `<img src=x onerror=alert(${n})>`,
  n => `<script>confirm(${n})</script>`,
  n => `"onmouseover="${H(n)}`,
  n => `' onfocus='${H(n)}' autofocus='`,
  n => `\u2028\u2029<script>${H(n)}</script>`,
  n => `</title><script>${H(n)}</script>`,
  n => `</textarea><script>${H(n)}</script>`,
  n => `]]><script>${H(n)}</script>`,
  n => `<!--<img src="--><img src=x onerror=${H(n)}//">`,
  n => `<svg/onload=${H(n)}>`,
  n => `<img src=x:${n} onerror=eval('__hit('+src.slice(2)+')')>`,
  n => `*[x](javascript:${H(n)})*`,
  n => `\`<script>${H(n)}</script>\``,
  n => `\n\`\`\`\n<script>${H(n)}</script>\n\`\`\``,
  n => `\n- <img src=x onerror=${H(n)}>`,
  n => `<a href="&#106;avascript:${H(n)}">e</a>`,
  n => `<link rel=import href="data:text/html,<script>${H(n)}</script>">`,
  n => `<isindex type=image src=1 onerror=${H(n)}>`,
  n => `<xss onafterscriptexecute=${H(n)}><script>1</script>`,
];
const marker = n => `Q${n}Z`;
const PAYLOADS = TEMPLATES.map((t, n) => `${marker(n)} ${t(n)}`);

// Every frame (srcdoc iframes included) gets the trap before any page script runs.
const TRAP = () => {
  const hits = (window.top.__xss ||= []);
  window.__hit = n => hits.push(`hit ${n}`);
  document.addEventListener('securitypolicyviolation', e => hits.push(`csp ${e.violatedDirective}`));
};

async function trappedPage({ bypassCSP = false } = {}) {
  const context = bypassCSP ? await env.browser.newContext({ bypassCSP: true }) : null;
  const page = await env.newPage({ context });
  await page.addInitScript(TRAP);
  page.dialogs = [];
  page.on('dialog', d => { page.dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  return page;
}

// Nothing ran, and nothing executable was put into the document.
async function assertInert(page, where) {
  await page.waitForTimeout(300); // let onerror/onload of anything inserted fire
  const report = await page.evaluate(() => {
    const bad = [];
    for (const el of document.querySelectorAll('*')) {
      for (const a of el.attributes) {
        if (/^on/i.test(a.name)) bad.push(`<${el.tagName.toLowerCase()} ${a.name}>`);
        if (/^(href|src|action|formaction|xlink:href|data)$/i.test(a.name) && /^[\s\0]*(javascript|data|vbscript):/i.test(a.value)) {
          bad.push(`<${el.tagName.toLowerCase()} ${a.name}=${a.value.slice(0, 40)}>`);
        }
      }
    }
    // The app renders into <main>; content never brings elements of these kinds into it.
    // (The offline export has no <main>: its two scripts are counted by the caller.)
    const content = document.querySelector('main');
    for (const el of content ? content.querySelectorAll('script, iframe, object, embed, base, meta, link, style, img, video, audio, math, form, marquee, template') : []) {
      bad.push(`<${el.tagName.toLowerCase()}> in content`);
    }
    return { hits: window.__xss || [], bad };
  });
  assert.deepEqual(report.hits, [], `${where}: script ran`);
  assert.deepEqual(page.dialogs, [], `${where}: a dialog opened`);
  assert.deepEqual(report.bad, [], `${where}: executable markup in the document`);
}

// All text a reader can see: text nodes, SVG <title>s, form values, accessible labels.
async function visibleText(page) {
  return page.evaluate(() => {
    document.querySelectorAll('details').forEach(d => { d.open = true; });
    const parts = [document.body.textContent];
    document.querySelectorAll('input, textarea').forEach(i => parts.push(i.value));
    document.querySelectorAll('[aria-label]').forEach(e => parts.push(e.getAttribute('aria-label')));
    return parts.join('\n');
  });
}

function assertMarkersShown(text, indices, where) {
  const missing = indices.filter(n => !text.includes(marker(n)));
  assert.deepEqual(missing, [], `${where}: these payloads are not shown as text`);
}

// Scenarios refuse control characters (one-line fields all of them, multi-line fields all
// but newline and tab; tests/tests/hostile.rs checks the refusal), so in scenario files and
// links a payload that carries one goes into one-line fields as its marker only, and into
// multi-line fields with those characters dropped. The run-log import below keeps them.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const oneLine = (s, fallback) => (CONTROL.test(s) ? fallback : s);
const multiLine = s => s.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '');

// A scenario whose agents carry payloads: names where they fit in 64 bytes, all as roles.
function scenarioWith(indices, title) {
  const agents = indices.map(n => ({
    name: Buffer.byteLength(PAYLOADS[n]) <= 64 ? oneLine(PAYLOADS[n], `${marker(n)} agent`) : `${marker(n)} agent`,
    role: multiLine(PAYLOADS[n]),
    traits: { accuracy: 0.6 },
  }));
  return {
    title: oneLine(title, title.split(' ')[0]), description: multiLine(PAYLOADS.join(' | ')).slice(0, 3900),
    agents,
    mechanism: { kind: 'debate', params: { rounds: 1 } },
    task: { kind: 'multiple_choice', params: {} },
    seed: 3,
  };
}

const indices = [...PAYLOADS.keys()];
const halves = [indices.slice(0, 34), indices.slice(34)];

test(`the corpus has at least 50 distinct payloads (${PAYLOADS.length})`, () => {
  assert.ok(new Set(PAYLOADS).size >= 50);
});

test('the traps work: payloads inserted as HTML do fire (so a silent run below means inert)', async () => {
  // With the page's Content-Security-Policy set aside, so the handlers can run at all.
  const page = await trappedPage({ bypassCSP: true });
  await openApp(env, '#/about', page);
  // img onerror, an entity-encoded handler, an alert (Chromium runs neither <svg onload> nor
  // <script> inserted through innerHTML, so those are not used for this check).
  await page.evaluate(ps => { const d = document.createElement('div'); d.innerHTML = ps.join(''); document.querySelector('main').appendChild(d); }, [1, 45, 49].map(n => PAYLOADS[n]));
  await page.waitForFunction(() => (window.__xss || []).length >= 2, null, { timeout: 10_000 });
  assert.deepEqual((await page.evaluate(() => window.__xss)).sort(), ['hit 1', 'hit 45']);
  await page.waitForTimeout(200);
  assert.deepEqual(page.dialogs, ['49']);
  await assert.rejects(assertInert(page, 'self-check'), /script ran/);
  await page.context().close();
});

test("under the page's CSP the same inserted payloads do not run, and the trap reports the refusal", async () => {
  const page = await trappedPage();
  await openApp(env, '#/about', page);
  await page.evaluate(ps => { const d = document.createElement('div'); d.innerHTML = ps.join(''); document.querySelector('main').appendChild(d); }, [1, 45, 49].map(n => PAYLOADS[n]));
  await page.waitForFunction(() => (window.__xss || []).length >= 3, null, { timeout: 10_000 });
  await page.waitForTimeout(200);
  const seen = await page.evaluate(() => window.__xss);
  assert.ok(seen.every(s => s === 'csp script-src-attr'), `only CSP refusals: ${seen}`);
  assert.deepEqual(page.dialogs, []);
  await page.context().close();
});

test('payloads in agent names and roles (scenario JSON import): editor, graph, transcript, runs page, HTML export', async () => {
  for (const [h, part] of halves.entries()) {
    const page = await trappedPage();
    await openApp(env, '#/s/debate', page);
    await page.waitForSelector('[data-testid=run-view]');
    const scenario = scenarioWith(part, `${PAYLOADS[part[0]]}`);
    await page.setInputFiles('[data-testid=import-file]', { name: `xss${h}.json`, mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(scenario)) });
    await page.waitForSelector('[data-testid=editor]');
    await assertInert(page, `editor (part ${h})`);
    assertMarkersShown(await visibleText(page), part, `editor (part ${h})`);

    await page.click('[data-testid=run]');
    await page.click('[data-testid=tab-watch]').catch(() => {});
    await page.waitForFunction(k => document.querySelectorAll('g[data-agent]').length === k, part.length);
    await page.click('[data-testid=jump-decision]').catch(() => {});
    await assertInert(page, `watch (part ${h})`);
    assertMarkersShown(await visibleText(page), part, `graph and transcript (part ${h})`);

    const [dl] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=export-html]')]);
    const html = fs.readFileSync(await dl.path(), 'utf8');
    const offline = await trappedPage();
    await offline.route('**/*', r => r.abort());
    await offline.setContent(html);
    await offline.waitForFunction(k => document.querySelectorAll('#g g').length >= k, part.length);
    const offText = await offline.evaluate(() => [...document.querySelectorAll('#g title, #g text, h1, title')].map(e => e.textContent).join('\n'));
    assert.ok(offText.includes(marker(part[0])), 'the exported title shows the payload as text');
    await assertInert(offline, `HTML export (part ${h})`);
    const offBad = await offline.evaluate(() => document.querySelectorAll('script').length);
    assert.equal(offBad, 2, 'the export holds only its own two scripts (data and player)');

    await page.click('[data-testid=nav-runs]');
    await page.waitForSelector('[data-testid=run-item]');
    await assertInert(page, `runs page (part ${h})`);
    assert.ok((await visibleText(page)).includes(marker(part[0])), 'the stored run is listed under its payload title');
    assert.deepEqual(page.errors.filter(e => !/Content Security Policy|Failed to load resource/.test(e)), []);
    await page.context().close();
    await offline.context().close();
  }
});

test('payloads in message, note, prompt and raw-reply text (run JSONL import) stay text in the transcript', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'council-xss-'));
  const logFile = path.join(dir, 'debate.jsonl');
  execFileSync(CLI, ['run', 'builtin:debate', '--log', logFile]);
  const lines = fs.readFileSync(logFile, 'utf8').trim().split('\n');
  const events = lines.map(l => JSON.parse(l));
  const lastRound = events[events.length - 1].round;
  for (const n of indices) {
    const push = e => events.push({ seq: events.length, round: lastRound, ...e });
    switch (n % 4) {
      case 0: push({ kind: 'note', text: PAYLOADS[n] }); break;
      case 1: push({ kind: 'message', from: n % 5, to: [(n + 1) % 5, (n + 2) % 5], msg_kind: 'critique', text: PAYLOADS[n] }); break;
      case 2: push({ kind: 'ask', agent: n % 5, purpose: 'answer', prompt: PAYLOADS[n] }); break;
      default: push({ kind: 'answer', agent: n % 5, answer: 'B', confidence: 0.5, raw: PAYLOADS[n], tokens: 1, purpose: 'answer' });
    }
  }
  const jsonl = events.map(e => JSON.stringify(e)).join('\n') + '\n';
  const page = await trappedPage();
  await openApp(env, '#/s/debate', page);
  await page.waitForSelector('[data-testid=run-view]');
  await page.setInputFiles('[data-testid=import-file]', { name: 'xss.jsonl', mimeType: 'application/x-ndjson', buffer: Buffer.from(jsonl) });
  await page.waitForFunction(k => Number(window.wasmBindings.current_log_len()) === k, events.length);
  await page.click('[data-testid=jump-decision]').catch(() => {});
  await page.fill('[data-testid=scrub]', String(events.length));
  await page.waitForSelector(`[data-testid=transcript] li[data-seq="${events.length - 1}"]`);
  await assertInert(page, 'transcript');
  const text = await page.evaluate(() => {
    document.querySelectorAll('[data-testid=transcript] details').forEach(d => { d.open = true; });
    return document.querySelector('[data-testid=transcript]').textContent;
  });
  assertMarkersShown(text, indices, 'transcript');
  await assertInert(page, 'transcript with every prompt and raw reply open');
  // Text without markup survives verbatim (no entity decoding, no stripping).
  assert.ok(text.includes('&lt;img src=x onerror=__hit(14)&gt;'), 'entities are shown as typed');
  assert.ok(text.includes('<script>__hit(0)</script>'), 'tags are shown as typed');

  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=export-html]')]);
  const offline = await trappedPage();
  await offline.route('**/*', r => r.abort());
  await offline.setContent(fs.readFileSync(await dl.path(), 'utf8'));
  await offline.waitForSelector('#t li');
  // The offline player shows notes and messages in full, asks and answers as one-line summaries.
  assertMarkersShown(await offline.textContent('#t'), indices.filter(n => n % 4 < 2), 'HTML export transcript');
  await assertInert(offline, 'HTML export of the imported log');
  assert.deepEqual(page.errors, []);
  await page.context().close();
  await offline.context().close();
});

test('payloads in a shared link open as text in the editor and run without executing', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'council-xss-'));
  for (const [h, part] of halves.entries()) {
    const file = path.join(dir, `s${h}.json`);
    fs.writeFileSync(file, JSON.stringify(scenarioWith(part, PAYLOADS[part[part.length - 1]])));
    const link = execFileSync(CLI, ['link', 'encode', file], { encoding: 'utf8' }).trim();
    const hash = link.slice(link.indexOf('#'));
    assert.match(hash, /^#s=/);
    const page = await trappedPage();
    await openApp(env, hash, page);
    await page.waitForSelector('[data-testid=editor]');
    await assertInert(page, `link editor (part ${h})`);
    assertMarkersShown(await visibleText(page), part, `link editor (part ${h})`);
    await page.click('[data-testid=run]');
    await page.click('[data-testid=tab-watch]').catch(() => {});
    await page.waitForFunction(k => document.querySelectorAll('g[data-agent]').length === k, part.length);
    await assertInert(page, `link run (part ${h})`);
    assertMarkersShown(await visibleText(page), part, `link run (part ${h})`);
    // Copying the link back keeps the payloads inert too (the URL is updated in place).
    await page.click('[data-testid=copy-link]').catch(() => {});
    await assertInert(page, `link copy (part ${h})`);
    assert.deepEqual(page.errors.filter(e => !/clipboard/i.test(e)), []);
    await page.context().close();
  }
});

test('a shared paper card whose URL is javascript: or data: is shown as text, never as a link', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'council-xss-'));
  for (const [mark, link] of [[90, 'javascript:__hit(90)'], [91, ' JaVaScRiPt:__hit(91)'], [92, 'data:text/html,<script>top.__hit(92)</script>'], [93, 'https://user@evil.example/']]) {
    const scenario = scenarioWith([0], `card ${mark}`);
    scenario.card = { paper: `Q${mark}Z paper`, year: 2024, link, summary: 's', look_for: 'l' };
    const file = path.join(dir, `card${mark}.json`);
    fs.writeFileSync(file, JSON.stringify(scenario));
    let hash;
    try {
      const out = execFileSync(CLI, ['link', 'encode', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
      hash = out.slice(out.indexOf('#'));
    } catch {
      continue; // the core refuses such a card outright: nothing can reach the page
    }
    const page = await trappedPage();
    await openApp(env, hash, page);
    await page.waitForSelector('[data-testid=editor], [data-testid=error-banner]');
    if (await page.locator('[data-testid=editor]').count()) {
      await page.click('[data-testid=tab-paper]');
      await page.waitForSelector('[data-testid=paper-card]');
      assert.equal(await page.locator('[data-testid=paper-card] a').count(), 0, `${link}: no link is made`);
      assert.match(await page.textContent('[data-testid=paper-card]'), new RegExp(`Q${mark}Z paper`));
      assert.equal(await page.locator('[data-testid=paper-link-refused]').count(), 1);
      await page.click('[data-testid=paper-card] h3');
    }
    await assertInert(page, `paper card ${link}`);
    await page.context().close();
  }
});

test('payloads in structure events (score names, reasons, group labels, choices) stay text in the graph, the structure panel and the export', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'council-xss-'));
  const logFile = path.join(dir, 'debate.jsonl');
  execFileSync(CLI, ['run', 'builtin:debate', '--log', logFile]);
  const events = fs.readFileSync(logFile, 'utf8').trim().split('\n').map(l => JSON.parse(l));
  const round = events[events.length - 1].round;
  const shown = [];
  for (const n of indices) {
    const push = e => events.push({ seq: events.length, round, ...e });
    switch (n % 4) {
      case 0: push({ kind: 'score', name: PAYLOADS[n], agent: n % 5, value: n / 10 }); shown.push(n); break;
      case 1: push({ kind: 'active', agent: n % 5, active: false, reason: PAYLOADS[n] }); break;
      case 2: push({ kind: 'groups', groups: [[n % 5, (n + 1) % 5], [(n + 2) % 5]], label: PAYLOADS[n] }); break;
      default: push({ kind: 'choice', name: 'topology', value: PAYLOADS[n] }); shown.push(n);
    }
  }
  // The latest reason per agent and the latest groups' label are the ones on screen.
  const last = kind => indices.filter(n => n % 4 === kind);
  shown.push(...last(1).slice(-5), last(2).at(-1));
  const jsonl = events.map(e => JSON.stringify(e)).join('\n') + '\n';
  const page = await trappedPage();
  await openApp(env, '#/s/debate', page);
  await page.waitForSelector('[data-testid=run-view]');
  await page.setInputFiles('[data-testid=import-file]', { name: 'xss-structure.jsonl', mimeType: 'application/x-ndjson', buffer: Buffer.from(jsonl) });
  await page.waitForFunction(k => Number(window.wasmBindings.current_log_len()) === k, events.length);
  await page.waitForSelector('[data-testid=structure] [data-testid=choices]');
  await page.waitForSelector('[data-testid=hull]');
  await assertInert(page, 'structure panel and graph');
  const text = await page.evaluate(() => {
    const parts = [document.querySelector('[data-testid=structure]').textContent];
    document.querySelectorAll('[data-testid=graph] title, [data-testid=graph] text').forEach(e => parts.push(e.textContent));
    return parts.join('\n');
  });
  assertMarkersShown(text, shown, 'structure panel and graph');

  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=export-html]')]);
  const offline = await trappedPage();
  await offline.route('**/*', r => r.abort());
  await offline.setContent(fs.readFileSync(await dl.path(), 'utf8'));
  await offline.waitForSelector('#st');
  assertMarkersShown(await offline.textContent('#st'), shown, 'HTML export structure section');
  await assertInert(offline, 'HTML export structure section');
  assert.equal(await offline.evaluate(() => document.querySelectorAll('script').length), 2, 'only the export\'s own two scripts');
  assert.deepEqual(page.errors, []);
  await page.context().close();
  await offline.context().close();
});
