//! Routing and self-organising teams: a bandit that learns who takes which task
//! (Symphony-Coord), a router that picks a topology per task (AdaptOrch, with MDAgents'
//! solo option), and hyperedges instead of pairwise links (HyperAgent).

use council_core::Metrics;

use crate::common::*;

/// Symphony runs are long streams; 200 seeds per point (the floor the issue sets) keep
/// the sweep of failure points affordable.
const STREAM_SEEDS: u32 = 200;

fn symphony(sets: &[&str]) -> Vec<Metrics> {
    runs_n(&scenario("symphony", sets), STREAM_SEEDS)
}

/// *Symphony-Coord* (Guan et al., 2026): routing tasks with LinUCB over what a task shows
/// (domain, how hard it looks) makes regret grow sublinearly: the router finds each
/// domain's specialist and then mostly uses it. Regret is measured against the oracle that
/// knows every agent's true skill. The null is random routing, whose regret grows linearly.
/// With forgetting (discount 0.98, the default) the router keeps re-checking, which costs
/// a little regret in a world that does not change; plain LinUCB (discount 1) is shown too.
#[test]
fn symphony_regret_grows_sublinearly() {
    let steady = ["mechanism.params.fail_agent=null", "mechanism.params.shift_at=null"];
    let arm = |routing: &str, discount: &str, tasks: u32| {
        let mut sets = steady.to_vec();
        let (r, d, t) = (format!("mechanism.params.routing={routing}"), format!("mechanism.params.discount={discount}"), format!("mechanism.params.tasks={tasks}"));
        sets.extend([r.as_str(), d.as_str(), t.as_str()]);
        symphony(&sets)
    };
    let mut shown = Vec::new();
    for (name, routing, discount) in [("LinUCB, discount 0.98", "linucb", "0.98"), ("plain LinUCB", "linucb", "1"), ("random", "random", "0.98")] {
        let short = metric(&arm(routing, discount, 100), "regret_per_task");
        let long_runs = arm(routing, discount, 400);
        let long = metric(&long_runs, "regret_per_task");
        let growth = stat(&metric(&long_runs, "regret_growth"));
        // The first 100 tasks of the long stream are the short stream's: paired.
        let fall = paired(&long, &short);
        println!("{name}: regret per task {:.3} at 100 tasks, {:.3} at 400 (change {}); growth exponent log2 R(400)/R(200) {}", mean(&short), mean(&long), show(fall, true), show(growth, false));
        match routing {
            "random" => {
                assert!(growth.lo > 0.95 && growth.hi < 1.05, "random routing's regret grows linearly: {growth:?}");
                assert!(fall.mean.abs() < 0.02, "random routing does not improve: {fall:?}");
            }
            _ => {
                assert!(growth.hi < 0.85, "{name}: regret should grow sublinearly: {growth:?}");
                assert!(fall.hi < 0.0, "{name}: regret per task should fall with the stream's length: {fall:?}");
            }
        }
        shown.push((name, growth, mean(&short), mean(&long)));
    }
    let cell = |i: usize| {
        let (_, g, s, l) = shown[i];
        format!("{}; regret per task {s:.3} → {l:.3}", show(g, false))
    };
    report(Row {
        id: "symphony-sublinear",
        mechanism: "symphony",
        what: "growth exponent of cumulative regret (log2 of regret after 400 tasks ÷ after 200; 1 = linear) against the best agent per task, and regret per task after 100 → 400 tasks; LinUCB with forgetting (discount 0.98), plain LinUCB (discount 1) in parentheses; one call per task",
        paper: "sublinear regret (a bound under linear realizability; no figure)",
        council: format!("{} (plain: {})", cell(0), cell(1)),
        seeds: STREAM_SEEDS,
        reproduce: "council sweep builtin:symphony --seeds 200 --set mechanism.params.fail_agent=null --set mechanism.params.shift_at=null --set mechanism.params.tasks=100,400 --set mechanism.params.discount=0.98,1 (metrics regret_growth, regret_per_task)",
    });
    report(Row {
        id: "symphony-sublinear-null",
        mechanism: "symphony",
        what: "same with random routing",
        paper: "— (null: linear regret)",
        council: cell(2),
        seeds: STREAM_SEEDS,
        reproduce: "same command with --set mechanism.params.routing=random",
    });
}

/// Self-healing: the math specialist stops answering at task 50, 150 or 300 and 150 tasks
/// follow. The router only sees that its tasks come back unanswered (reward 0). With
/// forgetting, it recovers (a stretch of 20 tasks without a route to the failed agent
/// begins) within a bounded number of tasks, about the same however long it had relied on
/// that agent; plain LinUCB, which never forgets, takes longer the more evidence it had
/// piled up (the null). Beacons find out at once: no task goes to the failed agent.
#[test]
fn symphony_recovers_within_a_bounded_number_of_tasks() {
    let arm = |fail_at: u32, extra: &str| {
        let (f, t) = (format!("mechanism.params.fail_at={fail_at}"), format!("mechanism.params.tasks={}", fail_at + 150));
        symphony(&["mechanism.params.fail_agent=0", "mechanism.params.shift_at=null", &f, &t, extra])
    };
    let mut rows: Vec<(u32, Vec<f64>, Vec<f64>, f64)> = Vec::new();
    for fail_at in [50, 150, 300] {
        let forget = arm(fail_at, "mechanism.params.discount=0.98");
        let plain = arm(fail_at, "mechanism.params.discount=1");
        let beacons = arm(fail_at, "mechanism.params.screen=2");
        let (rf, rp) = (metric(&forget, "recovery_tasks"), metric(&plain, "recovery_tasks"));
        let dead = metric(&beacons, "dead_routes");
        println!(
            "failure at {fail_at}: recovery with forgetting {} (dead routes {:.1}), plain LinUCB {} (dead routes {:.1}), beacons: dead routes {:.1}",
            show(stat(&rf), false),
            mean(&metric(&forget, "dead_routes")),
            show(stat(&rp), false),
            mean(&metric(&plain, "dead_routes")),
            mean(&dead)
        );
        assert!(dead.iter().all(|&d| d == 0.0), "with beacons no task goes to a silent agent");
        assert!(stat(&rf).hi < 45.0, "with forgetting, recovery is bounded: {:?}", stat(&rf));
        rows.push((fail_at, rf, rp, mean(&dead)));
    }
    // The longer the router relied on the agent, the longer plain LinUCB takes; forgetting
    // takes about the same.
    let rise = |k: usize| -> Vec<f64> {
        let (a, b) = (if k == 0 { &rows[2].1 } else { &rows[2].2 }, if k == 0 { &rows[0].1 } else { &rows[0].2 });
        a.iter().zip(b).map(|(x, y)| x - y).collect()
    };
    let (rise_forget, rise_plain) = (rise(0), rise(1));
    println!("recovery at 300 − at 50: forgetting {}, plain {}", show(stat(&rise_forget), true), show(stat(&rise_plain), true));
    assert!(stat(&rise_plain).lo > 20.0, "plain LinUCB recovers later the more history it has: {:?}", stat(&rise_plain));
    assert!(paired(&rise_plain, &rise_forget).lo > 0.0, "forgetting keeps recovery from growing with history");
    let cells = |k: usize| rows.iter().map(|r| format!("{:.1}", mean(if k == 0 { &r.1 } else { &r.2 }))).collect::<Vec<_>>().join(" / ");
    report(Row {
        id: "symphony-recovery",
        mechanism: "symphony",
        what: "tasks until routing recovers after the math specialist goes silent at task 50 / 150 / 300 (until a stretch of 20 tasks none of which goes to it begins), with forgetting (discount 0.98); with beacons (screen 2) no task goes to it at all",
        paper: "self-healing under agent failure (no figure)",
        council: format!("{} (rise 50 → 300: {}); beacons: {:.0} tasks to the silent agent", cells(0), show(stat(&rise_forget), true), rows.iter().map(|r| r.3).sum::<f64>()),
        seeds: STREAM_SEEDS,
        reproduce: "council sweep builtin:symphony --seeds 200 --set mechanism.params.shift_at=null --set mechanism.params.fail_at=300 --set mechanism.params.tasks=450 --set mechanism.params.discount=0.98,1 (metric recovery_tasks; likewise fail_at 50 and 150)",
    });
    report(Row {
        id: "symphony-recovery-null",
        mechanism: "symphony",
        what: "same with plain LinUCB (discount 1: old evidence never fades)",
        paper: "— (null)",
        council: format!("{} (rise 50 → 300: {})", cells(1), show(stat(&rise_plain), true)),
        seeds: STREAM_SEEDS,
        reproduce: "same command",
    });
}

fn adaptorch(topology: &str, extra: &[&str]) -> Vec<Metrics> {
    let t = format!("mechanism.params.topology={topology}");
    let mut sets = vec![t.as_str(), "task.params.shape=any", "task.params.nodes=10", "mechanism.params.tasks=4"];
    sets.extend(extra);
    runs(&scenario("adaptorch", &sets))
}

/// *AdaptOrch* (Yu, 2026): on a mixed set of plans (flat, chains, trees, and plans whose
/// results feed several nodes), choosing the topology per plan from its shape beats every
/// fixed topology run on all of them. Each fixed topology is right for one shape and pays
/// on the others: rework of results that never reached the solver (a second call and a
/// second chance to err, reading the whole plan), the coordinator's and the board's long
/// prompts. The null takes those costs away: no cost for long prompts (context_load 0) and
/// copies of one model (a rework repeats the original's mistakes rather than adding new
/// ones); the differences in accuracy go.
#[test]
fn adaptive_topology_beats_every_fixed_one_on_a_mixed_set() {
    let null = ["agents.*.traits.context_load=0", "agents.*.model=one"];
    let adaptive = adaptorch("adaptive", &[]);
    let adaptive_null = adaptorch("adaptive", &null);
    let acc = |r: &[Metrics]| metric(r, "accuracy");
    let calls = |r: &[Metrics]| mean(&metric(r, "calls"));
    let mut main = Vec::new();
    let mut nulls = Vec::new();
    for fixed in ["parallel", "sequential", "hierarchical", "hybrid"] {
        let f = adaptorch(fixed, &[]);
        let gain = paired(&acc(&adaptive), &acc(&f));
        let ratio = calls(&adaptive) / calls(&f);
        let g0 = paired(&acc(&adaptive_null), &acc(&adaptorch(fixed, &null)));
        println!("adaptive {:.3} − {fixed} {:.3} = {} ({:+.0}% relative), calls {:.1} vs {:.1}; null {}", mean(&acc(&adaptive)), mean(&acc(&f)), show(gain, true), 100.0 * gain.mean / mean(&acc(&f)), calls(&adaptive), calls(&f), show(g0, true));
        if fixed == "parallel" {
            // Parallel gets most of the way by working missing results out again: more calls.
            assert!(gain.mean > 0.0 && ratio < 0.75, "adaptive should match parallel with far fewer calls: {gain:?}, ratio {ratio:.2}");
        } else {
            assert!(gain.lo > 0.0, "adaptive should beat {fixed}: {gain:?}");
            assert!(g0.mean < gain.mean - 0.015, "{fixed}: without the costs of a mismatch the edge shrinks: {g0:?} vs {gain:?}");
        }
        main.push(format!("{fixed} {} ({:+.0}%, {:.2}× calls)", show(gain, true), 100.0 * gain.mean / mean(&acc(&f)), ratio));
        nulls.push(format!("{fixed} {}", show(g0, true)));
    }
    report(Row {
        id: "adaptorch-mixed",
        mechanism: "adaptorch",
        what: "accuracy, adaptive − each fixed topology on a mixed set of 10-node plans (flat, chain, tree, shared results; 4 plans per run); adaptive's calls as a multiple of the fixed one's",
        paper: "+12% to +23% over static single-topology baselines",
        council: main.join(", "),
        seeds: SEEDS,
        reproduce: "council sweep builtin:adaptorch --seeds 400 --set task.params.nodes=10 --set mechanism.params.topology=adaptive,parallel,sequential,hierarchical,hybrid",
    });
    report(Row {
        id: "adaptorch-null",
        mechanism: "adaptorch",
        what: "same with context_load 0 and copies of one model (long prompts cost nothing, a rework repeats the original's mistakes)",
        paper: "— (null)",
        council: nulls.join(", "),
        seeds: SEEDS,
        reproduce: "same command with --set agents.*.traits.context_load=0 --set agents.*.model=one",
    });
}

/// *MDAgents* (Kim et al., 2024): a complexity check first. The lead states how likely it
/// is to get the whole plan right alone (its belief in its own answer); at 0.8 or more it
/// works alone. On small plans it often trusts itself, and when it does it is usually
/// right, so accuracy rises at about the same calls; on large plans it almost never works
/// alone. The null: a lead whose stated confidence says nothing (calibration random)
/// works alone on the wrong plans.
#[test]
fn a_complexity_check_lets_one_agent_take_simple_plans() {
    let arm = |nodes: u32, solo: &str, extra: &[&str]| {
        let (n, s) = (format!("task.params.nodes={nodes}"), format!("mechanism.params.solo_above={solo}"));
        let mut sets = vec![n.as_str(), s.as_str()];
        sets.extend(extra);
        runs(&scenario("adaptorch", &sets))
    };
    let acc = |r: &[Metrics]| metric(r, "accuracy");
    let calls = |r: &[Metrics]| mean(&metric(r, "calls"));
    let (team, check) = (arm(3, "null", &[]), arm(3, "0.8", &[]));
    let gain = paired(&acc(&check), &acc(&team));
    let share = mean(&metric(&check, "solo_share"));
    let (big_team, big_check) = (arm(10, "null", &[]), arm(10, "0.8", &[]));
    let big = paired(&acc(&big_check), &acc(&big_team));
    let big_share = mean(&metric(&big_check, "solo_share"));
    let random = ["agents.0.traits.calibration=random"];
    let null = paired(&acc(&arm(3, "0.8", &random)), &acc(&arm(3, "null", &random)));
    println!(
        "3-node plans: check − team {} (solo on {:.0}% of plans, calls {:.1} vs {:.1}); 10-node plans: {} (solo {:.0}%); random confidence: {}",
        show(gain, true),
        100.0 * share,
        calls(&check),
        calls(&team),
        show(big, true),
        100.0 * big_share,
        show(null, true)
    );
    assert!(gain.lo > 0.0, "a lead that trusts itself on simple plans should gain: {gain:?}");
    assert!(calls(&check) <= calls(&team) + 0.5, "at about the same calls");
    assert!(big_share < 0.1 && big.hi > -0.02, "on large plans the lead rarely works alone: {big_share}, {big:?}");
    assert!(null.mean < gain.mean - 0.03, "with uninformative confidence the check should not help: {null:?}");
    report(Row {
        id: "mdagents-solo",
        mechanism: "adaptorch",
        what: "accuracy, adaptive with a complexity check (the lead works alone when it states ≥ 0.8) − without, 3-node plans (4 per run; about equal calls: the check costs one, working alone saves two); share of plans done alone; same on 10-node plans",
        paper: "adaptive solo/group beats fixed structures (up to +4.2% over the best prior method)",
        council: format!("{} ({:+.0}% relative; alone on {:.0}% of plans, {:.1} vs {:.1} calls); 10-node plans {} (alone on {:.0}%)", show(gain, true), 100.0 * gain.mean / mean(&acc(&team)), 100.0 * share, calls(&check), calls(&team), show(big, true), 100.0 * big_share),
        seeds: SEEDS,
        reproduce: "council sweep builtin:adaptorch --seeds 400 --set task.params.nodes=3,10 --set mechanism.params.solo_above=null,0.8 (metrics accuracy, calls, solo_share)",
    });
    report(Row {
        id: "mdagents-solo-null",
        mechanism: "adaptorch",
        what: "same on 3-node plans with a lead whose stated confidence is random",
        paper: "— (null)",
        council: show(null, true),
        seeds: SEEDS,
        reproduce: "same command with --set agents.0.traits.calibration=random",
    });
}

/// *HyperAgent* (Zhang et al., 2025): when agents work in groups on subtasks, one channel
/// per group (a hyperedge) carries the group's discussion in one message per agent per
/// round; pairwise links need a message per pair, and in a mesh every post also lands in
/// the prompts of agents on other subtasks. Same calls, accuracy no lower, far fewer
/// messages and tokens. A sparse pairwise graph with as few deliveries as the channels
/// cuts teammates off and loses accuracy. Null: with one subtask the channel is the mesh,
/// and the token saving is gone.
#[test]
fn hyperedges_carry_the_discussion_in_fewer_messages() {
    let arm = |links: &str, extra: &[&str]| {
        let l = format!("mechanism.params.links={links}");
        let mut sets = vec![l.as_str()];
        sets.extend(extra);
        runs(&scenario("hyperagent", &sets))
    };
    let acc = |r: &[Metrics]| metric(r, "accuracy");
    let m = |r: &[Metrics], k: &str| mean(&metric(r, k));
    let (hyper, mesh) = (arm("hyperedges", &[]), arm("pairwise", &[]));
    let same = paired(&acc(&hyper), &acc(&mesh));
    let token_cut = 1.0 - m(&hyper, "tokens") / m(&mesh, "tokens");
    let sparse_graph = ["topology.kind=erdos_renyi", "topology.p=0.25"];
    let sparse = arm("pairwise", &sparse_graph);
    let cut_off = paired(&acc(&hyper), &acc(&sparse));
    let one = ["task.params.steps=1"];
    let (hyper1, mesh1) = (arm("hyperedges", &one), arm("pairwise", &one));
    let null_acc = paired(&acc(&hyper1), &acc(&mesh1));
    let null_cut = 1.0 - m(&hyper1, "tokens") / m(&mesh1, "tokens");
    println!(
        "3 subtasks: hyperedges − mesh accuracy {}, messages {:.0} vs {:.0}, tokens {:.0} vs {:.0} (−{:.0}%); hyperedges − sparse pairwise ({:.0} deliveries vs {:.0}) {}; one subtask: accuracy {}, tokens −{:.1}%",
        show(same, true),
        m(&hyper, "messages"),
        m(&mesh, "messages"),
        m(&hyper, "tokens"),
        m(&mesh, "tokens"),
        100.0 * token_cut,
        m(&sparse, "deliveries"),
        m(&hyper, "deliveries"),
        show(cut_off, true),
        show(null_acc, true),
        100.0 * null_cut
    );
    assert!(same.lo > -0.03, "hyperedges should lose no accuracy against a pairwise mesh: {same:?}");
    assert!(m(&hyper, "messages") * 5.0 < m(&mesh, "messages") && token_cut > 0.2, "far fewer messages and tokens");
    assert!(cut_off.lo > 0.0, "a sparse pairwise graph at the same deliveries cuts teammates off: {cut_off:?}");
    assert!(null_cut.abs() < 0.01 && null_acc.mean.abs() < 0.01, "with one subtask the channel is the mesh: {null_cut}, {null_acc:?}");
    report(Row {
        id: "hyperagent-messages",
        mechanism: "hyperagent",
        what: "three subtasks, three agents each, two rounds (equal calls): accuracy hyperedges − pairwise mesh; messages; tokens; and hyperedges − a sparse pairwise graph with about the same deliveries (random, p 0.25)",
        paper: "95.07% on GSM8K with 25.33% fewer tokens",
        council: format!(
            "{}; {:.0} vs {:.0} messages; tokens −{:.0}%; vs sparse pairwise {}",
            show(same, true),
            m(&hyper, "messages"),
            m(&mesh, "messages"),
            100.0 * token_cut,
            show(cut_off, true)
        ),
        seeds: SEEDS,
        reproduce: "council sweep builtin:hyperagent --seeds 400 --set mechanism.params.links=hyperedges,pairwise (and --set topology.kind=erdos_renyi --set topology.p=0.25)",
    });
    report(Row {
        id: "hyperagent-null",
        mechanism: "hyperagent",
        what: "same with one subtask (the channel is the whole team, as the mesh is): accuracy and token saving",
        paper: "— (null)",
        council: format!("{}; tokens −{:.1}%", show(null_acc, true), 100.0 * null_cut),
        seeds: SEEDS,
        reproduce: "same command with --set task.params.steps=1",
    });
}
