//! Share links: the part after `#s=` is the core's link codec (`<version>.<payload>`),
//! so the app, the CLI and the fuzzers all use exactly the same encoder and checks.

use council_core::scenario::Scenario;

/// The link payload for `s`, without the `#s=` prefix (what `Route::Shared` holds).
pub fn encode(s: &Scenario) -> Result<String, String> {
    let full = council_core::link::encode(s).map_err(|e| e.to_string())?;
    Ok(full.strip_prefix("#s=").unwrap_or(&full).to_string())
}

/// Decodes a payload (or a whole URL / `#s=` fragment); errors are one readable line.
pub fn decode(link: &str) -> Result<Scenario, String> {
    council_core::link::decode(link).map_err(|e| e.to_string())
}
