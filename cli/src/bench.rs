//! `council bench ...`: benchmarks that print figures beside a named peer measured in the
//! same run. `society` and `runs` are here; `decode` (LLM) registers from llm.rs with one
//! line in `BenchCommand`.

use std::time::Instant;

use clap::{Args, Subcommand};
use serde_json::json;

use council_core::society::Society;
use council_core::sweep::{parse_set, configs, run_config_seed, seed_for};

use crate::input::print_json;
use crate::{CliError, CliResult};

#[derive(Subcommand)]
pub enum BenchCommand {
    /// One round of a simulated society on a random sparse graph (CSR arrays).
    Society(SocietyArgs),
    /// Many simulated runs of a 5-agent, 3-round debate (the sweep workload).
    Runs(RunsArgs),
    /// LLM prefill and decode speed (CPU path per thread count, optionally WebGPU) beside llama.cpp.
    Decode(crate::bench_decode::DecodeArgs),
    /// Time to first token with and without shared-prefix KV reuse, per round of a local-model debate.
    Debate(crate::bench_debate::DebateArgs),
    /// Speculative decoding (a drafter model, drafts verified in one step) beside the verifier alone.
    Speculative(crate::bench_speculative::SpeculativeArgs),
}

#[derive(Args)]
pub struct SocietyArgs {
    #[arg(long, default_value_t = 1_000_000)]
    pub agents: u32,
    /// Agents each one listens to.
    #[arg(long, default_value_t = 8)]
    pub degree: u32,
    #[arg(long, default_value_t = 3)]
    pub rounds: u32,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct RunsArgs {
    #[arg(long, default_value_t = 1000)]
    pub runs: u32,
    #[arg(long)]
    pub json: bool,
}

pub fn bench(c: BenchCommand) -> CliResult {
    match c {
        BenchCommand::Society(a) => society(a),
        BenchCommand::Runs(a) => runs(a),
        BenchCommand::Decode(a) => crate::bench_decode::decode(a),
        BenchCommand::Debate(a) => crate::bench_debate::debate(a),
        BenchCommand::Speculative(a) => crate::bench_speculative::speculative(a),
    }
}

/// Peak resident memory (VmHWM) in bytes, from /proc/self/status (Linux).
fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn society(a: SocietyArgs) -> CliResult {
    if a.rounds == 0 || a.rounds > 1000 {
        return Err(CliError::bad(format!("--rounds {} out of [1,1000]", a.rounds)));
    }
    let t0 = Instant::now();
    let mut s = Society::random(a.agents as usize, a.degree, 0.55, 0.1, a.seed).map_err(CliError::bad)?;
    let build_s = t0.elapsed().as_secs_f64();
    let mut per_round = Vec::new();
    let mut last = None;
    for _ in 0..a.rounds {
        let t = Instant::now();
        last = Some(s.round());
        per_round.push(t.elapsed().as_secs_f64());
    }
    let t = Instant::now();
    let checksum = s.edge_checksum();
    let scan_s = t.elapsed().as_secs_f64();
    let best = per_round.iter().copied().fold(f64::INFINITY, f64::min);
    let mean = per_round.iter().sum::<f64>() / per_round.len() as f64;
    let peak = peak_memory();
    let last = last.expect("at least one round");
    if a.json {
        print_json(&json!({
            "agents": s.len(), "edges": s.edges(), "build_s": build_s,
            "round_s_mean": mean, "round_s_best": best, "edge_scan_s": scan_s,
            "changed_last_round": last.changed, "share_after": last.share,
            "arrays_bytes": s.memory_bytes(), "peak_rss_bytes": peak, "checksum": checksum,
        }));
    } else {
        out!("society: {} agents, {} edges (degree {}), built in {build_s:.3} s", s.len(), s.edges(), a.degree);
        out!("  opinion round (majority rule):  {mean:.4} s/round mean, {best:.4} s best over {} rounds", a.rounds);
        out!("  peer: one streaming pass over the edge array: {scan_s:.4} s (the memory-bandwidth floor)");
        out!("  last round changed {} opinions; share holding 1: {:.3}", last.changed, last.share);
        out!(
            "  memory: arrays {:.1} MB, peak RSS (VmHWM) {}",
            s.memory_bytes() as f64 / 1e6,
            peak.map(|b| format!("{:.1} MB", b as f64 / 1e6)).unwrap_or_else(|| "unavailable".into())
        );
    }
    Ok(())
}

fn runs(a: RunsArgs) -> CliResult {
    if a.runs == 0 || a.runs > 1_000_000 {
        return Err(CliError::bad(format!("--runs {} out of [1,1000000]", a.runs)));
    }
    let debate = council_core::builtin("debate").map_err(|e| CliError::Failed(e.0))?;
    let pick = |base: &council_core::Scenario, set: &str| {
        configs(base, &[parse_set(set).expect("valid set")]).map(|mut c| c.remove(0).scenario).map_err(|e| CliError::Failed(e.0))
    };
    let debate = pick(&debate, "mechanism.params.rounds=3")?;
    // Peer: self-consistency at equal calls (5 agents × 4 answers = 20 samples).
    let sc = pick(&council_core::builtin("self-consistency").map_err(|e| CliError::Failed(e.0))?, "mechanism.params.k=20")?;
    let time = |s: &council_core::Scenario| {
        let t = Instant::now();
        let mut acc = 0.0;
        for i in 0..a.runs {
            acc += run_config_seed(s, seed_for(s, i)).get("accuracy").unwrap_or(0.0);
        }
        (t.elapsed().as_secs_f64(), acc / f64::from(a.runs))
    };
    let (d_s, d_acc) = time(&debate);
    let (s_s, s_acc) = time(&sc);
    if a.json {
        print_json(&json!({"runs": a.runs, "debate_s": d_s, "debate_accuracy": d_acc, "self_consistency_s": s_s, "self_consistency_accuracy": s_acc}));
    } else {
        out!("{} runs of a 5-agent, 3-round debate (20 calls each): {d_s:.3} s ({:.0} runs/s), accuracy {d_acc:.3}", a.runs, f64::from(a.runs) / d_s);
        out!("  peer: {} runs of self-consistency, k = 20 (same calls): {s_s:.3} s ({:.0} runs/s), accuracy {s_acc:.3}", a.runs, f64::from(a.runs) / s_s);
    }
    Ok(())
}
