//! The WebGPU inference path: a llama-family decoder (llama/SmolLM2, qwen2) run with
//! hand-written WGSL through wgpu, natively (Vulkan/Metal/DX12; lavapipe in CI) and in the
//! browser (WebGPU; SwiftShader in CI). Needs no optional feature: no `shader-f16` (f16 is
//! packed/unpacked by hand), no subgroups (reductions go through workgroup memory).
//!
//! - Decode, one token: an embedding lookup, five dispatches per layer (RMSNorm+QKV+RoPE+KV
//!   append, split attention, merge+Wo+residual, RMSNorm+gate/up+SiLU·mul, down+residual),
//!   the output head and a GPU top-k — one command encoder, one submit.
//! - Prefill and teacher-forced scoring: blocks of up to 64 tokens, eight dispatches per
//!   layer per block, each weight decoded once per 8 tokens.
//! - Weights stay quantized (Q4_0, Q4_1, Q8_0, F16, F32), repacked at load into word-aligned
//!   blocks (`pack.rs` says why) and split under the binding limit; the KV cache is f16.
//!
//! ```no_run
//! # async fn demo() -> Result<(), String> {
//! use council_gpu::{device::Gpu, gguf::GgufFile, wgpu_engine::{EngineOptions, WgpuEngine}};
//! let gpu = Gpu::new().await?;
//! let file = GgufFile::from_bytes(std::fs::read("model.gguf").map_err(|e| e.to_string())?)
//!     .map_err(|e| e.to_string())?;
//! let mut engine = WgpuEngine::load_gguf(&gpu, &file, &EngineOptions::default()).await?;
//! let logits = engine.prefill(&[1, 9690, 198]).await?;          // next-token logits
//! let reply = engine.generate_greedy(&[504], 16, &[2]).await?;  // argmax loop on the GPU
//! # Ok(()) }
//! ```

#[cfg(not(target_arch = "wasm32"))]
pub mod bench;
mod engine;
mod gguf_source;
mod kernels;
mod model;
mod pack;
mod pipelines;
mod readback;
mod reference;
#[cfg(not(target_arch = "wasm32"))]
pub mod runner;
pub mod selfcheck;

pub use engine::{DispatchCounts, EngineOptions, GpuMemory, WgpuEngine};
pub use model::{LlamaConfig, TensorView, WeightSource};

#[cfg(all(test, not(target_arch = "wasm32")))]
mod kernel_tests;
#[cfg(all(test, not(target_arch = "wasm32")))]
mod model_tests;
#[cfg(all(test, not(target_arch = "wasm32")))]
mod test_util;
