//! wasm32 SIMD128 versions of attention's two loops over the f16 KV cache (the browser's CPU
//! path; compiled when the wasm build enables `+simd128`, as `.cargo/config.toml` does).
//!
//! wasm has no f16 conversion instruction: eight cached values are widened to u32 lanes and
//! rebiased with the same shift-and-multiply-by-2^112 trick as `f16_to_f32_finite` (exact for
//! every finite half, which is all the cache holds). Only the summation order differs from
//! the scalar loops in `ops.rs`.

use core::arch::wasm32::*;

/// `scores[j] = (q · k_j) · scale` for `j < n`; `keys` holds `n × d` f16 bits.
///
/// Panics unless `d` is a multiple of 8 and at most 256 and the slices are long enough (the
/// loads below are unchecked).
pub(super) fn scores_f16(q: &[f32], keys: &[u16], n: usize, scale: f32, scores: &mut [f32]) {
    let d = q.len();
    assert!(d.is_multiple_of(8) && d <= 256 && keys.len() >= n * d && scores.len() >= n);
    let mut qv = [f32x4_splat(0.0); 64];
    for (c, slot) in qv.iter_mut().enumerate().take(d / 4) {
        // SAFETY: c·4 + 4 ≤ d = q.len().
        *slot = unsafe { v128_load(q.as_ptr().add(c * 4) as *const v128) };
    }
    for (j, s) in scores.iter_mut().enumerate().take(n) {
        let row = keys[j * d..].as_ptr();
        let (mut lo, mut hi) = (f32x4_splat(0.0), f32x4_splat(0.0));
        for c in 0..d / 8 {
            // SAFETY: row has d ≥ c·8 + 8 values left.
            let (a, b) = unsafe { load_f16x8(row.add(c * 8)) };
            lo = f32x4_add(lo, f32x4_mul(qv[2 * c], a));
            hi = f32x4_add(hi, f32x4_mul(qv[2 * c + 1], b));
        }
        *s = hsum(f32x4_add(lo, hi)) * scale;
    }
}

/// `out += Σ_j probs[j] · v_j` over `probs.len()` positions; `values` holds `n × d` f16 bits
/// (accumulating, so a paged cache continues the same sums page after page).
///
/// Panics unless `d = out.len()` is a multiple of 8 and `values` is long enough.
pub(super) fn weighted_sum_f16(probs: &[f32], values: &[u16], out: &mut [f32]) {
    let d = out.len();
    assert!(d.is_multiple_of(8) && values.len() >= probs.len() * d);
    // Blocks of 16 columns: four accumulators stay in registers across every position.
    let mut c0 = 0;
    while c0 < d {
        let pairs = (d - c0).min(16) / 8;
        let mut acc = [f32x4_splat(0.0); 4];
        for (i, a) in acc.iter_mut().enumerate().take(pairs * 2) {
            // SAFETY: c0 + i·4 + 4 ≤ c0 + pairs·8 ≤ d.
            *a = unsafe { v128_load(out.as_ptr().add(c0 + i * 4) as *const v128) };
        }
        for (j, p) in probs.iter().enumerate() {
            let p = f32x4_splat(*p);
            let row = values[j * d + c0..].as_ptr();
            for c in 0..pairs {
                // SAFETY: row has d − c0 ≥ c·8 + 8 values left.
                let (a, b) = unsafe { load_f16x8(row.add(c * 8)) };
                acc[2 * c] = f32x4_add(acc[2 * c], f32x4_mul(p, a));
                acc[2 * c + 1] = f32x4_add(acc[2 * c + 1], f32x4_mul(p, b));
            }
        }
        for (i, a) in acc.iter().enumerate().take(pairs * 2) {
            // SAFETY: c0 + i·4 + 4 ≤ c0 + pairs·8 ≤ d.
            unsafe { v128_store(out.as_mut_ptr().add(c0 + i * 4) as *mut v128, *a) };
        }
        c0 += pairs * 8;
    }
}

/// Eight f16 values (finite) → two f32x4.
///
/// # Safety
/// `p` must be valid for reading 8 `u16`s.
#[inline(always)]
unsafe fn load_f16x8(p: *const u16) -> (v128, v128) {
    let h = unsafe { v128_load(p as *const v128) };
    (half_to_f32(u32x4_extend_low_u16x8(h)), half_to_f32(u32x4_extend_high_u16x8(h)))
}

#[inline(always)]
fn half_to_f32(h: v128) -> v128 {
    let magnitude = f32x4_mul(i32x4_shl(v128_and(h, u32x4_splat(0x7FFF)), 13), f32x4_splat(f32::from_bits(0x7780_0000)));
    v128_or(magnitude, i32x4_shl(v128_and(h, u32x4_splat(0x8000)), 16))
}

#[inline(always)]
fn hsum(v: v128) -> f32 {
    f32x4_extract_lane::<0>(v) + f32x4_extract_lane::<1>(v) + f32x4_extract_lane::<2>(v) + f32x4_extract_lane::<3>(v)
}
