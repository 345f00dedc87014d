//! The cast of a run as the views need it: agents (name, role, backend badge) and the
//! topology's directed edges. Built from a core scenario; also what exports embed.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentInfo {
    pub name: String,
    pub role: String,
    /// Backend profile name (`sim`, `local:<model>`, `remote:<profile>`).
    pub backend: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cast {
    pub agents: Vec<AgentInfo>,
    /// Directed edges (from, to) between agent indices.
    pub edges: Vec<(u32, u32)>,
    /// The topology is a pipeline or plan: a layered layout reads best.
    #[serde(default)]
    pub layered: bool,
}

impl Cast {
    /// Short badge text for a backend profile.
    pub fn badge(backend: &str) -> &'static str {
        match council_core::Backend::parse(backend) {
            Ok(council_core::Backend::Sim) => "sim",
            Ok(council_core::Backend::Local(_)) => "local",
            Ok(council_core::Backend::Remote(_)) => "remote",
            Err(_) => "?",
        }
    }
}
