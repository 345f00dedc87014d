//! The user's backend settings: remote profiles and per-run limits, kept only in this
//! browser's localStorage under one key. Scenarios name a profile (`remote:<name>`); the
//! URL never leaves this store except as the address of that profile's own requests.
//! API keys are not part of what is saved here: `save` writes every profile with an empty
//! key, and the keys are sealed apart (`super::keys`). Settings saved by older versions may
//! still hold a plain key; `load` reads it and `keys::migrate_plain_keys` moves it out.

use serde::{Deserialize, Serialize};

use super::protocol::{ApiKind, Profile};
use crate::models::EnginePref;

/// localStorage key.
pub const STORAGE_KEY: &str = "council.backends.v1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub profiles: Vec<Profile>,
    /// Most remote HTTP requests one run may make (retries count).
    pub max_remote_calls: u32,
    /// Seconds to wait for response headers, and between two chunks of a stream.
    pub timeout_s: u32,
    /// Attempts per ask on 429 / 5xx / dropped connections.
    pub max_attempts: u32,
    /// Tokens a local model may write per reply.
    pub local_max_tokens: u32,
    /// Which engine runs local models (auto: WebGPU when it passes a self-check).
    pub local_engine: EnginePref,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { profiles: Vec::new(), max_remote_calls: 200, timeout_s: 60, max_attempts: 4, local_max_tokens: 64, local_engine: EnginePref::Auto }
    }
}

impl Settings {
    pub fn profile(&self, name: &str) -> Option<&Profile> {
        self.profiles.iter().find(|p| p.name == name)
    }

    /// Adds or replaces the profile with this name.
    pub fn upsert(&mut self, p: Profile) {
        match self.profiles.iter_mut().find(|x| x.name == p.name) {
            Some(x) => *x = p,
            None => self.profiles.push(p),
        }
    }

    pub fn validate(&self) -> Result<(), String> {
        for p in &self.profiles {
            p.validate()?;
        }
        if !(1..=10_000).contains(&self.max_remote_calls) {
            return Err("remote calls per run: 1 to 10000".into());
        }
        if !(1..=600).contains(&self.timeout_s) {
            return Err("timeout: 1 to 600 seconds".into());
        }
        if !(1..=10).contains(&self.max_attempts) {
            return Err("attempts: 1 to 10".into());
        }
        if !(1..=4096).contains(&self.local_max_tokens) {
            return Err("local max tokens: 1 to 4096".into());
        }
        Ok(())
    }
}

/// A template for the settings form.
pub fn example_profile(kind: ApiKind) -> Profile {
    let (url, model) = match kind {
        ApiKind::Openai => ("http://127.0.0.1:8000/v1", ""),
        ApiKind::Anthropic => ("https://api.anthropic.com", "claude-3-5-haiku-latest"),
        ApiKind::Ollama => ("http://127.0.0.1:11434", "llama3.2"),
    };
    Profile {
        name: kind.name().into(),
        kind,
        url: url.into(),
        key: String::new(),
        model: model.into(),
        max_tokens: 256,
        temperature: None,
        price_in: 0.0,
        price_out: 0.0,
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// The saved settings (defaults when none are saved or the saved text is unreadable).
pub fn load() -> Settings {
    storage()
        .and_then(|s| s.get_item(STORAGE_KEY).ok().flatten())
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

/// Saves `s` without any key (see the module doc).
pub fn save(s: &Settings) -> Result<(), String> {
    s.validate()?;
    let mut keyless = s.clone();
    for p in &mut keyless.profiles {
        p.key.clear();
    }
    let text = serde_json::to_string(&keyless).map_err(|e| e.to_string())?;
    storage()
        .ok_or("this browser has no localStorage")?
        .set_item(STORAGE_KEY, &text)
        .map_err(|_| "cannot save the settings (storage full or blocked)".to_string())
}
