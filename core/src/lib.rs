//! Council's coordination core: pure Rust, no IO, no clocks, no global RNG.
//!
//! Everything here compiles to native and to wasm32 and must give bit-identical
//! results on both; `determinism` holds the probe that the cross-target test checks.

pub mod determinism;
pub mod event;
