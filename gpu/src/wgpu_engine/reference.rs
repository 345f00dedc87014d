//! Plain f32 definitions the WebGPU kernels are checked against, usable outside tests (the
//! browser self-check runs them too): GGUF block quantizers and dequantizers written from the
//! block layouts, RMSNorm, RoPE, a deterministic random llama-shaped model and its f32
//! forward pass (K/V rounded to f16 as the GPU cache stores them).

use std::collections::HashMap;

use super::model::{LlamaConfig, TensorView, WeightSource};
use super::pack::{self, TYPE_F16, TYPE_F32, TYPE_Q4_0, TYPE_Q4_1, TYPE_Q8_0};

/// Deterministic pseudo-random numbers (xorshift64*), so failures reproduce.
pub struct Rng(u64);
impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [-1, 1).
    pub fn f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }
    pub fn vec(&mut self, n: usize, scale: f32) -> Vec<f32> {
        (0..n).map(|_| self.f32() * scale).collect()
    }
}

pub use crate::quant::{f16_bits_to_f32 as f16_to_f32, f32_to_f16_bits as f32_to_f16};
use crate::quant::{WeightFormat, dequantize_row, quantize_row_q4_0, quantize_row_q4_1, quantize_row_q8_0};

/// Quantizes `values` (whole blocks) into GGUF bytes of type `t` with the quant module's
/// reference quantizers (ggml's `quantize_row_*_ref`).
pub fn quantize(t: u32, values: &[f32]) -> Vec<u8> {
    let blocks = match t {
        pack::TYPE_F32 => return values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        pack::TYPE_F16 => return values.iter().flat_map(|v| f32_to_f16(*v).to_le_bytes()).collect(),
        pack::TYPE_Q4_0 => quantize_row_q4_0(values),
        pack::TYPE_Q4_1 => quantize_row_q4_1(values),
        _ => quantize_row_q8_0(values),
    };
    blocks.expect("synthetic weights come in whole blocks")
}

/// Dequantizes GGUF bytes of type `t` (the quant module's definition of the block layouts).
pub fn dequantize(t: u32, bytes: &[u8]) -> Vec<f32> {
    let format = WeightFormat::from_ggml_type(t).expect("a type the engine supports");
    let elems = bytes.len() / format.block_bytes() * format.block_elems();
    let mut out = vec![0.0; elems];
    dequantize_row(format, bytes, &mut out).expect("whole blocks");
    out
}

pub fn matvec(w: &[f32], k: usize, x: &[f32]) -> Vec<f32> {
    w.chunks_exact(k).map(|row| row.iter().zip(x).map(|(a, b)| a * b).sum()).collect()
}

pub fn rmsnorm(x: &[f32], g: &[f32], eps: f32) -> Vec<f32> {
    let ms = x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32;
    let inv = 1.0 / (ms + eps).sqrt();
    x.iter().zip(g).map(|(v, g)| v * inv * g).collect()
}

/// RoPE on one head in place: NORM rotates (2i, 2i+1), NEOX (i, i + n_rot/2).
pub fn rope(head: &mut [f32], pos: usize, n_rot: usize, base: f32, neox: bool) {
    for i in 0..n_rot / 2 {
        let theta = pos as f64 * (base as f64).powf(-2.0 * i as f64 / n_rot as f64);
        let (s, c) = theta.sin_cos();
        let (a, b) = if neox { (i, i + n_rot / 2) } else { (2 * i, 2 * i + 1) };
        let (x0, x1) = (head[a] as f64, head[b] as f64);
        head[a] = (x0 * c - x1 * s) as f32;
        head[b] = (x0 * s + x1 * c) as f32;
    }
}

pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}


pub struct SyntheticWeights(pub HashMap<String, (u32, [u64; 2], Vec<u8>)>);

impl WeightSource for SyntheticWeights {
    fn tensor(&self, name: &str) -> Option<TensorView<'_>> {
        self.0.get(name).map(|(t, ne, data)| TensorView { ggml_type: *t, ne: *ne, data: data.into() })
    }
}

impl SyntheticWeights {
    pub fn dense(&self, name: &str) -> Vec<f32> {
        let (t, _, data) = &self.0[name];
        dequantize(*t, data)
    }
    pub fn opt(&self, name: &str) -> Option<Vec<f32>> {
        self.0.contains_key(name).then(|| self.dense(name))
    }
}

pub fn tiny_config(neox: bool) -> LlamaConfig {
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

pub fn tiny_model(cfg: &LlamaConfig, bias: bool, tied: bool, seed: u64) -> SyntheticWeights {
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
    SyntheticWeights(m)
}

/// Teacher-forced next-token logits after each prefix, in f32 (K/V rounded to f16 as the
/// GPU cache stores them).
pub fn reference_logits(cfg: &LlamaConfig, m: &SyntheticWeights, tokens: &[u32]) -> Vec<Vec<f32>> {
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
