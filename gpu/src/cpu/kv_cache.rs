//! Keys and values of past positions, in f16 (as llama.cpp's default cache), in pages of
//! [`PAGE`] positions.
//!
//! A page holds its positions for every layer and KV head, laid out `[layer][head][position][dim]`
//! so one head's keys within a page are contiguous for attention. Pages are reference counted:
//! several sequences that start with the same tokens can hold the same pages (see
//! [`super::PrefixCache`]), and a sequence writing into a page that someone else also holds
//! copies it first (copy on write), so sharing never changes what anyone reads.

use std::sync::Arc;

use crate::quant::f32_to_f16_bits;

/// Positions per page. A multiple of 4, so the attention loops, which take positions four at a
/// time, group them the same way whether a sequence's keys sit in one buffer or in pages: the
/// results are bit-identical.
pub const PAGE: usize = 16;

/// f16 bits → f32 for finite values (the cache never stores inf/NaN from finite inputs below
/// 65504; larger values saturate to a large finite number instead of inf). A shift and a multiply
/// by 2^112 rebias the exponent, subnormals included, so the loop vectorizes on every target.
#[inline(always)]
pub fn f16_to_f32_finite(h: u16) -> f32 {
    let magnitude = f32::from_bits(u32::from(h & 0x7FFF) << 13) * f32::from_bits(0x7780_0000);
    f32::from_bits(magnitude.to_bits() | (u32::from(h & 0x8000) << 16))
}

/// [`PAGE`] positions of keys and values for every layer and KV head.
#[derive(Clone, Debug)]
pub struct KvPage {
    k: Box<[u16]>,
    v: Box<[u16]>,
}

impl KvPage {
    fn zeroed(values: usize) -> Self {
        Self { k: vec![0; values].into_boxed_slice(), v: vec![0; values].into_boxed_slice() }
    }

    /// Bytes of keys and values this page holds.
    pub fn bytes(&self) -> usize {
        (self.k.len() + self.v.len()) * 2
    }
}

#[derive(Clone, Debug)]
pub struct KvCache {
    n_layer: usize,
    n_head_kv: usize,
    head_dim: usize,
    max_ctx: usize,
    len: usize,
    pages: Vec<Arc<KvPage>>,
}

impl KvCache {
    pub fn new(n_layer: usize, n_head_kv: usize, head_dim: usize, max_ctx: usize) -> Self {
        Self { n_layer, n_head_kv, head_dim, max_ctx, len: 0, pages: Vec::new() }
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

    /// u16 values of keys (or of values) in one page.
    fn page_values(&self) -> usize {
        self.n_layer * self.n_head_kv * PAGE * self.head_dim
    }

    /// Bytes of one page (keys and values).
    pub fn page_bytes(&self) -> usize {
        self.page_values() * 4
    }

    /// Forgets positions `n..` and lets go of the pages no position uses any more (which may be
    /// shared with a prefix cache that can then evict them).
    pub fn truncate(&mut self, n: usize) {
        self.len = self.len.min(n);
        self.pages.truncate(self.len.div_ceil(PAGE));
    }

    pub fn clear(&mut self) {
        self.truncate(0);
    }

    /// Bytes of the pages this cache holds now (shared pages included).
    pub fn allocated_bytes(&self) -> usize {
        self.pages.len() * self.page_bytes()
    }

    /// The pages holding positions `0..n` (`n ≤ len`), shared, for a prefix cache.
    pub fn shared_pages(&self, n: usize) -> Vec<Arc<KvPage>> {
        debug_assert!(n <= self.len);
        self.pages[..n.div_ceil(PAGE)].to_vec()
    }

    /// Starts this (empty) cache from pages another sequence computed: positions `0..n` are
    /// read from them, and the first write into a shared page copies it.
    pub fn adopt(&mut self, pages: Vec<Arc<KvPage>>, n: usize) {
        debug_assert!(n <= pages.len() * PAGE && n <= self.max_ctx);
        debug_assert!(pages.iter().all(|p| p.k.len() == self.page_values()));
        self.pages = pages;
        self.len = n;
        self.pages.truncate(n.div_ceil(PAGE));
    }

    /// Writes position `pos`'s keys and values (`n_head_kv × head_dim` each) for `layer`.
    /// Positions become visible through [`Self::set_len`] once every layer has them.
    pub fn store(&mut self, layer: usize, pos: usize, k: &[f32], v: &[f32]) {
        debug_assert!(layer < self.n_layer && pos < self.max_ctx && pos >= self.len);
        let d = self.head_dim;
        let index = pos / PAGE;
        while self.pages.len() <= index {
            self.pages.push(Arc::new(KvPage::zeroed(self.page_values())));
        }
        // Copies the page when another sequence or the prefix cache holds it too.
        let page = Arc::make_mut(&mut self.pages[index]);
        for h in 0..self.n_head_kv {
            let at = ((layer * self.n_head_kv + h) * PAGE + pos % PAGE) * d;
            for (buf, src) in [(&mut page.k, k), (&mut page.v, v)] {
                for (dst, x) in buf[at..at + d].iter_mut().zip(&src[h * d..(h + 1) * d]) {
                    *dst = f32_to_f16_bits(*x);
                }
            }
        }
    }

    /// Marks positions `0..n` as filled (after [`Self::store`] for every layer).
    pub fn set_len(&mut self, n: usize) {
        debug_assert!(n <= self.max_ctx && n <= self.pages.len() * PAGE);
        self.len = n;
    }

    /// The keys and values of the first `n` positions of one KV head, page by page: each item is
    /// (keys, values) of up to [`PAGE`] positions, `positions × head_dim` f16 bits each.
    pub fn head_pages(&self, layer: usize, head: usize, n: usize) -> impl Iterator<Item = (&[u16], &[u16])> + Clone {
        debug_assert!(n <= self.pages.len() * PAGE);
        let d = self.head_dim;
        let at = (layer * self.n_head_kv + head) * PAGE * d;
        self.pages[..n.div_ceil(PAGE)].iter().enumerate().map(move |(i, p)| {
            let m = (n - i * PAGE).min(PAGE);
            (&p.k[at..at + m * d], &p.v[at..at + m * d])
        })
    }
}
