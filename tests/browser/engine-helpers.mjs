// Shared by engine.test.mjs, bench-engine.mjs and the WebGPU smoke test: the page with the test
// model mounted at /models/, the engine-hooks worker (the app's `council-worker` bundle under the
// name `council-engine-hooks`, app/src/engine_hooks.rs), the llama.cpp reference logits, and the
// teacher-forced comparison (run inside the page so the vocab-sized logit rows never cross into
// Node).

import fs from 'node:fs';
import path from 'node:path';
import { launch, openApp, ROOT } from './harness.mjs';
import { TEST_MODEL } from './llm-helpers.mjs';

export const REFERENCE = path.join(process.env.COUNCIL_REFERENCE_DIR || path.join(ROOT, 'target/reference'), 'logits.json');

export function requireModel() {
  if (!fs.existsSync(TEST_MODEL)) {
    throw new Error(`test model missing at ${TEST_MODEL}: run scripts/setup (it fetches it) or set COUNCIL_TEST_MODEL`);
  }
}

export function readReference() {
  if (!fs.existsSync(REFERENCE)) {
    throw new Error(`no llama.cpp reference at ${REFERENCE}: run scripts/test (it runs tests/reference/make_logits_reference.py)`);
  }
  return JSON.parse(fs.readFileSync(REFERENCE, 'utf8'));
}

/** Starts the browser with the model's folder mounted at /models/ and extra `mounts`; opens the app. */
export async function openEnginePage(mounts = {}) {
  requireModel();
  const env = await launch({ mounts: { '/models/': path.dirname(TEST_MODEL), ...mounts } });
  const page = await openApp(env);
  const modelUrl = `/models/${path.basename(TEST_MODEL)}`;
  return { env, page, modelUrl };
}

/**
 * Starts the engine-hooks worker in `page` once and defines `window.engineCall(call, ...args)`,
 * a promise of the worker's answer (rejected with its error text). Model bytes are transferred,
 * not copied.
 */
export async function startEngineWorker(page) {
  await page.evaluate(async () => {
    if (window.engineCall) return;
    const worker = new Worker('./council-worker_loader.js', { name: 'council-engine-hooks' });
    const pending = new Map();
    let next = 1;
    await new Promise((resolve, reject) => {
      worker.onerror = e => reject(new Error(`the engine worker did not start: ${e.message}`));
      worker.onmessage = e => { if (e.data?.ready) resolve(); };
    });
    worker.onmessage = e => {
      const p = pending.get(e.data?.id);
      if (!p) return;
      pending.delete(e.data.id);
      if ('error' in e.data) p.reject(new Error(e.data.error)); else p.resolve(e.data.value);
    };
    worker.onerror = e => {
      for (const p of pending.values()) p.reject(new Error(`engine worker error: ${e.message}`));
      pending.clear();
    };
    window.engineCall = (call, ...args) => new Promise((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, call, args }, args.filter(a => a instanceof Uint8Array).map(a => a.buffer));
    });
  });
}

/** Fetches the model in the page and loads it into the CPU (`'cpu'`) or WebGPU (`'gpu'`) engine. */
export async function loadModel(page, modelUrl, kind) {
  await startEngineWorker(page);
  return page.evaluate(async ([url, kind]) => {
    const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
    const t0 = performance.now();
    const info = await window.engineCall(`${kind}_load`, bytes);
    return { info, load_ms: performance.now() - t0 };
  }, [modelUrl, kind]);
}

/**
 * Teacher-forced logits of `kind`'s engine against llama.cpp's, for each reference sequence cut to
 * `limit` tokens (null: whole). Returns decisive positions (llama.cpp margin > 0.5), how many of
 * them agree on the top-1, the disagreements, and mean/max |Δlogit| over llama.cpp's top-5.
 */
export async function compareWithReference(page, kind, sequences, limit = null) {
  const seqs = sequences.map(s => ({ name: s.name, tokens: s.tokens, positions: s.positions }));
  return page.evaluate(async ([kind, seqs, limit]) => {
    const out = { decisive: 0, agree: 0, disagreements: [], delta_sum: 0, delta_n: 0, delta_max: 0, tokens: 0, ms: 0 };
    for (const s of seqs) {
      const tokens = Uint32Array.from(limit ? s.tokens.slice(0, limit) : s.tokens);
      const t0 = performance.now();
      const logits = await window.engineCall(`${kind}_logits`, tokens);
      out.ms += performance.now() - t0;
      out.tokens += tokens.length;
      const vocab = logits.length / tokens.length;
      if (!Number.isInteger(vocab) || vocab < 1000) throw new Error(`${kind}: ${logits.length} logits for ${tokens.length} tokens`);
      for (const p of s.positions) {
        if (p.i >= tokens.length) continue;
        const row = logits.subarray(p.i * vocab, (p.i + 1) * vocab);
        for (const [id, logit] of p.top.slice(0, 5)) {
          const d = Math.abs(row[id] - logit);
          out.delta_sum += d; out.delta_n++; out.delta_max = Math.max(out.delta_max, d);
        }
        if (p.margin > 0.5) {
          out.decisive++;
          let best = 0;
          for (let j = 1; j < vocab; j++) if (row[j] > row[best]) best = j;
          if (best === p.top[0][0]) out.agree++;
          else out.disagreements.push(`${s.name}[${p.i}]: llama.cpp ${p.top[0][0]} (margin ${p.margin.toFixed(3)}), ours ${best}`);
        }
      }
    }
    out.delta_mean = out.delta_sum / out.delta_n;
    return out;
  }, [kind, seqs, limit]);
}
