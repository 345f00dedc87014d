//! LLM commands on a GGUF model (architecture.md §6): `tokenize` here; generation, scoring
//! and decode benchmarks register beside it.

use std::io::Read;

use clap::Args;
use council_gpu::gguf::read_header;
use council_gpu::tokenizer::Tokenizer;

use crate::{CliError, CliResult};

/// Loads the model's tokenizer, reading only the GGUF header.
pub fn load_tokenizer(model: &str) -> Result<Tokenizer, CliError> {
    let header = read_header(model).map_err(|e| CliError::bad(format!("{model}: {e}")))?;
    Tokenizer::from_gguf(&header).map_err(|e| CliError::bad(format!("{model}: {e}")))
}

#[derive(Args)]
pub struct TokenizeArgs {
    /// The GGUF model whose tokenizer to use.
    #[arg(long)]
    pub model: String,
    /// Text to tokenize (`-` reads stdin).
    pub text: String,
    /// Treat special-token texts such as `<|im_start|>` as plain text.
    #[arg(long)]
    pub no_special: bool,
    /// Print `{"tokens":[...],"pieces":[...]}` instead of comma-separated ids.
    #[arg(long)]
    pub json: bool,
}

/// `council tokenize`: token ids exactly as llama.cpp's `llama_tokenize(text, add_special =
/// false, parse_special = !no_special)`.
pub fn tokenize(a: TokenizeArgs) -> CliResult {
    let text = if a.text == "-" {
        let mut s = String::new();
        std::io::stdin()
            .take(64 << 20)
            .read_to_string(&mut s)
            .map_err(|e| CliError::bad(format!("stdin: {e}")))?;
        s
    } else {
        a.text
    };
    let tok = load_tokenizer(&a.model)?;
    let ids = tok.encode(&text, !a.no_special);
    if a.json {
        let pieces: Vec<String> = ids
            .iter()
            .map(|&id| String::from_utf8_lossy(tok.token_piece(id, true)).into_owned())
            .collect();
        out!("{}", serde_json::json!({ "tokens": ids, "pieces": pieces }));
    } else {
        let list: Vec<String> = ids.iter().map(u32::to_string).collect();
        out!("{}", list.join(","));
    }
    Ok(())
}
