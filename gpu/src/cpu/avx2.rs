//! x86_64 AVX2 + FMA + F16C versions of attention's two loops over the f16 KV cache (chosen at
//! run time through [`crate::quant::Kernel`]).
//!
//! The scalar loops in `ops.rs` do not vectorize on baseline x86-64 (the f16 → f32 bit trick
//! stays scalar), and decode attention over a few hundred positions was 20% of native decode in
//! perf. `vcvtph2ps` converts eight cached values per instruction, exactly as the scalar code does.
//! Only the summation order differs from `ops.rs` (eight lanes, fused multiply-adds).

use core::arch::x86_64::*;

/// `scores[j] = (q · k_j) · scale` for `j < n`; `keys` holds `n × d` f16 bits.
///
/// # Safety
/// The CPU must support AVX2, FMA and F16C; `d` must be a multiple of 8 and at most 256, `q`
/// `d` long, `keys` at least `n·d` long and `scores` at least `n` long.
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) unsafe fn scores_f16(q: &[f32], keys: &[u16], n: usize, scale: f32, scores: &mut [f32]) {
    let d = q.len();
    let chunks = d / 8;
    debug_assert!(d.is_multiple_of(8) && d <= 256 && keys.len() >= n * d && scores.len() >= n);
    unsafe {
        let mut qv = [_mm256_setzero_ps(); 32];
        for (c, slot) in qv.iter_mut().enumerate().take(chunks) {
            *slot = _mm256_loadu_ps(q.as_ptr().add(c * 8));
        }
        let row = |j: usize| keys.as_ptr().add(j * d);
        let scale4 = _mm_set1_ps(scale);
        let mut j = 0;
        // Four positions at a time share one horizontal reduction.
        while j + 4 <= n {
            let a = dot_row(&qv, chunks, row(j));
            let b = dot_row(&qv, chunks, row(j + 1));
            let c = dot_row(&qv, chunks, row(j + 2));
            let e = dot_row(&qv, chunks, row(j + 3));
            let h = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, e));
            let sum4 = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
            _mm_storeu_ps(scores.as_mut_ptr().add(j), _mm_mul_ps(sum4, scale4));
            j += 4;
        }
        while j < n {
            *scores.get_unchecked_mut(j) = hsum(dot_row(&qv, chunks, row(j))) * scale;
            j += 1;
        }
    }
}

/// `out += Σ_j probs[j] · v_j` over `probs.len()` positions; `values` holds `n × d` f16 bits.
/// Accumulating into `out` lets a paged cache continue the same sums page after page.
///
/// # Safety
/// As [`scores_f16`], with `out` `d` long and `values` at least `probs.len()·d` long.
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) unsafe fn weighted_sum_f16(probs: &[f32], values: &[u16], out: &mut [f32]) {
    let d = out.len();
    let n = probs.len();
    debug_assert!(d.is_multiple_of(8) && values.len() >= n * d);
    unsafe {
        // Blocks of 32 columns: four accumulators stay in registers across every position.
        let mut c0 = 0;
        while c0 < d {
            let width = (d - c0).min(32) / 8;
            let mut acc = [_mm256_setzero_ps(); 4];
            for (c, a) in acc.iter_mut().enumerate().take(width) {
                *a = _mm256_loadu_ps(out.as_ptr().add(c0 + c * 8));
            }
            for (j, p) in probs.iter().enumerate() {
                let p = _mm256_set1_ps(*p);
                let row = values.as_ptr().add(j * d + c0);
                for (c, a) in acc.iter_mut().enumerate().take(width) {
                    let v = _mm256_cvtph_ps(_mm_loadu_si128(row.add(c * 8) as *const __m128i));
                    *a = _mm256_fmadd_ps(p, v, *a);
                }
            }
            for (c, a) in acc.iter().enumerate().take(width) {
                _mm256_storeu_ps(out.as_mut_ptr().add(c0 + c * 8), *a);
            }
            c0 += width * 8;
        }
    }
}

/// Eight partial sums of `q · row` (`q` pre-loaded as `chunks` vectors, `row` f16 bits).
#[inline(always)]
unsafe fn dot_row(q: &[__m256; 32], chunks: usize, row: *const u16) -> __m256 {
    unsafe {
        let mut acc = _mm256_setzero_ps();
        for (c, qc) in q.iter().enumerate().take(chunks) {
            let k = _mm256_cvtph_ps(_mm_loadu_si128(row.add(c * 8) as *const __m128i));
            acc = _mm256_fmadd_ps(*qc, k, acc);
        }
        acc
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
