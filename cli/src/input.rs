//! Reading a scenario argument: a JSON file, `builtin:<id>`, `-` (stdin) or a share link;
//! and the one bounded reader every command uses for files and stdin.

use std::io::Read;

use council_core::Scenario;

use crate::CliError;

/// Largest scenario file (or stdin) accepted.
pub const MAX_SCENARIO_BYTES: u64 = 8 << 20;

/// Reads at most `limit` bytes of UTF-8 text from `path` (`-` is stdin). The limit is
/// checked while reading, never trusted from metadata, so special files (/dev/zero, a
/// pipe that never ends) stop at `limit + 1` bytes instead of filling memory.
pub fn read_text(path: &str, limit: u64, what: &str) -> Result<String, CliError> {
    let mut buf = Vec::new();
    let shown = if path == "-" { "stdin" } else { path };
    let result = if path == "-" {
        std::io::stdin().lock().take(limit + 1).read_to_end(&mut buf)
    } else {
        let file = std::fs::File::open(path).map_err(|e| CliError::bad(format!("{path}: {e}")))?;
        if file.metadata().is_ok_and(|m| m.is_dir()) {
            return Err(CliError::bad(format!("{path}: is a directory, not {what}")));
        }
        file.take(limit + 1).read_to_end(&mut buf)
    };
    result.map_err(|e| CliError::bad(format!("{shown}: {e}")))?;
    if buf.len() as u64 > limit {
        return Err(CliError::bad(format!("{shown}: larger than the {} limit for {what}", human(limit))));
    }
    String::from_utf8(buf).map_err(|e| CliError::bad(format!("{shown}: not UTF-8 text (byte {})", e.utf8_error().valid_up_to())))
}

/// "8 MiB", "64 KiB", "100 bytes".
pub fn human(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes.is_multiple_of(1 << 10) {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} bytes")
    }
}

pub fn load_scenario(arg: &str) -> Result<Scenario, CliError> {
    if let Some(id) = arg.strip_prefix("builtin:") {
        return council_core::builtin(id).map_err(|e| CliError::bad(e.0));
    }
    if arg.contains("#s=") || arg.starts_with("s=") {
        return council_core::link::decode(arg).map_err(|e| CliError::bad(e.to_string()));
    }
    let text = read_text(arg, MAX_SCENARIO_BYTES, "a scenario")?;
    Scenario::from_json(&text).map_err(|e| CliError::bad(format!("{}: {e}", if arg == "-" { "stdin" } else { arg })))
}

pub fn print_json(v: &serde_json::Value) {
    out!("{}", serde_json::to_string_pretty(v).expect("values serialize"));
}
