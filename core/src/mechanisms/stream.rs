//! Streams of tasks inside one run, for mechanisms that meet many tasks (routers learn
//! across them): the k-th task of the stream, drawn from the scenario's task spec, and a
//! decision recorded on one of them.

use serde_json::Value;

use crate::engine::Ctx;
use crate::event::EventKind;
use crate::rng::Rng;
use crate::spec::Spec;
use crate::tasks::{Problem, TaskInstance};

/// Task `k` of the run's stream: the scenario's task spec with `params` in place of its
/// own when given. Task 0 with the scenario's params is the run's own task.
pub(crate) fn task_at(ctx: &Ctx, k: u32, params: Option<&Value>) -> TaskInstance {
    let spec = &ctx.scenario().task;
    if k == 0 && params.is_none() {
        return ctx.task().clone();
    }
    let seed = if k == 0 { ctx.seed() } else { Rng::derive(ctx.seed(), &[0x5743_a11, u64::from(k)]).next_u64() };
    let spec = Spec::new(&spec.kind, params.cloned().unwrap_or_else(|| spec.params.clone()));
    crate::tasks::generate(&spec, seed, ctx.n())
}

/// Records a decision on `problem` (one task of a stream; `Ctx::decide` scores the run's
/// own task); returns whether it is right. Every task's final decision counts towards the
/// run's accuracy.
pub(crate) fn decide_on(ctx: &Ctx, round: u32, problem: &Problem, answer: &str, method: &str) -> bool {
    let correct = problem.is_correct(answer);
    ctx.emit(round, EventKind::Decision { answer: answer.into(), method: method.into(), correct: Some(correct), is_final: true });
    correct
}
