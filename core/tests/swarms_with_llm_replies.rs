//! The swarm mechanisms driven the way an LLM backend drives them: every ask rendered to a
//! prompt, every reply written as text and parsed, no simulated argument attached. Each
//! run must finish with a decision, read every reply, and show the agents what the
//! mechanism means them to see.

use council_core::{AgentReply, AskRequest, Run, builtin, parse, prompt};

/// A model that follows the reply format: judges pick the first candidate, checks say ok,
/// agent k answers option k mod 4 (or 7 for a number).
fn reply(req: &AskRequest) -> AgentReply {
    let text = match req.purpose.as_str() {
        "judge" => "Answer: Candidate 1\nConfidence: 70%\nReason: its steps hold.".to_string(),
        "check" => "Verdict: ok\nConfidence: 70%\nReason: fine.".to_string(),
        _ if req.format == "option" => format!("Answer: {}\nConfidence: 60%\nReason: it fits.", ["A", "B", "C", "D"][req.agent as usize % 4]),
        _ => "Answer: 7\nConfidence: 60%\nReason: it fits.".to_string(),
    };
    parse::reply(req, &text, 20)
}

#[test]
fn every_swarm_builtin_runs_on_text_replies() {
    let open = serde_json::json!({"gate": false});
    let cases = [("fortytwo", None), ("fortytwo", Some(open)), ("fortytwo-sybil", None), ("selforg", None), ("dylan", None), ("agentnet", None)];
    for (id, params) in cases {
        let mut s = builtin(id).unwrap();
        if let Some(p) = &params {
            s.mechanism.params = p.clone();
        }
        let mut run = Run::new(&s).unwrap();
        let mut judged = false;
        while !run.is_done() {
            let asks = run.pending_asks().to_vec();
            for a in &asks {
                let p = prompt::render(&s.prompts, &s.mechanism.kind, a);
                assert!(p.user.contains(a.question.trim()), "{id}: the prompt carries the question");
                if a.purpose == "judge" {
                    judged = true;
                    assert_eq!(a.options.len(), 2, "{id}: a judge compares two answers");
                    assert!(p.user.contains("Their answers:") && p.user.contains("The options were:"), "{id}: {}", p.user);
                }
                if a.purpose == "revise" {
                    assert!(!a.peers.is_empty() || id == "selforg", "{id}: revising agents see their sources");
                }
            }
            run.answer(asks.iter().map(reply).collect()).unwrap();
        }
        let r = run.result();
        assert!(r.summary.error.is_none(), "{id}: {:?}", r.summary.error);
        assert!(r.summary.final_answer.is_some(), "{id}: no decision");
        assert_eq!(r.metrics.get("unparsed"), Some(0.0), "{id}: every reply reads");
        if params.is_some() {
            assert!(judged, "{id}: seven different-minded nodes get judged");
        }
        if !id.starts_with("fortytwo") {
            assert!(!judged, "{id}: only the swarm judges");
        }
    }
}
