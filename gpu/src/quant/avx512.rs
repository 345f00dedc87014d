//! x86_64 AVX-512 VNNI kernels for the quantized formats (chosen at run time by
//! `Kernel::best` on CPUs with AVX512F/BW/VL and VNNI; float formats use the AVX2 ones).
//!
//! `vpdpbusd` multiplies unsigned by signed bytes and adds each group of four products into an
//! i32 lane, without the i16 saturation of `vpmaddubsw`, 64 bytes at a time: two 32-element
//! blocks. Per pair of blocks, one output row × one activation vector then costs one `vpdpbusd`,
//! one conversion, one scale product and one FMA; the AVX2 kernel spends about seven
//! instructions on a single block. Decoding N sequences together reads each weight block once
//! for all N, so there the arithmetic, not memory, is the limit, and this is what it buys.
//!
//! Integer sums are exactly those of `reference.rs`: Q4 nibbles are unsigned already; Q8_0
//! weights are made unsigned by flipping their sign bit (w + 128) and each lane starts from
//! −128·Σy, so the sum is Σ w·y. Q4_1's `m·s_y` (Q4_0's `−8·d·d_y·Σq_y`) terms are gathered
//! for 16 blocks and added with one FMA. Every output's arithmetic is the same in every tile
//! shape, so a vector's results do not depend on the vectors it shares a tile with.

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
/// The CPU must support AVX512F, AVX512BW, AVX512VL, AVX512VNNI, AVX2, FMA and F16C; shapes must
/// match (checked by the caller) and `out` must be valid for writes of those elements.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub(super) unsafe fn matmul_rows(w: &QMatrix, acts: &QuantizedActs, rows: Range<usize>, out: *mut f32, stride: usize) {
    let ctx = Ctx { w: w.data.as_ptr(), row_bytes: w.row_bytes(), acts, out, stride };
    unsafe {
        match w.format {
            WeightFormat::Q4_0 => by_tiles::<Q4Kind<18, false>>(&ctx, rows),
            WeightFormat::Q4_1 => by_tiles::<Q4Kind<20, true>>(&ctx, rows),
            WeightFormat::Q8_0 => by_tiles::<Q8Kind>(&ctx, rows),
            WeightFormat::F16 | WeightFormat::F32 => super::avx2::matmul_rows(w, acts, rows, out, stride),
        }
    }
}

/// Weight rows ahead (the next decode tile) that each block load prefetches: decode streams the
/// weights from DRAM, as in the AVX2 kernel.
const PREFETCH_ROWS: usize = 4;

struct Ctx<'a> {
    w: *const u8,
    row_bytes: usize,
    acts: &'a QuantizedActs,
    out: *mut f32,
    stride: usize,
}

trait TileKind {
    unsafe fn tile<const R: usize, const N: usize>(ctx: &Ctx, r0: usize, v0: usize);
}

#[inline(always)]
unsafe fn by_tiles<K: TileKind>(ctx: &Ctx, rows: Range<usize>) {
    unsafe {
        if ctx.acts.n == 1 {
            rows_loop::<K, 4, 1>(ctx, rows);
        } else {
            rows_loop::<K, 2, 8>(ctx, rows);
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
        if N > 4 && v + 4 <= n {
            K::tile::<R, 4>(ctx, r0, v);
            v += 4;
        }
        if N > 2 && v + 2 <= n {
            K::tile::<R, 2>(ctx, r0, v);
            v += 2;
        }
        while v < n {
            K::tile::<R, 1>(ctx, r0, v);
            v += 1;
        }
    }
}

/// `vpermps` indices spreading two f32 lanes over the two 8-lane halves (one scale per block
/// of a pair): lanes 0 and 2 (`[d0, m0, d1, m1]`) or lanes 0 and 1 (`[d0, d1]`).
const SPREAD_0_2: [i32; 16] = [0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2];
const SPREAD_0_1: [i32; 16] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1];

/// Two f16 values (at `p` and `q`, 2 bytes each; `q` only when `two`) → f32 lanes 0 and 1.
#[inline(always)]
unsafe fn halves2(p: *const u8, q: *const u8, two: bool) -> __m128 {
    unsafe {
        let lo = u32::from((p as *const u16).read_unaligned());
        let hi = if two { u32::from((q as *const u16).read_unaligned()) } else { 0 };
        _mm_cvtph_ps(_mm_cvtsi32_si128((lo | hi << 16) as i32))
    }
}

/// Two (f16, f16) pairs (4 bytes at `p` and at `q`; `q` only when `two`) → f32 lanes 0..4.
#[inline(always)]
unsafe fn halves4(p: *const u8, q: *const u8, two: bool) -> __m128 {
    unsafe {
        let lo = _mm_cvtsi32_si128((p as *const i32).read_unaligned());
        let both = if two { _mm_insert_epi32(lo, (q as *const i32).read_unaligned(), 1) } else { lo };
        _mm_cvtph_ps(both)
    }
}

/// The pair's activation scales of vector `v` (see `QuantizedActs::d_pairs`).
#[inline(always)]
unsafe fn act_scales(acts: &QuantizedActs, v: usize, b: usize) -> __m512 {
    let pairs = (acts.cols / QK).div_ceil(2);
    unsafe { _mm512_loadu_ps(acts.d_pairs.as_ptr().add((v * pairs + b / 2) * 16)) }
}

/// Activation bytes of blocks `b` and `b+1` of vector `v` (only block `b` when `two` is false;
/// the rest is zero).
#[inline(always)]
unsafe fn act_bytes(acts: &QuantizedActs, v: usize, b: usize, two: bool) -> __m512i {
    unsafe {
        let p = acts.qs.as_ptr().add(v * acts.cols + b * QK);
        if two { _mm512_loadu_si512(p as *const __m512i) } else { _mm512_maskz_loadu_epi8(0xFFFF_FFFF, p) }
    }
}

#[inline(always)]
unsafe fn store<const R: usize, const N: usize>(ctx: &Ctx, r0: usize, v0: usize, acc: &[[__m512; N]; R]) {
    for r in 0..R {
        for v in 0..N {
            unsafe { *ctx.out.add((v0 + v) * ctx.stride + r0 + r) = _mm512_reduce_add_ps(acc[r][v]) };
        }
    }
}

/// Q4_0 (`BLOCK` 18, no min) and Q4_1 (`BLOCK` 20, with min) weights × Q8 activations.
struct Q4Kind<const BLOCK: usize, const HAS_MIN: bool>;

impl<const BLOCK: usize, const HAS_MIN: bool> TileKind for Q4Kind<BLOCK, HAS_MIN> {
    #[inline(always)]
    unsafe fn tile<const R: usize, const N: usize>(ctx: &Ctx, r0: usize, v0: usize) {
        let acts = ctx.acts;
        let nb = acts.cols / QK;
        let sums = if HAS_MIN { &acts.s } else { &acts.sd };
        let qs_offset = if HAS_MIN { 4 } else { 2 };
        unsafe {
            let mask = _mm256_set1_epi8(0x0F);
            let spread_d = _mm512_loadu_si512((if HAS_MIN { &SPREAD_0_2 } else { &SPREAD_0_1 }).as_ptr() as *const __m512i);
            let mut acc = [[_mm512_setzero_ps(); N]; R];
            // The min terms' weight factors of up to 16 blocks, added with one FMA per 16.
            let mut mins = [[0.0f32; 16]; R];
            let mut b = 0;
            while b < nb {
                let two = b + 1 < nb;
                let mut qx = [_mm512_setzero_si512(); R];
                let mut dw = [_mm512_setzero_ps(); R];
                for r in 0..R {
                    let block = ctx.w.add((r0 + r) * ctx.row_bytes + b * BLOCK);
                    _mm_prefetch::<_MM_HINT_T0>(block.wrapping_add(PREFETCH_ROWS * ctx.row_bytes) as *const i8);
                    let lo_block = _mm_loadu_si128(block.add(qs_offset) as *const __m128i);
                    let hi_block = if two { _mm_loadu_si128(block.add(BLOCK + qs_offset) as *const __m128i) } else { _mm_setzero_si128() };
                    let packed = _mm256_set_m128i(hi_block, lo_block);
                    let low = _mm256_and_si256(packed, mask);
                    let high = _mm256_and_si256(_mm256_srli_epi16(packed, 4), mask);
                    // [low0, low1, high0, high1] → [low0, high0, low1, high1]: each block's elements
                    // 0..16 are its low nibbles and 16..32 its high ones.
                    let z = _mm512_inserti64x4(_mm512_castsi256_si512(low), high, 1);
                    qx[r] = _mm512_shuffle_i64x2(z, z, 0b11_01_10_00);
                    let slot = mins[r].as_mut_ptr().add(b % 16) as *mut __m128i;
                    if HAS_MIN {
                        // [d0, m0, d1, m1]
                        let dm = halves4(block, block.add(BLOCK), two);
                        dw[r] = _mm512_permutexvar_ps(spread_d, _mm512_castps128_ps512(dm));
                        _mm_storel_epi64(slot, _mm_castps_si128(_mm_shuffle_ps(dm, dm, 0b11_01_11_01)));
                    } else {
                        // [d0, d1]; Q4_0's offset of −8 is a min of −8·d.
                        let d = halves2(block, block.add(BLOCK), two);
                        dw[r] = _mm512_permutexvar_ps(spread_d, _mm512_castps128_ps512(d));
                        _mm_storel_epi64(slot, _mm_castps_si128(_mm_mul_ps(d, _mm_set1_ps(-8.0))));
                    }
                }
                for v in 0..N {
                    let vi = v0 + v;
                    let y = act_bytes(acts, vi, b, two);
                    let dy = act_scales(acts, vi, b);
                    for r in 0..R {
                        let p = _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(_mm512_setzero_si512(), qx[r], y));
                        acc[r][v] = _mm512_fmadd_ps(p, _mm512_mul_ps(dw[r], dy), acc[r][v]);
                    }
                }
                b += 2;
                // After every 16 blocks, and after the last: add Σ m·s over those blocks.
                let start = (b - 1) / 16 * 16;
                if b % 16 == 0 || b >= nb {
                    let count = nb.min(start + 16) - start;
                    let keep: __mmask16 = if count == 16 { 0xFFFF } else { (1u16 << count) - 1 };
                    for v in 0..N {
                        let s = _mm512_maskz_loadu_ps(keep, sums.as_ptr().add((v0 + v) * nb + start));
                        for r in 0..R {
                            acc[r][v] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(keep, mins[r].as_ptr()), s, acc[r][v]);
                        }
                    }
                }
            }
            store::<R, N>(ctx, r0, v0, &acc);
        }
    }
}

/// Q8_0 weights × Q8 activations: weights made unsigned (w + 128) and each lane started from
/// −128·Σy, so `vpdpbusd` gives Σ w·y exactly.
struct Q8Kind;

impl TileKind for Q8Kind {
    #[inline(always)]
    unsafe fn tile<const R: usize, const N: usize>(ctx: &Ctx, r0: usize, v0: usize) {
        let acts = ctx.acts;
        let nb = acts.cols / QK;
        unsafe {
            let flip = _mm512_set1_epi8(-128);
            let spread_d = _mm512_loadu_si512(SPREAD_0_1.as_ptr() as *const __m512i);
            let mut acc = [[_mm512_setzero_ps(); N]; R];
            let mut b = 0;
            while b < nb {
                let two = b + 1 < nb;
                let mut wx = [_mm512_setzero_si512(); R];
                let mut dw = [_mm512_setzero_ps(); R];
                for r in 0..R {
                    let block = ctx.w.add((r0 + r) * ctx.row_bytes + b * 34);
                    _mm_prefetch::<_MM_HINT_T0>(block.wrapping_add(PREFETCH_ROWS * ctx.row_bytes) as *const i8);
                    let lo = _mm256_loadu_si256(block.add(2) as *const __m256i);
                    let hi = if two { _mm256_loadu_si256(block.add(36) as *const __m256i) } else { _mm256_setzero_si256() };
                    // A missing second block's lanes meet zero activations: they add nothing.
                    let both = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
                    wx[r] = _mm512_xor_si512(both, flip);
                    dw[r] = _mm512_permutexvar_ps(spread_d, _mm512_castps128_ps512(halves2(block, block.add(34), two)));
                }
                for v in 0..N {
                    let vi = v0 + v;
                    let y = act_bytes(acts, vi, b, two);
                    let dy = act_scales(acts, vi, b);
                    let start = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_dpbusd_epi32(_mm512_setzero_si512(), flip, y));
                    for r in 0..R {
                        let p = _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(start, wx[r], y));
                        acc[r][v] = _mm512_fmadd_ps(p, _mm512_mul_ps(dw[r], dy), acc[r][v]);
                    }
                }
                b += 2;
            }
            store::<R, N>(ctx, r0, v0, &acc);
        }
    }
}
