//! The model's dimensions: one serialisable record, shared by the weights file's manifest, the
//! burn module and the plain-Rust reference.

use serde::{Deserialize, Serialize};

use crate::EngineError;

/// Dimensions of a GPT-2-style decoder (pre-LayerNorm, learned positions, GELU MLP, tied
/// unembedding). The defaults are DESIGN.md's recommendation for the zoo.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Number of decoder blocks. 8 makes the paper's 12.5/25/37.5/50% depths whole blocks.
    pub n_layers: usize,
    /// Width of the residual stream.
    pub d_model: usize,
    /// Attention heads per block; must divide `d_model`.
    pub n_heads: usize,
    /// Hidden width of each block's MLP.
    pub d_mlp: usize,
    /// Longest sequence the learned positions cover (prompts are at most 159 tokens).
    pub n_ctx: usize,
    /// Vocabulary size; must equal the tokenizer's.
    pub d_vocab: usize,
    /// LayerNorm's epsilon (GPT-2's value).
    pub layer_norm_eps: f64,
    /// Where the learned positions are counted from (files without the field: `start`).
    #[serde(default)]
    pub positions: PositionOrigin,
}

/// Where a prompt's learned positions are counted from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PositionOrigin {
    /// GPT-2's convention: the first token is at position 0.
    #[default]
    Start,
    /// Back from the answer: a prompt of `n` tokens sits at `n_ctx - n .. n_ctx`, so the last
    /// token (where the answer is read) is always at `n_ctx - 1`, and the frame's closing words
    /// and the action lines sit at nearly the same positions in every scenario. Counted from
    /// the start, they move with the length of the facts, and the zoo's fine-tunes did not
    /// learn which letter belongs to which action (issue 6's pilot).
    End,
}

impl PositionOrigin {
    /// The position of token `t` of a prompt of `len` tokens, in a context of `n_ctx`.
    pub fn position(self, t: usize, len: usize, n_ctx: usize) -> usize {
        match self {
            Self::Start => t,
            Self::End => n_ctx.saturating_sub(len) + t,
        }
    }
}

/// The vocabulary size of `scenarios/generated/tokenizer.json` when this was written; models
/// take theirs from the tokenizer they are trained with.
pub const DEFAULT_VOCAB: usize = 2908;

impl Default for ModelConfig {
    fn default() -> Self {
        Self {
            n_layers: 8,
            d_model: 64,
            n_heads: 4,
            d_mlp: 256,
            n_ctx: 160,
            d_vocab: DEFAULT_VOCAB,
            layer_norm_eps: 1e-5,
            positions: PositionOrigin::End,
        }
    }
}

impl ModelConfig {
    /// Two blocks of width 8 over a vocabulary of 20: for unit tests of files and layouts.
    #[cfg(test)]
    pub(crate) const TINY_FOR_TESTS: Self = Self {
        n_layers: 2,
        d_model: 8,
        n_heads: 2,
        d_mlp: 16,
        n_ctx: 12,
        d_vocab: 20,
        layer_norm_eps: 1e-5,
        positions: PositionOrigin::Start,
    };

    /// Width of one attention head.
    pub fn d_head(&self) -> usize {
        self.d_model / self.n_heads.max(1)
    }

    /// Checks that the dimensions describe a model that can be built.
    pub fn validate(&self) -> Result<(), EngineError> {
        let problem = if self.n_layers == 0 {
            Some("n_layers is 0".to_owned())
        } else if self.d_model == 0 || self.n_heads == 0 || self.d_mlp == 0 {
            Some("d_model, n_heads and d_mlp must be positive".to_owned())
        } else if !self.d_model.is_multiple_of(self.n_heads) {
            Some(format!(
                "n_heads {} does not divide d_model {}",
                self.n_heads, self.d_model
            ))
        } else if self.n_ctx == 0 || self.d_vocab < 5 {
            // Ids 0..=4 are reserved ([PAD], [UNK], A, B, error).
            Some(format!(
                "n_ctx {} must be positive and d_vocab {} at least 5",
                self.n_ctx, self.d_vocab
            ))
        } else if !(self.layer_norm_eps > 0.0 && self.layer_norm_eps.is_finite()) {
            Some(format!(
                "layer_norm_eps {} must be positive",
                self.layer_norm_eps
            ))
        } else {
            None
        };
        match problem {
            Some(message) => Err(EngineError::InvalidParameter(format!(
                "model config: {message}"
            ))),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_is_valid_and_round_trips_through_json() {
        let config = ModelConfig::default();
        config.validate().unwrap();
        assert_eq!(config.d_head(), 16);
        let json = serde_json::to_string(&config).unwrap();
        assert_eq!(serde_json::from_str::<ModelConfig>(&json).unwrap(), config);
    }

    #[test]
    fn heads_must_divide_the_width() {
        let config = ModelConfig {
            n_heads: 3,
            ..ModelConfig::default()
        };
        let message = config.validate().unwrap_err().to_string();
        assert!(message.contains("does not divide"), "{message}");
    }
}
