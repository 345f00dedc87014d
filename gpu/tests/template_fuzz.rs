//! Chat templates from strangers' model files: a corpus of hostile templates (nested and
//! doubled ranges, doubling strings and lists, string repetition, blow-up `replace`,
//! padding filters, unbounded recursion, deep nesting, oversized sources) must each fail
//! with a template error quickly and in bounded memory; and a deterministic fuzz of
//! grammar-built and mutated templates must never panic, over-allocate or run long.
//! "Over-allocate" is measured: a counting allocator tracks the live bytes of the test's
//! thread, and each render's peak must stay under 160 MiB (the fuel's data budget is ~64 MiB).
//!
//! `cargo test` runs 3,000 fuzz cases (~15 s in a debug build); `COUNCIL_FUZZ_CASES=1000000
//! cargo test -p council-gpu --release --test template_fuzz -- --nocapture` runs a million.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::{Duration, Instant};

use council_gpu::tokenizer::{
    ChatMessage, ChatTemplate, MAX_RENDER_BYTES, MAX_TEMPLATE_BYTES, TokenizerError,
};

/// Tracks live bytes allocated by the current thread while armed, and their peak.
struct LiveAlloc;

thread_local! {
    static ARMED: Cell<bool> = const { Cell::new(false) };
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn account(delta: isize) {
    let _ = ARMED.try_with(|armed| {
        if armed.get() {
            let _ = LIVE.try_with(|l| {
                let now = l.get() + delta;
                l.set(now);
                let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
            });
        }
    });
}

unsafe impl GlobalAlloc for LiveAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        account(layout.size() as isize);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        account(-(layout.size() as isize));
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        account(new_size as isize - layout.size() as isize);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: LiveAlloc = LiveAlloc;

/// CPU time of the calling thread: unlike wall time it does not grow when other work
/// shares the machine, so the time bounds below measure the render, not the load.
fn thread_cpu() -> Duration {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime only writes the timespec it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// Compiles and renders `source` on a short conversation, measuring the peak of live
/// bytes (above what was live before) and the CPU time taken.
fn render(source: &str) -> (Result<String, TokenizerError>, usize, Duration) {
    let messages = [
        ChatMessage::new("system", "You are brief."),
        ChatMessage::new("user", "What is 2 + 2?"),
        ChatMessage::new("assistant", "4"),
        ChatMessage::new("user", "And 3 + 3?"),
    ];
    LIVE.with(|l| l.set(0));
    PEAK.with(|p| p.set(0));
    ARMED.with(|a| a.set(true));
    let t = thread_cpu();
    let result = ChatTemplate::new(source, "<s>", "</s>").and_then(|t| t.render(&messages, true));
    let took = thread_cpu() - t;
    ARMED.with(|a| a.set(false));
    (result, PEAK.with(|p| p.get()).max(0) as usize, took)
}

/// Memory one render may hold at its peak: the fuel's data budget (~64 MiB) plus room.
const MAX_LIVE: usize = 160 << 20;

const HOSTILE: &[(&str, &str)] = &[
    ("nested ranges", "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}"),
    ("nested ranges, no output", "{% for a in range(100000) %}{% for b in range(100000) %}{% for c in range(100000) %}{% endfor %}{% endfor %}{% endfor %}"),
    ("chained lists", "{% set ns = namespace(l=range(100000)|list) %}{% for i in range(64) %}{% set ns.l = ns.l|chain(ns.l) %}{% endfor %}{{ ns.l|length }}"),
    ("summed lists", "{% set ns = namespace(l=range(100000)|list) %}{% for i in range(64) %}{% set ns.l = range(2)|map('string')|list|sum(start=ns.l) %}{% endfor %}{{ ns.l|length }}"),
    ("list growth then repeat", "{% set ns = namespace(l=['x'] * 100000000) %}{% for i in range(40) %}{% set ns.l = ns.l + [1] %}{% endfor %}{{ ns.l|length }}"),
    ("repeated list materialized", "{{ (['x'] * 100000000)|list|length }}"),
    ("repeated list sorted", "{{ (['x'] * 100000000)|sort|length }}"),
    ("repeated list reversed", "{{ (['x'] * 100000000)|reverse|list|length }}"),
    ("repeated list unique", "{{ (['x', 'y'] * 50000000)|unique|list|length }}"),
    ("repeated list as text", "{{ (['x'] * 100000000)|string|length }}"),
    ("repeated list last", "{{ (['x'] * 100000000)|last }}"),
    ("repeated list membership", "{{ 'y' in (['x'] * 100000000) }}"),
    ("shared list nesting", "{% set ns = namespace(x=range(100000)|list) %}{% for i in range(64) %}{% set ns.x = [ns.x, ns.x] %}{% endfor %}{{ ns.x|string|length }}"),
    ("shared map nesting", "{% set ns = namespace(x='abc') %}{% for i in range(64) %}{% set ns.x = {'a': ns.x, 'b': ns.x} %}{% endfor %}{{ ns.x|tojson|length }}"),
    ("fill_with sharing", "{% set ns = namespace(x=range(100000)|list) %}{% for i in range(8) %}{% set ns.x = [1]|batch(100000, ns.x) %}{% endfor %}{{ '' ~ ns.x }}"),
    ("map default sharing", "{% set ns = namespace(x=range(100000)|list) %}{% for i in range(8) %}{% set ns.x = range(100000)|map('default', ns.x)|list %}{% endfor %}{{ ns.x|tojson }}"),
    ("doubled range lists", "{% set ns = namespace(l=range(100000)|list) %}{% for i in range(64) %}{% set ns.l = ns.l + ns.l %}{% endfor %}{{ ns.l|length }}"),
    ("doubling string", "{% set ns = namespace(s='xx') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}"),
    ("doubling string with +", "{% set ns = namespace(s='xx') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s }}"),
    ("string repetition", "{{ 'x' * 100000000 }}"),
    ("string repetition, captured", "{% set s = 'ab' * 50000000 %}{{ s|length }}"),
    ("list repetition", "{{ (messages * 100000000)|length }}"),
    ("list repetition joined", "{{ (['x'] * 100000000)|join('') }}"),
    ("replace blow-up", "{% set s = 'x' * 100000 %}{{ s.replace('', s)|length }}"),
    ("replace chain", "{% set ns = namespace(s='abc') %}{% for i in range(40) %}{% set ns.s = ns.s.replace('a', 'aa') %}{% endfor %}{{ ns.s|length }}"),
    ("center padding", "{{ 'x'|center(1000000000) }}"),
    ("indent padding", "{{ 'a\nb\nc'|indent(1000000000) }}"),
    ("python format width", "{{ '{:>1000000000}'.format(1) }}"),
    ("python format precision", "{{ '{:.1000000000f}'.format(1.5) }}"),
    ("printf format width", "{{ '%1000000000d'|format(1) }}"),
    ("recursive macro", "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"),
    ("recursive loop", "{% for m in messages recursive %}{{ loop(messages) }}{% endfor %}"),
    ("deep expression nesting", "PARENS"),
    ("deep block nesting", "BLOCKS"),
    ("oversized source", "OVERSIZED"),
    ("output flood", "{% for a in range(100000) %}{% for b in range(100) %}{{ messages }}{% endfor %}{% endfor %}"),
    ("tojson flood", "{% for a in range(100000) %}{{ messages|tojson }}{% endfor %}"),
    ("sort of a huge list", "{{ (range(100000)|list * 1000)|sort|length }}"),
    ("raise_exception", "{{ raise_exception('refused') }}"),
    ("unknown function", "{{ strftime_now('%Y') }}"),
    ("syntax error", "{% for %}"),
];

fn source_of(template: &str) -> String {
    match template {
        "PARENS" => format!("{{{{ {}1{} }}}}", "(".repeat(5000), ")".repeat(5000)),
        "BLOCKS" => format!("{}x{}", "{% if true %}".repeat(2000), "{% endif %}".repeat(2000)),
        "OVERSIZED" => format!("{}{{{{ messages }}}}", "x".repeat(MAX_TEMPLATE_BYTES)),
        t => t.to_string(),
    }
}

#[test]
fn hostile_templates_fail_fast_in_bounded_memory() {
    for (name, template) in HOSTILE {
        let source = source_of(template);
        let (result, peak, took) = render(&source);
        println!("{name:<28} {:>8.1} ms {:>8.1} MiB  {}", took.as_secs_f64() * 1e3, peak as f64 / 1048576.0,
            match &result { Ok(s) => format!("ok, {} bytes", s.len()), Err(e) => e.to_string() });
        let e = result.expect_err(name).to_string();
        assert!(!e.is_empty() && !e.contains('\n'), "{name}: one line: {e}");
        assert!(peak <= MAX_LIVE, "{name}: {peak} bytes live");
        // The budgets, not the machine, stop these: a release build takes well under a
        // second of CPU; debug builds of minijinja are ~10x slower.
        assert!(took < Duration::from_secs(if cfg!(debug_assertions) { 20 } else { 2 }), "{name}: {took:?} of CPU");
    }
    let (r, ..) = render(&source_of("OVERSIZED"));
    assert!(r.unwrap_err().to_string().contains("KiB limit"));
    let (r, ..) = render(HOSTILE[0].1);
    assert!(r.unwrap_err().to_string().contains("budget"), "fuel names its budget");
}

#[test]
fn real_templates_render_well_within_the_budgets() {
    // ChatML as SmolLM2 and Qwen2 write it, and a Llama-3 style one with a macro.
    let chatml = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";
    let llama3 = "{% macro header(role) %}<|start_header_id|>{{ role }}<|end_header_id|>\n\n{% endmacro %}{{ bos_token }}{% for m in messages %}{{ header(m.role) }}{{ m.content | trim }}<|eot_id|>{% endfor %}{% if add_generation_prompt %}{{ header('assistant') }}{% endif %}";
    assert_eq!(render("{{ [1, 2, 3]|sum }} {{ [1, 2]|sum(start=10) }} {{ range(5)|sum }}").0.unwrap(), "6 13 10");
    for t in [chatml, llama3] {
        let (r, peak, took) = render(t);
        let text = r.unwrap();
        assert!(text.contains("3 + 3"), "{text}");
        assert!(peak < 1 << 20 && took < Duration::from_secs(1));
    }
    // A long conversation still fits: 200 turns of 2 KiB.
    let long: Vec<ChatMessage> = (0..200).map(|i| ChatMessage::new(if i % 2 == 0 { "user" } else { "assistant" }, "y".repeat(2048))).collect();
    let text = ChatTemplate::new(chatml, "", "").unwrap().render(&long, true).unwrap();
    assert!(text.len() > 400_000 && text.len() < MAX_RENDER_BYTES);
    // More than the output limit is an error, not a truncated prompt.
    let huge: Vec<ChatMessage> = (0..600).map(|_| ChatMessage::new("user", "z".repeat(2048))).collect();
    let e = ChatTemplate::new(chatml, "", "").unwrap().render(&huge, true).unwrap_err().to_string();
    assert!(e.contains("limit") || e.contains("budget"), "{e}");
}

/// splitmix64: small, deterministic, good enough to drive mutations.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Seeds: templates in the shapes real models ship (ChatML, Llama 3, Mistral, Gemma,
/// a DeepSeek-like one with a namespace), written here for the test.
const SEEDS: &[&str] = &[
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are helpful.<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}",
    "{{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m['role'] }}<|end_header_id|>\n\n{{ m['content'] | trim }}<|eot_id|>{% endfor %}{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}",
    "{% if messages[0]['role'] == 'system' %}{% set system = messages[0]['content'] %}{% set loop_messages = messages[1:] %}{% else %}{% set system = '' %}{% set loop_messages = messages %}{% endif %}{{ bos_token }}{% for m in loop_messages %}{% if (m['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('roles must alternate') }}{% endif %}{% if m['role'] == 'user' %}{{ '[INST] ' + (system + '\n\n' if loop.first and system else '') + m['content'] + ' [/INST]' }}{% else %}{{ m['content'] + eos_token }}{% endif %}{% endfor %}",
    "{{ bos_token }}{% for m in messages %}{% set role = 'model' if m['role'] == 'assistant' else m['role'] %}{{ '<start_of_turn>' + role + '\n' + m['content'] | trim + '<end_of_turn>\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<start_of_turn>model\n' }}{% endif %}",
    "{% set ns = namespace(system_prompt='', first=true) %}{% for m in messages %}{% if m['role'] == 'system' %}{% set ns.system_prompt = ns.system_prompt + '\n\n' + m['content'] %}{% endif %}{% endfor %}{{ bos_token }}{{ ns.system_prompt }}{% for m in messages %}{% if m['role'] == 'user' %}{{ '<|User|>' + m['content'] }}{% elif m['role'] == 'assistant' %}{{ '<|Assistant|>' + m['content'].split('</think>')[-1] + eos_token }}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|Assistant|>' }}{% endif %}",
    "{% macro turn(role, text) %}<{{ role|upper }}>{{ text|replace('\n', ' ')|truncate(40) }}</{{ role }}>{% endmacro %}{% for m in messages|selectattr('role', 'ne', 'system') %}{{ turn(m.role, m.content) }}{% if not loop.last %}{{ '-' * 3 }}{% endif %}{% endfor %}{{ messages|map(attribute='role')|join(',') }}{{ messages|length * 2 }}",
];

/// Well-formed pieces of Jinja: `B` is a nested body, `X` an expression, `N` a size.
const FRAGMENTS: &[&str] = &[
    "{% for i in range(N) %}B{% endfor %}", "{% for m in messages %}B{% else %}B{% endfor %}", "{% if X %}B{% else %}B{% endif %}",
    "{{ X }}", "{% set ns.v = X %}", "{% set ns.v = ns.v ~ X %}", "{% set ns.v = ns.v + 'y' %}", "{% set v = X %}{{ v }}",
    "{% macro f(a) %}B{{ a }}{% endmacro %}{{ f(X) }}", "{% macro g(a) %}{{ g(a) }}{% endmacro %}{{ g(X) }}",
    "{% for m in messages recursive %}B{{ loop(messages) }}{% endfor %}", "{% filter upper %}B{% endfilter %}",
    "{% set s %}B{% endset %}{{ s|length }}", "{{ raise_exception(X) }}", "{% for i in range(N) %}{% if i > 1 %}{% break %}{% endif %}B{% endfor %}",
    "{{ ns.v|length }}", "text ", "{# comment #}", "{%- if X -%}B{%- endif -%}",
];
const EXPRS: &[&str] = &[
    "'x'", "'ab' * N", "N", "messages", "messages[0]['content']", "ns.v", "range(N)|list", "loop.index", "(X ~ X)", "(X + 'y')",
    "(X + 1)", "(X)|string", "(X)|tojson", "(X)|join(',')", "(X)|list", "(X)|sort", "(X)|reverse", "(X)|unique",
    "(X)|first", "(X)|last", "(X)|length", "(X).replace('x', 'xx')", "(X).split('a')", "'{:>N}'.format(X)", "(X)|indent(N)",
    "(X)|batch(N)", "(X)|map('upper')", "[X]", "{'k': X}", "(X if X else X)", "(X)", "(-X)", "(X in X)", "(X)|sum",
    "(X)|default(X)", "namespace(a=X)", "bos_token", "add_generation_prompt", "(X)|trim", "(X).strip()", "(X)|upper",
];
const SIZES: &[&str] = &["0", "1", "2", "3", "7", "10", "100", "1000", "100000", "1000000000", "-1"];

/// Replaces the `X` and `N` holes, nesting expressions a few levels at most.
fn fill(rng: &mut Rng, text: &str, depth: u32) -> String {
    let mut out = String::new();
    for c in text.chars() {
        match c {
            'X' => {
                // Rarely, what the guard refuses: list growth by `+` or `*`.
                const REFUSED: &[&str] = &["(ns.v + X)", "(X * N)", "[X, X]"];
                let e = if depth >= 3 {
                    rng.pick(&["'x'", "1", "ns.v", "messages"])
                } else if rng.below(30) == 0 {
                    rng.pick(REFUSED)
                } else {
                    rng.pick(EXPRS)
                };
                let e = e.to_string();
                out.push_str(&fill(rng, &e, depth + 1));
            }
            // Big sizes are rare: most cases should reach deeper than the first budget.
            'N' => out.push_str(if rng.below(20) == 0 { rng.pick(SIZES) } else { rng.pick(&SIZES[..6]) }),
            c => out.push(c),
        }
    }
    out
}

/// A well-formed template of random pieces, nested up to `depth`.
fn grammar(rng: &mut Rng, depth: u32) -> String {
    let mut out = String::new();
    for _ in 0..1 + rng.below(3) {
        let fragment = rng.pick(FRAGMENTS);
        for c in fill(rng, fragment, 0).chars() {
            if c == 'B' {
                let body = if depth >= 3 { String::from("x") } else { grammar(rng, depth + 1) };
                out.push_str(&body);
            } else {
                out.push(c);
            }
        }
    }
    out
}

/// `seed` with well-formed pieces inserted between its tags.
fn splice(rng: &mut Rng, seed: &str) -> String {
    let mut t = seed.to_string();
    for _ in 0..1 + rng.below(2) {
        let cuts: Vec<usize> =
            t.match_indices('}').map(|(i, _)| i + 1).filter(|&i| t[..i].ends_with("%}") || t[..i].ends_with("}}")).collect();
        let at = if cuts.is_empty() { 0 } else { cuts[rng.below(cuts.len())] };
        let piece = grammar(rng, 1);
        if t.is_char_boundary(at) {
            t.insert_str(at, &piece);
        }
    }
    t
}

fn mutate(rng: &mut Rng, seed: &str) -> String {
    let mut t = seed.to_string();
    for _ in 0..1 + rng.below(4) {
        let at = {
            // Splice at a char boundary.
            let mut i = rng.below(t.len() + 1);
            while !t.is_char_boundary(i) {
                i -= 1;
            }
            i
        };
        match rng.below(6) {
            0..=2 => {
                let piece = grammar(rng, 2);
                t.insert_str(at, &piece);
            }
            3 => {
                // Delete a chunk.
                let mut end = (at + 1 + rng.below(24)).min(t.len());
                while !t.is_char_boundary(end) {
                    end -= 1;
                }
                t.replace_range(at..end, "");
            }
            4 => {
                // Duplicate a chunk.
                let mut end = (at + 1 + rng.below(40)).min(t.len());
                while !t.is_char_boundary(end) {
                    end -= 1;
                }
                let chunk = t[at..end].to_string();
                t.insert_str(end, &chunk);
            }
            _ => {
                let b = rng.pick(&["{%", "%}", "{{", "}}", "(", ")", "[", "]", "'", "|", "~", "+", "*", "-", " recursive", "{#"]);
                t.insert_str(at, b);
            }
        }
    }
    t
}

#[derive(Default, Debug)]
struct Outcomes {
    rendered: usize,
    refused: usize,
    out_of_fuel: usize,
    too_long: usize,
    other_errors: usize,
    slowest: Duration,
    peak: usize,
    /// Other errors by their first words ("syntax error", "invalid operation", ...).
    kinds: std::collections::BTreeMap<String, usize>,
}

fn fuzz(cases: usize, seed: u64) -> Outcomes {
    let mut rng = Rng(seed);
    let mut o = Outcomes::default();
    // Per case, in CPU time: the budgets stop hostile templates inside it (the slowest
    // seen in a million cases took 0.8 s of CPU in release); debug builds are ~10x slower.
    let max_time = Duration::from_secs(if cfg!(debug_assertions) { 30 } else { 3 });
    for case in 0..cases {
        let body = match rng.below(10) {
            0 => {
                let hostile = HOSTILE[rng.below(HOSTILE.len())].1;
                fill(&mut rng, &source_of(hostile), 0)
            }
            1 | 2 => {
                let s = SEEDS[rng.below(SEEDS.len())];
                mutate(&mut rng, s)
            }
            3..=6 => {
                let s = SEEDS[rng.below(SEEDS.len())];
                splice(&mut rng, s)
            }
            _ => grammar(&mut rng, 0),
        };
        let source = format!("{{% set ns = namespace(v='x') %}}{body}");
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| render(&source)));
        ARMED.with(|a| a.set(false));
        let (result, peak, took) = outcome.unwrap_or_else(|_| panic!("case {case} (seed {seed}) panicked on {source:?}"));
        assert!(peak <= MAX_LIVE, "case {case}: {peak} bytes live for {source:?}");
        assert!(took <= max_time, "case {case}: {took:?} of CPU for {source:?}");
        o.slowest = o.slowest.max(took);
        o.peak = o.peak.max(peak);
        match result {
            Ok(text) => {
                assert!(text.len() <= MAX_RENDER_BYTES);
                o.rendered += 1;
            }
            Err(e) => {
                let e = e.to_string();
                assert!(!e.contains('\n'), "case {case}: multi-line error {e:?}");
                if e.contains("refused") {
                    o.refused += 1;
                } else if e.contains("budget") {
                    o.out_of_fuel += 1;
                } else if e.contains("limit") {
                    o.too_long += 1;
                } else {
                    o.other_errors += 1;
                    let kind = e.split(": ").nth(1).unwrap_or("?").split(['(', ',']).next().unwrap_or("?").trim().to_string();
                    *o.kinds.entry(kind).or_default() += 1;
                }
            }
        }
    }
    o
}

#[test]
fn fuzzed_templates_never_panic_overrun_or_run_long() {
    let cases = std::env::var("COUNCIL_FUZZ_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(3_000);
    let start = Instant::now();
    let o = fuzz(cases, 0x7E3A_0001);
    println!("template fuzz: {cases} cases in {:.1?}: {o:?}", start.elapsed());
    // Every kind of outcome must be common, or the mutations are not reaching the budgets.
    assert!(o.rendered * 20 >= cases && o.other_errors * 20 >= cases, "{o:?}");
    assert!(o.refused > 0 && o.out_of_fuel > 0, "{o:?}");
}
