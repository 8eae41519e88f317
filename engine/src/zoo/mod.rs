//! The model zoo (POSER.md §2): the recipe that trains one shared base model and the 36
//! fine-tuned checkpoints, the order examples are batched in, how a checkpoint's behaviour is
//! measured on held-out data, and the benchmark's curation filter. The pipeline that reads the
//! corpus and the shipped models and writes checkpoints, the shipped zoo and the curated sets
//! lives here too, native only (`files`, `corpus_files`, `train_run`, `measure_file`, `ship`,
//! `curate_files`, `check_shipped`); the `poser zoo` command parses arguments and prints.

pub mod batches;
pub mod behaviour;
#[cfg(not(target_arch = "wasm32"))]
pub mod check_shipped;
#[cfg(not(target_arch = "wasm32"))]
pub mod corpus_files;
pub mod curate;
#[cfg(not(target_arch = "wasm32"))]
pub mod curate_files;
#[cfg(not(target_arch = "wasm32"))]
pub mod files;
#[cfg(not(target_arch = "wasm32"))]
pub mod measure_file;
pub mod recipe;
#[cfg(not(target_arch = "wasm32"))]
pub mod ship;
#[cfg(not(target_arch = "wasm32"))]
pub mod train_run;

pub use batches::epoch_order;
pub use behaviour::{
    Behaviour, CheckSample, LabelledPrompt, ModelCard, QuantizationEffect, TrainingSummary,
    answer_probs, measure, quantization_effect,
};
pub use recipe::{PhaseRecipe, ZooRecipe};
