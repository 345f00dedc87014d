//! wasm32 SIMD128 kernels (compiled when the wasm build enables `target-feature=+simd128`,
//! which `.cargo/config.toml` does for `wasm32-unknown-unknown`).
//!
//! Same integer block sums as `reference.rs`; only the order of the f32 accumulation of block
//! terms differs (four lanes, summed at the end). Nibbles (0..15) fit in i8, so Q4 × Q8 products
//! use `i16x8_extmul_*_i8x16` and are summed in i16 (|4 · 15 · 127| < 2^15) before one pairwise
//! widening to i32. Q8_0 × Q8 products reach 2^14, so each product pair is widened on its own.
//! Block scales go through an exact branch-light f16 → f32 conversion (the `half` crate's
//! portable one is a large share of the time on wasm, which has no conversion instruction).

use core::arch::wasm32::*;
use std::ops::Range;

use super::blocks::QK;
use super::format::WeightFormat;
use super::matmul::{QMatrix, QuantizedActs};

/// Output rows `rows` of `w · acts` into `out[v·stride + r]`.
///
/// # Safety
/// Shapes must match (checked by the caller) and `out` must be valid for writes of those elements.
pub(super) unsafe fn matmul_rows(w: &QMatrix, acts: &QuantizedActs, rows: Range<usize>, out: *mut f32, stride: usize) {
    let n = acts.n;
    let nb = acts.cols / QK;
    // The unchecked loads below rely on these sizes.
    assert!(rows.end <= w.rows && w.data.len() >= w.rows * w.row_bytes());
    if matches!(w.format, WeightFormat::Q4_0 | WeightFormat::Q4_1 | WeightFormat::Q8_0) {
        assert!(acts.qs.len() >= n * acts.cols && acts.d.len() >= n * nb && acts.s.len() >= n * nb && acts.sd.len() >= n * nb);
    }
    let ctx = Ctx { w: w.data, row_bytes: w.row_bytes(), acts, out, stride };
    for r0 in rows {
        let mut v = 0;
        while v + 4 <= n {
            tile::<4>(&ctx, w.format, r0, v);
            v += 4;
        }
        while v < n {
            tile::<1>(&ctx, w.format, r0, v);
            v += 1;
        }
    }
}

struct Ctx<'a> {
    w: &'a [u8],
    row_bytes: usize,
    acts: &'a QuantizedActs,
    out: *mut f32,
    stride: usize,
}

#[inline(always)]
fn hsum(v: v128) -> f32 {
    f32x4_extract_lane::<0>(v) + f32x4_extract_lane::<1>(v) + f32x4_extract_lane::<2>(v) + f32x4_extract_lane::<3>(v)
}

/// f16 bits → f32, exactly: exponent and mantissa shifted into place and rebiased by a
/// multiplication with 2^112 (exact for normal and subnormal halves); infinities and NaNs,
/// which that would turn into finite numbers, take the portable path.
#[inline(always)]
fn f16_to_f32(h: u16) -> f32 {
    if h & 0x7c00 == 0x7c00 {
        return super::reference::f16_bits_to_f32(h);
    }
    let magnitude = f32::from_bits((u32::from(h) & 0x7fff) << 13) * f32::from_bits(0x7780_0000);
    f32::from_bits(magnitude.to_bits() | (u32::from(h & 0x8000) << 16))
}

/// # Safety
/// `p..p+2` must be readable.
#[inline(always)]
unsafe fn read_f16(p: *const u8) -> f32 {
    f16_to_f32(u16::from_le_bytes(unsafe { [*p, *p.add(1)] }))
}

/// # Safety
/// `p..p+16` must be readable (any alignment).
#[inline(always)]
unsafe fn load(p: *const u8) -> v128 {
    unsafe { v128_load(p as *const v128) }
}

/// Σ nibble·y over one 32-element block as i32x4 (nibbles in `lo`/`hi`, y in `y0`/`y1`).
#[inline(always)]
fn dot_q4_block(lo: v128, hi: v128, y0: v128, y1: v128) -> v128 {
    let p = i16x8_add(
        i16x8_add(i16x8_extmul_low_i8x16(lo, y0), i16x8_extmul_high_i8x16(lo, y0)),
        i16x8_add(i16x8_extmul_low_i8x16(hi, y1), i16x8_extmul_high_i8x16(hi, y1)),
    );
    i32x4_extadd_pairwise_i16x8(p)
}

#[inline(always)]
fn dot_q8_block(x0: v128, x1: v128, y0: v128, y1: v128) -> v128 {
    let a = i32x4_add(
        i32x4_extadd_pairwise_i16x8(i16x8_extmul_low_i8x16(x0, y0)),
        i32x4_extadd_pairwise_i16x8(i16x8_extmul_high_i8x16(x0, y0)),
    );
    let b = i32x4_add(
        i32x4_extadd_pairwise_i16x8(i16x8_extmul_low_i8x16(x1, y1)),
        i32x4_extadd_pairwise_i16x8(i16x8_extmul_high_i8x16(x1, y1)),
    );
    i32x4_add(a, b)
}

/// One weight row × N activation vectors.
// `v` indexes the accumulators and locates the activations, so a range loop reads best.
#[allow(clippy::needless_range_loop)]
#[inline(always)]
fn tile<const N: usize>(ctx: &Ctx, format: WeightFormat, r0: usize, v0: usize) {
    let acts = ctx.acts;
    let cols = acts.cols;
    let nb = cols / QK;
    let row = &ctx.w[r0 * ctx.row_bytes..(r0 + 1) * ctx.row_bytes];
    let rp = row.as_ptr();
    let qs = acts.qs.as_ptr() as *const u8;
    let mut acc = [f32x4_splat(0.0); N];
    let mut extra = [0.0f32; N];
    match format {
        WeightFormat::Q4_0 | WeightFormat::Q4_1 => {
            let has_min = format == WeightFormat::Q4_1;
            let (block_bytes, qs_offset) = if has_min { (20, 4) } else { (18, 2) };
            let sums = if has_min { acts.s.as_ptr() } else { acts.sd.as_ptr() };
            let d = acts.d.as_ptr();
            let mask = u8x16_splat(0x0F);
            for b in 0..nb {
                // SAFETY: the row holds nb blocks; activations hold (v0+N)·cols values and
                // (v0+N)·nb scales (asserted in `matmul_rows`).
                unsafe {
                    let block = rp.add(b * block_bytes);
                    let dw = read_f16(block);
                    let mw = if has_min { read_f16(block.add(2)) } else { -8.0 * dw };
                    let packed = load(block.add(qs_offset));
                    let lo = v128_and(packed, mask);
                    let hi = u8x16_shr(packed, 4);
                    for v in 0..N {
                        let y = qs.add((v0 + v) * cols + b * QK);
                        let sumi = f32x4_convert_i32x4(dot_q4_block(lo, hi, load(y), load(y.add(16))));
                        let at = (v0 + v) * nb + b;
                        acc[v] = f32x4_add(acc[v], f32x4_mul(f32x4_splat(dw * *d.add(at)), sumi));
                        extra[v] += mw * *sums.add(at);
                    }
                }
            }
        }
        WeightFormat::Q8_0 => {
            let d = acts.d.as_ptr();
            for b in 0..nb {
                // SAFETY: as above.
                unsafe {
                    let block = rp.add(b * 34);
                    let dw = read_f16(block);
                    let x0 = load(block.add(2));
                    let x1 = load(block.add(18));
                    for v in 0..N {
                        let y = qs.add((v0 + v) * cols + b * QK);
                        let sumi = f32x4_convert_i32x4(dot_q8_block(x0, x1, load(y), load(y.add(16))));
                        let at = (v0 + v) * nb + b;
                        acc[v] = f32x4_add(acc[v], f32x4_mul(f32x4_splat(dw * *d.add(at)), sumi));
                    }
                }
            }
        }
        WeightFormat::F16 | WeightFormat::F32 => {
            // f16 has no SIMD128 conversion; both float formats use the scalar kernel.
            for v in 0..N {
                extra[v] = super::matmul::dot_row_scalar(
                    &QMatrix::new(format, 1, cols, row).expect("row shape was checked"),
                    0,
                    acts,
                    v0 + v,
                );
            }
        }
    }
    for v in 0..N {
        // SAFETY: the caller owns output element (v0+v, r0).
        unsafe { *ctx.out.add((v0 + v) * ctx.stride + r0) = hsum(acc[v]) + extra[v] };
    }
}
