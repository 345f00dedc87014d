//! Token-level collaboration and escalation: speculative drafting, token-level fusion, a
//! local model that escalates to a remote one.

use crate::common::*;
use council_core::Metrics;

fn answers(s: &council_core::Scenario) -> Vec<String> {
    (0..SEEDS)
        .map(|i| {
            let seed = council_core::sweep::seed_for(s, i);
            council_core::run_simulated_seed(s, seed).unwrap().summary.final_answer.unwrap_or_default()
        })
        .collect()
}

fn spec(extra: &[&str]) -> council_core::Scenario {
    scenario("speculative", extra)
}

#[test]
fn explore_speculative() {
    let drafters: [(&str, &[&str]); 4] = [
        ("sibling 0.6", &[]),
        ("sibling 0.4", &["agents.1.traits.accuracy=0.4"]),
        ("other model 0.6", &["agents.1.model=other"]),
        ("other model 0.3", &["agents.1.model=other", "agents.1.traits.accuracy=0.3"]),
    ];
    let alone = answers(&spec(&["mechanism.params.draft_len=0"]));
    for (name, sets) in drafters {
        for k in [1, 2, 3, 4, 8] {
            let mut s: Vec<String> = sets.iter().map(|x| x.to_string()).collect();
            s.push(format!("mechanism.params.draft_len={k}"));
            let sc = spec(&s.iter().map(String::as_str).collect::<Vec<_>>());
            let r: Vec<Metrics> = runs(&sc);
            let same = answers(&sc).iter().zip(&alone).filter(|(a, b)| a == b).count();
            println!(
                "{name} k={k}: acceptance {} speedup {} tokens {:.2} same {same}/{}",
                show(stat(&metric_where_defined(&r, "acceptance_rate")), false),
                show(stat(&metric(&r, "modelled_speedup")), false),
                mean(&metric(&r, "reply_tokens")),
                alone.len()
            );
        }
    }
}

#[test]
fn explore_fusion() {
    let arm = |sets: &[&str]| metric(&runs(&scenario("fusion", sets)), "accuracy");
    for (name, base) in [("experts", vec![]), ("copies", vec!["agents.1.model=math-expert", "agents.1.traits={\"accuracy\":0.45,\"expertise\":{\"math\":0.85,\"units\":0.75}}"])] {
        let with = |x: &[&'static str]| -> Vec<&'static str> { base.iter().copied().chain(x.iter().copied()).collect() };
        let first = arm(&with(&["mechanism.params.router=first", "mechanism.params.complement=0"]));
        let second = arm(&with(&["mechanism.params.router=second", "mechanism.params.complement=0"]));
        let token0 = arm(&with(&["mechanism.params.complement=0"]));
        let token = arm(&with(&[]));
        let seq = arm(&with(&["mechanism.params.router=sequence"]));
        let seq0 = arm(&with(&["mechanism.params.router=sequence", "mechanism.params.complement=0"]));
        let token1 = arm(&with(&["mechanism.params.complement=1"]));
        println!("{name}: first {:.3} second {:.3} token0 {:.3} token.5 {:.3} token1 {:.3} seq {:.3} seq0 {:.3}", mean(&first), mean(&second), mean(&token0), mean(&token), mean(&token1), mean(&seq), mean(&seq0));
        println!("  token − best {} token − seq {} complement {}", show(paired(&token, if mean(&first) > mean(&second) { &first } else { &second }), true), show(paired(&token, &seq), true), show(paired(&token, &token0), true));
    }
}

#[test]
fn explore_escalate() {
    for cal in ["informative", "random", "overconfident"] {
        for t in ["0", "0.3", "0.5", "0.6", "0.7", "0.8", "0.9", "1"] {
            let r = runs(&scenario("escalate", &[&format!("mechanism.params.threshold={t}"), &format!("agents.0.traits.calibration={cal}")]));
            let rate = mean(&metric(&r, "remote_calls"));
            let acc = metric(&r, "accuracy");
            let rnd = metric(&runs(&scenario("escalate", &["mechanism.params.policy=random", &format!("mechanism.params.rate={rate:.3}"), &format!("agents.0.traits.calibration={cal}")])), "accuracy");
            println!("{cal} t={t}: remote {rate:.3} acc {:.3} random-at-rate {:.3} diff {}", mean(&acc), mean(&rnd), show(paired(&acc, &rnd), true));
        }
    }
}
