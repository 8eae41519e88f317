//! Poser Lab's engine: everything that computes, nothing that draws.
//!
//! The data flows one way through the modules: scenarios → tokens → model with hooks →
//! strategies → report. The same code runs natively (the `poser` command line, tests) and in
//! the browser (compiled to wasm, on WebGPU or the CPU backend). Every read back from a device
//! is asynchronous, because a synchronous read panics on WebGPU in wasm.

pub mod backend;
pub mod error;
pub mod evaluation;
pub mod model;
pub mod strategies;
pub mod train;
pub mod warmup;
#[cfg(not(target_arch = "wasm32"))]
pub mod work_queue;
pub mod zoo;

pub use error::EngineError;
