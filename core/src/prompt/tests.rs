//! Rendering, lookup order and validation of prompt templates.

use super::*;

fn peer(agent: u32, name: &str, answer: &str, confidence: f64, why: &str) -> PeerView {
    PeerView { agent, name: name.into(), answer: answer.into(), confidence: Some(confidence), explanation: why.into(), trace: None }
}

fn req(purpose: &str) -> AskRequest {
    AskRequest {
        id: 3,
        agent: 0,
        agent_name: "Ada".into(),
        role: "A careful mathematician.".into(),
        backend: crate::backend::Backend::Remote("test".into()),
        purpose: purpose.into(),
        round: 1,
        question: "What is 7 × 8? (math)".into(),
        options: vec!["56".into(), "66".into(), "63".into(), "48".into()],
        format: "option".into(),
        instruction: String::new(),
        own: Some(peer(0, "Ada", "B", 0.6, "I added wrong.")),
        peers: vec![
            peer(1, "Ben", "A", 0.9, "7 × 8 = 56."),
            peer(2, "Cy", "B", 0.55, "Looks like 66."),
            peer(3, "Dee", "A", 0.7, "Eight sevens are 56."),
        ],
        domain: "math".into(),
        item: 7,
        draft: Some("SECRET-PLAN".into()),
        partner: None,
    }
}

fn none() -> BTreeMap<String, String> {
    BTreeMap::new()
}

#[test]
fn answer_prompt_has_question_options_and_reply_format() {
    let mut r = req("answer");
    r.own = None;
    r.peers.clear();
    let p = render(&none(), "debate", &r);
    assert!(!p.system.contains("Ada"), "the system message is the same for every agent: {}", p.system);
    assert!(p.user.contains("You are Ada. A careful mathematician."), "{}", p.user);
    assert!(p.user.contains("What is 7 × 8?"));
    assert!(p.user.contains("A) 56\nB) 66\nC) 63\nD) 48"), "{}", p.user);
    assert!(p.user.contains("Answer: <letter A, B, C or D>"), "{}", p.user);
    assert!(p.user.contains("Confidence: <0-100>%"));
    assert!(!p.user.contains("Other agents"), "no peers section when there are no peers: {}", p.user);
    assert!(!p.user.contains("\n\n\n"));
}

#[test]
fn agents_on_one_item_share_their_prompts_up_to_their_own_part() {
    // Shared text first lets a local engine prefill it once for the round.
    for purpose in ["answer", "revise", "reflect"] {
        let a = req(purpose);
        let mut b = req(purpose);
        b.agent = 1;
        b.agent_name = "Ben".into();
        b.role = "Quick.".into();
        b.own = Some(peer(1, "Ben", "A", 0.9, "7 × 8 = 56."));
        let (pa, pb) = (render(&none(), "debate", &a), render(&none(), "debate", &b));
        assert_eq!(pa.system, pb.system);
        let shared = pa.user.chars().zip(pb.user.chars()).take_while(|(x, y)| x == y).count();
        let persona = pa.user.find("You are Ada").expect("the persona line");
        assert!(shared >= persona && persona > 20, "{purpose}: shared {shared} chars, persona at {persona}:\n{}", pa.user);
    }
}

#[test]
fn no_template_ever_leaks_the_hidden_sim_fields() {
    for purpose in PURPOSES {
        for mech in ["debate", "reconcile", "self_consistency"] {
            let p = render(&none(), mech, &req(purpose)).to_text();
            assert!(!p.contains("SECRET"), "{mech}.{purpose} leaks a hidden field: {p}");
        }
    }
}

#[test]
fn debate_revise_lists_own_and_peer_answers() {
    let p = render(&none(), "debate", &req("revise"));
    assert!(p.user.contains("Your previous answer: B (66) (confidence 60%). Reason: I added wrong."), "{}", p.user);
    assert!(p.user.contains("- Ben: A (56) (confidence 90%). Reason: 7 × 8 = 56."), "{}", p.user);
    assert!(p.user.contains("Consider their answers"), "default instruction when the mechanism gives none");
}

#[test]
fn reconcile_groups_answers_with_confidences_and_explanations() {
    let p = render(&none(), "reconcile", &req("revise"));
    assert!(p.user.starts_with("Round 1 of a round-table discussion."), "{}", p.user);
    let a = p.user.find("Answer A (56) — 2 agents (Ben 90%, Dee 70%):").expect(&p.user);
    let b = p.user.find("Answer B (66) — 1 agent (Cy 55%):").expect(&p.user);
    assert!(a < b, "groups keep first-seen order");
    assert!(p.user.contains("  - Dee: Eight sevens are 56."));
    assert!(p.user.contains("how confident its author is"));
}

#[test]
fn judge_check_bid_plan_ask_for_their_own_formats() {
    let mut j = req("judge");
    j.options = vec!["56".into(), "66".into()];
    let p = render(&none(), "x", &j);
    assert!(p.user.contains("Candidate 1: 56\nCandidate 2: 66"), "{}", p.user);
    assert!(p.user.contains("Answer: <candidate number 1-2>"));
    assert!(!p.user.contains("A) 56"), "judges see candidates, not lettered options");

    let mut c = req("check");
    c.own = None;
    let p = render(&none(), "x", &c);
    assert!(p.user.contains("Proposed answer: A (56) (confidence 90%). Reason: 7 × 8 = 56. (from Ben)"), "{}", p.user);
    assert!(p.user.contains("Verdict: ok or wrong"));

    assert!(render(&none(), "x", &req("bid")).user.contains("Bid: <0-100>%"));
    assert!(render(&none(), "x", &req("plan")).user.contains("Plan: <"));
}

#[test]
fn number_and_text_formats_change_the_answer_line() {
    let mut r = req("answer");
    r.format = "number".into();
    r.options.clear();
    assert!(render(&none(), "debate", &r).user.contains("Answer: <number>"));
    r.format = "text".into();
    r.options = vec!["up".into(), "down".into()];
    let p = render(&none(), "debate", &r);
    assert!(p.user.contains("Choose one of: up, down"), "{}", p.user);
    assert!(p.user.contains("Answer: <one of up, down>"));
}

#[test]
fn scenario_overrides_win_most_specific_first() {
    let mut o = BTreeMap::new();
    o.insert("revise".to_string(), "R: {{question}}".to_string());
    assert_eq!(render(&o, "debate", &req("revise")).user, "R: What is 7 × 8? (math)");
    // The scenario's plain key beats the built-in mechanism-specific default.
    assert_eq!(render(&o, "reconcile", &req("revise")).user, "R: What is 7 × 8? (math)");
    o.insert("reconcile.revise".to_string(), "RR {{round}}".to_string());
    assert_eq!(render(&o, "reconcile", &req("revise")).user, "RR 1");
    assert_eq!(template_for(&o, "reconcile", "revise").0, "scenario:reconcile.revise");
    assert_eq!(template_for(&none(), "reconcile", "revise").0, "default:reconcile.revise");
    assert_eq!(template_for(&none(), "debate", "revise").0, "default:revise");
    o.insert("system".to_string(), "Be {{name}}.".to_string());
    assert_eq!(render(&o, "debate", &req("answer")).system, "Be Ada.");
}

#[test]
fn sections_show_and_hide_by_emptiness() {
    let mut o = BTreeMap::new();
    o.insert("answer".to_string(), "{{#instruction}}I={{instruction}}{{/instruction}}{{^instruction}}none{{/instruction}}|{{#role}}[{{name}}]{{/role}}".to_string());
    let mut r = req("answer");
    assert_eq!(render(&o, "m", &r).user, "none|[Ada]");
    r.instruction = "Go".into();
    r.role.clear();
    assert_eq!(render(&o, "m", &r).user, "I=Go|");
}

#[test]
fn bad_templates_and_keys_are_named() {
    assert!(validate_template("{{question}} {{#peers}}x{{/peers}}").is_ok());
    assert!(validate_template("{{answer_key}}").unwrap_err().contains("unknown variable {{answer_key}}"));
    assert!(validate_template("{{#peers}}x").unwrap_err().contains("never closed"));
    assert!(validate_template("x{{/peers}}").unwrap_err().contains("not open"));
    assert!(validate_template("{{question").unwrap_err().contains("never closed with }}"));
    let mut o = BTreeMap::new();
    o.insert("debate.revise".to_string(), "{{question}}".to_string());
    o.insert("system".to_string(), "S".to_string());
    assert!(validate_overrides(&o).is_ok());
    o.insert("debate.sing".to_string(), "x".to_string());
    assert!(validate_overrides(&o).unwrap_err().contains("key \"debate.sing\""));
    let mut o = BTreeMap::new();
    o.insert("answer".to_string(), "{{nope}}".to_string());
    assert!(validate_overrides(&o).unwrap_err().starts_with("prompts.answer: unknown variable"));
    let big: BTreeMap<String, String> = (0..40).map(|i| (format!("m{i}.answer"), "x".to_string())).collect();
    assert!(validate_overrides(&big).unwrap_err().contains("at most"));
}

#[test]
fn every_default_template_is_valid() {
    for (k, t) in DEFAULTS {
        validate_template(t).unwrap_or_else(|e| panic!("default {k}: {e}"));
    }
}

#[test]
fn scenarios_carry_and_validate_prompt_overrides() {
    let mut v = serde_json::json!({
        "agents": [{"name": "A"}, {"name": "B"}],
        "mechanism": {"kind": "debate", "params": {"rounds": 1}},
        "task": {"kind": "multiple_choice"},
        "prompts": {"debate.revise": "{{question}}\n{{peers}}\n{{reply_format}}"}
    });
    let s = crate::scenario::Scenario::from_value(v.clone()).unwrap();
    assert_eq!(s.prompts.len(), 1);
    assert!(crate::scenario::Scenario::from_json(&s.to_json_pretty()).unwrap().prompts.contains_key("debate.revise"));
    v["prompts"]["answer"] = "{{secret}}".into();
    let e = crate::scenario::Scenario::from_value(v).unwrap_err().0;
    assert!(e.starts_with("prompts.answer: unknown variable {{secret}}"), "{e}");
}

#[test]
fn fortytwo_judges_read_both_answers_with_their_reasons_and_the_options() {
    let mut j = req("judge");
    j.options = vec!["B".into(), "A".into()];
    j.peers = vec![peer(2, "Cy", "B", 0.55, "Looks like 66."), peer(1, "Ben", "A", 0.9, "7 × 8 = 56.")];
    j.instruction = "The options were: A) 56, B) 66, C) 63, D) 48. Two nodes answered differently.".into();
    let p = render(&none(), "fortytwo", &j);
    assert!(p.user.contains("- Cy: B (confidence 55%). Reason: Looks like 66."), "answers as given, not mapped onto the candidates: {}", p.user);
    assert!(p.user.contains("Candidate 1: B\nCandidate 2: A"), "{}", p.user);
    assert!(p.user.contains("A) 56, B) 66"), "{}", p.user);
    assert!(p.user.contains("Answer: <candidate number 1-2>"));
    // A probe is asked like an answer.
    let mut probe = req("probe");
    probe.own = None;
    probe.peers.clear();
    assert_eq!(render(&none(), "fortytwo", &probe).user, {
        let mut a = probe.clone();
        a.purpose = "answer".into();
        render(&none(), "fortytwo", &a).user
    });
}
