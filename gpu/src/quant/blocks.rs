//! Block layouts (ggml-common.h): dequantizing rows, and the reference quantizers that write them.
//!
//! Q4_0: `d: f16, qs[16]` — element j<16 is `(qs[j] & 15) − 8`, j≥16 is `(qs[j−16] >> 4) − 8`, times d.
//! Q4_1: `d: f16, m: f16, qs[16]` — same nibble order, value `q·d + m`.
//! Q8_0: `d: f16, qs[32]: i8` — value `q·d`.
//! The quantizers follow ggml's `quantize_row_*_ref` so synthetic test weights look like real files.

use super::format::{QuantError, WeightFormat};
use super::reference::{f32_to_f16_bits, read_f16};

/// Elements per quantized block.
pub const QK: usize = 32;
pub const BLOCK_Q4_0_BYTES: usize = 18;
pub const BLOCK_Q4_1_BYTES: usize = 20;
pub const BLOCK_Q8_0_BYTES: usize = 34;

/// Dequantizes one row of `out.len()` elements stored in `format` into f32.
pub fn dequantize_row(format: WeightFormat, row: &[u8], out: &mut [f32]) -> Result<(), QuantError> {
    let expected = format.row_bytes(out.len())?;
    if row.len() != expected {
        return Err(QuantError::SizeMismatch { expected, actual: row.len() });
    }
    match format {
        WeightFormat::F32 => {
            for (o, w) in out.iter_mut().zip(row.chunks_exact(4)) {
                *o = f32::from_le_bytes([w[0], w[1], w[2], w[3]]);
            }
        }
        WeightFormat::F16 => {
            for (j, o) in out.iter_mut().enumerate() {
                *o = read_f16(row, 2 * j);
            }
        }
        WeightFormat::Q4_0 => {
            for (block, o) in row.chunks_exact(BLOCK_Q4_0_BYTES).zip(out.chunks_exact_mut(QK)) {
                let d = read_f16(block, 0);
                for j in 0..16 {
                    o[j] = (i32::from(block[2 + j] & 0x0F) - 8) as f32 * d;
                    o[j + 16] = (i32::from(block[2 + j] >> 4) - 8) as f32 * d;
                }
            }
        }
        WeightFormat::Q4_1 => {
            for (block, o) in row.chunks_exact(BLOCK_Q4_1_BYTES).zip(out.chunks_exact_mut(QK)) {
                let d = read_f16(block, 0);
                let m = read_f16(block, 2);
                for j in 0..16 {
                    o[j] = f32::from(block[4 + j] & 0x0F) * d + m;
                    o[j + 16] = f32::from(block[4 + j] >> 4) * d + m;
                }
            }
        }
        WeightFormat::Q8_0 => {
            for (block, o) in row.chunks_exact(BLOCK_Q8_0_BYTES).zip(out.chunks_exact_mut(QK)) {
                let d = read_f16(block, 0);
                for j in 0..QK {
                    o[j] = f32::from(block[2 + j] as i8) * d;
                }
            }
        }
    }
    Ok(())
}

fn check_quant_input(x: &[f32]) -> Result<(), QuantError> {
    if !x.len().is_multiple_of(QK) {
        return Err(QuantError::RowNotBlockAligned { format: WeightFormat::Q8_0, cols: x.len() });
    }
    Ok(())
}

/// ggml `quantize_row_q4_0_ref`: the signed value of largest magnitude maps to −8.
pub fn quantize_row_q4_0(x: &[f32]) -> Result<Vec<u8>, QuantError> {
    check_quant_input(x)?;
    let mut out = Vec::with_capacity(x.len() / QK * BLOCK_Q4_0_BYTES);
    for block in x.chunks_exact(QK) {
        let max = block.iter().copied().fold(0.0f32, |m, v| if v.abs() > m.abs() { v } else { m });
        let d = max / -8.0;
        let id = if d != 0.0 { 1.0 / d } else { 0.0 };
        out.extend_from_slice(&f32_to_f16_bits(d).to_le_bytes());
        for j in 0..16 {
            let lo = ((block[j] * id + 8.5) as i8).min(15) as u8;
            let hi = ((block[j + 16] * id + 8.5) as i8).min(15) as u8;
            out.push(lo | (hi << 4));
        }
    }
    Ok(out)
}

/// ggml `quantize_row_q4_1_ref`: 16 levels between the block's min and max.
pub fn quantize_row_q4_1(x: &[f32]) -> Result<Vec<u8>, QuantError> {
    check_quant_input(x)?;
    let mut out = Vec::with_capacity(x.len() / QK * BLOCK_Q4_1_BYTES);
    for block in x.chunks_exact(QK) {
        let min = block.iter().copied().fold(f32::MAX, f32::min);
        let max = block.iter().copied().fold(f32::MIN, f32::max);
        let d = (max - min) / 15.0;
        let id = if d != 0.0 { 1.0 / d } else { 0.0 };
        out.extend_from_slice(&f32_to_f16_bits(d).to_le_bytes());
        out.extend_from_slice(&f32_to_f16_bits(min).to_le_bytes());
        for j in 0..16 {
            let lo = (((block[j] - min) * id + 0.5) as i8).min(15) as u8;
            let hi = (((block[j + 16] - min) * id + 0.5) as i8).min(15) as u8;
            out.push(lo | (hi << 4));
        }
    }
    Ok(out)
}

/// ggml `quantize_row_q8_0_ref`: symmetric, the largest magnitude maps to ±127.
pub fn quantize_row_q8_0(x: &[f32]) -> Result<Vec<u8>, QuantError> {
    check_quant_input(x)?;
    let mut out = Vec::with_capacity(x.len() / QK * BLOCK_Q8_0_BYTES);
    for block in x.chunks_exact(QK) {
        let amax = block.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let d = amax / 127.0;
        let id = if d != 0.0 { 1.0 / d } else { 0.0 };
        out.extend_from_slice(&f32_to_f16_bits(d).to_le_bytes());
        out.extend(block.iter().map(|v| (v * id).round() as i8 as u8));
    }
    Ok(out)
}
