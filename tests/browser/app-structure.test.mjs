// End-to-end tests of the structure views (scores, communication graph and its rewiring,
// active set, groups, pairwise judgments, choices, metric curves): one imported log that
// has every structure event kind, checked while scrubbing, in the export, in both themes;
// then every wave-2 built-in in the gallery, played to its end.
// Uses the selectors documented at the top of app/src/lib.rs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { launch, openApp, screenshot } from './harness.mjs';

let env;
before(async () => { env = await launch(); });
after(async () => { await env?.close(); });

const hook = (page, name, ...args) => page.evaluate(([n, a]) => window.wasmBindings[n](...a), [name, args]);
const cursor = page => hook(page, 'current_cursor');
// Moves the cursor and waits until every pane shows it (the structure panel's blocks say
// which cursor they were drawn at).
const seek = async (page, c) => {
  await page.fill('[data-testid=scrub]', String(c));
  await page.waitForFunction(k => Number(window.wasmBindings.current_cursor()) === k
    && [...document.querySelectorAll('[data-testid=structure] [data-cursor]')].every(el => Number(el.dataset.cursor) === k), c);
};

// Six agents (more than the debate's cast, so the import gets a generic cast "agent i").
// Returns the JSONL and the cursors after which each structure step is visible.
const N = 6;
const E1 = [[0, 1], [1, 2], [2, 3], [3, 4], [4, 5]];
const E2 = [[0, 1], [5, 0], [5, 2], [2, 3], [4, 5]];
function structuredLog() {
  const ev = [];
  const at = {};
  const push = (round, e) => { ev.push(JSON.stringify({ seq: ev.length, round, ...e })); return ev.length; };
  for (let a = 0; a < N; a++) push(0, { kind: 'answer', agent: a, answer: 'AB'[a % 2], confidence: 0.6, raw: 'x', tokens: 3 });
  at.beforeGraph = ev.length;
  at.graph1 = push(0, { kind: 'graph', edges: E1 });
  [0.1, 0.2, 0.3, 0.4, 0.5, 1.0].forEach((v, a) => push(0, { kind: 'score', name: 'importance', agent: a, value: v }));
  [0.5, 0.5, 0.5, 0.5, 0.5, 0.5].forEach((v, a) => push(0, { kind: 'score', name: 'reputation', agent: a, value: v }));
  at.scores1 = ev.length;
  // Judge 0 prefers 1 over 2 twice; judge 1 prefers 2 over 1 once and 0 over 2 once.
  push(0, { kind: 'judgment', judge: 0, a: 1, b: 2, winner: 1 });
  push(0, { kind: 'judgment', judge: 0, a: 2, b: 1, winner: 1 });
  push(0, { kind: 'judgment', judge: 1, a: 1, b: 2, winner: 2 });
  push(0, { kind: 'judgment', judge: 1, a: 0, b: 2, winner: 0 });
  push(0, { kind: 'metric', name: 'regret', value: 0.4 });
  at.regret1 = ev.length;
  at.graph2 = push(1, { kind: 'graph', edges: E2 });
  at.pruned = push(1, { kind: 'active', agent: 3, active: false, reason: 'pruned: low importance' });
  at.groups = push(1, { kind: 'groups', groups: [[0, 1, 2], [3, 4], [5]], label: 'subtask' });
  [0.9, 0.1, 0.8, 0.2, 0.3, 0.6].forEach((v, a) => push(1, { kind: 'score', name: 'reputation', agent: a, value: v }));
  at.choice1 = push(1, { kind: 'choice', name: 'topology', value: 'parallel' });
  push(1, { kind: 'metric', name: 'regret', value: 0.7 });
  at.choice2 = push(2, { kind: 'choice', name: 'topology', value: 'sequential' });
  push(2, { kind: 'metric', name: 'regret', value: 0.9 });
  push(2, { kind: 'decision', answer: 'B', method: 'bradley_terry', correct: true, final: true });
  return { jsonl: ev.join('\n') + '\n', at, len: ev.length };
}

const edgesText = e => e.map(([a, b]) => `${a}-${b}`).join(' ');
const attr = (page, sel, name) => page.getAttribute(sel, name);
// Centre of an element on screen.
const centre = async (page, sel) => {
  const b = await page.locator(sel).boundingBox();
  return [b.x + b.width / 2, b.y + b.height / 2];
};

async function importStructured(page) {
  await openApp(env, '#/s/debate', page);
  await page.waitForSelector('[data-testid=run-view]');
  const log = structuredLog();
  await page.setInputFiles('[data-testid=import-file]', { name: 'structured.jsonl', mimeType: 'application/x-ndjson', buffer: Buffer.from(log.jsonl) });
  await page.waitForFunction(k => Number(window.wasmBindings.current_log_len()) === k, log.len);
  await page.waitForSelector('[data-testid=structure]');
  return log;
}

test('structure events: graph edges follow scrubbing, node sizes, faded nodes, hulls, matrix, bars, curve and choices', async () => {
  const page = await env.newPage();
  const { at, len } = await importStructured(page);
  assert.equal(await cursor(page), len, 'an imported run opens at its end');
  assert.equal(await page.locator('g[data-agent]').count(), N);

  // Graph: the logged edges, and what the last rewiring added and removed.
  const edgesSel = '[data-testid=graph-edges]';
  assert.equal(await attr(page, edgesSel, 'data-edges'), edgesText(E2));
  assert.equal(await attr(page, edgesSel, 'data-added'), '5-0 5-2');
  assert.equal(await attr(page, edgesSel, 'data-removed'), '1-2 3-4');
  assert.ok((await attr(page, `${edgesSel} .kept .line`, 'd')).length > 10, 'kept edges are drawn');
  assert.equal((await attr(page, `${edgesSel} .enter .head`, 'd')).match(/Z/g).length, 2, 'two new arrows');
  await screenshot(page, 'structure-end');
  await seek(page, at.graph1);
  assert.equal(await attr(page, edgesSel, 'data-edges'), edgesText(E1), 'scrubbing back shows the first graph');
  await seek(page, at.beforeGraph);
  assert.equal(await page.locator(edgesSel).count(), 0, 'before the first graph event the topology is drawn');

  // Node size from importance: after the first scores, agent 5 (1.0) is the biggest.
  await seek(page, at.scores1);
  const scale = async a => Number(await attr(page, `g[data-agent="${a}"]`, 'data-scale'));
  assert.equal(await scale(5), 1.45);
  assert.ok(await scale(0) < await scale(4), 'importance orders the sizes');
  const r = async a => (await page.locator(`g[data-agent="${a}"] circle.body`).boundingBox()).width;
  assert.ok(await r(5) > 1.5 * await r(0), `drawn size follows importance (${await r(5)} vs ${await r(0)})`);

  // Faded: agent 3 is out from the active event on, with its reason.
  const node3 = 'g[data-agent="3"]';
  await seek(page, at.pruned - 1);
  assert.doesNotMatch(await attr(page, node3, 'class'), /inactive/);
  await seek(page, at.pruned);
  assert.match(await attr(page, node3, 'class'), /inactive/);
  assert.ok(Number(await page.$eval(node3, el => getComputedStyle(el).opacity)) < 0.5, 'the pruned node is faded');
  assert.match(await page.textContent(`${node3} title`), /pruned: low importance/);
  assert.match(await attr(page, node3, 'aria-label'), /out of the team: pruned/);
  assert.match(await page.textContent('[data-testid=inactive]'), /agent 3 — pruned: low importance/);

  // Hulls: none before the groups event, then one per group around its members.
  assert.equal(await page.locator('[data-testid=hull]').count(), 0);
  await seek(page, at.groups);
  assert.equal(await page.locator('[data-testid=hull]').count(), 3);
  const hull = await page.locator('[data-testid=hull][data-group="0"] path').boundingBox();
  for (const a of [0, 1, 2]) {
    const [x, y] = await centre(page, `g[data-agent="${a}"] circle.body`);
    assert.ok(x > hull.x && x < hull.x + hull.width && y > hull.y && y < hull.y + hull.height, `agent ${a} inside its hull`);
  }
  assert.match(await page.textContent('[data-testid=hull][data-group="0"] text'), /subtask 1/);
  assert.equal(await attr(page, '[data-testid=hull][data-group="1"]', 'data-members'), '3 4');

  // Judgment matrix: every judge, one judge, win shares.
  await seek(page, len);
  const cell = (row, col) => attr(page, `[data-testid=judgment-matrix] td[data-row="${row}"][data-col="${col}"]`, 'data-wins');
  assert.equal(await page.locator('[data-testid=judgment-matrix] tbody tr').count(), 3, 'agents 0, 1, 2 were judged');
  assert.equal(await cell(1, 2), '2');
  assert.equal(await cell(2, 1), '1');
  assert.equal(await cell(0, 2), '1');
  await page.selectOption('[data-testid=judge-filter]', '1');
  assert.equal(await cell(1, 2), '0', 'judge 1 never preferred 1 over 2');
  assert.equal(await cell(2, 1), '1');
  await page.selectOption('[data-testid=judge-filter]', 'all');
  await page.click('[data-testid=judgment-shares]');
  assert.equal((await page.textContent('[data-testid=judgment-matrix] td[data-row="1"][data-col="2"]')).trim(), '67%');
  await page.click('[data-testid=judgment-shares]');
  await seek(page, at.scores1);
  assert.equal(await cell(1, 2), '0', 'no judgment yet at this cursor');

  // Bars: reputation is flat at first, then differs.
  const bar = a => `[data-testid=score-bars][data-score="reputation"] li[data-agent="${a}"]`;
  assert.equal(await attr(page, bar(0), 'data-value'), '0.500');
  await seek(page, len);
  assert.equal(await attr(page, bar(0), 'data-value'), '0.900');
  const w = async a => (await page.locator(`${bar(a)} .fill`).boundingBox()).width;
  assert.ok(await w(0) > 5 * await w(1), 'bar widths follow the values');
  assert.equal(await page.getByRole('meter', { name: 'reputation of agent 0' }).getAttribute('aria-valuetext'), '0.900');

  // Curve: grows with the cursor on fixed axes.
  const curve = '[data-testid=curve][data-metric="regret"]';
  assert.equal(await attr(page, curve, 'data-points'), '3');
  assert.equal((await attr(page, `${curve} polyline`, 'points')).trim().split(/\s+/).length, 3);
  await seek(page, at.regret1);
  assert.equal(await attr(page, curve, 'data-points'), '1');
  assert.equal(await page.locator('[data-testid=metrics] figure.plot figcaption', { hasText: 'regret' }).count(), 0, 'drawn once, in the structure panel');

  // Choices: one per task so far, the latest marked.
  await seek(page, at.choice1);
  assert.equal(await page.locator('[data-testid=choices] li').count(), 1);
  await seek(page, at.choice2);
  assert.equal(await page.locator('[data-testid=choices] li').count(), 2);
  assert.equal(await attr(page, '[data-testid=choices] li.current', 'data-value'), 'sequential');
  assert.match(await page.textContent('[data-testid=choice-tally]'), /topology parallel: 1 · topology sequential: 1/);

  // Keyboard: the panel's controls are reachable and named.
  await page.focus('[data-testid=judge-filter]');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.dataset.testid), 'judgment-shares');
  assert.ok(await page.getByRole('table', { name: /preferred over the column/ }).count() === 1);
  await page.locator('[data-testid=structure]').scrollIntoViewIfNeeded();
  await screenshot(page, 'structure-panel-light');
  assert.deepEqual(page.errors, []);
});

test('structure views read in the dark theme and the HTML export carries them at the end state', async () => {
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'dark' });
  const page = await env.newPage({ context });
  const { len } = await importStructured(page);
  await screenshot(page, 'structure-end-dark');
  await page.locator('[data-testid=structure]').scrollIntoViewIfNeeded();
  await screenshot(page, 'structure-panel-dark');
  // Matrix text stays readable on its shaded cells: text and background differ in lightness.
  const [fg, bg] = await page.$eval('[data-testid=judgment-matrix] td[data-row="1"][data-col="2"]', el => [getComputedStyle(el).color, getComputedStyle(el).backgroundColor]);
  assert.notEqual(fg, bg);

  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=export-html]')]);
  const html = fs.readFileSync(await dl.path(), 'utf8');
  const offline = await env.newPage();
  await offline.route('**/*', r => r.abort());
  await offline.setContent(html);
  assert.equal(await offline.locator('#st .hull').count(), 3, 'hulls');
  assert.equal(await offline.locator('#st .sn').count(), N, 'nodes');
  assert.equal(await offline.locator('#st .sn.out').count(), 1, 'the pruned agent is faded');
  assert.equal((await offline.getAttribute('#st .sg path.h', 'd')).match(/Z/g).length, E2.length, 'the end graph, as arrows');
  const r5 = (await offline.locator('#st .sn[data-agent="5"] circle').boundingBox()).width;
  const r0 = (await offline.locator('#st .sn[data-agent="0"] circle').boundingBox()).width;
  assert.ok(r5 > 1.5 * r0, `node size from the last importance scores (${r5} vs ${r0})`);
  // The same blocks, and selectors, as the live panel.
  assert.equal(await offline.locator('#st [data-testid=score-bars][data-score="reputation"] li[data-value="0.900"]').count(), 1);
  const w = async a => (await offline.locator(`#st [data-score="reputation"] li[data-agent="${a}"] .fill`).boundingBox()).width;
  assert.ok(await w(0) > 5 * await w(1), 'bar widths follow the values');
  assert.equal(await offline.locator('#st [data-testid=judgment-matrix] td[data-row="1"][data-col="2"]').textContent(), '2');
  assert.equal(await offline.locator('#st [data-testid=curve][data-metric="regret"] polyline').count(), 1);
  assert.equal(await offline.locator('#st [data-testid=choices] li').count(), 2);
  assert.ok(await offline.locator('#g g').count() >= N, 'the replaying graph still draws');
  await offline.setViewportSize({ width: 1280, height: 900 });
  await offline.locator('#st').scrollIntoViewIfNeeded();
  await screenshot(offline, 'structure-export');
  assert.deepEqual([...page.errors, ...offline.errors], []);
  assert.equal(await cursor(page), len);
});

// Wave-2 built-ins and the element that shows what each one does.
const WAVE2 = {
  fortytwo: { kinds: ['judgment', 'score'], sel: '[data-testid=judgment-matrix] td[data-wins]:not([data-wins="0"])' },
  selforg: { kinds: ['graph', 'score'], sel: '[data-testid=graph-edges]' },
  dylan: { kinds: ['score'], sel: 'g[data-agent]:not([data-scale="1.000"])' },
  agentnet: { kinds: ['graph'], sel: '[data-testid=graph-edges]' },
  symphony: { kinds: ['score', 'metric'], sel: '[data-testid=curve]' },
  adaptorch: { kinds: ['choice'], sel: '[data-testid=choices] li' },
  hyperagent: { kinds: ['groups'], sel: '[data-testid=hull]' },
};

// What each structure event kind must show when the log has it (checked at the end).
async function checkViewsOfKinds(page, kinds, events) {
  if (kinds.has('graph')) assert.ok((await page.getAttribute('[data-testid=graph-edges]', 'data-edges')) !== null);
  if (kinds.has('score')) assert.ok(await page.locator('[data-testid=score-bars] li[data-value]:not([data-value=""])').count() > 0, 'score bars');
  if (kinds.has('judgment')) assert.ok(await page.locator('[data-testid=judgment-matrix] td[data-wins]').count() > 0, 'judgment matrix');
  if (kinds.has('choice')) assert.ok(await page.locator('[data-testid=choices] li').count() > 0, 'choices');
  const last = new Map();
  for (const e of events) last.set(e.kind, e);
  if (last.get('groups')?.groups.some(g => g.length)) assert.ok(await page.locator('[data-testid=hull]').count() > 0, 'hulls');
  const inactive = new Set();
  for (const e of events) if (e.kind === 'active') (e.active ? inactive.delete(e.agent) : inactive.add(e.agent));
  for (const a of inactive) assert.match(await page.getAttribute(`g[data-agent="${a}"]`, 'class'), /inactive/, `agent ${a} faded`);
}

for (const [id, want] of Object.entries(WAVE2)) {
  test(`wave-2 built-in ${id}: played to the end, its view shows its structure`, async () => {
    const page = await openApp(env);
    await page.waitForSelector('[data-scenario-id]');
    assert.equal(await page.locator(`[data-scenario-id="${id}"]`).count(), 1, `${id} is in the gallery`);
    await page.click(`[data-scenario-id="${id}"]`);
    await page.waitForSelector('[data-testid=run-view]');
    const len = await hook(page, 'current_log_len');
    await seek(page, 0);
    await page.selectOption('[data-testid=speed]', '64');
    await page.click('[data-testid=play]');
    await page.waitForFunction(k => Number(window.wasmBindings.current_cursor()) === k, len, { timeout: Math.max(30_000, len * 40) });
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=export-jsonl]')]);
    const events = fs.readFileSync(await dl.path(), 'utf8').trim().split('\n').map(l => JSON.parse(l));
    const kinds = new Set(events.map(e => e.kind));
    for (const k of want.kinds) assert.ok(kinds.has(k), `${id} logs ${k} events`);
    await page.waitForSelector('[data-testid=structure]');
    assert.ok(await page.locator(want.sel).count() > 0, `${id}: ${want.sel} present`);
    await checkViewsOfKinds(page, kinds, events);
    await screenshot(page, `wave2-${id}`);
    await page.locator('[data-testid=structure]').scrollIntoViewIfNeeded();
    await screenshot(page, `wave2-${id}-panel`);
    assert.deepEqual(page.errors, []);
  });
}
