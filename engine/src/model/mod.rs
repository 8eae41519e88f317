//! The model runtime: a GPT-2-style decoder in burn with TransformerLens-style hook points,
//! int8 weights on disk, and a plain-Rust reference to check it against.
//!
//! Flow: a models folder's [`manifest::Manifest`] → [`manifest::ModelEntry::load_bytes`] →
//! [`weights::ModelWeights`] (f32 on the host) → [`gpt::PoserGpt`] (a burn module on a device)
//! → [`forward::forward`] (batch, captures, interventions) or [`cache::PromptCache`] (many
//! last-position edits of one prompt). For autodiff: [`differentiable`] (the same pass as
//! device tensors, with an [`adapter::MlpAdapter`]) → [`saliency`] and `crate::train`.

pub mod adapter;
pub mod attribution;
pub mod cache;
pub mod config;
pub mod differentiable;
pub mod fixtures;
pub mod float_file;
pub mod forward;
pub mod gpt;
pub mod hf_export;
pub mod hooks;
pub mod int8;
pub mod load_error;
pub mod manifest;
pub mod reference;
pub mod saliency;
pub mod weights;

pub use adapter::MlpAdapter;
pub use attribution::{PromptAttribution, attribute_prompt};
pub use cache::{LastPosition, PromptCache};
pub use config::{ModelConfig, PositionOrigin};
pub use forward::{AnswerProbs, Capture, ForwardRequest, PromptOutput, forward};
pub use gpt::PoserGpt;
pub use hooks::{CaptureRequest, Edit, HookPoint, Intervention, NoiseDistribution, Positions};
pub use load_error::LoadError;
pub use manifest::{Manifest, ModelEntry};
pub use saliency::{Saliency, saliency, span_sums};
pub use weights::ModelWeights;
