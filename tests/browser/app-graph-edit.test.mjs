// Editing the agent graph in the editor with the mouse and the keyboard: a drag from one
// agent to another removes their link when it is there and adds it when it is not, agents
// are added and removed on the graph, and after every change the share link in the address
// bar (decoded with the CLI's codec, which is the core's) holds exactly that topology. The
// edited scenario then runs with the edited graph.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { launch, openApp, screenshot, CLI } from './harness.mjs';

let env;
before(async () => { env = await launch(); });
after(async () => { await env?.close(); });

const edgesShown = async page => (await page.getAttribute('[data-testid=graph-edit-svg]', 'data-edges')).split(' ').filter(Boolean);
const decoded = async page => JSON.parse(execFileSync(CLI, ['link', 'decode', await page.evaluate(() => location.hash), '--json'], { encoding: 'utf8' }));

async function centre(page, i) {
  // Mouse events go to viewport coordinates: bring the whole drawing into view first.
  await page.locator('[data-testid=graph-edit-svg]').scrollIntoViewIfNeeded();
  const box = await page.locator(`[data-testid=graph-edit-svg] g[data-edit-agent="${i}"] circle.body`).boundingBox();
  return [box.x + box.width / 2, box.y + box.height / 2];
}

/** Drags with the mouse from agent `a` to agent `b`, through a few intermediate moves. */
async function drag(page, a, b) {
  const [x0, y0] = await centre(page, a);
  const [x1, y1] = await centre(page, b);
  await page.mouse.move(x0, y0);
  await page.mouse.down();
  await page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, { steps: 4 });
  assert.equal(await page.locator('[data-testid=graph-edit-svg] .rubber').count(), 1, 'a line follows the pointer while dragging');
  await page.mouse.move(x1, y1, { steps: 4 });
  await page.mouse.up();
}

/** Waits until `check(edges)` holds for the drawn edge list (polled from Node: the page's CSP forbids eval). */
async function waitEdges(page, check, what) {
  const t0 = Date.now();
  for (;;) {
    const e = await edgesShown(page);
    if (check(e)) return e;
    if (Date.now() - t0 > 5_000) assert.fail(`${what}: edges are ${e.join(' ')}`);
    await page.waitForTimeout(50);
  }
}

test('drag between agents toggles their link; the link in the address bar follows', async () => {
  const page = await openApp(env, '#/s/debate');
  await page.waitForSelector('[data-testid=run-view]');
  await page.click('[data-testid=tab-edit]');
  await page.waitForSelector('[data-testid=graph-edit-svg]');
  // The debate is a mesh of five: every pair is linked.
  assert.equal((await edgesShown(page)).length, 10);
  assert.ok((await edgesShown(page)).includes('0-1'));

  await drag(page, 0, 1);
  await waitEdges(page, e => !e.includes('0-1'), 'after removing 0-1');
  assert.equal((await edgesShown(page)).length, 9);
  assert.equal(await page.locator('[data-testid=graph-edit-svg] line[data-edge="0-1"]').count(), 0, 'the line is gone from the drawing');
  let s = await decoded(page);
  assert.deepEqual(s.topology.remove_edges, [[0, 1]]);
  assert.equal(await page.locator('[data-testid=graph-edit-svg] .rubber').count(), 0, 'the drag line is gone after the drop');
  await screenshot(page, 'graph-edit-removed');

  // Dragging back the other way puts the link back and leaves no hand edit behind.
  await drag(page, 1, 0);
  await waitEdges(page, e => e.includes('0-1'), 'after restoring 0-1');
  s = await decoded(page);
  // (A plain mesh is the default topology: the link may leave it out altogether.)
  assert.equal(s.topology?.remove_edges, undefined, JSON.stringify(s.topology));
  assert.equal(s.topology?.add_edges, undefined, JSON.stringify(s.topology));

  // On a sparse generator a drag adds a link.
  await page.selectOption('[aria-label="Topology generator"]', 'chain');
  await waitEdges(page, e => e.length === 4 && e.includes('3-4'), 'a chain of five');
  await drag(page, 0, 3);
  await waitEdges(page, e => e.includes('0-3'), 'after adding 0-3');
  s = await decoded(page);
  assert.equal(s.topology.kind, 'chain');
  assert.deepEqual(s.topology.add_edges, [[0, 3]]);
  assert.equal(await page.locator('[data-testid=graph-edit-svg] line[data-edge="0-3"]').count(), 1);
  await screenshot(page, 'graph-edit-added');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('agents are added and removed on the graph, by button and keyboard; edges are renumbered', async () => {
  const page = await openApp(env, '#/s/debate');
  await page.waitForSelector('[data-testid=run-view]');
  await page.click('[data-testid=tab-edit]');
  await page.selectOption('[aria-label="Topology generator"]', 'ring');
  await waitEdges(page, e => e.length === 5, 'a ring of five');

  await page.click('[data-testid=graph-add-agent]');
  await page.waitForSelector('[data-testid=graph-edit-svg] g[data-edit-agent="5"]');
  let s = await decoded(page);
  assert.equal(s.agents.length, 6);
  assert.equal(s.agents[5].name, 'Agent 6');
  await waitEdges(page, e => e.length === 6 && e.includes('0-5') && e.includes('4-5'), 'the ring closes through the new agent');

  // Keyboard: Enter on agent 2, Enter on agent 5 links them.
  await page.focus('[data-testid=graph-edit-svg] g[data-edit-agent="2"]');
  await page.keyboard.press('Enter');
  assert.equal(await page.locator('g[data-edit-agent="2"].selected').count(), 1, 'Enter picks the agent');
  await page.focus('[data-testid=graph-edit-svg] g[data-edit-agent="5"]');
  await page.keyboard.press('Enter');
  await waitEdges(page, e => e.includes('2-5'), 'after linking 2 and 5 by keyboard');
  assert.match(await page.textContent('[data-testid=graph-edit-status]'), /Linked Cy – Agent 6/);
  s = await decoded(page);
  assert.deepEqual(s.topology.add_edges, [[2, 5]]);

  // Delete on agent 0 removes it: 2-5 becomes 1-4, the ring is generated over five again.
  await page.focus('[data-testid=graph-edit-svg] g[data-edit-agent="0"]');
  await page.keyboard.press('Delete');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=graph-edit-svg] g[data-edit-agent]').length === 5);
  s = await decoded(page);
  assert.deepEqual(s.agents.map(a => a.name), ['Ben', 'Cy', 'Dee', 'Eve', 'Agent 6']);
  assert.deepEqual(s.topology.add_edges, [[1, 4]]);
  await waitEdges(page, e => e.length === 6 && e.includes('1-4'), 'a ring of five plus the hand link');

  // A click picks an agent; the remove button removes it.
  const [x, y] = await centre(page, 4);
  await page.mouse.click(x, y);
  assert.match(await page.textContent('[data-testid=graph-remove-agent]'), /remove Agent 6/);
  await page.click('[data-testid=graph-remove-agent]');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=graph-edit-svg] g[data-edit-agent]').length === 4);
  s = await decoded(page);
  assert.equal(s.agents.length, 4);
  assert.equal(s.topology.add_edges, undefined, 'the hand link went with its agent');
  await screenshot(page, 'graph-edit-agents');

  // The edited scenario runs on the edited graph.
  await page.click('[data-testid=run]');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=graph] g[data-agent]').length === 4);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a classroom link that locks the topology shows the graph but does not edit it', async () => {
  const scenario = JSON.parse(execFileSync(CLI, ['link', 'decode', execFileSync(CLI, ['link', 'encode', 'builtin:debate'], { encoding: 'utf8' }).trim(), '--json'], { encoding: 'utf8' }));
  scenario.ui = { ...(scenario.ui || {}), locked: ['topology'] };
  const link = execFileSync(CLI, ['link', 'encode', '-'], { input: JSON.stringify(scenario), encoding: 'utf8' }).trim();
  const page = await openApp(env, link.slice(link.indexOf('#')));
  await page.waitForSelector('[data-testid=graph-edit-svg]');
  const before = await page.evaluate(() => location.hash);
  await drag(page, 0, 1).catch(() => {});
  await page.mouse.up();
  await page.waitForTimeout(300);
  assert.equal((await edgesShown(page)).length, 10, 'no link changed');
  assert.equal(await page.evaluate(() => location.hash), before);
  assert.equal(await page.isDisabled('[data-testid=graph-add-agent]'), true);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
