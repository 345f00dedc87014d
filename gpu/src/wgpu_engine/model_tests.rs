//! The whole engine on a small random llama-shaped model (mixed weight types, GQA, biases,
//! both RoPE styles) against a plain f32 forward pass written here from the definitions.

use super::test_util::*;
use super::{EngineOptions, LlamaConfig, WgpuEngine};
use crate::device::Gpu;

fn argmax(v: &[f32]) -> u32 {
    v.iter().enumerate().fold((0, f32::MIN), |b, (i, x)| if *x > b.1 { (i, *x) } else { b }).0 as u32
}

fn engine(cfg: &LlamaConfig, m: &SyntheticWeights, opts: EngineOptions) -> WgpuEngine {
    let gpu = pollster::block_on(Gpu::new()).expect("a native wgpu adapter (lavapipe in CI)");
    WgpuEngine::load_blocking(&gpu, cfg, m, &opts).expect("engine loads")
}

fn assert_rows_close(got: &[Vec<f32>], want: &[Vec<f32>], tol: f32) {
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let err = max_abs_diff(g, w);
        assert!(err < tol, "position {i}: max |Δlogit| {err}");
    }
}

#[test]
fn teacher_forced_logits_match_the_f32_reference_for_both_rope_styles() {
    let tokens: Vec<u32> = (0..70).map(|i| (i * 37 + 11) % 101).collect();
    for (neox, bias, tied) in [(false, false, true), (true, true, false)] {
        let cfg = tiny_config(neox);
        let m = tiny_model(&cfg, bias, tied, 11 + neox as u64);
        let want = reference_logits(&cfg, &m, &tokens);
        // 70 positions cross two attention chunks and need two submits of ≤ 64 logits rows.
        let mut e = engine(&cfg, &m, EngineOptions::default());
        let got = e.logits_for_blocking(&tokens).unwrap();
        assert_rows_close(&got, &want, 2e-3);
        assert_eq!(e.counts().submits, 2, "{:?}", e.counts());

        let top = e.top_k_for_blocking(&tokens).unwrap();
        for (row, t) in want.iter().zip(&top) {
            assert_eq!(t.len(), 40);
            assert_eq!(t[0].0, argmax(row));
            assert!(t.windows(2).all(|w| w[0].1 >= w[1].1));
        }
    }
}

#[test]
fn prefill_then_decode_equals_teacher_forcing_and_greedy_stays_on_the_gpu() {
    let cfg = LlamaConfig { vocab: 1000, ..tiny_config(false) };
    let m = tiny_model(&cfg, false, true, 21);
    // A 64 KiB binding limit splits the tied 1000-row Q8_0 embedding (72 B/row) into 2 parts.
    let mut e = engine(&cfg, &m, EngineOptions { max_binding_bytes: 64 << 10, max_ctx: Some(64), top_k: 4 });
    assert_eq!(e.counts().per_token, 2 + 5 * 2 + 2 + 1);
    assert_eq!(e.counts().per_layer, 5);
    let mem = e.memory();
    assert!(mem.largest_buffer <= 64 << 10, "every buffer fits the binding limit: {mem:?}");
    let kv = 2 * cfg.n_layers * cfg.n_kv_head * 64 * cfg.head_dim * 2;
    assert_eq!(mem.kv_cache, kv as u64, "f16 keys and values for max_ctx positions");
    let file_bytes: usize = m.0.values().map(|(_, _, data)| data.len()).sum();
    // Repacking pads Q8_0/Q4_0 blocks to whole u32 words (at most 2 bytes per 32 weights); the
    // rotary table is extra.
    assert!(
        mem.weights >= file_bytes as u64 && mem.weights < file_bytes as u64 * 11 / 10 + (64 << 10),
        "weights {} for {file_bytes} file bytes",
        mem.weights
    );
    assert!(mem.working > 0 && mem.total() == mem.weights + mem.kv_cache + mem.working);
    let prompt = [5u32, 17, 99, 3];
    let mut got = vec![e.prefill_blocking(&prompt).unwrap()];
    for t in [40u32, 41, 7] {
        got.push(e.decode_blocking(t).unwrap());
    }
    assert_eq!(e.position(), 7);
    let want = reference_logits(&cfg, &m, &[5, 17, 99, 3, 40, 41, 7]);
    assert_rows_close(&got, &want[3..], 2e-3);

    // logits_all continues from the current position, like the CPU session.
    e.truncate(4);
    assert_eq!(e.position(), 4);
    let rest = e.logits_all_blocking(&[40, 41, 7]).unwrap();
    let rows: Vec<Vec<f32>> = rest.chunks(cfg.vocab).map(<[f32]>::to_vec).collect();
    assert_rows_close(&rows, &want[4..], 2e-3);

    e.reset();
    let submits = e.counts().submits;
    let generated = e.generate_greedy_blocking(&prompt, 20, &[]).unwrap();
    assert_eq!(generated.len(), 20);
    assert_eq!(e.counts().submits - submits, 1 + 20, "one submit for the prompt, one per token");
    assert_eq!(e.position(), prompt.len() + 19);
    let mut seq = prompt.to_vec();
    seq.extend(&generated);
    let reference = reference_logits(&cfg, &m, &seq);
    for (i, &tok) in generated.iter().enumerate() {
        let row = &reference[prompt.len() - 1 + i];
        let best = argmax(row);
        let mut sorted = row.clone();
        sorted.sort_by(|a, b| b.total_cmp(a));
        assert!(tok == best || sorted[0] - sorted[1] < 1e-2, "step {i}: gpu {tok}, reference {best}");
    }

    // A stop token ends generation (the extra in-flight steps are dropped).
    e.reset();
    let stop = generated[5];
    let first_stop = generated.iter().position(|t| *t == stop).unwrap();
    let stopped = e.generate_greedy_blocking(&prompt, 20, &[stop]).unwrap();
    assert_eq!(stopped, generated[..=first_stop]);
    assert_eq!(e.position(), prompt.len() + first_stop);
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let cfg = tiny_config(false);
    let m = tiny_model(&cfg, false, true, 31);
    let mut e = engine(&cfg, &m, EngineOptions { max_ctx: Some(8), ..Default::default() });
    assert!(e.prefill_blocking(&[101]).unwrap_err().contains("outside the vocabulary"));
    assert!(e.prefill_blocking(&[1; 9]).unwrap_err().contains("context"));
    assert!(e.prefill_blocking(&[]).is_err());
    assert_eq!(e.position(), 0);

    let gpu = pollster::block_on(Gpu::new()).unwrap();
    let mut broken = tiny_model(&cfg, false, true, 31);
    broken.0.remove("blk.1.ffn_up.weight");
    let err = WgpuEngine::load_blocking(&gpu, &cfg, &broken, &EngineOptions::default()).err().unwrap();
    assert!(err.contains("blk.1.ffn_up.weight"), "{err}");
    let wide = LlamaConfig { head_dim: 18, ..cfg };
    assert!(WgpuEngine::load_blocking(&gpu, &wide, &m, &EngineOptions::default()).is_err());
}

#[test]
fn the_browser_self_check_passes_on_the_native_adapter() {
    let gpu = pollster::block_on(Gpu::new()).expect("a native wgpu adapter (lavapipe in CI)");
    let report = pollster::block_on(super::selfcheck::run(&gpu)).unwrap();
    eprintln!("{report:?}");
    assert!(report.passed(), "{report:?}");
    assert_eq!(report.greedy_tokens, 10);
}

#[test]
fn runner_generates_greedy_on_the_gpu_or_with_a_cpu_sampler_and_scores_from_a_position() {
    use super::runner::{generate, score};
    let cfg = tiny_config(false);
    let m = tiny_model(&cfg, false, true, 41);
    let mut e = engine(&cfg, &m, EngineOptions { max_ctx: Some(64), top_k: 5, ..Default::default() });
    let prompt = [7u32, 8, 9];
    let greedy = generate(&mut e, &prompt, 6, &[], None).unwrap();
    let mut argmax_sampler = |logits: &[f32]| argmax(logits);
    let sampled = generate(&mut e, &prompt, 6, &[], Some(&mut argmax_sampler)).unwrap();
    assert_eq!(greedy.tokens.len(), 6);
    assert_eq!(greedy.tokens, sampled.tokens, "the GPU loop and a CPU argmax sampler agree");
    assert!(greedy.prefill_tok_s > 0.0 && greedy.decode_tok_s > 0.0);
    // A stop id ends generation right after it.
    let stop = greedy.tokens[2];
    let cut = generate(&mut e, &prompt, 6, &[stop], None).unwrap();
    assert_eq!(cut.tokens, greedy.tokens[..=greedy.tokens.iter().position(|t| *t == stop).unwrap()]);

    let mut sequence = prompt.to_vec();
    sequence.extend(&greedy.tokens);
    let scored = score(&mut e, &sequence, 2, 3).unwrap();
    let want = reference_logits(&cfg, &m, &sequence);
    assert_eq!(scored.len(), sequence.len() - 2);
    for (i, top) in &scored {
        assert_eq!(top.len(), 3);
        assert_eq!(top[0].0, argmax(&want[*i]), "position {i}");
    }
    assert!(score(&mut e, &sequence, 0, 6).is_err(), "k above the loaded top-k is an error");
}
