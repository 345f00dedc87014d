//! Blackboard: a shared board instead of a fixed topology. A control agent posts the
//! request; agents volunteer with a bid from their own sense of expertise; the best
//! bidder answers on the board; the others review it, and a rejected answer passes to the
//! next volunteer. Compared with master–slave assignment, where the controller picks a
//! worker without knowing who is good at what. After *Exploring Advanced LLM Multi-Agent
//! Systems Based on Blackboard Architecture* (Han & Zhang, 2025).

use serde::Deserialize;

use super::{Mechanism, Opinion, check_agents, check_count, check_one_of};
use crate::engine::Ctx;
use crate::event::{AgentId, EventKind};
use crate::scenario::Scenario;
use crate::spec::ScenarioError;

pub struct Blackboard;

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Params {
    /// `volunteer` (agents bid) or `master` (the controller assigns blindly).
    pub assignment: String,
    /// How many answers may be tried before the board settles.
    pub attempts: u32,
}

impl Default for Params {
    fn default() -> Self {
        Self { assignment: "volunteer".into(), attempts: 2 }
    }
}

impl Mechanism for Blackboard {
    const NAME: &'static str = "blackboard";
    type Params = Params;

    fn check(p: &Params, s: &Scenario) -> Result<(), ScenarioError> {
        check_agents(s, 2)?;
        check_one_of("assignment", &p.assignment, &["volunteer", "master"])?;
        check_count("attempts", p.attempts, 1, 10)
    }

    async fn run(ctx: Ctx, p: Params) -> Result<(), String> {
        let control: AgentId = 0;
        let members: Vec<AgentId> = (1..ctx.n() as AgentId).collect();
        let main = ctx.task().main.clone();
        ctx.note(0, format!("{} posts a {} question on the board.", ctx.name(control), main.domain));
        ctx.message(0, control, members.clone(), "request", format!("Who can answer this {} question?", main.domain));
        // Order in which members get to answer.
        let order: Vec<AgentId> = if p.assignment == "volunteer" {
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
                ctx.message(0, *a, vec![control], "bid", format!("bid {b:.2}"));
            }
            ranked.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
            ctx.emit(0, EventKind::Rank { agent: control, order: ranked.iter().map(|(a, _)| ctx.name(*a).to_string()).collect() });
            ranked.into_iter().map(|(a, _)| a).collect()
        } else {
            let mut rng = ctx.rng("master");
            let mut o = members.clone();
            rng.shuffle(&mut o);
            ctx.note(0, format!("{} assigns {} without knowing who is best.", ctx.name(control), ctx.name(o[0])));
            o
        };
        let mut accepted: Option<String> = None;
        let mut last = String::from("?");
        for (attempt, &writer) in order.iter().take(p.attempts as usize).enumerate() {
            let round = 1 + attempt as u32;
            ctx.message(round, control, vec![writer], "assign", "The board is yours.");
            let mut r = ctx.request(writer, "answer", round, &main);
            r.instruction = "Write your answer on the board with a one-line justification.".into();
            let op = Opinion::from_reply(&ctx.ask(r).await);
            last = op.answer.clone();
            ctx.message(round, writer, members.iter().copied().chain([control]).filter(|&a| a != writer).collect(), "answer", format!("{}, confidence {:.2}", op.answer, op.confidence));
            let reviewers: Vec<AgentId> = members.iter().copied().filter(|&a| a != writer).collect();
            if reviewers.is_empty() {
                accepted = Some(op.answer);
                break;
            }
            let reqs = reviewers
                .iter()
                .map(|&a| {
                    let mut q = ctx.request(a, "check", round, &main);
                    q.peers = vec![op.view(&ctx, writer, super::Show::REASONING)];
                    q.instruction = "Is the answer on the board right? Reply `ok` or `wrong`.".into();
                    q
                })
                .collect();
            let verdicts = ctx.ask_all(reqs).await;
            let flags = verdicts.iter().filter(|v| v.answer.as_deref() == Some("wrong")).count();
            for (v, &a) in verdicts.iter().zip(&reviewers) {
                ctx.message(round, a, vec![writer], "critique", v.answer.clone().unwrap_or_default());
            }
            if 2 * flags < reviewers.len() {
                accepted = Some(op.answer);
                break;
            }
            ctx.note(round, format!("The board rejects {}'s answer ({flags} of {} flag it).", ctx.name(writer), reviewers.len()));
        }
        let answer = accepted.unwrap_or(last);
        ctx.decide(p.attempts, &answer, &format!("blackboard ({})", p.assignment), true);
        Ok(())
    }
}
