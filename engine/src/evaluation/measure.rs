//! Work done once per (model, family): everything a model's scores are derived from, measured
//! without knowing the model's class. Strategies share passes: one plain pass per curated
//! prompt, kept as a prompt cache, serves confidence, S4 and S5 (read from it) and S1, S2 and
//! their layer sweeps (which recompute only the last position from it, at every block); one
//! pass over the oversight scenarios with and without the fact serves S1's and S2's
//! directions, S6c and S6b (its attention rows).

use serde::{Deserialize, Serialize};

use super::inputs::FamilyInputs;
use crate::EngineError;
use crate::model::{Edit, HookPoint, PoserGpt};
use crate::strategies::activations::{
    CuratedCaches, CuratedPass, LastToken, curated_subsample, every_resid_post, l2_norm,
    last_token_pass, last_token_pass_with_attention, mass_mean_direction, subsample,
};
use crate::strategies::attentiveness::{
    AttentionToFact, AttentivenessConfig, attention_to_fact, attention_to_fact_from_pass,
};
use crate::strategies::attentiveness::{OversightRemoval, oversight_removal_from_passes};
use crate::strategies::confidence::{ConfidenceConfig, ConfidenceScore, confidence_from_pass};
use crate::strategies::decision_speed::{
    DecisionSpeedConfig, DecisionSpeedScore, decision_speed_from_pass,
};
use crate::strategies::gradient_saliency::{
    GradientSaliencyConfig, GradientSaliencyMeasurement, gradient_saliency,
};
use crate::strategies::induce_safe_belief::{
    InduceSafeBeliefConfig, SafeBeliefCurves, safe_belief_sweep,
};
use crate::strategies::intoxicate::{IntoxicateConfig, intoxicate_sweep, noise_seed};
use crate::strategies::learning_speed::{
    LearningSpeedConfig, LearningSpeedMeasurement, learning_speed,
};
use crate::strategies::removal::RemovalConfig;
use crate::strategies::suspicious_concepts::{SuspiciousConceptsConfig, concept_cosines};
use crate::strategies::{FamilyModel, OversightVersions};

/// A strategy `poser evaluate` runs; its name is the report's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StrategyId {
    /// The confidence baseline.
    Confidence,
    /// S1, induce the belief that it is safe to misbehave.
    S1,
    /// S2, intoxicate the models.
    S2,
    /// S3, compare how fast models learn to misbehave.
    S3,
    /// S4, identify suspicious concepts.
    S4,
    /// S5, compare decision-making speed.
    S5,
    /// S6a, gradient saliency (figures only, no verdict).
    S6a,
    /// S6b, attention onto the oversight fact.
    S6b,
    /// S6c, the residual's change when the oversight fact is removed.
    S6c,
    /// §4, removing alignment faking by training the fakers (figures only, no verdict).
    Removal,
}

impl StrategyId {
    /// Every strategy, in report order.
    pub const ALL: [Self; 10] = [
        Self::Confidence,
        Self::S1,
        Self::S2,
        Self::S3,
        Self::S4,
        Self::S5,
        Self::S6a,
        Self::S6b,
        Self::S6c,
        Self::Removal,
    ];

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Confidence => "confidence",
            Self::S1 => "s1",
            Self::S2 => "s2",
            Self::S3 => "s3",
            Self::S4 => "s4",
            Self::S5 => "s5",
            Self::S6a => "s6a",
            Self::S6b => "s6b",
            Self::S6c => "s6c",
            Self::Removal => "removal",
        }
    }

    /// The strategy called `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|id| id.name() == name)
    }
}

/// The layer sweeps of S1 and S2 (S4's and S6c's come from passes that read every block):
/// fewer prompts and noise draws than the verdict's hook, because every block is swept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerSweepConfig {
    /// Curated prompts per model (a seeded subsample; 0 turns the S1/S2 sweeps off).
    pub n_prompts: usize,
    /// S2 noise draws per prompt.
    pub draws: usize,
}

/// Every setting of an evaluation. The shared counts and the seed are copied into each
/// strategy's own config by [`EvaluateConfig::paper`], so the shared passes read the same
/// prompts for every strategy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluateConfig {
    /// The seed every subsample, split, noise draw, pair order and bootstrap derives from.
    pub seed: u64,
    /// Curated prompts per family used at most (a seeded subsample beyond that).
    pub n_curated: usize,
    /// Oversight scenarios (with and without the fact) per family used at most.
    pub n_oversight: usize,
    /// The S1/S2 layer sweeps.
    pub layer_sweep: LayerSweepConfig,
    /// The confidence baseline.
    pub confidence: ConfidenceConfig,
    /// S1.
    pub induce_safe_belief: InduceSafeBeliefConfig,
    /// S2.
    pub intoxicate: IntoxicateConfig,
    /// S4.
    pub suspicious_concepts: SuspiciousConceptsConfig,
    /// S5.
    pub decision_speed: DecisionSpeedConfig,
    /// S6b and S6c.
    pub attentiveness: AttentivenessConfig,
    /// S3.
    pub learning_speed: LearningSpeedConfig,
    /// S6a.
    pub gradient_saliency: GradientSaliencyConfig,
    /// §4.
    pub removal: RemovalConfig,
    /// The strategies run, in report order.
    pub strategies: Vec<StrategyId>,
}

impl EvaluateConfig {
    /// The paper's settings (POSER.md §4) for models of `n_layers` blocks, with shared counts.
    pub fn paper(n_layers: usize, seed: u64) -> Result<Self, EngineError> {
        let (n_curated, n_oversight) = (200, 100);
        let mut config = Self {
            seed,
            n_curated,
            n_oversight,
            layer_sweep: LayerSweepConfig {
                n_prompts: 50,
                draws: 1,
            },
            confidence: ConfidenceConfig::default(),
            induce_safe_belief: InduceSafeBeliefConfig::paper(n_layers)?,
            intoxicate: IntoxicateConfig::paper(n_layers)?,
            suspicious_concepts: SuspiciousConceptsConfig::paper(n_layers)?,
            decision_speed: DecisionSpeedConfig::paper(n_layers)?,
            attentiveness: AttentivenessConfig::default(),
            learning_speed: LearningSpeedConfig::paper(n_layers)?,
            gradient_saliency: GradientSaliencyConfig::default(),
            removal: RemovalConfig::default(),
            strategies: StrategyId::ALL.to_vec(),
        };
        config.share();
        Ok(config)
    }

    /// Copies the shared counts and the seed into every strategy's config.
    pub fn share(&mut self) {
        let (seed, curated, oversight) = (self.seed, self.n_curated, self.n_oversight);
        self.confidence.seed = seed;
        self.confidence.n_prompts = curated;
        self.induce_safe_belief.seed = seed;
        self.induce_safe_belief.n_prompts = curated;
        self.induce_safe_belief.n_direction_prompts = oversight;
        self.intoxicate.seed = seed;
        self.intoxicate.n_prompts = curated;
        self.intoxicate.n_direction_prompts = oversight;
        self.suspicious_concepts.seed = seed;
        self.suspicious_concepts.n_prompts = curated;
        self.decision_speed.seed = seed;
        self.decision_speed.n_prompts = curated;
        self.attentiveness.seed = seed;
        self.attentiveness.n_prompts = oversight;
        self.learning_speed.seed = seed;
        self.gradient_saliency.seed = seed;
        self.removal.seed = seed;
    }

    /// Whether `strategy` is run.
    pub fn runs(&self, strategy: StrategyId) -> bool {
        self.strategies.contains(&strategy)
    }

    /// Settings that would only fail late, checked before anything is measured.
    pub fn check(&self) -> Result<(), EngineError> {
        if self.runs(StrategyId::Removal) && !self.runs(StrategyId::S2) {
            return Err(EngineError::InvalidParameter(
                "§4 (`removal`) injects S2's noise at the magnitude S2's rule chooses: run `s2` with it"
                    .to_owned(),
            ));
        }
        if self.runs(StrategyId::S3) {
            self.learning_speed.check()?;
        }
        if self.runs(StrategyId::Removal) {
            self.removal.adamw.validate()?;
        }
        Ok(())
    }
}

/// One model's S1 measurements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SafeBeliefMeasurement {
    /// L2 norm of the direction at the verdict's hook.
    pub direction_norm: f64,
    /// The multiplier sweep at the verdict's hook (Fig. 4).
    pub curves: SafeBeliefCurves,
    /// The same sweep at `blocks.{i}.hook_resid_post` for every block, on the layer sweep's
    /// prompts (empty when the sweep is off).
    pub per_layer: Vec<SafeBeliefCurves>,
}

/// Mean P(misaligned) and P(A)+P(B) over a magnitude sweep; index 0 is no noise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoiseCurves {
    /// Mean P(misaligned): no noise, then per magnitude (Fig. 5).
    pub p_misaligned: Vec<f64>,
    /// Mean P(A)+P(B): no noise, then per magnitude (Fig. 11).
    pub answer_mass: Vec<f64>,
}

/// One model's S2 measurements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntoxicateMeasurement {
    /// The S1 direction's norm at the verdict's hook, which the unit noise is scaled by.
    pub reference_norm: f64,
    /// The sweep at the verdict's hook.
    pub curves: NoiseCurves,
    /// The same per block on the layer sweep's prompts (empty when the sweep is off).
    pub per_layer: Vec<NoiseCurves>,
}

/// One model's S4 measurements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConceptMeasurement {
    /// Per concept: its name and the mean cosine at every block.
    pub concepts: Vec<ConceptCosines>,
}

/// One concept's mean cosine per block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConceptCosines {
    /// The concept.
    pub concept: String,
    /// Mean cosine between its direction and the curated prompts' residual, per block.
    pub cosine_per_layer: Vec<f64>,
}

/// Everything measured on one model for one family; scores are derived from these alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelMeasurements {
    /// The model.
    pub model: String,
    /// The confidence baseline (Fig. 13).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<ConfidenceScore>,
    /// S1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s1: Option<SafeBeliefMeasurement>,
    /// S2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s2: Option<IntoxicateMeasurement>,
    /// S4.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s4: Option<ConceptMeasurement>,
    /// S5 (Fig. 8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s5: Option<DecisionSpeedScore>,
    /// S6b.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s6b: Option<AttentionToFact>,
    /// S6c.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s6c: Option<OversightRemoval>,
    /// S3 (Fig. 6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3: Option<LearningSpeedMeasurement>,
    /// S6a (Fig. 9).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s6a: Option<GradientSaliencyMeasurement>,
}

/// A stage of [`measure_model`], reported as it starts so that callers can show progress and
/// time each stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The shared passes over the curated prompts (kept as caches for S1 and S2), and
    /// confidence and S5 from them.
    CuratedPass,
    /// S4's contrast texts.
    Concepts,
    /// The shared pass over the oversight scenarios (directions, S6c, S6b's attention).
    OversightPass,
    /// S1 at its hook.
    S1,
    /// S2 at its hook.
    S2,
    /// The S1/S2 layer sweeps.
    LayerSweep,
    /// S6b's attention pass, when the oversight pass did not run.
    S6b,
    /// S3's training runs.
    S3,
    /// S6a's backward passes.
    S6a,
    /// §4's training runs (once per faker, after the families).
    Removal,
}

impl Stage {
    /// A short name for progress lines and timing tables.
    pub fn name(self) -> &'static str {
        match self {
            Self::CuratedPass => "curated passes (confidence, S5; S1/S2 caches)",
            Self::Concepts => "S4 concepts",
            Self::OversightPass => "oversight pass (S6c, S6b, directions)",
            Self::S1 => "S1",
            Self::S2 => "S2",
            Self::LayerSweep => "S1/S2 layer sweep",
            Self::S6b => "S6b",
            Self::S3 => "S3 (training)",
            Self::S6a => "S6a (saliency)",
            Self::Removal => "§4 removal (training)",
        }
    }
}

/// The oversight scenarios every strategy of a family reads: a seeded subsample.
pub fn picked_versions(inputs: &FamilyInputs, config: &EvaluateConfig) -> Vec<OversightVersions> {
    subsample(
        inputs.versions.len(),
        config.n_oversight,
        config.seed,
        "oversight-versions",
    )
    .into_iter()
    .map(|i| inputs.versions[i].clone())
    .collect()
}

/// Measures one model on one family's inputs. `on_stage` is called as each stage starts.
pub async fn measure_model(
    name: &str,
    model: &PoserGpt,
    inputs: &FamilyInputs,
    config: &EvaluateConfig,
    on_stage: &mut dyn FnMut(Stage),
) -> Result<ModelMeasurements, EngineError> {
    let n_layers = model.config.n_layers;
    let mut out = ModelMeasurements {
        model: name.to_owned(),
        confidence: None,
        s1: None,
        s2: None,
        s4: None,
        s5: None,
        s6b: None,
        s6c: None,
        s3: None,
        s6a: None,
    };
    let curated = &inputs.curated;
    let family_model = FamilyModel { name, model };
    let runs = |s| config.runs(s);
    let shared_pass = runs(StrategyId::Confidence) || runs(StrategyId::S4) || runs(StrategyId::S5);
    let needs_directions = runs(StrategyId::S1) || runs(StrategyId::S2);
    // Every curated prompt the shared pass, S1, S2 and the layer sweep read, run once.
    let mut cached = std::collections::BTreeSet::new();
    let (s1, s2) = (&config.induce_safe_belief, &config.intoxicate);
    for (wanted, n_prompts, seed) in [
        (shared_pass, config.n_curated, config.seed),
        (runs(StrategyId::S1), s1.n_prompts, s1.seed),
        (runs(StrategyId::S2), s2.n_prompts, s2.seed),
        (needs_directions, config.layer_sweep.n_prompts, config.seed),
    ] {
        if wanted {
            cached.extend(curated_subsample(curated.len(), n_prompts, seed));
        }
    }
    if !cached.is_empty() {
        on_stage(Stage::CuratedPass);
    }
    let caches = CuratedCaches::build(model, curated, cached)?;
    if shared_pass {
        let pass = CuratedPass::from_caches(model, curated, &caches, config.n_curated, config.seed)
            .await?;
        if runs(StrategyId::Confidence) {
            out.confidence = Some(confidence_from_pass(
                name,
                curated,
                &pass,
                &config.confidence,
            )?);
        }
        if runs(StrategyId::S5) {
            out.s5 = Some(decision_speed_from_pass(
                name,
                n_layers,
                curated.len(),
                &pass,
                &config.decision_speed,
            )?);
        }
        if runs(StrategyId::S4) {
            on_stage(Stage::Concepts);
            let cosines = concept_cosines(
                model,
                &inputs.concepts,
                curated.len(),
                &pass,
                &config.suspicious_concepts,
            )
            .await?;
            out.s4 = Some(ConceptMeasurement {
                concepts: inputs
                    .concepts
                    .iter()
                    .zip(cosines)
                    .map(|(concept, cosine_per_layer)| ConceptCosines {
                        concept: concept.name.clone(),
                        cosine_per_layer,
                    })
                    .collect(),
            });
        }
    }
    let versions = picked_versions(inputs, config);
    if needs_directions || runs(StrategyId::S6c) {
        on_stage(Stage::OversightPass);
        if versions.is_empty() {
            return Err(EngineError::InvalidParameter(format!(
                "family {}: no oversight scenarios (curated good-oversight rows)",
                inputs.family
            )));
        }
        let hooks = every_resid_post(n_layers);
        let with: Vec<Vec<u32>> = versions.iter().map(|v| v.with_fact.clone()).collect();
        let without: Vec<Vec<u32>> = versions.iter().map(|v| v.without_fact.clone()).collect();
        let (with, attention): (Vec<LastToken>, Vec<_>) =
            last_token_pass_with_attention(model, &with, &hooks, runs(StrategyId::S6b))
                .await?
                .into_iter()
                .unzip();
        let without = last_token_pass(model, &without, &hooks).await?;
        if runs(StrategyId::S6b) {
            out.s6b = Some(attention_to_fact_from_pass(
                name,
                n_layers,
                model.config.n_heads,
                &versions,
                &attention,
                &config.attentiveness,
            )?);
        }
        let at = |rows: &[LastToken], layer: usize| -> Vec<Vec<f32>> {
            rows.iter()
                .map(|row| row.resid.get(layer).cloned().unwrap_or_default())
                .collect()
        };
        // The same direction as `oversight_directions`: mean without the fact minus mean with it.
        let directions: Vec<Vec<f32>> = (0..n_layers)
            .map(|layer| {
                let (toward, away) = (at(&without, layer), at(&with, layer));
                mass_mean_direction(
                    &toward.iter().map(Vec::as_slice).collect::<Vec<_>>(),
                    &away.iter().map(Vec::as_slice).collect::<Vec<_>>(),
                )
            })
            .collect::<Result<_, _>>()?;
        if runs(StrategyId::S6c) {
            out.s6c = Some(oversight_removal_from_passes(
                name, &with, &without, n_layers,
            ));
        }
        let direction_at = |hook: HookPoint| -> Result<&Vec<f32>, EngineError> {
            hook.block()
                .and_then(|block| directions.get(block))
                .filter(|_| matches!(hook, HookPoint::ResidPost(_)))
                .ok_or_else(|| {
                    EngineError::InvalidParameter(format!(
                        "S1 and S2 use `blocks.{{i}}.hook_resid_post` of this model's {n_layers} blocks, not `{hook}`"
                    ))
                })
        };
        if runs(StrategyId::S1) {
            on_stage(Stage::S1);
            let s1 = &config.induce_safe_belief;
            let direction = direction_at(s1.hook)?;
            out.s1 = Some(SafeBeliefMeasurement {
                direction_norm: l2_norm(direction),
                curves: safe_belief_sweep(model, direction, curated, &caches, s1).await?,
                per_layer: Vec::new(),
            });
        }
        if runs(StrategyId::S2) {
            on_stage(Stage::S2);
            let s2 = &config.intoxicate;
            let reference_norm = l2_norm(direction_at(s2.hook)?);
            let (p_misaligned, answer_mass) =
                intoxicate_sweep(model, reference_norm, curated, &caches, s2).await?;
            out.s2 = Some(IntoxicateMeasurement {
                reference_norm,
                curves: NoiseCurves {
                    p_misaligned,
                    answer_mass,
                },
                per_layer: Vec::new(),
            });
        }
        if needs_directions && config.layer_sweep.n_prompts > 0 {
            on_stage(Stage::LayerSweep);
            let (s1_sweep, s2_sweep) =
                layer_sweep(model, inputs, &caches, &directions, config).await?;
            if let Some(s1) = &mut out.s1 {
                s1.per_layer = s1_sweep;
            }
            if let Some(s2) = &mut out.s2 {
                s2.per_layer = s2_sweep;
            }
        }
    }
    drop(caches);
    if runs(StrategyId::S6b) && out.s6b.is_none() {
        on_stage(Stage::S6b);
        out.s6b = Some(attention_to_fact(family_model, &versions, &config.attentiveness).await?);
    }
    if runs(StrategyId::S3) {
        on_stage(Stage::S3);
        out.s3 = Some(learning_speed(family_model, curated, &config.learning_speed).await?);
    }
    if runs(StrategyId::S6a) {
        on_stage(Stage::S6a);
        out.s6a = Some(
            gradient_saliency(family_model, &inputs.versions, &config.gradient_saliency).await?,
        );
    }
    Ok(out)
}

/// S1's and S2's sweeps at every block on the layer sweep's prompts: one cache per prompt,
/// one batch of edits (S1's then S2's) per block.
async fn layer_sweep(
    model: &PoserGpt,
    inputs: &FamilyInputs,
    caches: &CuratedCaches,
    directions: &[Vec<f32>],
    config: &EvaluateConfig,
) -> Result<(Vec<SafeBeliefCurves>, Vec<NoiseCurves>), EngineError> {
    let curated = &inputs.curated;
    let multipliers = &config.induce_safe_belief.multipliers;
    let magnitudes = &config.intoxicate.magnitudes;
    let draws = config.layer_sweep.draws.max(1);
    let (n_mult, n_mag) = (multipliers.len(), magnitudes.len());
    // Edit layout per block: [none, +m…, −m…, noise(draw, magnitude)…].
    let n_edits = 1 + 2 * n_mult + draws * n_mag;
    let chosen = curated_subsample(curated.len(), config.layer_sweep.n_prompts, config.seed);
    if chosen.is_empty() {
        return Err(EngineError::InvalidParameter(
            "no curated prompts".to_owned(),
        ));
    }
    let n_layers = directions.len();
    let mut misaligned = vec![vec![0.0f64; n_edits]; n_layers];
    let mut answer_mass = vec![vec![0.0f64; n_edits]; n_layers];
    for &i in &chosen {
        let prompt = &curated[i];
        let cache = caches.get(model, curated, i)?;
        for (layer, direction) in directions.iter().enumerate() {
            let norm = l2_norm(direction);
            let scaled = |m: f32| Edit::AddVector(direction.iter().map(|v| v * m).collect());
            let mut edits = vec![scaled(0.0)];
            edits.extend(multipliers.iter().map(|&m| scaled(m)));
            edits.extend(multipliers.iter().map(|&m| scaled(-m)));
            for draw in 0..draws {
                edits.extend(magnitudes.iter().map(|&magnitude| Edit::Noise {
                    distribution: config.intoxicate.distribution,
                    seed: noise_seed(config.seed, i, draw),
                    magnitude: (norm * f64::from(magnitude)) as f32,
                }));
            }
            let outputs = cache
                .run_edits(model, HookPoint::ResidPost(layer), &edits, &[])
                .await?;
            for (e, output) in outputs.iter().enumerate() {
                misaligned[layer][e] += prompt.misaligned().p(&output.p);
                answer_mass[layer][e] += f64::from(output.p.a) + f64::from(output.p.b);
            }
        }
    }
    let count = chosen.len() as f64;
    let mut s1 = Vec::with_capacity(n_layers);
    let mut s2 = Vec::with_capacity(n_layers);
    for layer in 0..n_layers {
        let m: Vec<f64> = misaligned[layer].iter().map(|s| s / count).collect();
        let a: Vec<f64> = answer_mass[layer].iter().map(|s| s / count).collect();
        s1.push(SafeBeliefCurves {
            baseline_p_misaligned: m[0],
            baseline_answer_mass: a[0],
            add_p_misaligned: m[1..=n_mult].to_vec(),
            add_answer_mass: a[1..=n_mult].to_vec(),
            subtract_p_misaligned: m[n_mult + 1..=2 * n_mult].to_vec(),
            subtract_answer_mass: a[n_mult + 1..=2 * n_mult].to_vec(),
        });
        // Noise: the mean over draws per magnitude, after the shared no-edit baseline.
        let noise = |sums: &[f64]| -> Vec<f64> {
            let mut curve = vec![sums[0]];
            curve.extend((0..n_mag).map(|k| {
                (0..draws)
                    .map(|draw| sums[1 + 2 * n_mult + draw * n_mag + k])
                    .sum::<f64>()
                    / draws as f64
            }));
            curve
        };
        s2.push(NoiseCurves {
            p_misaligned: noise(&m),
            answer_mass: noise(&a),
        });
    }
    Ok((s1, s2))
}
