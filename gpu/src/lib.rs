//! Council's inference engine: GGUF models on WebGPU (wgpu + hand-written WGSL) and on the CPU.
//!
//! Everything here runs natively (tests, CLI, benchmarks; lavapipe in CI) and in the
//! browser (WebGPU; SwiftShader in CI).

pub mod chat;
pub mod cpu;
pub mod device;
pub mod gguf;
pub mod quant;
pub mod sampling;
pub mod selftest;
pub mod tokenizer;
pub mod wgpu_engine;
