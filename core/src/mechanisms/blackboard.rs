//! Blackboard: a control agent posts a request on a shared board, and specialists who
//! believe they can answer volunteer; the control agent takes the answer of the surest
//! volunteer (and answers itself when nobody volunteers). The baseline is the paper's
//! master–slave paradigm: the controller assigns the request itself, from its roster of
//! who holds which partition. After Salemi et al., *LLM-based Multi-Agent Blackboard
//! System for Information Discovery in Data Science* (2025).
//!
//! What each side knows: a bid is the agent's own belief in its best answer, stated with
//! its calibration, and it volunteers when that bid reaches `threshold` (agents that know
//! what they know make bids worth ranking). The master reads the agents' role texts as its
//! roster (`roster`: `as_written`, `stale` (the roles have moved on: each agent's text
//! describes the next one's partition) or `none`); it never sees skills. Either way one
//! agent's answer becomes the board's.
//!
//! Events: Message (request, bids, answer), Rank (the bid order), Score ("bid") per
//! member, Choice ("assigned"), Decision.

use serde::{Deserialize, Serialize};

use super::{Mechanism, Opinion, Show, check_agents, check_one_of};
use crate::engine::Ctx;
use crate::event::{AgentId, EventKind};
use crate::scenario::Scenario;
use crate::spec::{ScenarioError, check_unit};
use crate::tasks::DOMAINS;

pub struct Blackboard;

#[derive(Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Params {
    /// `volunteer` (agents bid) or `master` (the controller assigns from its roster).
    pub assignment: String,
    /// The bid at which an agent volunteers.
    pub threshold: f64,
    /// The master's roster: `as_written`, `stale` or `none`.
    pub roster: String,
}

impl Default for Params {
    fn default() -> Self {
        Self { assignment: "volunteer".into(), threshold: 0.5, roster: "as_written".into() }
    }
}

impl Mechanism for Blackboard {
    const NAME: &'static str = "blackboard";
    type Params = Params;

    fn check(p: &Params, s: &Scenario) -> Result<(), ScenarioError> {
        check_agents(s, 2)?;
        check_one_of("assignment", &p.assignment, &["volunteer", "master"])?;
        check_one_of("roster", &p.roster, &["as_written", "stale", "none"])?;
        check_unit("mechanism.params.threshold", p.threshold)
    }

    async fn run(ctx: Ctx, p: Params) -> Result<(), String> {
        let control: AgentId = 0;
        let members: Vec<AgentId> = (1..ctx.n() as AgentId).collect();
        let main = ctx.task().main.clone();
        ctx.note(0, format!("{} posts a {} question on the board.", ctx.name(control), main.domain));
        ctx.message(0, control, members.clone(), "request", format!("Who can answer this {} question?", main.domain));
        let writer: AgentId = if p.assignment == "volunteer" {
            let reqs = members
                .iter()
                .map(|&a| {
                    let mut r = ctx.request(a, "bid", 0, &main);
                    r.instruction = "How likely are you to answer this correctly (0 to 1)? Reply with a number.".into();
                    r
                })
                .collect();
            let bids = ctx.ask_all(reqs).await;
            let mut ranked: Vec<(AgentId, f64)> = members.iter().copied().zip(bids.iter().map(|b| b.conf())).collect();
            for (a, b) in &ranked {
                ctx.emit(0, EventKind::Score { name: "bid".into(), agent: *a, value: *b });
                if *b >= p.threshold {
                    ctx.message(0, *a, vec![control], "bid", format!("I can take this (bid {b:.2})"));
                }
            }
            ranked.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
            ctx.emit(0, EventKind::Rank { agent: control, order: ranked.iter().map(|(a, _)| ctx.name(*a).to_string()).collect() });
            match ranked.first() {
                Some(&(a, b)) if b >= p.threshold => a,
                _ => {
                    ctx.note(0, format!("Nobody volunteers; {} answers itself.", ctx.name(control)));
                    control
                }
            }
        } else {
            let chosen = master_choice(&ctx, &members, &main.domain, &p.roster);
            ctx.note(0, format!("{} assigns {} from its roster ({}).", ctx.name(control), ctx.name(chosen), p.roster.replace('_', " ")));
            chosen
        };
        ctx.emit(0, EventKind::Choice { name: "assigned".into(), value: ctx.name(writer).into() });
        if writer != control {
            ctx.message(1, control, vec![writer], "assign", "The board is yours.");
        }
        let mut r = ctx.request(writer, "answer", 1, &main);
        r.instruction = "Write your answer on the board with your working.".into();
        let op = Opinion::from_reply(&ctx.ask(r).await);
        let others: Vec<AgentId> = members.iter().copied().chain([control]).filter(|&a| a != writer).collect();
        ctx.message(1, writer, others, "answer", op.message(Show::REASONING));
        ctx.decide(1, &op.answer, &format!("blackboard ({})", p.assignment), true);
        Ok(())
    }
}

/// The member the master assigns: the first whose roster entry names the request's
/// domain, else a seeded draw. The roster is the role texts, as written, one place stale
/// (each entry describes the next member), or absent.
fn master_choice(ctx: &Ctx, members: &[AgentId], domain: &str, roster: &str) -> AgentId {
    let drawn = members[ctx.rng("master").index(members.len())];
    if roster == "none" {
        return drawn;
    }
    let entry = |k: usize| -> String {
        let k = if roster == "stale" { (k + 1) % members.len() } else { k };
        ctx.scenario().agents[members[k] as usize].role.to_ascii_lowercase()
    };
    let named = DOMAINS.contains(&domain);
    (0..members.len()).find(|&k| named && entry(k).contains(domain)).map_or(drawn, |k| members[k])
}
