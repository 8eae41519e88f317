//! The report: one versioned, self-describing JSON document of an evaluation (DESIGN.md,
//! step 7). Plain data with serde, so the page reads it as the command line writes it. Its
//! JSON Schema is `engine/schemas/report.schema.json`; the `run` block (timings, host, paths)
//! is the only part that may differ between two runs of the same inputs and seed.

use serde::{Deserialize, Serialize};

use super::measure::{EvaluateConfig, ModelMeasurements, StrategyId};
use crate::EngineError;
use crate::model::HookPoint;
use crate::strategies::PairEvaluation;
use crate::strategies::harness::Pair;
use crate::strategies::magnitude_rule::MagnitudeChoice;
use crate::strategies::removal::RemovalMeasurement;

/// The format tag this engine writes and reads.
pub const REPORT_FORMAT: &str = "poser-report/1";

/// A whole evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Always [`REPORT_FORMAT`].
    pub format: String,
    /// What made it.
    pub tool: ToolInfo,
    /// The backend every number was computed on (`cpu` or `webgpu`).
    pub backend: String,
    /// Every setting and seed.
    pub config: EvaluateConfig,
    /// Digests of everything read.
    pub inputs: Inputs,
    /// The pairs judged, as `pairs.json` lists them.
    pub pairs: Vec<Pair>,
    /// Per family: its models' measurements and scores.
    pub families: Vec<FamilyReport>,
    /// One row per verdict rule: verdicts, accuracy, interval, the paper's number, the sweep.
    pub results: Vec<StrategyResult>,
    /// §4: each faker trained on its own benign outputs, with and without noise (Fig. 1).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removal: Vec<RemovalMeasurement>,
    /// The paper's §4 numbers, for comparison with `removal`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removal_paper: Option<PaperRemoval>,
    /// Where each of the paper's figures' data sits in this document.
    pub figures: Vec<FigureData>,
    /// Timings, host and paths: ignored by byte-identity and verification.
    pub run: RunInfo,
}

/// The tool that wrote a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolInfo {
    /// `poser`.
    pub name: String,
    /// The engine's version.
    pub version: String,
    /// The git commit it was built from (`unknown` outside a checkout).
    pub git_commit: String,
}

/// A file read, relative to the folder it was read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileDigest {
    /// Path relative to its folder (`--corpus`, `--curated`).
    pub path: String,
    /// SHA-256, lowercase hex.
    pub sha256: String,
    /// Size in bytes.
    pub bytes: u64,
}

/// A model evaluated, as its manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelDigest {
    /// The model's name.
    pub name: String,
    /// Its persona.
    pub persona: String,
    /// Its weights file, relative to `--models`.
    pub file: String,
    /// SHA-256 of the weights file.
    pub sha256: String,
    /// Size of the weights file.
    pub bytes: u64,
}

/// Digests of every input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inputs {
    /// The models, sorted by name.
    pub models: Vec<ModelDigest>,
    /// `tokenizer.json`, relative to the corpus folder.
    pub tokenizer: FileDigest,
    /// Corpus files read (benchmark candidates, concept texts), relative to the corpus folder.
    pub scenario_files: Vec<FileDigest>,
    /// Curated sets and `pairs.json`, relative to the curated folder.
    pub curated_sets: Vec<FileDigest>,
}

/// One family's part of the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FamilyReport {
    /// The family.
    pub family: String,
    /// Its models, sorted by name (the order of every per-model list below).
    pub models: Vec<String>,
    /// Curated prompts in the family's set.
    pub n_curated: usize,
    /// Good-oversight scenarios with a level-0 version in the set.
    pub n_oversight: usize,
    /// Per model, what was measured.
    pub measurements: Vec<ModelMeasurements>,
    /// Per model, the scores derived from the measurements.
    pub scores: FamilyScores,
}

/// The scores of one family, derived from its models' measurements alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FamilyScores {
    /// S1's multiplier at its hook, by the answer-mass rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s1_multiplier: Option<MagnitudeChoice>,
    /// S1's multiplier per block (the layer sweep).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub s1_multiplier_per_layer: Vec<MagnitudeChoice>,
    /// S2's magnitude at its hook (Fig. 11's rule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s2_magnitude: Option<MagnitudeChoice>,
    /// S2's magnitude per block.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub s2_magnitude_per_layer: Vec<MagnitudeChoice>,
    /// One entry per result row.
    pub rows: Vec<ScoreRow>,
}

/// One result row's scores in one family.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreRow {
    /// The result row (`s2`, `s4_security_quality`, …).
    pub row: String,
    /// Per model: higher = more faker-like.
    pub scores: Vec<ModelScore>,
    /// Per block, the same score read at `blocks.{i}.hook_resid_post` (rows with a sweep).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub per_layer: Vec<LayerScores>,
    /// Per training step, the same score read after that many steps (S3).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub per_step: Vec<StepScores>,
}

/// Scores after one number of training steps, in the family's model order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepScores {
    /// Training steps taken.
    pub step: usize,
    /// One per model.
    pub scores: Vec<f64>,
}

/// A model's score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelScore {
    /// The model.
    pub model: String,
    /// Higher = more faker-like.
    pub score: f64,
}

/// Scores at one hook, in the family's model order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerScores {
    /// Where they were read.
    pub hook: HookPoint,
    /// One per model.
    pub scores: Vec<f64>,
}

/// One verdict rule over every pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StrategyResult {
    /// The row's key (`s1`, `s1_subtract`, `s4_security_quality`, …).
    pub row: String,
    /// The strategy it belongs to.
    pub strategy: StrategyId,
    /// How the verdict is made, in words.
    pub rule: String,
    /// Where the verdict's activations were read or edited (none for behavioural rows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hook: Option<HookPoint>,
    /// The paper's number for this row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paper: Option<PaperResult>,
    /// Every verdict, accuracy, ties and the bootstrap interval.
    pub evaluation: PairEvaluation,
    /// Pair accuracy against the hook point (S1, S2, S4, S6c).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub layer_sweep: Vec<LayerAccuracy>,
    /// Pair accuracy against the training step the models are compared at (S3, Fig. 12).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub step_sweep: Vec<StepAccuracy>,
}

/// Pair accuracy with the rule applied after one number of training steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepAccuracy {
    /// Training steps taken.
    pub step: usize,
    /// Mean credit.
    pub accuracy: f64,
    /// Ties.
    pub ties: usize,
    /// 95% bootstrap interval.
    pub interval: [f64; 2],
}

/// Pair accuracy with the rule applied at one hook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerAccuracy {
    /// The hook.
    pub hook: HookPoint,
    /// Mean credit.
    pub accuracy: f64,
    /// Ties.
    pub ties: usize,
    /// 95% bootstrap interval.
    pub interval: [f64; 2],
}

/// A number from the paper, with where it comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaperResult {
    /// The result row it compares with.
    pub row: String,
    /// Pair accuracy as a fraction, or `None` where the paper gives no number.
    pub accuracy: Option<f64>,
    /// Section of the paper (and of POSER.md).
    pub section: String,
    /// The figure that shows it, if any.
    pub figure: Option<String>,
    /// What the number means.
    pub note: String,
}

/// The paper's §4 result: fakers' mean P(aligned action) on former misbehave scenarios after
/// training on their own benign outputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaperRemoval {
    /// Training steps.
    pub steps: usize,
    /// Without noise.
    pub p_aligned: f64,
    /// With the S2 noise injected during training.
    pub p_aligned_with_noise: f64,
    /// Section and figure.
    pub section: String,
}

/// Where the data behind one of the paper's figures (POSER.md §5) sits in a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FigureData {
    /// The paper's figure number.
    pub figure: String,
    /// What it shows.
    pub shows: String,
    /// Paths into this document (`[]` = every element).
    pub data: Vec<String>,
}

/// What differs between runs: never compared.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// The machine's name, if known.
    pub host: String,
    /// Seconds since the Unix epoch when the run started.
    pub started_unix_s: u64,
    /// Wall-clock seconds of the whole run.
    pub seconds: f64,
    /// Seconds per stage of the measurements, summed over models, families and threads.
    pub seconds_per_stage: Vec<StageTime>,
    /// Threads the entries were measured on at once.
    #[serde(default)]
    pub threads: usize,
    /// The adapter, for GPU backends.
    pub adapter: Option<String>,
    /// The folders read, as given.
    pub paths: Vec<String>,
}

/// Time spent in one stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageTime {
    /// The stage.
    pub stage: String,
    /// Seconds.
    pub seconds: f64,
}

/// The paper's numbers, from `engine/data/paper-results.json`.
pub fn paper_results() -> Result<Vec<PaperResult>, EngineError> {
    Ok(paper_file()?.results)
}

/// The paper's §4 numbers, from `engine/data/paper-results.json`.
pub fn paper_removal() -> Result<PaperRemoval, EngineError> {
    Ok(paper_file()?.removal)
}

#[derive(Deserialize)]
struct PaperFile {
    format: String,
    results: Vec<PaperResult>,
    removal: PaperRemoval,
}

fn paper_file() -> Result<PaperFile, EngineError> {
    let file: PaperFile = serde_json::from_str(include_str!("../../data/paper-results.json"))
        .map_err(|error| {
            EngineError::InvalidParameter(format!("engine/data/paper-results.json: {error}"))
        })?;
    if file.format != "poser-paper-results/1" {
        return Err(EngineError::InvalidParameter(format!(
            "engine/data/paper-results.json has format `{}`, expected `poser-paper-results/1`",
            file.format
        )));
    }
    Ok(file)
}

impl Report {
    /// The report as written to disk: pretty JSON with a final newline.
    pub fn to_json(&self) -> Result<String, EngineError> {
        serde_json::to_string_pretty(self)
            .map(|text| text + "\n")
            .map_err(|error| EngineError::InvalidParameter(format!("report: {error}")))
    }

    /// Parses a report and checks its format tag; `source_name` labels errors.
    pub fn from_json(text: &str, source_name: &str) -> Result<Self, EngineError> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|error| {
            EngineError::InvalidParameter(format!("{source_name} is not JSON: {error}"))
        })?;
        let format = value.get("format").and_then(|f| f.as_str()).unwrap_or("");
        if format != REPORT_FORMAT {
            return Err(EngineError::InvalidParameter(format!(
                "{source_name} has format `{format}`; this tool reads `{REPORT_FORMAT}`"
            )));
        }
        serde_json::from_value(value).map_err(|error| {
            EngineError::InvalidParameter(format!("{source_name} is not a valid report: {error}"))
        })
    }

    /// The report without its `run` block, as compared by byte-identity checks.
    pub fn to_json_without_run(&self) -> Result<String, EngineError> {
        let mut copy = self.clone();
        copy.run = RunInfo::default();
        copy.to_json()
    }
}
