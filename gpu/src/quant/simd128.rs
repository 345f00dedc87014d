//! wasm32 SIMD128 kernels (compiled when the wasm build enables `target-feature=+simd128`).
//!
//! Same integer sums as `reference.rs`. Nibbles (0..15) fit in i8, so Q4 × Q8 products use
//! `i16x8_extmul_*_i8x16` and can be summed in i16 (|4 · 15 · 127| < 2^15) before one pairwise
//! widening to i32. Q8_0 × Q8 products can reach 2^14, so each is widened pairwise on its own.

use core::arch::wasm32::*;
use std::ops::Range;

use super::blocks::QK;
use super::format::WeightFormat;
use super::matmul::{QMatrix, QuantizedActs};
use super::reference::read_f16;

/// Output rows `rows` of `w · acts` into `out[v·stride + r]`.
///
/// # Safety
/// Shapes must match (checked by the caller) and `out` must be valid for writes of those elements.
pub(super) unsafe fn matmul_rows(w: &QMatrix, acts: &QuantizedActs, rows: Range<usize>, out: *mut f32, stride: usize) {
    let ctx = Ctx { w: w.data, row_bytes: w.row_bytes(), acts, out, stride };
    let n = acts.n;
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

#[inline(always)]
fn load(bytes: &[u8], at: usize) -> v128 {
    let chunk: &[u8; 16] = bytes[at..at + 16].try_into().expect("16 bytes");
    // SAFETY: `chunk` is 16 readable bytes; v128_load allows unaligned addresses.
    unsafe { v128_load(chunk.as_ptr() as *const v128) }
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
#[inline(always)]
fn tile<const N: usize>(ctx: &Ctx, format: WeightFormat, r0: usize, v0: usize) {
    let acts = ctx.acts;
    let cols = acts.cols;
    let nb = cols / QK;
    let row = &ctx.w[r0 * ctx.row_bytes..(r0 + 1) * ctx.row_bytes];
    let mut acc = [f32x4_splat(0.0); N];
    let mut extra = [0.0f32; N];
    let y_at = |v: usize, b: usize| {
        let base = (v0 + v) * cols + b * QK;
        // SAFETY: i8 and u8 have the same layout; the slice covers the activations.
        let bytes = unsafe { core::slice::from_raw_parts(acts.qs.as_ptr().add(base) as *const u8, QK) };
        (load(bytes, 0), load(bytes, 16))
    };
    match format {
        WeightFormat::Q4_0 | WeightFormat::Q4_1 => {
            let has_min = format == WeightFormat::Q4_1;
            let (block_bytes, qs_offset) = if has_min { (20, 4) } else { (18, 2) };
            let sums = if has_min { &acts.s } else { &acts.sd };
            let mask = u8x16_splat(0x0F);
            for b in 0..nb {
                let block = &row[b * block_bytes..(b + 1) * block_bytes];
                let dw = read_f16(block, 0);
                let mw = if has_min { read_f16(block, 2) } else { -8.0 * dw };
                let packed = load(block, qs_offset);
                let lo = v128_and(packed, mask);
                let hi = u8x16_shr(packed, 4);
                for v in 0..N {
                    let (y0, y1) = y_at(v, b);
                    let sumi = f32x4_convert_i32x4(dot_q4_block(lo, hi, y0, y1));
                    let scale = f32x4_splat(dw * acts.d[(v0 + v) * nb + b]);
                    acc[v] = f32x4_add(acc[v], f32x4_mul(scale, sumi));
                    extra[v] += mw * sums[(v0 + v) * nb + b];
                }
            }
        }
        WeightFormat::Q8_0 => {
            for b in 0..nb {
                let block = &row[b * 34..(b + 1) * 34];
                let dw = read_f16(block, 0);
                let x0 = load(block, 2);
                let x1 = load(block, 18);
                for v in 0..N {
                    let (y0, y1) = y_at(v, b);
                    let sumi = f32x4_convert_i32x4(dot_q8_block(x0, x1, y0, y1));
                    let scale = f32x4_splat(dw * acts.d[(v0 + v) * nb + b]);
                    acc[v] = f32x4_add(acc[v], f32x4_mul(scale, sumi));
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
