//! Deliberation: self-consistency, debate, the ReConcile round table, MachineSoM
//! societies.

use crate::common::*;

/// Self-consistency (Wang et al., 2022): voting over k samples of one agent gains where
/// its belief leans right and saturates at what the whole model gets wrong; where the
/// belief leans wrong, more samples do not help.
#[test]
fn self_consistency_gains_where_the_belief_leans_right_and_saturates() {
    let acc = |d: &str, k: u32| {
        metric(&runs(&scenario("self-consistency", &[&format!("task.params.difficulty_range={d}"), &format!("mechanism.params.k={k}")])), "accuracy")
    };
    let medium = "[0.3,0.5]";
    let (k1, k15, k45) = (acc(medium, 1), acc(medium, 15), acc(medium, 45));
    let gain = paired(&k15, &k1);
    let more = paired(&k45, &k15);
    println!("self-consistency, medium items: k=1 {}  k=15 {}  k=45 {}", show(stat(&k1), false), show(stat(&k15), false), show(stat(&k45), false));
    assert!(gain.lo > 0.03, "15 samples should beat one: {gain:?}");
    assert!(more.mean.abs() < 0.02, "it saturates: {more:?}");
    assert!(stat(&k45).hi < 0.95, "shared mistakes cap it well below 1");
    let hard = "[0.85,1.0]";
    let null = paired(&acc(hard, 15), &acc(hard, 1));
    println!("self-consistency, very hard items (belief leans wrong): k=15 − k=1 {}", show(null, true));
    assert!(null.mean < gain.mean - 0.03 && null.mean < 0.02, "no gain where the belief leans wrong: {null:?}");
    report(Row {
        id: "sc-gain",
        mechanism: "self_consistency",
        what: "accuracy, 15 samples − 1 sample (medium items, skill 0.6)",
        paper: "+17.9 points on GSM8K (PaLM 540B, 40 samples)",
        council: show(gain, true),
        seeds: SEEDS,
        reproduce: "council sweep builtin:self-consistency --seeds 400 --set task.params.difficulty_range=[0.3,0.5] --set mechanism.params.k=1,15,45",
    });
    report(Row {
        id: "sc-null",
        mechanism: "self_consistency",
        what: "same gain on very hard items, where the belief leans wrong",
        paper: "— (no gain expected)",
        council: show(null, true),
        seeds: SEEDS,
        reproduce: "council sweep builtin:self-consistency --seeds 400 --set task.params.difficulty_range=[0.85,1.0] --set mechanism.params.k=1,15",
    });
}

/// *Revisiting Multi-Agent Debate as Test-Time Scaling* (2025): at equal calls, debate's
/// edge over self-consistency is small on easy items and grows with difficulty and with
/// weaker agents; agent diversity adds little. The edge comes from agents checking each
/// other's reasoning: with answers only, five copies of one model debating are just more
/// votes, and debate ≈ self-consistency.
#[test]
fn debate_gains_over_self_consistency_with_difficulty_and_only_through_arguments() {
    // Equal calls: 5 agents × (1 + 2 rounds) = 15 = k. Per seed, debate − self-consistency
    // on the same item.
    let gap = |d: &str, accuracy: f64, extra: &[&str]| -> Vec<f64> {
        let mut sets = vec![format!("task.params.difficulty_range={d}"), format!("agents.*.traits.accuracy={accuracy}")];
        let sc_sets: Vec<String> = sets.iter().cloned().chain(["mechanism.params.k=15".to_string()]).collect();
        sets.extend(extra.iter().map(|s| s.to_string()));
        let dsets: Vec<&str> = sets.iter().map(String::as_str).collect();
        let ssets: Vec<&str> = sc_sets.iter().map(String::as_str).collect();
        let da = metric(&runs(&scenario("debate-hard", &dsets)), "accuracy");
        let sa = metric(&runs(&scenario("self-consistency", &ssets)), "accuracy");
        println!("debate vs self-consistency, items {d}, skill {accuracy} {extra:?}: debate {:.3} sc {:.3} gap {}", mean(&da), mean(&sa), show(paired(&da, &sa), true));
        da.iter().zip(&sa).map(|(x, y)| x - y).collect()
    };
    let zero = vec![0.0; SEEDS as usize];
    let (easy_v, hard_v, weak_v) = (gap("[0.0,0.2]", 0.7, &[]), gap("[0.6,0.8]", 0.7, &[]), gap("[0.0,0.2]", 0.45, &[]));
    let answers_v = gap("[0.6,0.8]", 0.7, &["mechanism.params.show_reasoning=false"]);
    let (easy, hard, easy_weak, answers_only) = (paired(&easy_v, &zero), paired(&hard_v, &zero), paired(&weak_v, &zero), paired(&answers_v, &zero));
    assert!(easy.mean.abs() < 0.05, "easy items: debate ≈ self-consistency: {easy:?}");
    assert!(hard.lo > easy.hi, "the edge grows with difficulty: {easy:?} → {hard:?}");
    // Same items, weaker agents: compare the gaps seed by seed.
    let weaker = paired(&weak_v, &easy_v);
    println!("debate's edge, skill 0.45 − skill 0.7 on the same easy items: {}", show(weaker, true));
    assert!(weaker.lo > 0.0, "and is larger for weaker agents: {weaker:?}");
    let reasoning = paired(&hard_v, &answers_v);
    assert!(answers_only.mean.abs() < 0.03 && reasoning.lo > 0.05, "without reasoning, debate is just more votes: {answers_only:?}, reasoning adds {reasoning:?}");
    // Diversity: the same debate with de-correlated copies.
    let d = "[0.3,0.5]";
    let base = [format!("task.params.difficulty_range={d}"), "agents.*.traits.accuracy=0.6".to_string()];
    let arm = |div: &str| {
        let mut s: Vec<String> = base.to_vec();
        s.push(format!("agents.*.traits.diversity={div}"));
        metric(&runs(&scenario("debate-hard", &s.iter().map(String::as_str).collect::<Vec<_>>())), "accuracy")
    };
    let diversity = paired(&arm("1"), &arm("0"));
    println!("debate, diverse copies − identical copies: {}", show(diversity, true));
    assert!(diversity.mean.abs() < 0.04, "diversity adds little: {diversity:?}");
    for (id, what, paper, s, reproduce) in [
        ("debate-easy", "accuracy, debate − self-consistency at 15 calls each, easy items, skill 0.7", "limited advantage", easy, "council sweep builtin:debate-hard --seeds 400 --set task.params.difficulty_range=[0.0,0.2] --set agents.*.traits.accuracy=0.7 (vs builtin:self-consistency with mechanism.params.k=15)"),
        ("debate-hard", "same, hard items (0.6–0.8), skill 0.7", "more effective on harder problems (up to about +12 points)", hard, "council sweep builtin:debate-hard --seeds 400 --set task.params.difficulty_range=[0.6,0.8] --set agents.*.traits.accuracy=0.7"),
        ("debate-weak", "same, easy items, skill 0.45", "more effective with weaker models", easy_weak, "council sweep builtin:debate-hard --seeds 400 --set task.params.difficulty_range=[0.0,0.2] --set agents.*.traits.accuracy=0.45"),
        ("debate-null", "same as debate-hard with answers only (no reasoning shown)", "— (null: more votes of one model)", answers_only, "council sweep builtin:debate-hard --seeds 400 --set task.params.difficulty_range=[0.6,0.8] --set agents.*.traits.accuracy=0.7 --set mechanism.params.show_reasoning=false"),
        ("debate-diversity", "accuracy, diverse − identical copies (medium items, skill 0.6)", "diversity shows little benefit", diversity, "council sweep builtin:debate-hard --seeds 400 --set task.params.difficulty_range=[0.3,0.5] --set agents.*.traits.accuracy=0.6 --set agents.*.traits.diversity=0,1"),
    ] {
        report(Row { id, mechanism: "debate", what, paper, council: show(s, true), seeds: SEEDS, reproduce });
    }
}

/// ReConcile (Chen et al., 2023): the confidence-weighted vote beats a plain majority when
/// stated confidence is informative, not when it is random; explanations carry
/// information (the table is more accurate with them); the table reaches consensus faster
/// than a plain debate of the same agents.
#[test]
fn reconcile_weighs_informative_confidence_and_learns_from_explanations() {
    // The two votes disagree in about one run in ten after a round of discussion, so this
    // comparison (and the team-against-copies one below) takes more seeds to resolve.
    const VOTE_SEEDS: u32 = 1200;
    let vote_gain = |calibration: &str| {
        let r = runs_n(&scenario("reconcile", &[&format!("agents.*.traits.calibration={calibration}"), "mechanism.params.rounds=1"]), VOTE_SEEDS);
        let g: Vec<f64> = metric(&r, "weighted_vote_correct").iter().zip(metric(&r, "majority_vote_correct")).map(|(w, m)| w - m).collect();
        println!("ReConcile, {calibration} confidence: weighted − majority {}", show(stat(&g), true));
        g
    };
    let (informative_v, random_v) = (vote_gain("informative"), vote_gain("random"));
    let (informative, random) = (stat(&informative_v), stat(&random_v));
    assert!(informative.lo > 0.0, "weighted vote should beat majority with informative confidence: {informative:?}");
    assert!(random.hi < 0.0, "and lose to it with random confidence: {random:?}");

    let with_expl = metric(&runs(&scenario("reconcile", &[])), "accuracy");
    let without = metric(&runs(&scenario("reconcile", &["mechanism.params.explanations=false"])), "accuracy");
    let explanations = paired(&with_expl, &without);
    println!("ReConcile, with − without explanations: {}", show(explanations, true));
    assert!(explanations.lo > 0.0, "explanations should carry information: {explanations:?}");

    // The same four agents in a plain debate (answers and reasoning, no confidences).
    let table = runs(&scenario("reconcile", &["mechanism.params.stop_at_consensus=false", "mechanism.params.rounds=2"]));
    let debate = runs(&with(&scenario("reconcile", &[]), &["mechanism.kind=debate", "mechanism.params={\"rounds\":2}"]));
    let consensus = paired(&metric(&table, "round_agreement"), &metric(&debate, "round_agreement"));
    println!("round table − debate of the same agents, agreement after round 2: {}", show(consensus, true));
    assert!(consensus.lo > 0.0, "the table should agree more: {consensus:?}");
    // The paper's comparison: the diverse round table against a debate among copies of one
    // model (of the team's average skill), at no more calls (the table stops at consensus).
    let round_table = runs_n(&scenario("reconcile", &[]), VOTE_SEEDS);
    let copies = runs_n(&with(
        &scenario("reconcile", &[]),
        &["mechanism.kind=debate", "mechanism.params={\"rounds\":3}", "agents.*.model=one", "agents.*.traits={\"accuracy\":0.59}"],
    ), VOTE_SEEDS);
    let vs_debate = paired(&metric(&round_table, "accuracy"), &metric(&copies, "accuracy"));
    println!(
        "round table (diverse, {:.1} calls) − debate of one model's copies ({:.1} calls): {}",
        mean(&metric(&round_table, "calls")),
        mean(&metric(&copies, "calls")),
        show(vs_debate, true)
    );
    assert!(vs_debate.lo > 0.0, "the diverse round table should beat a debate of copies: {vs_debate:?}");
    for (id, what, paper, s, reproduce) in [
        ("reconcile-vote", "final answer right, confidence-weighted − plain majority (informative confidence)", "weighted vote helps (ablation)", informative, "council sweep builtin:reconcile --seeds 1200 --set mechanism.params.rounds=1 --set agents.*.traits.calibration=informative,random (metrics weighted_vote_correct, majority_vote_correct)"),
        ("reconcile-vote-null", "same with random confidence", "— (null)", random, "same command"),
        ("reconcile-explanations", "accuracy, with − without explanations in the discussion prompt", "explanations convince other agents", explanations, "council sweep builtin:reconcile --seeds 400 --set mechanism.params.explanations=true,false"),
        ("reconcile-consensus", "agreement after two rounds, round table − plain debate of the same agents (equal calls)", "better and faster consensus than debate", consensus, "council sweep builtin:reconcile --seeds 400 --set mechanism.params.stop_at_consensus=false --set mechanism.params.rounds=2 (metric round_agreement)"),
        ("reconcile-accuracy", "accuracy, diverse round table − debate among copies of one model of the team's mean skill (no more calls)", "+7.7 points over prior single- and multi-agent baselines", vs_debate, "council sweep builtin:reconcile --seeds 1200, against the same with --set mechanism.kind=debate --set mechanism.params={\"rounds\":3} --set agents.*.model=one --set agents.*.traits={\"accuracy\":0.59}"),
    ] {
        let seeds = if id.starts_with("reconcile-vote") || id == "reconcile-accuracy" { VOTE_SEEDS } else { SEEDS };
        report(Row { id, mechanism: "reconcile", what, paper, council: show(s, true), seeds, reproduce });
    }
}

/// MachineSoM (Zhang et al., 2023): agents conform to the majority, also when it is wrong,
/// more so in easy-going societies; without the social pull (conformity 0) right answers
/// are rarely abandoned for a wrong majority. Some thinking patterns reach the best
/// accuracy for fewer tokens.
#[test]
fn machinesom_societies_conform_and_cheap_strategies_keep_up() {
    let society = |conformity: &str, stubbornness: &str| {
        runs(&scenario("machinesom", &[&format!("agents.*.traits.conformity={conformity}"), &format!("agents.*.traits.stubbornness={stubbornness}"), "mechanism.params.strategy=[\"debate\",\"debate\",\"debate\"]"]))
    };
    let easy = society("0.9", "0.1");
    let over = society("0.15", "0.9");
    let none = society("0", "0.1");
    let pull = |r: &[council_core::Metrics]| metric_where_defined(r, "yield_to_wrong_majority");
    let (e, o, n) = (stat(&pull(&easy)), stat(&pull(&over)), stat(&pull(&none)));
    println!("right answers given up for a wrong plurality: easy-going {}  overconfident {}  no social pull {}", show(e, false), show(o, false), show(n, false));
    assert!(e.lo > o.hi, "easy-going societies give in more: {e:?} vs {o:?}");
    assert!(n.hi < e.lo, "without the social pull the effect shrinks: {n:?}");
    let conform = |r: &[council_core::Metrics]| stat(&metric_where_defined(r, "conformity"));
    println!("conformity (share of revisions that join the last plurality): easy-going {}  no social pull {}", show(conform(&easy), false), show(conform(&none), false));

    // Thinking patterns: every 3-round mix of debate (d) and reflection (r).
    let mut arms = Vec::new();
    for pattern in ["ddd", "ddr", "drd", "rdd", "drr", "rdr", "rrd", "rrr"] {
        let list: Vec<String> = pattern.chars().map(|c| format!("\"{}\"", if c == 'd' { "debate" } else { "reflection" })).collect();
        let r = runs(&scenario("machinesom", &[&format!("mechanism.params.strategy=[{}]", list.join(","))]));
        let (a, t) = (metric(&r, "accuracy"), mean(&metric(&r, "tokens")));
        println!("strategy {pattern}: accuracy {}  tokens {t:.0}", show(stat(&a), false));
        arms.push((pattern, a, t));
    }
    let best = arms.iter().max_by(|x, y| mean(&x.1).total_cmp(&mean(&y.1))).unwrap();
    // Cheaper by at least 15% and not measurably less accurate than the best (paired).
    let cheaper = arms
        .iter()
        .filter(|(_, a, t)| *t <= 0.85 * best.2 && paired(a, &best.1).hi >= 0.0)
        .min_by(|x, y| x.2.total_cmp(&y.2));
    let (cheap_pattern, cheap_acc, cheap_tokens) = cheaper.expect("a cheaper strategy as accurate as the best");
    let gap = paired(cheap_acc, &best.1);
    println!("best {} ({:.0} tokens); {cheap_pattern} reaches {} of it with {:.0}% of the tokens", best.0, best.2, show(gap, true), 100.0 * cheap_tokens / best.2);
    report(Row {
        id: "machinesom-conformity",
        mechanism: "machinesom",
        what: "share of right answers given up for a wrong plurality, easy-going society (conformity 0.9; no social pull, conformity 0: see machinesom-conformity-null)",
        paper: "conformity and majority rule appear (qualitative)",
        council: show(e, false),
        seeds: SEEDS,
        reproduce: "council sweep builtin:machinesom --seeds 400 --set agents.*.traits.conformity=0,0.9 --set agents.*.traits.stubbornness=0.1 --set mechanism.params.strategy=[\"debate\",\"debate\",\"debate\"]",
    });
    report(Row {
        id: "machinesom-conformity-null",
        mechanism: "machinesom",
        what: "same with conformity 0",
        paper: "— (null)",
        council: show(n, false),
        seeds: SEEDS,
        reproduce: "same command",
    });
    report(Row {
        id: "machinesom-tokens",
        mechanism: "machinesom",
        what: &format!("accuracy, cheapest strategy not measurably below the best ({cheap_pattern}, {:.0}% of its tokens) − best ({})", 100.0 * cheap_tokens / best.2, best.0),
        paper: "some strategies match the best with fewer tokens (qualitative)",
        council: show(gap, true),
        seeds: SEEDS,
        reproduce: "council sweep builtin:machinesom --seeds 400 --set mechanism.params.strategy=[\"debate\",\"debate\",\"debate\"],[\"reflection\",\"reflection\",\"reflection\"],...",
    });
}
