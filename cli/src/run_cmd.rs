//! `council run` and `council scenarios`.

use clap::Args;
use serde_json::json;

use council_core::{EventKind, Run, run_simulated_seed};

use crate::agents::{self, BackendArgs};
use crate::input::{load_scenario, print_json};
use crate::text::clean;
use crate::{CliError, CliResult};

#[derive(Args)]
pub struct RunArgs {
    /// Scenario: FILE.json, builtin:<id>, a share link, or - for stdin.
    pub scenario: String,
    /// Seed (default: the scenario's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Write the event log (JSON Lines) here.
    #[arg(long, value_name = "OUT.jsonl")]
    pub log: Option<String>,
    #[command(flatten)]
    pub llm: BackendArgs,
    /// A trained conductor policy the scenario may name (`mechanism.params.policy`), from
    /// `council train --out` or the page's export; repeatable.
    #[arg(long, value_name = "NAME=FILE")]
    pub policy: Vec<String>,
}

pub fn run(a: RunArgs) -> CliResult {
    let scenario = load_scenario(&a.scenario)?;
    let seed = a.seed.unwrap_or(scenario.seed);
    let mut policies = council_core::policy::Policies::new();
    for p in &a.policy {
        let (name, file) = p.split_once('=').ok_or_else(|| CliError::bad(format!("--policy {p}: expected NAME=FILE")))?;
        let net = crate::train_cmd::read_policy(file)?;
        // Greedy, with no records carried over: in a single run the conductor's probes
        // (mechanism.params.probes) are what it knows of the workers.
        let policy = council_core::policy::NetPolicy::greedy(net, Default::default());
        policies.insert(name.to_string(), std::rc::Rc::new(policy));
    }
    let backend = agents::open(&a.llm)?;
    let (r, llm) = match backend {
        None if policies.is_empty() => (run_simulated_seed(&scenario, seed).map_err(|e| CliError::bad(e.0))?, None),
        None => {
            let mut run = Run::with_policies(&scenario, seed, policies).map_err(|e| CliError::bad(e.0))?;
            council_core::engine::drive_simulated(&mut run);
            (run.result(), None)
        }
        Some(mut b) => {
            let mut run = Run::with_policies(&scenario, seed, policies).map_err(|e| CliError::bad(e.0))?;
            let counts = agents::drive(std::slice::from_mut(&mut run), b.as_mut())?;
            (run.result(), Some((b, counts)))
        }
    };
    if let Some(path) = &a.log {
        std::fs::write(path, r.log.to_jsonl()).map_err(|e| CliError::Failed(format!("{path}: {e}")))?;
    }
    if a.json {
        print_json(&json!({
            "id": scenario.id,
            "title": scenario.title,
            "mechanism": scenario.mechanism.kind,
            "seed": seed,
            "log_hash": r.log_hash,
            "events": r.log.len(),
            "summary": r.summary,
            "metrics": r.metrics,
            "backend": llm.as_ref().map(|(b, c)| {
                let mut v = b.report();
                v["asks"] = json!(c.asks);
                v["failed_asks"] = json!(c.failed);
                v
            }),
        }));
    } else {
        let title = if scenario.title.is_empty() { &scenario.mechanism.kind } else { &scenario.title };
        out!("{} (seed {seed})", clean(title));
        for e in r.log.events() {
            let line = match &e.kind {
                EventKind::Note { text } => format!("  [round {}] {text}", e.round),
                EventKind::Answer { agent, raw, purpose, .. } => {
                    format!("  [round {}] {} ({purpose}): {raw}", e.round, scenario.agents[*agent as usize].name)
                }
                EventKind::Decision { answer, method, correct, is_final, .. } => format!(
                    "  [round {}] {}decision by {method}: {answer}{}",
                    e.round,
                    if *is_final { "final " } else { "" },
                    match correct {
                        Some(true) => " (correct)",
                        Some(false) => " (wrong)",
                        None => "",
                    }
                ),
                EventKind::Error { message, .. } => format!("  [round {}] error: {message}", e.round),
                _ => continue,
            };
            // Names, answers and notes may come from a stranger's link or a model's reply.
            out!("{}", clean(&line));
        }
        let s = &r.summary;
        out!(
            "final answer {} (truth {}), {} calls, {} tokens, {} messages, log {}",
            clean(s.final_answer.as_deref().unwrap_or("none")),
            clean(&s.truth),
            s.asks,
            s.tokens,
            s.messages,
            r.log_hash
        );
        let m: Vec<String> = r.metrics.0.iter().map(|(k, v)| format!("{}={}", clean(k), fmt_num(*v))).collect();
        out!("metrics: {}", m.join(" "));
        if let Some((b, _)) = &llm {
            out!("{}", b.summary());
        }
    }
    match llm {
        Some((_, c)) => agents::check_failures(&c),
        None => Ok(()),
    }
}

pub fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e12 { format!("{}", v as i64) } else { format!("{v:.3}") }
}

#[derive(Args)]
pub struct ScenariosArgs {
    /// JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

pub fn scenarios(a: ScenariosArgs) -> CliResult {
    let all = council_core::builtins();
    if a.json {
        let list: Vec<_> = all
            .iter()
            .map(|s| {
                json!({
                    "id": s.id,
                    "title": s.title,
                    "family": s.family,
                    "hook": s.hook,
                    "mechanism": s.mechanism.kind,
                    "agents": s.agents.len(),
                })
            })
            .collect();
        print_json(&json!({ "scenarios": list }));
    } else {
        for s in &all {
            out!("{:<26} {:<14} {}", s.id, s.family, clean(&s.title));
        }
    }
    Ok(())
}
