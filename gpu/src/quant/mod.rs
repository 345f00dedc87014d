//! Quantized weight formats as GGUF stores them, and the dot products the CPU engine runs on them.
//!
//! Weights stay in their file blocks (Q4_0, Q4_1, Q8_0, F16, F32); nothing here turns a whole matrix
//! into f32. K-quant and 5-bit tensors are rewritten into those blocks once at load ([`Transcoded`]). Like llama.cpp's CPU backend, a mat-vec first quantizes the activation vector once
//! ([`QuantizedActs`]: Q8_0 for Q4_0/Q8_0 weights, Q8_1 for Q4_1, f16-rounded for F16) and then runs
//! integer dot products per block. That is both the fast path and the one whose numerics match
//! llama.cpp. [`matvec_f32_reference`] keeps an exact f32 path (dequantize, multiply in f32) that tests
//! and the WGSL kernels compare against.
//!
//! Layout: a matrix with `rows` outputs and `cols` inputs (GGUF shape `[cols, rows]`) stores row `r`
//! in bytes `r * row_bytes .. (r + 1) * row_bytes`.

mod blocks;
mod format;
mod matmul;
mod reference;
mod transcode;

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd128;

pub use blocks::{
    dequantize_row, quantize_row_q4_0, quantize_row_q4_1, quantize_row_q8_0, BLOCK_Q4_0_BYTES,
    BLOCK_Q4_1_BYTES, BLOCK_Q8_0_BYTES, QK,
};
pub use format::{QuantError, WeightFormat};
pub use matmul::{
    kernel_name, matmul, matmul_rows, matmul_with, matvec, matvec_f32_reference, ActFormat, Kernel, OutPtr, QMatrix,
    QuantizedActs,
};
pub use transcode::{compute_format, transcode, Transcoded, QK_K};
pub use reference::{dot_f32, f16_bits_to_f32, f32_to_f16_bits, round_to_f16};

#[cfg(test)]
mod tests;
