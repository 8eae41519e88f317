//! Gradient saliency (S6a): the gradient of log P(answer) at the last position with respect to
//! the token embeddings (`hook_embed`), per token, and its sum over spans such as facts.

use std::ops::Range;

use burn::tensor::activation::log_softmax;
use burn::tensor::{Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use super::differentiable::{Additions, last_logits_from_embed};
use super::forward::padded_ids;
use super::forward::{check_prompts, read_f32};
use super::gpt::PoserGpt;
use crate::EngineError;

/// The saliency of one prompt's tokens for one answer token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Saliency {
    /// The prompt's token ids.
    pub tokens: Vec<u32>,
    /// The answer token whose log-probability was differentiated.
    pub answer: u32,
    /// log P(answer) at the last position.
    pub log_prob: f32,
    /// d log P(answer) / d `hook_embed`, `[tokens, d_model]` row-major.
    pub gradients: Vec<f32>,
    /// Per token, the L2 norm of its gradient row.
    pub gradient_norm: Vec<f32>,
    /// Per token, gradient · embedding ("gradient × input", a first-order attribution).
    pub gradient_times_input: Vec<f32>,
}

/// Saliency of each prompt for its answer (`answers[i]` for `prompts[i]`), in one backward pass:
/// prompts never see each other, so the gradient of the summed log-probabilities is each
/// prompt's own gradient.
pub async fn saliency(
    model: &PoserGpt,
    prompts: &[Vec<u32>],
    answers: &[u32],
) -> Result<Vec<Saliency>, EngineError> {
    check_prompts(model, prompts)?;
    let d_vocab = model.config.d_vocab;
    if answers.len() != prompts.len() {
        return Err(EngineError::InvalidParameter(format!(
            "{} answers for {} prompts",
            answers.len(),
            prompts.len()
        )));
    }
    if let Some(&answer) = answers.iter().find(|&&a| a as usize >= d_vocab) {
        return Err(EngineError::InvalidParameter(format!(
            "answer id {answer} is outside the vocabulary of {d_vocab}"
        )));
    }
    let device = model.embed.weight.device();
    let lens: Vec<usize> = prompts.iter().map(Vec::len).collect();
    // A fresh leaf: the model's own parameters stay constants (no gradients kept for them).
    let embedded = model
        .embed
        .forward(padded_ids(prompts, &device))
        .detach()
        .autodiff()
        .require_grad();
    let logits = last_logits_from_embed(model, embedded.clone(), &lens, &Additions::default());
    let batch = prompts.len();
    let answer_index = Tensor::<2, Int>::from_data(
        TensorData::new(answers.iter().map(|&a| i64::from(a)).collect(), [batch, 1]),
        &device,
    );
    let log_probs = log_softmax(logits, 1).gather(1, answer_index);
    let gradients = log_probs.clone().sum().backward();
    let grad = embedded.grad(&gradients).ok_or_else(|| {
        EngineError::UnexpectedTensor("no gradient reached `hook_embed`".to_owned())
    })?;
    let [_, max_len, d_model] = grad.dims();
    let grad = read_f32(grad, "gradient at `hook_embed`").await?;
    let embedded = read_f32(embedded.inner(), "`hook_embed`").await?;
    let log_probs = read_f32(log_probs.inner(), "log P(answer)").await?;

    Ok(prompts
        .iter()
        .zip(answers)
        .enumerate()
        .map(|(b, (prompt, &answer))| {
            let rows = b * max_len * d_model..(b * max_len + prompt.len()) * d_model;
            let gradients = grad[rows.clone()].to_vec();
            let gradient_norm = gradients
                .chunks(d_model)
                .map(|row| row.iter().map(|g| g * g).sum::<f32>().sqrt())
                .collect();
            let gradient_times_input = gradients
                .chunks(d_model)
                .zip(embedded[rows].chunks(d_model))
                .map(|(g, x)| g.iter().zip(x).map(|(g, x)| g * x).sum())
                .collect();
            Saliency {
                tokens: prompt.clone(),
                answer,
                log_prob: log_probs[b],
                gradients,
                gradient_norm,
                gradient_times_input,
            }
        })
        .collect())
}

/// Sums a per-token score over each span (e.g. each fact's tokens), in the order given.
pub fn span_sums(per_token: &[f32], spans: &[Range<usize>]) -> Result<Vec<f32>, EngineError> {
    spans
        .iter()
        .map(|span| {
            per_token
                .get(span.clone())
                .map(|scores| scores.iter().sum())
                .ok_or_else(|| {
                    EngineError::InvalidParameter(format!(
                        "span {}..{} is outside the {} tokens",
                        span.start,
                        span.end,
                        per_token.len()
                    ))
                })
        })
        .collect()
}
