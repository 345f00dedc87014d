//! A system + user turn as the token ids a model continues with the assistant's reply: the
//! model's chat template (or a plain layout when it has none), with BOS when the model wants
//! one. The page's model worker and the CLI's local agents build their prompts here, so both
//! send a model exactly the same tokens.

use crate::tokenizer::{ChatMessage, Tokenizer};

/// Token ids of `system` then `user`, ready for the assistant's reply.
pub fn turn_tokens(tok: &Tokenizer, system: &str, user: &str) -> Result<Vec<u32>, String> {
    let text = match tok.chat_template().map_err(|e| e.to_string())? {
        Some(t) => t.render(&[ChatMessage::new("system", system), ChatMessage::new("user", user)], true).map_err(|e| e.to_string())?,
        None => format!("{system}\n\n{user}\n\n"),
    };
    let mut tokens = tok.encode(&text, true);
    if tok.add_bos()
        && let Some(b) = tok.bos()
        && tokens.first() != Some(&b)
    {
        tokens.insert(0, b);
    }
    if tokens.is_empty() {
        return Err("the prompt is empty".into());
    }
    Ok(tokens)
}
