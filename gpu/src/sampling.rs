//! Choosing the next token from logits: greedy, or seeded temperature / top-k / top-p sampling.
//!
//! Deterministic: the same logits and seed give the same tokens on every platform (own PRNG,
//! candidates ordered by logit then id, no global state). The filter order follows llama.cpp's
//! default chain: top-k, then temperature softmax, then top-p (nucleus), then one draw.

/// SplitMix64 (Steele, Lea, Flood, "Fast splittable pseudorandom number generators", 2014):
/// tiny, fast, and passes BigCrush; enough for sampling.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1), 53 bits.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// How to pick tokens.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Sampling {
    /// The highest logit (lowest id on ties).
    Greedy,
    /// Seeded random draw from the filtered, temperature-scaled distribution.
    Random {
        temperature: f32,
        /// Keep the k most likely tokens (0 = all).
        top_k: usize,
        /// Keep the smallest set whose probability reaches p (1.0 = all).
        top_p: f32,
        seed: u64,
    },
}

impl Sampling {
    /// Random sampling with llama.cpp's defaults for the filters (top-k 40, top-p 0.95).
    pub fn random(temperature: f32, seed: u64) -> Self {
        Self::Random { temperature, top_k: 40, top_p: 0.95, seed }
    }

    /// Checks the parameters; a temperature of 0 means greedy.
    pub fn validate(self) -> Result<Self, String> {
        match self {
            Self::Greedy => Ok(self),
            Self::Random { temperature, top_p, .. } => {
                if !(temperature >= 0.0 && temperature.is_finite()) {
                    return Err(format!("temperature {temperature} must be a finite number >= 0"));
                }
                if !(top_p > 0.0 && top_p <= 1.0) {
                    return Err(format!("top-p {top_p} must be in (0, 1]"));
                }
                Ok(if temperature == 0.0 { Self::Greedy } else { self })
            }
        }
    }
}

/// Picks tokens one step at a time, keeping the PRNG state between steps.
#[derive(Clone, Debug)]
pub struct Sampler {
    sampling: Sampling,
    rng: Rng,
    candidates: Vec<(u32, f32)>,
}

impl Sampler {
    pub fn new(sampling: Sampling) -> Self {
        let seed = match sampling {
            Sampling::Random { seed, .. } => seed,
            Sampling::Greedy => 0,
        };
        Self { sampling, rng: Rng::new(seed), candidates: Vec::new() }
    }

    /// The next token. `logits` must not be empty; NaN logits are never chosen.
    pub fn sample(&mut self, logits: &[f32]) -> u32 {
        match self.sampling {
            Sampling::Greedy => greedy(logits),
            Sampling::Random { temperature, top_k, top_p, .. } => {
                if temperature <= 0.0 {
                    return greedy(logits);
                }
                self.sample_random(logits, temperature, top_k, top_p)
            }
        }
    }

    fn sample_random(&mut self, logits: &[f32], temperature: f32, top_k: usize, top_p: f32) -> u32 {
        let c = &mut self.candidates;
        c.clear();
        c.extend(logits.iter().enumerate().filter(|(_, l)| !l.is_nan()).map(|(i, &l)| (i as u32, l)));
        if c.is_empty() {
            return 0;
        }
        let order = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        let k = if top_k == 0 { c.len() } else { top_k.min(c.len()) };
        if k < c.len() {
            c.select_nth_unstable_by(k - 1, order);
            c.truncate(k);
        }
        c.sort_unstable_by(order);

        // Softmax with temperature, in f64 so tiny probabilities do not all round to 0.
        let max = f64::from(c[0].1);
        let t = f64::from(temperature);
        let mut probs: Vec<f64> = c.iter().map(|(_, l)| ((f64::from(*l) - max) / t).exp()).collect();
        let total: f64 = probs.iter().sum();
        let mut keep = probs.len();
        if top_p < 1.0 {
            let mut cum = 0.0;
            for (i, p) in probs.iter().enumerate() {
                cum += p / total;
                if cum >= f64::from(top_p) {
                    keep = i + 1;
                    break;
                }
            }
        }
        probs.truncate(keep);
        let kept: f64 = probs.iter().sum();
        let mut target = self.rng.next_f64() * kept;
        for (i, p) in probs.iter().enumerate() {
            if target < *p {
                return c[i].0;
            }
            target -= p;
        }
        c[keep - 1].0
    }
}

/// Index of the largest logit (lowest id on ties; NaN never wins).
pub fn greedy(logits: &[f32]) -> u32 {
    let mut best = 0usize;
    let mut best_v = f32::NEG_INFINITY;
    for (i, &v) in logits.iter().enumerate() {
        if v > best_v {
            best = i;
            best_v = v;
        }
    }
    best as u32
}

/// The `k` largest logits as (id, logit), highest first (lowest id on ties).
pub fn top_k(logits: &[f32], k: usize) -> Vec<(u32, f32)> {
    let mut c: Vec<(u32, f32)> =
        logits.iter().enumerate().filter(|(_, l)| !l.is_nan()).map(|(i, &l)| (i as u32, l)).collect();
    let order = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
    let k = k.min(c.len());
    if k == 0 {
        return Vec::new();
    }
    if k < c.len() {
        c.select_nth_unstable_by(k - 1, order);
        c.truncate(k);
    }
    c.sort_unstable_by(order);
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greedy_takes_the_first_maximum_and_ignores_nan() {
        assert_eq!(greedy(&[1.0, 3.0, 3.0, -1.0]), 1);
        assert_eq!(greedy(&[f32::NAN, 0.5, 0.2]), 1);
        assert_eq!(Sampler::new(Sampling::Greedy).sample(&[0.0, 2.0, 1.0]), 1);
    }

    #[test]
    fn top_k_orders_by_logit_then_id() {
        assert_eq!(top_k(&[0.5, 2.0, 2.0, 1.0], 3), vec![(1, 2.0), (2, 2.0), (3, 1.0)]);
        assert_eq!(top_k(&[0.5], 4), vec![(0, 0.5)]);
    }

    #[test]
    fn same_seed_same_tokens_and_seeds_differ() {
        let logits: Vec<f32> = (0..100).map(|i| ((i * 37 % 100) as f32) / 20.0).collect();
        let draw = |seed| {
            let mut s = Sampler::new(Sampling::Random { temperature: 1.0, top_k: 0, top_p: 1.0, seed });
            (0..50).map(|_| s.sample(&logits)).collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
    }

    #[test]
    fn frequencies_follow_the_softmax() {
        // Logits ln(1), ln(2), ln(3), ln(4): probabilities 0.1, 0.2, 0.3, 0.4 at temperature 1.
        let logits: Vec<f32> = [1.0f32, 2.0, 3.0, 4.0].iter().map(|p| p.ln()).collect();
        let mut s = Sampler::new(Sampling::Random { temperature: 1.0, top_k: 0, top_p: 1.0, seed: 3 });
        let n = 40_000;
        let mut counts = [0usize; 4];
        for _ in 0..n {
            counts[s.sample(&logits) as usize] += 1;
        }
        for (i, c) in counts.iter().enumerate() {
            let expected = (i + 1) as f64 / 10.0;
            let got = *c as f64 / n as f64;
            // 5 standard deviations of a binomial proportion.
            let sd = (expected * (1.0 - expected) / n as f64).sqrt();
            assert!((got - expected).abs() < 5.0 * sd, "token {i}: {got} vs {expected}");
        }
    }

    #[test]
    fn filters_cut_the_tail() {
        let logits: Vec<f32> = [1.0f32, 2.0, 3.0, 4.0].iter().map(|p| p.ln()).collect();
        // top-k 2 keeps ids 3 and 2 only.
        let mut s = Sampler::new(Sampling::Random { temperature: 1.0, top_k: 2, top_p: 1.0, seed: 1 });
        assert!((0..2000).map(|_| s.sample(&logits)).all(|t| t == 3 || t == 2));
        // top-p 0.5: 0.4 alone is not enough, 0.4 + 0.3 reaches it.
        let mut s = Sampler::new(Sampling::Random { temperature: 1.0, top_k: 0, top_p: 0.5, seed: 1 });
        let seen: std::collections::BTreeSet<u32> = (0..2000).map(|_| s.sample(&logits)).collect();
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), vec![2, 3]);
        // A very low temperature is effectively greedy.
        let mut s = Sampler::new(Sampling::Random { temperature: 1e-3, top_k: 0, top_p: 1.0, seed: 1 });
        assert!((0..200).all(|_| s.sample(&logits) == 3));
    }

    #[test]
    fn bad_parameters_are_rejected_and_zero_temperature_is_greedy() {
        assert!(Sampling::random(-1.0, 0).validate().is_err());
        assert!(Sampling::random(f32::NAN, 0).validate().is_err());
        assert!(Sampling::Random { temperature: 1.0, top_k: 0, top_p: 0.0, seed: 0 }.validate().is_err());
        assert_eq!(Sampling::random(0.0, 5).validate(), Ok(Sampling::Greedy));
    }
}
