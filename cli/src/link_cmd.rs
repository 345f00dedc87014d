//! `council link encode|decode`: the app's share-link codec, from core.

use clap::Subcommand;

use crate::input::{load_scenario, print_json};
use crate::{CliError, CliResult};

#[derive(Subcommand)]
pub enum LinkCommand {
    /// Scenario (FILE.json, builtin:<id>, -) → `#s=1.<payload>`.
    Encode {
        scenario: String,
        /// JSON on stdout: {"link": ..., "chars": n}.
        #[arg(long)]
        json: bool,
    },
    /// Link (full URL, #s=..., or 1.<payload>) → scenario JSON.
    Decode {
        link: String,
        /// Compact JSON instead of pretty.
        #[arg(long)]
        json: bool,
    },
}

pub fn link(c: LinkCommand) -> CliResult {
    match c {
        LinkCommand::Encode { scenario, json } => {
            let s = load_scenario(&scenario)?;
            let link = council_core::link::encode(&s).map_err(|e| CliError::bad(e.to_string()))?;
            if json {
                print_json(&serde_json::json!({"link": link, "chars": link.len()}));
            } else {
                out!("{link}");
            }
        }
        LinkCommand::Decode { link, json } => {
            let s = council_core::link::decode(&link).map_err(|e| CliError::bad(e.to_string()))?;
            if json {
                out!("{}", serde_json::to_string(&s).expect("scenarios serialize"));
            } else {
                out!("{}", s.to_json_pretty());
            }
        }
    }
    Ok(())
}
