//! Synthetic checks: known blocks dequantize to known values, and every kernel agrees with the
//! exact f32 reference within the error activation quantization allows.

use super::matmul::{matmul_with, Kernel};
use super::*;

/// Deterministic pseudo-random values in [-scale, scale] (xorshift; no test depends on an RNG crate).
fn values(n: usize, seed: u64, scale: f32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale
        })
        .collect()
}

fn quantize_matrix(format: WeightFormat, w: &[f32], cols: usize) -> Vec<u8> {
    match format {
        WeightFormat::F32 => w.iter().flat_map(|v| v.to_le_bytes()).collect(),
        WeightFormat::F16 => w.iter().flat_map(|v| f32_to_f16_bits(*v).to_le_bytes()).collect(),
        WeightFormat::Q4_0 => w.chunks(cols).flat_map(|r| quantize_row_q4_0(r).unwrap()).collect(),
        WeightFormat::Q4_1 => w.chunks(cols).flat_map(|r| quantize_row_q4_1(r).unwrap()).collect(),
        WeightFormat::Q8_0 => w.chunks(cols).flat_map(|r| quantize_row_q8_0(r).unwrap()).collect(),
    }
}

const FORMATS: [WeightFormat; 5] =
    [WeightFormat::F32, WeightFormat::F16, WeightFormat::Q4_0, WeightFormat::Q4_1, WeightFormat::Q8_0];

#[test]
fn q4_0_block_dequantizes_nibbles_in_ggml_order() {
    // d = 0.5; byte j holds element j (low nibble) and element j+16 (high nibble).
    let mut block = f32_to_f16_bits(0.5).to_le_bytes().to_vec();
    block.extend((0..16u8).map(|j| j | ((15 - j) << 4)));
    let mut out = [0.0f32; 32];
    dequantize_row(WeightFormat::Q4_0, &block, &mut out).unwrap();
    for j in 0..16 {
        assert_eq!(out[j], (j as f32 - 8.0) * 0.5, "element {j}");
        assert_eq!(out[j + 16], (7.0 - j as f32) * 0.5, "element {}", j + 16);
    }
}

#[test]
fn q4_1_block_dequantizes_with_min() {
    let mut block = f32_to_f16_bits(0.25).to_le_bytes().to_vec();
    block.extend(f32_to_f16_bits(-1.0).to_le_bytes());
    block.extend((0..16u8).map(|j| j | (3 << 4)));
    let mut out = [0.0f32; 32];
    dequantize_row(WeightFormat::Q4_1, &block, &mut out).unwrap();
    for j in 0..16 {
        assert_eq!(out[j], j as f32 * 0.25 - 1.0);
        assert_eq!(out[j + 16], 3.0 * 0.25 - 1.0);
    }
}

#[test]
fn q8_0_block_dequantizes_signed_bytes() {
    let mut block = f32_to_f16_bits(2.0).to_le_bytes().to_vec();
    block.extend((0..32i32).map(|j| (j * 8 - 128) as i8 as u8));
    let mut out = [0.0f32; 32];
    dequantize_row(WeightFormat::Q8_0, &block, &mut out).unwrap();
    for (j, v) in out.iter().enumerate() {
        assert_eq!(*v, (j as f32 * 8.0 - 128.0) * 2.0);
    }
}

#[test]
fn quantize_then_dequantize_stays_within_half_a_step() {
    let x = values(256, 7, 3.0);
    for format in [WeightFormat::Q4_0, WeightFormat::Q4_1, WeightFormat::Q8_0] {
        let bytes = quantize_matrix(format, &x, 256);
        let mut back = vec![0.0f32; 256];
        dequantize_row(format, &bytes, &mut back).unwrap();
        for (block, (orig, deq)) in x.chunks(32).zip(back.chunks(32)).enumerate() {
            let amax = orig.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            let range = orig.iter().copied().fold(f32::MIN, f32::max) - orig.iter().copied().fold(f32::MAX, f32::min);
            let step = match format {
                WeightFormat::Q4_0 => amax / 8.0,
                WeightFormat::Q4_1 => range / 15.0,
                _ => amax / 127.0,
            };
            // Q4_0 maps the signed extreme to −8, so the opposite extreme clips at +7: a full step.
            let allowed = if format == WeightFormat::Q4_0 { step } else { step * 0.5 };
            for (o, d) in orig.iter().zip(deq) {
                // Plus the f16 rounding of the scale and min.
                assert!((o - d).abs() <= allowed + amax * 2e-3, "{format} block {block}: {o} vs {d}");
            }
        }
    }
}

#[test]
fn f16_and_f32_rows_round_trip_exactly() {
    let x: Vec<f32> = vec![1.0, -2.5, 0.099975586, 65504.0, -0.0, 3.0e-5, 7.0, 0.5];
    let f16_bytes = quantize_matrix(WeightFormat::F16, &x, 8);
    let mut out = vec![0.0; 8];
    dequantize_row(WeightFormat::F16, &f16_bytes, &mut out).unwrap();
    for (a, b) in x.iter().zip(&out) {
        assert_eq!(round_to_f16(*a), *b);
    }
    dequantize_row(WeightFormat::F32, &quantize_matrix(WeightFormat::F32, &x, 8), &mut out).unwrap();
    assert_eq!(out, x);
}

#[test]
fn bad_shapes_are_errors() {
    assert!(QMatrix::new(WeightFormat::Q4_1, 2, 40, &[0; 60]).is_err(), "40 is not a whole number of blocks");
    assert!(QMatrix::new(WeightFormat::Q4_1, 2, 32, &[0; 39]).is_err(), "data too short");
    assert!(WeightFormat::from_ggml_type(12).is_err(), "Q4_K is rewritten at load, never computed on directly");
    let w = QMatrix::new(WeightFormat::Q8_0, 1, 32, &[0; 34]).unwrap();
    let mut out = [0.0f32; 1];
    assert!(matvec(&w, &[0.0; 64], &mut out).is_err());
    let acts = QuantizedActs::new(WeightFormat::F32, &[0.0; 32], 32).unwrap();
    assert!(matmul(&w, &acts, &mut out).is_err(), "F32 activations do not fit Q8_0 weights");
}

/// The quantized path may differ from exact f32 by the activation rounding: per block about
/// half an int8 step of x times Σ|w|. This bound is what llama.cpp's numerics allow as well.
fn tolerance(w_row: &[f32], x: &[f32], format: WeightFormat) -> f32 {
    match format {
        WeightFormat::F32 => 1e-4 * w_row.iter().zip(x).map(|(a, b)| (a * b).abs()).sum::<f32>() + 1e-5,
        WeightFormat::F16 => 2e-3 * w_row.iter().zip(x).map(|(a, b)| (a * b).abs()).sum::<f32>() + 1e-5,
        _ => w_row
            .chunks(32)
            .zip(x.chunks(32))
            .map(|(wb, xb)| {
                let amax = xb.iter().fold(0.0f32, |m, v| m.max(v.abs()));
                let wsum: f32 = wb.iter().map(|v| v.abs()).sum();
                (amax / 127.0 * 0.5 + amax * 1e-3) * wsum
            })
            .sum::<f32>()
            + 1e-4,
    }
}

#[test]
fn matvec_matches_f32_reference_for_every_format() {
    let (rows, cols) = (13, 96);
    for format in FORMATS {
        let w = values(rows * cols, 11, 0.7);
        let bytes = quantize_matrix(format, &w, cols);
        let m = QMatrix::new(format, rows, cols, &bytes).unwrap();
        let x = values(cols, 3, 2.0);
        let mut fast = vec![0.0; rows];
        let mut exact = vec![0.0; rows];
        matvec(&m, &x, &mut fast).unwrap();
        matvec_f32_reference(&m, &x, &mut exact).unwrap();
        let mut deq = vec![0.0; cols];
        for r in 0..rows {
            m.dequantize_row(r, &mut deq).unwrap();
            let tol = tolerance(&deq, &x, format);
            assert!((fast[r] - exact[r]).abs() <= tol, "{format} row {r}: {} vs {} (tol {tol})", fast[r], exact[r]);
        }
    }
}

#[test]
fn simd_kernels_agree_with_scalar_for_all_tile_shapes() {
    // Row counts and vector counts that exercise full tiles and every tail; block counts odd and
    // even, below and above the 16-block windows of the AVX-512 kernel.
    for cols in [160, 576, 1088] {
        for kernel in Kernel::all_available().into_iter().filter(|k| *k != Kernel::Scalar) {
            for format in FORMATS {
                for rows in [1, 3, 4, 7, 9] {
                    for n in [1, 2, 3, 4, 5, 9, 13] {
                        let w = values(rows * cols, rows as u64 * 31 + n as u64, 0.5);
                        let bytes = quantize_matrix(format, &w, cols);
                        let m = QMatrix::new(format, rows, cols, &bytes).unwrap();
                        let x = values(n * cols, 5 + n as u64, 1.5);
                        let acts = QuantizedActs::new(format, &x, cols).unwrap();
                        let mut scalar = vec![0.0; n * rows];
                        let mut fast = vec![0.0; n * rows];
                        matmul_with(Kernel::Scalar, &m, &acts, &mut scalar).unwrap();
                        matmul_with(kernel, &m, &acts, &mut fast).unwrap();
                        for (i, (a, b)) in scalar.iter().zip(&fast).enumerate() {
                            // Same integer sums; only the float accumulation order differs.
                            assert!((a - b).abs() <= 1e-4 * (1.0 + a.abs()), "{kernel:?} {format} cols {cols} rows {rows} n {n} [{i}]: {a} vs {b}");
                        }
                        // A vector's results are the same bits whatever it is batched with.
                        for v in 0..n {
                            let one = QuantizedActs::new(format, &x[v * cols..(v + 1) * cols], cols).unwrap();
                            let mut single = vec![0.0; rows];
                            matmul_with(kernel, &m, &one, &mut single).unwrap();
                            for r in 0..rows {
                                assert_eq!(fast[v * rows + r].to_bits(), single[r].to_bits(), "{kernel:?} {format} cols {cols} n {n}: batched v{v} r{r}");
                            }
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn f16_kernel_handles_widths_that_are_not_a_multiple_of_eight() {
    for format in [WeightFormat::F16, WeightFormat::F32] {
        let (rows, cols) = (5, 13);
        let w = values(rows * cols, 9, 1.0);
        let bytes = quantize_matrix(format, &w, cols);
        let m = QMatrix::new(format, rows, cols, &bytes).unwrap();
        let x = values(cols, 4, 1.0);
        let mut fast = vec![0.0; rows];
        let mut exact = vec![0.0; rows];
        matvec(&m, &x, &mut fast).unwrap();
        matvec_f32_reference(&m, &x, &mut exact).unwrap();
        for r in 0..rows {
            assert!((fast[r] - exact[r]).abs() < 5e-3, "{format} row {r}");
        }
    }
}

#[test]
fn activation_quantization_matches_llama_cpp_rules() {
    // amax 127 gives d = 1 and exact integers; ties round to even.
    let mut x = vec![0.0f32; 32];
    x[0] = 127.0;
    x[1] = -127.0;
    x[2] = 2.5;
    x[3] = 3.5;
    x[4] = -0.5;
    let acts = QuantizedActs::new(WeightFormat::Q4_1, &x, 32).unwrap();
    assert_eq!(acts.d[0], 1.0);
    assert_eq!(&acts.qs[..5], &[127, -127, 2, 4, 0]);
    assert_eq!(acts.s[0], 6.0);
    let zeros = QuantizedActs::new(WeightFormat::Q8_0, &[0.0; 32], 32).unwrap();
    assert_eq!(zeros.d[0], 0.0);
    assert!(zeros.qs.iter().all(|q| *q == 0));
}

/// Random bytes for `blocks` blocks of a rewritten type, with its f16 scale fields set to
/// plausible weight scales (random bits would give NaN/huge scales no real file has).
fn random_blocks(t: Transcoded, blocks: usize, seed: u64) -> Vec<u8> {
    let (size, scale_at): (usize, &[usize]) = match t {
        Transcoded::Q5_0 => (22, &[0]),
        Transcoded::Q5_1 => (24, &[0, 2]),
        Transcoded::Q4K => (144, &[0, 2]),
        Transcoded::Q5K => (176, &[0, 2]),
        Transcoded::Q6K => (210, &[208]),
    };
    let noise = values(blocks * size, seed, 1.0);
    let mut out: Vec<u8> = noise.iter().map(|v| ((v + 1.0) * 127.9) as u8).collect();
    for (b, block) in out.chunks_exact_mut(size).enumerate() {
        for (i, &at) in scale_at.iter().enumerate() {
            let d = 1e-3 + 1e-2 * noise[b * size + i].abs();
            block[at..at + 2].copy_from_slice(&f32_to_f16_bits(d).to_le_bytes());
        }
    }
    out
}

#[test]
fn rewritten_types_keep_their_values() {
    let all = [Transcoded::Q5_0, Transcoded::Q5_1, Transcoded::Q4K, Transcoded::Q5K, Transcoded::Q6K];
    for t in all {
        let (rows, cols) = (3, 512);
        let blocks_per_row = if matches!(t, Transcoded::Q5_0 | Transcoded::Q5_1) { cols / 32 } else { cols / QK_K };
        let src = random_blocks(t, rows * blocks_per_row, 7 + t as u64);
        let out = transcode(ggml_id(t), cols, &src)
            .unwrap()
            .expect("a rewritten type");
        assert_eq!(out.0, t.target());
        assert_eq!(out.1.len(), rows * t.target().row_bytes(cols).unwrap(), "{t:?}");
        let src_row = src.len() / rows;
        let dst_row = out.1.len() / rows;
        for r in 0..rows {
            let (mut want, mut got) = (vec![0.0f32; cols], vec![0.0f32; cols]);
            t.dequantize_row(&src[r * src_row..(r + 1) * src_row], &mut want).unwrap();
            dequantize_row(t.target(), &out.1[r * dst_row..(r + 1) * dst_row], &mut got).unwrap();
            assert!(want.iter().any(|v| *v != 0.0));
            for (block, (w, g)) in want.chunks(32).zip(got.chunks(32)).enumerate() {
                let amax = w.iter().fold(0.0f32, |m, v| m.max(v.abs()));
                // Q5_0 is exact; Q4_K only rounds each sub-block's scale and offset to f16; the
                // Q8_0 requantizations may move a value by half a step (plus the f16 scale).
                let bound = match t {
                    Transcoded::Q5_0 => 0.0,
                    Transcoded::Q4K => amax * 2e-3,
                    _ => amax / 254.0 * 1.01 + amax * 1e-3,
                };
                for (j, (a, b)) in w.iter().zip(g).enumerate() {
                    assert!((a - b).abs() <= bound, "{t:?} row {r} block {block} [{j}]: {a} vs {b} (bound {bound})");
                }
            }
        }
    }
}

fn ggml_id(t: Transcoded) -> u32 {
    match t {
        Transcoded::Q5_0 => 6,
        Transcoded::Q5_1 => 7,
        Transcoded::Q4K => 12,
        Transcoded::Q5K => 13,
        Transcoded::Q6K => 14,
    }
}

/// Hand-built blocks pin the bit layouts of ggml-common.h (the logits test against llama.cpp on
/// requantized files checks them end to end).
#[test]
fn k_quant_layouts_decode_known_values() {
    // Q4_K: d = 1, dmin = 0.5; sub-block 5 takes its scale from the high half of byte 9 and the
    // top bits of byte 1, its min from byte 9's high nibble and the top bits of byte 5.
    let mut b = vec![0u8; 144];
    b[0..2].copy_from_slice(&f32_to_f16_bits(1.0).to_le_bytes());
    b[2..4].copy_from_slice(&f32_to_f16_bits(0.5).to_le_bytes());
    b[4 + 9] = 0x3 | (0x2 << 4); // sub 5: scale low 4 bits 3, min low 4 bits 2
    b[4 + 1] = 0b01 << 6; // scale high bits → +16
    b[4 + 5] = 0b10 << 6; // min high bits → +32
    b[16 + 2 * 32 + 7] = 0x90; // sub-block 5 = high nibbles of bytes 64..96: element 7 → 9
    let mut out = vec![0.0f32; 256];
    Transcoded::Q4K.dequantize_row(&b, &mut out).unwrap();
    let (sc, m) = (19.0, 34.0);
    assert_eq!(out[5 * 32 + 7], sc * 9.0 - 0.5 * m);
    assert_eq!(out[5 * 32 + 8], -0.5 * m);
    assert_eq!(out[4 * 32 + 7], 0.0, "sub-block 4 has scale 0 and min 0");
    let (format, q41) = transcode(12, 256, &b).unwrap().unwrap();
    assert_eq!(format, WeightFormat::Q4_1);
    let mut back = vec![0.0f32; 256];
    dequantize_row(WeightFormat::Q4_1, &q41, &mut back).unwrap();
    assert_eq!(back, out, "small integer scales are exact in f16");

    // Q6_K: d = 0.25 at the end; element 64+l of the first half reads ql[l]'s high nibble and
    // qh[l] bits 4..6, scaled by scales[4 + l/16].
    let mut b = vec![0u8; 210];
    b[208..210].copy_from_slice(&f32_to_f16_bits(0.25).to_le_bytes());
    b[3] = 0xA0; // ql[3] high nibble 10
    b[128 + 3] = 0b10 << 4; // qh[3] bits 4..6 = 2 → q = 10 | 32 = 42
    b[192 + 4] = (-3i8) as u8;
    Transcoded::Q6K.dequantize_row(&b, &mut out).unwrap();
    assert_eq!(out[64 + 3], 0.25 * -3.0 * (42.0 - 32.0));
    assert_eq!(out[0], 0.25 * 0.0 * -32.0, "scale 0 zeroes the first group");

    // Q5_0: bit j of qh is the fifth bit of element j; element 20 is byte 4's high nibble.
    let mut b = vec![0u8; 22];
    b[0..2].copy_from_slice(&f32_to_f16_bits(2.0).to_le_bytes());
    b[2..6].copy_from_slice(&(1u32 << 20).to_le_bytes());
    b[6 + 4] = 0x70;
    let mut out = vec![0.0f32; 32];
    Transcoded::Q5_0.dequantize_row(&b, &mut out).unwrap();
    assert_eq!(out[20], 2.0 * (23.0 - 16.0));
    assert_eq!(out[4], 2.0 * -16.0);
}

#[test]
fn rewriting_rejects_partial_blocks() {
    assert!(transcode(12, 128, &[0; 72]).is_err(), "Q4_K rows are whole 256-weight blocks");
    assert!(transcode(14, 256, &[0; 200]).is_err(), "truncated Q6_K data");
    assert!(transcode(11, 256, &[0; 110]).unwrap_err().to_string().contains("Q4_K"), "Q3_K is named as unsupported");
    assert_eq!(transcode(3, 32, &[0; 20]).unwrap(), None, "Q4_1 is read as is");
}
