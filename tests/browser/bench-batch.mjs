// Benchmark (not a test): batched decode on the browser's CPU path (the app's worker wasm,
// SIMD128, 1 thread, timed inside the worker): N sequences decoding together, aggregate tok/s
// for N = 1, 2, 4, 8, sizes taking turns in each repetition; the goal is N=8 >= 4x N=1.
// Run: source scripts/lib.sh && trunk build --release && node tests/browser/bench-batch.mjs
import { openEnginePage, startEngineWorker, loadModel, readReference } from './engine-helpers.mjs';

const SIZES = [1, 2, 4, 8];
const N_NEW = Number(process.env.N_NEW || 24);
const REPS = Number(process.env.REPS || 3);
const prompt = readReference().sequences[0].tokens.slice(0, 37);
const { env, page, modelUrl } = await openEnginePage();
try {
  await startEngineWorker(page);
  const load = await loadModel(page, modelUrl, 'cpu');
  const runs = [];
  for (let r = 0; r <= REPS; r++) {
    const one = JSON.parse(await page.evaluate(([p, n, s]) => window.engineCall('cpu_batch_decode', Uint32Array.from(p), n, Uint32Array.from(s)), [prompt, N_NEW, SIZES]));
    if (r > 0) runs.push(one); // the first is the warm-up
  }
  const median = v => v.slice().sort((a, b) => a - b)[Math.floor(v.length / 2)];
  const rates = SIZES.map((_, i) => median(runs.map(run => run[i].tok_s)));
  console.log(`${env.browser.version()} · CPU path (wasm ${load.info}, 1 thread) · prompt ${prompt.length} tokens · ${N_NEW} decoded per sequence · median of ${REPS}`);
  SIZES.forEach((n, i) => console.log(`N=${n}: ${rates[i].toFixed(1)} tok/s aggregate, ${(rates[i] / rates[0]).toFixed(2)}x N=1`));
  console.log(`goal N=8 >= 4x N=1: ${(rates[3] / rates[0]).toFixed(2)}x (${rates[3] / rates[0] >= 4 ? 'met' : 'missed'})`);
} finally {
  await env.close();
}
