// The LLM engine in the browser on the real test model (in the app's worker bundle, as the app
// runs it), against llama.cpp's teacher-forced
// logits (target/reference/logits.json): the CPU path (wasm, SIMD128 kernels) on every
// reference sequence, and the WebGPU path (SwiftShader here) on short prefixes, with its
// dispatches and submits per decoded token. Criteria as natively (architecture §7): top-1
// agreement where llama.cpp's top1−top2 margin > 0.5, mean |Δlogit| over its top-5 < 0.5.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openEnginePage, loadModel, readReference, compareWithReference, startEngineWorker } from './engine-helpers.mjs';

let env, page, modelUrl, reference;
before(async () => {
  reference = readReference();
  ({ env, page, modelUrl } = await openEnginePage());
});
after(async () => { await env?.close(); });

const summary = r => `${r.agree}/${r.decisive} top-1 agree where margin > 0.5; mean |Δ| top-5 ${r.delta_mean.toFixed(4)}, max ${r.delta_max.toFixed(4)}; ${r.tokens} tokens in ${(r.ms / 1000).toFixed(1)} s`;

test('the SIMD128 dot-product and attention kernels equal the scalar ones on random Q4_0/Q4_1/Q8_0 blocks and f16 caches', async () => {
  for (const seed of [1, 7, 2024]) {
    await startEngineWorker(page);
    const r = JSON.parse(await page.evaluate(s => window.engineCall('kernel_check', s), seed));
    assert.equal(r.kernel, 'simd128', 'the release build enables +simd128 (.cargo/config.toml)');
    assert.ok(r.compared > 500, `compared ${r.compared} outputs`);
    // Same integer block sums; only the f32 summation order of block terms differs.
    assert.ok(r.max_rel_diff < 1e-5, `seed ${seed}: SIMD vs scalar differ by ${r.max_rel_diff} of the output scale`);
    // Attention rounds probabilities to f16, so a summation-order change can move one by an f16 step.
    assert.ok(r.attention_max_diff < 4e-3, `seed ${seed}: SIMD vs scalar attention differ by ${r.attention_max_diff}`);
  }
});

test('CPU path (wasm): teacher-forced logits agree with llama.cpp on every reference sequence', { timeout: 600_000 }, async () => {
  const load = await loadModel(page, modelUrl, 'cpu');
  assert.equal(load.info, 'simd128');
  const r = await compareWithReference(page, 'cpu', reference.sequences);
  console.log(`engine cpu (wasm ${load.info}): ${summary(r)}`);
  assert.ok(r.decisive > 100, `too few decisive positions (${r.decisive})`);
  assert.deepEqual(r.disagreements, []);
  assert.ok(r.delta_mean < 0.5, `mean |Δlogit| ${r.delta_mean}`);
  assert.deepEqual(page.errors, []);
});

test('CPU path (wasm): sequences decoded together and from the prefix cache give each the same logits as alone', { timeout: 600_000 }, async () => {
  const load = await loadModel(page, modelUrl, 'cpu');
  assert.equal(load.info, 'simd128');
  // The reference's chats share the template's header; four of them, of different lengths.
  const seqs = reference.sequences.slice(0, 4).map(s => s.tokens.slice(0, 40));
  const ids = seqs.flat();
  const r = JSON.parse(await page.evaluate(([ids, lengths]) => window.engineCall('cpu_batch_check', new Uint32Array(ids), new Uint32Array(lengths)),
    [ids, seqs.map(s => s.length)]));
  console.log(`engine cpu (wasm ${r.kernel}) batched: ${r.rows} rows, max |Δ| ${r.batched_max_diff}; prefix reuse: ${r.reused_tokens} tokens, max |Δ| ${r.reuse_max_diff}`);
  assert.equal(r.kernel, 'simd128');
  assert.equal(r.rows, ids.length);
  assert.equal(r.batched_max_diff, 0, 'batched decode changed a logit');
  assert.ok(r.reused_tokens > 0, 'the later sequences start from the first one\'s pages');
  assert.equal(r.reuse_max_diff, 0, 'prefix reuse changed a logit');
  assert.deepEqual(page.errors, []);
});

test('WebGPU path (SwiftShader): teacher-forced logits agree with llama.cpp on short prefixes; ≤ 8 dispatches per layer, 1 submit per token', { timeout: 600_000 }, async () => {
  const load = await loadModel(page, modelUrl, 'gpu');
  const seqs = reference.sequences.filter(s => ['capital', 'plain-text'].includes(s.name));
  const r = await compareWithReference(page, 'gpu', seqs, 12);
  console.log(`engine webgpu (${load.info}): ${summary(r)}`);
  assert.ok(r.decisive >= 10, `too few decisive positions (${r.decisive})`);
  assert.deepEqual(r.disagreements, []);
  assert.ok(r.delta_mean < 0.5, `mean |Δlogit| ${r.delta_mean}`);

  const work = await page.evaluate(async tokens => {
    const first = await window.engineCall('gpu_prefill', Uint32Array.from(tokens));
    const before = JSON.parse(await window.engineCall('gpu_counts'));
    const ids = await window.engineCall('gpu_generate', first, 4);
    const afterCounts = JSON.parse(await window.engineCall('gpu_counts'));
    return { before, after: afterCounts, generated: ids.length };
  }, reference.sequences[0].tokens.slice(0, 8));
  const submitsPerToken = (work.after.submits - work.before.submits) / work.generated;
  console.log(`engine webgpu: ${work.after.per_layer} dispatches per layer, ${work.after.per_token} per decoded token (${work.after.n_layers} layers), ${submitsPerToken.toFixed(2)} submits per token over ${work.generated} greedy tokens`);
  assert.equal(work.generated, 4);
  assert.ok(work.after.per_layer <= 8, `${work.after.per_layer} dispatches per layer`);
  assert.ok(submitsPerToken <= 1, `${submitsPerToken} submits per token`);
  assert.deepEqual(page.errors, []);
});
