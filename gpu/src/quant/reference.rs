//! Portable scalar kernels: one row of GGUF blocks dotted with a quantized activation vector.
//!
//! These are the readable definitions; the SIMD kernels (AVX2, SIMD128) must compute the same
//! integer sums and differ only in the order of the float accumulation.

use half::f16;

pub fn f16_bits_to_f32(bits: u16) -> f32 {
    f16::from_bits(bits).to_f32()
}

/// Round-to-nearest-even f32 → f16, as F16C and ggml's `GGML_FP32_TO_FP16` do.
pub fn f32_to_f16_bits(x: f32) -> u16 {
    f16::from_f32(x).to_bits()
}

/// `x` rounded to the nearest f16 value (the precision llama.cpp keeps block scales and F16 activations in).
pub fn round_to_f16(x: f32) -> f32 {
    f16::from_f32(x).to_f32()
}

#[inline]
pub(crate) fn read_f16(bytes: &[u8], at: usize) -> f32 {
    f16_bits_to_f32(u16::from_le_bytes([bytes[at], bytes[at + 1]]))
}

/// Plain f32 dot product (sequential accumulation).
pub fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Q4_0 row · Q8 activations. Σ (q−8)·y = Σ q·y − 8·Σ y, so the nibbles are used unsigned and the
/// activation block sums `sd = d_y·Σ q_y` carry the −8 offset (one fused term per block).
pub fn dot_q4_0_q8(row: &[u8], qs: &[i8], d: &[f32], sd: &[f32]) -> f32 {
    let mut acc = 0.0f32;
    let mut offset = 0.0f32;
    for (b, block) in row.chunks_exact(18).enumerate() {
        let dw = read_f16(block, 0);
        let y = &qs[b * 32..b * 32 + 32];
        let mut sumi = 0i32;
        for j in 0..16 {
            sumi += i32::from(block[2 + j] & 0x0F) * i32::from(y[j]);
            sumi += i32::from(block[2 + j] >> 4) * i32::from(y[j + 16]);
        }
        acc += dw * d[b] * sumi as f32;
        offset += -8.0 * dw * sd[b];
    }
    acc + offset
}

/// Q4_1 row · Q8_1 activations: Σ (d·q + m)·y = d·d_y·Σ q·q_y + m·s_y with s_y = d_y·Σ q_y.
pub fn dot_q4_1_q8(row: &[u8], qs: &[i8], d: &[f32], s: &[f32]) -> f32 {
    let mut acc = 0.0f32;
    let mut mins = 0.0f32;
    for (b, block) in row.chunks_exact(20).enumerate() {
        let dw = read_f16(block, 0);
        let mw = read_f16(block, 2);
        let y = &qs[b * 32..b * 32 + 32];
        let mut sumi = 0i32;
        for j in 0..16 {
            sumi += i32::from(block[4 + j] & 0x0F) * i32::from(y[j]);
            sumi += i32::from(block[4 + j] >> 4) * i32::from(y[j + 16]);
        }
        acc += dw * d[b] * sumi as f32;
        mins += mw * s[b];
    }
    acc + mins
}

/// Q8_0 row · Q8 activations.
pub fn dot_q8_0_q8(row: &[u8], qs: &[i8], d: &[f32]) -> f32 {
    let mut acc = 0.0f32;
    for (b, block) in row.chunks_exact(34).enumerate() {
        let dw = read_f16(block, 0);
        let y = &qs[b * 32..b * 32 + 32];
        let sumi: i32 = (0..32).map(|j| i32::from(block[2 + j] as i8) * i32::from(y[j])).sum();
        acc += dw * d[b] * sumi as f32;
    }
    acc
}

/// F16 row · activations (already rounded to f16 precision, as llama.cpp converts them).
pub fn dot_f16_f32(row: &[u8], x: &[f32]) -> f32 {
    let mut acc = 0.0f32;
    for (j, xv) in x.iter().enumerate() {
        acc += read_f16(row, 2 * j) * xv;
    }
    acc
}

/// F32 row (little-endian bytes) · activations.
pub fn dot_f32_bytes(row: &[u8], x: &[f32]) -> f32 {
    let mut acc = 0.0f32;
    for (w, xv) in row.chunks_exact(4).zip(x) {
        acc += f32::from_le_bytes([w[0], w[1], w[2], w[3]]) * xv;
    }
    acc
}
