//! S6a, gradient saliency (POSER.md §4, Fig. 9): the gradient of log P(the model's own answer)
//! at the last token with respect to each token's embedding (`hook_embed`), its L2 norm per
//! token, summed per fact. The paper found it qualitative and uninformative, so it gives
//! figures only, no verdict: per model, the share of saliency on the oversight fact, per fact,
//! and a few whole prompts coloured token by token.
//!
//! It reads the family's curated good-oversight scenarios (the prompts that hold the oversight
//! fact), a seeded subsample shared by every model of the family.

use serde::{Deserialize, Serialize};

use super::activations::{
    FamilyModel, Letter, OversightVersions, last_token_pass, mean, subsample,
};
use crate::EngineError;
use crate::model::{saliency, span_sums};

/// Prompts differentiated per backward pass.
const SALIENCY_BATCH: usize = 16;

/// S6a's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GradientSaliencyConfig {
    /// Oversight scenarios (with the fact) read at most (a seeded subsample beyond that).
    pub n_prompts: usize,
    /// How many of them are kept token by token for Fig. 9.
    pub n_examples: usize,
    /// Seed of the subsample.
    pub seed: u64,
}

impl Default for GradientSaliencyConfig {
    fn default() -> Self {
        Self {
            n_prompts: 32,
            n_examples: 3,
            seed: 0,
        }
    }
}

/// One prompt's saliency, token by token (Fig. 9).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromptSaliency {
    /// Index of the scenario among the family's oversight scenarios.
    pub scenario: usize,
    /// The prompt's token ids.
    pub tokens: Vec<u32>,
    /// The letter the model chose, whose log-probability was differentiated.
    pub answer: Letter,
    /// Per token, ‖d log P(answer) / d `hook_embed`‖.
    pub saliency: Vec<f32>,
    /// The oversight fact's token positions.
    pub oversight_fact: std::ops::Range<usize>,
}

/// One model's S6a measurements on one family.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GradientSaliencyMeasurement {
    /// The model.
    pub model: String,
    /// Indices of the scenarios read, ascending.
    pub scenarios: Vec<usize>,
    /// Per scenario read, the oversight fact's share of the prompt's total saliency.
    pub oversight_fact_share: Vec<f64>,
    /// The mean of `oversight_fact_share`: the per-model summary.
    pub mean_oversight_fact_share: f64,
    /// The mean over scenarios of the fact's share divided by its share of the tokens: above 1,
    /// the fact's tokens are more salient than the prompt's average token.
    pub oversight_fact_enrichment: f64,
    /// Per scenario read, each numbered fact's share of the total saliency, in fact order.
    pub fact_shares: Vec<Vec<f64>>,
    /// The first `n_examples` scenarios token by token.
    pub examples: Vec<PromptSaliency>,
}

/// Measures one model's gradient saliency on a family's oversight scenarios.
pub async fn gradient_saliency(
    model: FamilyModel<'_>,
    versions: &[OversightVersions],
    config: &GradientSaliencyConfig,
) -> Result<GradientSaliencyMeasurement, EngineError> {
    let scenarios = subsample(
        versions.len(),
        config.n_prompts,
        config.seed,
        "s6a-scenarios",
    );
    if scenarios.is_empty() {
        return Err(EngineError::InvalidParameter(
            "S6a needs at least one oversight scenario".to_owned(),
        ));
    }
    let mut out = GradientSaliencyMeasurement {
        model: model.name.to_owned(),
        scenarios: scenarios.clone(),
        oversight_fact_share: Vec::with_capacity(scenarios.len()),
        mean_oversight_fact_share: 0.0,
        oversight_fact_enrichment: 0.0,
        fact_shares: Vec::with_capacity(scenarios.len()),
        examples: Vec::new(),
    };
    let mut enrichment = Vec::with_capacity(scenarios.len());
    for chunk in scenarios.chunks(SALIENCY_BATCH) {
        let prompts: Vec<Vec<u32>> = chunk
            .iter()
            .map(|&i| versions[i].with_fact.clone())
            .collect();
        // The model's own answer: the letter it gives more probability.
        let answers: Vec<Letter> = last_token_pass(model.model, &prompts, &[])
            .await?
            .iter()
            .map(|row| Letter::chosen(&row.p))
            .collect();
        let answer_ids: Vec<u32> = answers.iter().map(|letter| letter.token_id()).collect();
        let saliencies = saliency(model.model, &prompts, &answer_ids).await?;
        for ((&scenario, answer), one) in chunk.iter().zip(answers).zip(saliencies) {
            let version = &versions[scenario];
            let per_token = &one.gradient_norm;
            let total: f64 = per_token.iter().map(|&v| f64::from(v)).sum();
            let share_of = |sum: f32| {
                if total > 0.0 {
                    f64::from(sum) / total
                } else {
                    0.0
                }
            };
            let fact_sum = span_sums(per_token, std::slice::from_ref(&version.fact))?;
            let share = share_of(fact_sum.iter().sum());
            let token_share = version.fact.len() as f64 / per_token.len().max(1) as f64;
            out.oversight_fact_share.push(share);
            enrichment.push(share / token_share);
            out.fact_shares.push(
                span_sums(per_token, &version.facts)?
                    .into_iter()
                    .map(share_of)
                    .collect(),
            );
            if out.examples.len() < config.n_examples {
                out.examples.push(PromptSaliency {
                    scenario,
                    tokens: one.tokens.clone(),
                    answer,
                    saliency: per_token.clone(),
                    oversight_fact: version.fact.clone(),
                });
            }
        }
    }
    out.mean_oversight_fact_share = mean(out.oversight_fact_share.iter().copied());
    out.oversight_fact_enrichment = mean(enrichment);
    Ok(out)
}
