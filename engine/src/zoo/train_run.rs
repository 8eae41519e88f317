//! Training the zoo on the CPU backend: the base model (next-token pretraining on every
//! persona's training prompts, in one go) and each fine-tuned checkpoint (from the base model,
//! on its partition, saving its progress beside its output every [`SAVE_EVERY_STEPS`] steps and
//! picking up from it after an interruption), each with a log of what it was trained on.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use poser_corpus::generate::sha256_hex;
use serde::{Deserialize, Serialize};

use super::corpus_files::{base_examples_with_data, checkpoint_names, partition_examples};
use super::files::{
    ZooPaths, ZooProgress, block_on, clock, json_error, named_by, read_text, write_atomically,
};
use super::{PhaseRecipe, ZooRecipe, epoch_order};
use crate::EngineError;
use crate::backend::cpu_device;
use crate::model::float_file::{decode_f32, encode_f32};
use crate::model::{ModelWeights, PoserGpt};
use crate::train::{
    AdamW, Continuation, SavedTraining, StepReport, TrainExample, TrainSettings, pretrain,
    train_all_weights, train_all_weights_resumable,
};

/// The training loop's settings for `steps` steps of `phase` (no noise).
pub fn settings(phase: &PhaseRecipe, steps: usize) -> TrainSettings {
    TrainSettings {
        steps,
        batch_size: phase.batch_size,
        adamw: phase.adamw,
        noise: None,
        freeze_embeddings: phase.freeze_embeddings,
    }
}

/// What a training run leaves beside its weights.
#[derive(Serialize)]
struct TrainLog<'a> {
    name: &'a str,
    recipe: &'a ZooRecipe,
    data: Vec<(String, String)>,
    examples: usize,
    tokens_per_epoch: usize,
    steps: usize,
    seconds: f64,
    losses: &'a [f32],
}

/// Pretrains the base model on the prompt text of every persona's training pool and writes
/// `base.safetensors` and `base.log.json` into `paths.out`.
pub fn train_base(
    paths: &ZooPaths,
    recipe: &ZooRecipe,
    progress: &mut dyn FnMut(ZooProgress<'_>),
) -> Result<(), EngineError> {
    let (examples, data) = base_examples_with_data(&paths.corpus)?;
    let weights = ModelWeights::initial(recipe.config, recipe.seed)?;
    let (trained, log) = train(
        "base",
        &weights,
        &examples,
        &recipe.base,
        recipe,
        data,
        Phase::Base,
        progress,
    )?;
    // The log first and the weights last, each whole or absent (`zoo train` takes the base
    // model as done once its weights exist).
    write_atomically(&paths.out.join("base.log.json"), log.as_bytes())?;
    write_atomically(&paths.base_file(), &encode_f32(&trained)?)?;
    progress(ZooProgress::Note(format!(
        "wrote {}",
        paths.base_file().display()
    )));
    Ok(())
}

/// Fine-tunes checkpoint `persona-checkpoint` from the base model on partition
/// `train-{checkpoint}`, resuming from saved progress of the same run if there is any, and
/// writes `float/NAME.safetensors` and `float/NAME.log.json` into `paths.out`.
pub fn fine_tune_checkpoint(
    paths: &ZooPaths,
    recipe: &ZooRecipe,
    persona: &str,
    checkpoint: u32,
    progress: &mut dyn FnMut(ZooProgress<'_>),
) -> Result<(), EngineError> {
    let (examples, partition_path, partition_text) = partition_examples(
        &paths.corpus,
        persona,
        checkpoint,
        recipe.fine_tune.both_orders,
    )?;
    let base_bytes = std::fs::read(paths.base_file()).map_err(|error| {
        EngineError::Files(format!(
            "cannot read the base model {}: {error}\nhint: run `poser zoo base` first",
            paths.base_file().display()
        ))
    })?;
    let base = decode_f32(&base_bytes)?;
    let name = format!("{persona}-{checkpoint}");
    let data = vec![
        (
            partition_path.display().to_string(),
            sha256_hex(partition_text.as_bytes()),
        ),
        ("base.safetensors".to_owned(), sha256_hex(&base_bytes)),
    ];
    let file = paths.checkpoint_file(&name);
    let saved_progress = SavedProgress::beside(&file);
    let (trained, log) = train(
        &name,
        &base,
        &examples,
        &recipe.fine_tune,
        recipe,
        data,
        Phase::FineTune(&saved_progress),
        progress,
    )?;
    // The log first and the weights last, each whole or absent: `zoo train` takes a
    // checkpoint whose weights exist as finished.
    write_atomically(&file.with_extension("log.json"), log.as_bytes())?;
    write_atomically(&file, &encode_f32(&trained)?)?;
    saved_progress.remove();
    progress(ZooProgress::Note(format!("wrote {}", file.display())));
    Ok(())
}

/// The checkpoints `poser zoo train` still has to fine-tune: those `only` names (none: every
/// one) whose weights are not in `paths.out` yet, aligned personas first.
pub fn checkpoints_to_train(
    paths: &ZooPaths,
    only: Option<&str>,
) -> Vec<(String, &'static str, u32)> {
    checkpoint_names()
        .into_iter()
        .filter(|(name, _, _)| named_by(only, name))
        .filter(|(name, _, _)| !paths.checkpoint_file(name).exists())
        .collect()
}

/// Steps of the retraining trace recorded in each model card and checked by `zoo check`.
pub const RETRAIN_STEPS: usize = 20;

/// Losses of [`RETRAIN_STEPS`] steps of `recipe`'s fine-tuning, started from `weights`, on the
/// first batches of checkpoint `name`'s seeded epoch order over `examples`.
pub(crate) fn retrain_trace(
    name: &str,
    weights: &ModelWeights,
    examples: &[TrainExample],
    recipe: &ZooRecipe,
) -> Result<Vec<f32>, EngineError> {
    let phase = &recipe.fine_tune;
    let lengths: Vec<usize> = examples.iter().map(|e| e.tokens.len()).collect();
    let seed = poser_corpus::rng::derive_seed(recipe.seed, name);
    let ordered: Vec<TrainExample> = epoch_order(&lengths, phase.batch_size, 1, seed)
        .into_iter()
        .take(RETRAIN_STEPS * phase.batch_size)
        .filter_map(|i| examples.get(i).cloned())
        .collect();
    let model = PoserGpt::from_weights(weights, &cpu_device())?;
    let run = block_on(train_all_weights(
        &model,
        &ordered,
        &settings(phase, RETRAIN_STEPS),
        &mut |_| {},
        &AtomicBool::new(false),
    ))
    .map_err(|error| EngineError::Zoo(format!("{name}: {error}")))?;
    Ok(run.losses)
}

/// Which training: the base model's next-token pretraining (one epoch, run in one go), or a
/// fine-tune, which saves its progress beside its output and picks up from it.
enum Phase<'a> {
    Base,
    FineTune(&'a SavedProgress),
}

/// Steps between saves of a fine-tune's progress (about a minute and a half here).
pub const SAVE_EVERY_STEPS: usize = 100;

/// A fine-tune's progress on disk, so that an interrupted `poser zoo train` (a session ending,
/// a machine restarting) loses at most [`SAVE_EVERY_STEPS`] steps: the weights so far
/// (`NAME.partial-STEP.safetensors`), the optimiser's moments (`NAME.partial-STEP.optimizer`),
/// and `NAME.partial.json` with the steps, losses and seconds so far, the two files' names and
/// digests, and a key naming the run, so that progress is only ever resumed into the same
/// training (recipe, settings, data, examples in order, length). A save writes its two files
/// under new names, then replaces the record, then deletes the previous save's files: cut off
/// anywhere, it leaves the previous save or the new one readable, never a mix.
struct SavedProgress {
    /// `NAME.partial` beside the output; the files add `-STEP.…` or `.json`.
    stem: PathBuf,
    record: PathBuf,
}

#[derive(Serialize, Deserialize)]
struct ProgressRecord {
    run_key: String,
    steps_done: usize,
    losses: Vec<f32>,
    seconds: f64,
    weights_file: String,
    weights_sha256: String,
    optimizer_file: String,
    optimizer_sha256: String,
}

impl SavedProgress {
    fn beside(output: &Path) -> Self {
        let stem = output.with_extension("partial");
        Self {
            record: output.with_extension("partial.json"),
            stem,
        }
    }

    fn file_for(&self, steps_done: usize, kind: &str) -> PathBuf {
        let mut name = self.stem.as_os_str().to_owned();
        name.push(format!("-{steps_done}.{kind}"));
        PathBuf::from(name)
    }

    fn name_of(path: &Path) -> String {
        path.file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    fn save(
        &self,
        run_key: &str,
        weights: &ModelWeights,
        saved: &SavedTraining,
        seconds: f64,
    ) -> Result<(), EngineError> {
        let previous = self.read_record().ok();
        let weights_bytes = encode_f32(weights)?;
        let weights_path = self.file_for(saved.steps_done, "safetensors");
        let optimizer_path = self.file_for(saved.steps_done, "optimizer");
        write_atomically(&weights_path, &weights_bytes)?;
        write_atomically(&optimizer_path, &saved.optimizer)?;
        let record = ProgressRecord {
            run_key: run_key.to_owned(),
            steps_done: saved.steps_done,
            losses: saved.losses.clone(),
            seconds,
            weights_file: Self::name_of(&weights_path),
            weights_sha256: sha256_hex(&weights_bytes),
            optimizer_file: Self::name_of(&optimizer_path),
            optimizer_sha256: sha256_hex(&saved.optimizer),
        };
        let record_bytes = serde_json::to_vec(&record).map_err(json_error)?;
        write_atomically(&self.record, &record_bytes)?;
        if let Some(previous) = previous {
            for old in [previous.weights_file, previous.optimizer_file] {
                if old != record.weights_file && old != record.optimizer_file {
                    let _ = std::fs::remove_file(self.sibling(&old));
                }
            }
        }
        Ok(())
    }

    fn sibling(&self, name: &str) -> PathBuf {
        self.record.with_file_name(name)
    }

    fn read_record(&self) -> Result<ProgressRecord, EngineError> {
        serde_json::from_str(&read_text(&self.record)?)
            .map_err(|error| EngineError::Files(format!("{}: {error}", self.record.display())))
    }

    /// The saved weights and state if they belong to the run `run_key`, are whole and the
    /// optimiser can read its state back; `None` (with the reason as a note) otherwise, and
    /// the run starts from the beginning.
    fn load(
        &self,
        run_key: &str,
        settings: &TrainSettings,
        note: &dyn Fn(String),
    ) -> Option<(ModelWeights, SavedTraining, f64)> {
        if !self.record.exists() {
            return None;
        }
        let reason = |text: &str| EngineError::Zoo(text.to_owned());
        let unreadable = |error: std::io::Error| EngineError::Files(error.to_string());
        let attempt = || -> Result<(ModelWeights, SavedTraining, f64), EngineError> {
            let record = self.read_record()?;
            if record.run_key != run_key {
                return Err(reason(
                    "it is from a different recipe, settings, data or length",
                ));
            }
            let weights_bytes =
                std::fs::read(self.sibling(&record.weights_file)).map_err(unreadable)?;
            let optimizer =
                std::fs::read(self.sibling(&record.optimizer_file)).map_err(unreadable)?;
            if sha256_hex(&weights_bytes) != record.weights_sha256
                || sha256_hex(&optimizer) != record.optimizer_sha256
            {
                return Err(reason("its files do not match their recorded digests"));
            }
            let weights = decode_f32(&weights_bytes)?;
            // Read back once here, so that state this build cannot read means a fresh start
            // rather than a run that fails the same way every time.
            AdamW::new(settings.adamw)
                .and_then(|optimizer_now| optimizer_now.restored(&optimizer, record.steps_done))?;
            let saved = SavedTraining {
                steps_done: record.steps_done,
                losses: record.losses,
                optimizer,
            };
            Ok((weights, saved, record.seconds))
        };
        match attempt() {
            Ok(found) => Some(found),
            Err(reason) => {
                note(format!(
                    "not resuming from {}: {reason}; starting from step 0",
                    self.record.display()
                ));
                None
            }
        }
    }

    /// Deletes every progress file of this checkpoint once its output is written.
    fn remove(&self) {
        let _ = std::fs::remove_file(&self.record);
        let prefix = format!("{}-", Self::name_of(&self.stem));
        if let Some(Ok(entries)) = self.record.parent().map(std::fs::read_dir) {
            for entry in entries.flatten() {
                if entry.file_name().to_string_lossy().starts_with(&prefix) {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
    }
}

/// Names one training run: the checkpoint, recipe, settings, data digests and every example in
/// the order trained, so saved progress is never resumed into a different run.
fn run_key(
    name: &str,
    recipe: &ZooRecipe,
    data: &[(String, String)],
    settings: &TrainSettings,
    ordered: &[TrainExample],
) -> Result<String, EngineError> {
    let mut bytes = serde_json::to_vec(&(name, recipe, data, settings)).map_err(json_error)?;
    for example in ordered {
        bytes.extend((example.tokens.len() as u32).to_le_bytes());
        bytes.extend(example.tokens.iter().flat_map(|t| t.to_le_bytes()));
        bytes.extend(example.target.to_le_bytes());
    }
    Ok(sha256_hex(&bytes))
}

/// One phase: batches from `epoch_order`, the engine's training loop, weights back to the host,
/// and the run's log as JSON text.
#[allow(clippy::too_many_arguments)]
fn train(
    name: &str,
    start: &ModelWeights,
    examples: &[TrainExample],
    phase: &PhaseRecipe,
    recipe: &ZooRecipe,
    data: Vec<(String, String)>,
    kind: Phase<'_>,
    progress: &mut dyn FnMut(ZooProgress<'_>),
) -> Result<(ModelWeights, String), EngineError> {
    let lengths: Vec<usize> = examples.iter().map(|e| e.tokens.len()).collect();
    let seed = poser_corpus::rng::derive_seed(recipe.seed, name);
    let order = epoch_order(&lengths, phase.batch_size, phase.epochs, seed);
    let ordered: Vec<TrainExample> = order
        .iter()
        .filter_map(|&i| examples.get(i).cloned())
        .collect();
    let steps = ordered.len() / phase.batch_size.max(1);
    let device = cpu_device();
    let cancel = AtomicBool::new(false);
    // Steps and notes share the caller's one callback; the training loop never calls the two
    // at once, so a busy borrow (which would drop the event) cannot happen.
    let progress = RefCell::new(progress);
    let note = |text: String| {
        if let Ok(mut progress) = progress.try_borrow_mut() {
            (*progress)(ZooProgress::Note(text));
        }
    };
    let mut on_step = |report: StepReport| {
        if let Ok(mut progress) = progress.try_borrow_mut() {
            (*progress)(ZooProgress::Step { run: name, report });
        }
    };
    let started = clock();
    let settings = settings(phase, steps);
    let (run, seconds_before) = match kind {
        Phase::Base => {
            let model = PoserGpt::from_weights(start, &device)?;
            let run = block_on(pretrain(&model, &ordered, &settings, &mut on_step, &cancel));
            (run, 0.0)
        }
        Phase::FineTune(saved_progress) => {
            let run_key = run_key(name, recipe, &data, &settings, &ordered)?;
            let (start, resume, seconds_before) =
                match saved_progress.load(&run_key, &settings, &note) {
                    Some((weights, saved, seconds)) => {
                        note(format!(
                            "{name}: resuming after step {} of {steps} from {}",
                            saved.steps_done,
                            saved_progress.record.display()
                        ));
                        (weights, Some(saved), seconds)
                    }
                    None => (start.clone(), None, 0.0),
                };
            let model = PoserGpt::from_weights(&start, &device)?;
            // Saving is a safeguard: when it fails (a full disk), say so and keep training.
            let mut save = |model: &PoserGpt, saved: &SavedTraining| {
                let weights = block_on(model.to_weights())?;
                let seconds = seconds_before + started.elapsed().as_secs_f64();
                if let Err(error) = saved_progress.save(&run_key, &weights, saved, seconds) {
                    note(format!(
                        "{name}: could not save progress after step {}: {error}; training goes on, but an interruption now loses more",
                        saved.steps_done
                    ));
                }
                Ok(())
            };
            let mut continuation = Continuation {
                resume,
                save_every: SAVE_EVERY_STEPS,
                save: &mut save,
            };
            let run = block_on(train_all_weights_resumable(
                &model,
                &ordered,
                &settings,
                &mut continuation,
                &mut on_step,
                &cancel,
            ));
            (run, seconds_before)
        }
    };
    let run = run.map_err(|error| EngineError::Zoo(format!("{name}: {error}")))?;
    let seconds = seconds_before + started.elapsed().as_secs_f64();
    let weights = block_on(run.trained.to_weights())?;
    let tokens_per_epoch: usize = lengths.iter().sum();
    note(format!(
        "{name}: {steps} steps in {seconds:.0} s ({:.0} tokens/s)",
        (tokens_per_epoch * phase.epochs) as f64 / seconds
    ));
    let log = serde_json::to_string_pretty(&TrainLog {
        name,
        recipe,
        data,
        examples: examples.len(),
        tokens_per_epoch,
        steps,
        seconds,
        losses: &run.losses,
    })
    .map_err(json_error)?;
    Ok((weights, log))
}
