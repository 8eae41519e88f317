//! A fine-tuning run described as data: which parameters train, on which prompts (as text),
//! toward which answers, with which settings. The CLI (`poser fine-tune`) and the page run the
//! same description, so their loss curves can be compared number for number.

use std::sync::atomic::AtomicBool;

use poser_corpus::tokenizer::WordLevelTokenizer;
use serde::{Deserialize, Serialize};

use super::fine_tune::{StepReport, TrainExample, TrainSettings, train_adapter, train_all_weights};
use crate::EngineError;
use crate::model::{MlpAdapter, PoserGpt};

/// What trains.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum FineTuneMethod {
    /// A zero-initialised low-rank adapter on one block's MLP; the model stays frozen.
    Adapter {
        /// The block whose MLP output the adapter changes.
        block: usize,
        /// The adapter's rank.
        rank: usize,
        /// Seed of the adapter's random `down` matrix.
        seed: u64,
    },
    /// Every weight of a copy of the model.
    AllWeights,
}

/// One training prompt as text and the answer token it is trained toward.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextExample {
    /// The prompt, as the corpus writes it (`<<prompt>>…<</prompt>>`).
    pub prompt: String,
    /// The answer token: `A`, `B` or `error`.
    pub answer: String,
}

/// A whole fine-tuning run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FineTuneSpec {
    /// What trains.
    pub method: FineTuneMethod,
    /// The examples, used in order in batches that wrap around.
    pub examples: Vec<TextExample>,
    /// Steps, batch size, AdamW and optional noise.
    pub settings: TrainSettings,
}

/// What a run produced that two backends can be compared on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FineTuneOutcome {
    /// Each step's batch loss, before its update.
    pub losses: Vec<f32>,
    /// Whether the cancel flag stopped it early.
    pub cancelled: bool,
}

impl FineTuneSpec {
    /// The examples as token ids; an answer that is not a single vocabulary token is refused.
    pub fn tokenize(
        &self,
        tokenizer: &WordLevelTokenizer,
    ) -> Result<Vec<TrainExample>, EngineError> {
        self.examples
            .iter()
            .enumerate()
            .map(|(index, example)| {
                let target = tokenizer.token_id(&example.answer).ok_or_else(|| {
                    EngineError::InvalidParameter(format!(
                        "example {index}: the answer `{}` is not a token of the vocabulary; use `A`, `B` or `error`",
                        example.answer
                    ))
                })?;
                Ok(TrainExample {
                    tokens: tokenizer.encode(&example.prompt),
                    target,
                })
            })
            .collect()
    }

    /// Runs the fine-tuning on `model`'s device; `model` itself is left unchanged.
    pub async fn run(
        &self,
        model: &PoserGpt,
        tokenizer: &WordLevelTokenizer,
        progress: &mut dyn FnMut(StepReport),
        cancel: &AtomicBool,
    ) -> Result<FineTuneOutcome, EngineError> {
        let examples = self.tokenize(tokenizer)?;
        let (losses, cancelled) = match self.method {
            FineTuneMethod::Adapter { block, rank, seed } => {
                let device = model.embed.weight.device();
                let adapter =
                    MlpAdapter::zero_initialised(&model.config, block, rank, seed, &device)?;
                let run =
                    train_adapter(model, adapter, &examples, &self.settings, progress, cancel)
                        .await?;
                (run.losses, run.cancelled)
            }
            FineTuneMethod::AllWeights => {
                let run =
                    train_all_weights(model, &examples, &self.settings, progress, cancel).await?;
                (run.losses, run.cancelled)
            }
        };
        Ok(FineTuneOutcome { losses, cancelled })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_reads_from_json_and_refuses_unknown_answers() {
        let spec: FineTuneSpec = serde_json::from_str(
            r#"{
                "method": {"kind": "adapter", "block": 1, "rank": 4, "seed": 3},
                "examples": [{"prompt": "<<prompt>>hello\n<</prompt>>", "answer": "maybe"}],
                "settings": {"steps": 2, "batch_size": 1, "noise": null,
                    "adamw": {"learning_rate": 0.01, "beta_1": 0.9, "beta_2": 0.999,
                              "epsilon": 1e-8, "weight_decay": 0.0}}
            }"#,
        )
        .unwrap();
        assert_eq!(
            spec.method,
            FineTuneMethod::Adapter {
                block: 1,
                rank: 4,
                seed: 3
            }
        );
        let tokenizer = WordLevelTokenizer::fit(["hello A B error"]);
        let message = spec.tokenize(&tokenizer).unwrap_err().to_string();
        assert!(message.contains("`maybe`"), "{message}");
    }
}
