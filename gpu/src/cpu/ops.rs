//! The forward pass's element-wise and attention operations, written to be read: each follows the
//! llama.cpp CPU op it stands for (named in its doc), and the WGSL kernels are tested against them.

use super::kv_cache::f16_to_f32_finite;
use crate::quant::Kernel;
pub use crate::gguf::RopeStyle;

/// RMSNorm then scale by `weight` (llama.cpp `rms_norm` + `mul`): `out = x / sqrt(mean(x²) + eps) · w`.
/// The sum of squares is accumulated in f64, as ggml does.
pub fn rmsnorm(x: &[f32], weight: &[f32], eps: f32, out: &mut [f32]) {
    debug_assert_eq!(x.len(), weight.len());
    let sum: f64 = x.iter().map(|v| f64::from(v * v)).sum();
    let mean = (sum / x.len() as f64) as f32;
    let scale = 1.0 / (mean + eps).sqrt();
    for ((o, v), w) in out.iter_mut().zip(x).zip(weight) {
        *o = v * scale * w;
    }
}

/// `x += y` (residual connections).
pub fn add_in_place(x: &mut [f32], y: &[f32]) {
    for (a, b) in x.iter_mut().zip(y) {
        *a += b;
    }
}

/// SwiGLU's gate: `gate[i] = silu(gate[i]) · up[i]`, with `silu(g) = g / (1 + e^−g)`.
pub fn swiglu_in_place(gate: &mut [f32], up: &[f32]) {
    for (g, u) in gate.iter_mut().zip(up) {
        *g = *g / (1.0 + (-*g).exp()) * u;
    }
}

/// cos/sin of every pair's angle at one position.
#[derive(Clone, Debug, Default)]
pub struct RopeAngles {
    pub cos: Vec<f32>,
    pub sin: Vec<f32>,
}

impl RopeAngles {
    /// Angles for position `pos`: pair i turns by `pos · freq_scale · base^(−2i/d) / factor_i`.
    /// The frequency is built by repeated multiplication, as ggml's `rope_yarn` cache does, so the
    /// angles round the same way as llama.cpp's.
    pub fn compute(&mut self, pos: usize, head_dim: usize, base: f32, freq_scale: f32, factors: Option<&[f32]>) {
        let half = head_dim / 2;
        self.cos.resize(half, 0.0);
        self.sin.resize(half, 0.0);
        let theta_scale = base.powf(-2.0 / head_dim as f32);
        let mut theta_extrap = pos as f32;
        for i in 0..half {
            let factor = factors.map_or(1.0, |f| f[i]);
            let theta = freq_scale * theta_extrap / factor;
            self.cos[i] = theta.cos();
            self.sin[i] = theta.sin();
            theta_extrap *= theta_scale;
        }
    }
}

/// Rotates every head of `x` (`n_heads × head_dim`) in place by the given angles: pairs
/// (2i, 2i+1) for [`RopeStyle::Interleaved`] (llama.cpp `ROPE_TYPE_NORM`), (i, i + d/2) for
/// [`RopeStyle::Halves`] (`ROPE_TYPE_NEOX`).
pub fn rope_in_place(x: &mut [f32], head_dim: usize, angles: &RopeAngles, style: RopeStyle) {
    let half = head_dim / 2;
    for head in x.chunks_exact_mut(head_dim) {
        for i in 0..half {
            let (a, b) = match style {
                RopeStyle::Interleaved => (2 * i, 2 * i + 1),
                RopeStyle::Halves => (i, i + half),
            };
            let (x0, x1) = (head[a], head[b]);
            let (c, s) = (angles.cos[i], angles.sin[i]);
            head[a] = x0 * c - x1 * s;
            head[b] = x0 * s + x1 * c;
        }
    }
}

/// In-place softmax (max subtracted; sum in f64 as ggml's `soft_max` does).
pub fn softmax_in_place(x: &mut [f32]) {
    let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0f64;
    for v in x.iter_mut() {
        *v = (*v - max).exp();
        sum += f64::from(*v);
    }
    let inv = (1.0 / sum) as f32;
    for v in x.iter_mut() {
        *v *= inv;
    }
}

/// One query head attending over `n` cached positions (causal masking is the caller's choice of
/// `n`). `keys` and `values` are f16 bits, `n × head_dim` contiguous; `scores` is scratch.
/// Writes `out = Σ_j softmax(q·k_j · scale)_j · v_j`. Runs the fastest kernel this machine has
/// ([`attend_head_with`] picks one).
pub fn attend_head(q: &[f32], keys: &[u16], values: &[u16], n: usize, scale: f32, scores: &mut Vec<f32>, out: &mut [f32]) {
    attend_head_with(Kernel::best(), q, keys, values, n, scale, scores, out);
}

/// [`attend_head`] on a chosen kernel. The scalar loops are the reference; the AVX2 and SIMD128
/// ones convert eight cached values at a time and differ only in summation order.
///
/// As in llama.cpp's CPU attention (no flash attention), `q` and the probabilities are rounded
/// to f16 precision before their mat-muls with the f16 cache. This matters more than it looks:
/// the Q8 activation rounding downstream turns any tiny difference into full quantization noise.
#[allow(clippy::too_many_arguments)]
pub fn attend_head_with(
    kernel: Kernel,
    q: &[f32],
    keys: &[u16],
    values: &[u16],
    n: usize,
    scale: f32,
    scores: &mut Vec<f32>,
    out: &mut [f32],
) {
    let d = q.len();
    assert!(keys.len() >= n * d && values.len() >= n * d, "attention shapes");
    attend_pages_with(kernel, q, std::iter::once((&keys[..n * d], &values[..n * d])), scale, scores, out);
}

/// [`attend_head`] over keys and values in pieces (a paged KV cache): each item holds the
/// (keys, values) of the next positions, `m × head_dim` each. Pieces that start at multiples
/// of four positions give bit-identical results to one contiguous buffer (the vector loops
/// take positions four at a time).
pub fn attend_pages<'a>(
    q: &[f32],
    pages: impl Iterator<Item = (&'a [u16], &'a [u16])> + Clone,
    scale: f32,
    scores: &mut Vec<f32>,
    out: &mut [f32],
) {
    attend_pages_with(Kernel::best(), q, pages, scale, scores, out);
}

fn attend_pages_with<'a>(
    kernel: Kernel,
    q: &[f32],
    pages: impl Iterator<Item = (&'a [u16], &'a [u16])> + Clone,
    scale: f32,
    scores: &mut Vec<f32>,
    out: &mut [f32],
) {
    let d = q.len();
    assert!(d <= 256 && out.len() == d, "attention shapes");
    let mut q16 = [0.0f32; 256];
    let q16 = &mut q16[..d];
    for (r, v) in q16.iter_mut().zip(q) {
        *r = round_to_f16_finite(*v);
    }
    let n: usize = pages.clone().map(|(k, v)| {
        assert!(k.len() == v.len() && k.len().is_multiple_of(d), "attention page shapes");
        k.len() / d
    }).sum();
    scores.resize(n, 0.0);
    let vector = vector_attention(kernel, d);
    let mut start = 0;
    for (keys, _) in pages.clone() {
        let m = keys.len() / d;
        let scores = &mut scores[start..start + m];
        #[cfg(target_arch = "x86_64")]
        if vector {
            // SAFETY: Kernel::Avx2/Avx512 are only chosen when the CPU has AVX2, FMA and F16C; shapes were
            // checked above.
            unsafe { super::avx2::scores_f16(q16, keys, m, scale, scores) };
        }
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        if vector {
            super::simd128::scores_f16(q16, keys, m, scale, scores);
        }
        if !vector {
            for (j, s) in scores.iter_mut().enumerate() {
                *s = dot_f16_row(q16, &keys[j * d..(j + 1) * d]) * scale;
            }
        }
        start += m;
    }
    softmax_in_place(scores);
    for p in scores.iter_mut() {
        *p = round_to_f16_finite(*p);
    }
    out.fill(0.0);
    let mut start = 0;
    for (_, values) in pages {
        let m = values.len() / d;
        let probs = &scores[start..start + m];
        #[cfg(target_arch = "x86_64")]
        if vector {
            // SAFETY: as above.
            unsafe { super::avx2::weighted_sum_f16(probs, values, out) };
        }
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        if vector {
            super::simd128::weighted_sum_f16(probs, values, out);
        }
        if !vector {
            for (j, p) in probs.iter().enumerate() {
                axpy_f16_row(*p, &values[j * d..(j + 1) * d], out);
            }
        }
        start += m;
    }
}

/// Whether `kernel` has vector attention loops for heads `d` wide.
fn vector_attention(kernel: Kernel, d: usize) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        matches!(kernel, Kernel::Avx2 | Kernel::Avx512) && d.is_multiple_of(8)
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        kernel == Kernel::Simd128 && d.is_multiple_of(8)
    }
    #[cfg(not(any(target_arch = "x86_64", all(target_arch = "wasm32", target_feature = "simd128"))))]
    {
        let _ = (kernel, d);
        false
    }
}

/// `x` rounded to the nearest f16 value (ties to even), for finite |x| ≤ 65504. Branch-light
/// so it vectorizes: f16 subnormals (|x| < 2^−14) round to multiples of 2^−24, normals drop 13
/// mantissa bits with round-to-nearest-even.
#[inline(always)]
pub fn round_to_f16_finite(x: f32) -> f32 {
    if x.abs() < 6.103_515_6e-5 {
        // |x·2^24| < 1024: adding and subtracting 1.5·2^23 rounds half to even (the default FP
        // mode) without the libm `rintf` call `round_ties_even` costs on baseline x86-64/wasm.
        const MAGIC: f32 = 12_582_912.0;
        return ((x * 16_777_216.0 + MAGIC) - MAGIC) * (1.0 / 16_777_216.0);
    }
    let bits = x.to_bits();
    f32::from_bits((bits + 0x0FFF + ((bits >> 13) & 1)) & !0x1FFF)
}

/// `q · k` with `k` in f16 bits; eight partial sums so the loop vectorizes.
#[inline]
fn dot_f16_row(q: &[f32], k: &[u16]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let mut qc = q.chunks_exact(8);
    let mut kc = k.chunks_exact(8);
    for (a, b) in (&mut qc).zip(&mut kc) {
        for l in 0..8 {
            lanes[l] += a[l] * f16_to_f32_finite(b[l]);
        }
    }
    let tail: f32 = qc.remainder().iter().zip(kc.remainder()).map(|(a, b)| a * f16_to_f32_finite(*b)).sum();
    lanes.iter().sum::<f32>() + tail
}

/// `out += p · v` with `v` in f16 bits.
#[inline]
fn axpy_f16_row(p: f32, v: &[u16], out: &mut [f32]) {
    for (o, h) in out.iter_mut().zip(v) {
        *o += p * f16_to_f32_finite(*h);
    }
}

/// Index and value of the largest element (first one on ties).
pub fn argmax(x: &[f32]) -> usize {
    let mut best = 0;
    for (i, v) in x.iter().enumerate() {
        if *v > x[best] {
            best = i;
        }
    }
    best
}
