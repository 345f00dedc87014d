//! `council`: the native driver. Its command contract is in docs/cli.md: JSON on stdout
//! with `--json`, human text otherwise; exit 0 on success, 2 on bad input with a one-line
//! error on stderr (1 when something fails after the input was accepted); every input
//! bounded before work is sized from it.

/// `println!` that ends the process quietly when stdout is closed (e.g. piped to `head`).
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        if writeln!(std::io::stdout(), $($t)*).is_err() {
            std::process::exit(0);
        }
    }};
}


mod agents;
mod bench;
mod bench_batch;
mod bench_debate;
mod bench_decode;
mod bench_speculative;
mod generate;
mod input;
mod link_cmd;
mod llm;
mod run_cmd;
mod sweep_cmd;
mod text;
mod train_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "council", version, about = "Watch, tweak and compare how AI agents collaborate (headless driver).")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one scenario (a JSON file, `builtin:<id>`, a share link, or `-` for stdin).
    Run(run_cmd::RunArgs),
    /// Run a scenario over a grid of overrides × N seeds; mean and 95% interval per config.
    Sweep(sweep_cmd::SweepArgs),
    /// List the built-in scenarios.
    Scenarios(run_cmd::ScenariosArgs),
    /// Train the conductor's policy by policy gradient (needs the `train` feature: burn).
    Train(train_cmd::TrainArgs),
    /// Share-link codec (the app's `#s=` links).
    #[command(subcommand)]
    Link(link_cmd::LinkCommand),
    /// Benchmarks that print figures beside a named peer.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    // LLM commands (generate, tokenize, score) register here, one line each, from llm.rs.
    /// Token ids of TEXT under a GGUF model's tokenizer (same rules as llama.cpp).
    Tokenize(llm::TokenizeArgs),
    /// Generate text from a prompt with a GGUF model (CPU or WebGPU path).
    Generate(generate::GenerateArgs),
    /// Teacher-forced top-k next-token logits at every position of a token sequence.
    Score(generate::ScoreArgs),
    /// Cross-target determinism probe (used by the browser test).
    #[command(hide = true)]
    ProbeDigest { seed: Option<u64>, steps: Option<u32> },
    /// Every built-in's event-log hash as JSON {id: hash} (the browser test compares
    /// them with core::builtin_hashes() run in wasm).
    #[command(hide = true)]
    BuiltinHashes,
}

/// A command failure: `BadInput` exits 2, `Failed` exits 1. Both print one line.
pub enum CliError {
    BadInput(String),
    Failed(String),
}

impl CliError {
    pub fn bad(msg: impl Into<String>) -> Self {
        CliError::BadInput(msg.into())
    }
}

pub type CliResult = Result<(), CliError>;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand) {
                let _ = e.print();
                return if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand { ExitCode::from(2) } else { ExitCode::SUCCESS };
            }
            let msg = e.to_string();
            let first = msg.lines().next().unwrap_or("bad arguments").trim_start_matches("error: ");
            eprintln!("council: {} (see --help)", text::one_line(first));
            return ExitCode::from(2);
        }
    };
    let result = match cli.command {
        Command::Run(a) => run_cmd::run(a),
        Command::Sweep(a) => sweep_cmd::sweep(a),
        Command::Train(a) => train_cmd::train(a),
        Command::Scenarios(a) => run_cmd::scenarios(a),
        Command::Link(c) => link_cmd::link(c),
        Command::Bench(c) => bench::bench(c),
        Command::Tokenize(a) => llm::tokenize(a),
        Command::Generate(a) => generate::generate(a),
        Command::Score(a) => generate::score(a),
        Command::BuiltinHashes => {
            let map: serde_json::Map<String, serde_json::Value> =
                council_core::builtin_hashes().into_iter().map(|(id, h)| (id, serde_json::Value::String(h))).collect();
            out!("{}", serde_json::Value::Object(map));
            Ok(())
        }
        Command::ProbeDigest { seed, steps } => {
            out!("{}", council_core::determinism::probe_digest(seed.unwrap_or(42), steps.unwrap_or(1000)));
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::BadInput(m)) => {
            eprintln!("council: {}", text::one_line(&m));
            ExitCode::from(2)
        }
        Err(CliError::Failed(m)) => {
            eprintln!("council: {}", text::one_line(&m));
            ExitCode::from(1)
        }
    }
}
