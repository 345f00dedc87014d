//! A corpus of replies as small and large models actually write them.

use super::*;

fn opts() -> Vec<String> {
    ["56", "66", "1,260", "48"].iter().map(|s| s.to_string()).collect()
}

fn mc(text: &str) -> Parsed {
    parse_with("option", "answer", &opts(), text)
}

fn num(text: &str) -> Parsed {
    parse_with("number", "answer", &[], text)
}

#[track_caller]
fn mc_is(text: &str, answer: Option<&str>, conf: Option<f64>) {
    let p = mc(text);
    assert_eq!(p.answer.as_deref(), answer, "answer of {text:?}");
    match (p.confidence, conf) {
        (Some(a), Some(b)) => assert!((a - b).abs() < 1e-9, "confidence of {text:?}: {a} vs {b}"),
        (a, b) => assert_eq!(a, b, "confidence of {text:?}"),
    }
}

#[test]
fn option_letters_in_the_shapes_models_use() {
    let cases: &[(&str, &str)] = &[
        ("Answer: B", "B"),
        ("Answer: B\nConfidence: 80%\nBecause 7 × 8 is 56... wait.", "B"),
        ("**B**", "B"),
        ("**Answer:** C", "C"),
        ("The answer is (B).", "B"),
        ("The answer is B.", "B"),
        ("the correct answer is d", "D"),
        ("B) 66 because the carry matters", "B"),
        ("(A) 56", "A"),
        ("A. 56", "A"),
        ("A", "A"),
        ("c", "C"),
        ("Answer: (d)", "D"),
        ("Final Answer: A", "A"),
        ("final answer: **C**", "C"),
        ("### Answer\nAnswer: D", "D"),
        ("I think it's B.", "B"),
        ("Let me think. 7 × 8 = 56. So the answer is A.", "A"),
        ("Option C is right: 1,260.", "C"),
        ("I choose option B", "B"),
        ("I'll go with D.", "D"),
        ("My answer: A", "A"),
        ("Answer - B", "B"),
        ("Answer = C", "C"),
        ("ANSWER: b)", "B"),
        ("Answer: [C]", "C"),
        ("\\boxed{B}", "B"),
        ("So we get $\\boxed{D}$.", "D"),
        ("Answer: 66", "B"),
        ("Answer: 1260", "C"),
        ("The answer is 1,260.", "C"),
        ("7 × 8 = 56, so 56.", "A"),
        ("Answer: B) 66\nConfidence: high", "B"),
        ("<think>Maybe C? No.</think>\nAnswer: A", "A"),
        ("Answer: A\n...Actually, I made a slip.\nAnswer: B", "B"),
        ("At first I thought A. The answer is B.", "B"),
        ("Answer:\n**C**", "C"),
        ("  answer :  d ", "D"),
        ("Answer: \"B\"", "B"),
        ("Answer: `A`", "A"),
        ("The best answer is option (C).", "C"),
        ("I stick with A.", "A"),
        ("{\"answer\": \"B\", \"confidence\": 0.8}", "B"),
        ("```json\n{\"answer\": \"D\", \"confidence\": 90, \"explanation\": \"carry\"}\n```", "D"),
        ("Sure! Here is my reply: {\"Answer\": \"c\"}", "C"),
        ("{\"answer\": 66}", "B"),
    ];
    for (text, want) in cases {
        assert_eq!(mc(text).answer.as_deref(), Some(*want), "reply {text:?}");
    }
}

#[test]
fn unreadable_or_ambiguous_replies_stay_unparsed() {
    for text in [
        "",
        "   ",
        "I am not sure.",
        "It could be A or B.",
        "A bag holds eggs.",
        "Answer: E",
        "Answer: 99",
        "Hello! How can I help you today?",
        "Because",
        "Options A, B, C and D all look plausible.",
        "<think>The answer is B",
    ] {
        let p = mc(text);
        if text.starts_with("<think>") {
            // An unclosed think block is all the model wrote: its answer counts.
            assert_eq!(p.answer.as_deref(), Some("B"));
            continue;
        }
        assert_eq!(p.answer, None, "reply {text:?} should not parse, got {:?}", p.answer);
    }
}

#[test]
fn confidence_in_every_common_form() {
    mc_is("Answer: B\nConfidence: 80%", Some("B"), Some(0.8));
    mc_is("Answer: B\nConfidence: 0.8", Some("B"), Some(0.8));
    mc_is("Answer: B\nConfidence: 80", Some("B"), Some(0.8));
    mc_is("Answer: B (confidence 0.65)", Some("B"), Some(0.65));
    mc_is("Answer: B\nConfidence level: high", Some("B"), Some(0.85));
    mc_is("Answer: B\nConfidence: Very High", Some("B"), Some(0.95));
    mc_is("Answer: B\nConfidence: medium", Some("B"), Some(0.6));
    mc_is("Answer: B\nconfidence: low", Some("B"), Some(0.3));
    mc_is("Answer: B\nConfidence: 8/10", Some("B"), Some(0.8));
    mc_is("Answer: B\nConfidence: 4 out of 5", Some("B"), Some(0.8));
    mc_is("I'm 90% sure the answer is C.", Some("C"), Some(0.9));
    mc_is("I am 75% confident: A", Some("A"), Some(0.75));
    mc_is("B\n0.8", Some("B"), Some(0.8));
    mc_is("B\n70%", Some("B"), Some(0.7));
    mc_is("B\nhigh", Some("B"), Some(0.85));
    mc_is("**Answer:** D\n**Confidence:** 95%", Some("D"), Some(0.95));
    mc_is("Answer: A", Some("A"), None);
    mc_is("{\"answer\":\"A\",\"confidence\":\"high\"}", Some("A"), Some(0.85));
    mc_is("{\"answer\":\"A\",\"confidence\":\"70%\"}", Some("A"), Some(0.7));
    mc_is("{\"answer\":\"A\",\"confidence\":85}", Some("A"), Some(0.85));
    // Out of range: no confidence rather than a wrong one.
    mc_is("Answer: A\nConfidence: 250%", Some("A"), None);
    // The confidence's number is never taken for the answer.
    mc_is("Confidence: 56%\nAnswer: B", Some("B"), Some(0.56));
    mc_is("Certainty: 0.9. The answer is A.", Some("A"), Some(0.9));
}

#[test]
fn numbers_with_commas_units_and_reasoning() {
    let cases: &[(&str, &str)] = &[
        ("Answer: 42", "42"),
        ("42", "42"),
        ("Answer: 1,234", "1234"),
        ("Answer: $1,234.50", "1234.5"),
        ("Answer: 12 apples", "12"),
        ("Answer: -5", "-5"),
        ("Answer - 17", "17"),
        ("The answer is 3.5 km.", "3.5"),
        ("She has 20 + 3×4 = 32 apples, then gives 5 away, leaving 27 apples.", "27"),
        ("**27**", "27"),
        ("So Tom has \\boxed{108} marbles.", "108"),
        ("Answer: 42.0", "42"),
        ("Answer: 7\nConfidence: 90%", "7"),
        ("Confidence: 90%\nAnswer: 7", "7"),
        ("{\"answer\": 1234, \"confidence\": 0.7}", "1234"),
        ("{\"answer\": \"1,234\"}", "1234"),
        ("Each friend gets 4 apples.\nConfidence: 80%", "4"),
        ("The result is 1,000,000.", "1000000"),
        ("Final answer: 64\n\nI multiplied 8 by 8.", "64"),
    ];
    for (text, want) in cases {
        assert_eq!(num(text).answer.as_deref(), Some(*want), "reply {text:?}");
    }
    assert_eq!(num("I don't know.").answer, None);
    assert_eq!(num("").answer, None);
    // A model name with digits is not a number answer.
    assert_eq!(num("As Q4 model I cannot say.").answer, None);
    assert_eq!(num("Answer: 7\nConfidence: 90%").confidence, Some(0.9));
}

#[test]
fn choices_by_text_such_as_moves() {
    let moves: Vec<String> = ["up", "down", "left", "right", "stay"].iter().map(|s| s.to_string()).collect();
    let p = |t: &str| parse_with("text", "answer", &moves, t).answer;
    assert_eq!(p("Answer: left").as_deref(), Some("left"));
    assert_eq!(p("Move: Right.").as_deref(), Some("right"));
    assert_eq!(p("The robot should move **down**.").as_deref(), Some("down"));
    assert_eq!(p("Answer: Up").as_deref(), Some("up"));
    assert_eq!(p("It should stay where it is.").as_deref(), Some("stay"));
    assert_eq!(p("up or down, hard to say").as_deref(), None);
}

#[test]
fn free_text_answers_and_plans() {
    let p = parse_with("text", "answer", &[], "Answer: Paris.\nIt is the capital.");
    assert_eq!(p.answer.as_deref(), Some("Paris"));
    let plan = parse_with("text", "plan", &[], "Plan: workers 1 and 2 solve parts, 3 checks.\n");
    assert_eq!(plan.answer.as_deref(), Some("workers 1 and 2 solve parts, 3 checks"));
    let plan = parse_with("text", "plan", &[], "Use a star with Ann at the centre.");
    assert_eq!(plan.answer.as_deref(), Some("Use a star with Ann at the centre."));
    assert_eq!(parse_with("text", "plan", &[], "  ").answer, None);
}

#[test]
fn judges_pick_candidates_by_value_or_position() {
    let cands: Vec<String> = ["42", "17", "56"].iter().map(|s| s.to_string()).collect();
    let j = |t: &str| parse_with("number", "judge", &cands, t).answer;
    assert_eq!(j("Answer: Candidate 2").as_deref(), Some("17"));
    assert_eq!(j("The best candidate is #3.").as_deref(), Some("56"));
    assert_eq!(j("Answer: 42").as_deref(), Some("42"));
    assert_eq!(j("Answer: 2").as_deref(), Some("17"));
    assert_eq!(j("{\"answer\": \"56\"}").as_deref(), Some("56"));
    assert_eq!(j("Answer: 99").as_deref(), None);
    let letters: Vec<String> = ["B", "D"].iter().map(|s| s.to_string()).collect();
    let jl = |t: &str| parse_with("option", "judge", &letters, t).answer;
    assert_eq!(jl("Answer: D").as_deref(), Some("D"));
    assert_eq!(jl("Answer: Candidate 1 (B)").as_deref(), Some("B"));
    assert_eq!(jl("Answer: C").as_deref(), None);
}

#[test]
fn checks_read_negations_first() {
    let c = |t: &str| parse_with("option", "check", &opts(), t).answer;
    assert_eq!(c("Verdict: wrong").as_deref(), Some("wrong"));
    assert_eq!(c("Verdict: OK").as_deref(), Some("ok"));
    assert_eq!(c("This is not correct, the carry was dropped.").as_deref(), Some("wrong"));
    assert_eq!(c("Correct. 7 × 8 = 56.").as_deref(), Some("ok"));
    assert_eq!(c("The answer is incorrect.").as_deref(), Some("wrong"));
    assert_eq!(c("Yes, it checks out.").as_deref(), Some("ok"));
    assert_eq!(c("No, B is 66, not 56.").as_deref(), Some("wrong"));
    assert_eq!(c("{\"verdict\": \"ok\", \"confidence\": 0.7}").as_deref(), Some("ok"));
    assert_eq!(c("Hmm.").as_deref(), None);
}

#[test]
fn bids_need_a_number_or_level() {
    let b = |t: &str| parse_with("option", "bid", &opts(), t);
    let p = b("Bid: 0.7 (math is my area)");
    assert_eq!(p.answer.as_deref(), Some("bid"));
    assert_eq!(p.confidence, Some(0.7));
    assert_eq!(b("Confidence: 70%").confidence, Some(0.7));
    assert_eq!(b("Confidence: 70%").answer.as_deref(), Some("bid"));
    assert_eq!(b("I would like to help.").answer, None);
}

#[test]
fn explanations_drop_answer_and_confidence_lines() {
    assert_eq!(explanation("Answer: B\nConfidence: 80%\n66 is 6 × 11."), "66 is 6 × 11.");
    assert_eq!(explanation("B, confidence 0.80: I worked it out."), "I worked it out.");
    assert_eq!(explanation("**Answer:** B\n**Explanation:** carry."), "carry.");
    let long = "x".repeat(1000);
    assert!(explanation(&long).chars().count() <= MAX_EXPLANATION + 1);
    assert_eq!(mc("{\"answer\":\"B\",\"reason\":\"carry\"}").explanation, "carry");
}

#[test]
fn reply_keeps_raw_text_and_parses_from_request_fields() {
    let req = AskRequest {
        id: 0,
        agent: 1,
        agent_name: "Ben".into(),
        role: String::new(),
        backend: crate::backend::Backend::Remote("test".into()),
        purpose: "answer".into(),
        round: 0,
        question: "What is 7 × 8?".into(),
        options: opts(),
        format: "option".into(),
        instruction: String::new(),
        own: None,
        peers: vec![],
        domain: "math".into(),
        item: 0,
        draft: None,
        partner: None,
    };
    let r = reply(&req, "Answer: a\nConfidence: 60%", 12);
    assert_eq!(r.answer.as_deref(), Some("A"));
    assert_eq!(r.confidence, Some(0.6));
    assert_eq!(r.tokens, 12);
    assert_eq!(r.text, "Answer: a\nConfidence: 60%");
    let bad = reply(&req, "I like turtles", 3);
    assert_eq!(bad.answer, None);
    assert_eq!(bad.text, "I like turtles");
}

#[test]
fn hostile_input_never_panics() {
    let nasty = [
        "{{{{{{", "}}}}", "{\"answer\":", "\u{0}\u{1}", "Answer:", "Answer: ", "ü", "Answer: ü", "**", "****", "\\boxed{", "9".repeat(400).as_str().to_string().leak(),
        "1,2,3,4,5", ",,,", "Confidence: %", "Confidence: 1/0", "—", "Answer: —B", "🙂 B 🙂", "Answer:\n", "<think>", "</think>B",
    ];
    for t in nasty {
        for (f, p) in [("option", "answer"), ("number", "answer"), ("text", "answer"), ("option", "judge"), ("option", "check"), ("option", "bid"), ("text", "plan")] {
            let _ = parse_with(f, p, &opts(), t);
            let _ = parse_with(f, p, &[], t);
        }
        let _ = explanation(t);
    }
}

#[test]
fn unparsed_replies_are_counted_by_metrics() {
    use crate::event::{EventKind, EventLog};
    let mut log = EventLog::new();
    for (agent, answer) in [(0, Some("A")), (1, None), (2, None)] {
        log.push(0, EventKind::Ask { agent, purpose: "answer".into(), prompt: String::new() });
        log.push(0, EventKind::Answer {
            agent,
            answer: answer.map(str::to_string),
            confidence: None,
            raw: "whatever".into(),
            tokens: 5,
            correct: None,
            purpose: "answer".into(),
        });
    }
    assert_eq!(crate::metrics::compute(&log).get("unparsed"), Some(2.0));
}
