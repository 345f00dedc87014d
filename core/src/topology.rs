//! Communication graphs: who sees whose messages.
//!
//! Generators for the classic shapes and seeded random families (Erdős–Rényi,
//! Watts–Strogatz, Barabási–Albert), plus hand edits. Edges are kept sorted and
//! de-duplicated so the same spec always gives the same graph on every target.

use serde::{Deserialize, Serialize};

use crate::rng::Rng;
use crate::spec::{MAX_EDGES, ScenarioError, check_unit};

/// Who can see whom. Generators fill the edges; `add_edges`/`remove_edges` are hand edits.
/// An edge `[a, b]` means b sees a's messages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topology {
    /// chain, star, ring, mesh, tree, grid, erdos_renyi, watts_strogatz, barabasi_albert, custom.
    pub kind: String,
    /// Erdős–Rényi edge probability.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p: Option<f64>,
    /// Watts–Strogatz: neighbours on each side of the ring.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k: Option<u32>,
    /// Watts–Strogatz rewiring probability.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beta: Option<f64>,
    /// Barabási–Albert: edges per new node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub m: Option<u32>,
    /// Tree branching factor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branching: Option<u32>,
    /// Grid width (rows follow from the agent count).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Star hub.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub center: Option<u32>,
    /// Seed for random graphs (defaults to the scenario seed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// One-way edges (a chain then only passes forward).
    #[serde(default, skip_serializing_if = "is_false")]
    pub directed: bool,
    /// Edges for `custom`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub edges: Vec<[u32; 2]>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub add_edges: Vec<[u32; 2]>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove_edges: Vec<[u32; 2]>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Default for Topology {
    fn default() -> Self {
        Self::of("mesh")
    }
}

impl Topology {
    pub fn of(kind: &str) -> Self {
        Self {
            kind: kind.into(),
            p: None,
            k: None,
            beta: None,
            m: None,
            branching: None,
            width: None,
            center: None,
            seed: None,
            directed: false,
            edges: vec![],
            add_edges: vec![],
            remove_edges: vec![],
        }
    }
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// A directed graph over agents `0..n`. `(a, b)` means b sees a.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graph {
    pub n: usize,
    /// Sorted, without duplicates or self-loops.
    pub edges: Vec<(u32, u32)>,
    incoming: Vec<Vec<u32>>,
    outgoing: Vec<Vec<u32>>,
}

impl Graph {
    pub fn from_edges(n: usize, mut edges: Vec<(u32, u32)>) -> Self {
        edges.retain(|&(a, b)| a != b && (a as usize) < n && (b as usize) < n);
        edges.sort_unstable();
        edges.dedup();
        let mut incoming = vec![Vec::new(); n];
        let mut outgoing = vec![Vec::new(); n];
        for &(a, b) in &edges {
            outgoing[a as usize].push(b);
            incoming[b as usize].push(a);
        }
        for v in incoming.iter_mut() {
            v.sort_unstable();
        }
        Self { n, edges, incoming, outgoing }
    }

    /// Agents whose messages `agent` sees.
    pub fn sees(&self, agent: u32) -> &[u32] {
        &self.incoming[agent as usize]
    }

    /// Agents who see `agent`'s messages.
    pub fn seen_by(&self, agent: u32) -> &[u32] {
        &self.outgoing[agent as usize]
    }
}

fn both(edges: &mut Vec<(u32, u32)>, a: u32, b: u32) {
    edges.push((a, b));
    edges.push((b, a));
}

/// Builds the graph for `spec` over `n` agents; `seed` is the scenario seed.
pub fn build(spec: &Topology, n: usize, seed: u64) -> Graph {
    let mut rng = Rng::named(spec.seed.unwrap_or(seed), "topology");
    let nn = n as u32;
    let mut e: Vec<(u32, u32)> = Vec::new();
    match spec.kind.as_str() {
        "chain" => {
            for i in 1..nn {
                e.push((i - 1, i));
                if !spec.directed {
                    e.push((i, i - 1));
                }
            }
        }
        "ring"
            if n > 1 => {
                for i in 0..nn {
                    let j = (i + 1) % nn;
                    e.push((i, j));
                    if !spec.directed {
                        e.push((j, i));
                    }
                }
            }
        "star" => {
            let c = spec.center.unwrap_or(0).min(nn.saturating_sub(1));
            for i in (0..nn).filter(|&i| i != c) {
                e.push((i, c));
                if !spec.directed {
                    e.push((c, i));
                }
            }
        }
        "mesh" => {
            for a in 0..nn {
                for b in 0..nn {
                    e.push((a, b));
                }
            }
        }
        "tree" => {
            let k = spec.branching.unwrap_or(2).max(1);
            for i in 1..nn {
                let parent = (i - 1) / k;
                e.push((parent, i));
                if !spec.directed {
                    e.push((i, parent));
                }
            }
        }
        "grid" => {
            let w = spec.width.unwrap_or_else(|| (libm::sqrt(n as f64).ceil() as u32).max(1)).max(1);
            for i in 0..nn {
                if (i + 1) % w != 0 && i + 1 < nn {
                    both(&mut e, i, i + 1);
                }
                if i + w < nn {
                    both(&mut e, i, i + w);
                }
            }
        }
        "erdos_renyi" => {
            let p = spec.p.unwrap_or(0.5);
            for a in 0..nn {
                for b in (a + 1)..nn {
                    if rng.chance(p) {
                        both(&mut e, a, b);
                    }
                }
            }
        }
        "watts_strogatz" => {
            let k = spec.k.unwrap_or(2).max(1);
            let beta = spec.beta.unwrap_or(0.1);
            let mut und: Vec<(u32, u32)> = Vec::new();
            for i in 0..nn {
                for d in 1..=k {
                    let j = (i + d) % nn;
                    if j == i {
                        continue;
                    }
                    let j = if rng.chance(beta) && n > 2 {
                        // Rewire to a uniformly chosen other node.
                        let mut t = rng.below(u64::from(nn - 1)) as u32;
                        if t >= i {
                            t += 1;
                        }
                        t
                    } else {
                        j
                    };
                    und.push((i.min(j), i.max(j)));
                }
            }
            for (a, b) in und {
                both(&mut e, a, b);
            }
        }
        "barabasi_albert" => {
            let m = spec.m.unwrap_or(2).max(1) as usize;
            // Start from a small clique of m+1 nodes, then attach preferentially by degree.
            let core = (m + 1).min(n);
            let mut targets: Vec<u32> = Vec::new();
            for a in 0..core as u32 {
                for b in (a + 1)..core as u32 {
                    both(&mut e, a, b);
                    targets.push(a);
                    targets.push(b);
                }
            }
            for v in core as u32..nn {
                let mut chosen: Vec<u32> = Vec::new();
                let mut guard = 0;
                while chosen.len() < m.min(v as usize) && guard < 1000 {
                    guard += 1;
                    let t = if targets.is_empty() { rng.below(u64::from(v)) as u32 } else { targets[rng.index(targets.len())] };
                    if !chosen.contains(&t) {
                        chosen.push(t);
                    }
                }
                for t in chosen {
                    both(&mut e, v, t);
                    targets.push(v);
                    targets.push(t);
                }
            }
        }
        _ => {}
    }
    for &[a, b] in &spec.edges {
        e.push((a, b));
        if !spec.directed {
            e.push((b, a));
        }
    }
    for &[a, b] in &spec.add_edges {
        e.push((a, b));
        if !spec.directed {
            e.push((b, a));
        }
    }
    let mut g = Graph::from_edges(n, e);
    if !spec.remove_edges.is_empty() {
        let remove: Vec<(u32, u32)> = spec
            .remove_edges
            .iter()
            .flat_map(|&[a, b]| if spec.directed { vec![(a, b)] } else { vec![(a, b), (b, a)] })
            .collect();
        let kept = g.edges.into_iter().filter(|x| !remove.contains(x)).collect();
        g = Graph::from_edges(n, kept);
    }
    g
}

pub const TOPOLOGY_KINDS: &[&str] = &[
    "chain", "star", "ring", "mesh", "tree", "grid", "erdos_renyi", "watts_strogatz", "barabasi_albert", "custom",
];

pub fn validate(t: &Topology, n: usize) -> Result<(), ScenarioError> {
    if !TOPOLOGY_KINDS.contains(&t.kind.as_str()) {
        return Err(ScenarioError(format!(
            "unknown topology \"{}\" (expected one of {})",
            t.kind,
            TOPOLOGY_KINDS.join(", ")
        )));
    }
    if let Some(p) = t.p {
        check_unit("topology.p", p)?;
    }
    if let Some(b) = t.beta {
        check_unit("topology.beta", b)?;
    }
    if let Some(k) = t.k
        && (k == 0 || k as usize > n.max(1)) {
            return Err(ScenarioError(format!("topology.k {k} out of [1,{}]", n.max(1))));
        }
    if let Some(m) = t.m
        && (m == 0 || m as usize > n.max(1)) {
            return Err(ScenarioError(format!("topology.m {m} out of [1,{}]", n.max(1))));
        }
    if let Some(b) = t.branching
        && (b == 0 || b > 64) {
            return Err(ScenarioError(format!("topology.branching {b} out of [1,64]")));
        }
    if let Some(w) = t.width
        && (w == 0 || w as usize > n.max(1)) {
            return Err(ScenarioError(format!("topology.width {w} out of [1,{}]", n.max(1))));
        }
    if let Some(c) = t.center
        && c as usize >= n {
            return Err(ScenarioError(format!("topology.center {c}: there are only {n} agents")));
        }
    let total = t.edges.len() + t.add_edges.len() + t.remove_edges.len();
    if total > MAX_EDGES {
        return Err(ScenarioError(format!("topology: {total} hand-edited edges, at most {MAX_EDGES}")));
    }
    for (field, list) in [("edges", &t.edges), ("add_edges", &t.add_edges), ("remove_edges", &t.remove_edges)] {
        for &[a, b] in list.iter() {
            if a as usize >= n || b as usize >= n {
                return Err(ScenarioError(format!(
                    "topology.{field}: edge [{a},{b}] names an agent that does not exist (there are {n})"
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(kind: &str, n: usize) -> Graph {
        build(&Topology::of(kind), n, 1)
    }

    #[test]
    fn shapes_have_expected_edge_counts() {
        assert_eq!(g("chain", 4).edges.len(), 6);
        assert_eq!(g("ring", 4).edges.len(), 8);
        assert_eq!(g("star", 5).edges.len(), 8);
        assert_eq!(g("mesh", 4).edges.len(), 12);
        assert_eq!(g("tree", 7).edges.len(), 12);
        assert_eq!(g("grid", 4).edges.len(), 8); // 2x2 square
        assert_eq!(g("star", 5).sees(0), &[1, 2, 3, 4]);
    }

    #[test]
    fn random_graphs_are_seeded_and_symmetric() {
        for kind in ["erdos_renyi", "watts_strogatz", "barabasi_albert"] {
            let a = build(&Topology::of(kind), 30, 5);
            assert_eq!(a, build(&Topology::of(kind), 30, 5), "{kind}");
            assert_ne!(a, build(&Topology::of(kind), 30, 6), "{kind}");
            for &(x, y) in &a.edges {
                assert!(a.edges.binary_search(&(y, x)).is_ok(), "{kind} not symmetric");
            }
        }
        // BA with m=2 gives about 2 edges per node.
        let ba = build(&Topology { m: Some(2), ..Topology::of("barabasi_albert") }, 100, 3);
        assert!((ba.edges.len() / 2).abs_diff(197) <= 3, "{}", ba.edges.len());
    }

    #[test]
    fn hand_edits_apply() {
        let mut t = Topology::of("chain");
        t.add_edges = vec![[0, 3]];
        t.remove_edges = vec![[1, 2]];
        let gr = build(&t, 4, 0);
        assert!(gr.edges.contains(&(3, 0)));
        assert!(!gr.edges.contains(&(2, 1)));
        t.add_edges = vec![[0, 9]];
        assert!(validate(&t, 4).unwrap_err().0.contains("[0,9]"));
        assert!(validate(&Topology::of("blob"), 4).unwrap_err().0.starts_with("unknown topology \"blob\""));
    }
}
