//! Reading a scenario argument: a JSON file, `builtin:<id>`, `-` (stdin) or a share link.

use std::io::Read;

use council_core::Scenario;

use crate::CliError;

pub fn load_scenario(arg: &str) -> Result<Scenario, CliError> {
    if let Some(id) = arg.strip_prefix("builtin:") {
        return council_core::builtin(id).map_err(|e| CliError::bad(e.0));
    }
    if arg.contains("#s=") || arg.starts_with("s=") {
        return council_core::link::decode(arg).map_err(|e| CliError::bad(e.to_string()));
    }
    let text = if arg == "-" {
        let mut s = String::new();
        std::io::stdin()
            .take(8 << 20)
            .read_to_string(&mut s)
            .map_err(|e| CliError::bad(format!("stdin: {e}")))?;
        s
    } else {
        let meta = std::fs::metadata(arg).map_err(|e| CliError::bad(format!("{arg}: {e}")))?;
        if meta.len() > 8 << 20 {
            return Err(CliError::bad(format!("{arg}: larger than 8 MiB; not a scenario")));
        }
        std::fs::read_to_string(arg).map_err(|e| CliError::bad(format!("{arg}: {e}")))?
    };
    Scenario::from_json(&text).map_err(|e| CliError::bad(format!("{arg}: {e}")))
}

pub fn print_json(v: &serde_json::Value) {
    out!("{}", serde_json::to_string_pretty(v).expect("values serialize"));
}
