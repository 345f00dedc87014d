//! `council bench ...`: benchmarks printing figures beside a named peer. `bench society`
//! is here; `bench decode` (LLM) registers from llm.rs with one line.

use clap::{Args, Subcommand};

use crate::{CliError, CliResult};

#[derive(Subcommand)]
pub enum BenchCommand {
    /// One round of a simulated society on a random sparse graph.
    Society(SocietyArgs),
}

#[derive(Args)]
pub struct SocietyArgs {
    #[arg(long, default_value_t = 1_000_000)]
    pub agents: u32,
}

pub fn bench(c: BenchCommand) -> CliResult {
    match c {
        BenchCommand::Society(_) => Err(CliError::Failed("bench society is not built yet".into())),
    }
}
