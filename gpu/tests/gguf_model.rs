//! The GGUF reader on the real test model (SmolLM2-135M-Instruct Q4_1): header facts from
//! probe-browser.md §7, the llama hyperparameters, and zero-copy tensor views.

use council_gpu::gguf::{GgmlType, GgufFile, ModelConfig, RopeStyle, read_header};

mod common;
use common::test_model;

#[test]
fn smollm2_header_matches_the_reference_reading() {
    let file = GgufFile::open(test_model()).unwrap();
    assert_eq!(file.version, 3);
    assert_eq!(file.metadata.len(), 33);
    assert_eq!(file.tensors.len(), 272);
    assert_eq!(file.alignment, 32);
    assert_eq!(file.data_offset, 1_785_664);
    assert_eq!(file.data_size, 96_576_768);
    assert_eq!(file.file_size(), file.bytes().len() as u64);

    let m = &file.metadata;
    assert_eq!(m.get_str("tokenizer.ggml.model").unwrap(), "gpt2");
    assert_eq!(m.get_str("tokenizer.ggml.pre").unwrap(), "smollm");
    assert_eq!(
        m.get_str_array("tokenizer.ggml.tokens").unwrap().len(),
        49152
    );
    assert_eq!(
        m.get_str_array("tokenizer.ggml.merges").unwrap().len(),
        48900
    );
    let types = m.get_i32_array("tokenizer.ggml.token_type").unwrap();
    assert_eq!(types.iter().filter(|&&t| t == 3).count(), 17);
    assert_eq!(m.get_u32("tokenizer.ggml.bos_token_id").unwrap(), 1);
    assert!(!m.get_bool("tokenizer.ggml.add_bos_token").unwrap());
    assert_eq!(m.get_u32("general.file_type").unwrap(), 3);

    let count = |t: GgmlType| file.tensors.iter().filter(|i| i.dtype == t).count();
    assert_eq!(
        (
            count(GgmlType::Q8_0),
            count(GgmlType::Q4_1),
            count(GgmlType::F32)
        ),
        (1, 210, 61)
    );
    let embd = file.tensor("token_embd.weight").unwrap();
    assert_eq!(
        (embd.dims(), embd.offset, embd.n_bytes),
        (&[576, 49152][..], 0, 30_081_024)
    );
    let norm = file.tensor_data("output_norm.weight").unwrap();
    assert_eq!(norm.len(), 2304);
    let first = f32::from_le_bytes(norm[..4].try_into().unwrap());
    assert!(first.is_finite() && first != 0.0, "norm weight {first}");
}

#[test]
fn smollm2_model_config() {
    let file = GgufFile::open(test_model()).unwrap();
    let c = ModelConfig::from_gguf(&file).unwrap();
    assert_eq!(c.architecture, "llama");
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
        (30, 576, 9, 3, 64, 1536, 49152, 8192)
    );
    assert_eq!(c.rope_theta, 100_000.0);
    assert_eq!(c.rms_eps, 1e-5_f32, "stored as f32 9.9999997e-6");
    assert_eq!(c.rope_style, RopeStyle::Interleaved);
    assert!(c.tied_output && !c.has_qkv_bias && !c.has_rope_freqs);
}

#[test]
fn header_alone_reads_the_same_description() {
    let header = read_header(test_model()).unwrap();
    let file = GgufFile::open(test_model()).unwrap();
    assert_eq!(header.tensors, file.tensors);
    assert_eq!(header.data_offset, file.data_offset);
    assert_eq!(header.metadata.len(), file.metadata.len());
    assert_eq!(
        ModelConfig::from_gguf(&header).unwrap(),
        ModelConfig::from_gguf(&file).unwrap()
    );
}
