//! Deterministic mutation fuzzing of the GGUF reader: bit flips, byte sets, truncations,
//! splices and count/length inflation applied to (a) a synthetic file with every value type,
//! nested arrays and tensors, and (b) the real SmolLM2 header (token arrays shortened, all 272
//! tensor infos kept). Every case must return Ok or Err without panicking, with no single
//! allocation far beyond the input size, and with Ok results internally consistent.
//!
//! `cargo test` runs 100,000 cases; `COUNCIL_FUZZ_CASES=N` runs N (e.g. 5,000,000 overnight).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};

use council_gpu::gguf::{Array, GgmlType, Gguf, GgufBuilder, ModelConfig, Value};

mod common;
use common::test_model;

/// Records the largest single allocation made by the current thread while armed.
struct PeakAlloc;

thread_local! {
    static ARMED: Cell<bool> = const { Cell::new(false) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for PeakAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

fn note(size: usize) {
    let _ = ARMED.try_with(|armed| {
        if armed.get() {
            let _ = PEAK.try_with(|p| p.set(p.get().max(size)));
        }
    });
}

#[global_allocator]
static GLOBAL: PeakAlloc = PeakAlloc;

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
}

/// Offsets of the integer fields a mutation should inflate: u64 counts/lengths/dims/offsets
/// and u32 type ids, found by walking a valid file.
#[derive(Default)]
struct Fields {
    u64s: Vec<usize>,
    u32s: Vec<usize>,
    tensor_infos_at: usize,
}

fn walk(bytes: &[u8]) -> Fields {
    let mut f = Fields::default();
    let mut pos = 8;
    let u64_at = |p: usize| u64::from_le_bytes(bytes[p..p + 8].try_into().unwrap());
    let u32_at = |p: usize| u32::from_le_bytes(bytes[p..p + 4].try_into().unwrap());
    f.u64s.extend([8, 16]);
    let n_tensors = u64_at(8);
    let n_kv = u64_at(16);
    pos += 16;
    fn skip_value(bytes: &[u8], f: &mut Fields, pos: &mut usize, ty: u32) {
        let u64_at = |p: usize| u64::from_le_bytes(bytes[p..p + 8].try_into().unwrap());
        match ty {
            0 | 1 | 7 => *pos += 1,
            2 | 3 => *pos += 2,
            4..=6 => *pos += 4,
            10..=12 => *pos += 8,
            8 => {
                f.u64s.push(*pos);
                *pos += 8 + u64_at(*pos) as usize;
            }
            9 => {
                f.u32s.push(*pos);
                let elem = u32::from_le_bytes(bytes[*pos..*pos + 4].try_into().unwrap());
                f.u64s.push(*pos + 4);
                let n = u64_at(*pos + 4);
                *pos += 12;
                for _ in 0..n {
                    skip_value(bytes, f, pos, elem);
                }
            }
            _ => unreachable!("walk runs on valid files"),
        }
    }
    for _ in 0..n_kv {
        f.u64s.push(pos);
        pos += 8 + u64_at(pos) as usize;
        f.u32s.push(pos);
        let ty = u32_at(pos);
        pos += 4;
        skip_value(bytes, &mut f, &mut pos, ty);
    }
    f.tensor_infos_at = pos;
    for _ in 0..n_tensors {
        f.u64s.push(pos);
        pos += 8 + u64_at(pos) as usize;
        let n_dims = u32_at(pos) as usize;
        f.u32s.push(pos);
        pos += 4;
        for _ in 0..n_dims {
            f.u64s.push(pos);
            pos += 8;
        }
        f.u32s.push(pos);
        f.u64s.push(pos + 4);
        pos += 12;
    }
    f
}

fn synthetic() -> Vec<u8> {
    let mut b = GgufBuilder::new();
    b.kv("general.architecture", "llama")
        .kv("general.alignment", 32u32)
        .kv("llama.block_count", 1u32)
        .kv("llama.embedding_length", 32u32)
        .kv("u8", 1u8)
        .kv("i16", -2i16)
        .kv("f64", 0.5f64)
        .kv("bool", false)
        .kv("names", vec!["a".to_string(), "bb".into(), "ccc".into()])
        .kv("ids", vec![1i32, 2, 3, 4])
        .kv(
            "nested",
            Array::Array(vec![
                Array::U16(vec![1, 2]),
                Array::String(vec!["z".into()]),
            ]),
        )
        .kv("i64", Value::I64(-9));
    b.tensor_f32("a.weight", &[8], &[1.0; 8]).unwrap();
    b.tensor("q.weight", GgmlType::Q4_1, &[32, 2], vec![3; 40])
        .unwrap();
    b.tensor("e.weight", GgmlType::Q8_0, &[32, 1, 1], vec![5; 34])
        .unwrap();
    b.tensor("h.weight", GgmlType::F16, &[4, 2], vec![7; 16])
        .unwrap();
    b.build()
}

/// The real header with every array cut to 64 entries (so one parse takes microseconds)
/// followed by the real tensor infos; the tensor data itself is absent.
fn real_header() -> Vec<u8> {
    let bytes = std::fs::read(test_model()).unwrap();
    let gguf = Gguf::parse(&bytes).unwrap();
    let header = &bytes[..gguf.data_offset as usize];
    let fields = walk(header);
    let mut b = GgufBuilder::new();
    for (key, value) in gguf.metadata.iter() {
        let value = match value {
            Value::Array(Array::String(v)) => {
                Value::Array(Array::String(v[..v.len().min(64)].to_vec()))
            }
            Value::Array(Array::I32(v)) => Value::Array(Array::I32(v[..v.len().min(64)].to_vec())),
            other => other.clone(),
        };
        b.kv(key, value);
    }
    let mut out = b.build();
    out[8..16].copy_from_slice(&(gguf.tensors.len() as u64).to_le_bytes());
    out.extend_from_slice(&header[fields.tensor_infos_at..]);
    out
}

const INTERESTING_U64: [u64; 14] = [
    0,
    1,
    2,
    31,
    32,
    255,
    65_535,
    0x7FFF_FFFF,
    0xFFFF_FFFF,
    1 << 32,
    1 << 40,
    i64::MAX as u64,
    1 << 63,
    u64::MAX,
];

fn mutate(rng: &mut Rng, input: &[u8], fields: &Fields) -> Vec<u8> {
    let mut b = input.to_vec();
    for _ in 0..1 + rng.below(3) {
        if b.is_empty() {
            break;
        }
        match rng.below(8) {
            0 => {
                for _ in 0..1 + rng.below(4) {
                    let i = rng.below(b.len());
                    b[i] ^= 1 << rng.below(8);
                }
            }
            1 => {
                let i = rng.below(b.len());
                b[i] = [0, 0xFF, 0x7F, 0x80, 1, rng.next() as u8][rng.below(6)];
            }
            2 => b.truncate(rng.below(b.len())),
            3 => {
                // Overwrite a chunk with a copy of another chunk.
                let len = 1 + rng.below(32);
                let (src, dst) = (rng.below(b.len()), rng.below(b.len()));
                let chunk: Vec<u8> = b[src..(src + len).min(b.len())].to_vec();
                let end = (dst + chunk.len()).min(b.len());
                b[dst..end].copy_from_slice(&chunk[..end - dst]);
            }
            4 => {
                // Duplicate or delete a chunk (shifts everything after it).
                let at = rng.below(b.len());
                let len = 1 + rng.below(24);
                let end = (at + len).min(b.len());
                if rng.below(2) == 0 {
                    let chunk: Vec<u8> = b[at..end].to_vec();
                    b.splice(at..at, chunk);
                } else {
                    b.drain(at..end);
                }
            }
            5 | 6 => {
                let at = fields.u64s[rng.below(fields.u64s.len())];
                if at + 8 <= b.len() {
                    let old = u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
                    let v = match rng.below(4) {
                        0 => old.wrapping_add(1 + rng.below(4) as u64),
                        1 => old.wrapping_sub(1),
                        _ => INTERESTING_U64[rng.below(INTERESTING_U64.len())],
                    };
                    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
                }
            }
            _ => {
                let at = fields.u32s[rng.below(fields.u32s.len())];
                if at + 4 <= b.len() {
                    let v = [
                        rng.below(14) as u32,
                        rng.below(45) as u32,
                        9,
                        u32::MAX,
                        1 << 31,
                    ][rng.below(5)];
                    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
                }
            }
        }
    }
    b
}

/// Exercises everything a caller might do with a parsed file.
fn use_parsed(g: &Gguf, bytes: &[u8], header_only: bool) {
    for t in &g.tensors {
        let r = g.tensor_range(t);
        assert!(r.start >= g.data_offset && r.end <= g.file_size());
        match g.tensor_data(bytes, t) {
            Ok(view) => assert_eq!(view.len() as u64, t.n_bytes),
            Err(_) => assert!(
                header_only,
                "tensor '{}' out of a fully parsed file",
                t.name
            ),
        }
        assert_eq!(t.dtype.bytes_for(t.n_elements()), Some(t.n_bytes));
    }
    for (key, _) in g.metadata.iter() {
        let m = &g.metadata;
        let _ = (
            m.get_u32(key),
            m.get_i64(key),
            m.get_f32(key),
            m.get_str(key),
            m.get_bool(key),
        );
        let _ = (m.get_str_array(key), m.get_i32_array(key), m.get_array(key));
    }
    let _ = ModelConfig::from_gguf(g);
}

struct Tally {
    ok: usize,
    err: usize,
    /// Largest single allocation seen in any case (shows the allocator probe is live).
    peak: usize,
}

fn fuzz(name: &str, input: &[u8], cases: usize, seed: u64, header_only: bool) -> Tally {
    let fields = walk(input);
    let mut rng = Rng(seed);
    let mut tally = Tally {
        ok: 0,
        err: 0,
        peak: 0,
    };
    for case in 0..cases {
        let bytes = mutate(&mut rng, input, &fields);
        PEAK.with(|p| p.set(0));
        ARMED.with(|a| a.set(true));
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let parsed = if header_only {
                Gguf::parse_header(&bytes)
            } else {
                Gguf::parse(&bytes)
            };
            match parsed {
                Ok(g) => {
                    use_parsed(&g, &bytes, header_only);
                    true
                }
                Err(e) => {
                    assert!(!e.to_string().is_empty());
                    false
                }
            }
        }));
        ARMED.with(|a| a.set(false));
        let peak = PEAK.with(|p| p.get());
        tally.peak = tally.peak.max(peak);
        match outcome {
            Ok(true) => tally.ok += 1,
            Ok(false) => tally.err += 1,
            Err(_) => panic!(
                "{name} case {case} (seed {seed}) panicked on {} bytes: {:02x?}",
                bytes.len(),
                bytes
            ),
        }
        let limit = 16 * bytes.len() + (64 << 10);
        assert!(
            peak <= limit,
            "{name} case {case}: allocation of {peak} bytes for a {}-byte input",
            bytes.len()
        );
    }
    tally
}

fn total_cases() -> usize {
    std::env::var("COUNCIL_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000)
}

#[test]
fn mutated_gguf_inputs_never_panic_or_over_allocate() {
    let total = total_cases();
    let synthetic = synthetic();
    let real = real_header();
    assert!(Gguf::parse(&synthetic).is_ok() && Gguf::parse_header(&real).is_ok());

    let start = std::time::Instant::now();
    let a = fuzz("synthetic", &synthetic, total * 6 / 10, 0x5EED_0001, false);
    let b = fuzz(
        "real header",
        &real,
        total - total * 6 / 10,
        0x5EED_0002,
        true,
    );
    println!(
        "{} cases in {:.2?}: synthetic {} ok / {} err (largest allocation {} B), real header {} ok / {} err ({} B)",
        total,
        start.elapsed(),
        a.ok,
        a.err,
        a.peak,
        b.ok,
        b.err,
        b.peak
    );
    assert!(a.peak > 0 && b.peak > 0, "the allocation probe saw nothing");
    // Both outcomes must be common, or the mutations are not reaching the parser's depth.
    for (t, n) in [(&a, total * 6 / 10), (&b, total - total * 6 / 10)] {
        assert!(
            t.ok * 50 >= n && t.err * 50 >= n,
            "ok {} err {} of {n}",
            t.ok,
            t.err
        );
    }
}
