//! `council sweep` (filled in with the sweep engine).

use clap::Args;

use crate::{CliError, CliResult};

#[derive(Args)]
pub struct SweepArgs {
    pub scenario: String,
    #[arg(long, default_value_t = 100)]
    pub seeds: u32,
    #[arg(long = "set", value_name = "PATH=V1,V2")]
    pub sets: Vec<String>,
    #[arg(long)]
    pub json: bool,
}

pub fn sweep(_a: SweepArgs) -> CliResult {
    Err(CliError::Failed("sweep is not built yet".into()))
}
