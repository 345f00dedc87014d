//! Orchestration: the blackboard and the conductor.

use crate::common::*;

/// Salemi et al. (2025): volunteering on a blackboard beats a master that assigns work from
/// an out-of-date roster, because the agents know what they know. Two nulls: a master
/// with an accurate roster assigns as well (and skips the bidding calls), and agents whose
/// bids say nothing (random calibration) volunteer no better than a draw.
#[test]
fn volunteers_beat_a_master_who_does_not_know_who_is_best() {
    let acc = |sets: &[&str]| metric(&runs(&scenario("blackboard", sets)), "accuracy");
    let volunteer = acc(&["mechanism.params.assignment=volunteer"]);
    let stale = acc(&["mechanism.params.assignment=master", "mechanism.params.roster=stale"]);
    let accurate = acc(&["mechanism.params.assignment=master", "mechanism.params.roster=as_written"]);
    let noise = acc(&["mechanism.params.assignment=volunteer", "agents.*.traits.calibration=random"]);
    let gain = paired(&volunteer, &stale);
    let informed = paired(&volunteer, &accurate);
    let uninformative = paired(&noise, &stale);
    println!(
        "blackboard: volunteer {:.3}  master/stale roster {:.3}  master/accurate roster {:.3}  volunteer/random bids {:.3}",
        mean(&volunteer),
        mean(&stale),
        mean(&accurate),
        mean(&noise)
    );
    assert!(gain.lo > 0.0, "volunteers should beat a master with a stale roster: {gain:?}");
    assert!(informed.hi < gain.lo, "a master with an accurate roster does as well: {informed:?}");
    assert!(paired(&volunteer, &noise).lo > 0.0, "bids must carry information for volunteering to work");
    for (id, what, paper, council, reproduce) in [
        ("blackboard-volunteer", "accuracy, volunteering − master with a stale roster", "+13% to +57% relative task success over the best baseline", format!("{} ({:+.0}% relative)", show(gain, true), 100.0 * gain.mean / mean(&stale)), "council sweep builtin:blackboard --seeds 400 --set mechanism.params.assignment=volunteer,master --set mechanism.params.roster=stale"),
        ("blackboard-null-roster", "accuracy, volunteering − master with an accurate roster (the master then needs 1 call, volunteering 5)", "— (null: the controller knows who is best)", show(informed, true), "council sweep builtin:blackboard --seeds 400 --set mechanism.params.assignment=volunteer,master --set mechanism.params.roster=as_written"),
        ("blackboard-null-bids", "accuracy, volunteering with random-calibration bids − master with a stale roster", "— (null: bids carry no information)", show(uninformative, true), "council sweep builtin:blackboard --seeds 400 --set agents.*.traits.calibration=random"),
    ] {
        report(Row { id, mechanism: "blackboard", what, paper, council, seeds: SEEDS, reproduce });
    }
}

/// The conductor plans from what it can observe: track records from calibration items.
/// With records it picks the strong workers of a mixed pool; with none its pick is a draw;
/// on a pool of identical copies records carry nothing and change nothing. Splitting its
/// slices again (recursion) pays when workers' contexts are long.
#[test]
fn the_conductor_plans_from_track_records_and_recursion_shortens_contexts() {
    let acc = |sets: &[&str]| metric(&runs(&scenario("conductor", sets)), "accuracy");
    // One level of planning, so the comparison is about whom it picks.
    let with_records = acc(&["mechanism.params.probes=2", "mechanism.params.max_depth=0"]);
    let without = acc(&["mechanism.params.probes=0", "mechanism.params.max_depth=0"]);
    let records = paired(&with_records, &without);
    println!("conductor, mixed pool: 2 probes {:.3}  no probes {:.3}  gain {}", mean(&with_records), mean(&without), show(records, true));
    assert!(records.lo > 0.0, "track records should help on a mixed pool: {records:?}");
    let copies = "agents.*.traits={\"accuracy\":0.75}";
    let null = paired(&acc(&[copies, "mechanism.params.probes=2", "mechanism.params.max_depth=0"]), &acc(&[copies, "mechanism.params.probes=0", "mechanism.params.max_depth=0"]));
    println!("conductor, identical copies: 2 probes − none {}", show(null, true));
    assert!(null.mean.abs() < 0.03 && null.mean < records.mean - 0.05, "records of identical copies carry nothing: {null:?}");

    let deep = acc(&[copies, "mechanism.params.probes=0", "mechanism.params.max_depth=1"]);
    let flat = acc(&[copies, "mechanism.params.probes=0", "mechanism.params.max_depth=0"]);
    let recursion = paired(&deep, &flat);
    let alone = metric(&runs(&scenario("conductor", &[copies, "mechanism.kind=architectures", "mechanism.params={\"architecture\":\"single\"}"])), "accuracy");
    let vs_alone = paired(&deep, &alone);
    println!("conductor over copies: depth 1 {:.3}  depth 0 {:.3}  one copy alone {:.3}", mean(&deep), mean(&flat), mean(&alone));
    assert!(recursion.lo > 0.0, "splitting slices again should pay with long contexts: {recursion:?}");
    let no_load = paired(
        &acc(&[copies, "mechanism.params.probes=0", "mechanism.params.max_depth=1", "agents.*.traits.context_load=0"]),
        &acc(&[copies, "mechanism.params.probes=0", "mechanism.params.max_depth=0", "agents.*.traits.context_load=0"]),
    );
    println!("recursion gain without context load: {}", show(no_load, true));
    assert!(no_load.mean < recursion.mean - 0.02, "without long-context cost recursion should pay less: {no_load:?}");
    for (id, what, paper, council, reproduce) in [
        ("conductor-records", "accuracy, conductor with 2 calibration items per worker − with none (mixed pool, one planning level)", "a trained conductor beats any individual worker (qualitative)", show(records, true), "council sweep builtin:conductor --seeds 400 --set mechanism.params.probes=0,2 --set mechanism.params.max_depth=0"),
        ("conductor-records-null", "same on a pool of identical copies", "— (null: records carry nothing)", show(null, true), "council sweep builtin:conductor --seeds 400 --set mechanism.params.probes=0,2 --set mechanism.params.max_depth=0 --set agents.*.traits={\"accuracy\":0.75}"),
        ("conductor-recursion", "accuracy, conductor calling itself once (depth 1) − not at all (copies of one model, long contexts)", "recursive topologies as test-time scaling (qualitative)", show(recursion, true), "council sweep builtin:conductor --seeds 400 --set mechanism.params.max_depth=0,1 --set mechanism.params.probes=0 --set agents.*.traits={\"accuracy\":0.75}"),
        ("conductor-vs-alone", "accuracy, conductor at depth 1 over copies − one copy doing the whole task (with self-checks)", "meta-prompting +17.1% over standard prompting (GPT-4)", format!("{} ({:+.0}% relative)", show(vs_alone, true), 100.0 * vs_alone.mean / mean(&alone)), "council sweep builtin:conductor --seeds 400 --set agents.*.traits={\"accuracy\":0.75} (against mechanism.kind=architectures, architecture single)"),
    ] {
        report(Row { id, mechanism: "conductor", what, paper, council, seeds: SEEDS, reproduce });
    }
}
