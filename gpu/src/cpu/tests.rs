//! The CPU ops on small known cases, and whole tiny synthetic models (written as GGUF) against an
//! independent f32 forward pass: llama (interleaved RoPE, tied output) and qwen2 (q/k/v biases,
//! half-split RoPE, separate output), with every weight format in the mix.

use std::sync::Arc;

use super::ops::*;
use super::*;
use crate::gguf::{GgmlType, GgufBuilder, GgufFile};
use crate::quant::{self, dequantize_row, round_to_f16, WeightFormat};

fn values(n: usize, seed: u64, scale: f32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale
        })
        .collect()
}

#[test]
fn f16_helpers_agree_with_ieee_conversion() {
    for bits in 0u16..=u16::MAX {
        let exact = quant::f16_bits_to_f32(bits);
        if exact.is_finite() {
            assert_eq!(f16_to_f32_finite(bits).to_bits(), exact.to_bits(), "bits {bits:#06x}");
        }
    }
    for x in values(200_000, 5, 70_000.0).into_iter().chain(values(50_000, 6, 1e-4)) {
        if x.abs() <= 65504.0 {
            assert_eq!(round_to_f16_finite(x), round_to_f16(x), "{x:e}");
        }
    }
    // Ties go to even, at both normal and subnormal scales.
    let tie = 1.0 + 2f32.powi(-11);
    assert_eq!(round_to_f16_finite(tie), 1.0);
    assert_eq!(round_to_f16_finite(3.0 * 2f32.powi(-25)), 2.0 * 2f32.powi(-24));
}

#[test]
fn rmsnorm_scales_to_unit_mean_square() {
    let x = [3.0f32, -4.0, 0.0, 5.0];
    let mut out = [0.0; 4];
    rmsnorm(&x, &[1.0, 1.0, 2.0, 0.5], 0.0, &mut out);
    let rms = (50.0f32 / 4.0).sqrt();
    for (o, e) in out.iter().zip([3.0 / rms, -4.0 / rms, 0.0, 2.5 / rms]) {
        assert!((o - e).abs() < 1e-6, "{o} vs {e}");
    }
}

#[test]
fn rope_rotates_the_right_pairs_by_the_right_angles() {
    let (hd, base) = (8, 100.0f32);
    let mut angles = RopeAngles::default();
    angles.compute(0, hd, base, 1.0, None);
    let x: Vec<f32> = (1..=16).map(|v| v as f32).collect();
    let mut y = x.clone();
    rope_in_place(&mut y, hd, &angles, RopeStyle::Interleaved);
    assert_eq!(y, x, "position 0 is the identity");

    angles.compute(3, hd, base, 1.0, None);
    for style in [RopeStyle::Interleaved, RopeStyle::Halves] {
        let mut y = x.clone();
        rope_in_place(&mut y, hd, &angles, style);
        for head in 0..2 {
            for i in 0..hd / 2 {
                let (a, b) = match style {
                    RopeStyle::Interleaved => (2 * i, 2 * i + 1),
                    RopeStyle::Halves => (i, i + hd / 2),
                };
                let theta = 3.0 * base.powf(-2.0 * i as f32 / hd as f32);
                let (x0, x1) = (x[head * hd + a], x[head * hd + b]);
                let (c, s) = (theta.cos(), theta.sin());
                assert!((y[head * hd + a] - (x0 * c - x1 * s)).abs() < 1e-4, "{style:?} head {head} pair {i}");
                assert!((y[head * hd + b] - (x0 * s + x1 * c)).abs() < 1e-4, "{style:?} head {head} pair {i}");
            }
        }
    }
    // Frequency factors divide the angle; a linear scale multiplies the position.
    let mut scaled = RopeAngles::default();
    scaled.compute(6, hd, base, 0.5, Some(&[1.0, 2.0, 1.0, 1.0]));
    let mut plain = RopeAngles::default();
    plain.compute(3, hd, base, 1.0, None);
    assert!((scaled.cos[0] - plain.cos[0]).abs() < 1e-6);
    let theta1 = 3.0 * base.powf(-2.0 / hd as f32) / 2.0;
    assert!((scaled.cos[1] - theta1.cos()).abs() < 1e-5);
}

#[test]
fn softmax_and_swiglu() {
    let mut x = [1.0f32, 2.0, 3.0, 1000.0];
    softmax_in_place(&mut x);
    assert_eq!(x, [0.0, 0.0, 0.0, 1.0], "the max is subtracted, so large logits do not overflow");
    let mut y = [0.0f32, 2.0f32.ln()];
    softmax_in_place(&mut y);
    assert!((y[0] - 1.0 / 3.0).abs() < 1e-6 && (y[1] - 2.0 / 3.0).abs() < 1e-6);
    let mut g = [0.0f32, 2.0, -2.0];
    swiglu_in_place(&mut g, &[5.0, 1.0, 3.0]);
    let silu = |v: f32| v / (1.0 + (-v).exp());
    assert_eq!(g, [0.0, silu(2.0), silu(-2.0) * 3.0]);
}

#[test]
fn attention_of_one_head_is_a_softmax_weighted_average() {
    let d = 4;
    let q = [1.0f32, 0.0, 0.5, 0.0];
    let keys: Vec<f32> = vec![1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 2.0, 0.0, 1.0, 0.0];
    let vals: Vec<f32> = vec![1.0, 2.0, 3.0, 4.0, -1.0, 0.0, 1.0, 0.0, 0.5, 0.5, 0.5, 0.5];
    let bits = |v: &[f32]| v.iter().map(|x| quant::f32_to_f16_bits(*x)).collect::<Vec<_>>();
    let mut scores = Vec::new();
    let mut out = [0.0f32; 4];
    attend_head(&q, &bits(&keys), &bits(&vals), 3, 0.5, &mut scores, &mut out);
    let s: Vec<f32> = (0..3).map(|j| 0.5 * (0..d).map(|c| q[c] * keys[j * d + c]).sum::<f32>()).collect();
    let e: Vec<f32> = s.iter().map(|v| v.exp()).collect();
    let z: f32 = e.iter().sum();
    for c in 0..d {
        let expect: f32 = (0..3).map(|j| e[j] / z * vals[j * d + c]).sum();
        assert!((out[c] - expect).abs() < 2e-3, "dim {c}: {} vs {expect}", out[c]);
    }
    // Only the first position visible: the output is its value.
    attend_head(&q, &bits(&keys), &bits(&vals), 1, 0.5, &mut scores, &mut out);
    assert_eq!(out, [1.0, 2.0, 3.0, 4.0]);
}

#[test]
fn vector_attention_agrees_with_the_scalar_loops() {
    let kernel = quant::Kernel::best();
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") && is_x86_feature_detected!("f16c") {
        assert!(matches!(kernel, quant::Kernel::Avx2 | quant::Kernel::Avx512), "this machine has AVX2: the vector loops must be the ones tested");
    }
    let to_bits = |v: &[f32]| v.iter().map(|x| quant::f32_to_f16_bits(*x)).collect::<Vec<_>>();
    // Head widths on and off the 8- and 32-lane blocks; position counts around the 4-wide step.
    for d in [8, 36, 40, 64, 128, 256] {
        for n in [1, 3, 4, 5, 17, 300] {
            let q = values(d, (d * 1000 + n) as u64, 2.0);
            let keys = to_bits(&values(n * d, n as u64 + 7, 1.5));
            let vals = to_bits(&values(n * d, n as u64 + 99, 3.0));
            let (mut s1, mut s2) = (Vec::new(), Vec::new());
            let (mut fast, mut scalar) = (vec![0.0f32; d], vec![0.0f32; d]);
            attend_head_with(kernel, &q, &keys, &vals, n, 0.125, &mut s1, &mut fast);
            attend_head_with(quant::Kernel::Scalar, &q, &keys, &vals, n, 0.125, &mut s2, &mut scalar);
            for (c, (a, b)) in fast.iter().zip(&scalar).enumerate() {
                // Probabilities are f16-rounded: a summation-order change can move one by an f16
                // step, so the bound is a few f16 ulps of the largest value (3.0).
                assert!((a - b).abs() < 4e-3, "d {d} n {n} dim {c}: {a} vs {b}");
            }
            assert!(fast.iter().any(|v| *v != 0.0), "d {d} n {n}: output written");
        }
    }
}

#[test]
fn thread_pool_shares_cover_every_index_once() {
    for (n, parts, align) in [(10, 3, 4), (1536, 2, 4), (3, 4, 1), (0, 2, 4), (49152, 7, 4)] {
        let mut seen = vec![0; n];
        for idx in 0..parts {
            let r = pool::share(n, parts, idx, align);
            assert!(r.start.is_multiple_of(align) || r.start == n);
            for i in r {
                seen[i] += 1;
            }
        }
        assert!(seen.iter().all(|&c| c == 1), "{n} {parts} {align}");
    }
    let pool = ThreadPool::new(3);
    let hits: Vec<std::sync::atomic::AtomicUsize> = (0..3).map(|_| Default::default()).collect();
    for _ in 0..1000 {
        pool.run(&|i| {
            hits[i].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        });
    }
    assert!(hits.iter().all(|h| h.load(std::sync::atomic::Ordering::Relaxed) == 1000));
}

/// A tiny model's shape.
struct Tiny {
    arch: &'static str,
    n_layer: usize,
    dim: usize,
    n_head: usize,
    n_head_kv: usize,
    n_ff: usize,
    vocab: usize,
    bias: bool,
    tied: bool,
}

const FORMATS: [WeightFormat; 5] =
    [WeightFormat::Q4_1, WeightFormat::Q4_0, WeightFormat::Q8_0, WeightFormat::F16, WeightFormat::F32];

fn encode(format: WeightFormat, w: &[f32], cols: usize) -> Vec<u8> {
    match format {
        WeightFormat::F32 => w.iter().flat_map(|v| v.to_le_bytes()).collect(),
        WeightFormat::F16 => w.iter().flat_map(|v| quant::f32_to_f16_bits(*v).to_le_bytes()).collect(),
        WeightFormat::Q4_0 => w.chunks(cols).flat_map(|r| quant::quantize_row_q4_0(r).unwrap()).collect(),
        WeightFormat::Q4_1 => w.chunks(cols).flat_map(|r| quant::quantize_row_q4_1(r).unwrap()).collect(),
        WeightFormat::Q8_0 => w.chunks(cols).flat_map(|r| quant::quantize_row_q8_0(r).unwrap()).collect(),
    }
}

fn ggml(format: WeightFormat) -> GgmlType {
    GgmlType::from_id(format.ggml_type()).unwrap()
}

/// Writes the model as GGUF bytes.
fn build(t: &Tiny, seed: u64) -> Vec<u8> {
    let hd = t.dim / t.n_head;
    let (qd, kvd) = (t.n_head * hd, t.n_head_kv * hd);
    let mut b = GgufBuilder::new();
    let a = t.arch;
    b.kv("general.architecture", a)
        .kv(&format!("{a}.block_count"), t.n_layer as u32)
        .kv(&format!("{a}.embedding_length"), t.dim as u32)
        .kv(&format!("{a}.attention.head_count"), t.n_head as u32)
        .kv(&format!("{a}.attention.head_count_kv"), t.n_head_kv as u32)
        .kv(&format!("{a}.feed_forward_length"), t.n_ff as u32)
        .kv(&format!("{a}.context_length"), 64u32)
        .kv(&format!("{a}.rope.freq_base"), 10_000.0f32)
        .kv(&format!("{a}.attention.layer_norm_rms_epsilon"), 1e-5f32);
    let mut seed = seed;
    let mut mat = |b: &mut GgufBuilder, name: &str, format: WeightFormat, cols: usize, rows: usize, scale: f32| {
        seed += 1;
        let w = values(rows * cols, seed, scale);
        b.tensor(name, ggml(format), &[cols as u64, rows as u64], encode(format, &w, cols)).unwrap();
    };
    mat(&mut b, "token_embd.weight", WeightFormat::Q8_0, t.dim, t.vocab, 1.0);
    if !t.tied {
        mat(&mut b, "output.weight", WeightFormat::Q4_0, t.dim, t.vocab, 0.5);
    }
    let norm = |n: usize, s: u64| values(n, s, 0.3).iter().map(|v| 1.0 + v).collect::<Vec<_>>();
    b.tensor_f32("output_norm.weight", &[t.dim as u64], &norm(t.dim, 99)).unwrap();
    for l in 0..t.n_layer {
        let f = |i: usize| FORMATS[(i + l) % FORMATS.len()];
        let n = |s: &str| format!("blk.{l}.{s}");
        b.tensor_f32(&n("attn_norm.weight"), &[t.dim as u64], &norm(t.dim, 10 + l as u64)).unwrap();
        b.tensor_f32(&n("ffn_norm.weight"), &[t.dim as u64], &norm(t.dim, 20 + l as u64)).unwrap();
        mat(&mut b, &n("attn_q.weight"), f(0), t.dim, qd, 0.5);
        mat(&mut b, &n("attn_k.weight"), f(1), t.dim, kvd, 0.5);
        mat(&mut b, &n("attn_v.weight"), f(2), t.dim, kvd, 0.5);
        mat(&mut b, &n("attn_output.weight"), f(3), qd, t.dim, 0.3);
        mat(&mut b, &n("ffn_gate.weight"), f(4), t.dim, t.n_ff, 0.3);
        mat(&mut b, &n("ffn_up.weight"), f(0), t.dim, t.n_ff, 0.3);
        mat(&mut b, &n("ffn_down.weight"), f(1), t.n_ff, t.dim, 0.3);
        if t.bias {
            for (s, w) in [("attn_q.bias", qd), ("attn_k.bias", kvd), ("attn_v.bias", kvd)] {
                b.tensor_f32(&n(s), &[w as u64], &values(w, 30 + l as u64, 0.3)).unwrap();
            }
        }
    }
    b.build()
}

/// An independent f32 forward pass over the dequantized weights (angles with `powf`, exact
/// softmax, no activation quantization): teacher-forced logits after each token.
fn reference_logits(file: &GgufFile, t: &Tiny, tokens: &[u32], halves: bool) -> Vec<Vec<f32>> {
    let hd = t.dim / t.n_head;
    let dense = |name: &str| -> (Vec<f32>, usize) {
        let info = file.tensor(name).unwrap();
        let cols = info.dims()[0] as usize;
        let rows = info.dims().get(1).copied().unwrap_or(1) as usize;
        let format = WeightFormat::from_ggml_type(info.dtype.id()).unwrap();
        let data = file.data_of(info).unwrap();
        let rb = format.row_bytes(cols).unwrap();
        let mut out = vec![0.0; rows * cols];
        for r in 0..rows {
            dequantize_row(format, &data[r * rb..(r + 1) * rb], &mut out[r * cols..(r + 1) * cols]).unwrap();
        }
        (out, cols)
    };
    let mv = |w: &(Vec<f32>, usize), x: &[f32]| -> Vec<f32> {
        w.0.chunks(w.1).map(|row| row.iter().zip(x).map(|(a, b)| a * b).sum()).collect()
    };
    let norm = |x: &[f32], g: &[f32]| -> Vec<f32> {
        let ms = x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32;
        x.iter().zip(g).map(|(v, w)| v / (ms + 1e-5).sqrt() * w).collect()
    };
    let rope = |v: &mut [f32], pos: usize| {
        for head in v.chunks_mut(hd) {
            for i in 0..hd / 2 {
                let (a, b) = if halves { (i, i + hd / 2) } else { (2 * i, 2 * i + 1) };
                let th = pos as f32 * 10_000f32.powf(-2.0 * i as f32 / hd as f32);
                let (x0, x1) = (head[a], head[b]);
                head[a] = x0 * th.cos() - x1 * th.sin();
                head[b] = x0 * th.sin() + x1 * th.cos();
            }
        }
    };
    let emb = dense("token_embd.weight");
    let out_w = if t.tied { dense("token_embd.weight") } else { dense("output.weight") };
    let mut ks: Vec<Vec<Vec<f32>>> = vec![Vec::new(); t.n_layer];
    let mut vs: Vec<Vec<Vec<f32>>> = vec![Vec::new(); t.n_layer];
    let mut result = Vec::new();
    for (pos, &tok) in tokens.iter().enumerate() {
        let mut x = emb.0[tok as usize * t.dim..(tok as usize + 1) * t.dim].to_vec();
        for l in 0..t.n_layer {
            let n = |s: &str| format!("blk.{l}.{s}");
            let xn = norm(&x, &dense(&n("attn_norm.weight")).0);
            let mut q = mv(&dense(&n("attn_q.weight")), &xn);
            let mut k = mv(&dense(&n("attn_k.weight")), &xn);
            let mut v = mv(&dense(&n("attn_v.weight")), &xn);
            if t.bias {
                for (y, s) in [(&mut q, "attn_q.bias"), (&mut k, "attn_k.bias"), (&mut v, "attn_v.bias")] {
                    for (a, b) in y.iter_mut().zip(dense(&n(s)).0) {
                        *a += b;
                    }
                }
            }
            rope(&mut q, pos);
            rope(&mut k, pos);
            ks[l].push(k);
            vs[l].push(v);
            let mut attn = vec![0.0; t.n_head * hd];
            for h in 0..t.n_head {
                let g = h / (t.n_head / t.n_head_kv);
                let qh = &q[h * hd..(h + 1) * hd];
                let s: Vec<f32> = ks[l]
                    .iter()
                    .map(|k| qh.iter().zip(&k[g * hd..(g + 1) * hd]).map(|(a, b)| a * b).sum::<f32>() / (hd as f32).sqrt())
                    .collect();
                let m = s.iter().copied().fold(f32::MIN, f32::max);
                let e: Vec<f32> = s.iter().map(|v| (v - m).exp()).collect();
                let z: f32 = e.iter().sum();
                for (j, vj) in vs[l].iter().enumerate() {
                    for c in 0..hd {
                        attn[h * hd + c] += e[j] / z * vj[g * hd + c];
                    }
                }
            }
            for (a, b) in x.iter_mut().zip(mv(&dense(&n("attn_output.weight")), &attn)) {
                *a += b;
            }
            let xn = norm(&x, &dense(&n("ffn_norm.weight")).0);
            let gate = mv(&dense(&n("ffn_gate.weight")), &xn);
            let up = mv(&dense(&n("ffn_up.weight")), &xn);
            let hmid: Vec<f32> = gate.iter().zip(&up).map(|(g, u)| g / (1.0 + (-g).exp()) * u).collect();
            for (a, b) in x.iter_mut().zip(mv(&dense(&n("ffn_down.weight")), &hmid)) {
                *a += b;
            }
        }
        result.push(mv(&out_w, &norm(&x, &dense("output_norm.weight").0)));
    }
    result
}

/// Mean over positions of max |Δlogit| / max |logit|, and top-1 agreements.
fn compare(expect: &[Vec<f32>], got: &[f32], vocab: usize) -> (f32, usize) {
    let mut sum = 0.0f32;
    let mut agree = 0;
    for (i, row) in expect.iter().enumerate() {
        let ours = &got[i * vocab..(i + 1) * vocab];
        let scale = row.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        sum += row.iter().zip(ours).fold(0.0f32, |m, (a, b)| m.max((a - b).abs())) / scale;
        agree += usize::from(sampling::greedy(row) == sampling::greedy(ours));
    }
    (sum / expect.len() as f32, agree)
}

fn check_tiny(t: Tiny) {
    let bytes = build(&t, 7);
    let file = GgufFile::from_bytes(bytes.clone()).unwrap();
    let tokens = [1u32, 5, 9, 2, 7, 7, 3, 0, 11, 4];
    let halves = t.arch == "qwen2";
    let expect = reference_logits(&file, &t, &tokens, halves);
    let model = Arc::new(CpuModel::from_gguf(GgufFile::from_bytes(bytes).unwrap()).unwrap());
    assert_eq!(model.config().architecture, t.arch);
    let mut s = Session::new(Arc::clone(&model), SessionOptions { max_ctx: 32, n_threads: 1 });
    let got = s.logits_all(&tokens).unwrap();
    let (err, agree) = compare(&expect, &got, t.vocab);
    // Q8 activations, Q4 weights on random data and the f16 cache cost a few percent here
    // (2-10% worst case over seeds); the control below shows what a real mistake costs.
    assert!(err < 0.05, "{}: mean relative logit difference {err}", t.arch);
    assert!(agree >= tokens.len() - 1, "{}: top-1 agrees at {agree}/{}", t.arch, tokens.len());
    // Control: the same comparison against the other RoPE pairing fails clearly.
    let (wrong, _) = compare(&reference_logits(&file, &t, &tokens, !halves), &got, t.vocab);
    assert!(wrong > 3.0 * err.max(0.02), "{}: the check cannot tell RoPE pairings apart ({wrong} vs {err})", t.arch);
}

use crate::sampling;

#[test]
fn tiny_llama_matches_an_f32_forward_pass() {
    check_tiny(Tiny { arch: "llama", n_layer: 3, dim: 64, n_head: 4, n_head_kv: 2, n_ff: 96, vocab: 40, bias: false, tied: true });
}

#[test]
fn tiny_qwen2_with_biases_matches_an_f32_forward_pass() {
    check_tiny(Tiny { arch: "qwen2", n_layer: 2, dim: 64, n_head: 4, n_head_kv: 1, n_ff: 64, vocab: 48, bias: true, tied: false });
}
