//! Simulated agents: how an agent decides, from what it could know.
//!
//! An agent's inputs are its private [`Mind`] for the item (drawn by `nature` from its
//! skill: a belief over answers and an argument for each), what the ask shows it (its
//! own previous answer, peers' answers, stated confidences and arguments), and what it
//! finds when it checks an argument with its own skill (`argument::Trace::inspect`).
//! Nothing here can see which answer is right.
//!
//! The traits and what each does here:
//! - `accuracy` / `expertise`: set how good the agent's beliefs are (in `nature`).
//! - `calibration`: how a stated confidence relates to the agent's belief in its answer
//!   (`informative`: the belief itself; `overconfident`: always high; `random`).
//! - `judge_accuracy`: chance to spot a flaw of medium subtlety in someone else's argument;
//!   `error_recall`: the same for its own; `false_alarm`: chance to object to a sound step.
//!   A checker knows its own rates and weighs what it finds as a Bayesian would.
//! - `conformity`: pull towards answers that peers hold, in proportion to how many hold
//!   them and how sure they say they are (social pressure, separate from arguments).
//! - `stubbornness`: commitment to the answer the agent already gave.
//! - `adversary`: the agent pushes the answer its instructions name, whatever it believes.
//!
//! A reply is a pure function of (traits, request, mind, random stream); the engine
//! derives the stream from the ask id, so replies do not depend on resolution order.

mod mind;
mod tokens;

pub use mind::{Belief, Candidate, Mind, UNCONSIDERED};
pub use tokens::Router;

use crate::argument::{CheckSkill, Finding, Trace};
use crate::exchange::{AgentReply, AskRequest, PeerView};
use crate::rng::{Rng, logit, sigmoid};
use crate::scenario::{Calibration, Traits};
use crate::tasks::normalize;

/// Social pressure per peer holding an answer, at conformity 1 and average confidence.
const PRESSURE: f64 = 1.0;
/// Commitment to one's own previous answer, at stubbornness 1 (log-odds).
const COMMITMENT: f64 = 2.0;
/// Confidence a listener assumes when a peer's is not shown.
const UNSTATED_CONFIDENCE: f64 = 0.7;

/// The simulated agent's reply to `req`, given its private `mind` for the item.
pub fn reply(traits: &Traits, req: &AskRequest, mind: &Mind, rng: &mut Rng) -> AgentReply {
    let said = match req.purpose.as_str() {
        "revise" => revise(traits, req, mind, rng),
        "reflect" => reflect(traits, req, mind, rng),
        "judge" => judge(traits, req, mind, rng),
        "check" => check(traits, req, mind, rng),
        "bid" => bid(traits, mind, rng),
        "plan" => Said::plain(req.draft.clone().unwrap_or_else(|| "solo".into()), 0.8, String::new()),
        // A token-level ask without its partner: the agent decodes greedily alone.
        "speculate" | "fuse" => greedy(traits, mind, rng),
        _ => answer(traits, req, mind, rng),
    };
    finish(req, said, Vec::new())
}

/// The reply to a token-level ask (`speculate`, `fuse`): the asked agent writes it with
/// its partner, each from its own mind about the item (see `tokens`).
pub fn reply_with_partner(traits: &Traits, req: &AskRequest, mind: &Mind, partner_mind: &Mind, rng: &mut Rng) -> AgentReply {
    let Some(p) = &req.partner else { return reply(traits, req, mind, rng) };
    let joint = match req.purpose.as_str() {
        "speculate" => tokens::speculate(traits, mind, req.agent, partner_mind, p.agent, p.draft_len as usize, rng),
        "fuse" => tokens::fuse(traits, mind, req.agent, partner_mind, p.agent, Router::parse(&p.router), p.complement, rng),
        _ => return reply(traits, req, mind, rng),
    };
    finish(req, joint.said, joint.pieces)
}

fn finish(req: &AskRequest, said: Said, pieces: Vec<crate::event::Piece>) -> AgentReply {
    let confidence = (said.confidence * 100.0).round() / 100.0;
    let text = if req.purpose == "plan" {
        said.answer.clone()
    } else if said.why.is_empty() {
        format!("{}, confidence {confidence:.2}", said.answer)
    } else {
        format!("{}, confidence {confidence:.2}: {}", said.answer, said.why)
    };
    let tokens = req.estimated_prompt_tokens() + (text.len() / 4) as u32 + 1;
    AgentReply { answer: Some(said.answer), confidence: Some(confidence), text, tokens, trace: said.trace, pieces }
}

/// What the agent decided to say.
struct Said {
    answer: String,
    confidence: f64,
    why: String,
    trace: Option<Trace>,
}

impl Said {
    fn plain(answer: String, confidence: f64, why: String) -> Self {
        Said { answer, confidence, why, trace: None }
    }

    /// Says answer `i` of `belief` with its argument, the confidence from `mass`.
    fn from(traits: &Traits, belief: &Belief, i: usize, mass: f64, lead: &str, rng: &mut Rng) -> Self {
        let trace = belief.traces[i].clone();
        let reasoning = trace.as_ref().map(Trace::text).unwrap_or_default();
        let why = match (lead.is_empty(), reasoning.is_empty()) {
            (true, _) => reasoning,
            (false, true) => lead.to_string(),
            (false, false) => format!("{lead} {reasoning}"),
        };
        Said { answer: belief.answers[i].clone(), confidence: stated(traits, mass, rng), why, trace }
    }
}

/// The confidence an agent states when its belief in its answer is `mass`.
fn stated(traits: &Traits, mass: f64, rng: &mut Rng) -> f64 {
    let c = match traits.calibration {
        Calibration::Informative => mass,
        Calibration::Overconfident => 0.85 + 0.14 * mass,
        Calibration::Random => rng.range_f64(0.2, 1.0),
    };
    c.clamp(0.01, 0.99)
}

/// How the agent checks others' arguments on this ask's domain.
fn judging(traits: &Traits, req: &AskRequest) -> CheckSkill {
    CheckSkill { detect: traits.judging(&req.domain), false_alarm: traits.false_alarm }
}

/// How the agent checks its own arguments on this ask's domain.
fn self_checking(traits: &Traits, req: &AskRequest) -> CheckSkill {
    CheckSkill { detect: traits.self_checking(&req.domain), false_alarm: traits.false_alarm }
}

/// Checks `trace` (an argument for `answer`) once: the finding, and how much it moves a
/// checker who weighs findings by its nominal `skill`. The check itself leans on what the
/// checker already believes of `answer` (see `CheckSkill::leaning`).
fn weigh(trace: &Trace, answer: &str, skill: CheckSkill, prior: &Belief, difficulty: f64, rng: &mut Rng) -> (Finding, f64) {
    let believed = prior.find(answer).map_or(0.0, |j| prior.probabilities()[j]);
    let finding = trace.inspect(skill.leaning(believed), rng);
    (finding, skill.evidence(finding, difficulty))
}

/// What an adversary says: the answer it was told to push, with that answer's argument.
fn pushed(mind: &Mind) -> Option<Said> {
    let t = mind.target?;
    let c = &mind.candidates()[t];
    Some(Said { answer: c.answer.clone(), confidence: 0.95, why: c.trace.text(), trace: Some(c.trace.clone()) })
}

/// A fresh answer: one draw from the agent's belief.
fn answer(traits: &Traits, _req: &AskRequest, mind: &Mind, rng: &mut Rng) -> Said {
    if let Some(s) = pushed(mind) {
        return s;
    }
    let belief = mind.belief();
    let i = belief.sample(rng);
    let mass = belief.probabilities()[i];
    Said::from(traits, &belief, i, mass, "", rng)
}

/// `Ben's step "x" does not hold.` for an objection to step `step` of `trace`, where
/// `whose` is the owner in possessive form (`Ben's`, `My`).
fn objection(whose: &str, trace: &Trace, step: usize) -> String {
    let s = trace.steps().get(step).map(String::as_str).unwrap_or("");
    format!("{whose} step \"{s}\" does not hold.")
}

/// Revising after seeing peers. The agent's *belief* moves with what it finds checking
/// each peer's argument; its *choice* also yields to social pressure (how many hold an
/// answer, how sure they say they are: conformity) and to its commitment to what it said
/// (stubbornness). The confidence it states comes from its belief alone: an agent that
/// goes along with the group without being convinced says so (public compliance without
/// private acceptance), which is what lets a confidence-weighted vote discount conformers.
fn revise(traits: &Traits, req: &AskRequest, mind: &Mind, rng: &mut Rng) -> Said {
    if let Some(s) = pushed(mind) {
        return Said { why: format!("I am sure; the others are mistaken. {}", s.why), ..s };
    }
    let prior = mind.belief();
    let mut belief = prior.clone();
    let own = req.own.as_ref().map(|o| belief.index_of(&o.answer));
    let skill = judging(traits, req);
    let d = mind.apparent_difficulty;
    let mut notes: Vec<String> = Vec::new();
    let mut convinced_by: Vec<(usize, String)> = Vec::new();
    let mut social = vec![0.0; belief.answers.len()];
    for p in &req.peers {
        let j = belief.index_of(&p.answer);
        social.resize(belief.answers.len(), 0.0);
        if let Some(t) = &p.trace {
            let (finding, moved) = weigh(t, &p.answer, skill, &prior, d, rng);
            belief.weights[j] += moved;
            match finding {
                Finding::Objection(step) => notes.push(objection(&format!("{}'s", p.name), t, step)),
                Finding::Sound => convinced_by.push((j, p.name.clone())),
            }
            if belief.traces[j].is_none() {
                belief.traces[j] = Some(t.clone());
            }
        }
        social[j] += PRESSURE * traits.conformity * pressure_weight(p);
    }
    social.resize(belief.answers.len(), 0.0);
    if let Some(j) = own {
        social[j] += COMMITMENT * traits.stubbornness;
    }
    let mut choice = belief.clone();
    for (w, s) in choice.weights.iter_mut().zip(&social) {
        *w += s;
    }
    let i = choice.sample(rng);
    let mass = belief.probabilities()[i];
    let holders = req.peers.iter().filter(|p| normalize(&p.answer) == normalize(&belief.answers[i])).count();
    let lead = match own {
        Some(j) if j == i => {
            if holders * 2 >= req.peers.len() && !req.peers.is_empty() { "Most of us agree; I keep it:".to_string() } else { "I keep my answer:".to_string() }
        }
        _ => {
            let by: Vec<&str> = convinced_by.iter().filter(|(j, _)| *j == i).map(|(_, n)| n.as_str()).collect();
            if !by.is_empty() {
                format!("Switching: {}'s argument checks out:", by.join(" and "))
            } else if holders > 0 {
                format!("Going along with the {holders} who hold it:")
            } else {
                "On second thought:".to_string()
            }
        }
    };
    let mut said = Said::from(traits, &belief, i, mass, &lead, rng);
    if let Some(n) = notes.first() {
        said.why = format!("{} {n}", said.why);
    }
    said
}

/// How much one peer's answer presses: its stated confidence relative to a typical one
/// when shown, one unit when not.
fn pressure_weight(p: &PeerView) -> f64 {
    p.confidence.map_or(1.0, |c| c.clamp(0.0, 1.0) / UNSTATED_CONFIDENCE)
}

/// Reflecting alone: the agent checks its own argument with its self-checking skill (a
/// check that leans on its own belief, so a firm mistake tends to survive) and answers
/// again from what that leaves of its belief.
fn reflect(traits: &Traits, req: &AskRequest, mind: &Mind, rng: &mut Rng) -> Said {
    if let Some(s) = pushed(mind) {
        return Said { why: format!("On reflection I am still sure. {}", s.why), ..s };
    }
    let Some(own) = &req.own else { return answer(traits, req, mind, rng) };
    let prior = mind.belief();
    let mut belief = prior.clone();
    let j = belief.index_of(&own.answer);
    let trace = own.trace.clone().or_else(|| belief.traces[j].clone());
    let mut found = None;
    if let Some(t) = &trace {
        let (finding, moved) = weigh(t, &own.answer, self_checking(traits, req), &prior, mind.apparent_difficulty, rng);
        belief.weights[j] += moved;
        if let Finding::Objection(step) = finding {
            found = t.steps().get(step).cloned();
        }
    }
    let mut choice = belief.clone();
    choice.weights[j] += COMMITMENT * traits.stubbornness;
    let i = choice.sample(rng);
    let mass = belief.probabilities()[i];
    let lead = match (&found, i == j) {
        (Some(s), false) => format!("On reflection my step \"{s}\" was wrong:"),
        (Some(s), true) => format!("I doubted the step \"{s}\", but it stands:"),
        (None, true) => "On reflection my answer stands:".to_string(),
        (None, false) => "On reflection I answer differently:".to_string(),
    };
    Said::from(traits, &belief, i, mass, &lead, rng)
}

/// Picking the best of candidate answers (`req.options`): the agent's own belief in each,
/// plus what it finds checking the arguments offered for it (`req.peers` whose answer is
/// that candidate). A judge chooses its best estimate, it does not sample.
fn judge(traits: &Traits, req: &AskRequest, mind: &Mind, rng: &mut Rng) -> Said {
    if req.options.is_empty() {
        return answer(traits, req, mind, rng);
    }
    let prior = mind.belief();
    let mut belief = prior.clone();
    let idx: Vec<usize> = req.options.iter().map(|o| belief.index_of(o)).collect();
    let mut scores: Vec<f64> = idx.iter().map(|&j| belief.weights[j]).collect();
    let skill = judging(traits, req);
    let mut notes = Vec::new();
    for p in &req.peers {
        let Some(k) = req.options.iter().position(|o| normalize(o) == normalize(&p.answer)) else { continue };
        if let Some(t) = &p.trace {
            let (finding, moved) = weigh(t, &p.answer, skill, &prior, mind.apparent_difficulty, rng);
            scores[k] += moved;
            if let Finding::Objection(step) = finding {
                notes.push(objection(&format!("{}'s", p.name), t, step));
            }
        }
    }
    if let Some(t) = mind.target {
        // A saboteur favours what it was told to push, or else what it believes least.
        let target = &mind.candidates()[t].answer;
        let k = req.options.iter().position(|o| normalize(o) == normalize(target));
        let worst = (0..scores.len()).min_by(|&a, &b| scores[a].total_cmp(&scores[b])).unwrap_or(0);
        let k = k.unwrap_or(worst);
        return Said::plain(req.options[k].clone(), 0.95, "this one is clearly the best.".into());
    }
    let best = (0..scores.len()).fold(0, |b, k| if scores[k] > scores[b] { k } else { b });
    for (k, &j) in idx.iter().enumerate() {
        belief.weights[j] = scores[k];
    }
    let mass = belief.probabilities()[idx[best]] / idx.iter().map(|&j| belief.probabilities()[j]).sum::<f64>();
    let why = if notes.is_empty() { "its argument holds up best.".to_string() } else { format!("its argument holds up best; {}", notes.join(" ")) };
    Said::plain(req.options[best].clone(), stated(traits, mass, rng), why)
}

/// Checking an answer (`own` = a self-check, else the first peer's): `wrong` when, after
/// checking its argument, the checker believes the answer more likely wrong than right.
fn check(traits: &Traits, req: &AskRequest, mind: &Mind, rng: &mut Rng) -> Said {
    let (view, is_self) = match (&req.own, req.peers.first()) {
        (Some(o), _) => (o, true),
        (None, Some(p)) => (p, false),
        (None, None) => return Said::plain("ok".into(), 0.5, "nothing to check.".into()),
    };
    if let Some(t) = mind.target {
        // A saboteur waves through what it pushes and objects to the rest.
        let ok = normalize(&mind.candidates()[t].answer) == normalize(&view.answer);
        return Said::plain(if ok { "ok" } else { "wrong" }.into(), 0.9, "looks fine to me.".into());
    }
    let belief = mind.belief();
    let prior = belief.find(&view.answer).map_or(sigmoid(UNCONSIDERED), |j| belief.probabilities()[j]);
    let mut log_odds = logit(prior);
    let skill = if is_self { self_checking(traits, req) } else { judging(traits, req) };
    let trace = view.trace.clone().or_else(|| belief.find(&view.answer).and_then(|j| belief.traces[j].clone()).filter(|_| is_self));
    let mut why = String::new();
    if let Some(t) = &trace {
        let (finding, moved) = weigh(t, &view.answer, skill, &belief, mind.apparent_difficulty, rng);
        log_odds += moved;
        why = match finding {
            Finding::Objection(step) => objection(&if is_self { "My".to_string() } else { format!("{}'s", view.name) }, t, step),
            Finding::Sound => format!("{} checks out.", view.answer),
        };
    }
    let p_right = sigmoid(log_odds);
    let verdict = if p_right < 0.5 { "wrong" } else { "ok" };
    if why.is_empty() {
        why = if verdict == "ok" { format!("{} agrees with what I get.", view.answer) } else { format!("{} is not what I get.", view.answer) };
    }
    let mass = if verdict == "ok" { p_right } else { 1.0 - p_right };
    Said::plain(verdict.into(), stated(traits, mass, rng), why)
}

/// Greedy decoding alone: the answer the agent believes most (or was told to push).
fn greedy(traits: &Traits, mind: &Mind, rng: &mut Rng) -> Said {
    if let Some(s) = pushed(mind) {
        return s;
    }
    let belief = mind.belief();
    let i = belief.mode();
    let mass = belief.probabilities()[i];
    Said::from(traits, &belief, i, mass, "", rng)
}

/// Volunteering: a bid from the agent's belief in its own best answer.
fn bid(traits: &Traits, mind: &Mind, rng: &mut Rng) -> Said {
    if mind.target.is_some() {
        return Said::plain("bid".into(), 0.95, "I can do this.".into());
    }
    let belief = mind.belief();
    let sure = belief.probabilities()[belief.mode()];
    let b = stated(traits, sure, rng);
    let why = if sure >= 0.75 { "I am fairly sure I know this." } else { "I am not sure about this one." };
    Said::plain("bid".into(), b, why.into())
}

#[cfg(test)]
mod tests;
