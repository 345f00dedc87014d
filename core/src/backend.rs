//! Which kind of mind answers an agent's asks: a simulated agent, a local GGUF model, or
//! a remote API profile.
//!
//! Scenarios (and so share links) name backends by profile as the strings `sim`,
//! `local:<model-id>` and `remote:<profile>`; the profile itself (URL, key) lives only in
//! the user's local settings. This type is the one place those strings are parsed, so the
//! drivers (app, CLI) match on variants instead of string prefixes.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The most bytes a backend name may take in a scenario.
pub const MAX_BACKEND_NAME: usize = 128;

/// An agent's backend.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Backend {
    /// A seeded simulated agent (exactly replayable).
    #[default]
    Sim,
    /// A GGUF model run by Council's own engine, by catalogue id (`local:smollm2-135m`).
    Local(String),
    /// A remote API profile from the user's settings (`remote:openai`).
    Remote(String),
}

impl Backend {
    /// Parses `sim`, `local:<model-id>` or `remote:<profile>`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let named = |rest: &str| (!rest.is_empty() && text.len() <= MAX_BACKEND_NAME).then(|| rest.to_string());
        let parsed = if text == "sim" {
            Some(Backend::Sim)
        } else if let Some(m) = text.strip_prefix("local:") {
            named(m).map(Backend::Local)
        } else if let Some(p) = text.strip_prefix("remote:") {
            named(p).map(Backend::Remote)
        } else {
            None
        };
        parsed.ok_or_else(|| {
            let shown: String = text.chars().take(40).collect();
            format!("backend \"{shown}\" is not sim, local:<model-id> or remote:<profile>")
        })
    }

    pub fn is_sim(&self) -> bool {
        matches!(self, Backend::Sim)
    }

    /// The remote profile name, for remote backends.
    pub fn remote(&self) -> Option<&str> {
        match self {
            Backend::Remote(p) => Some(p),
            _ => None,
        }
    }

    /// The local model id, for local backends.
    pub fn local(&self) -> Option<&str> {
        match self {
            Backend::Local(m) => Some(m),
            _ => None,
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Backend::Sim => f.write_str("sim"),
            Backend::Local(m) => write!(f, "local:{m}"),
            Backend::Remote(p) => write!(f, "remote:{p}"),
        }
    }
}

impl std::str::FromStr for Backend {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Backend::parse(s)
    }
}

impl Serialize for Backend {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Backend {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Backend::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_the_three_forms() {
        for text in ["sim", "local:smollm2-135m", "remote:openai"] {
            let b = Backend::parse(text).unwrap();
            assert_eq!(b.to_string(), text);
            assert_eq!(serde_json::to_string(&b).unwrap(), format!("\"{text}\""));
            assert_eq!(serde_json::from_str::<Backend>(&format!("\"{text}\"")).unwrap(), b);
        }
        assert_eq!(Backend::parse("remote:openai").unwrap().remote(), Some("openai"));
        assert_eq!(Backend::parse("local:m").unwrap().local(), Some("m"));
    }

    #[test]
    fn rejects_what_is_not_a_backend() {
        for bad in ["", "gpt", "local:", "remote:", "Sim", "local", &format!("remote:{}", "x".repeat(200))] {
            let e = Backend::parse(bad).unwrap_err();
            assert!(e.contains("is not sim, local:<model-id> or remote:<profile>"), "{e}");
            assert!(e.len() < 120, "one short line: {e}");
        }
    }
}
