//! Prompt templates: what an LLM agent is actually sent, visible and editable.
//!
//! A prompt is a system message plus a user message, rendered from an [`AskRequest`]
//! (never from `req.sim`, the hidden ground truth) with a small template language:
//! `{{var}}` inserts a variable, `{{#var}}...{{/var}}` keeps its body only when `var` is
//! not empty, `{{^var}}...{{/var}}` only when it is. [`VARIABLES`] lists the variables.
//!
//! Templates are looked up by key, most specific first: the scenario's own
//! `prompts["<mechanism>.<purpose>"]`, then `prompts["<purpose>"]`, then the built-in
//! default for the mechanism and purpose, then for the purpose. The system message uses
//! the keys `<mechanism>.system` and `system` the same way.
//!
//! The defaults are short and end with an explicit reply format (`Answer: ...`,
//! `Confidence: ...%`) that `parse` reads: that is what lets a 135M-parameter model give
//! a parseable answer at all, and it costs a large model nothing.

use std::collections::BTreeMap;

use crate::exchange::{AskRequest, PeerView};
use crate::tasks::letter;

/// A rendered prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub system: String,
    pub user: String,
}

impl Prompt {
    /// Both messages as one text, for transcripts and logs.
    pub fn to_text(&self) -> String {
        format!("[system]\n{}\n\n[user]\n{}", self.system, self.user)
    }
}

/// Template variables and what they hold (shown in the editor's help).
pub const VARIABLES: &[(&str, &str)] = &[
    ("name", "the agent's name"),
    ("role", "the agent's role or persona text"),
    ("question", "the question"),
    ("options", "the options, one per line (\"A) 56\"), empty for free answers"),
    ("letters", "the option letters (\"A, B, C or D\")"),
    ("instruction", "what the mechanism asks for this time, in plain words"),
    ("reply_format", "how to lay out the reply (Answer/Confidence lines) for this ask"),
    ("round", "the round number (0 is the first answer)"),
    ("purpose", "answer, revise, reflect, judge, check, bid, plan, solve or probe"),
    ("own", "the agent's previous answer, confidence and reasoning"),
    ("own_answer", "the agent's previous answer alone"),
    ("peers", "the other agents' answers, confidences and reasoning, one per line"),
    ("peers_grouped", "the other agents' answers grouped by answer with confidences and reasons (ReConcile)"),
    ("candidates", "candidate answers to judge, numbered"),
    ("target", "the answer to check (own or a peer's) with its reasoning"),
];

/// Built-in templates by key (`system`, a purpose, or `<mechanism>.<purpose>`). What every
/// agent on an item shares comes first (system message, question, options, the peers'
/// answers) and what is its own comes after (name, role, own answer, instruction), so a
/// local engine can prefill the shared part once for the whole round.
pub const DEFAULTS: &[(&str, &str)] = &[
    (
        "system",
        "You are one of several agents solving a problem together. Be brief and use the reply format exactly.",
    ),
    ("answer", "{{question}}\n{{#options}}{{options}}\n{{/options}}You are {{name}}.{{#role}} {{role}}{{/role}}\n{{#instruction}}{{instruction}}\n{{/instruction}}{{reply_format}}"),
    ("probe", "{{question}}\n{{#options}}{{options}}\n{{/options}}You are {{name}}.{{#role}} {{role}}{{/role}}\n{{#instruction}}{{instruction}}\n{{/instruction}}{{reply_format}}"),
    ("solve", "{{question}}\n{{#options}}{{options}}\n{{/options}}You are {{name}}.{{#role}} {{role}}{{/role}}\n{{#instruction}}{{instruction}}\n{{/instruction}}{{reply_format}}"),
    (
        "revise",
        "{{question}}\n{{#options}}{{options}}\n{{/options}}{{#peers}}Other agents said:\n{{peers}}\n{{/peers}}You are {{name}}.{{#role}} {{role}}{{/role}}\n{{#own}}{{own}}\n{{/own}}{{#instruction}}{{instruction}}\n{{/instruction}}{{^instruction}}Consider their answers, then give your own final answer.\n{{/instruction}}{{reply_format}}",
    ),
    (
        "reconcile.revise",
        "Round {{round}} of a round-table discussion.\n{{question}}\n{{#options}}{{options}}\n{{/options}}{{#peers_grouped}}The other agents' answers, grouped:\n{{peers_grouped}}\n{{/peers_grouped}}You are {{name}}.{{#role}} {{role}}{{/role}}\n{{#own}}{{own}}\n{{/own}}Weigh each explanation and how confident its author is. Keep your answer if you still think it is right, or change it if another argument convinces you.\n{{reply_format}}",
    ),
    (
        "reflect",
        "{{question}}\n{{#options}}{{options}}\n{{/options}}You are {{name}}.{{#role}} {{role}}{{/role}}\n{{#own}}{{own}}\n{{/own}}{{#instruction}}{{instruction}}\n{{/instruction}}{{^instruction}}Check your answer for mistakes. Keep it or correct it.\n{{/instruction}}{{reply_format}}",
    ),
    (
        "judge",
        "{{question}}\nCandidate answers:\n{{candidates}}\nYou are {{name}}.{{#role}} {{role}}{{/role}}\n{{#instruction}}{{instruction}}\n{{/instruction}}Which candidate is correct?\n{{reply_format}}",
    ),
    (
        "check",
        "{{question}}\n{{#options}}{{options}}\n{{/options}}Proposed answer: {{target}}\nYou are {{name}}.{{#role}} {{role}}{{/role}}\n{{#instruction}}{{instruction}}\n{{/instruction}}Is the proposed answer correct?\n{{reply_format}}",
    ),
    (
        "fortytwo.judge",
        "{{question}}\n{{#instruction}}{{instruction}}\n{{/instruction}}{{#peers}}Their answers:\n{{peers}}\n{{/peers}}Candidates:\n{{candidates}}\nYou are {{name}}.{{#role}} {{role}}{{/role}}\nWhich candidate is right?\n{{reply_format}}",
    ),
    ("bid", "{{question}}\nYou are {{name}}.{{#role}} {{role}}{{/role}}\n{{#instruction}}{{instruction}}\n{{/instruction}}How likely are you to answer this correctly?\n{{reply_format}}"),
    ("plan", "{{question}}\nYou are {{name}}.{{#role}} {{role}}{{/role}}\n{{#instruction}}{{instruction}}\n{{/instruction}}{{reply_format}}"),
];

/// Keys a scenario may override: `system`, any purpose, or `<mechanism>.<purpose>`.
pub const PURPOSES: &[&str] = &["answer", "revise", "reflect", "judge", "check", "bid", "plan", "solve", "probe"];

/// Most overrides a scenario may carry.
pub const MAX_OVERRIDES: usize = 32;

/// The template used for `purpose` (or `system`) under `mechanism`, and the key it came
/// from (`scenario:<key>` for an override, `default:<key>` for a built-in).
pub fn template_for<'a>(overrides: &'a BTreeMap<String, String>, mechanism: &str, purpose: &str) -> (String, &'a str) {
    let specific = format!("{mechanism}.{purpose}");
    if let Some(t) = overrides.get(&specific) {
        return (format!("scenario:{specific}"), t);
    }
    if let Some(t) = overrides.get(purpose) {
        return (format!("scenario:{purpose}"), t);
    }
    if let Some((k, t)) = DEFAULTS.iter().find(|(k, _)| *k == specific) {
        return (format!("default:{k}"), t);
    }
    if let Some((k, t)) = DEFAULTS.iter().find(|(k, _)| *k == purpose) {
        return (format!("default:{k}"), t);
    }
    ("default:answer".into(), DEFAULTS[1].1)
}

/// Renders the prompt for `req` under `mechanism` with the scenario's `overrides`.
/// Templates were validated with the scenario, so this cannot fail.
pub fn render(overrides: &BTreeMap<String, String>, mechanism: &str, req: &AskRequest) -> Prompt {
    let vars = Vars::of(req);
    let (_, sys) = template_for(overrides, mechanism, "system");
    let (_, user) = template_for(overrides, mechanism, &req.purpose);
    Prompt { system: tidy(&expand(sys, &vars)), user: tidy(&expand(user, &vars)) }
}

/// Checks one template: known variables, balanced sections.
pub fn validate_template(text: &str) -> Result<(), String> {
    let toks = tokenize(text)?;
    let mut open: Vec<&str> = Vec::new();
    for t in &toks {
        match t {
            Tok::Text(_) => {}
            Tok::Var(v) | Tok::Open(v, _) | Tok::Close(v) => {
                if !VARIABLES.iter().any(|(n, _)| n == v) {
                    return Err(format!("unknown variable {{{{{v}}}}} (known: {})", VARIABLES.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")));
                }
                match t {
                    Tok::Open(v, _) => open.push(v),
                    Tok::Close(v) if open.pop() != Some(v) => {
                        return Err(format!("{{{{/{v}}}}} closes a section that is not open"));
                    }
                    _ => {}
                }
            }
        }
    }
    if let Some(v) = open.pop() {
        return Err(format!("section {{{{#{v}}}}} is never closed with {{{{/{v}}}}}"));
    }
    Ok(())
}

/// Checks a scenario's `prompts` map (keys, sizes, templates); errors name the key.
pub fn validate_overrides(prompts: &BTreeMap<String, String>) -> Result<(), String> {
    if prompts.len() > MAX_OVERRIDES {
        return Err(format!("prompts: at most {MAX_OVERRIDES} templates"));
    }
    for (k, v) in prompts {
        let purpose = k.rsplit('.').next().unwrap_or(k);
        let mech_ok = k.split_once('.').is_none_or(|(m, _)| !m.is_empty() && m.chars().all(|c| c.is_ascii_lowercase() || c == '_' || c == '-'));
        if k.len() > 64 || !mech_ok || k.matches('.').count() > 1 || !(purpose == "system" || PURPOSES.contains(&purpose)) {
            return Err(format!(
                "prompts: key \"{k}\" is not system, a purpose ({}) or <mechanism>.<purpose>",
                PURPOSES.join(", ")
            ));
        }
        if v.len() > crate::spec::MAX_TEXT {
            return Err(format!("prompts.{k}: longer than {} bytes", crate::spec::MAX_TEXT));
        }
        validate_template(v).map_err(|e| format!("prompts.{k}: {e}"))?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------
// Variables

struct Vars<'a> {
    req: &'a AskRequest,
}

impl<'a> Vars<'a> {
    fn of(req: &'a AskRequest) -> Self {
        Vars { req }
    }

    fn get(&self, name: &str) -> String {
        let r = self.req;
        match name {
            "name" => r.agent_name.clone(),
            "role" => r.role.trim().to_string(),
            "question" => r.question.trim().to_string(),
            "options" if r.purpose != "judge" => options_block(r),
            "options" => String::new(),
            "letters" => letters(r.options.len()),
            "instruction" => r.instruction.trim().to_string(),
            "reply_format" => reply_format(r),
            "round" => r.round.to_string(),
            "purpose" => r.purpose.clone(),
            "own" => r.own.as_ref().map(|o| format!("Your previous answer: {}", describe(r, o))).unwrap_or_default(),
            "own_answer" => r.own.as_ref().map(|o| shown_answer(r, &o.answer)).unwrap_or_default(),
            "peers" => r.peers.iter().map(|p| format!("- {}: {}", p.name, describe(r, p))).collect::<Vec<_>>().join("\n"),
            "peers_grouped" => grouped(r),
            "candidates" => r.options.iter().enumerate().map(|(i, c)| format!("Candidate {}: {c}", i + 1)).collect::<Vec<_>>().join("\n"),
            "target" => match (&r.own, r.peers.first()) {
                (Some(o), _) => describe(r, o),
                (None, Some(p)) => format!("{} (from {})", describe(r, p), p.name),
                (None, None) => String::new(),
            },
            _ => String::new(),
        }
    }
}

fn options_block(r: &AskRequest) -> String {
    if r.options.is_empty() {
        return String::new();
    }
    if r.format == "option" {
        r.options.iter().enumerate().map(|(i, o)| format!("{}) {o}", letter(i))).collect::<Vec<_>>().join("\n")
    } else {
        format!("Choose one of: {}", r.options.join(", "))
    }
}

fn letters(n: usize) -> String {
    let l: Vec<String> = (0..n.min(26)).map(letter).collect();
    match l.len() {
        0 => String::new(),
        1 => l[0].clone(),
        _ => format!("{} or {}", l[..l.len() - 1].join(", "), l[l.len() - 1]),
    }
}

/// "B (66)" for option letters, so a peer's choice reads without looking it up.
fn shown_answer(r: &AskRequest, answer: &str) -> String {
    // A judge's options are the candidates themselves, not the question's lettered options.
    if r.format == "option" && r.purpose != "judge" {
        let a = answer.trim();
        if let Some(i) = (0..r.options.len()).find(|&i| letter(i).eq_ignore_ascii_case(a)) {
            return format!("{} ({})", letter(i), r.options[i]);
        }
    }
    answer.to_string()
}

fn describe(r: &AskRequest, p: &PeerView) -> String {
    let mut s = shown_answer(r, &p.answer);
    if let Some(c) = p.confidence {
        s.push_str(&format!(" (confidence {}%)", (c * 100.0).round() as i64));
    }
    let e = p.explanation.trim();
    if !e.is_empty() {
        s.push_str(". Reason: ");
        s.push_str(e);
    }
    s
}

/// ReConcile's discussion block: each distinct answer with who holds it, their
/// confidences, and their explanations.
fn grouped(r: &AskRequest) -> String {
    let mut groups: Vec<(String, Vec<&PeerView>)> = Vec::new();
    for p in &r.peers {
        let key = crate::tasks::normalize(&p.answer);
        match groups.iter_mut().find(|g| g.0 == key) {
            Some(g) => g.1.push(p),
            None => groups.push((key, vec![p])),
        }
    }
    let mut out = Vec::new();
    for (_, members) in &groups {
        let who: Vec<String> = members
            .iter()
            .map(|p| match p.confidence {
                Some(c) => format!("{} {}%", p.name, (c * 100.0).round() as i64),
                None => p.name.clone(),
            })
            .collect();
        out.push(format!(
            "Answer {} — {} agent{} ({}):",
            shown_answer(r, &members[0].answer),
            members.len(),
            if members.len() == 1 { "" } else { "s" },
            who.join(", ")
        ));
        for p in members {
            let e = p.explanation.trim();
            if !e.is_empty() {
                out.push(format!("  - {}: {e}", p.name));
            }
        }
    }
    out.join("\n")
}

/// The reply layout `parse` reads best, per purpose and format.
fn reply_format(r: &AskRequest) -> String {
    let conf = "Confidence: <0-100>%";
    match r.purpose.as_str() {
        "judge" => format!("Reply in this format:\nAnswer: <candidate number 1-{}>\n{conf}\nReason: <one sentence>", r.options.len().max(1)),
        "check" => format!("Reply in this format:\nVerdict: ok or wrong\n{conf}\nReason: <one sentence>"),
        "bid" => "Reply in this format:\nBid: <0-100>%\nReason: <one sentence>".into(),
        "plan" => "Reply in this format:\nPlan: <your plan, a few short lines>".into(),
        _ => {
            let what = match r.format.as_str() {
                "option" if !r.options.is_empty() => format!("<letter {}>", letters(r.options.len())),
                "number" => "<number>".into(),
                _ if !r.options.is_empty() => format!("<one of {}>", r.options.join(", ")),
                _ => "<short answer>".into(),
            };
            format!("Reply in this format:\nAnswer: {what}\n{conf}\nReason: <one sentence>")
        }
    }
}

// ---------------------------------------------------------------------------------
// The template language

#[derive(Debug)]
enum Tok<'a> {
    Text(&'a str),
    Var(&'a str),
    /// Section start; `true` for `{{^var}}` (inverted).
    Open(&'a str, bool),
    Close(&'a str),
}

fn tokenize(text: &str) -> Result<Vec<Tok<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("{{") {
        if i > 0 {
            out.push(Tok::Text(&rest[..i]));
        }
        let after = &rest[i + 2..];
        let end = after.find("}}").ok_or_else(|| "a {{ is never closed with }}".to_string())?;
        let tag = after[..end].trim();
        let tok = if let Some(v) = tag.strip_prefix('#') {
            Tok::Open(v.trim(), false)
        } else if let Some(v) = tag.strip_prefix('^') {
            Tok::Open(v.trim(), true)
        } else if let Some(v) = tag.strip_prefix('/') {
            Tok::Close(v.trim())
        } else {
            Tok::Var(tag)
        };
        out.push(tok);
        rest = &after[end + 2..];
    }
    if !rest.is_empty() {
        out.push(Tok::Text(rest));
    }
    Ok(out)
}

/// Expands a template; an invalid one (only possible for unvalidated text) renders as
/// written, so the user sees exactly what is wrong.
fn expand(template: &str, vars: &Vars) -> String {
    let Ok(toks) = tokenize(template) else { return template.to_string() };
    let mut out = String::new();
    // Stack of (variable, whether this section is shown).
    let mut stack: Vec<(&str, bool)> = Vec::new();
    for t in toks {
        let shown = stack.iter().all(|s| s.1);
        match t {
            Tok::Text(s) => {
                if shown {
                    out.push_str(s);
                }
            }
            Tok::Var(v) => {
                if shown {
                    out.push_str(&vars.get(v));
                }
            }
            Tok::Open(v, inverted) => {
                let present = !vars.get(v).is_empty();
                stack.push((v, present != inverted));
            }
            Tok::Close(_) => {
                stack.pop();
            }
        }
    }
    out
}

/// Trims the ends and collapses runs of blank lines left by empty sections.
fn tidy(s: &str) -> String {
    let mut out = String::new();
    let mut blank = 0;
    for line in s.trim().lines() {
        if line.trim().is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.trim_end().to_string()
}

#[cfg(test)]
mod tests;
