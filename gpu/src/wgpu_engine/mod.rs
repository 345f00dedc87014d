//! The WebGPU inference path: a llama-family decoder run with hand-written WGSL through wgpu,
//! natively (Vulkan/Metal/DX12; lavapipe in CI) and in the browser (WebGPU).
//!
//! Per token: one embedding lookup, five dispatches per layer (RMSNorm+QKV+RoPE+KV append,
//! split attention, merge+Wo+residual, RMSNorm+gate/up+SiLU·mul, down+residual), the output
//! head and a GPU top-k, all recorded in one command encoder and sent in one submit.

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
pub mod selfcheck;

pub use engine::{DispatchCounts, EngineOptions, WgpuEngine};
pub use model::{LlamaConfig, TensorView, WeightSource};

#[cfg(all(test, not(target_arch = "wasm32")))]
mod kernel_tests;
#[cfg(all(test, not(target_arch = "wasm32")))]
mod model_tests;
#[cfg(all(test, not(target_arch = "wasm32")))]
mod test_util;
