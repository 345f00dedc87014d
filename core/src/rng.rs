//! Seeded, splittable random numbers: the only randomness core uses.
//!
//! SplitMix64 is tiny, fast and gives the same stream on every target. Streams are
//! derived from (seed, labels) by hashing, so the draw an agent makes for one ask never
//! depends on how many draws something else made before it (answers may arrive in any
//! order without changing a run).

/// A SplitMix64 generator.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

/// Mixes a 64-bit value (the SplitMix64 finalizer).
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self { state: mix64(seed ^ 0x5eed_c0de_1234_5678) }
    }

    /// An independent stream for `(seed, labels...)`.
    pub fn derive(seed: u64, labels: &[u64]) -> Self {
        let mut h = mix64(seed.wrapping_add(0x9e37_79b9_7f4a_7c15));
        for &l in labels {
            h = mix64(h ^ l.wrapping_mul(0xd6e8_feb8_6659_fd93).wrapping_add(0x2545_f491_4f6c_dd1d));
        }
        Self { state: h }
    }

    /// A stream named by a string label (e.g. "topology").
    pub fn named(seed: u64, label: &str) -> Self {
        Self::derive(seed, &[crate::determinism::fnv1a64(label.as_bytes())])
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix64(self.state)
    }

    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi).
    pub fn range_f64(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.f64()
    }

    /// Uniform integer in [0, n); `n` must be > 0.
    pub fn below(&mut self, n: u64) -> u64 {
        // Lemire's multiply-shift; the tiny bias is irrelevant here and keeps it branch-free.
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    pub fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }

    /// Standard normal (Box–Muller through `libm`, identical on every target).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.f64().max(1e-300);
        let u2 = self.f64();
        libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(2.0 * core::f64::consts::PI * u2)
    }

    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.index(i + 1);
            items.swap(i, j);
        }
    }

    /// Index drawn with probability proportional to `weights` (all ≥ 0, not all 0).
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        if total <= 0.0 {
            return self.index(weights.len().max(1));
        }
        let mut x = self.f64() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }
}

/// Logistic function through `libm`.
pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + libm::exp(-x))
}

/// Inverse of `sigmoid`, with the argument kept inside (0, 1).
pub fn logit(p: f64) -> f64 {
    let p = p.clamp(1e-6, 1.0 - 1e-6);
    libm::log(p / (1.0 - p))
}

/// Standard normal distribution function Φ(x), through `libm`.
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x / core::f64::consts::SQRT_2)
}

/// Its inverse Φ⁻¹(p) for p in (0, 1) (Acklam's rational approximation, polished by one
/// Newton step on `normal_cdf`; absolute error below 1e-12 over (1e-9, 1 − 1e-9)).
pub fn normal_quantile(p: f64) -> f64 {
    let p = p.clamp(1e-12, 1.0 - 1e-12);
    const A: [f64; 6] = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.383577518672690e2, -3.066479806614716e1, 2.506628277459239];
    const B: [f64; 5] = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
    const C: [f64; 6] = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
    const D: [f64; 4] = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
    let tail = |q: f64| (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]) / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0);
    let x = if p < 0.02425 {
        tail(libm::sqrt(-2.0 * libm::log(p)))
    } else if p > 1.0 - 0.02425 {
        -tail(libm::sqrt(-2.0 * libm::log(1.0 - p)))
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    };
    // One Newton step: x -= (Φ(x) - p) / φ(x).
    let density = libm::exp(-0.5 * x * x) / libm::sqrt(2.0 * core::f64::consts::PI);
    x - (normal_cdf(x) - p) / density
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_quantile_inverts_the_cdf() {
        for &p in &[1e-8, 0.001, 0.02, 0.1, 0.3, 0.5, 0.7, 0.9, 0.975, 0.999, 1.0 - 1e-8] {
            let x = normal_quantile(p);
            assert!((normal_cdf(x) - p).abs() < 1e-12 * p.max(1e-3) * 1e3, "p {p}: x {x}");
        }
        assert!((normal_quantile(0.975) - 1.959963984540054).abs() < 1e-9);
        assert_eq!(normal_quantile(0.5), 0.0);
    }

    #[test]
    fn derived_streams_are_independent_of_draw_order() {
        let a = Rng::derive(7, &[1, 2]).next_u64();
        let mut other = Rng::derive(7, &[1, 3]);
        for _ in 0..10 {
            other.next_u64();
        }
        assert_eq!(a, Rng::derive(7, &[1, 2]).next_u64());
        assert_ne!(a, Rng::derive(7, &[2, 1]).next_u64());
    }

    #[test]
    fn uniform_and_below_stay_in_range() {
        let mut r = Rng::new(1);
        for _ in 0..10_000 {
            let x = r.f64();
            assert!((0.0..1.0).contains(&x));
            assert!(r.below(7) < 7);
        }
    }

    #[test]
    fn weighted_follows_weights() {
        let mut r = Rng::new(3);
        let mut counts = [0u32; 3];
        for _ in 0..30_000 {
            counts[r.weighted(&[1.0, 0.0, 3.0])] += 1;
        }
        assert_eq!(counts[1], 0);
        assert!(counts[2] > 2 * counts[0]);
    }
}
