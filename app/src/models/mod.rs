//! Local GGUF models in the page: the bundled catalog, downloads that resume, storage,
//! and generation in a Web Worker.

pub mod catalog;
pub mod download;
pub mod opfs;
pub mod page;

use council_core::prompt::Prompt;

/// A finished local generation.
#[derive(Debug, Clone, PartialEq)]
pub struct Generated {
    pub text: String,
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
}

/// Generates a reply with local model `model_id`, calling `on_text` with each piece.
pub async fn generate(model_id: &str, _prompt: &Prompt, _max_tokens: u32, _on_text: Box<dyn Fn(&str)>) -> Result<Generated, String> {
    Err(format!("local model \"{model_id}\": the in-page engine is not available in this build yet"))
}

/// What the link gate says about a local model.
pub fn gate_line(model_id: &str) -> String {
    match catalog::find(model_id) {
        Some(m) => format!("runs the local model {} in this page; it downloads {} from {} first unless already stored", m.label, catalog::human_bytes(m.size), m.host()),
        None => format!("runs the local model \"{model_id}\", which must be added on the Models & keys page first"),
    }
}
