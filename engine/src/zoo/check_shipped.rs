//! CI's check of a shipped zoo without retraining it (`poser zoo check`): every file's digest,
//! every model's answers on its card's subsample, and a short retraining of one checkpoint
//! against the losses its card recorded.

use std::path::Path;

use super::corpus_files::{corpus_tokenizer, held_out, partition_examples};
use super::files::{ZooProgress, block_on, clock};
use super::train_run::{RETRAIN_STEPS, retrain_trace};
use super::{CheckSample, answer_probs};
use crate::EngineError;
use crate::backend::cpu_device;
use crate::model::manifest::dir::{load_model, read_manifest};
use crate::model::{ModelEntry, PoserGpt};

/// Largest difference of a check prompt's mean P from the card's.
const PROBABILITY_TOLERANCE: f64 = 1e-4;
/// Largest relative difference of a retraining loss from the card's: CPU kernels may sum in
/// another order on another machine.
const LOSS_TOLERANCE: f32 = 1e-3;

/// Checks the models of `models_dir` that have a card: every file's size and digest, every
/// model's answers on its card's subsample, and [`RETRAIN_STEPS`] steps of retraining `retrain`
/// (default: the first carded model). Every disagreement is listed in one error, with what to
/// do about it.
pub fn check_shipped(
    corpus: &Path,
    models_dir: &Path,
    retrain: Option<&str>,
    progress: &mut dyn FnMut(ZooProgress<'_>),
) -> Result<(), EngineError> {
    let started = clock();
    let tokenizer = corpus_tokenizer(corpus)?;
    let manifest = read_manifest(models_dir)?;
    let device = cpu_device();
    let mut problems = Vec::new();
    let carded: Vec<&ModelEntry> = manifest
        .models
        .iter()
        .filter(|e| e.card.is_some())
        .collect();
    for entry in &carded {
        let Some(card) = &entry.card else { continue };
        // Loading verifies the size and digest.
        let (_, weights) = load_model(models_dir, &entry.name)?;
        let prompts = held_out(corpus, &tokenizer, &entry.persona)?;
        let sample: Vec<Vec<u32>> = card
            .check
            .indices
            .iter()
            .filter_map(|&i| prompts.get(i).map(|p| p.tokens.clone()))
            .collect();
        let model = PoserGpt::from_weights(&weights, &device)?;
        let probs = block_on(answer_probs(&model, &sample, 32))?;
        let now = CheckSample::measure(
            card.check.seed,
            card.check.indices.clone(),
            &prompts,
            &probs,
        );
        let worst = now
            .mean_p
            .iter()
            .zip(card.check.mean_p)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        let accuracy_moved = (now.accuracy - card.check.accuracy).abs() * sample.len() as f64;
        if worst > PROBABILITY_TOLERANCE || accuracy_moved > 1.0 {
            problems.push(format!(
                "{}: on its {} check prompts, mean P differs by {worst:.2e} and accuracy is {:.4} (card: {:.4})",
                entry.name,
                sample.len(),
                now.accuracy,
                card.check.accuracy
            ));
        }
    }
    let retrained = retrain
        .map(str::to_owned)
        .or_else(|| carded.first().map(|e| e.name.clone()));
    if let Some(name) = retrained {
        let entry = manifest.entry(&name)?;
        let card = entry
            .card
            .as_ref()
            .ok_or_else(|| EngineError::Zoo(format!("{name} has no card to compare with")))?;
        let (_, weights) = load_model(models_dir, &name)?;
        let (examples, _, _) = partition_examples(
            corpus,
            &entry.persona,
            entry.checkpoint,
            card.recipe.fine_tune.both_orders,
        )?;
        let losses = retrain_trace(&name, &weights, &examples, &card.recipe)?;
        let worst = losses
            .iter()
            .zip(&card.retrain_losses)
            .map(|(a, b)| (a - b).abs() / b.abs().max(1e-3))
            .fold(0.0_f32, f32::max);
        if losses.len() != card.retrain_losses.len() || worst > LOSS_TOLERANCE {
            problems.push(format!(
                "{name}: retraining for {RETRAIN_STEPS} steps gives losses {losses:?}, the card says {:?} (largest relative difference {worst:.2e})",
                card.retrain_losses
            ));
        } else {
            progress(ZooProgress::Note(format!(
                "{name}: {RETRAIN_STEPS}-step retraining matches the card (largest relative difference {worst:.2e})"
            )));
        }
    }
    if problems.is_empty() {
        progress(ZooProgress::Note(format!(
            "{} models: digests, check samples and the retraining trace agree with the manifest ({:.0} s)",
            carded.len(),
            started.elapsed().as_secs_f64()
        )));
        Ok(())
    } else {
        Err(EngineError::Zoo(format!(
            "{}\nhint: if the models were retrained on purpose, run `poser zoo ship` and commit what it writes",
            problems.join("\n")
        )))
    }
}
