//! The CPU inference path in plain Rust: a llama-family forward pass (Llama, SmolLM2, Qwen2 with
//! q/k/v biases) over GGUF weights kept in their quantized blocks, with an f16 KV cache.
//!
//! It runs natively (x86_64 AVX2 kernels, optional threads) and in the browser (wasm SIMD128) for
//! machines without WebGPU, and it is the readable reference the WGSL kernels are held to. Its
//! numerics follow llama.cpp's CPU backend (Q8 activations for quantized mat-muls, f16 KV cache,
//! f64 sums in RMSNorm and softmax), checked against llama.cpp logits by
//! `gpu/tests/cpu_logits_reference.rs`.
//!
//! ```no_run
//! use std::sync::Arc;
//! use council_gpu::cpu::{CpuModel, Session, SessionOptions};
//! let model = Arc::new(CpuModel::open("model.gguf")?);
//! let mut session = Session::new(model, SessionOptions::default());
//! let logits = session.prefill(&[1, 9690, 198])?;
//! # Ok::<(), council_gpu::cpu::CpuError>(())
//! ```

#[cfg(target_arch = "x86_64")]
mod avx2;
mod forward;
mod kv_cache;
mod model;
pub mod ops;
mod pool;
mod prefix;
mod server;
mod session;
mod speculative;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd128;

pub use forward::{Runner, Sequence, Step, Want, MAX_ROWS};
pub use kv_cache::{f16_to_f32_finite, KvCache, KvPage, PAGE};
pub use model::{CpuError, CpuModel};
pub use pool::ThreadPool;
pub use prefix::{PrefixCache, PrefixStats};
pub use server::{Finish, GenRequest, Server, ServerEvent, ServerOptions};
pub use session::{Session, SessionOptions};
pub use speculative::{fuse, speculate, Authored, Joint, JointOptions, JointToken, Route, MAX_DRAFT};

#[cfg(test)]
mod tests;
