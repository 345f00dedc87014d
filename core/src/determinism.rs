//! A pure computation whose digest must be identical natively and in wasm.
//!
//! The cross-target harness (tests/browser/determinism.test.mjs) compares the digest
//! printed by the native CLI with the one computed by the app's wasm. It exercises the
//! operations that most often diverge across targets: 64-bit integer mixing, f64
//! arithmetic with transcendental functions (through `libm`, never std's platform
//! libm), and float formatting.

/// FNV-1a 64-bit: tiny, dependency-free and stable; used to digest canonical bytes.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// SplitMix64 step: the seeded generator behind the probe.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Runs `steps` seeded float updates and returns a hex digest of their printed values.
pub fn probe_digest(seed: u64, steps: u32) -> String {
    let mut state = seed;
    let mut text = String::new();
    let mut acc = 0.5f64;
    for _ in 0..steps {
        let u = (splitmix64(&mut state) >> 11) as f64 / (1u64 << 53) as f64;
        acc = (acc * 0.9 + u * 0.1).clamp(1e-9, 1.0 - 1e-9);
        let logit = libm::log(acc / (1.0 - acc));
        text.push_str(&format!("{acc:.17e} {logit:.17e}\n"));
    }
    format!("{:016x}", fnv1a64(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_depends_on_seed_and_is_repeatable() {
        assert_eq!(probe_digest(7, 1000), probe_digest(7, 1000));
        assert_ne!(probe_digest(7, 1000), probe_digest(8, 1000));
    }
}
