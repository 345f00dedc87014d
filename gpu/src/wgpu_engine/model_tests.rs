//! The whole engine on a small random llama-shaped model (mixed weight types, GQA, biases,
//! both RoPE styles) against a plain f32 forward pass written here from the definitions.

use std::collections::HashMap;

use super::pack::*;
use super::test_util::*;
use super::{EngineOptions, LlamaConfig, TensorView, WeightSource, WgpuEngine};
use crate::device::Gpu;

struct MapSource(HashMap<String, (u32, [u64; 2], Vec<u8>)>);

impl WeightSource for MapSource {
    fn tensor(&self, name: &str) -> Option<TensorView<'_>> {
        self.0.get(name).map(|(t, ne, data)| TensorView { ggml_type: *t, ne: *ne, data })
    }
}

impl MapSource {
    fn dense(&self, name: &str) -> Vec<f32> {
        let (t, _, data) = &self.0[name];
        dequantize(*t, data)
    }
    fn opt(&self, name: &str) -> Option<Vec<f32>> {
        self.0.contains_key(name).then(|| self.dense(name))
    }
}

fn tiny_config(neox: bool) -> LlamaConfig {
    LlamaConfig {
        dim: 64,
        n_layers: 2,
        n_head: 4,
        n_kv_head: 2,
        head_dim: 16,
        n_ff: 96,
        vocab: 101,
        norm_eps: 1e-5,
        rope_base: 10000.0,
        rope_freq_scale: 1.0,
        n_rot: 16,
        rope_neox: neox,
        context_len: 256,
    }
}

fn tiny_model(cfg: &LlamaConfig, bias: bool, tied: bool, seed: u64) -> MapSource {
    let mut rng = Rng::new(seed);
    let mut m = HashMap::new();
    let mut add = |name: String, t: u32, k: usize, rows: usize, scale: f32, rng: &mut Rng| {
        let values = rng.vec(k * rows, scale);
        m.insert(name, (t, [k as u64, rows as u64], quantize(t, &values)));
    };
    let (n_q, n_kv) = (cfg.n_head * cfg.head_dim, cfg.n_kv_head * cfg.head_dim);
    add("token_embd.weight".into(), TYPE_Q8_0, cfg.dim, cfg.vocab, 1.0, &mut rng);
    if !tied {
        add("output.weight".into(), TYPE_Q4_0, cfg.dim, cfg.vocab, 0.5, &mut rng);
    }
    add("output_norm.weight".into(), TYPE_F32, cfg.dim, 1, 1.0, &mut rng);
    let types = [TYPE_Q4_1, TYPE_Q4_0, TYPE_Q8_0, TYPE_F16, TYPE_F32];
    for l in 0..cfg.n_layers {
        let t = |i: usize| types[(i + l) % types.len()];
        let name = |s: &str| format!("blk.{l}.{s}");
        add(name("attn_norm.weight"), TYPE_F32, cfg.dim, 1, 1.0, &mut rng);
        add(name("ffn_norm.weight"), TYPE_F32, cfg.dim, 1, 1.0, &mut rng);
        add(name("attn_q.weight"), t(0), cfg.dim, n_q, 0.5, &mut rng);
        add(name("attn_k.weight"), t(1), cfg.dim, n_kv, 0.5, &mut rng);
        add(name("attn_v.weight"), t(2), cfg.dim, n_kv, 0.5, &mut rng);
        add(name("attn_output.weight"), t(3), n_q, cfg.dim, 0.3, &mut rng);
        add(name("ffn_gate.weight"), t(4), cfg.dim, cfg.n_ff, 0.3, &mut rng);
        add(name("ffn_up.weight"), t(0), cfg.dim, cfg.n_ff, 0.3, &mut rng);
        add(name("ffn_down.weight"), t(1), cfg.n_ff, cfg.dim, 0.3, &mut rng);
        if bias {
            add(name("attn_q.bias"), TYPE_F32, n_q, 1, 0.3, &mut rng);
            add(name("attn_k.bias"), TYPE_F32, n_kv, 1, 0.3, &mut rng);
            add(name("attn_v.bias"), TYPE_F32, n_kv, 1, 0.3, &mut rng);
        }
    }
    MapSource(m)
}

/// Teacher-forced next-token logits after each prefix, in f32 (K/V rounded to f16 as the
/// GPU cache stores them).
fn reference_logits(cfg: &LlamaConfig, m: &MapSource, tokens: &[u32]) -> Vec<Vec<f32>> {
    let (hd, n_q, n_kv) = (cfg.head_dim, cfg.n_head * cfg.head_dim, cfg.n_kv_head * cfg.head_dim);
    let f16 = |v: f32| f16_to_f32(f32_to_f16(v));
    let emb = m.dense("token_embd.weight");
    let out_w = m.opt("output.weight").unwrap_or_else(|| emb.clone());
    let mut keys: Vec<Vec<Vec<f32>>> = vec![Vec::new(); cfg.n_layers];
    let mut values: Vec<Vec<Vec<f32>>> = vec![Vec::new(); cfg.n_layers];
    let mut logits = Vec::new();
    for (pos, &tok) in tokens.iter().enumerate() {
        let mut x = emb[tok as usize * cfg.dim..(tok as usize + 1) * cfg.dim].to_vec();
        for l in 0..cfg.n_layers {
            let w = |s: &str| m.dense(&format!("blk.{l}.{s}"));
            let add_bias = |v: &mut Vec<f32>, s: &str| {
                if let Some(b) = m.opt(&format!("blk.{l}.{s}")) {
                    v.iter_mut().zip(b).for_each(|(a, b)| *a += b);
                }
            };
            let xn = rmsnorm(&x, &w("attn_norm.weight"), cfg.norm_eps);
            let mut q = matvec(&w("attn_q.weight"), cfg.dim, &xn);
            let mut k = matvec(&w("attn_k.weight"), cfg.dim, &xn);
            let mut v = matvec(&w("attn_v.weight"), cfg.dim, &xn);
            add_bias(&mut q, "attn_q.bias");
            add_bias(&mut k, "attn_k.bias");
            add_bias(&mut v, "attn_v.bias");
            q.chunks_mut(hd).for_each(|h| rope(h, pos, cfg.n_rot, cfg.rope_base, cfg.rope_neox));
            k.chunks_mut(hd).for_each(|h| rope(h, pos, cfg.n_rot, cfg.rope_base, cfg.rope_neox));
            keys[l].push(k.into_iter().map(f16).collect());
            values[l].push(v.into_iter().map(f16).collect());
            let mut attn = vec![0f32; n_q];
            for h in 0..cfg.n_head {
                let kvh = h / (cfg.n_head / cfg.n_kv_head);
                let qh = &q[h * hd..(h + 1) * hd];
                let scores: Vec<f32> = keys[l]
                    .iter()
                    .map(|k| k[kvh * hd..(kvh + 1) * hd].iter().zip(qh).map(|(a, b)| a * b).sum::<f32>() / (hd as f32).sqrt())
                    .collect();
                let mx = scores.iter().fold(f32::MIN, |a, b| a.max(*b));
                let e: Vec<f32> = scores.iter().map(|s| (s - mx).exp()).collect();
                let sum: f32 = e.iter().sum();
                for (p, wgt) in e.iter().enumerate() {
                    for d in 0..hd {
                        attn[h * hd + d] += wgt / sum * values[l][p][kvh * hd + d];
                    }
                }
            }
            let o = matvec(&w("attn_output.weight"), n_q, &attn);
            x.iter_mut().zip(o).for_each(|(a, b)| *a += b);
            let _ = n_kv;
            let xn = rmsnorm(&x, &w("ffn_norm.weight"), cfg.norm_eps);
            let g = matvec(&w("ffn_gate.weight"), cfg.dim, &xn);
            let u = matvec(&w("ffn_up.weight"), cfg.dim, &xn);
            let hh: Vec<f32> = g.iter().zip(&u).map(|(g, u)| g / (1.0 + (-g).exp()) * u).collect();
            let d = matvec(&w("ffn_down.weight"), cfg.n_ff, &hh);
            x.iter_mut().zip(d).for_each(|(a, b)| *a += b);
        }
        let xn = rmsnorm(&x, &m.dense("output_norm.weight"), cfg.norm_eps);
        logits.push(matvec(&out_w, cfg.dim, &xn));
    }
    logits
}

fn argmax(v: &[f32]) -> u32 {
    v.iter().enumerate().fold((0, f32::MIN), |b, (i, x)| if *x > b.1 { (i, *x) } else { b }).0 as u32
}

fn engine(cfg: &LlamaConfig, m: &MapSource, opts: EngineOptions) -> WgpuEngine {
    let gpu = pollster::block_on(Gpu::new()).expect("a native wgpu adapter (lavapipe in CI)");
    WgpuEngine::load_blocking(&gpu, cfg, m, &opts).expect("engine loads")
}

fn assert_rows_close(got: &[Vec<f32>], want: &[Vec<f32>], tol: f32) {
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let err = max_abs_diff(g, w);
        assert!(err < tol, "position {i}: max |Δlogit| {err}");
    }
}

#[test]
fn teacher_forced_logits_match_the_f32_reference_for_both_rope_styles() {
    let tokens: Vec<u32> = (0..70).map(|i| (i * 37 + 11) % 101).collect();
    for (neox, bias, tied) in [(false, false, true), (true, true, false)] {
        let cfg = tiny_config(neox);
        let m = tiny_model(&cfg, bias, tied, 11 + neox as u64);
        let want = reference_logits(&cfg, &m, &tokens);
        // 70 positions cross two attention chunks and need two submits of ≤ 64 logits rows.
        let mut e = engine(&cfg, &m, EngineOptions::default());
        let got = e.logits_for_blocking(&tokens).unwrap();
        assert_rows_close(&got, &want, 2e-3);
        assert_eq!(e.counts().submits, 2, "{:?}", e.counts());

        let top = e.top_k_for_blocking(&tokens).unwrap();
        for (row, t) in want.iter().zip(&top) {
            assert_eq!(t.len(), 40);
            assert_eq!(t[0].0, argmax(row));
            assert!(t.windows(2).all(|w| w[0].1 >= w[1].1));
        }
    }
}

#[test]
fn prefill_then_decode_equals_teacher_forcing_and_greedy_stays_on_the_gpu() {
    let cfg = LlamaConfig { vocab: 1000, ..tiny_config(false) };
    let m = tiny_model(&cfg, false, true, 21);
    // A 64 KiB binding limit splits the tied 1000-row Q8_0 embedding (72 B/row) into 2 parts.
    let mut e = engine(&cfg, &m, EngineOptions { max_binding_bytes: 64 << 10, max_ctx: Some(64), top_k: 4 });
    assert_eq!(e.counts().per_token, 2 + 5 * 2 + 2 + 1);
    assert_eq!(e.counts().per_layer, 5);
    let prompt = [5u32, 17, 99, 3];
    let mut got = vec![e.prefill_blocking(&prompt).unwrap()];
    for t in [40u32, 41, 7] {
        got.push(e.decode_blocking(t).unwrap());
    }
    assert_eq!(e.position(), 7);
    let want = reference_logits(&cfg, &m, &[5, 17, 99, 3, 40, 41, 7]);
    assert_rows_close(&got, &want[3..], 2e-3);

    e.reset();
    let submits = e.counts().submits;
    let generated = e.generate_greedy_blocking(&prompt, 20, &[]).unwrap();
    assert_eq!(generated.len(), 20);
    assert_eq!(e.counts().submits - submits, 1 + 20, "one submit for the prompt, one per token");
    assert_eq!(e.position(), prompt.len() + 19);
    let mut seq = prompt.to_vec();
    seq.extend(&generated);
    let reference = reference_logits(&cfg, &m, &seq);
    for (i, &tok) in generated.iter().enumerate() {
        let row = &reference[prompt.len() - 1 + i];
        let best = argmax(row);
        let mut sorted = row.clone();
        sorted.sort_by(|a, b| b.total_cmp(a));
        assert!(tok == best || sorted[0] - sorted[1] < 1e-2, "step {i}: gpu {tok}, reference {best}");
    }

    // A stop token ends generation (the extra in-flight steps are dropped).
    e.reset();
    let stop = generated[5];
    let first_stop = generated.iter().position(|t| *t == stop).unwrap();
    let stopped = e.generate_greedy_blocking(&prompt, 20, &[stop]).unwrap();
    assert_eq!(stopped, generated[..=first_stop]);
    assert_eq!(e.position(), prompt.len() + first_stop);
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let cfg = tiny_config(false);
    let m = tiny_model(&cfg, false, true, 31);
    let mut e = engine(&cfg, &m, EngineOptions { max_ctx: Some(8), ..Default::default() });
    assert!(e.prefill_blocking(&[101]).unwrap_err().contains("outside the vocabulary"));
    assert!(e.prefill_blocking(&[1; 9]).unwrap_err().contains("context"));
    assert!(e.prefill_blocking(&[]).is_err());
    assert_eq!(e.position(), 0);

    let gpu = pollster::block_on(Gpu::new()).unwrap();
    let mut broken = tiny_model(&cfg, false, true, 31);
    broken.0.remove("blk.1.ffn_up.weight");
    let err = WgpuEngine::load_blocking(&gpu, &cfg, &broken, &EngineOptions::default()).err().unwrap();
    assert!(err.contains("blk.1.ffn_up.weight"), "{err}");
    let wide = LlamaConfig { head_dim: 18, ..cfg };
    assert!(WgpuEngine::load_blocking(&gpu, &wide, &m, &EngineOptions::default()).is_err());
}
