//! Tasks with ground truth, generated from the seed (no dataset download).
//!
//! A task kind turns `{kind, params}` and a seeded RNG into a `TaskInstance`: one main
//! problem, optionally split into parts (independent = parallelizable, or chained =
//! sequential). Mechanisms pose `Problem`s to agents; simulated agents use the hidden
//! fields (truth, difficulty, distractors); LLM prompts use only `text` and `options`.
//! A new task (graph tasks, games) is one file implementing `TaskKind` + one registry line.

mod arithmetic;
mod dag;
pub use dag::{Layout, layout, levels};
pub mod grid;
mod multiple_choice;
pub use multiple_choice::{DOMAINS, letter};
/// Domains multiple-choice items can be drawn from (the name the policy crate uses).
pub use multiple_choice::DOMAINS as CHOICE_DOMAINS;
mod multistep;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::rng::Rng;
use crate::spec::{ScenarioError, Spec};

/// One question an agent can be asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    /// The question as an agent (or an LLM prompt) sees it.
    pub text: String,
    /// Answer options, when the answer is one of them (empty for free answers).
    pub options: Vec<String>,
    /// `option`, `number` or `text`: how an LLM reply is parsed.
    pub format: String,
    /// Domain label for expertise (`math`, `logic`, ...).
    pub domain: String,
    /// Ground truth (hidden from prompts).
    pub truth: String,
    /// 0 (trivial) .. 1 (very hard); mechanisms may add penalties on top.
    pub difficulty: f64,
    /// Plausible wrong answers, the most tempting ("lure") first (hidden from prompts).
    pub distractors: Vec<String>,
    /// Probability that a wrong answer is the lure rather than another distractor.
    pub lure: f64,
    /// How each answer is reached (hidden from prompts): the worked steps to the truth and
    /// the slip behind each distractor. Simulated agents' arguments are written from these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub derivations: Vec<Derivation>,
}

/// A way to reach one answer: the steps as written and, for a wrong answer, the step
/// where it goes wrong.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Derivation {
    pub answer: String,
    pub steps: Vec<String>,
    /// The wrong step (None: the derivation is sound).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flaw: Option<usize>,
}

impl Derivation {
    pub fn sound(answer: impl Into<String>, steps: Vec<String>) -> Self {
        Derivation { answer: answer.into(), steps, flaw: None }
    }
    pub fn flawed(answer: impl Into<String>, steps: Vec<String>, flaw: usize) -> Self {
        Derivation { answer: answer.into(), steps, flaw: Some(flaw) }
    }
}

impl Problem {
    pub fn is_correct(&self, answer: &str) -> bool {
        normalize(answer) == normalize(&self.truth)
    }

    /// The answers an agent weighs: the truth and every distractor (truth first; callers
    /// that show them must not keep that order).
    pub fn candidates(&self) -> Vec<String> {
        std::iter::once(self.truth.clone()).chain(self.distractors.iter().cloned()).collect()
    }

    /// How `answer` is reached: the task's own derivation when it has one, otherwise a
    /// generic one (the truth's steps, with a wrong answer's last step going astray).
    pub fn derivation(&self, answer: &str) -> Derivation {
        let key = normalize(answer);
        if let Some(d) = self.derivations.iter().find(|d| normalize(&d.answer) == key) {
            return d.clone();
        }
        let truth_steps = self
            .derivations
            .iter()
            .find(|d| d.flaw.is_none())
            .map(|d| d.steps.clone())
            .unwrap_or_else(|| vec![format!("working it through gives {}", self.truth)]);
        if self.is_correct(answer) {
            return Derivation::sound(answer, truth_steps);
        }
        let mut steps = truth_steps;
        let last = steps.len().saturating_sub(1);
        let line = steps.get(last).cloned().unwrap_or_default();
        // Keep what the step computes from, change what it concludes.
        let head = line.rsplit_once(['=', ':']).map(|(h, _)| format!("{h}= ")).unwrap_or_else(|| "so the result is ".into());
        let shown = format!("{head}{answer}");
        if steps.is_empty() {
            steps.push(shown);
        } else {
            steps[last] = shown;
        }
        Derivation::flawed(answer, steps, last)
    }
}

/// Steps that end in a numeric result, mapped onto lettered options: appends "so option
/// X" to each derivation whose value is among `values`, and returns the letter answers.
pub(crate) fn lettered(derivations: Vec<(i64, Vec<String>, Option<usize>)>, values: &[i64]) -> Vec<Derivation> {
    derivations
        .into_iter()
        .filter_map(|(v, mut steps, flaw)| {
            let pos = values.iter().position(|x| *x == v)?;
            let l = letter(pos);
            steps.push(format!("{v} is option {l}"));
            Some(Derivation { answer: l, steps, flaw })
        })
        .collect()
}

/// Canonical form for comparing answers ("B", " b ", "42.0" vs "42").
pub fn normalize(answer: &str) -> String {
    // Fast path: short canonical words and letters (most answers) need no parsing.
    let b = answer.as_bytes();
    if !b.is_empty() && b.iter().all(|c| c.is_ascii_lowercase()) {
        return answer.to_string();
    }
    if b.len() == 1 && b[0].is_ascii_uppercase() {
        return answer.to_ascii_lowercase();
    }
    let t = answer.trim().trim_end_matches('.').to_ascii_lowercase();
    if let Ok(x) = t.parse::<f64>()
        && x.fract() == 0.0 && x.abs() < 1e15 {
            return format!("{}", x as i64);
        }
    t
}

/// How the parts of a task relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Structure {
    /// One problem, no parts.
    Single,
    /// Independent parts; the main answer combines all part answers.
    Parallel,
    /// Each part needs the previous part's result.
    Sequential,
    /// Parts form a dependency graph (`TaskInstance::deps`); the main answer is the last
    /// part's result.
    Graph,
}

/// A step of a multi-step numeric task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// `+`, `-` or `*`.
    pub op: char,
    /// Left operand for parallel steps (sequential steps use the previous result).
    pub left: i64,
    pub right: i64,
    /// Sequential: this step also adds the result of an earlier step (a long link), which
    /// whoever does the step must have at hand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<usize>,
}

impl Step {
    /// The step applied to `input` (and, for a linked step, the earlier result `linked`).
    pub fn apply(&self, input: i64) -> i64 {
        match self.op {
            '+' => input.saturating_add(self.right),
            '-' => input.saturating_sub(self.right),
            _ => input.saturating_mul(self.right),
        }
    }

    pub fn apply_linked(&self, input: i64, linked: Option<i64>) -> i64 {
        let y = self.apply(input);
        match (self.link, linked) {
            (Some(_), Some(v)) => y.saturating_add(v),
            _ => y,
        }
    }
}

/// A generated task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskInstance {
    pub kind: String,
    pub main: Problem,
    pub structure: Structure,
    /// Parts (steps, robots, sub-questions); empty for `Single`.
    pub parts: Vec<Problem>,
    /// Numeric steps behind `parts` for multistep tasks (lets a mechanism recompute a
    /// sequential part from a wrong input, so errors propagate).
    pub steps: Vec<Step>,
    /// Start value of a sequential chain.
    pub start: i64,
    /// The world of a grid task (robots, targets, horizon).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grid: Option<grid::GridWorld>,
    /// For `Graph` tasks: the parts each part takes its inputs from (earlier parts only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deps: Vec<Vec<usize>>,
}

impl TaskInstance {
    /// Part `i` as posed to an agent given the input it received (sequential tasks); the
    /// part's truth is then the correct result *for that input*. A linked step gets the
    /// earlier result from the true chain; use `step_given` when the solver may hold a
    /// different one.
    pub fn part_with_input(&self, i: usize, input: Option<i64>) -> Problem {
        let linked = self.steps.get(i).and_then(|s| s.link).map(|j| self.chain()[j]);
        self.step_given(i, input, linked)
    }

    /// Step `i` of a sequential task as posed to a solver holding `input` (the previous
    /// result) and, for a linked step, `linked` (the earlier result it uses). For other
    /// tasks, part `i` as generated.
    pub fn step_given(&self, i: usize, input: Option<i64>, linked: Option<i64>) -> Problem {
        match (self.structure, input, self.steps.get(i)) {
            (Structure::Sequential, Some(x), Some(step)) => multistep::step_problem(self, i, step, x, linked),
            _ => self.parts[i].clone(),
        }
    }

    /// Part `i` of a `Graph` task as posed to a solver holding `inputs` (the results it
    /// has for the parts `deps[i]` names, in that order); the part's truth is then the
    /// right result for those inputs. A part without inputs is posed as generated.
    pub fn node_given(&self, i: usize, inputs: &[i64]) -> Problem {
        match (self.structure, self.deps.get(i)) {
            (Structure::Graph, Some(d)) if !d.is_empty() => dag::node_problem(self, i, inputs),
            _ => self.parts[i].clone(),
        }
    }

    /// Part `i` of a `Graph` task as the plan lists it: a source node with its records, a
    /// combine node naming the parts it takes, without their values.
    pub fn node_statement(&self, i: usize) -> String {
        match self.structure {
            Structure::Graph => dag::statement(self, i),
            _ => self.parts[i].text.clone(),
        }
    }

    /// The true result of every part of a `Graph` task (empty for other tasks).
    pub fn node_values(&self) -> Vec<i64> {
        if self.structure != Structure::Graph {
            return Vec::new();
        }
        dag::values(self)
    }

    /// The true result after each step of a sequential task (empty for other tasks).
    pub fn chain(&self) -> Vec<i64> {
        if self.structure != Structure::Sequential {
            return Vec::new();
        }
        let mut out: Vec<i64> = Vec::with_capacity(self.steps.len());
        let mut x = self.start;
        for s in &self.steps {
            x = s.apply_linked(x, s.link.map(|j| out[j]));
            out.push(x);
        }
        out
    }

    /// Combines part answers into a main answer (parallel: sum of numbers, or the
    /// answers joined for non-numeric parts).
    pub fn combine(&self, part_answers: &[String]) -> String {
        if self.steps.is_empty() {
            return part_answers.join(",");
        }
        let mut total: i64 = 0;
        for a in part_answers {
            match normalize(a).parse::<i64>() {
                Ok(x) => total = total.saturating_add(x),
                Err(_) => return "?".into(),
            }
        }
        total.to_string()
    }
}

pub(crate) fn op_word(op: char) -> &'static str {
    match op {
        '+' => "add",
        '-' => "subtract",
        _ => "multiply by",
    }
}

/// A kind of task; register it in `REGISTRY`.
pub trait TaskKind: Sync {
    fn name(&self) -> &'static str;
    fn validate(&self, params: &Value) -> Result<(), ScenarioError>;
    /// Generates an instance; `n_agents` lets a task scale with the team (e.g. one robot each).
    fn generate(&self, params: &Value, rng: &mut Rng, n_agents: usize) -> TaskInstance;
}

static REGISTRY: &[&dyn TaskKind] = &[
    &multiple_choice::MultipleChoice,
    &arithmetic::Arithmetic,
    &multistep::MultiStep,
    &grid::GridMoves,
    &dag::DagTask,
];

pub fn task_kinds() -> Vec<&'static str> {
    REGISTRY.iter().map(|t| t.name()).collect()
}

fn find(kind: &str) -> Option<&'static dyn TaskKind> {
    REGISTRY.iter().copied().find(|t| t.name() == kind)
}

pub fn validate(spec: &Spec) -> Result<(), ScenarioError> {
    match find(&spec.kind) {
        Some(t) => t.validate(&spec.params),
        None => Err(ScenarioError(format!(
            "unknown task \"{}\" (expected one of {})",
            spec.kind,
            task_kinds().join(", ")
        ))),
    }
}

/// Generates the task of a validated scenario for `seed`.
pub fn generate(spec: &Spec, seed: u64, n_agents: usize) -> TaskInstance {
    let mut rng = Rng::named(seed, "task");
    let kind = find(&spec.kind).expect("validated task kind");
    kind.generate(&spec.params, &mut rng, n_agents)
}

/// Difficulty: a fixed value, or drawn uniformly from `difficulty_range`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DifficultyParams {
    pub difficulty: Option<f64>,
    pub difficulty_range: Option<[f64; 2]>,
}

/// Checks an optional whole-number task parameter against its allowed range.
pub(crate) fn check_optional(name: &str, v: Option<u32>, range: std::ops::RangeInclusive<u32>) -> Result<(), ScenarioError> {
    match v {
        Some(v) if !range.contains(&v) => {
            Err(ScenarioError(format!("task.params.{name} {v} out of [{},{}]", range.start(), range.end())))
        }
        _ => Ok(()),
    }
}

pub(crate) fn check_difficulty(what: &str, d: Option<f64>, range: Option<[f64; 2]>) -> Result<(), ScenarioError> {
    if let Some(d) = d {
        crate::spec::check_unit(&format!("{what}.difficulty"), d)?;
    }
    if let Some([lo, hi]) = range {
        crate::spec::check_unit(&format!("{what}.difficulty_range[0]"), lo)?;
        crate::spec::check_unit(&format!("{what}.difficulty_range[1]"), hi)?;
        if lo > hi {
            return Err(ScenarioError(format!("{what}.difficulty_range: {lo} > {hi}")));
        }
    }
    Ok(())
}

pub(crate) fn draw_difficulty(rng: &mut Rng, d: Option<f64>, range: Option<[f64; 2]>) -> f64 {
    match (d, range) {
        (Some(d), _) => d,
        (None, Some([lo, hi])) => rng.range_f64(lo, hi),
        (None, None) => rng.range_f64(0.2, 0.8),
    }
}

/// How tempting the most common wrong answer is: wrong answers cluster more on hard items
/// (errors are correlated, which is why plain voting cannot fix everything).
pub(crate) fn lure_for(difficulty: f64) -> f64 {
    (0.35 + 0.5 * difficulty).min(0.9)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_generates_consistent_truth() {
        for kind in task_kinds() {
            let spec = Spec::new(kind, serde_json::json!({}));
            validate(&spec).unwrap();
            for seed in 0..50 {
                let t = generate(&spec, seed, 4);
                assert!(!t.main.truth.is_empty(), "{kind}");
                assert!(!t.main.distractors.is_empty(), "{kind}");
                assert!(!t.main.distractors.iter().any(|d| t.main.is_correct(d)), "{kind}: distractor equals truth");
                if t.main.format == "option" {
                    let letters: Vec<String> = (0..t.main.options.len()).map(letter).collect();
                    assert!(letters.contains(&t.main.truth), "{kind}: truth not among options");
                    assert!(t.main.distractors.iter().all(|d| letters.contains(d)), "{kind}");
                }
                for p in &t.parts {
                    assert!(!p.distractors.iter().any(|d| p.is_correct(d)), "{kind}: part distractor equals truth");
                }
                if t.structure != Structure::Single {
                    let truths: Vec<String> = t.parts.iter().map(|p| p.truth.clone()).collect();
                    if t.structure == Structure::Parallel {
                        assert!(t.main.is_correct(&t.combine(&truths)), "{kind}");
                    }
                }
                assert_eq!(t, generate(&spec, seed, 4));
            }
        }
    }

    #[test]
    fn sequential_parts_propagate_inputs() {
        let spec = Spec::new("multistep", serde_json::json!({"mode": "sequential", "steps": 4}));
        let t = generate(&spec, 3, 3);
        let mut x = t.start;
        for i in 0..t.parts.len() {
            let p = t.part_with_input(i, Some(x));
            x = p.truth.parse().unwrap();
        }
        assert_eq!(x.to_string(), t.main.truth);
        // A wrong input gives a part whose truth differs from the chain's.
        let p = t.part_with_input(1, Some(t.start + 1000));
        assert_ne!(p.truth, t.parts[1].truth);
    }

    #[test]
    fn unknown_task_is_named() {
        let e = validate(&Spec::new("chess", serde_json::json!({}))).unwrap_err();
        assert!(e.0.starts_with("unknown task \"chess\""));
    }
}
