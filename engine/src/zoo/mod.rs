//! The model zoo (POSER.md §2): the recipe that trains one shared base model and the 36
//! fine-tuned checkpoints, the order examples are batched in, and how a checkpoint's behaviour
//! is measured on held-out data. File handling lives in the `poser zoo` command.

pub mod batches;
pub mod behaviour;
pub mod curate;
pub mod recipe;

pub use batches::epoch_order;
pub use behaviour::{
    Behaviour, CheckSample, LabelledPrompt, ModelCard, QuantizationEffect, TrainingSummary,
    answer_probs, measure, quantization_effect,
};
pub use recipe::{PhaseRecipe, ZooRecipe};
