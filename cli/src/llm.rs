//! LLM commands on a GGUF model (docs/cli.md): `tokenize` here; generation, scoring
//! and decode benchmarks register beside it. Also what they share: reading a model's header
//! once (tokenizer and hyperparameters, checked before anything is sized from them) and the
//! limits on threads and context that keep a stranger's file or an absurd flag from sizing
//! the work.

use clap::Args;
use council_gpu::gguf::{ModelConfig, read_header};
use council_gpu::tokenizer::{MAX_ENCODE_BYTES, Tokenizer};

use crate::input::{human, read_text};
use crate::text::clean;
use crate::{CliError, CliResult};

/// Most CPU threads a command accepts; counts above the machine's are lowered to it.
pub const MAX_THREADS: usize = 1024;
/// Most positions (prompt plus generated tokens) any command asks the engines for,
/// whatever context length the model file claims.
pub const MAX_CONTEXT: usize = 131_072;

/// The model path must name a regular file (not a directory, pipe or device).
pub(crate) fn check_model(model: &str) -> CliResult {
    match std::fs::metadata(model) {
        Ok(m) if m.is_file() => Ok(()),
        Ok(_) => Err(CliError::bad(format!("{model}: not a regular file"))),
        Err(_) => Err(CliError::bad(format!("{model}: no such model file"))),
    }
}

/// Loads the model's tokenizer, reading only the GGUF header.
pub fn load_tokenizer(model: &str) -> Result<Tokenizer, CliError> {
    check_model(model)?;
    let header = read_header(model).map_err(|e| CliError::bad(format!("{model}: {e}")))?;
    Tokenizer::from_gguf(&header).map_err(|e| CliError::bad(format!("{model}: {e}")))
}

/// The tokenizer and the checked hyperparameters, from one read of the header. An
/// unsupported architecture or inconsistent tensors are bad input here, before any engine
/// (CPU or WebGPU) is started.
pub fn load_model_header(model: &str) -> Result<(Tokenizer, ModelConfig), CliError> {
    check_model(model)?;
    let header = read_header(model).map_err(|e| CliError::bad(format!("{model}: {e}")))?;
    let config = ModelConfig::from_gguf(&header).map_err(|e| CliError::bad(format!("{model}: {e}")))?;
    let tok = Tokenizer::from_gguf(&header).map_err(|e| CliError::bad(format!("{model}: {e}")))?;
    if tok.vocab_size() > config.n_vocab {
        return Err(CliError::bad(format!(
            "{model}: the tokenizer has {} tokens but the model's output has {}",
            tok.vocab_size(),
            config.n_vocab
        )));
    }
    Ok((tok, config))
}

/// The context a command may use: the model's training context, at most [`MAX_CONTEXT`].
pub fn context_of(config: &ModelConfig) -> usize {
    config.n_ctx_train.min(MAX_CONTEXT)
}

/// `--threads N` as a thread count: 0 and more than [`MAX_THREADS`] are refused; more
/// than the machine has is lowered to that, with a note on stderr (extra threads only
/// contend for the same cores).
pub fn thread_count(n: usize) -> Result<usize, CliError> {
    if n == 0 || n > MAX_THREADS {
        return Err(CliError::bad(format!("--threads {n}: expected 1 to {MAX_THREADS}")));
    }
    let machine = std::thread::available_parallelism().map_or(1, |n| n.get());
    if n > machine {
        eprintln!("council: note: --threads {n} lowered to the {machine} this machine has");
        return Ok(machine);
    }
    Ok(n)
}

#[derive(Args)]
pub struct TokenizeArgs {
    /// The GGUF model whose tokenizer to use.
    #[arg(long)]
    pub model: String,
    /// Text to tokenize (`-` reads stdin; at most 1 MiB).
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
        read_text("-", MAX_ENCODE_BYTES as u64, "text to tokenize")?
    } else if a.text.len() > MAX_ENCODE_BYTES {
        return Err(CliError::bad(format!("the text is larger than the {} limit", human(MAX_ENCODE_BYTES as u64))));
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
        out!("{}", clean(&list.join(",")));
    }
    Ok(())
}
