//! Items beyond the run's main one: calibration probes and streams of tasks.
//!
//! Some mechanisms need a track record (a calibration test before a node may join, a
//! router that learns who is good at what). They get it from further items of the
//! scenario's own task kind, drawn with seeds derived from the run's seed and a label, so
//! a run stays a pure function of (scenario, seed) and every item is new to the agents.
//! The environment knows these items' answers and grades what the mechanism submits
//! ([`graded`]), the way a calibration set or a user accepting a result would; agents get
//! each item as any other ask and never see the key.

use crate::engine::Ctx;
use crate::event::EventKind;
use crate::rng::Rng;
use crate::tasks::Problem;

/// Item `i` of the extra items named `label` (e.g. `probe`, `stream`) for this run.
pub(crate) fn item(ctx: &Ctx, label: &str, i: u32) -> Problem {
    let seed = Rng::derive(ctx.seed(), &[crate::determinism::fnv1a64(label.as_bytes()), u64::from(i)]).next_u64();
    crate::tasks::generate(&ctx.scenario().task, seed, ctx.n()).main
}

/// The environment's verdict on `answer` to an item whose key it holds (a probe, or a
/// finished task in a stream). Mechanisms use it only after the item is decided, to keep
/// a track record; the agents never see it.
pub(crate) fn graded(problem: &Problem, answer: &str) -> bool {
    problem.is_correct(answer)
}

/// Records a final decision on `problem` (one of a stream's items), scored against its key.
pub(crate) fn decide(ctx: &Ctx, round: u32, problem: &Problem, answer: &str, method: &str) -> bool {
    let correct = graded(problem, answer);
    ctx.emit(round, EventKind::Decision { answer: answer.into(), method: method.into(), correct: Some(correct), is_final: true });
    correct
}
