//! Share links: the part after `#s=` is the core's link codec (`<version>.<payload>`),
//! so the app, the CLI and the fuzzers all use exactly the same encoder and checks.

use council_core::scenario::Scenario;

// TODO(link): switch to council_core::link::{encode, decode} as soon as core exports it.
pub fn encode(_s: &Scenario) -> Result<String, String> {
    Err("share links are not available in this build yet".into())
}

pub fn decode(_link: &str) -> Result<Scenario, String> {
    Err("share links are not available in this build yet".into())
}
