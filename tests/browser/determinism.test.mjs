// Cross-target determinism: the same pure-Rust computation natively (the `council` CLI)
// and in the browser (the app's wasm) must produce the same digest.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { launch, openApp, CLI } from './harness.mjs';

let env, page;
before(async () => { env = await launch(); page = await openApp(env); });
after(async () => { await env?.close(); });

function native(...args) {
  return execFileSync(CLI, args, { encoding: 'utf8' }).trim();
}

test('the determinism probe digest is identical natively and in wasm', async () => {
  for (const [seed, steps] of [[1, 10], [42, 1000], [123456789, 5000]]) {
    const wasm = await page.evaluate(([s, n]) => window.wasmBindings.probe_digest(BigInt(s), n), [seed, steps]);
    const nat = native('probe-digest', String(seed), String(steps));
    assert.match(nat, /^[0-9a-f]{16}$/);
    assert.equal(wasm, nat, `seed ${seed}, ${steps} steps`);
  }
});

test('every built-in scenario gives the same event-log hash natively and in wasm', async () => {
  const { scenarios } = JSON.parse(native('scenarios', '--json'));
  assert.ok(scenarios.length >= 8, `expected the built-ins, got ${scenarios.length}`);
  for (const { id } of scenarios) {
    for (const seed of [1, 2024]) {
      const nat = JSON.parse(native('run', `builtin:${id}`, '--seed', String(seed), '--json')).log_hash;
      const wasm = await page.evaluate(([i, s]) => window.wasmBindings.builtin_log_hash(i, BigInt(s)), [id, seed]);
      assert.match(nat, /^[0-9a-f]{16}$/);
      assert.equal(wasm, nat, `${id} seed ${seed}`);
    }
  }
  console.log(`cross-target: ${scenarios.length} built-ins × 2 seeds identical`);
});
