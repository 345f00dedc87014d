//! Behaviour of the GGUF reader on synthetic files: round trips, layout, and each kind of
//! malformed input mapping to its error.

use super::*;

/// A tiny but complete llama model: 2 layers, n_embd 64, 4 heads (2 KV), n_ff 96, vocab 40.
fn tiny_llama(embd_type: GgmlType, tied: bool) -> GgufBuilder {
    let (e, ff, v, q, kv) = (64u64, 96u64, 40u64, 64u64, 32u64);
    let mut b = GgufBuilder::new();
    b.kv("general.architecture", "llama")
        .kv("llama.block_count", 2u32)
        .kv("llama.context_length", 256u32)
        .kv("llama.embedding_length", e as u32)
        .kv("llama.feed_forward_length", ff as u32)
        .kv("llama.attention.head_count", 4u32)
        .kv("llama.attention.head_count_kv", 2u32)
        .kv("llama.rope.freq_base", 10000.0f32)
        .kv("llama.attention.layer_norm_rms_epsilon", 1e-5f32);
    let mat = |b: &mut GgufBuilder, name: &str, dtype: GgmlType, cols: u64, rows: u64| {
        let n = dtype.bytes_for(cols * rows).unwrap() as usize;
        let data = (0..n).map(|i| (i * 7 + name.len()) as u8).collect();
        b.tensor(name, dtype, &[cols, rows], data).unwrap();
    };
    mat(&mut b, "token_embd.weight", embd_type, e, v);
    for l in 0..2 {
        let t = |s: &str| layer_tensor(l, s);
        b.tensor_f32(&t("attn_norm.weight"), &[e], &vec![1.0; e as usize])
            .unwrap();
        mat(&mut b, &t("attn_q.weight"), GgmlType::Q4_0, e, q);
        mat(&mut b, &t("attn_k.weight"), GgmlType::Q4_1, e, kv);
        mat(&mut b, &t("attn_v.weight"), GgmlType::Q8_0, e, kv);
        mat(&mut b, &t("attn_output.weight"), GgmlType::F16, q, e);
        b.tensor_f32(&t("ffn_norm.weight"), &[e], &vec![1.0; e as usize])
            .unwrap();
        mat(&mut b, &t("ffn_gate.weight"), GgmlType::Q4_1, e, ff);
        mat(&mut b, &t("ffn_up.weight"), GgmlType::Q4_1, e, ff);
        mat(&mut b, &t("ffn_down.weight"), GgmlType::F32, ff, e);
    }
    b.tensor_f32("output_norm.weight", &[e], &vec![1.0; e as usize])
        .unwrap();
    if !tied {
        mat(&mut b, "output.weight", GgmlType::Q8_0, e, v);
    }
    b
}

fn all_value_types() -> GgufBuilder {
    let mut b = GgufBuilder::new();
    b.kv("u8", 200u8)
        .kv("i8", -5i8)
        .kv("u16", 60000u16)
        .kv("i16", -30000i16)
        .kv("u32", 4_000_000_000u32)
        .kv("i32", -2_000_000_000i32)
        .kv("f32", 0.25f32)
        .kv("bool", true)
        .kv("string", "héllo")
        .kv("u64", u64::MAX)
        .kv("i64", i64::MIN)
        .kv("f64", -1.5f64)
        .kv(
            "strings",
            vec!["a".to_string(), String::new(), "ü b".into()],
        )
        .kv("i32s", vec![1i32, -2, 3])
        .kv("f32s", vec![0.5f32, -0.5])
        .kv("bools", Array::Bool(vec![true, false]))
        .kv("u64s", Array::U64(vec![1, u64::MAX]))
        .kv(
            "nested",
            Array::Array(vec![
                Array::U8(vec![1, 2]),
                Array::Array(vec![Array::String(vec!["x".into()])]),
            ]),
        );
    b
}

#[test]
fn every_value_type_round_trips() {
    let b = all_value_types();
    let bytes = b.build();
    let g = Gguf::parse(&bytes).unwrap();
    assert_eq!(g.metadata.len(), 18);
    assert!(g.tensors.is_empty());
    assert_eq!(g.file_size(), bytes.len() as u64);
    let m = &g.metadata;
    assert_eq!(m.get("u8"), Some(&Value::U8(200)));
    assert_eq!(m.get("i8"), Some(&Value::I8(-5)));
    assert_eq!(m.get("u16"), Some(&Value::U16(60000)));
    assert_eq!(m.get("i16"), Some(&Value::I16(-30000)));
    assert_eq!(m.get_u32("u32").unwrap(), 4_000_000_000);
    assert_eq!(m.get_i32("i32").unwrap(), -2_000_000_000);
    assert_eq!(m.get_f32("f32").unwrap(), 0.25);
    assert!(m.get_bool("bool").unwrap());
    assert_eq!(m.get_str("string").unwrap(), "héllo");
    assert_eq!(m.get_u64("u64").unwrap(), u64::MAX);
    assert_eq!(m.get_i64("i64").unwrap(), i64::MIN);
    assert_eq!(m.get("f64"), Some(&Value::F64(-1.5)));
    assert_eq!(m.get_str_array("strings").unwrap(), ["a", "", "ü b"]);
    assert_eq!(m.get_i32_array("i32s").unwrap(), [1, -2, 3]);
    assert_eq!(m.get_f32_array("f32s").unwrap(), [0.5, -0.5]);
    assert_eq!(
        m.get_array("bools").unwrap(),
        &Array::Bool(vec![true, false])
    );
    assert_eq!(m.get_array("u64s").unwrap(), &Array::U64(vec![1, u64::MAX]));
    let nested = m.get_array("nested").unwrap();
    assert_eq!(
        nested,
        &Array::Array(vec![
            Array::U8(vec![1, 2]),
            Array::Array(vec![Array::String(vec!["x".into()])])
        ])
    );
    let keys: Vec<&str> = m.iter().map(|(k, _)| k).collect();
    assert_eq!(keys[..3], ["u8", "i8", "u16"], "file order is kept");
}

#[test]
fn tensors_are_aligned_views_of_their_bytes() {
    for alignment in [32u32, 64, 1] {
        let mut b = tiny_llama(GgmlType::Q8_0, true);
        b.kv("general.alignment", alignment);
        let file = GgufFile::from_bytes(b.build()).unwrap();
        assert_eq!(file.alignment, u64::from(alignment));
        assert_eq!(file.data_offset % u64::from(alignment), 0);
        assert_eq!(file.tensors.len(), 2 * 9 + 2);
        for t in &file.tensors {
            let r = file.tensor_range(t);
            assert_eq!(
                (r.start - file.data_offset) % u64::from(alignment),
                0,
                "{}",
                t.name
            );
            let view = file.data_of(t).unwrap();
            assert_eq!(view.len() as u64, t.n_bytes);
            assert_eq!(
                view.as_ptr(),
                file.bytes()[r.start as usize..].as_ptr(),
                "zero-copy view"
            );
            let expected: Vec<u8> = (0..view.len())
                .map(|i| (i * 7 + t.name.len()) as u8)
                .collect();
            if t.dtype != GgmlType::F32 {
                assert_eq!(view, &expected[..], "{}", t.name);
            }
        }
        let q = file.tensor("blk.1.attn_q.weight").unwrap();
        assert_eq!(
            (q.dtype, q.dims(), q.row_len(), q.n_rows(), q.row_bytes()),
            (GgmlType::Q4_0, &[64, 64][..], 64, 64, 36)
        );
    }
}

#[test]
fn header_prefix_parses_without_tensor_data() {
    let bytes = tiny_llama(GgmlType::Q8_0, false).build();
    let full = Gguf::parse(&bytes).unwrap();
    let prefix = &bytes[..full.data_offset as usize];
    let header = Gguf::parse_header(prefix).unwrap();
    assert_eq!(header.tensors, full.tensors);
    match Gguf::parse(prefix) {
        Err(GgufError::Truncated { needed, .. }) => assert_eq!(needed, bytes.len() as u64),
        other => panic!("expected Truncated, got {other:?}"),
    }
    let t = header.tensor("output.weight").unwrap();
    assert!(matches!(
        header.tensor_data(prefix, t),
        Err(GgufError::Truncated { .. })
    ));
    assert!(header.tensor_data(&bytes, t).is_ok());
}

#[test]
fn every_truncation_is_an_error_naming_the_needed_bytes() {
    let bytes = tiny_llama(GgmlType::Q8_0, true).build();
    let data_offset = Gguf::parse(&bytes).unwrap().data_offset as usize;
    for len in 0..bytes.len() {
        let err = Gguf::parse(&bytes[..len]).unwrap_err();
        match err {
            GgufError::Truncated {
                needed, available, ..
            } => {
                assert!(
                    needed > len as u64 && available == len as u64,
                    "len {len}: {err}"
                );
            }
            // A cut inside a count leaves fewer bytes than the (intact) count demands.
            GgufError::TooLarge { .. } if len < data_offset => {}
            other => panic!("len {len}: unexpected {other}"),
        }
    }
}

/// Offset of the first tensor info record in a builder's output.
fn tensor_infos_start(bytes: &[u8]) -> usize {
    let g = Gguf::parse_header(bytes).unwrap();
    let first = &g.tensors[0];
    // Name length field precedes the name; search for it after the metadata.
    let needle = [
        &(first.name.len() as u64).to_le_bytes()[..],
        first.name.as_bytes(),
    ]
    .concat();
    bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap()
}

fn error_of(bytes: &[u8]) -> String {
    Gguf::parse(bytes).unwrap_err().to_string()
}

#[test]
fn malformed_headers_give_specific_errors() {
    let good = tiny_llama(GgmlType::Q8_0, true).build();

    let mut b = good.clone();
    b[0] = b'X';
    assert!(error_of(&b).contains("not a GGUF file"));

    for (version, text) in [
        (1u32, "unsupported GGUF version 1"),
        (4, "version 4"),
        (0, "version 0"),
    ] {
        let mut b = good.clone();
        b[4..8].copy_from_slice(&version.to_le_bytes());
        assert!(error_of(&b).contains(text), "{}", error_of(&b));
    }
    let mut b = good.clone();
    b[4..8].copy_from_slice(&3u32.to_be_bytes());
    assert_eq!(Gguf::parse(&b).unwrap_err(), GgufError::BigEndian);

    let mut b = good.clone();
    b[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(
        error_of(&b).contains("tensor count is 18446744073709551615"),
        "{}",
        error_of(&b)
    );
    let mut b = good.clone();
    b[16..24].copy_from_slice(&(1u64 << 40).to_le_bytes());
    assert!(error_of(&b).contains("metadata count"), "{}", error_of(&b));

    // The first key's length inflated past the end of the file, or past the header cap.
    let mut b = good.clone();
    let len = b.len() as u64;
    b[24..32].copy_from_slice(&len.to_le_bytes());
    assert!(matches!(
        Gguf::parse(&b),
        Err(GgufError::Truncated {
            what: "metadata key",
            ..
        })
    ));
    b[24..32].copy_from_slice(&(1u64 << 50).to_le_bytes());
    assert_eq!(
        error_of(&b),
        format!("GGUF header size (reading the metadata key) is {}, more than the limit of {}", 32 + (1u64 << 50), super::MAX_HEADER_BYTES)
    );
}

#[test]
fn header_counts_and_sizes_are_capped_before_allocating() {
    use super::{MAX_ARRAY_ELEMENTS, MAX_METADATA_KEYS, MAX_TENSORS};
    let good = tiny_llama(GgmlType::Q8_0, true).build();
    // Counts within what the bytes could hold are still capped.
    let mut b = good.clone();
    b[8..16].copy_from_slice(&(MAX_TENSORS + 1).to_le_bytes());
    assert!(error_of(&b).contains(&format!("tensor count is {}, more than the limit of {MAX_TENSORS}", MAX_TENSORS + 1)));
    let mut b = good.clone();
    b[16..24].copy_from_slice(&(MAX_METADATA_KEYS + 1).to_le_bytes());
    assert!(error_of(&b).contains("metadata count"));
    // Array elements are budgeted across all arrays: two arrays, each under the cap alone.
    let half = vec![0u8; (MAX_ARRAY_ELEMENTS / 2 + 1) as usize];
    let mut big = GgufBuilder::new();
    big.kv("a", Value::Array(Array::U8(half.clone()))).kv("b", Value::Array(Array::U8(half)));
    let e = Gguf::parse(&big.build()).unwrap_err().to_string();
    assert!(e.contains("array elements in the header"), "{e}");
    // A header bigger than the cap is refused even when every byte is present.
    let mut huge = GgufBuilder::new();
    huge.kv("s", "x".repeat(super::MAX_HEADER_BYTES as usize));
    let e = Gguf::parse(&huge.build()).unwrap_err().to_string();
    assert!(e.contains("more than the limit of 67108864"), "{e}");
}

#[test]
fn special_files_and_truncated_models_are_refused_without_reading_them() {
    let e = GgufFile::open("/dev/zero").unwrap_err().to_string();
    assert!(e.contains("not a regular file"), "{e}");
    let e = super::read_header("/dev/zero").unwrap_err().to_string();
    assert!(e.contains("not a regular file"), "{e}");
    // A header that promises more tensor data than the file has: refused before reading.
    let dir = std::env::temp_dir().join(format!("council-gguf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("short.gguf");
    let mut bytes = tiny_llama(GgmlType::Q8_0, true).build();
    bytes.truncate(bytes.len() - 1);
    std::fs::write(&path, &bytes).unwrap();
    let e = GgufFile::open(&path).unwrap_err().to_string();
    assert!(e.contains("GGUF truncated: tensor data"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn malformed_metadata_gives_specific_errors() {
    let mut b = GgufBuilder::new();
    b.kv("a", 1u32).kv("a", 2u32);
    assert!(error_of(&b.build()).contains("duplicate metadata key 'a'"));

    let mut b = GgufBuilder::new();
    b.kv("", 1u32);
    assert!(error_of(&b.build()).contains("empty metadata key"));

    // Value type 13 does not exist: key "k" (8 + 1 bytes) then the type field.
    let mut bytes = GgufBuilder::new().kv("k", 1u32).build();
    bytes[24 + 9..24 + 13].copy_from_slice(&13u32.to_le_bytes());
    assert!(error_of(&bytes).contains("unknown value type 13"));

    let mut deep = Array::U8(vec![1]);
    for _ in 0..MAX_ARRAY_DEPTH {
        deep = Array::Array(vec![deep]);
    }
    let mut b = GgufBuilder::new();
    b.kv("deep", deep);
    assert!(error_of(&b.build()).contains("nested deeper"));

    for bad in [Value::U32(3), Value::U32(0), Value::U64(32)] {
        let mut b = GgufBuilder::new();
        b.kv("general.alignment", bad);
        assert!(error_of(&b.build()).contains("power-of-two u32"));
    }

    // An array count that cannot fit in the remaining bytes is refused before allocating.
    let mut bytes = GgufBuilder::new().kv("xs", vec![1i32, 2]).build();
    let count_at = 24 + 8 + 2 + 4 + 4;
    bytes[count_at..count_at + 8].copy_from_slice(&(u64::MAX / 2).to_le_bytes());
    assert!(
        error_of(&bytes).contains("array length"),
        "{}",
        error_of(&bytes)
    );
}

#[test]
fn malformed_tensor_infos_give_specific_errors() {
    let good = tiny_llama(GgmlType::Q8_0, true).build();
    let at = tensor_infos_start(&good);
    // token_embd.weight: name (8 + 17), n_dims u32, 2 × i64 dims, type u32, offset u64.
    let name_end = at + 8 + "token_embd.weight".len();
    let (n_dims_at, dim0_at, dim1_at) = (name_end, name_end + 4, name_end + 12);
    let (type_at, offset_at) = (name_end + 20, name_end + 24);
    let patch = |at: usize, v: &[u8]| {
        let mut b = good.clone();
        b[at..at + v.len()].copy_from_slice(v);
        error_of(&b)
    };
    assert!(patch(n_dims_at, &5u32.to_le_bytes()).contains("5 dimensions"));
    assert!(patch(dim1_at, &(-3i64).to_le_bytes()).contains("negative dimension -3"));
    assert!(
        patch(dim0_at, &33i64.to_le_bytes()).contains("not a multiple of the Q8_0 block size 32")
    );
    assert!(patch(dim1_at, &(i64::MAX / 2).to_le_bytes()).contains("overflows"));
    assert!(patch(type_at, &4u32.to_le_bytes()).contains("unknown ggml type id 4"));
    assert!(patch(offset_at, &7u64.to_le_bytes()).contains("not a multiple of the alignment"));
    // Moving the first tensor onto the second overlaps them.
    assert!(patch(offset_at, &32u64.to_le_bytes()).contains("overlaps"));
    // Far past the end of the file.
    let msg = patch(offset_at, &(1u64 << 40).to_le_bytes());
    assert!(
        msg.contains("truncated") && msg.contains("tensor data"),
        "{msg}"
    );
    assert!(patch(offset_at, &(u64::MAX - 31).to_le_bytes()).contains("overflows"));

    let mut b = tiny_llama(GgmlType::Q8_0, true);
    b.tensor_f32("output_norm.weight", &[1], &[0.0]).unwrap();
    assert!(error_of(&b.build()).contains("duplicate tensor name"));
}

#[test]
fn model_config_reads_llama_hyperparameters() {
    let file = GgufFile::from_bytes(tiny_llama(GgmlType::Q8_0, true).build()).unwrap();
    let c = ModelConfig::from_gguf(&file).unwrap();
    assert_eq!(
        (
            c.n_layer,
            c.n_embd,
            c.n_head,
            c.n_head_kv,
            c.head_dim,
            c.n_ff,
            c.n_vocab,
            c.n_ctx_train
        ),
        (2, 64, 4, 2, 16, 96, 40, 256)
    );
    assert_eq!((c.q_dim(), c.kv_dim()), (64, 32));
    assert_eq!(
        (c.rope_theta, c.rms_eps, c.rope_freq_scale),
        (10000.0, 1e-5, 1.0)
    );
    assert_eq!(c.rope_style, RopeStyle::Interleaved);
    assert!(c.tied_output && !c.has_qkv_bias && !c.has_rope_freqs);
    assert_eq!(c.output_tensor(), "token_embd.weight");

    let untied = GgufFile::from_bytes(tiny_llama(GgmlType::F16, false).build()).unwrap();
    let c = ModelConfig::from_gguf(&untied).unwrap();
    assert!(!c.tied_output);
    assert_eq!(c.output_tensor(), "output.weight");
}

#[test]
fn model_config_rejects_unsupported_models_clearly() {
    let err = |b: &GgufBuilder| {
        let file = GgufFile::from_bytes(b.build()).unwrap();
        ModelConfig::from_gguf(&file).unwrap_err().to_string()
    };
    let msg = err(&tiny_llama(GgmlType::Iq4Nl, true));
    assert!(
        msg.contains("token_embd.weight") && msg.contains("type IQ4_NL") && msg.contains("Q4_1"),
        "{msg}"
    );

    let mut b = tiny_llama(GgmlType::Q8_0, true);
    b.kv("general.architecture", "mamba");
    // Duplicate key: the reader itself refuses; build a clean one instead.
    assert!(GgufFile::from_bytes(b.build()).is_err());
    let mut b = GgufBuilder::new();
    b.kv("general.architecture", "mamba");
    assert!(err(&b).contains("architecture 'mamba' is not supported"));

    let mut b = tiny_llama(GgmlType::Q8_0, true);
    b.kv("llama.vocab_size", 41u32);
    let msg = err(&b);
    assert!(
        msg.contains("token_embd.weight") && msg.contains("[64, 41]"),
        "{msg}"
    );

    let mut b = GgufBuilder::new();
    b.kv("general.architecture", "llama")
        .kv("llama.block_count", 0u32);
    assert!(err(&b).contains("llama.block_count': must be positive"));

    let mut b = GgufBuilder::new();
    b.kv("general.architecture", "llama")
        .kv("llama.block_count", "two");
    assert!(err(&b).contains("should be u32 but is string") || err(&b).contains("should be usize"));
}

#[test]
fn require_tensor_checks_type_and_shape() {
    let file = GgufFile::from_bytes(tiny_llama(GgmlType::Q8_0, true).build()).unwrap();
    assert!(
        file.require_tensor("output_norm.weight", &[GgmlType::F32], &[64, 1, 1])
            .is_ok()
    );
    assert!(matches!(
        file.require_tensor("output_norm.weight", &[GgmlType::F16], &[64]),
        Err(GgufError::UnsupportedType { .. })
    ));
    assert!(matches!(
        file.require_tensor("output_norm.weight", &[], &[32, 2]),
        Err(GgufError::WrongShape { .. })
    ));
    assert!(matches!(
        file.require_tensor("nope", &[], &[]),
        Err(GgufError::MissingTensor(_))
    ));
    assert!(matches!(
        file.tensor_data("nope"),
        Err(GgufError::MissingTensor(_))
    ));
}
