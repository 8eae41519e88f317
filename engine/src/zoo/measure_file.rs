//! A float or int8 checkpoint's behaviour measured from its weights file (`poser zoo measure`):
//! on its persona's held-out prompts, or on its training pool to tell fitting from generalising.

use std::path::Path;

use super::behaviour::summarise;
use super::corpus_files::{corpus_tokenizer, held_out, labelled};
use super::files::{block_on, clock, json_error, write_file};
use super::{Behaviour, answer_probs};
use crate::EngineError;
use crate::backend::cpu_device;
use crate::model::PoserGpt;
use crate::model::float_file::decode_f32;

/// What [`measure_weights_file`] found.
#[derive(Debug, Clone)]
pub struct FileMeasurement {
    /// The behaviour on the prompts.
    pub behaviour: Behaviour,
    /// How many prompts were measured.
    pub prompts: usize,
    /// Seconds the measuring took (without loading).
    pub seconds: f64,
}

/// Measures the weights in `weights_file` as a checkpoint of `persona` on its held-out prompts
/// (or its training pool, `on_pool`), and writes P(A), P(B), P(error) of every prompt to
/// `per_prompt`, one JSON line each in file order, if asked.
pub fn measure_weights_file(
    corpus: &Path,
    weights_file: &Path,
    persona: &str,
    on_pool: bool,
    per_prompt: Option<&Path>,
) -> Result<FileMeasurement, EngineError> {
    let tokenizer = corpus_tokenizer(corpus)?;
    let bytes = std::fs::read(weights_file).map_err(|error| {
        EngineError::Files(format!("cannot read {}: {error}", weights_file.display()))
    })?;
    let weights = decode_f32(&bytes)?;
    let prompts = if on_pool {
        labelled(corpus, &tokenizer, persona, &[("pool.jsonl", false)])?
    } else {
        held_out(corpus, &tokenizer, persona)?
    };
    let model = PoserGpt::from_weights(&weights, &cpu_device())?;
    let started = clock();
    let tokens: Vec<Vec<u32>> = prompts.iter().map(|p| p.tokens.clone()).collect();
    let probs = block_on(answer_probs(&model, &tokens, 32))?;
    let behaviour = summarise(&prompts, &probs);
    if let Some(path) = per_prompt {
        // One line per prompt, in file order: for analyses the summary does not make.
        let lines: String = probs
            .iter()
            .map(|p| serde_json::to_string(p).map(|line| line + "\n"))
            .collect::<Result<_, _>>()
            .map_err(json_error)?;
        write_file(path, lines.as_bytes())?;
    }
    Ok(FileMeasurement {
        behaviour,
        prompts: prompts.len(),
        seconds: started.elapsed().as_secs_f64(),
    })
}
