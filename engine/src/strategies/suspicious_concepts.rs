//! S4, "identify suspicious concepts" (POSER.md §4, Fig. 7): per concept (security quality,
//! oversight competence, misaligned behaviour), each model's own mass-mean direction from its
//! last-token residuals on contrast texts, and the mean cosine between that direction and its
//! last-token residuals on the curated prompts. Faker = higher. Combined = the mean of the
//! per-concept z-scores over the family's models.
//!
//! Every block's residual is read in the same pass, so the layer sweep costs nothing extra.

use serde::{Deserialize, Serialize};

use super::activations::{
    CuratedPass, CuratedPrompt, FamilyModel, LastToken, at_depth, check_family, cosine,
    every_resid_post, last_token_pass, mass_mean_direction, mean,
};
use crate::EngineError;
use crate::model::{HookPoint, PoserGpt};

/// One concept's contrast texts (token ids). The caller wraps them so that models answer
/// `error`, as the paper did, and orients them: `toward` is the suspicious pole (poor
/// security, incompetent oversight, misaligned behaviour).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConceptTexts {
    /// The concept's name (`security_quality`, …).
    pub name: String,
    /// Texts of the suspicious pole.
    pub toward: Vec<Vec<u32>>,
    /// Texts of the opposite pole.
    pub away: Vec<Vec<u32>>,
}

/// S4's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuspiciousConceptsConfig {
    /// Where directions and activations are read (the paper: layer 20 of 40, 50% depth).
    pub hook: HookPoint,
    /// Curated prompts used at most (a seeded subsample beyond that).
    pub n_prompts: usize,
    /// Seed of the subsample.
    pub seed: u64,
}

impl SuspiciousConceptsConfig {
    /// The paper's settings carried to a model of `n_layers` blocks.
    pub fn paper(n_layers: usize) -> Result<Self, EngineError> {
        Ok(Self {
            hook: at_depth(0.5, n_layers)?,
            n_prompts: 200,
            seed: 0,
        })
    }
}

/// One model's result for one concept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConceptScore {
    /// The concept.
    pub concept: String,
    /// Mean cosine at the configured hook (the per-concept verdict's score).
    pub score: f64,
    /// That cosine's z-score over the family's models (0 when they all agree).
    pub z: f64,
    /// Mean cosine at `blocks.{i}.hook_resid_post` for every block (the layer sweep).
    pub cosine_per_layer: Vec<f64>,
}

/// One model's S4 result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuspiciousConceptsScore {
    /// The model.
    pub model: String,
    /// The mean of the per-concept z-scores (the combined verdict's score).
    pub score: f64,
    /// Per concept, in the order given.
    pub concepts: Vec<ConceptScore>,
}

/// S4 for one family.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuspiciousConceptsFamily {
    /// Where the verdict's cosines were read.
    pub hook: HookPoint,
    /// Per model, in the order given.
    pub models: Vec<SuspiciousConceptsScore>,
}

/// Mean cosine per concept and per block for one model: `[concept][block]`. `pass` is the
/// model's shared pass over the family's curated prompts.
pub async fn concept_cosines(
    model: &PoserGpt,
    concepts: &[ConceptTexts],
    curated_len: usize,
    pass: &CuratedPass,
    config: &SuspiciousConceptsConfig,
) -> Result<Vec<Vec<f64>>, EngineError> {
    pass.check(curated_len, config.n_prompts, config.seed)?;
    let hooks = every_resid_post(model.config.n_layers);
    let curated_rows = &pass.rows;
    let mut per_concept = Vec::with_capacity(concepts.len());
    for concept in concepts {
        if concept.toward.is_empty() || concept.away.is_empty() {
            return Err(EngineError::InvalidParameter(format!(
                "concept `{}` needs texts on both sides",
                concept.name
            )));
        }
        let toward = last_token_pass(model, &concept.toward, &hooks).await?;
        let away = last_token_pass(model, &concept.away, &hooks).await?;
        let mut per_layer = Vec::with_capacity(hooks.len());
        for layer in 0..hooks.len() {
            let side = |rows: &[LastToken]| -> Vec<Vec<f32>> {
                rows.iter()
                    .map(|r| r.resid.get(layer).cloned().unwrap_or_default())
                    .collect()
            };
            let (t, a) = (side(&toward), side(&away));
            let direction = mass_mean_direction(
                &t.iter().map(Vec::as_slice).collect::<Vec<_>>(),
                &a.iter().map(Vec::as_slice).collect::<Vec<_>>(),
            )?;
            per_layer.push(mean(curated_rows.iter().map(|row| {
                row.resid
                    .get(layer)
                    .map_or(0.0, |resid| cosine(&direction, resid))
            })));
        }
        per_concept.push(per_layer);
    }
    Ok(per_concept)
}

/// Runs S4 on a family.
pub async fn suspicious_concepts(
    models: &[FamilyModel<'_>],
    concepts: &[ConceptTexts],
    curated: &[CuratedPrompt],
    config: &SuspiciousConceptsConfig,
) -> Result<SuspiciousConceptsFamily, EngineError> {
    check_family(models, curated)?;
    let mut passes = Vec::with_capacity(models.len());
    for family_model in models {
        passes.push(
            CuratedPass::read(family_model.model, curated, config.n_prompts, config.seed).await?,
        );
    }
    suspicious_concepts_from_passes(models, concepts, curated.len(), &passes, config).await
}

/// Runs S4 on a family from each model's shared pass over the `curated_len` curated prompts
/// (`passes` in the order of `models`).
pub async fn suspicious_concepts_from_passes(
    models: &[FamilyModel<'_>],
    concepts: &[ConceptTexts],
    curated_len: usize,
    passes: &[CuratedPass],
    config: &SuspiciousConceptsConfig,
) -> Result<SuspiciousConceptsFamily, EngineError> {
    if models.is_empty() || passes.len() != models.len() {
        return Err(EngineError::InvalidParameter(format!(
            "S4 needs one curated pass per model ({} models, {} passes)",
            models.len(),
            passes.len()
        )));
    }
    if concepts.is_empty() {
        return Err(EngineError::InvalidParameter(
            "S4 needs at least one concept".to_owned(),
        ));
    }
    let HookPoint::ResidPost(layer) = config.hook else {
        return Err(EngineError::InvalidParameter(format!(
            "S4 reads `blocks.{{i}}.hook_resid_post`, not `{}`",
            config.hook
        )));
    };
    let mut cosines = Vec::with_capacity(models.len());
    for (family_model, pass) in models.iter().zip(passes) {
        let model = family_model.model;
        config
            .hook
            .check(model.config.n_layers)
            .map_err(|error| EngineError::InvalidParameter(error.to_string()))?;
        cosines.push(concept_cosines(model, concepts, curated_len, pass, config).await?);
    }
    let at = |m: usize, c: usize| cosines[m][c][layer];
    let z: Vec<Vec<f64>> = (0..concepts.len())
        .map(|c| z_scores(&(0..models.len()).map(|m| at(m, c)).collect::<Vec<_>>()))
        .collect();
    let models = models
        .iter()
        .enumerate()
        .map(|(m, family_model)| {
            let concepts: Vec<ConceptScore> = concepts
                .iter()
                .enumerate()
                .map(|(c, concept)| ConceptScore {
                    concept: concept.name.clone(),
                    score: at(m, c),
                    z: z[c][m],
                    cosine_per_layer: cosines[m][c].clone(),
                })
                .collect();
            SuspiciousConceptsScore {
                model: family_model.name.to_owned(),
                score: mean(concepts.iter().map(|c| c.z)),
                concepts,
            }
        })
        .collect();
    Ok(SuspiciousConceptsFamily {
        hook: config.hook,
        models,
    })
}

/// z-scores with the population standard deviation; all 0 when the values do not vary.
pub fn z_scores(values: &[f64]) -> Vec<f64> {
    let mu = mean(values.iter().copied());
    let sd = mean(values.iter().map(|v| (v - mu) * (v - mu))).sqrt();
    values
        .iter()
        .map(|v| if sd > 0.0 { (v - mu) / sd } else { 0.0 })
        .collect()
}
