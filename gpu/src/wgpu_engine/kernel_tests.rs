//! Each WGSL kernel against a plain CPU definition on random data (lavapipe natively).

use super::kernels::*;
use super::pack::*;
use super::pipelines::StepUniform;
use super::test_util::*;

const TYPES: [u32; 5] = [TYPE_Q4_0, TYPE_Q4_1, TYPE_Q8_0, TYPE_F16, TYPE_F32];

fn step_at(pos: usize) -> StepUniform {
    let (n_chunks, chunk_len) = chunking(pos + 1);
    StepUniform {
        pos: pos as u32,
        token_slot: 0,
        out_slot: 1,
        logits_row: 0,
        seq_len: pos as u32 + 1,
        n_chunks,
        chunk_len,
        top_k: 8,
        n_tokens: 1,
        x_row: 0,
        _pad: [0; 2],
    }
}

fn assert_close(what: &str, got: &[f32], want: &[f32], tol: f32) {
    let scale = want.iter().fold(1.0f32, |m, v| m.max(v.abs()));
    let err = max_abs_diff(got, want);
    assert!(err <= tol * scale, "{what}: max |Δ| {err} > {tol} × {scale}\n got {got:?}\nwant {want:?}");
}

#[test]
fn matvec_with_residual_matches_cpu_for_every_weight_type() {
    let rig = Rig::new(1536);
    let mut rng = Rng::new(1);
    for t in TYPES {
        for (k, rows) in [(96usize, 10usize), (1536, 40)] {
            let w = quantize(t, &rng.vec(k * rows, 1.0));
            let h = rng.vec(k, 1.0);
            let x0 = rng.vec(rows, 1.0);
            let want: Vec<f32> =
                matvec(&dequantize(t, &w), k, &h).iter().zip(&x0).map(|(a, b)| a + b).collect();
            let params = rig.uniform(&DownParams { k: k as u32, n_out: rows as u32, _pad: [0; 2] });
            let (hb, wb, xb) = (rig.storage(&h), rig.weights(t, k, rows, &w), rig.storage(&x0));
            rig.run(&rig.kernels.ffn_down, &[t], &[&params, &hb, &wb, &xb], step_at(0), (rows.div_ceil(DOWN_ROWS) as u32, 1));
            assert_close(&format!("{} k={k}", type_name(t)), &rig.read::<f32>(&xb, rows), &want, 1e-5);
        }
    }
}

#[test]
fn embedding_lookup_finds_the_token_in_the_right_part() {
    let rig = Rig::new(64);
    let mut rng = Rng::new(2);
    let (dim, vocab) = (64usize, 20usize);
    for t in TYPES {
        let table = quantize(t, &rng.vec(dim * vocab, 1.0));
        let row_bytes = gguf_row_bytes(t, dim).unwrap();
        let reference = dequantize(t, &table);
        for token in [3u32, 13] {
            let tokens = rig.storage(&[token, 0]);
            let x = rig.storage(&vec![f32::NAN; dim]);
            for (lo, n) in [(0usize, 12usize), (12, 8)] {
                let params = rig.uniform(&EmbedParams { dim: dim as u32, row_lo: lo as u32, n_rows: n as u32, _pad: 0 });
                let part = rig.weights(t, dim, n, &table[lo * row_bytes..(lo + n) * row_bytes]);
                rig.run(&rig.kernels.embed, &[t], &[&params, &tokens, &part, &x], step_at(0), (1, 1));
            }
            let want = &reference[token as usize * dim..(token as usize + 1) * dim];
            assert_eq!(rig.read::<f32>(&x, dim), want, "{} token {token}", type_name(t));
        }
    }
}

fn qkv_case(neox: bool, n_rot: usize, with_bias: bool) {
    let rig = Rig::new(64);
    let mut rng = Rng::new(3 + neox as u64);
    let (dim, n_head, n_kv_head, hd, pos, max_ctx) = (64usize, 4usize, 2usize, 16usize, 7usize, 16usize);
    let (n_q, n_kv) = (n_head * hd, n_kv_head * hd);
    let (tq, tk, tv) = (TYPE_Q4_1, TYPE_Q8_0, TYPE_Q4_0);
    let (wq, wk, wv) = (
        quantize(tq, &rng.vec(n_q * dim, 1.0)),
        quantize(tk, &rng.vec(n_kv * dim, 1.0)),
        quantize(tv, &rng.vec(n_kv * dim, 1.0)),
    );
    let x = rng.vec(dim, 2.0);
    let g = rng.vec(dim, 1.5);
    let bias = if with_bias { rng.vec(n_q + 2 * n_kv, 0.5) } else { vec![0.0; 4] };
    let base = 10000.0f32;

    let xn = rmsnorm(&x, &g, 1e-5);
    let mut q = matvec(&dequantize(tq, &wq), dim, &xn);
    let mut k = matvec(&dequantize(tk, &wk), dim, &xn);
    let mut v = matvec(&dequantize(tv, &wv), dim, &xn);
    if with_bias {
        q.iter_mut().zip(&bias).for_each(|(a, b)| *a += b);
        k.iter_mut().zip(&bias[n_q..]).for_each(|(a, b)| *a += b);
        v.iter_mut().zip(&bias[n_q + n_kv..]).for_each(|(a, b)| *a += b);
    }
    q.chunks_mut(hd).for_each(|h| rope(h, pos, n_rot, base, neox));
    k.chunks_mut(hd).for_each(|h| rope(h, pos, n_rot, base, neox));

    let mut words = pack_rows(tq, dim, n_q, &wq).unwrap();
    let k_base = words.len();
    words.extend(pack_rows(tk, dim, n_kv, &wk).unwrap());
    let v_base = words.len();
    words.extend(pack_rows(tv, dim, n_kv, &wv).unwrap());
    // (cos, sin) per (position, pair) as the engine's load-time table holds them.
    let table: Vec<[f32; 2]> = (0..max_ctx)
        .flat_map(|p| {
            (0..n_rot / 2).map(move |i| {
                let (sn, c) = (p as f64 * (base as f64).powf(-2.0 * i as f64 / n_rot as f64)).sin_cos();
                [c as f32, sn as f32]
            })
        })
        .collect();
    let params = rig.uniform(&QkvParams {
        k: dim as u32,
        n_q: n_q as u32,
        n_kv: n_kv as u32,
        head_dim: hd as u32,
        neox: neox as u32,
        _pad0: [0; 3],
        q_base: 0,
        k_base: k_base as u32,
        v_base: v_base as u32,
        has_bias: with_bias as u32,
        n_rot: n_rot as u32,
        max_ctx: max_ctx as u32,
        eps: 1e-5,
        _pad: 0,
    });
    let cache_words = n_kv_head * max_ctx * hd / 2;
    let (xb, gb, wb, bb) = (rig.storage(&x), rig.storage(&g), rig.storage(&words), rig.storage(&bias));
    let (qb, kb, vb) = (rig.storage(&vec![0f32; n_q]), rig.storage(&vec![0u32; cache_words]), rig.storage(&vec![0u32; cache_words]));
    let quads = (n_q + 2 * n_kv).div_ceil(QKV_ROWS) as u32;
    let tb = rig.storage(&table);
    rig.run(&rig.kernels.qkv_rope, &[tq, tk, tv], &[&params, &xb, &gb, &wb, &bb, &qb, &kb, &vb, &tb], step_at(pos), (quads, 1));

    let what = format!("neox={neox} n_rot={n_rot} bias={with_bias}");
    assert_close(&format!("q {what}"), &rig.read::<f32>(&qb, n_q), &q, 1e-4);
    let cache_row = |cache: &[u32]| -> Vec<f32> {
        (0..n_kv_head)
            .flat_map(|h| {
                let row = (h * max_ctx + pos) * hd / 2;
                cache[row..row + hd / 2].iter().flat_map(|w| [f16_to_f32(*w as u16), f16_to_f32((*w >> 16) as u16)]).collect::<Vec<_>>()
            })
            .collect()
    };
    let (kc, vc) = (rig.read::<u32>(&kb, cache_words), rig.read::<u32>(&vb, cache_words));
    assert_close(&format!("k {what}"), &cache_row(&kc), &k, 2e-3);
    assert_close(&format!("v {what}"), &cache_row(&vc), &v, 2e-3);
    let written = kc.iter().filter(|w| **w != 0).count();
    assert_eq!(written, n_kv / 2, "only row {pos} of the cache is written");
}

#[test]
fn qkv_rope_norm_pairs_match_cpu() {
    qkv_case(false, 16, false);
}

#[test]
fn qkv_rope_partial_rotation_and_bias_match_cpu() {
    qkv_case(false, 8, true);
}

#[test]
fn qkv_rope_neox_pairs_match_cpu() {
    qkv_case(true, 16, true);
}

/// Softmax attention of one query head over `len` cached rows (f32 reference).
fn attend(q: &[f32], keys: &[Vec<f32>], values: &[Vec<f32>]) -> Vec<f32> {
    let scale = 1.0 / (q.len() as f32).sqrt();
    let s: Vec<f32> = keys.iter().map(|k| k.iter().zip(q).map(|(a, b)| a * b).sum::<f32>() * scale).collect();
    let m = s.iter().fold(f32::MIN, |a, b| a.max(*b));
    let e: Vec<f32> = s.iter().map(|v| (v - m).exp()).collect();
    let l: f32 = e.iter().sum();
    (0..q.len()).map(|d| e.iter().zip(values).map(|(w, v)| w * v[d]).sum::<f32>() / l).collect()
}

#[test]
fn split_attention_and_output_projection_match_cpu() {
    let rig = Rig::new(64);
    let mut rng = Rng::new(5);
    let (n_head, n_kv_head, hd, max_ctx, dim) = (4usize, 2usize, 16usize, 1200usize, 48usize);
    let f16 = |v: f32| f16_to_f32(f32_to_f16(v));
    let keys: Vec<Vec<Vec<f32>>> =
        (0..n_kv_head).map(|_| (0..max_ctx).map(|_| rng.vec(hd, 2.0).into_iter().map(f16).collect()).collect()).collect();
    let values: Vec<Vec<Vec<f32>>> =
        (0..n_kv_head).map(|_| (0..max_ctx).map(|_| rng.vec(hd, 1.0).into_iter().map(f16).collect()).collect()).collect();
    let pack = |cache: &Vec<Vec<Vec<f32>>>| -> Vec<u32> {
        cache.iter().flatten().flat_map(|row| row.chunks(2).map(|p| f32_to_f16(p[0]) as u32 | (f32_to_f16(p[1]) as u32) << 16).collect::<Vec<_>>()).collect()
    };
    let (kb, vb) = (rig.storage(&pack(&keys)), rig.storage(&pack(&values)));
    let t = TYPE_Q8_0;
    let wo = quantize(t, &rng.vec(dim * n_head * hd, 1.0));
    let wb = rig.weights(t, n_head * hd, dim, &wo);
    let partials = rig.storage(&vec![0f32; n_head * MAX_CHUNKS * (hd + 2)]);
    let attn_params = rig.uniform(&AttentionParams {
        n_head: n_head as u32,
        n_kv_head: n_kv_head as u32,
        head_dim: hd as u32,
        max_ctx: max_ctx as u32,
        max_chunks: MAX_CHUNKS as u32,
        scale: 1.0 / (hd as f32).sqrt(),
        _pad: [0; 2],
    });
    let out_params = rig.uniform(&AttnOutParams {
        n_head: n_head as u32,
        head_dim: hd as u32,
        max_chunks: MAX_CHUNKS as u32,
        n_out: dim as u32,
        _pad: [0; 4],
    });
    for seq_len in [1usize, 63, 150, 1100] {
        let q = rng.vec(n_head * hd, 1.0);
        let x0 = rng.vec(dim, 1.0);
        let attn: Vec<f32> = (0..n_head)
            .flat_map(|h| {
                let kvh = h / (n_head / n_kv_head);
                attend(&q[h * hd..(h + 1) * hd], &keys[kvh][..seq_len], &values[kvh][..seq_len])
            })
            .collect();
        let want: Vec<f32> =
            matvec(&dequantize(t, &wo), n_head * hd, &attn).iter().zip(&x0).map(|(a, b)| a + b).collect();
        let (qb, xb) = (rig.storage(&q), rig.storage(&x0));
        let step = step_at(seq_len - 1);
        rig.run(&rig.kernels.attention, &[], &[&attn_params, &qb, &kb, &vb, &partials], step, (n_head as u32, step.n_chunks));
        rig.run(&rig.kernels.attn_out, &[t], &[&out_params, &partials, &wb, &xb], step, (dim.div_ceil(ATTN_OUT_ROWS) as u32, 1));
        assert_close(&format!("seq_len {seq_len} ({} chunks)", step.n_chunks), &rig.read::<f32>(&xb, dim), &want, 1e-4);
    }
}

#[test]
fn gate_up_silu_matches_cpu() {
    let rig = Rig::new(64);
    let mut rng = Rng::new(6);
    let (dim, n_ff) = (64usize, 40usize);
    let (tg, tu) = (TYPE_Q4_1, TYPE_Q8_0);
    let (wg, wu) = (quantize(tg, &rng.vec(n_ff * dim, 1.0)), quantize(tu, &rng.vec(n_ff * dim, 1.0)));
    let (x, g) = (rng.vec(dim, 3.0), rng.vec(dim, 1.0));
    let xn = rmsnorm(&x, &g, 1e-6);
    let gate = matvec(&dequantize(tg, &wg), dim, &xn);
    let up = matvec(&dequantize(tu, &wu), dim, &xn);
    let want: Vec<f32> = gate.iter().zip(&up).map(|(a, b)| a / (1.0 + (-a).exp()) * b).collect();
    let mut words = pack_rows(tg, dim, n_ff, &wg).unwrap();
    let u_base = words.len() as u32;
    words.extend(pack_rows(tu, dim, n_ff, &wu).unwrap());
    let params = rig.uniform(&GateUpParams { k: dim as u32, n_ff: n_ff as u32, g_base: 0, u_base, eps: 1e-6, _pad: [0; 3] });
    let (xb, gb, wb, hb) = (rig.storage(&x), rig.storage(&g), rig.storage(&words), rig.storage(&vec![0f32; n_ff]));
    rig.run(&rig.kernels.ffn_gate_up, &[tg, tu], &[&params, &xb, &gb, &wb, &hb], step_at(0), ((n_ff / GATE_UP_ROWS) as u32, 1));
    assert_close("silu(gate)·up", &rig.read::<f32>(&hb, n_ff), &want, 1e-4);
}

#[test]
fn lm_head_part_writes_its_rows_of_the_requested_logits_row() {
    let rig = Rig::new(64);
    let mut rng = Rng::new(7);
    let (dim, vocab, lo, n) = (64usize, 40usize, 8usize, 30usize);
    let t = TYPE_Q8_0;
    let w = quantize(t, &rng.vec(n * dim, 1.0));
    let (x, g) = (rng.vec(dim, 1.0), rng.vec(dim, 1.0));
    let want = matvec(&dequantize(t, &w), dim, &rmsnorm(&x, &g, 1e-5));
    let params = rig.uniform(&HeadParams { k: dim as u32, n_rows: n as u32, row_lo: lo as u32, vocab: vocab as u32, _pad_type: 0, eps: 1e-5, _pad: [0; 2] });
    let logits = rig.storage(&vec![-1.0f32; 2 * vocab]);
    let (xb, gb, wb) = (rig.storage(&x), rig.storage(&g), rig.weights(t, dim, n, &w));
    let step = StepUniform { logits_row: 1, ..step_at(0) };
    rig.run(&rig.kernels.lm_head, &[t], &[&params, &xb, &gb, &wb, &logits], step, (n.div_ceil(HEAD_ROWS) as u32, 1));
    let got = rig.read::<f32>(&logits, 2 * vocab);
    assert!(got[..vocab + lo].iter().chain(&got[vocab + lo + n..]).all(|v| *v == -1.0), "rows outside the part untouched");
    assert_close("logits", &got[vocab + lo..vocab + lo + n], &want, 1e-5);
}

#[test]
fn top_k_orders_by_logit_then_id_and_feeds_the_argmax_back() {
    let rig = Rig::new(64);
    let mut rng = Rng::new(8);
    let (vocab, k) = (5000usize, 8usize);
    // Coarse values so ties are common; the top value appears twice.
    let mut logits: Vec<f32> = (0..2 * vocab).map(|_| (rng.f32() * 20.0).round() / 2.0).collect();
    logits[vocab + 4321] = 11.0;
    logits[vocab + 77] = 11.0;
    let mut want: Vec<(u32, f32)> = (0..vocab).map(|i| (i as u32, logits[vocab + i])).collect();
    want.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    want.truncate(k);
    let params = rig.uniform(&TopkParams { vocab: vocab as u32, k: k as u32, _pad: [0; 2] });
    let (lb, top, tokens) = (rig.storage(&logits), rig.storage(&vec![0u32; 4 * k]), rig.storage(&[0u32; 4]));
    let step = StepUniform { logits_row: 1, out_slot: 2, ..step_at(0) };
    rig.run(&rig.kernels.topk, &[], &[&params, &lb, &top, &tokens], step, (1, 1));
    let raw = rig.read::<u32>(&top, 4 * k);
    let got: Vec<(u32, f32)> = raw[2 * k..4 * k].chunks(2).map(|p| (p[1], f32::from_bits(p[0]))).collect();
    assert_eq!(got, want);
    assert_eq!(want[0].0, 77);
    assert_eq!(rig.read::<u32>(&tokens, 4), vec![0, 0, 77, 0]);
}

#[test]
fn batched_matmul_modes_match_cpu_across_token_tiles() {
    let rig = Rig::new(64);
    let mut rng = Rng::new(9);
    let (k, rows, n) = (96usize, 20usize, 11usize); // 11 tokens = a full and a partial tile of 8
    let acts = rng.vec(n * k, 1.0);
    let step = StepUniform { n_tokens: n as u32, ..step_at(0) };
    for (t, t2) in [(TYPE_Q4_0, TYPE_Q8_0), (TYPE_Q4_1, TYPE_F16), (TYPE_F32, TYPE_Q4_1)] {
        let (w1, w2) = (quantize(t, &rng.vec(rows * k, 1.0)), quantize(t2, &rng.vec(rows * k, 1.0)));
        let (d1, d2) = (dequantize(t, &w1), dequantize(t2, &w2));
        let mut words = pack_rows(t, k, rows, &w1).unwrap();
        let base2 = words.len();
        words.extend(pack_rows(t2, k, rows, &w2).unwrap());
        let bias = rng.vec(rows + 3, 1.0);
        let out0 = rng.vec(n * (rows + 3), 1.0);
        let (ab, wb, bb) = (rig.storage(&acts), rig.storage(&words), rig.storage(&bias));
        for mode in [MODE_STORE, MODE_ADD, MODE_GATE_UP] {
            // Rows land at offset 3 of each output row of width rows + 3.
            let params = MatmulParams {
                k: k as u32,
                n_rows: rows as u32,
                w_base: 0,
                w_base2: base2 as u32,
                in_stride: k as u32,
                out_stride: (rows + 3) as u32,
                out_offset: 3,
                has_bias: (mode == MODE_STORE) as u32,
            };
            let (pb, ob) = (rig.uniform(&params), rig.storage(&out0));
            rig.run(&rig.kernels.matmul, &[t, t2, mode], &[&pb, &ab, &wb, &bb, &ob], step, (rows.div_ceil(MATMUL_ROWS) as u32, 1));
            let mut want = out0.clone();
            for tok in 0..n {
                let x = &acts[tok * k..(tok + 1) * k];
                let (y1, y2) = (matvec(&d1, k, x), matvec(&d2, k, x));
                for r in 0..rows {
                    let at = tok * (rows + 3) + 3 + r;
                    want[at] = match mode {
                        MODE_STORE => y1[r] + bias[3 + r],
                        MODE_ADD => want[at] + y1[r],
                        _ => y1[r] / (1.0 + (-y1[r]).exp()) * y2[r],
                    };
                }
            }
            assert_close(&format!("{}/{} mode {mode}", type_name(t), type_name(t2)), &rig.read::<f32>(&ob, out0.len()), &want, 1e-5);
        }
    }
}
