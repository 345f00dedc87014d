//! A local model that asks a remote one only when unsure (AdaSwitch, 2024), keeping
//! private values on the device (PAAC, 2025).
//!
//! Agent 0 is the local agent (a small model on the device), agent 1 the remote one (a
//! large model behind an API). The local agent answers with a confidence; with
//! `self_check` it also checks its own argument. It escalates when its confidence is below
//! `threshold` or its self-check finds a flaw (`policy` `confidence`); the baselines
//! escalate at random with probability `rate`, never, or always. An escalated question
//! goes to the remote agent, and the remote answer is final; otherwise the local answer
//! is. Everything goes through ordinary asks, so any backend can play either side.
//!
//! What the remote side sees: with `redact`, every value listed in `private` (by type,
//! e.g. `{"PERSON": ["Ana", "Bo"]}`) is replaced by a typed placeholder (`[PERSON_1]`)
//! in the question and options before the ask leaves the device, by a fixed registry
//! that also maps placeholders in the remote reply back (PAAC's device-side registry);
//! the remote agent's ask in the log is exactly what it was sent. `leaked` counts private
//! values that reached the remote side. Simulated agents answer the same item either way
//! (names carry no arithmetic), so redaction costs them nothing; an LLM may do worse on
//! placeholders, which is what to look for with real models.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Mechanism, Opinion, Show, check_agents, check_one_of};
use crate::engine::Ctx;
use crate::event::EventKind;
use crate::scenario::Scenario;
use crate::spec::{ScenarioError, check_unit, err};

pub struct Escalate;

pub const POLICIES: &[&str] = &["confidence", "random", "never", "always"];

/// Most private types, values per type, and bytes per value a scenario may list.
const MAX_PRIVATE_TYPES: usize = 16;
const MAX_PRIVATE_VALUES: usize = 64;
const MAX_PRIVATE_BYTES: usize = 100;

#[derive(Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Params {
    /// `confidence` (escalate when unsure), `random` (with probability `rate`), `never`,
    /// `always`.
    pub policy: String,
    /// Escalate when the local agent's stated confidence is below this.
    pub threshold: f64,
    /// The local agent also checks its own answer and escalates when it finds it wrong.
    pub self_check: bool,
    /// Escalation probability of the `random` policy.
    pub rate: f64,
    /// Replace private values by typed placeholders in what the remote side sees.
    pub redact: bool,
    /// Private values by placeholder type (`{"PERSON": ["Ana", "Bo"]}`).
    pub private: BTreeMap<String, Vec<String>>,
}

impl Default for Params {
    fn default() -> Self {
        Self { policy: "confidence".into(), threshold: 0.7, self_check: false, rate: 0.5, redact: true, private: BTreeMap::new() }
    }
}

/// PAAC's device-side registry: private values and their placeholders, both ways.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    /// (placeholder, value), in the order values were first met.
    pairs: Vec<(String, String)>,
}

fn is_word(c: Option<char>) -> bool {
    c.is_some_and(char::is_alphanumeric)
}

impl Registry {
    /// `text` with every whole-word occurrence of a private value replaced by its
    /// placeholder. Longer values claim their spans first ("Ana Lee" before "Ana");
    /// placeholders are numbered in the order values first appear.
    pub fn redact(&mut self, text: &str, private: &BTreeMap<String, Vec<String>>) -> String {
        let mut values: Vec<(&str, &str)> = private.iter().flat_map(|(t, vs)| vs.iter().map(move |v| (t.as_str(), v.as_str()))).filter(|(_, v)| !v.is_empty()).collect();
        values.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.1.cmp(b.1)));
        // (start, end, type, value) of every claimed span.
        let mut spans: Vec<(usize, usize, &str, &str)> = Vec::new();
        for (kind, value) in values {
            for (i, _) in text.match_indices(value) {
                let end = i + value.len();
                let whole = !is_word(text[..i].chars().next_back()) && !is_word(text[end..].chars().next());
                if whole && !spans.iter().any(|&(s, e, _, _)| i < e && s < end) {
                    spans.push((i, end, kind, value));
                }
            }
        }
        spans.sort_by_key(|s| s.0);
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (start, end, kind, value) in spans {
            out.push_str(&text[at..start]);
            out.push_str(&self.placeholder(kind, value));
            at = end;
        }
        out.push_str(&text[at..]);
        out
    }

    fn placeholder(&mut self, kind: &str, value: &str) -> String {
        if let Some((p, _)) = self.pairs.iter().find(|(_, v)| v == value) {
            return p.clone();
        }
        let n = self.pairs.iter().filter(|(p, _)| p.starts_with(&format!("[{kind}_"))).count() + 1;
        let p = format!("[{kind}_{n}]");
        self.pairs.push((p.clone(), value.to_string()));
        p
    }

    /// `text` with placeholders mapped back to their values (on the device).
    pub fn restore(&self, text: &str) -> String {
        self.pairs.iter().fold(text.to_string(), |t, (p, v)| t.replace(p, v))
    }

    pub fn placeholders(&self) -> Vec<&str> {
        self.pairs.iter().map(|(p, _)| p.as_str()).collect()
    }
}

/// Whole-word occurrences of private values in `text`.
pub(crate) fn leaks(text: &str, private: &BTreeMap<String, Vec<String>>) -> usize {
    let mut probe = Registry::default();
    let redacted = probe.redact(text, private);
    // Each replacement turns a value into a placeholder; count them.
    probe.pairs.iter().map(|(p, _)| redacted.matches(p.as_str()).count()).sum()
}

impl Mechanism for Escalate {
    const NAME: &'static str = "escalate";
    type Params = Params;

    fn check(p: &Params, s: &Scenario) -> Result<(), ScenarioError> {
        check_agents(s, 2)?;
        check_one_of("policy", &p.policy, POLICIES)?;
        check_unit("mechanism.params.threshold", p.threshold)?;
        check_unit("mechanism.params.rate", p.rate)?;
        if p.private.len() > MAX_PRIVATE_TYPES {
            return err(format!("mechanism.params.private: {} types, at most {MAX_PRIVATE_TYPES}", p.private.len()));
        }
        for (kind, values) in &p.private {
            if kind.is_empty() || kind.len() > 24 || !kind.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
                return err(format!("mechanism.params.private: type \"{}\" must be 1 to 24 capital letters or _", kind.chars().take(24).collect::<String>()));
            }
            if values.len() > MAX_PRIVATE_VALUES {
                return err(format!("mechanism.params.private.{kind}: {} values, at most {MAX_PRIVATE_VALUES}", values.len()));
            }
            if let Some(v) = values.iter().find(|v| v.is_empty() || v.len() > MAX_PRIVATE_BYTES || v.chars().any(char::is_control)) {
                return err(format!("mechanism.params.private.{kind}: a value is empty, has control characters or is longer than {MAX_PRIVATE_BYTES} bytes ({} bytes)", v.len()));
            }
        }
        Ok(())
    }

    async fn run(ctx: Ctx, p: Params) -> Result<(), String> {
        let (local, remote) = (0u32, 1u32);
        let problem = ctx.task().main.clone();
        let mut first = ctx.request(local, "answer", 0, &problem);
        first.instruction = "Answer, explain in one sentence, and give your confidence (0 to 1).".into();
        let mine = Opinion::from_reply(&ctx.ask(first).await);
        let mut flagged = false;
        if p.self_check {
            let mut check = ctx.request(local, "check", 0, &problem);
            check.instruction = "Check your own answer step by step. Reply `ok` or `wrong`.".into();
            check.own = Some(mine.own(&ctx, local));
            flagged = ctx.ask(check).await.answer.as_deref() == Some("wrong");
        }
        let unsure = mine.confidence < p.threshold;
        let escalate = match p.policy.as_str() {
            "random" => ctx.rng("escalate").chance(p.rate),
            "never" => false,
            "always" => true,
            _ => unsure || flagged,
        };
        let why = match (p.policy.as_str(), unsure, flagged) {
            ("confidence", true, _) => format!("confidence {:.2} is below {:.2}", mine.confidence, p.threshold),
            ("confidence", false, true) => "its self-check found a flaw".to_string(),
            ("confidence", false, false) => format!("confidence {:.2} is at least {:.2}", mine.confidence, p.threshold),
            ("random", ..) => format!("a coin with p = {:.2}", p.rate),
            (other, ..) => format!("policy {other}"),
        };
        ctx.emit(0, EventKind::Choice { name: "route".into(), value: if escalate { ctx.name(remote).to_string() } else { ctx.name(local).to_string() } });
        ctx.metric(0, "local_correct", f64::from(u8::from(ctx.task().main.is_correct(&mine.answer))));
        ctx.metric(0, "local_confidence", mine.confidence);
        if !escalate {
            ctx.note(0, format!("{} keeps its answer: {why}.", ctx.name(local)));
            ctx.metric(0, "remote_calls", 0.0);
            ctx.metric(0, "leaked", 0.0);
            ctx.decide(0, &mine.answer, "local answer", true);
            return Ok(());
        }
        ctx.note(1, format!("{} escalates to {}: {why}.", ctx.name(local), ctx.name(remote)));
        let mut ask = ctx.request(remote, "answer", 1, &problem);
        ask.instruction = "Answer, explain in one sentence, and give your confidence (0 to 1).".into();
        let mut registry = Registry::default();
        if p.redact {
            // The item stays the same for scoring; only the text that leaves the device changes.
            ask.question = registry.redact(&ask.question, &p.private);
            ask.options = ask.options.iter().map(|o| registry.redact(o, &p.private)).collect();
        }
        let sent = format!("{}\n{}", ask.question, ask.options.join("\n"));
        let leaked = leaks(&sent, &p.private);
        if !registry.placeholders().is_empty() {
            ctx.note(1, format!("Kept on the device: {} private value(s) sent as {}; the reply is mapped back here.", registry.placeholders().len(), registry.placeholders().join(", ")));
        }
        ctx.message(1, local, vec![remote], "escalate", ask.question.clone());
        let reply = ctx.ask(ask).await;
        let theirs = Opinion::from_reply(&reply);
        let answer = registry.restore(&theirs.answer);
        ctx.message(1, remote, vec![local], "answer", registry.restore(&theirs.message(Show::REASONING)));
        ctx.metric(1, "remote_calls", 1.0);
        ctx.metric(1, "remote_tokens", f64::from(reply.tokens));
        ctx.metric(1, "leaked", leaked as f64);
        ctx.decide(1, &answer, "remote answer", true);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_replaces_whole_words_and_maps_back() {
        let private: BTreeMap<String, Vec<String>> = [("PERSON".to_string(), vec!["Ana".to_string(), "Bo".to_string(), "Ana Lee".to_string()])].into();
        let mut r = Registry::default();
        let text = "Ana Lee gives Bo 3 apples; Ana keeps Banana and Bob's 2. Bo.";
        let red = r.redact(text, &private);
        assert_eq!(red, "[PERSON_1] gives [PERSON_2] 3 apples; [PERSON_3] keeps Banana and Bob's 2. [PERSON_2].");
        assert_eq!(r.restore(&red), text);
        assert_eq!(leaks(text, &private), 4);
        assert_eq!(leaks(&red, &private), 0);
    }
}
