//! Fine-tuning: AdamW over a low-rank adapter or all weights, cross-entropy on the answer token,
//! in a hand-written loop that runs natively and in the page (burn-train does not target wasm).

pub mod adamw;
pub mod fine_tune;
pub mod spec;

pub use adamw::{AdamW, AdamWSettings, LearningRateSchedule};
pub use fine_tune::{
    Continuation, SavedTraining, StepReport, TrainExample, TrainRun, TrainSettings, TrainingNoise,
    pretrain, train_adapter, train_adapter_with_snapshots, train_all_weights,
    train_all_weights_resumable, train_all_weights_with_snapshots,
};
pub use spec::{FineTuneMethod, FineTuneOutcome, FineTuneSpec, TextExample};
