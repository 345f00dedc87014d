//! Large simulated societies: one opinion-update round over a random sparse graph stored
//! as CSR arrays (offsets + targets), with opinions in flat byte arrays — no per-agent
//! heap objects, so a million agents fit in tens of megabytes and a round is one pass
//! over the edge array. The app measures the same round in wasm; the CLI prints it
//! natively (`council bench society`).
//!
//! Update rule (majority with stubbornness): each agent listens to `degree` random others;
//! a stubborn agent keeps its opinion, any other adopts its listeners' majority (a tie
//! keeps its own).

use crate::rng::Rng;

pub const MAX_SOCIETY: usize = 20_000_000;
pub const MAX_DEGREE: u32 = 64;

pub struct Society {
    /// `targets[offsets[i]..offsets[i+1]]` are the agents `i` listens to.
    offsets: Vec<u32>,
    targets: Vec<u32>,
    opinion: Vec<u8>,
    next: Vec<u8>,
    stubborn: Vec<u8>,
}

/// What a round changed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RoundStats {
    pub changed: u64,
    /// Share of agents holding opinion 1 after the round.
    pub share: f64,
}

impl Society {
    /// `n` agents, each listening to `degree` others chosen uniformly (seeded); a share
    /// `p_one` starts with opinion 1 and `p_stubborn` never changes.
    pub fn random(n: usize, degree: u32, p_one: f64, p_stubborn: f64, seed: u64) -> Result<Self, String> {
        if !(2..=MAX_SOCIETY).contains(&n) {
            return Err(format!("society size {n} out of [2,{MAX_SOCIETY}]"));
        }
        if degree == 0 || degree > MAX_DEGREE || degree as usize >= n {
            return Err(format!("degree {degree} out of [1,{}]", MAX_DEGREE.min(n as u32 - 1)));
        }
        let mut rng = Rng::named(seed, "society");
        let d = degree as usize;
        let mut offsets = Vec::with_capacity(n + 1);
        let mut targets = Vec::with_capacity(n * d);
        for i in 0..n {
            offsets.push((i * d) as u32);
            for _ in 0..d {
                // Uniform over the others (skip self by shifting).
                let mut t = rng.below(n as u64 - 1) as u32;
                if t as usize >= i {
                    t += 1;
                }
                targets.push(t);
            }
        }
        offsets.push((n * d) as u32);
        let opinion: Vec<u8> = (0..n).map(|_| u8::from(rng.chance(p_one))).collect();
        let stubborn: Vec<u8> = (0..n).map(|_| u8::from(rng.chance(p_stubborn))).collect();
        Ok(Self { offsets, targets, next: opinion.clone(), opinion, stubborn })
    }

    pub fn len(&self) -> usize {
        self.opinion.len()
    }

    pub fn is_empty(&self) -> bool {
        self.opinion.is_empty()
    }

    pub fn edges(&self) -> usize {
        self.targets.len()
    }

    /// Bytes held by the arrays.
    pub fn memory_bytes(&self) -> usize {
        self.offsets.len() * 4 + self.targets.len() * 4 + self.opinion.len() * 3
    }

    pub fn opinions(&self) -> &[u8] {
        &self.opinion
    }

    /// One synchronous round of the update rule.
    pub fn round(&mut self) -> RoundStats {
        let mut changed = 0u64;
        let mut ones = 0u64;
        for i in 0..self.opinion.len() {
            let own = self.opinion[i];
            let new = if self.stubborn[i] != 0 {
                own
            } else {
                let (a, b) = (self.offsets[i] as usize, self.offsets[i + 1] as usize);
                let mut yes = 0u32;
                for &t in &self.targets[a..b] {
                    yes += u32::from(self.opinion[t as usize]);
                }
                let total = (b - a) as u32;
                if 2 * yes > total { 1 } else if 2 * yes < total { 0 } else { own }
            };
            changed += u64::from(new != own);
            ones += u64::from(new);
            self.next[i] = new;
        }
        std::mem::swap(&mut self.opinion, &mut self.next);
        RoundStats { changed, share: ones as f64 / self.opinion.len() as f64 }
    }

    /// The reference pass the benchmark prints beside a round: one streaming read of the
    /// edge array (the memory-bandwidth floor of any round).
    pub fn edge_checksum(&self) -> u64 {
        self.targets.iter().fold(0u64, |acc, &t| acc.wrapping_add(u64::from(t)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn majority_rule_drives_towards_the_majority_and_is_seeded() {
        let mut s = Society::random(10_000, 8, 0.6, 0.0, 1).unwrap();
        let first = s.round();
        let mut last = first;
        for _ in 0..5 {
            last = s.round();
        }
        assert!(last.share > 0.95, "{last:?}");
        let mut again = Society::random(10_000, 8, 0.6, 0.0, 1).unwrap();
        assert_eq!(again.round(), first);
    }

    #[test]
    fn stubborn_agents_never_change_and_sizes_are_bounded() {
        let mut s = Society::random(1000, 4, 0.5, 1.0, 2).unwrap();
        let before = s.opinions().to_vec();
        assert_eq!(s.round().changed, 0);
        assert_eq!(s.opinions(), &before[..]);
        assert!(Society::random(1, 4, 0.5, 0.0, 0).is_err());
        assert!(Society::random(100, 0, 0.5, 0.0, 0).is_err());
        assert!(Society::random(100, 65, 0.5, 0.0, 0).is_err());
    }
}
