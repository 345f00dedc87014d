//! `council link encode|decode` (filled in with the link codec).

use clap::Subcommand;

use crate::{CliError, CliResult};

#[derive(Subcommand)]
pub enum LinkCommand {
    /// Scenario → share link.
    Encode { scenario: String },
    /// Share link → scenario JSON.
    Decode { link: String },
}

pub fn link(_c: LinkCommand) -> CliResult {
    Err(CliError::Failed("link codec is not built yet".into()))
}
