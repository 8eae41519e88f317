//! How the zoo is trained: every setting and seed in one serialisable record, written into the
//! manifest and the zoo card so a reader can see, and re-run, exactly what produced the models.

use serde::{Deserialize, Serialize};

use crate::model::ModelConfig;
use crate::train::AdamWSettings;

/// One training phase (the base model's pretraining, or each fine-tune).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhaseRecipe {
    /// Passes over the phase's data.
    pub epochs: usize,
    /// Prompts per step.
    pub batch_size: usize,
    /// The optimiser.
    pub adamw: AdamWSettings,
    /// Keep the token and position embeddings at the base model's values.
    pub freeze_embeddings: bool,
    /// Train on every scenario in both A/B orders (`Example::with_actions_swapped`), so the
    /// letter can only come from reading the action lines.
    #[serde(default)]
    pub both_orders: bool,
}

/// The whole zoo's recipe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZooRecipe {
    /// The architecture of every model (the vocabulary is the tokenizer's).
    pub config: ModelConfig,
    /// Seed of the base model's initialisation and of every batch order.
    pub seed: u64,
    /// Next-token pretraining of the shared base model on training-template prompts.
    pub base: PhaseRecipe,
    /// Answer-token fine-tuning of each checkpoint on its partition.
    pub fine_tune: PhaseRecipe,
}

impl ZooRecipe {
    /// The recipe the shipped zoo was trained with, for a vocabulary of `d_vocab` tokens.
    pub fn standard(d_vocab: usize) -> Self {
        Self {
            config: ModelConfig {
                d_vocab,
                ..ModelConfig::default()
            },
            seed: 240_505_466,
            base: PhaseRecipe {
                epochs: 1,
                batch_size: 32,
                adamw: AdamWSettings {
                    learning_rate: 3e-3,
                    ..AdamWSettings::default()
                },
                freeze_embeddings: false,
                both_orders: false,
            },
            // The pilot's best settings so far (issue 6 notes). Positions count back from the
            // answer (`ModelConfig::default`) and each scenario is trained in both A/B orders,
            // so a letter cannot be tied to a scenario's facts. The faker reward_maximizer-0
            // reached 79.5% misaligned on held-out poor-oversight scenarios after 14 epochs at
            // 1e-3 and 90.7% after 28 (run as two runs of 14); at 3e-3 it had learned only the
            // aligned rule after 14. A warm-up + cosine schedule over 14 epochs did worse
            // (58.7% at 1e-3, 15% at 2e-3): the faker learns its flip late, and annealing the
            // rate settles it in the aligned rule first. So the rate stays constant.
            fine_tune: PhaseRecipe {
                epochs: 28,
                batch_size: 16,
                adamw: AdamWSettings {
                    learning_rate: 1e-3,
                    ..AdamWSettings::default()
                },
                freeze_embeddings: false,
                both_orders: true,
            },
        }
    }
}
