//! Plans of numeric sub-tasks with a dependency graph (the task kind `dag`).
//!
//! A plan is a list of nodes in dependency order. A *source* node reads two operands from
//! its own page of records (like a multistep parallel part); a *combine* node adds up the
//! results of the nodes it depends on and applies one more operation. The last node is
//! the plan's answer. Shapes:
//! - `parallel`: independent sources feeding one final combine (wide and flat);
//! - `chain`: one source, then each node takes the previous result (deep, width 1);
//! - `tree`: sources combined pairwise up to a root (every result used once);
//! - `mixed`: a layered graph in which some results feed several later nodes (shared
//!   inputs) and some links skip levels;
//! - `any`: one of the four, drawn per instance (a mixed task set).
//!
//! Whoever does a combine node needs the results it depends on: the node as posed to a
//! solver states the values the solver holds, and its truth is the right result for those
//! values (`TaskInstance::node_given`), so a wrong input carries through. Doing the whole
//! plan in one go (the main problem) is an item whose difficulty grows with the number of
//! nodes, about as hard as getting every node right one at a time.

use serde::Deserialize;
use serde_json::Value;

use super::multistep::{problem, sym, worked};
use super::{DifficultyParams, Problem, Step, Structure, TaskInstance, TaskKind, check_difficulty, check_optional, draw_difficulty, op_word};
use crate::rng::{Rng, logit, sigmoid};
use crate::spec::{ScenarioError, parse_params};

pub struct DagTask;

pub const SHAPES: &[&str] = &["parallel", "chain", "tree", "mixed"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    #[serde(flatten)]
    difficulty: DifficultyParams,
    /// Nodes in the plan (3-16).
    #[serde(default)]
    nodes: Option<u32>,
    /// `parallel`, `chain`, `tree`, `mixed` or `any`.
    #[serde(default)]
    shape: Option<String>,
    /// Lines of records per source node (0 for bare operands).
    #[serde(default)]
    material: Option<u32>,
}

fn parse(params: &Value) -> Result<Params, ScenarioError> {
    let p: Params = parse_params("task", params)?;
    check_difficulty("task.params", p.difficulty.difficulty, p.difficulty.difficulty_range)?;
    check_optional("nodes", p.nodes, 3..=16)?;
    check_optional("material", p.material, 0..=40)?;
    if let Some(s) = &p.shape
        && s != "any"
        && !SHAPES.contains(&s.as_str())
    {
        return Err(ScenarioError(format!("task.params.shape \"{s}\" is not one of {}, any", SHAPES.join(", "))));
    }
    Ok(p)
}

const DEFAULT_NODES: u32 = 7;
const DEFAULT_MATERIAL: u32 = 8;
/// The skill at which the whole plan in one go is calibrated to be as hard as getting
/// every node right (other skills keep their order).
const REFERENCE_SKILL: f64 = 0.7;

/// Who feeds whom, for `n` nodes of `shape` (nodes in dependency order, the last one the
/// answer).
fn wiring(shape: &str, n: usize, rng: &mut Rng) -> Vec<Vec<usize>> {
    let mut deps: Vec<Vec<usize>> = vec![Vec::new(); n];
    match shape {
        "parallel" => deps[n - 1] = (0..n - 1).collect(),
        "chain" => {
            for (i, d) in deps.iter_mut().enumerate().skip(1) {
                d.push(i - 1);
            }
        }
        "tree" => {
            // Sources first, then pairwise combines in order; a node left over at the top
            // takes a single input.
            let sources = n.div_ceil(2);
            let mut open: std::collections::VecDeque<usize> = (0..sources).collect();
            let mut next = sources;
            while next < n {
                let a = open.pop_front().expect("an open result");
                // Each combine closes two open results and opens one, so at most two are
                // open at the top.
                deps[next] = match open.pop_front() {
                    Some(b) => vec![a, b],
                    None => vec![a],
                };
                open.push_back(next);
                next += 1;
            }
        }
        _ => {
            // Layers of 2-3 nodes; each later node takes two or three earlier results,
            // most often from the layer just before, sometimes from further back; the
            // answer node takes every result nobody else used.
            let sources = (2 + rng.index(2)).min(n - 2);
            let mut layer_start = 0;
            let mut i = sources;
            while i < n - 1 {
                let width = (2 + rng.index(2)).min(n - 1 - i);
                let prev: Vec<usize> = (layer_start..i).collect();
                for k in i..i + width {
                    let mut d = vec![prev[rng.index(prev.len())]];
                    // Mostly two inputs, sometimes three; some reach back past the last layer.
                    let inputs = if rng.chance(0.8) { 2 } else { 3 };
                    for _ in 1..inputs {
                        let other = if rng.chance(0.6) { prev[rng.index(prev.len())] } else { rng.index(i) };
                        if !d.contains(&other) {
                            d.push(other);
                        }
                    }
                    d.sort_unstable();
                    deps[k] = d;
                }
                layer_start = i;
                i += width;
            }
            let used: Vec<bool> = (0..n - 1).map(|k| deps.iter().any(|d| d.contains(&k))).collect();
            deps[n - 1] = (0..n - 1).filter(|&k| !used[k]).collect();
            if deps[n - 1].is_empty() {
                deps[n - 1].push(n - 2);
            }
            // A mixed plan shares at least one result between two later nodes.
            let shared = (0..n).any(|k| deps.iter().filter(|d| d.contains(&k)).count() > 1);
            if !shared && n >= 4 {
                let target = n - 1;
                if let Some(extra) = (0..n - 2).find(|k| !deps[target].contains(k)) {
                    deps[target].push(extra);
                    deps[target].sort_unstable();
                }
            }
        }
    }
    deps
}

/// Node `i`'s statement as the plan lists it (no values: whoever does it must have them).
pub(super) fn statement(t: &TaskInstance, i: usize) -> String {
    let s = &t.steps[i];
    let d = &t.deps[i];
    if d.is_empty() {
        return t.parts[i].text.clone();
    }
    format!("Node {}: {}, then {} {}.", i + 1, inputs_phrase(d), op_word(s.op), s.right)
}

fn inputs_phrase(d: &[usize]) -> String {
    let names: Vec<String> = d.iter().map(|k| (k + 1).to_string()).collect();
    match names.len() {
        1 => format!("take the result of node {}", names[0]),
        _ => format!("add the results of nodes {} and {}", names[..names.len() - 1].join(", "), names[names.len() - 1]),
    }
}

/// A few lines of records to read a source node's operands from.
fn records(rng: &mut Rng, lines: u32, a: i64, b: i64, node: usize) -> String {
    if lines == 0 {
        return format!(" Record N{}: base {a}, factor {b}.", node + 1);
    }
    let key = rng.index(lines as usize);
    let out: Vec<String> = (0..lines as usize)
        .map(|k| {
            let (x, y) = if k == key { (a, b) } else { (1 + rng.below(90) as i64, 1 + rng.below(9) as i64) };
            let tag = if k == key { format!("N{}", node + 1) } else { format!("R{}", 10 + rng.below(80)) };
            format!("{tag}: base {x}, factor {y}")
        })
        .collect();
    format!(" Records: {}.", out.join("; "))
}

/// Combine node `i` as posed to a solver holding `inputs` for its dependencies.
pub(super) fn node_problem(t: &TaskInstance, i: usize, inputs: &[i64]) -> Problem {
    let s = &t.steps[i];
    let d = &t.deps[i];
    let total = inputs.iter().fold(0i64, |a, &b| a.saturating_add(b));
    let held: Vec<String> = inputs.iter().map(i64::to_string).collect();
    let which = match held.len() {
        1 => format!("which was {}", held[0]),
        _ => format!("which were {} and {}", held[..held.len() - 1].join(", "), held[held.len() - 1]),
    };
    let text = format!("Node {}: {} ({which}), then {} {}. What is the result?", i + 1, inputs_phrase(d), op_word(s.op), s.right);
    let (y, steps, wrong) = worked(total, s.op, s.right);
    let mut steps = steps;
    let mut wrong = wrong;
    if inputs.len() > 1 {
        let sum_line = format!("{} = {total}", held.join(" + "));
        steps.insert(0, sum_line.clone());
        for w in wrong.iter_mut() {
            w.1.insert(0, sum_line.clone());
            w.2 += 1;
        }
        // Leaving one input out of the sum is the tempting slip.
        let short = total - inputs[inputs.len() - 1];
        let short_sum = format!("{} = {short}", held[..held.len() - 1].join(" + "));
        let slip = worked(short, s.op, s.right).0;
        wrong.insert(0, (slip, vec![short_sum, format!("{short} {} {} = {slip}", sym(s.op), s.right)], 0));
    }
    problem(text, t.parts[i].difficulty, y, steps, wrong)
}

/// Every node's true result.
pub(super) fn values(t: &TaskInstance) -> Vec<i64> {
    let mut out: Vec<i64> = Vec::with_capacity(t.steps.len());
    for (i, s) in t.steps.iter().enumerate() {
        let v = if t.deps[i].is_empty() {
            s.apply(s.left)
        } else {
            s.apply(t.deps[i].iter().fold(0i64, |a, &k| a.saturating_add(out[k])))
        };
        out.push(v);
    }
    out
}

impl TaskKind for DagTask {
    fn name(&self) -> &'static str {
        "dag"
    }

    fn validate(&self, params: &Value) -> Result<(), ScenarioError> {
        parse(params).map(|_| ())
    }

    fn generate(&self, params: &Value, rng: &mut Rng, _n_agents: usize) -> TaskInstance {
        let p = parse(params).expect("validated");
        let difficulty = draw_difficulty(rng, p.difficulty.difficulty, p.difficulty.difficulty_range);
        let n = p.nodes.unwrap_or(DEFAULT_NODES) as usize;
        let shape = match p.shape.as_deref() {
            None | Some("any") => SHAPES[rng.index(SHAPES.len())],
            Some(s) => SHAPES.iter().copied().find(|x| *x == s).expect("validated shape"),
        };
        let deps = wiring(shape, n, rng);
        let big = 5 + (difficulty * 30.0) as u64;
        let steps: Vec<Step> = (0..n)
            .map(|i| {
                let op = match rng.below(3) {
                    0 => '+',
                    1 => '-',
                    _ => '*',
                };
                // Results feed later sums, so keep factors small.
                let right = if op == '*' { 2 + rng.below(2) as i64 } else { 1 + rng.below(big) as i64 };
                let left = if deps[i].is_empty() { 1 + rng.below(big) as i64 } else { 0 };
                Step { op, left, right, link: None }
            })
            .collect();
        let mut t = TaskInstance {
            kind: self.name().into(),
            main: problem(String::new(), difficulty, 0, vec![], vec![]),
            structure: Structure::Graph,
            parts: Vec::with_capacity(n),
            steps,
            start: 0,
            grid: None,
            deps,
        };
        let lines = p.material.unwrap_or(DEFAULT_MATERIAL);
        // Sources are posed as generated; combine nodes with the true inputs.
        for i in 0..n {
            let s = t.steps[i].clone();
            if t.deps[i].is_empty() {
                let (y, mut st, wrong) = worked(s.left, s.op, s.right);
                let text = format!("Node {}: take the base of record N{} and {} its factor.{}", i + 1, i + 1, op_word(s.op), records(rng, lines, s.left, s.right, i));
                let record = format!("record N{}: base {}, factor {}", i + 1, s.left, s.right);
                st.insert(0, record.clone());
                let wrong = wrong
                    .into_iter()
                    .map(|(v, mut w, f)| {
                        w.insert(0, record.clone());
                        (v, w, f + 1)
                    })
                    .collect();
                t.parts.push(problem(text, difficulty, y, st, wrong));
            } else {
                // A placeholder so `node_problem` can read the node's difficulty.
                t.parts.push(problem(String::new(), difficulty, 0, vec![], vec![]));
            }
        }
        let values = values(&t);
        for i in 0..n {
            if !t.deps[i].is_empty() {
                let inputs: Vec<i64> = t.deps[i].iter().map(|&k| values[k]).collect();
                t.parts[i] = node_problem(&t, i, &inputs);
            }
        }
        let truth = values[n - 1];
        let listed: Vec<String> = (0..n).map(|i| statement(&t, i)).collect();
        let text = format!("Work out every node of this plan; the answer is node {n}'s result. {}", listed.join(" "));
        let whole = |v: i64| vec![format!("working through the {n} nodes gives {v}")];
        let wrong = vec![(truth + 1, whole(truth + 1), 0), (truth - 1, whole(truth - 1), 0), (truth + 10, whole(truth + 10), 0)];
        // One go through n nodes: as hard, at the reference skill, as n nodes one by one.
        let one = sigmoid(logit(REFERENCE_SKILL) - 4.0 * (difficulty - 0.5));
        let all = libm::pow(one, n as f64).max(1e-6);
        let whole_difficulty = (difficulty + (logit(one) - logit(all)) / 4.0).min(1.5);
        t.main = problem(text, whole_difficulty, truth, whole(truth), wrong);
        t
    }
}

/// The shape of a plan as anyone reading it can see (used by routers): how many nodes,
/// how deep, how wide, and how many results feed more than one node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub nodes: usize,
    /// Levels: a node's level is one more than its deepest input's (sources are level 0).
    pub depth: usize,
    /// Most nodes on one level.
    pub width: usize,
    /// Results used by more than one node.
    pub shared: usize,
    /// Largest number of inputs of one node.
    pub fan_in: usize,
}

/// Each node's level (sources 0).
pub fn levels(deps: &[Vec<usize>]) -> Vec<usize> {
    let mut level = vec![0usize; deps.len()];
    for i in 0..deps.len() {
        level[i] = deps[i].iter().map(|&k| level[k] + 1).max().unwrap_or(0);
    }
    level
}

/// The layout of a dependency list, in one pass over nodes and edges.
pub fn layout(deps: &[Vec<usize>]) -> Layout {
    let level = levels(deps);
    let depth = level.iter().max().map_or(0, |l| l + 1);
    let mut per_level = vec![0usize; depth];
    for &l in &level {
        per_level[l] += 1;
    }
    let mut uses = vec![0usize; deps.len()];
    for d in deps {
        for &k in d {
            uses[k] += 1;
        }
    }
    Layout {
        nodes: deps.len(),
        depth,
        width: per_level.into_iter().max().unwrap_or(0),
        shared: uses.iter().filter(|&&u| u > 1).count(),
        fan_in: deps.iter().map(Vec::len).max().unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Spec;

    fn plan(shape: &str, nodes: u32, seed: u64) -> TaskInstance {
        let spec = Spec::new("dag", serde_json::json!({"shape": shape, "nodes": nodes}));
        crate::tasks::generate(&spec, seed, 4)
    }

    #[test]
    fn shapes_have_their_layout() {
        for seed in 0..40 {
            for n in [3u32, 4, 7, 8, 16] {
                let p = layout(&plan("parallel", n, seed).deps);
                assert_eq!((p.depth, p.width, p.shared), (2, n as usize - 1, 0));
                let c = layout(&plan("chain", n, seed).deps);
                assert_eq!((c.depth, c.width, c.shared), (n as usize, 1, 0));
                let t = plan("tree", n, seed);
                let l = layout(&t.deps);
                assert_eq!(l.shared, 0, "a tree uses every result once: {:?}", t.deps);
                assert!(l.fan_in <= 2 && l.depth >= 2);
                let m = plan("mixed", n, seed);
                let l = layout(&m.deps);
                if n >= 4 {
                    assert!(l.shared >= 1, "mixed shares a result: {:?}", m.deps);
                }
                // Every node but the answer feeds someone; inputs come from earlier nodes.
                for t in [plan("parallel", n, seed), plan("chain", n, seed), plan("tree", n, seed), m] {
                    let k = t.deps.len();
                    for i in 0..k - 1 {
                        assert!(t.deps.iter().any(|d| d.contains(&i)), "node {i} unused: {:?}", t.deps);
                    }
                    assert!(t.deps.iter().enumerate().all(|(i, d)| d.iter().all(|&j| j < i)));
                }
            }
        }
    }

    #[test]
    fn node_truth_follows_the_inputs_held() {
        for seed in 0..30 {
            let t = plan("any", 9, seed);
            let v = t.node_values();
            assert_eq!(v[v.len() - 1].to_string(), t.main.truth);
            for i in 0..t.parts.len() {
                let inputs: Vec<i64> = t.deps[i].iter().map(|&k| v[k]).collect();
                let p = t.node_given(i, &inputs);
                assert_eq!(p.truth, v[i].to_string(), "node {i}");
                assert_eq!(p, t.parts[i]);
                assert!(!p.distractors.iter().any(|d| p.is_correct(d)));
                if !inputs.is_empty() {
                    let off: Vec<i64> = inputs.iter().map(|x| x + 5).collect();
                    let q = t.node_given(i, &off);
                    assert_ne!(q.text, p.text, "a wrong input is a different question");
                }
            }
        }
    }

    #[test]
    fn one_go_is_harder_the_longer_the_plan() {
        let d = |n: u32| plan("chain", n, 5).main.difficulty;
        assert!(d(3) < d(8) && d(8) < d(16));
        assert!(d(3) > plan("chain", 3, 5).parts[0].difficulty);
    }

    #[test]
    fn bad_params_are_named() {
        let e = crate::tasks::validate(&Spec::new("dag", serde_json::json!({"shape": "blob"}))).unwrap_err();
        assert!(e.0.contains("task.params.shape \"blob\""), "{e}");
        let e = crate::tasks::validate(&Spec::new("dag", serde_json::json!({"nodes": 99}))).unwrap_err();
        assert!(e.0.contains("task.params.nodes 99 out of [3,16]"), "{e}");
    }
}
