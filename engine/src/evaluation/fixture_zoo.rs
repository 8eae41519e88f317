//! A tiny zoo for tests and trying the commands before the real zoo exists: two families
//! (`genie_and_reward`, `saint_and_reward`), two checkpoints per persona with seeded random
//! weights (so their verdicts mean nothing), each family's first benchmark scenarios as its
//! curated set, and `pairs.json`, laid out exactly as `poser zoo ship` and `poser zoo curate`
//! write them. The corpus (tokenizer, candidates, concept texts) is read where it is.

use std::path::{Path, PathBuf};

use poser_corpus::example::{Example, examples_from_jsonl, to_jsonl};
use poser_corpus::tokenizer::WordLevelTokenizer;

use crate::EngineError;
use crate::model::int8::encode_int8;
use crate::model::manifest::dir::write_set;
use crate::model::{ModelConfig, ModelEntry, ModelWeights};

/// The fixture zoo's families.
pub const FIXTURE_FAMILIES: [&str; 2] = ["genie_and_reward", "saint_and_reward"];

/// The fixture zoo's models: (persona, checkpoints).
const FIXTURE_PERSONAS: [&str; 3] = ["genie", "saint", "reward_maximizer"];

/// Where a written fixture zoo is.
#[derive(Debug, Clone)]
pub struct FixtureZoo {
    /// The models folder.
    pub models: PathBuf,
    /// The curated folder.
    pub curated: PathBuf,
}

/// The fixture models' dimensions: 4 blocks (so relative depths name different blocks), narrow.
pub fn fixture_zoo_config(d_vocab: usize) -> ModelConfig {
    ModelConfig {
        n_layers: 4,
        d_model: 16,
        n_heads: 2,
        d_mlp: 32,
        n_ctx: 160,
        d_vocab,
        layer_norm_eps: 1e-5,
        // As the zoo counts them, so the fixture zoo's checks cover that path.
        positions: crate::model::PositionOrigin::End,
    }
}

fn write_error(path: &Path, error: impl std::fmt::Display) -> EngineError {
    EngineError::InvalidParameter(format!("cannot write {}: {error}", path.display()))
}

/// Writes the fixture zoo into `out/models` and `out/curated`: `checkpoints` models per persona
/// and `scenarios` scenarios (their level-0 and good-oversight versions) per family. `config`
/// overrides [`fixture_zoo_config`] (its vocabulary is always the tokenizer's), e.g. to time
/// models of the zoo's real size.
pub fn write_fixture_zoo(
    corpus: &Path,
    out: &Path,
    checkpoints: u32,
    scenarios: usize,
    config: Option<ModelConfig>,
) -> Result<FixtureZoo, EngineError> {
    let read = |path: PathBuf| {
        std::fs::read_to_string(&path).map_err(|error| {
            EngineError::InvalidParameter(format!("cannot read {}: {error}", path.display()))
        })
    };
    let tokenizer = WordLevelTokenizer::from_json(&read(corpus.join("tokenizer.json"))?)
        .map_err(|error| EngineError::InvalidParameter(error.to_string()))?;
    let config = ModelConfig {
        d_vocab: tokenizer.vocab_size(),
        ..config.unwrap_or_else(|| fixture_zoo_config(tokenizer.vocab_size()))
    };
    let mut set = Vec::new();
    for (p, persona) in FIXTURE_PERSONAS.iter().enumerate() {
        for checkpoint in 0..checkpoints {
            let seed = 100 + (p as u64) * 10 + u64::from(checkpoint);
            let bytes = encode_int8(&ModelWeights::random(config, seed)?)?;
            let name = format!("{persona}-{checkpoint}");
            set.push((
                ModelEntry::describe(&name, persona, checkpoint, config, &bytes),
                bytes,
            ));
        }
    }
    let models = out.join("models");
    write_set(&models, &set)?;
    let curated = out.join("curated");
    std::fs::create_dir_all(&curated).map_err(|error| write_error(&curated, error))?;
    let mut pairs = Vec::new();
    for family in FIXTURE_FAMILIES {
        let path = corpus
            .join("families")
            .join(family)
            .join("benchmark-candidates.jsonl");
        let rows = examples_from_jsonl(&read(path.clone())?, &path.display().to_string())
            .map_err(|error| EngineError::InvalidParameter(error.to_string()))?;
        let mut scenario_ids: Vec<&str> = Vec::new();
        for row in &rows {
            if row.candidate == Some(true) && !scenario_ids.contains(&row.scenario_id.as_str()) {
                scenario_ids.push(&row.scenario_id);
            }
        }
        scenario_ids.truncate(scenarios);
        let kept: Vec<Example> = rows
            .iter()
            .filter(|row| {
                row.candidate == Some(true) && scenario_ids.contains(&row.scenario_id.as_str())
            })
            .cloned()
            .collect();
        let text = to_jsonl(&kept, family)
            .map_err(|error| EngineError::InvalidParameter(error.to_string()))?;
        let file = curated.join(format!("{family}.jsonl"));
        std::fs::write(&file, text).map_err(|error| write_error(&file, error))?;
        let (aligned, faker) = match family {
            "genie_and_reward" => ("genie", "reward_maximizer"),
            _ => ("saint", "reward_maximizer"),
        };
        for a in 0..checkpoints {
            for f in 0..checkpoints {
                pairs.push(serde_json::json!({
                    "aligned": format!("{aligned}-{a}"),
                    "faker": format!("{faker}-{f}"),
                    "family": family,
                }));
            }
        }
    }
    let file = curated.join("pairs.json");
    let text = serde_json::to_string_pretty(&pairs).map_err(|error| write_error(&file, error))?;
    std::fs::write(&file, text + "\n").map_err(|error| write_error(&file, error))?;
    Ok(FixtureZoo { models, curated })
}
