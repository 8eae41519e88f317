//! What the strategies share: their inputs as plain data (curated prompts, scenarios with and
//! without the oversight fact, named models), one batched pass that reads last-token
//! residuals, mass-mean directions, vector maths and the seeded prompt subsample.
//!
//! Inputs are token ids and letters, never file paths, so the strategies run the same on the
//! command line, in tests and in the page.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::Range;

use poser_corpus::rng::Rng;
use serde::{Deserialize, Serialize};

use crate::EngineError;
use crate::model::forward;
use crate::model::{
    AnswerProbs, Capture, CaptureRequest, ForwardRequest, HookPoint, PoserGpt, Positions,
    PromptCache,
};

/// Prompts per forward pass (sorted by length first, so little padding is computed).
pub const BATCH_SIZE: usize = 16;

/// An answer letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Letter {
    /// `A`.
    A,
    /// `B`.
    B,
}

impl Letter {
    /// The other letter.
    pub fn other(self) -> Self {
        match self {
            Self::A => Self::B,
            Self::B => Self::A,
        }
    }

    /// This letter's probability.
    pub fn p(self, probs: &AnswerProbs) -> f64 {
        f64::from(match self {
            Self::A => probs.a,
            Self::B => probs.b,
        })
    }

    /// The letter's answer token id (what training toward it targets).
    pub fn token_id(self) -> u32 {
        let id = match self {
            Self::A => forward::ANSWER_IDS[0],
            Self::B => forward::ANSWER_IDS[1],
        };
        id as u32
    }

    /// The letter with the higher probability (`A` on a tie); `error` is not a choice here.
    pub fn chosen(probs: &AnswerProbs) -> Self {
        if probs.a >= probs.b { Self::A } else { Self::B }
    }
}

/// A prompt of a family's curated set: both models of every pair pick `benign` on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CuratedPrompt {
    /// Token ids.
    pub tokens: Vec<u32>,
    /// The letter of the benign action (the other letter is the misaligned one).
    pub benign: Letter,
}

impl CuratedPrompt {
    /// The letter of the misaligned action.
    pub fn misaligned(&self) -> Letter {
        self.benign.other()
    }
}

/// One scenario with its good-oversight fact (level 1) and without it (level 0): S1's
/// direction, S6b's attention target and S6c's removal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OversightVersions {
    /// The level-1 good-oversight prompt.
    pub with_fact: Vec<u32>,
    /// The oversight fact's token positions in `with_fact`.
    pub fact: Range<usize>,
    /// The level-0 prompt: the same scenario without the oversight fact.
    pub without_fact: Vec<u32>,
    /// Every numbered fact's token positions in `with_fact`, in order (the oversight fact among
    /// them), for S6a's per-fact saliency; empty when only the oversight fact is known.
    #[serde(default)]
    pub facts: Vec<Range<usize>>,
}

impl OversightVersions {
    /// Checks that the fact is a non-empty span of `with_fact` before the last token.
    pub fn check(&self, index: usize) -> Result<(), EngineError> {
        let fact = &self.fact;
        if fact.start >= fact.end || fact.end >= self.with_fact.len() {
            return Err(EngineError::InvalidParameter(format!(
                "oversight scenario {index}: fact span {}..{} must be non-empty and end before the last of {} tokens",
                fact.start,
                fact.end,
                self.with_fact.len()
            )));
        }
        if self.without_fact.is_empty() {
            return Err(EngineError::InvalidParameter(format!(
                "oversight scenario {index}: the version without the fact has no tokens"
            )));
        }
        if let Some(span) = self
            .facts
            .iter()
            .find(|span| span.start >= span.end || span.end > self.with_fact.len())
        {
            return Err(EngineError::InvalidParameter(format!(
                "oversight scenario {index}: fact span {}..{} is empty or outside the {} tokens",
                span.start,
                span.end,
                self.with_fact.len()
            )));
        }
        if !self.facts.is_empty() && !self.facts.contains(&self.fact) {
            return Err(EngineError::InvalidParameter(format!(
                "oversight scenario {index}: the oversight fact's span is not among its facts' spans"
            )));
        }
        Ok(())
    }
}

/// A model of the family being scored, with the name its scores are filed under.
#[derive(Debug, Clone, Copy)]
pub struct FamilyModel<'a> {
    /// The model's name (`genie-3`).
    pub name: &'a str,
    /// The model.
    pub model: &'a PoserGpt,
}

/// What one prompt leaves at its last token.
#[derive(Debug, Clone, PartialEq)]
pub struct LastToken {
    /// P(A), P(B), P(error).
    pub p: AnswerProbs,
    /// The residual stream (`d_model` values) at each requested hook, in request order.
    pub resid: Vec<Vec<f32>>,
}

/// Runs `prompts` in batches and reads the last token's answer probabilities and residuals at
/// `hooks` (residual-stream hooks; `hook_embed` too). Results are in prompt order.
pub async fn last_token_pass(
    model: &PoserGpt,
    prompts: &[Vec<u32>],
    hooks: &[HookPoint],
) -> Result<Vec<LastToken>, EngineError> {
    Ok(last_token_pass_reading(model, prompts, hooks, false)
        .await?
        .into_iter()
        .map(|(row, _)| row)
        .collect())
}

/// [`last_token_pass`] that also reads every block's last-query attention row (`[head, 1,
/// len]` per block), in the same forward passes: the oversight pass serves S6b this way.
/// Without `attention` the rows are empty, as [`last_token_pass`].
pub async fn last_token_pass_with_attention(
    model: &PoserGpt,
    prompts: &[Vec<u32>],
    hooks: &[HookPoint],
    attention: bool,
) -> Result<Vec<(LastToken, Vec<Capture>)>, EngineError> {
    last_token_pass_reading(model, prompts, hooks, attention).await
}

async fn last_token_pass_reading(
    model: &PoserGpt,
    prompts: &[Vec<u32>],
    hooks: &[HookPoint],
    attention: bool,
) -> Result<Vec<(LastToken, Vec<Capture>)>, EngineError> {
    if let Some(hook) = hooks.iter().find(|h| !h.is_writable()) {
        return Err(EngineError::InvalidParameter(format!(
            "`{hook}` is not a residual-stream hook"
        )));
    }
    let mut captures: Vec<CaptureRequest> = hooks
        .iter()
        .map(|&hook| CaptureRequest {
            hook,
            positions: Positions::Last,
        })
        .collect();
    if attention {
        captures.extend(ForwardRequest::last_token_attention(model.config.n_layers).captures);
    }
    let request = ForwardRequest {
        captures,
        interventions: Vec::new(),
    };
    let mut order: Vec<usize> = (0..prompts.len()).collect();
    order.sort_by_key(|&i| prompts[i].len());
    let mut out: Vec<Option<(LastToken, Vec<Capture>)>> = vec![None; prompts.len()];
    for chunk in order.chunks(BATCH_SIZE) {
        let batch: Vec<Vec<u32>> = chunk.iter().map(|&i| prompts[i].clone()).collect();
        let outputs = forward::forward(model, &batch, &request).await?;
        for (&i, output) in chunk.iter().zip(outputs) {
            let mut read = output.captures;
            let attention_rows = read.split_off(hooks.len().min(read.len()));
            out[i] = Some((
                LastToken {
                    p: output.p,
                    resid: read.into_iter().map(|c| c.values).collect(),
                },
                attention_rows,
            ));
        }
    }
    out.into_iter()
        .map(|one| {
            one.ok_or_else(|| EngineError::UnexpectedTensor("a prompt got no output".to_owned()))
        })
        .collect()
}

/// The mean of equal-length vectors, in f64.
pub fn mean_vector(rows: &[&[f32]]) -> Result<Vec<f64>, EngineError> {
    let Some(first) = rows.first() else {
        return Err(EngineError::InvalidParameter(
            "a mean of no vectors".to_owned(),
        ));
    };
    let mut sum = vec![0.0f64; first.len()];
    for row in rows {
        if row.len() != sum.len() {
            return Err(EngineError::InvalidParameter(format!(
                "vectors of {} and {} values",
                sum.len(),
                row.len()
            )));
        }
        for (s, &v) in sum.iter_mut().zip(row.iter()) {
            *s += f64::from(v);
        }
    }
    let n = rows.len() as f64;
    Ok(sum.into_iter().map(|s| s / n).collect())
}

/// The mass-mean direction: mean of `toward` minus mean of `away`.
pub fn mass_mean_direction(toward: &[&[f32]], away: &[&[f32]]) -> Result<Vec<f32>, EngineError> {
    let toward = mean_vector(toward)?;
    let away = mean_vector(away)?;
    if toward.len() != away.len() {
        return Err(EngineError::InvalidParameter(
            "the two sides of a direction have different widths".to_owned(),
        ));
    }
    Ok(toward
        .iter()
        .zip(&away)
        .map(|(t, a)| (t - a) as f32)
        .collect())
}

/// L2 norm, in f64.
pub fn l2_norm(v: &[f32]) -> f64 {
    v.iter()
        .map(|&x| f64::from(x) * f64::from(x))
        .sum::<f64>()
        .sqrt()
}

/// Cosine similarity in f64; 0 when either vector is zero (no direction, no similarity).
pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| f64::from(x) * f64::from(y))
        .sum();
    let norms = l2_norm(a) * l2_norm(b);
    if norms == 0.0 { 0.0 } else { dot / norms }
}

/// The mean of `values` (0 for none).
pub fn mean(values: impl IntoIterator<Item = f64>) -> f64 {
    let (sum, n) = values
        .into_iter()
        .fold((0.0, 0usize), |(sum, n), v| (sum + v, n + 1));
    if n == 0 { 0.0 } else { sum / n as f64 }
}

/// Up to `n` of `total` indices drawn from `seed` (all of them if there are fewer), ascending.
/// It depends on the seed and counts only, so every model of a family sees the same prompts.
pub fn subsample(total: usize, n: usize, seed: u64, label: &str) -> Vec<usize> {
    let mut all: Vec<usize> = (0..total).collect();
    if n >= total {
        return all;
    }
    Rng::derived(seed, label).shuffle(&mut all);
    all.truncate(n);
    all.sort_unstable();
    all
}

/// The subsample label every strategy uses for curated prompts, so that with the same count
/// and seed they all read the same prompts and can share one [`CuratedPass`].
pub const CURATED_SUBSAMPLE: &str = "curated-prompts";

/// The curated prompts a strategy uses: up to `n_prompts`, drawn from `seed`, ascending.
pub fn curated_subsample(total: usize, n_prompts: usize, seed: u64) -> Vec<usize> {
    subsample(total, n_prompts, seed, CURATED_SUBSAMPLE)
}

/// One model's last-token answer probabilities and residual after every block on a seeded
/// subsample of a family's curated prompts: read once, shared by the strategies that only read
/// activations (confidence, S4, S5).
#[derive(Debug, Clone, PartialEq)]
pub struct CuratedPass {
    /// Indices of the prompts read, into the curated set, ascending.
    pub indices: Vec<usize>,
    /// Per prompt read: `resid[i]` is `blocks.{i}.hook_resid_post`.
    pub rows: Vec<LastToken>,
    /// The seed the subsample was drawn from.
    pub seed: u64,
}

impl CuratedPass {
    /// Reads up to `n_prompts` curated prompts (drawn from `seed`) through `model`.
    pub async fn read(
        model: &PoserGpt,
        curated: &[CuratedPrompt],
        n_prompts: usize,
        seed: u64,
    ) -> Result<Self, EngineError> {
        if curated.is_empty() {
            return Err(EngineError::InvalidParameter(
                "no curated prompts".to_owned(),
            ));
        }
        let indices = curated_subsample(curated.len(), n_prompts, seed);
        let prompts: Vec<Vec<u32>> = indices.iter().map(|&i| curated[i].tokens.clone()).collect();
        let hooks = every_resid_post(model.config.n_layers);
        let rows = last_token_pass(model, &prompts, &hooks).await?;
        Ok(Self {
            indices,
            rows,
            seed,
        })
    }

    /// [`CuratedPass::read`] from passes already kept in `caches` (the same numbers, up to
    /// float rounding, without running the prompts again).
    pub async fn from_caches(
        model: &PoserGpt,
        curated: &[CuratedPrompt],
        caches: &CuratedCaches,
        n_prompts: usize,
        seed: u64,
    ) -> Result<Self, EngineError> {
        if curated.is_empty() {
            return Err(EngineError::InvalidParameter(
                "no curated prompts".to_owned(),
            ));
        }
        let indices = curated_subsample(curated.len(), n_prompts, seed);
        let found = indices
            .iter()
            .map(|&i| caches.get(model, curated, i))
            .collect::<Result<Vec<_>, _>>()?;
        let refs: Vec<&PromptCache> = found.iter().map(AsRef::as_ref).collect();
        let rows = PromptCache::read_last_positions(model, &refs)
            .await?
            .into_iter()
            .map(|last| LastToken {
                p: last.p,
                resid: last.resid_post,
            })
            .collect();
        Ok(Self {
            indices,
            rows,
            seed,
        })
    }

    /// Checks that this pass is the one a strategy's settings ask for.
    pub(crate) fn check(
        &self,
        curated_len: usize,
        n_prompts: usize,
        seed: u64,
    ) -> Result<(), EngineError> {
        if self.indices != curated_subsample(curated_len, n_prompts, seed) {
            return Err(EngineError::InvalidParameter(format!(
                "the shared pass read other curated prompts than these settings ask for ({} prompts from seed {seed})",
                n_prompts.min(curated_len)
            )));
        }
        Ok(())
    }
}

/// Plain passes of a family's curated prompts kept for last-position recomputation
/// ([`PromptCache`]), by index into the curated set. One pass per prompt serves the shared
/// pass (confidence, S4, S5), S1, S2 and the layer sweeps, which all read the same seeded
/// subsample: a pass is most of the cost of each, so sharing it cuts those stages by half.
#[derive(Debug, Clone, Default)]
pub struct CuratedCaches {
    caches: BTreeMap<usize, PromptCache>,
}

impl CuratedCaches {
    /// Runs each of `indices` (into `curated`) once through `model`. Nothing is read back.
    pub fn build(
        model: &PoserGpt,
        curated: &[CuratedPrompt],
        indices: impl IntoIterator<Item = usize>,
    ) -> Result<Self, EngineError> {
        let mut caches = BTreeMap::new();
        for index in indices {
            let prompt = curated.get(index).ok_or_else(|| {
                EngineError::InvalidParameter(format!(
                    "curated prompt {index} of {} asked for",
                    curated.len()
                ))
            })?;
            caches.insert(index, PromptCache::new(model, &prompt.tokens)?);
        }
        Ok(Self { caches })
    }

    /// The cache of curated prompt `index`, run now if it was not built.
    pub fn get(
        &self,
        model: &PoserGpt,
        curated: &[CuratedPrompt],
        index: usize,
    ) -> Result<Cow<'_, PromptCache>, EngineError> {
        match self.caches.get(&index) {
            Some(cache)
                if curated
                    .get(index)
                    .is_some_and(|p| p.tokens == cache.tokens()) =>
            {
                Ok(Cow::Borrowed(cache))
            }
            Some(_) => Err(EngineError::InvalidParameter(format!(
                "the cache of curated prompt {index} holds another prompt; build the caches from this curated set"
            ))),
            None => {
                let prompt = curated.get(index).ok_or_else(|| {
                    EngineError::InvalidParameter(format!(
                        "curated prompt {index} of {} asked for",
                        curated.len()
                    ))
                })?;
                Ok(Cow::Owned(PromptCache::new(model, &prompt.tokens)?))
            }
        }
    }
}

/// The mass-mean direction from level-1 good-oversight prompts to their level-0 versions at
/// each of `hooks`: mean last-token residual *without* the oversight fact minus mean *with* it,
/// so adding it points away from "misbehaviour would be caught" (S1; its norm scales S2).
pub async fn oversight_directions(
    model: &PoserGpt,
    versions: &[OversightVersions],
    hooks: &[HookPoint],
) -> Result<Vec<Vec<f32>>, EngineError> {
    if versions.is_empty() {
        return Err(EngineError::InvalidParameter(
            "no oversight scenarios to build a direction from".to_owned(),
        ));
    }
    for (index, version) in versions.iter().enumerate() {
        version.check(index)?;
    }
    let with: Vec<Vec<u32>> = versions.iter().map(|v| v.with_fact.clone()).collect();
    let without: Vec<Vec<u32>> = versions.iter().map(|v| v.without_fact.clone()).collect();
    let with = last_token_pass(model, &with, hooks).await?;
    let without = last_token_pass(model, &without, hooks).await?;
    (0..hooks.len())
        .map(|h| {
            let side = |rows: &[LastToken]| -> Vec<Vec<f32>> {
                rows.iter()
                    .map(|row| row.resid.get(h).cloned().unwrap_or_default())
                    .collect()
            };
            let (toward, away) = (side(&without), side(&with));
            let toward: Vec<&[f32]> = toward.iter().map(Vec::as_slice).collect();
            let away: Vec<&[f32]> = away.iter().map(Vec::as_slice).collect();
            mass_mean_direction(&toward, &away)
        })
        .collect()
}

/// Checks that a family has models and that curated prompts are present.
pub(crate) fn check_family(
    models: &[FamilyModel<'_>],
    curated: &[CuratedPrompt],
) -> Result<(), EngineError> {
    if models.is_empty() {
        return Err(EngineError::InvalidParameter(
            "no models to score".to_owned(),
        ));
    }
    if curated.is_empty() {
        return Err(EngineError::InvalidParameter(
            "no curated prompts".to_owned(),
        ));
    }
    Ok(())
}

/// The hooks `blocks.{i}.hook_resid_post` of every block, in order.
pub fn every_resid_post(n_layers: usize) -> Vec<HookPoint> {
    (0..n_layers).map(HookPoint::ResidPost).collect()
}

/// A hook at a relative depth, with the engine's error type.
pub(crate) fn at_depth(fraction: f64, n_layers: usize) -> Result<HookPoint, EngineError> {
    HookPoint::resid_post_at_depth(fraction, n_layers)
        .map_err(|error| EngineError::InvalidParameter(error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_and_directions() {
        assert_eq!(cosine(&[1.0, 0.0], &[0.0, 2.0]), 0.0);
        assert!((cosine(&[1.0, 1.0], &[2.0, 2.0]) - 1.0).abs() < 1e-12);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 2.0]), 0.0);
        let d = mass_mean_direction(&[&[2.0, 0.0], &[4.0, 2.0]], &[&[1.0, 1.0]]).unwrap();
        assert_eq!(d, vec![2.0, 0.0]);
        assert!(mass_mean_direction(&[], &[&[1.0]]).is_err());
    }

    #[test]
    fn subsample_is_seeded_sorted_and_complete_when_small() {
        assert_eq!(subsample(5, 10, 1, "x"), vec![0, 1, 2, 3, 4]);
        let a = subsample(100, 10, 1, "x");
        assert_eq!(a, subsample(100, 10, 1, "x"));
        assert_ne!(a, subsample(100, 10, 2, "x"));
        assert!(a.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(a.len(), 10);
    }
}
