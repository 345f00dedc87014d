//! Keys and values of past positions, in f16 (as llama.cpp's default cache), per layer and KV head.
//!
//! Layout: one growable buffer per (layer, KV head) holding `positions × head_dim` f16 values, so
//! one head's keys are contiguous for attention. Memory grows with use up to `max_ctx`.

use crate::quant::f32_to_f16_bits;

/// f16 bits → f32 for finite values (the cache never stores inf/NaN from finite inputs below
/// 65504; larger values saturate to a large finite number instead of inf). A shift and a multiply
/// by 2^112 rebias the exponent, subnormals included, so the loop vectorizes on every target.
#[inline(always)]
pub fn f16_to_f32_finite(h: u16) -> f32 {
    let magnitude = f32::from_bits(u32::from(h & 0x7FFF) << 13) * f32::from_bits(0x7780_0000);
    f32::from_bits(magnitude.to_bits() | (u32::from(h & 0x8000) << 16))
}

#[derive(Clone, Debug)]
pub struct KvCache {
    n_layer: usize,
    n_head_kv: usize,
    head_dim: usize,
    max_ctx: usize,
    len: usize,
    k: Vec<Vec<u16>>,
    v: Vec<Vec<u16>>,
}

impl KvCache {
    pub fn new(n_layer: usize, n_head_kv: usize, head_dim: usize, max_ctx: usize) -> Self {
        let heads = n_layer * n_head_kv;
        Self { n_layer, n_head_kv, head_dim, max_ctx, len: 0, k: vec![Vec::new(); heads], v: vec![Vec::new(); heads] }
    }

    /// Positions stored.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn max_ctx(&self) -> usize {
        self.max_ctx
    }

    /// Forgets positions `n..` (keeps the allocation).
    pub fn truncate(&mut self, n: usize) {
        self.len = self.len.min(n);
    }

    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Bytes held by the cache buffers now.
    pub fn allocated_bytes(&self) -> usize {
        self.k.iter().chain(&self.v).map(|b| b.capacity() * 2).sum()
    }

    /// Writes position `pos`'s keys and values (`n_head_kv × head_dim` each) for `layer`.
    /// Positions become visible through [`Self::set_len`] once every layer has them.
    pub fn store(&mut self, layer: usize, pos: usize, k: &[f32], v: &[f32]) {
        debug_assert!(layer < self.n_layer && pos < self.max_ctx);
        let d = self.head_dim;
        for h in 0..self.n_head_kv {
            let idx = layer * self.n_head_kv + h;
            for (buf, src) in [(&mut self.k[idx], k), (&mut self.v[idx], v)] {
                if buf.len() < (pos + 1) * d {
                    buf.resize((pos + 1) * d, 0);
                }
                for (dst, x) in buf[pos * d..(pos + 1) * d].iter_mut().zip(&src[h * d..(h + 1) * d]) {
                    *dst = f32_to_f16_bits(*x);
                }
            }
        }
    }

    /// Marks positions `0..n` as filled (after [`Self::store`] for every layer).
    pub fn set_len(&mut self, n: usize) {
        debug_assert!(n <= self.max_ctx);
        self.len = n;
    }

    /// The first `n` positions' keys of one KV head (`n × head_dim` f16 bits).
    pub fn keys(&self, layer: usize, head: usize, n: usize) -> &[u16] {
        &self.k[layer * self.n_head_kv + head][..n * self.head_dim]
    }

    pub fn values(&self, layer: usize, head: usize, n: usize) -> &[u16] {
        &self.v[layer * self.n_head_kv + head][..n * self.head_dim]
    }
}
