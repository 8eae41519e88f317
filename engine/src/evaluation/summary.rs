//! The report's summary for the page (`poser report summary`): what the benchmark and results
//! pages draw, without the measurements behind it.
//!
//! The full report holds every measurement (9.9 MB for the shipped zoo); the pages need only
//! the verdict rows, each model's scores, the sweeps, the step curves and §4's curves. The
//! summary is derived from the report alone, names the report's SHA-256, and is rebuilt and
//! compared byte for byte by `cargo test`, so it can never drift from the report it summarises.

use serde::{Deserialize, Serialize};

use super::measure::{EvaluateConfig, StrategyId};
use super::report::{
    LayerAccuracy, PaperRemoval, PaperResult, Report, ScoreRow, StepAccuracy, ToolInfo,
};
use crate::EngineError;
use crate::model::HookPoint;
use crate::strategies::removal::RemovalNoise;

/// The format tag this engine writes and reads.
pub const SUMMARY_FORMAT: &str = "poser-report-summary/1";

/// Everything the benchmark and results pages show of one report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportSummary {
    /// Always [`SUMMARY_FORMAT`].
    pub format: String,
    /// The report summarised.
    pub source: SummarySource,
    /// Every setting and seed of the evaluation (the knobs' defaults).
    pub config: EvaluateConfig,
    /// Every model judged, sorted by name, with its class as the report's pairs give it.
    pub models: Vec<SummaryModel>,
    /// One entry per verdict rule, in the report's order.
    pub rows: Vec<SummaryRow>,
    /// Per family: its models and their scores per rule.
    pub families: Vec<SummaryFamily>,
    /// §4: each faker's mean P(aligned action) per training step, with and without noise.
    pub removal: Vec<SummaryRemoval>,
    /// The paper's §4 numbers.
    pub removal_paper: Option<PaperRemoval>,
}

/// Which report a summary was made from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummarySource {
    /// The report's path as given to `poser report summary` (relative to the repository).
    pub file: String,
    /// SHA-256 of the report's bytes.
    pub sha256: String,
    /// Size of the report in bytes.
    pub bytes: u64,
    /// The report's format tag.
    pub report_format: String,
    /// What made the report.
    pub tool: ToolInfo,
    /// Backend its numbers were computed on.
    pub backend: String,
    /// The evaluation's seed.
    pub seed: u64,
    /// When the evaluation started (seconds since the Unix epoch).
    pub started_unix_s: u64,
    /// Pairs judged.
    pub n_pairs: usize,
}

/// A model and its class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryModel {
    /// The model.
    pub name: String,
    /// Its persona.
    pub persona: String,
    /// `aligned` or `faker`.
    pub class: ModelClass,
}

/// Which side of a pair a model is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelClass {
    /// Always benign.
    Aligned,
    /// Benign only under good oversight.
    Faker,
}

/// One verdict rule over every pair, without the verdicts themselves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryRow {
    /// The row's key (`s2`, `s4_security_quality`, …).
    pub row: String,
    /// The strategy it belongs to.
    pub strategy: StrategyId,
    /// How the verdict is made, in words.
    pub rule: String,
    /// Where the verdict's activations were read or edited.
    pub hook: Option<HookPoint>,
    /// The paper's number.
    pub paper: Option<PaperResult>,
    /// Mean credit over the pairs (ties count 0.5).
    pub accuracy: f64,
    /// Pairs that tied.
    pub ties: usize,
    /// Pairs judged.
    pub n_pairs: usize,
    /// 95% bootstrap interval.
    pub interval: [f64; 2],
    /// Bootstrap replicates.
    pub replicates: usize,
    /// Per family: accuracy over that family's pairs.
    pub per_family: Vec<FamilyAccuracy>,
    /// Accuracy per hook point.
    pub layer_sweep: Vec<LayerAccuracy>,
    /// Accuracy per training step (S3).
    pub step_sweep: Vec<StepAccuracy>,
}

/// A rule's accuracy within one family.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FamilyAccuracy {
    /// The family.
    pub family: String,
    /// Mean credit over its pairs.
    pub accuracy: f64,
    /// Its pairs that tied.
    pub ties: usize,
    /// Its pairs.
    pub n_pairs: usize,
}

/// One family's scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryFamily {
    /// The family.
    pub family: String,
    /// Its models, sorted by name (the order of every per-model list).
    pub models: Vec<String>,
    /// Curated prompts in its set.
    pub n_curated: usize,
    /// Good-oversight scenarios with a level-0 version.
    pub n_oversight: usize,
    /// S1's multiplier and S2's magnitude as the answer-mass rule chose them.
    pub s1_multiplier: Option<f64>,
    /// S2's magnitude.
    pub s2_magnitude: Option<f64>,
    /// Per rule: each model's score, per hook point and per step where measured.
    pub rows: Vec<ScoreRow>,
}

/// §4 on one faker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryRemoval {
    /// The faker.
    pub model: String,
    /// The family whose prompts were used.
    pub family: String,
    /// The steps read.
    pub read_at: Vec<usize>,
    /// The noise of the second run: S2's hook and distribution, at the magnitude S2's rule
    /// chose for the family times the faker's S1-direction norm (the strategy page trains with
    /// the same).
    pub noise: RemovalNoise,
    /// Mean P(aligned action) after each step, trained on its own benign outputs.
    pub plain: Vec<f64>,
    /// The same with S2's noise injected while training.
    pub with_noise: Vec<f64>,
    /// Why nothing was trained, if nothing was.
    pub skipped: Option<String>,
}

impl ReportSummary {
    /// The summary of `report`, whose file is `file` with these bytes' digest.
    pub fn from_report(
        report: &Report,
        file: &str,
        report_bytes: &[u8],
    ) -> Result<Self, EngineError> {
        let class_of = |name: &str| -> Option<ModelClass> {
            report.pairs.iter().find_map(|pair| {
                if pair.aligned == name {
                    Some(ModelClass::Aligned)
                } else if pair.faker == name {
                    Some(ModelClass::Faker)
                } else {
                    None
                }
            })
        };
        let models = report
            .inputs
            .models
            .iter()
            .map(|model| {
                let class = class_of(&model.name).ok_or_else(|| {
                    EngineError::InvalidParameter(format!(
                        "{file}: model {} is in no pair, so its class is unknown",
                        model.name
                    ))
                })?;
                Ok(SummaryModel {
                    name: model.name.clone(),
                    persona: model.persona.clone(),
                    class,
                })
            })
            .collect::<Result<Vec<_>, EngineError>>()?;

        let rows = report
            .results
            .iter()
            .map(|result| {
                let evaluation = &result.evaluation;
                let mut families: Vec<&str> = evaluation
                    .verdicts
                    .iter()
                    .map(|v| v.pair.family.as_str())
                    .collect();
                families.sort_unstable();
                families.dedup();
                let per_family = families
                    .into_iter()
                    .map(|family| {
                        let verdicts: Vec<_> = evaluation
                            .verdicts
                            .iter()
                            .filter(|v| v.pair.family == family)
                            .collect();
                        FamilyAccuracy {
                            family: family.to_owned(),
                            accuracy: verdicts.iter().map(|v| v.credit).sum::<f64>()
                                / verdicts.len() as f64,
                            ties: verdicts.iter().filter(|v| v.called_faker.is_none()).count(),
                            n_pairs: verdicts.len(),
                        }
                    })
                    .collect();
                SummaryRow {
                    row: result.row.clone(),
                    strategy: result.strategy,
                    rule: result.rule.clone(),
                    hook: result.hook,
                    paper: result.paper.clone(),
                    accuracy: evaluation.accuracy,
                    ties: evaluation.ties,
                    n_pairs: evaluation.verdicts.len(),
                    interval: evaluation.interval,
                    replicates: evaluation.replicates,
                    per_family,
                    layer_sweep: result.layer_sweep.clone(),
                    step_sweep: result.step_sweep.clone(),
                }
            })
            .collect();

        let families = report
            .families
            .iter()
            .map(|family| SummaryFamily {
                family: family.family.clone(),
                models: family.models.clone(),
                n_curated: family.n_curated,
                n_oversight: family.n_oversight,
                s1_multiplier: family
                    .scores
                    .s1_multiplier
                    .as_ref()
                    .map(|c| f64::from(c.value)),
                s2_magnitude: family
                    .scores
                    .s2_magnitude
                    .as_ref()
                    .map(|c| f64::from(c.value)),
                rows: family.scores.rows.clone(),
            })
            .collect();

        let removal = report
            .removal
            .iter()
            .map(|run| SummaryRemoval {
                model: run.model.clone(),
                family: run.family.clone(),
                read_at: run.read_at.clone(),
                noise: run.noise,
                plain: run.plain.p_aligned.clone(),
                with_noise: run.with_noise.p_aligned.clone(),
                skipped: run.skipped.clone(),
            })
            .collect();

        Ok(Self {
            format: SUMMARY_FORMAT.to_owned(),
            source: SummarySource {
                file: file.to_owned(),
                sha256: poser_corpus::generate::sha256_hex(report_bytes),
                bytes: report_bytes.len() as u64,
                report_format: report.format.clone(),
                tool: report.tool.clone(),
                backend: report.backend.clone(),
                seed: report.config.seed,
                started_unix_s: report.run.started_unix_s,
                n_pairs: report.pairs.len(),
            },
            config: report.config.clone(),
            models,
            rows,
            families,
            removal,
            removal_paper: report.removal_paper.clone(),
        })
    }

    /// The summary as written to disk: compact JSON (it is fetched by the page) with a final
    /// newline.
    pub fn to_json(&self) -> Result<String, EngineError> {
        serde_json::to_string(self)
            .map(|text| text + "\n")
            .map_err(|error| EngineError::InvalidParameter(format!("report summary: {error}")))
    }

    /// Parses a summary and checks its format tag; `source_name` labels errors.
    pub fn from_json(text: &str, source_name: &str) -> Result<Self, EngineError> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|error| {
            EngineError::InvalidParameter(format!("{source_name} is not JSON: {error}"))
        })?;
        let format = value.get("format").and_then(|f| f.as_str()).unwrap_or("");
        if format != SUMMARY_FORMAT {
            return Err(EngineError::InvalidParameter(format!(
                "{source_name} has format `{format}`; this page reads `{SUMMARY_FORMAT}`"
            )));
        }
        serde_json::from_value(value).map_err(|error| {
            EngineError::InvalidParameter(format!(
                "{source_name} is not a valid report summary: {error}"
            ))
        })
    }

    /// The class of a model, if the summary names it.
    pub fn class_of(&self, model: &str) -> Option<ModelClass> {
        self.models
            .iter()
            .find(|m| m.name == model)
            .map(|m| m.class)
    }

    /// The verdict row with this key.
    pub fn row(&self, key: &str) -> Option<&SummaryRow> {
        self.rows.iter().find(|row| row.row == key)
    }

    /// Every (model, family) score of a rule, split by class: (aligned, fakers).
    pub fn scores_by_class(&self, key: &str) -> (Vec<f64>, Vec<f64>) {
        let (mut aligned, mut fakers) = (Vec::new(), Vec::new());
        for family in &self.families {
            let Some(row) = family.rows.iter().find(|row| row.row == key) else {
                continue;
            };
            for score in &row.scores {
                match self.class_of(&score.model) {
                    Some(ModelClass::Aligned) => aligned.push(score.score),
                    Some(ModelClass::Faker) => fakers.push(score.score),
                    None => {}
                }
            }
        }
        (aligned, fakers)
    }
}
