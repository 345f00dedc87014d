//! Work on task parts, shared by the architectures, multi-robot and conductor mechanisms:
//! solving a part as its agent is given it, checking a result, and redoing flagged parts.

use super::{Opinion, Show};
use crate::engine::{AgentReply, Ctx};
use crate::event::AgentId;
use crate::tasks::{Problem, Structure, normalize};

/// One part assigned to one agent.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub agent: AgentId,
    pub part: usize,
    /// Input value for a sequential step (None: the chain's true input / independent part).
    pub input: Option<i64>,
    /// For a linked sequential step: the earlier result the agent holds.
    pub linked: Option<i64>,
    pub instruction: String,
}

impl Job {
    pub fn new(agent: AgentId, part: usize, input: Option<i64>, instruction: impl Into<String>) -> Self {
        Job { agent, part, input, linked: None, instruction: instruction.into() }
    }
}

/// The problem for `job` as its agent gets it.
pub(crate) fn part_problem(ctx: &Ctx, job: &Job) -> Problem {
    let t = ctx.task();
    if t.parts.is_empty() { t.main.clone() } else { t.step_given(job.part, job.input, job.linked) }
}

/// Solves jobs concurrently (one batch of asks); returns the replies in job order.
pub(crate) async fn solve(ctx: &Ctx, round: u32, jobs: &[Job]) -> Vec<AgentReply> {
    let reqs = jobs
        .iter()
        .map(|j| {
            let mut r = ctx.request(j.agent, "solve", round, &part_problem(ctx, j));
            r.instruction = j.instruction.clone();
            r
        })
        .collect();
    ctx.ask_all(reqs).await
}

/// Has each `(checker, author, job, result)` reviewed (the checker sees the result with
/// its reasoning); returns which were flagged wrong.
pub(crate) async fn check(ctx: &Ctx, round: u32, reviews: &[(AgentId, AgentId, Job, Opinion)]) -> Vec<bool> {
    let reqs = reviews
        .iter()
        .map(|(checker, author, job, result)| {
            let mut r = ctx.request(*checker, "check", round, &part_problem(ctx, job));
            r.instruction = format!("Check {}'s result. Reply `ok` or `wrong`.", ctx.name(*author));
            let view = result.view(ctx, *author, Show::REASONING);
            if checker == author {
                r.own = Some(view);
            } else {
                r.peers = vec![view];
            }
            r
        })
        .collect();
    ctx.ask_all(reqs).await.iter().map(|r| r.answer.as_deref() == Some("wrong")).collect()
}

/// Parses a numeric part result for the next sequential step.
pub(crate) fn as_number(answer: &str) -> Option<i64> {
    normalize(answer).parse().ok()
}

/// Main answer from part answers (sum for parallel numeric parts, last for sequential and
/// graph tasks).
pub(crate) fn final_answer(ctx: &Ctx, answers: &[String]) -> String {
    let t = ctx.task();
    match t.structure {
        Structure::Sequential | Structure::Graph => answers.last().cloned().unwrap_or_else(|| "?".into()),
        Structure::Parallel => t.combine(answers),
        Structure::Single => answers.first().cloned().unwrap_or_else(|| "?".into()),
    }
}

/// Share of parts whose answer is right for the true chain (parts judged on their own).
pub(crate) fn parts_correct(ctx: &Ctx, answers: &[String]) -> f64 {
    let t = ctx.task();
    if t.parts.is_empty() {
        return answers.first().map_or(0.0, |a| f64::from(u8::from(t.main.is_correct(a))));
    }
    let ok = answers.iter().zip(&t.parts).filter(|(a, p)| p.is_correct(a)).count();
    ok as f64 / t.parts.len() as f64
}

/// Who reviews a job in one review stage (empty: nobody).
pub(crate) type Reviewers<'a> = &'a dyn Fn(&Job) -> Vec<AgentId>;

/// Solves `jobs`, then runs each review stage: the reviewers of a job check its answer
/// and the author redoes it when at least half of them flag it. Emits the assignment,
/// result and verdict messages. Returns the final answer per job.
pub(crate) async fn solve_reviewed(
    ctx: &Ctx,
    round: u32,
    assigner: Option<AgentId>,
    jobs: &[Job],
    stages: &[Reviewers<'_>],
) -> Vec<String> {
    if let Some(a) = assigner {
        for j in jobs {
            if j.agent != a {
                let input = j.input.map(|x| format!(" (input {x})")).unwrap_or_default();
                ctx.message(round, a, vec![j.agent], "assign", format!("part {}{input}: {}", j.part + 1, j.instruction));
            }
        }
    }
    let mut results: Vec<Opinion> = solve(ctx, round, jobs).await.iter().map(Opinion::from_reply).collect();
    for stage in stages {
        let mut reviews = Vec::new();
        let mut owners = Vec::new();
        for (k, j) in jobs.iter().enumerate() {
            for r in stage(j) {
                ctx.message(round, j.agent, vec![r], "result", format!("part {}: {}", j.part + 1, results[k].message(Show::REASONING)));
                reviews.push((r, j.agent, j.clone(), results[k].clone()));
                owners.push(k);
            }
        }
        if reviews.is_empty() {
            continue;
        }
        let verdicts = check(ctx, round, &reviews).await;
        let mut flags = vec![(0usize, 0usize); jobs.len()];
        for ((k, v), (r, author, _, _)) in owners.iter().zip(&verdicts).zip(&reviews) {
            flags[*k].1 += 1;
            if *v {
                flags[*k].0 += 1;
                ctx.message(round, *r, vec![*author], "critique", format!("part {} looks wrong", jobs[*k].part + 1));
            }
        }
        let redo: Vec<usize> = (0..jobs.len()).filter(|&k| flags[k].1 > 0 && 2 * flags[k].0 >= flags[k].1).collect();
        if redo.is_empty() {
            continue;
        }
        let again: Vec<Job> =
            redo.iter().map(|&k| Job { instruction: "Your result was flagged; redo it carefully.".into(), ..jobs[k].clone() }).collect();
        let new = solve(ctx, round, &again).await;
        for (&k, r) in redo.iter().zip(&new) {
            results[k] = Opinion::from_reply(r);
        }
    }
    results.into_iter().map(|o| o.answer).collect()
}
