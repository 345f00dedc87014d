//! The hostile-input suite: malformed GGUF files (bad magic and versions, counts and
//! lengths near 2^64, offsets past the end, overflowing shapes, unknown types, hostile
//! chat templates), scenario files and special files, forged links and absurd flags, each
//! given to the release `council` binary. Every one must exit 2 with exactly one line on
//! stderr (no control characters in it), within 5 s and 256 MiB of peak resident memory,
//! measured on the child, not on this process.
//!
//! Time: the child's CPU time (user + system, from wait4) is asserted, so a machine busy
//! with other builds does not fail the suite; wall time is printed beside it, and a child
//! still running after a minute of wall time is killed and fails its case (a hang).
//!
//! Peak memory: wait4's `ru_maxrss` is asserted. Linux carries the spawning process's
//! high-water mark into the child's at exec, so it is an upper bound (it includes this
//! test process's own RSS at spawn time). The child's own `VmHWM`, polled from /proc while
//! it runs, is printed beside it.
//!
//! Needs the release CLI: `$COUNCIL_CLI`, else `$CARGO_TARGET_DIR/release/council` or
//! `target/release/council` (scripts/test builds it first; alone: `cargo build --release
//! -p council-cli`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use council_gpu::gguf::{Array, GgufBuilder, Value, layer_tensor};

/// Most CPU time (user + system) one bad input may cost.
const MAX_CPU: Duration = Duration::from_secs(5);
const MAX_RSS_BYTES: u64 = 256 << 20;
/// A child still running after this much wall time is killed (and the case fails).
const KILL_AFTER: Duration = Duration::from_secs(60);

fn cli() -> PathBuf {
    let path = std::env::var_os("COUNCIL_CLI").map(PathBuf::from).unwrap_or_else(|| {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
        target.join("release/council")
    });
    assert!(
        path.exists(),
        "release CLI not found at {} (set COUNCIL_CLI, or build it: cargo build --release -p council-cli)",
        path.display()
    );
    path
}

/// A scratch folder for the generated files of one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("council-hostile-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[derive(Debug)]
struct Outcome {
    code: Option<i32>,
    signal: Option<i32>,
    stdout: Vec<u8>,
    stderr: String,
    wall: Duration,
    /// User plus system CPU time of the child.
    cpu: Duration,
    /// wait4's ru_maxrss: an upper bound of the child's peak (see the module doc).
    peak_rss: u64,
    /// The child's own VmHWM, polled while it ran (may miss a peak in its last moments).
    hwm: u64,
}

/// VmHWM of a running process, in bytes.
fn vm_hwm(pid: libc::pid_t) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? * 1024)
}

enum Input<'a> {
    Null,
    File(&'a str),
}

/// Runs the CLI with `args`, polling wait4 so the child's own peak RSS comes back.
fn run(args: &[&str], input: Input) -> Outcome {
    let dir = scratch("io");
    let tag = format!("{:x}", rand_tag());
    let (out_path, err_path) = (dir.join(format!("{tag}.out")), dir.join(format!("{tag}.err")));
    let stdin = match input {
        Input::Null => Stdio::null(),
        Input::File(p) => Stdio::from(std::fs::File::open(p).unwrap()),
    };
    let start = Instant::now();
    let child = Command::new(cli())
        .args(args)
        .stdin(stdin)
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .expect("start the CLI");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain data; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let mut hwm = 0;
    loop {
        hwm = hwm.max(vm_hwm(pid).unwrap_or(0));
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if r == pid {
            break;
        }
        assert!(r == 0, "wait4 failed: {}", std::io::Error::last_os_error());
        if start.elapsed() > KILL_AFTER {
            unsafe { libc::kill(pid, libc::SIGKILL) };
            unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let wall = start.elapsed();
    // The child is reaped: std must not wait for it again.
    std::mem::forget(child);
    let stdout = std::fs::read(&out_path).unwrap();
    let stderr = String::from_utf8_lossy(&std::fs::read(&err_path).unwrap()).into_owned();
    let _ = (std::fs::remove_file(out_path), std::fs::remove_file(err_path));
    Outcome {
        code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        signal: libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status)),
        stdout,
        stderr,
        wall,
        cpu: tv(usage.ru_utime) + tv(usage.ru_stime),
        // ru_maxrss is in KiB on Linux.
        peak_rss: usage.ru_maxrss as u64 * 1024,
        hwm,
    }
}

fn tv(t: libc::timeval) -> Duration {
    Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
}

fn rand_tag() -> u128 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    u128::from(N.fetch_add(1, Ordering::Relaxed))
}

/// The contract for bad input: exit 2, one clean line on stderr that mentions `expect`,
/// within the time and memory limits.
#[track_caller]
fn refuses(what: &str, args: &[&str], input: Input, expect: &str) {
    let o = run(args, input);
    let line = o.stderr.trim_end_matches('\n');
    println!(
        "{what:<44} exit {:?} {:>5.0} ms cpu {:>5.0} ms wall  rss<={:>5.1} MiB hwm {:>5.1} MiB  {}",
        o.code,
        o.cpu.as_secs_f64() * 1e3,
        o.wall.as_secs_f64() * 1e3,
        o.peak_rss as f64 / 1048576.0,
        o.hwm as f64 / 1048576.0,
        line.chars().take(150).collect::<String>()
    );
    assert_eq!(o.signal, None, "{what}: killed by signal {:?} (abort, or over {KILL_AFTER:?}): {}", o.signal, o.stderr);
    assert_eq!(o.code, Some(2), "{what}: exit {:?}, stderr {:?}", o.code, o.stderr);
    assert!(o.stderr.ends_with('\n') && !line.contains('\n'), "{what}: not one line: {:?}", o.stderr);
    assert!(line.starts_with("council: "), "{what}: {line:?}");
    assert!(!line.chars().any(char::is_control), "{what}: control characters in {line:?}");
    assert!(line.contains(expect), "{what}: expected {expect:?} in {line:?}");
    assert!(o.cpu < MAX_CPU, "{what}: took {:?} of CPU ({:?} wall)", o.cpu, o.wall);
    assert!(o.peak_rss < MAX_RSS_BYTES, "{what}: peak RSS {} MiB", o.peak_rss >> 20);
}

// --- GGUF files -------------------------------------------------------------------------

/// GPT-2's byte-to-character mapping, as the vocabulary spells bytes.
fn gpt2_char(b: u8) -> char {
    let mut extra = 0u32;
    for x in 0..=255u8 {
        let printable = matches!(x, 0x21..=0x7E | 0xA1..=0xAC | 0xAE..=0xFF);
        let cp = if printable {
            u32::from(x)
        } else {
            extra += 1;
            255 + extra
        };
        if x == b {
            return char::from_u32(cp).unwrap();
        }
    }
    unreachable!()
}

const CHATML: &str = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

/// A complete, tiny llama model with a byte-level BPE tokenizer: 1 layer, n_embd 32,
/// context 64. All weights are zero, so greedy decoding always picks token 0 — whose
/// text is `first_token` (used to check that escape codes from a vocabulary are shown
/// escaped). `edit` may change metadata before the file is written.
fn tiny_model(first_token: &str, template: &str, edit: impl FnOnce(&mut Vec<(String, Value)>)) -> Vec<u8> {
    let mut tokens: Vec<String> = vec![first_token.bytes().map(gpt2_char).collect(), "<|im_start|>".into(), "<|im_end|>".into()];
    let mut types = vec![1i32, 3, 3];
    for b in 0..=255u8 {
        tokens.push(gpt2_char(b).to_string());
        types.push(1);
    }
    let v = tokens.len() as u64;
    let (e, ff) = (32u64, 64u64);
    let mut meta: Vec<(String, Value)> = vec![
        ("general.architecture".into(), "llama".into()),
        ("llama.block_count".into(), 1u32.into()),
        ("llama.context_length".into(), 64u32.into()),
        ("llama.embedding_length".into(), (e as u32).into()),
        ("llama.feed_forward_length".into(), (ff as u32).into()),
        ("llama.attention.head_count".into(), 2u32.into()),
        ("llama.attention.layer_norm_rms_epsilon".into(), 1e-5f32.into()),
        ("tokenizer.ggml.model".into(), "gpt2".into()),
        ("tokenizer.ggml.pre".into(), "gpt2".into()),
        ("tokenizer.ggml.tokens".into(), tokens.into()),
        ("tokenizer.ggml.token_type".into(), types.into()),
        ("tokenizer.ggml.merges".into(), Vec::<String>::new().into()),
        ("tokenizer.ggml.bos_token_id".into(), 1u32.into()),
        ("tokenizer.ggml.eos_token_id".into(), 2u32.into()),
        ("tokenizer.ggml.add_bos_token".into(), false.into()),
        ("tokenizer.chat_template".into(), template.into()),
    ];
    edit(&mut meta);
    let mut b = GgufBuilder::new();
    for (k, v) in meta {
        b.kv(&k, v);
    }
    let zeros = |n: u64| vec![0.0f32; n as usize];
    b.tensor_f32("token_embd.weight", &[e, v], &zeros(e * v)).unwrap();
    b.tensor_f32("output_norm.weight", &[e], &zeros(e)).unwrap();
    let t = |s: &str| layer_tensor(0, s);
    for (name, cols, rows) in [
        ("attn_q.weight", e, e),
        ("attn_k.weight", e, e),
        ("attn_v.weight", e, e),
        ("attn_output.weight", e, e),
        ("ffn_gate.weight", e, ff),
        ("ffn_up.weight", e, ff),
        ("ffn_down.weight", ff, e),
    ] {
        b.tensor_f32(&t(name), &[cols, rows], &zeros(cols * rows)).unwrap();
    }
    b.tensor_f32(&t("attn_norm.weight"), &[e], &zeros(e)).unwrap();
    b.tensor_f32(&t("ffn_norm.weight"), &[e], &zeros(e)).unwrap();
    b.build()
}

fn set(meta: &mut [(String, Value)], key: &str, v: Value) {
    meta.iter_mut().find(|(k, _)| k == key).unwrap_or_else(|| panic!("no key {key}")).1 = v;
}

fn u64_at(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// Offset just after the key named `key`: its value type (u32) starts here.
fn after_key(b: &[u8], key: &str) -> usize {
    let mut needle = (key.len() as u64).to_le_bytes().to_vec();
    needle.extend_from_slice(key.as_bytes());
    b.windows(needle.len()).position(|w| w == needle).unwrap_or_else(|| panic!("no key {key}")) + needle.len()
}

/// Offset of the first tensor info (its name length), found by its name.
fn tensor_info(b: &[u8], name: &str) -> usize {
    let mut needle = (name.len() as u64).to_le_bytes().to_vec();
    needle.extend_from_slice(name.as_bytes());
    // Tensor names also appear nowhere else in these files.
    b.windows(needle.len()).position(|w| w == needle).unwrap()
}

/// Every malformed GGUF, as (name, bytes, what the one-line error must mention). Cases
/// whose name ends in `*` are wrong beyond the header (weights, hyperparameters), so the
/// tokenizer, which reads only the header, accepts them.
fn hostile_ggufs() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let good = tiny_model("ok", CHATML, |_| {});
    let mut out: Vec<(&'static str, Vec<u8>, &'static str)> = Vec::new();
    let mut with = |name: &'static str, expect: &'static str, f: &dyn Fn(&mut Vec<u8>)| {
        let mut b = good.clone();
        f(&mut b);
        out.push((name, b, expect));
    };
    with("bad magic", "not a GGUF file", &|b| b[0..4].copy_from_slice(b"GGML"));
    with("empty file", "truncated", &|b| b.clear());
    with("version 1", "unsupported GGUF version 1", &|b| b[4..8].copy_from_slice(&1u32.to_le_bytes()));
    with("version 4", "unsupported GGUF version 4", &|b| b[4..8].copy_from_slice(&4u32.to_le_bytes()));
    with("version 0", "unsupported GGUF version 0", &|b| b[4..8].copy_from_slice(&0u32.to_le_bytes()));
    with("big-endian", "big-endian", &|b| b[4..8].copy_from_slice(&3u32.to_be_bytes()));
    with("tensor count 2^64-1", "tensor count", &|b| u64_at(b, 8, u64::MAX));
    with("tensor count just over the cap", "tensor count", &|b| u64_at(b, 8, (1 << 16) + 1));
    with("metadata count 2^64-1", "metadata count", &|b| u64_at(b, 16, u64::MAX));
    with("metadata count 2^63", "metadata count", &|b| u64_at(b, 16, 1 << 63));
    with("key length 2^64-1", "limit", &|b| u64_at(b, 24, u64::MAX));
    with("key length 2^40", "limit", &|b| u64_at(b, 24, 1 << 40));
    with("key length past the end", "truncated", &|b| {
        let n = b.len() as u64;
        u64_at(b, 24, n)
    });
    with("string length 2^64-1", "limit", &|b| {
        let at = after_key(b, "general.architecture") + 4;
        u64_at(b, at, u64::MAX)
    });
    with("array length 2^64-1", "array length", &|b| {
        let at = after_key(b, "tokenizer.ggml.tokens") + 8;
        u64_at(b, at, u64::MAX)
    });
    with("array length 2^62", "array length", &|b| {
        let at = after_key(b, "tokenizer.ggml.token_type") + 8;
        u64_at(b, at, 1 << 62)
    });
    with("array element type unknown", "unknown array element type", &|b| {
        let at = after_key(b, "tokenizer.ggml.token_type") + 4;
        b[at..at + 4].copy_from_slice(&77u32.to_le_bytes())
    });
    with("value type unknown", "unknown value type", &|b| {
        let at = after_key(b, "general.architecture");
        b[at..at + 4].copy_from_slice(&13u32.to_le_bytes())
    });
    with("tensor dims overflow", "overflows", &|b| {
        let at = tensor_info(b, "token_embd.weight") + 8 + 17 + 4;
        u64_at(b, at, 1 << 40);
        u64_at(b, at + 8, 1 << 40);
    });
    with("negative tensor dim", "negative dimension", &|b| {
        let at = tensor_info(b, "token_embd.weight") + 8 + 17 + 4;
        u64_at(b, at, u64::MAX)
    });
    with("tensor with 5 dims", "dimensions", &|b| {
        let at = tensor_info(b, "token_embd.weight") + 8 + 17;
        b[at..at + 4].copy_from_slice(&5u32.to_le_bytes())
    });
    with("unknown tensor type", "unknown ggml type", &|b| {
        let at = tensor_info(b, "token_embd.weight") + 8 + 17 + 4 + 16;
        b[at..at + 4].copy_from_slice(&99u32.to_le_bytes())
    });
    with("tensor offset 2^64-32", "overflows", &|b| {
        let at = tensor_info(b, "token_embd.weight") + 8 + 17 + 4 + 16 + 4;
        u64_at(b, at, u64::MAX - 31)
    });
    with("tensor offset past the end *", "truncated", &|b| {
        let at = tensor_info(b, "output_norm.weight") + 8 + 18 + 4 + 8 + 4;
        u64_at(b, at, 1 << 32)
    });
    with("file cut inside the weights *", "truncated", &|b| {
        let n = b.len() - 100;
        b.truncate(n)
    });
    with("file cut inside the header", "truncated", &|b| b.truncate(300));
    out.push(("duplicate key", tiny_model("ok", CHATML, |m| m.push(("llama.block_count".into(), 1u32.into()))), "duplicate metadata key"));
    out.push((
        "nested arrays 9 deep",
        tiny_model("ok", CHATML, |m| {
            let mut a = Array::U8(vec![1]);
            for _ in 0..9 {
                a = Array::Array(vec![a]);
            }
            m.push(("deep".into(), Value::Array(a)));
        }),
        "nested deeper",
    ));
    out.push((
        "alignment not a power of two",
        tiny_model("ok", CHATML, |m| m.push(("general.alignment".into(), 24u32.into()))),
        "general.alignment",
    ));
    out.push((
        "array elements over the header budget",
        tiny_model("ok", CHATML, |m| m.push(("filler".into(), Value::Array(Array::U8(vec![0; (1 << 21) + 1]))))),
        "array elements",
    ));
    out.push(("architecture unsupported *", tiny_model("ok", CHATML, |m| set(m, "general.architecture", "gptneox".into())), "not supported"));
    out.push(("zero layers *", tiny_model("ok", CHATML, |m| set(m, "llama.block_count", 0u32.into())), "must be positive"));
    out.push(("layer count 2^32-1 *", tiny_model("ok", CHATML, |m| set(m, "llama.block_count", u32::MAX.into())), "missing"));
    out.push(("head count not dividing *", tiny_model("ok", CHATML, |m| set(m, "llama.attention.head_count", 3u32.into())), "multiple"));
    out.push((
        "20,000 control tokens",
        tiny_model("ok", CHATML, |m| {
            let mut tokens: Vec<String> = (0..20_000).map(|i| format!("<|c{i}|>")).collect();
            tokens[0] = "ok".into();
            let types: Vec<i32> = (0..20_000).map(|i| if i == 0 { 1 } else { 3 }).collect();
            set(m, "tokenizer.ggml.tokens", tokens.into());
            set(m, "tokenizer.ggml.token_type", types.into());
        }),
        "more than the limit of 16384",
    ));
    out.push(("tokenizer kind unsupported", tiny_model("ok", CHATML, |m| set(m, "tokenizer.ggml.model", "rwkv".into())), "not supported"));
    out
}

/// Hostile chat templates in otherwise valid models: (name, template, message fragment).
const HOSTILE_TEMPLATES: &[(&str, &str, &str)] = &[
    ("template: nested ranges", "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}", "budget"),
    ("template: doubled lists", "{% set ns = namespace(l=range(100000)|list) %}{% for i in range(64) %}{% set ns.l = ns.l + ns.l %}{% endfor %}{{ ns.l|length }}", "refused"),
    ("template: doubled strings", "{% set ns = namespace(s='xx') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}", "budget"),
    ("template: shared nesting", "{% set ns = namespace(x=range(100000)|list) %}{% for i in range(64) %}{% set ns.x = [ns.x, ns.x] %}{% endfor %}{{ ns.x|string }}", "refused"),
    ("template: string repetition", "{{ 'x' * 100000000 }}", "budget"),
    ("template: recursive macro", "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "recursion"),
    ("template: recursive loop", "{% for m in messages recursive %}{{ loop(messages) }}{% endfor %}", "recursion"),
    ("template: format width", "{{ '{:>1000000000}'.format(1) }}", "wider"),
    ("template: output flood", "{% for a in range(100000) %}{% for b in range(100) %}{{ messages }}{% endfor %}{% endfor %}", "limit"),
    ("template: raise_exception", "{{ raise_exception('no thanks') }}", "no thanks"),
];

#[test]
fn malformed_gguf_files_exit_2_within_limits() {
    let dir = scratch("gguf");
    for (name, bytes, expect) in hostile_ggufs() {
        let path = dir.join("m.gguf");
        std::fs::write(&path, &bytes).unwrap();
        let p = path.to_str().unwrap();
        if !name.ends_with('*') {
            refuses(&format!("gguf: {name} (tokenize)"), &["tokenize", "--model", p, "hi"], Input::Null, expect);
        }
        refuses(&format!("gguf: {name} (generate)"), &["generate", "--model", p, "--prompt", "hi", "--chat", "--max-tokens", "2"], Input::Null, expect);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_largest_vocabulary_allowed_stays_within_limits() {
    // 1,000,000 tokens and their types: nearly the header's whole array-element budget
    // (2^21; real vocabularies have at most a few hundred thousand tokens). Loading it must
    // stay inside the time and memory limits.
    let dir = scratch("vocab");
    let path = dir.join("big-vocab.gguf");
    let n = 1_000_000;
    std::fs::write(
        &path,
        tiny_model("ok", CHATML, |m| {
            let tokens: Vec<String> = (0..n).map(|i| format!("t{i}")).collect();
            set(m, "tokenizer.ggml.tokens", tokens.into());
            set(m, "tokenizer.ggml.token_type", vec![1i32; n].into());
        }),
    )
    .unwrap();
    let o = run(&["tokenize", "--model", path.to_str().unwrap(), "t1 t2"], Input::Null);
    println!("1M-token vocabulary: {:?} in {:.0} ms of CPU ({:.0} ms wall), rss<={:.1} MiB hwm {:.1} MiB", o.code, o.cpu.as_secs_f64() * 1e3, o.wall.as_secs_f64() * 1e3, o.peak_rss as f64 / 1048576.0, o.hwm as f64 / 1048576.0);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert!(o.cpu < MAX_CPU && o.peak_rss < MAX_RSS_BYTES, "{o:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn hostile_chat_templates_exit_2_within_limits() {
    let dir = scratch("templates");
    let big = format!("{}{{{{ messages }}}}", "x".repeat(200_000));
    let mut cases: Vec<(&str, String, &str)> = HOSTILE_TEMPLATES.iter().map(|(n, t, e)| (*n, t.to_string(), *e)).collect();
    cases.push(("template: 200 KB source", big, "KiB limit"));
    for (name, template, expect) in cases {
        let path = dir.join("t.gguf");
        std::fs::write(&path, tiny_model("ok", &template, |_| {})).unwrap();
        let p = path.to_str().unwrap();
        refuses(name, &["generate", "--model", p, "--prompt", "hi", "--chat", "--max-tokens", "2"], Input::Null, expect);
        if name == "template: nested ranges" {
            // The template runs before any engine starts: the WebGPU path refuses the same way.
            let args = ["generate", "--model", p, "--prompt", "hi", "--chat", "--max-tokens", "2", "--backend", "wgpu"];
            refuses(&format!("{name} (wgpu)"), &args, Input::Null, expect);
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn absurd_llm_flags_and_inputs_exit_2() {
    let dir = scratch("flags");
    let model = dir.join("tiny.gguf");
    std::fs::write(&model, tiny_model("ok", CHATML, |_| {})).unwrap();
    let m = model.to_str().unwrap();
    let generate_args = |extra: &[&str]| {
        let mut a = vec!["generate", "--model", m, "--prompt", "hi"];
        a.extend_from_slice(extra);
        a.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let refuses_gen = |what: &str, extra: &[&str], expect: &str| {
        let a = generate_args(extra);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        refuses(what, &a, Input::Null, expect);
    };
    refuses_gen("--threads 100000", &["--threads", "100000"], "expected 1 to 1024");
    refuses_gen("--threads 5000", &["--threads", "5000"], "expected 1 to 1024");
    refuses_gen("--threads 0", &["--threads", "0"], "expected 1 to 1024");
    refuses_gen("--max-tokens 2^64-1", &["--max-tokens", "18446744073709551615"], "leave room for at most");
    refuses_gen("--max-tokens 2^64", &["--max-tokens", "18446744073709551616"], "--max-tokens");
    refuses_gen("--max-tokens 0", &["--max-tokens", "0"], "at least 1");
    refuses_gen("--max-tokens past the context", &["--max-tokens", "64"], "leave room for at most 62");
    let long = "z".repeat(200);
    refuses(
        "generate: prompt longer than the context",
        &["generate", "--model", m, "--prompt", &long],
        Input::Null,
        "longer than the model's context of 64",
    );
    refuses(
        "generate --backend wgpu: prompt longer than the context",
        &["generate", "--model", m, "--prompt", &long, "--backend", "wgpu"],
        Input::Null,
        "longer than the model's context",
    );
    refuses("score: token id outside the vocabulary", &["score", "--model", m, "--tokens", "1,999999"], Input::Null, "outside the vocabulary");
    refuses(
        "score --backend wgpu: token id outside the vocabulary",
        &["score", "--model", m, "--tokens", "4294967295", "--backend", "wgpu"],
        Input::Null,
        "outside the vocabulary",
    );
    let many = vec!["7"; 100].join(",");
    refuses("score: more tokens than the context", &["score", "--model", m, "--tokens", &many], Input::Null, "context of 64");
    refuses("score --threads 100000", &["score", "--model", m, "--tokens", "7", "--threads", "100000"], Input::Null, "1024");
    refuses("tokenize: stdin from /dev/zero", &["tokenize", "--model", m, "-"], Input::File("/dev/zero"), "larger than the 1 MiB limit");
    refuses("tokenize: model is /dev/zero", &["tokenize", "--model", "/dev/zero", "hi"], Input::Null, "not a regular file");
    refuses("generate: model is a directory", &["generate", "--model", "/tmp", "--prompt", "hi"], Input::Null, "not a regular file");
    refuses("generate: no such model", &["generate", "--model", "/nonexistent.gguf", "--prompt", "hi"], Input::Null, "no such model");
    let gptneox = dir.join("neox.gguf");
    std::fs::write(&gptneox, tiny_model("ok", CHATML, |m| set(m, "general.architecture", "gptneox".into()))).unwrap();
    refuses(
        "generate --backend wgpu: unsupported model",
        &["generate", "--model", gptneox.to_str().unwrap(), "--prompt", "hi", "--backend", "wgpu"],
        Input::Null,
        "not supported",
    );
    refuses(
        "bench decode --threads 5000",
        &["bench", "decode", "--model", m, "--threads", "5000", "--no-peer"],
        Input::Null,
        "--threads",
    );

    // More threads than the machine but under the cap: lowered, with a note, and it runs.
    let o = run(&["generate", "--model", m, "--prompt", "hi", "--max-tokens", "2", "--threads", "1000"], Input::Null);
    assert_eq!(o.code, Some(0), "{o:?}");
    assert!(o.stderr.contains("lowered to the"), "{}", o.stderr);
    assert!(o.cpu < MAX_CPU && o.peak_rss < MAX_RSS_BYTES, "{o:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn escape_codes_from_a_model_vocabulary_are_shown_escaped() {
    let dir = scratch("escape");
    let model = dir.join("esc.gguf");
    // Token 0 (what zero weights always pick) is an ESC sequence that would turn the
    // terminal red and retitle its window.
    std::fs::write(&model, tiny_model("\u{1b}[31mRED\u{1b}]0;pwned\u{7}", CHATML, |_| {})).unwrap();
    let m = model.to_str().unwrap();
    let o = run(&["generate", "--model", m, "--prompt", "hi", "--max-tokens", "3"], Input::Null);
    assert_eq!(o.code, Some(0), "{o:?}");
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("\\u{1b}[31mRED"), "the piece is shown, escaped: {text:?}");
    assert!(!o.stdout.iter().any(|&b| b == 0x1b || b == 0x07), "raw escape codes in {text:?}");
    // JSON output escapes them by itself.
    let o = run(&["generate", "--model", m, "--prompt", "hi", "--max-tokens", "1", "--json"], Input::Null);
    assert_eq!(o.code, Some(0), "{o:?}");
    assert!(!o.stdout.contains(&0x1b));
    std::fs::remove_dir_all(&dir).unwrap();
}

// --- scenarios, special files, sweeps -----------------------------------------------------

#[test]
fn hostile_scenario_inputs_exit_2_within_limits() {
    let dir = scratch("scenarios");
    let write = |name: &str, text: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let base = r#"{"agents":[{"name":"A"},{"name":"B"}],"mechanism":{"kind":"debate","params":{"rounds":1}},"task":{"kind":"multiple_choice"}}"#;
    let with_card = |link: &str, summary: &str| {
        format!(
            r#"{{"card":{{"paper":"P","year":2023,"link":{},"summary":{},"look_for":"x"}},{}"#,
            serde_json::to_string(link).unwrap(),
            serde_json::to_string(summary).unwrap(),
            &base[1..]
        )
    };
    refuses("run /dev/zero", &["run", "/dev/zero"], Input::Null, "larger than the 8 MiB limit");
    refuses("run - < /dev/zero", &["run", "-"], Input::File("/dev/zero"), "larger than the 8 MiB limit");
    refuses("sweep - < /dev/zero", &["sweep", "-", "--seeds", "2"], Input::File("/dev/zero"), "larger than the 8 MiB limit");
    refuses("link encode /dev/zero", &["link", "encode", "/dev/zero"], Input::Null, "limit");
    refuses("run a directory", &["run", "/tmp"], Input::Null, "directory");
    refuses("run a 9 MiB file", &["run", &write("big.json", &vec![b' '; 9 << 20])], Input::Null, "8 MiB limit");
    refuses("run invalid UTF-8", &["run", &write("bin.json", b"{\"title\":\"\xff\xfe\"}")], Input::Null, "not UTF-8");
    refuses("run 100,000 nested brackets", &["run", &write("deep.json", "[".repeat(100_000).as_bytes())], Input::Null, "");
    refuses(
        "run duplicate keys in params",
        &["run", &write("dup.json", base.replace(r#""rounds":1"#, r#""rounds":1,"rounds":9"#).as_bytes())],
        Input::Null,
        "duplicate key",
    );
    refuses(
        "run duplicate top-level keys",
        &["run", &write("dup2.json", format!("{{\"seed\":1,{}", &base[1..]).replace("{\"seed\":1,", "{\"seed\":1,\"seed\":2,").as_bytes())],
        Input::Null,
        "duplicate",
    );
    refuses("run a 7 MB card summary", &["run", &write("card.json", with_card("https://x.org", &"s".repeat(7_000_000)).as_bytes())], Input::Null, "card.summary: longer than");
    refuses("run a javascript: card link", &["run", &write("js.json", with_card("javascript:alert(1)", "s").as_bytes())], Input::Null, "http:// or https://");
    refuses(
        "run an agent name with escape codes",
        &["run", &write("esc.json", base.replace(r#""name":"A""#, r#""name":"\u001b[2J\u001b]0;x\u0007A""#).as_bytes())],
        Input::Null,
        "control character",
    );
    refuses("run builtin:<ESC...>", &["run", "builtin:\u{1b}[31mred"], Input::Null, "");
    refuses("run a title of 100 KB", &["run", &write("title.json", format!(r#"{{"title":"{}",{}"#, "t".repeat(100_000), &base[1..]).as_bytes())], Input::Null, "title: longer than");

    refuses("sweep --set x=[[[1", &["sweep", "builtin:debate", "--set", "x=[[[1"], Input::Null, "unbalanced");
    refuses("sweep --set x={\"a\":1", &["sweep", "builtin:debate", "--set", "x={\"a\":1"], Input::Null, "unbalanced");
    refuses("sweep --set x=[1,]", &["sweep", "builtin:debate", "--set", "x=[1,]"], Input::Null, "not valid JSON");
    refuses("sweep --set without =", &["sweep", "builtin:debate", "--set", "rounds"], Input::Null, "expected path=value");
    refuses("sweep --seeds 1000000", &["sweep", "builtin:debate", "--seeds", "1000000"], Input::Null, "out of [1,100000]");
    refuses("sweep --seeds 0", &["sweep", "builtin:debate", "--seeds", "0"], Input::Null, "out of [1,");
    refuses(
        "sweep 10 configs x 20,000 seeds",
        &["sweep", "builtin:debate", "--seeds", "20000", "--set", "agents.*.traits.accuracy=0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1"],
        Input::Null,
        "more than the limit of 100000 runs",
    );
    let values: Vec<String> = (0..101).map(|i| i.to_string()).collect();
    let v = values.join(",");
    refuses(
        "sweep 10,201 configs",
        &["sweep", "builtin:debate", "--seeds", "1", "--set", &format!("seed={v}"), "--set", &format!("mechanism.params.rounds={v}")],
        Input::Null,
        "more than 10000 configs",
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_sweep_at_the_run_limit_stays_within_memory() {
    // 100,000 runs of the debate built-in: the largest sweep allowed. Memory must not grow
    // with seeds (statistics are streamed); time is printed, not asserted (it is a load).
    let o = run(&["sweep", "builtin:debate", "--seeds", "100000", "--json"], Input::Null);
    println!(
        "sweep of 100,000 runs: {:.1} s of CPU ({:.1} s wall), peak RSS <= {:.1} MiB (VmHWM {:.1} MiB)",
        o.cpu.as_secs_f64(),
        o.wall.as_secs_f64(),
        o.peak_rss as f64 / 1048576.0,
        o.hwm as f64 / 1048576.0
    );
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert!(o.peak_rss < 64 << 20, "peak RSS {} MiB", o.peak_rss >> 20);
}

// --- links ------------------------------------------------------------------------------------

fn link_of(json: &str, junk: &[u8]) -> String {
    let mut z = miniz_oxide::deflate::compress_to_vec(json.as_bytes(), 10);
    z.extend_from_slice(junk);
    format!("#s=1.{}", URL_SAFE_NO_PAD.encode(z))
}

#[test]
fn forged_links_exit_2_within_limits() {
    let good = r#"{"$base":"debate","$patch":{}}"#;
    let ok = run(&["link", "decode", &link_of(good, b"")], Input::Null);
    assert_eq!(ok.code, Some(0), "the unforged link decodes: {}", ok.stderr);
    let payload = link_of(good, b"");
    let payload = payload.strip_prefix("#s=1.").unwrap();
    let bomb = {
        let z = miniz_oxide::deflate::compress_to_vec(&vec![b' '; 8 << 20], 10);
        format!("#s=1.{}", URL_SAFE_NO_PAD.encode(z))
    };
    let card = |link: &str| {
        format!(
            r#"{{"$base":"debate","$patch":{{"card":{{"paper":"P","year":2023,"link":{},"summary":"s","look_for":"l"}}}}}}"#,
            serde_json::to_string(link).unwrap()
        )
    };
    let cases: Vec<(&str, String, &str)> = vec![
        ("junk after the deflate stream", link_of(good, b"junk"), "junk after the compressed data"),
        ("version +1", format!("#s=+1.{payload}"), "not a number"),
        ("version 01", format!("#s=01.{payload}"), "not a number"),
        ("version 2", format!("#s=2.{payload}"), "version 2 is not supported"),
        ("version 2^64", format!("#s=18446744073709551616.{payload}"), "not a number"),
        ("duplicate keys", link_of(r#"{"$base":"debate","$patch":{"seed":1,"seed":2}}"#, b""), "duplicate key"),
        ("duplicate $base", link_of(r#"{"$base":"debate","$base":"reconcile"}"#, b""), "duplicate key"),
        ("70,000 characters", format!("#s=1.{}", "A".repeat(70_000)), "longer than the 65536-byte limit"),
        ("a deflate bomb (8 MiB of spaces)", bomb, "inflates beyond"),
        ("padding", format!("#s=1.{payload}="), "base64url"),
        ("not deflate", "#s=1.AAAA".into(), "deflate"),
        ("a javascript: card link", link_of(&card("javascript:alert(document.cookie)"), b""), "http:// or https://"),
        ("a data: card link", link_of(&card("data:text/html,<script>alert(1)</script>"), b""), "http:// or https://"),
        ("escape codes in a name", link_of(r#"{"$base":"debate","$patch":{"title":"\u001b[2Jhi"}}"#, b""), "control character"),
        ("a 10,000-deep patch", link_of(&format!("{{\"$base\":\"debate\",\"$patch\":{}1{}}}", "{\"a\":".repeat(10_000), "}".repeat(10_000)), b""), "recursion limit"),
    ];
    for (name, link, expect) in &cases {
        refuses(&format!("link decode: {name}"), &["link", "decode", link], Input::Null, expect);
        refuses(&format!("run <link>: {name}"), &["run", link], Input::Null, expect);
    }
    // A valid scenario too large for a link: encode refuses it instead of writing a link
    // its own decoder would reject.
    let dir = scratch("links");
    let agents: Vec<String> = (0..128)
        .map(|i| {
            let role: String = (0..4000).map(|j| (b'a' + ((i * 7919 + j * 104_729) % 26) as u8) as char).collect();
            format!(r#"{{"name":"A{i}","role":"{role}"}}"#)
        })
        .collect();
    let big = format!(r#"{{"agents":[{}],"topology":{{"kind":"ring"}},"mechanism":{{"kind":"debate"}},"task":{{"kind":"multiple_choice"}}}}"#, agents.join(","));
    let path = dir.join("big.json");
    std::fs::write(&path, big).unwrap();
    refuses("link encode: too large for a link", &["link", "encode", path.to_str().unwrap()], Input::Null, "link:");
    std::fs::remove_dir_all(&dir).unwrap();
}
