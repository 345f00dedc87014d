//! Tokenizer load and encode speed beside llama.cpp (llama-cpp-python) measured in the same run.
//!
//! `cargo run --release -p council-gpu --example tokenizer_bench [-- MODEL.gguf]`
//! The peer runs when `~/.cache/council/venv` (or `$COUNCIL_VENV`) has llama-cpp-python.

use std::time::{Duration, Instant};

use council_gpu::gguf::{Gguf, read_header};
use council_gpu::tokenizer::Tokenizer;

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        last = Some(f());
        times.push(t.elapsed());
    }
    (median(times), last.expect("runs > 0"))
}

/// About 1 MB of mixed prose, code, numbers, whitespace runs and non-Latin scripts.
fn corpus() -> String {
    let parts = [
        "The council met at dawn; each agent argued its case, and the moderator summarised. ",
        "It's 2024-05-17 and we've counted 1,234,567 votes (3.14% abstained). ",
        "fn main() {\n    let xs: Vec<u32> = (0..10).map(|i| i * i).collect();\n}\n",
        "Здравствуй, мир! 你好，世界！ こんにちは 😀🎉 café naïve   \t\n\n",
        "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n",
    ];
    let mut s = String::new();
    let mut i = 0;
    while s.len() < 1 << 20 {
        s.push_str(parts[i % parts.len()]);
        i += 7;
    }
    s
}

fn main() {
    // `--profile-load`: only rebuild the tokenizer in a loop (for `perf record`).
    let profile_load = std::env::args().any(|a| a == "--profile-load");
    let model = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .unwrap_or_else(|| {
            let home = std::env::var("HOME").unwrap_or_default();
            format!("{home}/.cache/council/models/SmolLM2-135M-Instruct.Q4_1.gguf")
        });
    let (t_header, header) = time(5, || read_header(&model).expect("readable GGUF"));
    if profile_load {
        let (t, _) = time(100, || Tokenizer::from_gguf(&header).expect("tokenizer"));
        return println!(
            "tokenizer from metadata: median {:.2} ms",
            t.as_secs_f64() * 1e3
        );
    }
    let bytes = std::fs::read(&model).expect("readable model");
    let (t_parse, _) = time(5, || Gguf::parse(&bytes).expect("parses"));
    let (t_build, tok) = time(9, || Tokenizer::from_gguf(&header).expect("tokenizer"));
    let text = corpus();
    let (t_encode, ids) = time(5, || tok.encode(&text, true));
    let mb = text.len() as f64 / 1e6;
    println!(
        "council  read GGUF header from disk: {:7.2} ms",
        t_header.as_secs_f64() * 1e3
    );
    println!(
        "council  parse whole GGUF in memory: {:7.2} ms",
        t_parse.as_secs_f64() * 1e3
    );
    println!(
        "council  tokenizer from metadata:     {:7.2} ms ({} tokens, {} BPE pieces)",
        t_build.as_secs_f64() * 1e3,
        tok.vocab_size(),
        tok.n_bpe_pieces()
    );
    println!(
        "council  encode {:.2} MB:              {:7.2} ms = {:.1} MB/s, {:.2} M tokens/s ({} tokens)",
        mb,
        t_encode.as_secs_f64() * 1e3,
        mb / t_encode.as_secs_f64(),
        ids.len() as f64 / t_encode.as_secs_f64() / 1e6,
        ids.len()
    );
    peer(&model, &text, &ids);
}

fn peer(model: &str, text: &str, ids: &[u32]) {
    let venv = std::env::var("COUNCIL_VENV").unwrap_or_else(|_| {
        format!(
            "{}/.cache/council/venv",
            std::env::var("HOME").unwrap_or_default()
        )
    });
    let python = format!("{venv}/bin/python");
    if !std::path::Path::new(&python).exists() {
        println!("llama.cpp peer skipped: no {python} (scripts/setup creates it)");
        return;
    }
    let text_path =
        std::env::temp_dir().join(format!("council-tokbench-{}.txt", std::process::id()));
    std::fs::write(&text_path, text).expect("temp file");
    let script = r#"
import sys, time, statistics, json
from llama_cpp import Llama
model, path = sys.argv[1], sys.argv[2]
data = open(path, 'rb').read()
loads = []
for _ in range(5):
    t = time.perf_counter(); llm = Llama(model_path=model, vocab_only=True, verbose=False); loads.append(time.perf_counter() - t)
encs = []
for _ in range(5):
    t = time.perf_counter(); ids = llm.tokenize(data, add_bos=False, special=True); encs.append(time.perf_counter() - t)
print(json.dumps({"load": statistics.median(loads), "encode": statistics.median(encs), "ids": ids}))
"#;
    let out = std::process::Command::new(&python)
        .args(["-c", script, model])
        .arg(&text_path)
        .output();
    let _ = std::fs::remove_file(&text_path);
    let out = match out {
        Ok(o) if o.status.success() => o.stdout,
        Ok(o) => {
            return println!(
                "llama.cpp peer failed: {}",
                String::from_utf8_lossy(&o.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
            );
        }
        Err(e) => return println!("llama.cpp peer failed: {e}"),
    };
    let line = String::from_utf8_lossy(&out);
    let json = line.lines().last().unwrap_or("");
    let field = |name: &str| -> f64 {
        let at = json.find(&format!("\"{name}\": ")).expect("field") + name.len() + 4;
        json[at..]
            .split([',', '}'])
            .next()
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    let ids_start = json.find("\"ids\": [").expect("ids") + 8;
    let peer_ids: Vec<u32> = json[ids_start..json.rfind(']').unwrap()]
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let mb = text.len() as f64 / 1e6;
    println!(
        "llama.cpp vocab-only model load:      {:7.2} ms (llama-cpp-python, includes file and hparams)",
        field("load") * 1e3
    );
    println!(
        "llama.cpp encode {:.2} MB:            {:7.2} ms = {:.1} MB/s; same ids as council: {}",
        mb,
        field("encode") * 1e3,
        mb / field("encode"),
        peer_ids == ids
    );
}
