//! Swarms and self-organising teams: Fortytwo's peer-ranked swarm, SelfOrg's
//! contribution-ranked graph, DyLAN's pruned and early-stopped layers, AgentNet's
//! decentralized routing.

use council_core::Metrics;

use crate::common::*;

fn acc(r: &[Metrics]) -> Vec<f64> {
    metric(r, "accuracy")
}

fn calls(r: &[Metrics]) -> f64 {
    mean(&metric(r, "calls"))
}

/// *Fortytwo* (2025): peer ranking beats a majority vote of the same nodes because a right
/// answer held by a minority can be recognised by its reasoning; the edge grows with how
/// well nodes check arguments and goes when they cannot (judge_accuracy 0.2, below their
/// answering skill). The majority arm spends the judging calls on more answers instead.
#[test]
fn fortytwo_ranking_beats_majority_when_judging_beats_answering() {
    let ranking = |judge: &str| runs(&scenario("fortytwo", &["mechanism.params.aggregate=ranking", &format!("agents.*.traits.judge_accuracy={judge}")]));
    let majority = runs(&scenario("fortytwo", &["mechanism.params.aggregate=majority"]));
    let maj = acc(&majority);
    let mut gains = Vec::new();
    for judge in ["0.2", "0.5", "0.9"] {
        let r = ranking(judge);
        let g = paired(&acc(&r), &maj);
        println!(
            "judge_accuracy {judge}: ranking {:.3} ({:.1} calls) vs majority {:.3} ({:.1} calls): {}; measured judging {:.3} vs answering {:.3}",
            mean(&acc(&r)),
            calls(&r),
            mean(&maj),
            calls(&majority),
            show(g, true),
            mean(&metric_where_defined(&r, "judging_accuracy")),
            mean(&metric(&r, "answering_accuracy"))
        );
        gains.push((judge, r, g));
    }
    let (_, strong, gain) = &gains[2];
    let (_, weak, null) = &gains[0];
    assert!(gain.lo > 0.05, "ranking should beat the majority when judging is strong: {gain:?}");
    assert!(calls(strong) <= calls(&majority), "at no more calls than the majority");
    let grows = paired(&acc(strong), &acc(weak));
    assert!(grows.lo > 0.0, "the edge grows with checking skill: {grows:?}");
    assert!(null.mean < 0.04 && null.lo < 0.0, "judges who cannot check add nothing to a vote: {null:?}");
    report(Row {
        id: "fortytwo-ranking",
        mechanism: "fortytwo",
        what: "accuracy, peer ranking − majority vote of the same 7 nodes (judge_accuracy 0.9, answering skill 0.65, hard items; the majority spends the judging calls on more answers: no more calls)",
        paper: "85.90% vs 68.69% on GPQA Diamond (+17.2 points)",
        council: format!("{} ({:.3} vs {:.3}; judging {:.2} vs answering {:.2} right)", show(*gain, true), mean(&acc(strong)), mean(&maj), mean(&metric_where_defined(strong, "judging_accuracy")), mean(&metric(strong, "answering_accuracy"))),
        seeds: SEEDS,
        reproduce: "council sweep builtin:fortytwo --seeds 400 --set mechanism.params.aggregate=ranking,majority --set agents.*.traits.judge_accuracy=0.2,0.5,0.9",
    });
    report(Row {
        id: "fortytwo-null",
        mechanism: "fortytwo",
        what: "same with judge_accuracy 0.2 (judges who can hardly check an argument; 0.5 in between)",
        paper: "— (null)",
        council: format!("{} (0.5: {})", show(*null, true), show(gains[1].2, true)),
        seeds: SEEDS,
        reproduce: "same command",
    });
}

/// *Fortytwo*'s Sybil defence: three colluding identities of ten push one wrong answer
/// and vote for it in every comparison. A graded calibration test shuts them out and the
/// swarm keeps its edge over the honest nodes' own vote; without the test they enter with
/// the same standing as everyone (no identity has a record yet) and the edge is gone.
/// Without Sybils the test changes little (the null).
#[test]
fn fortytwo_calibration_gate_keeps_the_edge_under_a_sybil_attack() {
    // The honest seven's own vote, at the query's calls (4 answers each = 7 answers + 21
    // judgments).
    let honest = acc(&runs(&scenario("fortytwo", &["mechanism.params.aggregate=majority", "mechanism.params.gate=false"])));
    let sybil = |aggregate: &str, gate: bool| runs(&scenario("fortytwo-sybil", &[&format!("mechanism.params.aggregate={aggregate}"), &format!("mechanism.params.gate={gate}")]));
    let (gated, open) = (sybil("ranking", true), sybil("ranking", false));
    assert_eq!(mean(&metric(&gated, "adversaries_admitted")), 0.0, "no Sybil passes the calibration test");
    let kept = paired(&acc(&gated), &honest);
    let lost = paired(&acc(&open), &honest);
    let poisoned_vote = acc(&sybil("majority", false));
    let vs_poisoned = paired(&acc(&open), &poisoned_vote);
    println!(
        "honest vote {:.3}; with 3 Sybils: gated ranking {:.3} ({:.0} calls), open ranking {:.3}, open vote {:.3}; kept {} lost {} ranking vs open vote {}",
        mean(&honest),
        mean(&acc(&gated)),
        calls(&gated),
        mean(&acc(&open)),
        mean(&poisoned_vote),
        show(kept, true),
        show(lost, true),
        show(vs_poisoned, true)
    );
    assert!(kept.lo > 0.0, "with the gate the swarm keeps its edge: {kept:?}");
    assert!(lost.hi < 0.0, "without it the edge is lost: {lost:?}");
    let clean = |gate: bool| acc(&runs(&scenario("fortytwo", &[&format!("mechanism.params.gate={gate}")])));
    let null = paired(&clean(true), &clean(false));
    println!("no Sybils: gated − open ranking {}", show(null, true));
    assert!(null.mean.abs() < 0.03, "without Sybils the gate matters little: {null:?}");
    report(Row {
        id: "fortytwo-sybil",
        mechanism: "fortytwo",
        what: "accuracy with 3 colluding Sybils of 10, peer ranking − the 7 honest nodes' own vote (same query calls; the test adds 4 probes per node): with the calibration gate; without",
        paper: "Sybil resistance through proof of capability (qualitative)",
        council: format!("gate {}; no gate {}", show(kept, true), show(lost, true)),
        seeds: SEEDS,
        reproduce: "council sweep builtin:fortytwo-sybil --seeds 400 --set mechanism.params.gate=true,false (vs builtin:fortytwo with --set mechanism.params.aggregate=majority --set mechanism.params.gate=false)",
    });
    report(Row {
        id: "fortytwo-sybil-vote",
        mechanism: "fortytwo",
        what: "same attack without the gate, peer ranking − a majority vote that lets the Sybils vote too",
        paper: "robust to injected bad nodes",
        council: show(vs_poisoned, true),
        seeds: SEEDS,
        reproduce: "council sweep builtin:fortytwo-sybil --seeds 400 --set mechanism.params.gate=false --set mechanism.params.aggregate=ranking,majority",
    });
    report(Row {
        id: "fortytwo-sybil-null",
        mechanism: "fortytwo",
        what: "no Sybils: peer ranking with − without the gate",
        paper: "— (null)",
        council: show(null, true),
        seeds: SEEDS,
        reproduce: "council sweep builtin:fortytwo --seeds 400 --set mechanism.params.gate=true,false",
    });
}

/// *Stochastic Self-Organization* (SelfOrg, 2025): routing responses from the agents the
/// Shapley estimate ranks highest makes right answers carry more of the flow than the same
/// graph over a random order (the null). Its accuracy edge over a fixed topology, largest
/// with weak agents in the paper, does not appear here: see docs/findings.md.
#[test]
fn selforg_routes_right_answers_but_does_not_beat_a_ring() {
    let arm = |graph: &str, skill: &str| runs(&scenario("selforg", &[&format!("mechanism.params.graph={graph}"), &format!("agents.*.traits.accuracy={skill}")]));
    let mut flows = Vec::new();
    let mut gains = Vec::new();
    for skill in ["0.3", "0.45", "0.6", "0.75", "0.9"] {
        let (s, r, f) = (arm("selforg", skill), arm("random", skill), arm("fixed", skill));
        let flow = paired(&metric(&s, "flow_correct"), &metric(&r, "flow_correct"));
        let gain = paired(&acc(&s), &acc(&f));
        let null = paired(&acc(&r), &acc(&f));
        println!(
            "skill {skill}: selforg {:.3} random {:.3} ring {:.3} ({:.0} calls each); selforg − ring {}; random − ring {}; right share of the flow, selforg − random {}",
            mean(&acc(&s)),
            mean(&acc(&r)),
            mean(&acc(&f)),
            calls(&s),
            show(gain, true),
            show(null, true),
            show(flow, true)
        );
        assert_eq!(calls(&s), calls(&f), "equal calls");
        flows.push((skill, flow));
        gains.push((skill, gain));
    }
    for (skill, flow) in &flows {
        assert!(flow.lo > 0.0, "skill {skill}: right answers should carry more of the flow under SelfOrg's order: {flow:?}");
    }
    report(Row {
        id: "selforg-flow",
        mechanism: "selforg",
        what: "share of the DAG's edges whose source holds a right answer, contribution order − random order of the same DAG shape (7 agents, skill 0.3 / 0.45 / 0.6 / 0.75 / 0.9)",
        paper: "right responses come to dominate the information flow (a theorem)",
        council: flows.iter().map(|(k, f)| format!("{k}: {}", show(*f, true))).collect::<Vec<_>>().join(", "),
        seeds: SEEDS,
        reproduce: "council sweep builtin:selforg --seeds 400 --set mechanism.params.graph=selforg,random --set agents.*.traits.accuracy=0.3,0.45,0.6,0.75,0.9 (metric flow_correct)",
    });
    report(Row {
        id: "selforg-weak",
        mechanism: "selforg",
        what: "accuracy, SelfOrg − a debate over a fixed ring (equal calls), by agent skill 0.3 / 0.45 / 0.6 / 0.75 / 0.9",
        paper: "largest gains with weak models, where fixed topologies collapse (no figure in the abstract)",
        council: gains.iter().map(|(k, g)| format!("{k}: {}", show(*g, true))).collect::<Vec<_>>().join(", "),
        seeds: SEEDS,
        reproduce: "council sweep builtin:selforg --seeds 400 --set mechanism.params.graph=selforg,fixed --set agents.*.traits.accuracy=0.3,0.45,0.6,0.75,0.9",
    });
}

/// *DyLAN* (2023): stopping once two thirds of a layer agree gives the accuracy of the full
/// layered debate at far fewer calls; the null, stopping on any plurality (half agree),
/// saves more calls and loses accuracy. Its agent selection, read from who took up whose
/// answer, costs accuracy here and is not clearly better than dropping agents at random.
#[test]
fn dylan_early_stopping_keeps_accuracy_at_fewer_calls() {
    let arm = |sets: &[&str]| runs(&scenario("dylan", sets));
    let full = arm(&["mechanism.params.keep=0", "mechanism.params.stop_at=0"]);
    let early = arm(&["mechanism.params.keep=0", "mechanism.params.stop_at=0.67"]);
    let hasty = arm(&["mechanism.params.keep=0", "mechanism.params.stop_at=0.5"]);
    let same = paired(&acc(&early), &acc(&full));
    let saved = 1.0 - calls(&early) / calls(&full);
    let null = paired(&acc(&hasty), &acc(&full));
    println!(
        "full {:.3} ({:.1} calls); stop at 2/3 {:.3} ({:.1} calls, {:.0}% fewer): {}; stop at 1/2 {:.3} ({:.1} calls): {}",
        mean(&acc(&full)),
        calls(&full),
        mean(&acc(&early)),
        calls(&early),
        100.0 * saved,
        show(same, true),
        mean(&acc(&hasty)),
        calls(&hasty),
        show(null, true)
    );
    assert!(same.lo > -0.03 && same.hi < 0.03, "early stopping keeps the accuracy: {same:?}");
    assert!(saved > 0.25, "at far fewer calls: {saved}");
    assert!(null.hi < -0.05, "stopping on weak agreement loses accuracy: {null:?}");
    let select = |how: &str| arm(&["mechanism.params.keep=3", &format!("mechanism.params.select={how}"), "mechanism.params.stop_at=0.67"]);
    let (by_importance, at_random) = (select("importance"), select("random"));
    let cost = paired(&acc(&by_importance), &acc(&early));
    let vs_random = paired(&acc(&by_importance), &acc(&at_random));
    println!(
        "selection of 3: by endorsement {:.3} ({:.1} calls), at random {:.3}; − no selection {}; − random {}",
        mean(&acc(&by_importance)),
        calls(&by_importance),
        mean(&acc(&at_random)),
        show(cost, true),
        show(vs_random, true)
    );
    report(Row {
        id: "dylan-early-stop",
        mechanism: "dylan",
        what: "accuracy, stop when 2/3 of a layer agree − full 4-layer debate of 6 agents; calls saved",
        paper: "early stopping improves efficiency at no loss (no figure in the abstract)",
        council: format!("{} at {:.0}% fewer calls ({:.1} vs {:.0})", show(same, true), 100.0 * saved, calls(&early), calls(&full)),
        seeds: SEEDS,
        reproduce: "council sweep builtin:dylan --seeds 400 --set mechanism.params.keep=0 --set mechanism.params.stop_at=0,0.67,0.5",
    });
    report(Row {
        id: "dylan-early-stop-null",
        mechanism: "dylan",
        what: "same, stopping when half agree (any plurality)",
        paper: "— (null)",
        council: format!("{} at {:.1} calls", show(null, true), calls(&hasty)),
        seeds: SEEDS,
        reproduce: "same command",
    });
    report(Row {
        id: "dylan-selection",
        mechanism: "dylan",
        what: "accuracy, keep the 3 most endorsed agents after layer 1 − no selection (both stop at 2/3); and − 3 kept at random",
        paper: "agent selection and team optimization help (up to +25.0% on some MMLU subjects)",
        council: format!("{}; vs random {}", show(cost, true), show(vs_random, true)),
        seeds: SEEDS,
        reproduce: "council sweep builtin:dylan --seeds 400 --set mechanism.params.keep=0,3 --set mechanism.params.select=importance,random",
    });
}

/// *AgentNet* (2025): with specialists in the team, knocking out the orchestrator of a
/// centralized team leaves tasks with whoever receives them, while the decentralized net
/// routes around a failed agent. Without specialists routing has nothing to find and
/// neither failure costs anything (the null).
#[test]
fn agentnet_survives_a_node_failure_that_an_orchestrator_does_not() {
    let after = |mode: &str, fail: &str, extra: &[&str]| {
        let mut sets = vec![format!("mechanism.params.mode={mode}"), format!("mechanism.params.fail={fail}")];
        sets.extend(extra.iter().map(|s| s.to_string()));
        metric(&runs(&scenario("agentnet", &sets.iter().map(String::as_str).collect::<Vec<_>>())), "accuracy_after_failure")
    };
    let drops = |extra: &[&str]| {
        let (c0, d0) = (after("centralized", "none", extra), after("decentralized", "none", extra));
        let central = paired(&c0, &after("centralized", "hub", extra));
        let node = paired(&d0, &after("decentralized", "node", extra));
        let hub = paired(&d0, &after("decentralized", "hub", extra));
        println!("{extra:?}: before any failure centralized {:.3} decentralized {:.3}; drop: orchestrator {} , a node {}, the busiest node {}", mean(&c0), mean(&d0), show(central, true), show(node, true), show(hub, true));
        (central, node, hub, c0, d0)
    };
    let (central, node, hub, c0, d0) = drops(&[]);
    assert!(central.lo > 0.1, "losing the orchestrator hurts: {central:?}");
    assert!(central.lo > node.hi && central.lo > hub.hi, "more than losing any one node of the net: {central:?} vs {node:?}, {hub:?}");
    let flat = r#"agents.*.traits={"accuracy":0.6}"#;
    let (nc, nn, _, _, _) = drops(&[flat]);
    assert!(nc.mean.abs() < 0.03 && nn.mean.abs() < 0.03, "without specialists there is nothing to route to: {nc:?} {nn:?}");
    report(Row {
        id: "agentnet-failure",
        mechanism: "agentnet",
        what: "accuracy on the stream's second half when an agent fails at its midpoint, drop against no failure: centralized team losing its orchestrator; decentralized net losing a random agent; losing its busiest agent (4 specialists + 2 generalists, 40 tasks, one call each)",
        paper: "no single point of failure (qualitative)",
        council: format!("orchestrator {}; node {}; busiest node {}", show(central, true), show(node, true), show(hub, true)),
        seeds: SEEDS,
        reproduce: "council sweep builtin:agentnet --seeds 400 --set mechanism.params.mode=centralized,decentralized --set mechanism.params.fail=none,node,hub (metric accuracy_after_failure)",
    });
    report(Row {
        id: "agentnet-failure-null",
        mechanism: "agentnet",
        what: "same drops with no specialists (every agent 0.6 in every domain): orchestrator; node",
        paper: "— (null)",
        council: format!("{}; {}", show(nc, true), show(nn, true)),
        seeds: SEEDS,
        reproduce: r#"same command with --set 'agents.*.traits={"accuracy":0.6}'"#,
    });
    report(Row {
        id: "agentnet-accuracy",
        mechanism: "agentnet",
        what: "accuracy on the second half without failures, decentralized net − centralized team",
        paper: "higher accuracy than centralized baselines (no figure in the abstract)",
        council: show(paired(&d0, &c0), true),
        seeds: SEEDS,
        reproduce: "council sweep builtin:agentnet --seeds 400 --set mechanism.params.mode=centralized,decentralized",
    });
}
