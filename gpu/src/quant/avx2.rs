//! x86_64 AVX2 + FMA + F16C kernels (chosen at run time by `Kernel::best`).
//!
//! The same integer sums as `reference.rs`: 4-bit nibbles are expanded to bytes and multiplied with
//! the int8 activations by `vpmaddubsw` (u8 × i8 → pairs of i16) and `vpmaddwd` (→ i32), as llama.cpp
//! does. A tile handles R weight rows × N activation vectors so each weight block is decoded once
//! for all N vectors (batched prefill), and R independent accumulators hide FMA latency in decode.
//!
//! Helpers are `#[inline(always)]` without `target_feature` so they inline into the one
//! `#[target_feature]` entry point and compile with its features.

// The tiles index several fixed-size arrays by the same row/vector counters.
#![allow(clippy::needless_range_loop)]

use core::arch::x86_64::*;
use std::ops::Range;

use super::blocks::QK;
use super::format::WeightFormat;
use super::matmul::{QMatrix, QuantizedActs};

/// Output rows `rows` of `w · acts` into `out[v·stride + r]`.
///
/// # Safety
/// The CPU must support AVX2, FMA and F16C; shapes must match (checked by the caller) and `out`
/// must be valid for writes of those elements.
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) unsafe fn matmul_rows(w: &QMatrix, acts: &QuantizedActs, rows: Range<usize>, out: *mut f32, stride: usize) {
    let ctx = Ctx { w: w.data.as_ptr(), row_bytes: w.row_bytes(), acts, out, stride };
    unsafe {
        match w.format {
            WeightFormat::Q4_0 => by_tiles::<Q4_0Kind>(&ctx, rows),
            WeightFormat::Q4_1 => by_tiles::<Q4_1Kind>(&ctx, rows),
            WeightFormat::Q8_0 => by_tiles::<Q8_0Kind>(&ctx, rows),
            WeightFormat::F16 => by_tiles::<F16Kind>(&ctx, rows),
            WeightFormat::F32 => by_tiles::<F32Kind>(&ctx, rows),
        }
    }
}

/// How far ahead (in weight rows) each block load prefetches: the next 4-row decode tile.
/// Decode streams every weight from DRAM once per token; the hardware prefetchers alone left the
/// loads stalled (in perf, the instructions after each load were the hot ones), and this one
/// prefetch took 1-thread decode on the test model from ~73 to ~105 tok/s. Prefetches never
/// fault, so running past the last row is harmless (the address is formed with `wrapping_add`).
const PREFETCH_ROWS: usize = 4;

struct Ctx<'a> {
    w: *const u8,
    row_bytes: usize,
    acts: &'a QuantizedActs,
    out: *mut f32,
    stride: usize,
}

/// One weight format's tile kernel.
trait TileKind {
    /// Computes rows `r0..r0+R` × vectors `v0..v0+N` and stores them.
    unsafe fn tile<const R: usize, const N: usize>(ctx: &Ctx, r0: usize, v0: usize);
}

#[inline(always)]
unsafe fn by_tiles<K: TileKind>(ctx: &Ctx, rows: Range<usize>) {
    unsafe {
        if ctx.acts.n == 1 {
            rows_loop::<K, 4, 1>(ctx, rows);
        } else {
            rows_loop::<K, 2, 4>(ctx, rows);
        }
    }
}

#[inline(always)]
unsafe fn rows_loop<K: TileKind, const R: usize, const N: usize>(ctx: &Ctx, rows: Range<usize>) {
    let mut r = rows.start;
    unsafe {
        while r + R <= rows.end {
            vectors_loop::<K, R, N>(ctx, r);
            r += R;
        }
        while r < rows.end {
            vectors_loop::<K, 1, N>(ctx, r);
            r += 1;
        }
    }
}

#[inline(always)]
unsafe fn vectors_loop<K: TileKind, const R: usize, const N: usize>(ctx: &Ctx, r0: usize) {
    let n = ctx.acts.n;
    let mut v = 0;
    unsafe {
        while v + N <= n {
            K::tile::<R, N>(ctx, r0, v);
            v += N;
        }
        while v < n {
            K::tile::<R, 1>(ctx, r0, v);
            v += 1;
        }
    }
}

#[inline(always)]
unsafe fn hsum(v: __m256) -> f32 {
    unsafe {
        let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        let s = _mm_add_ss(s, _mm_movehdup_ps(s));
        _mm_cvtss_f32(s)
    }
}

#[inline(always)]
unsafe fn load_f16(p: *const u8) -> f32 {
    unsafe {
        let bits = (p as *const u16).read_unaligned();
        _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(i32::from(bits))))
    }
}

/// 16 bytes of packed nibbles → 32 bytes: low nibbles (elements 0..16) then high nibbles (16..32).
#[inline(always)]
unsafe fn nibbles(p: *const u8) -> __m256i {
    unsafe {
        let packed = _mm_loadu_si128(p as *const __m128i);
        let both = _mm256_set_m128i(_mm_srli_epi16(packed, 4), packed);
        _mm256_and_si256(both, _mm256_set1_epi8(0x0F))
    }
}

/// Σ of u8 × i8 products as 8 f32 lanes.
#[inline(always)]
unsafe fn dot_u8_i8(ux: __m256i, y: __m256i) -> __m256 {
    unsafe { _mm256_cvtepi32_ps(_mm256_madd_epi16(_mm256_maddubs_epi16(ux, y), _mm256_set1_epi16(1))) }
}

#[inline(always)]
unsafe fn store<const R: usize, const N: usize>(ctx: &Ctx, r0: usize, v0: usize, acc: &[[__m256; N]; R], extra: &[[f32; N]; R]) {
    for r in 0..R {
        for v in 0..N {
            unsafe { *ctx.out.add((v0 + v) * ctx.stride + r0 + r) = hsum(acc[r][v]) + extra[r][v] };
        }
    }
}

/// Q4_0 and Q4_1 share a kernel: unsigned nibbles × int8, plus a per-block "min" term
/// (Q4_1: `m · s_y`; Q4_0: `−8·d · d_y·Σq_y`).
#[inline(always)]
unsafe fn q4_tile<const R: usize, const N: usize, const BLOCK: usize, const HAS_MIN: bool>(ctx: &Ctx, r0: usize, v0: usize) {
    let acts = ctx.acts;
    let cols = acts.cols;
    let nb = cols / QK;
    let sums = if HAS_MIN { &acts.s } else { &acts.sd };
    let qs_offset = if HAS_MIN { 4 } else { 2 };
    unsafe {
        let mut acc = [[_mm256_setzero_ps(); N]; R];
        let mut mins = [[0.0f32; N]; R];
        for b in 0..nb {
            let mut qx = [_mm256_setzero_si256(); R];
            let mut dw = [0.0f32; R];
            let mut mw = [0.0f32; R];
            for r in 0..R {
                let block = ctx.w.add((r0 + r) * ctx.row_bytes + b * BLOCK);
                _mm_prefetch::<_MM_HINT_T0>(block.wrapping_add(PREFETCH_ROWS * ctx.row_bytes) as *const i8);
                dw[r] = load_f16(block);
                mw[r] = if HAS_MIN { load_f16(block.add(2)) } else { -8.0 * dw[r] };
                qx[r] = nibbles(block.add(qs_offset));
            }
            for v in 0..N {
                let vi = v0 + v;
                let y = _mm256_loadu_si256(acts.qs.as_ptr().add(vi * cols + b * QK) as *const __m256i);
                let dy = *acts.d.get_unchecked(vi * nb + b);
                let sy = *sums.get_unchecked(vi * nb + b);
                for r in 0..R {
                    let p = dot_u8_i8(qx[r], y);
                    acc[r][v] = _mm256_fmadd_ps(_mm256_set1_ps(dw[r] * dy), p, acc[r][v]);
                    mins[r][v] += mw[r] * sy;
                }
            }
        }
        store::<R, N>(ctx, r0, v0, &acc, &mins);
    }
}

struct Q4_0Kind;
impl TileKind for Q4_0Kind {
    #[inline(always)]
    unsafe fn tile<const R: usize, const N: usize>(ctx: &Ctx, r0: usize, v0: usize) {
        unsafe { q4_tile::<R, N, 18, false>(ctx, r0, v0) }
    }
}

struct Q4_1Kind;
impl TileKind for Q4_1Kind {
    #[inline(always)]
    unsafe fn tile<const R: usize, const N: usize>(ctx: &Ctx, r0: usize, v0: usize) {
        unsafe { q4_tile::<R, N, 20, true>(ctx, r0, v0) }
    }
}

/// Q8_0 × Q8: signed × signed via the sign trick (|x| as u8, y carrying x's sign).
struct Q8_0Kind;
impl TileKind for Q8_0Kind {
    #[inline(always)]
    unsafe fn tile<const R: usize, const N: usize>(ctx: &Ctx, r0: usize, v0: usize) {
        let acts = ctx.acts;
        let cols = acts.cols;
        let nb = cols / QK;
        unsafe {
            let mut acc = [[_mm256_setzero_ps(); N]; R];
            for b in 0..nb {
                let mut qx = [_mm256_setzero_si256(); R];
                let mut ax = [_mm256_setzero_si256(); R];
                let mut dw = [0.0f32; R];
                for r in 0..R {
                    let block = ctx.w.add((r0 + r) * ctx.row_bytes + b * 34);
                    _mm_prefetch::<_MM_HINT_T0>(block.wrapping_add(PREFETCH_ROWS * ctx.row_bytes) as *const i8);
                    dw[r] = load_f16(block);
                    qx[r] = _mm256_loadu_si256(block.add(2) as *const __m256i);
                    ax[r] = _mm256_sign_epi8(qx[r], qx[r]);
                }
                for v in 0..N {
                    let vi = v0 + v;
                    let y = _mm256_loadu_si256(acts.qs.as_ptr().add(vi * cols + b * QK) as *const __m256i);
                    let dy = *acts.d.get_unchecked(vi * nb + b);
                    for r in 0..R {
                        let p = dot_u8_i8(ax[r], _mm256_sign_epi8(y, qx[r]));
                        acc[r][v] = _mm256_fmadd_ps(_mm256_set1_ps(dw[r] * dy), p, acc[r][v]);
                    }
                }
            }
            store::<R, N>(ctx, r0, v0, &acc, &[[0.0; N]; R]);
        }
    }
}

/// Float weights: 8 lanes at a time, scalar tail for widths that are not a multiple of 8.
#[inline(always)]
unsafe fn float_tile<const R: usize, const N: usize, const IS_F16: bool>(ctx: &Ctx, r0: usize, v0: usize) {
    let acts = ctx.acts;
    let cols = acts.cols;
    let elem = if IS_F16 { 2 } else { 4 };
    let main = cols / 8 * 8;
    unsafe {
        let mut acc = [[_mm256_setzero_ps(); N]; R];
        let mut tail = [[0.0f32; N]; R];
        let mut c = 0;
        while c < main {
            let mut wx = [_mm256_setzero_ps(); R];
            for r in 0..R {
                let p = ctx.w.add((r0 + r) * ctx.row_bytes + c * elem);
                wx[r] = if IS_F16 {
                    _mm256_cvtph_ps(_mm_loadu_si128(p as *const __m128i))
                } else {
                    _mm256_loadu_ps(p as *const f32)
                };
            }
            for v in 0..N {
                let x = _mm256_loadu_ps(acts.f.as_ptr().add((v0 + v) * cols + c));
                for r in 0..R {
                    acc[r][v] = _mm256_fmadd_ps(wx[r], x, acc[r][v]);
                }
            }
            c += 8;
        }
        for c in main..cols {
            for r in 0..R {
                let p = ctx.w.add((r0 + r) * ctx.row_bytes + c * elem);
                let wv = if IS_F16 { load_f16(p) } else { (p as *const f32).read_unaligned() };
                for v in 0..N {
                    tail[r][v] += wv * *acts.f.get_unchecked((v0 + v) * cols + c);
                }
            }
        }
        store::<R, N>(ctx, r0, v0, &acc, &tail);
    }
}

struct F16Kind;
impl TileKind for F16Kind {
    #[inline(always)]
    unsafe fn tile<const R: usize, const N: usize>(ctx: &Ctx, r0: usize, v0: usize) {
        unsafe { float_tile::<R, N, true>(ctx, r0, v0) }
    }
}

struct F32Kind;
impl TileKind for F32Kind {
    #[inline(always)]
    unsafe fn tile<const R: usize, const N: usize>(ctx: &Ctx, r0: usize, v0: usize) {
        unsafe { float_tile::<R, N, false>(ctx, r0, v0) }
    }
}
