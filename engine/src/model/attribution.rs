//! What the playground shows for one model on one prompt: P(`A`), P(`B`), P(`error`), which
//! letter it chooses, each token's gradient saliency for that choice, and each fact's share of
//! the saliency and of the last token's attention. Shared with the strategies' building blocks
//! (the forward pass with attention captures, `saliency`).

use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::forward::{ANSWER_IDS, AnswerProbs, ForwardRequest, forward};
use super::gpt::PoserGpt;
use super::saliency::{saliency, span_sums};
use crate::EngineError;

/// One model's attribution of one prompt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromptAttribution {
    /// The prompt's token ids.
    pub tokens: Vec<u32>,
    /// The answer probabilities at the last position.
    pub p: AnswerProbs,
    /// The letter the model chooses (`A` or `B`, whichever is more probable; `A` on a tie):
    /// the saliency explains this choice.
    pub chosen: String,
    /// Per token, the L2 norm of d log P(chosen) / d (token embedding), `hook_embed`.
    pub saliency: Vec<f32>,
    /// Per fact, its tokens' share of the summed saliency over the whole prompt (0..1).
    pub fact_saliency_share: Vec<f32>,
    /// Per fact, the attention the last token pays to the fact's tokens, averaged over every
    /// block and head (a share of that token's attention, 0..1).
    pub fact_attention_share: Vec<f32>,
}

/// Attributes `tokens` (one prompt) for `model`; `fact_spans` are the facts' token positions.
pub async fn attribute_prompt(
    model: &PoserGpt,
    tokens: &[u32],
    fact_spans: &[Range<usize>],
) -> Result<PromptAttribution, EngineError> {
    if let Some(span) = fact_spans.iter().find(|span| span.end > tokens.len()) {
        return Err(EngineError::InvalidParameter(format!(
            "fact span {span:?} reaches past the prompt's {} tokens",
            tokens.len()
        )));
    }
    let n_layers = model.config.n_layers;
    let request = ForwardRequest::last_token_attention(n_layers);
    let prompts = vec![tokens.to_vec()];
    let output = forward(model, &prompts, &request)
        .await?
        .pop()
        .ok_or_else(|| EngineError::UnexpectedTensor("the forward pass returned nothing".into()))?;
    let p = output.p;
    let (chosen, answer) = if p.a >= p.b {
        ("A", ANSWER_IDS[0])
    } else {
        ("B", ANSWER_IDS[1])
    };
    let answer = u32::try_from(answer).unwrap_or(u32::MAX);
    let token_saliency = saliency(model, &prompts, &[answer])
        .await?
        .pop()
        .ok_or_else(|| EngineError::UnexpectedTensor("saliency returned nothing".into()))?
        .gradient_norm;
    let total: f32 = token_saliency.iter().sum();
    let fact_saliency_share = span_sums(&token_saliency, fact_spans)?
        .into_iter()
        .map(|sum| if total > 0.0 { sum / total } else { 0.0 })
        .collect();

    // Mean over every block and head of the last query's attention on each fact.
    let rows = (n_layers * model.config.n_heads).max(1) as f64;
    let fact_attention_share = fact_spans
        .iter()
        .map(|span| {
            let mass: f64 = output
                .captures
                .iter()
                .flat_map(|capture| capture.attention_mass_on(span))
                .sum();
            (mass / rows) as f32
        })
        .collect();
    Ok(PromptAttribution {
        tokens: tokens.to_vec(),
        p,
        chosen: chosen.to_owned(),
        saliency: token_saliency,
        fact_saliency_share,
        fact_attention_share,
    })
}
