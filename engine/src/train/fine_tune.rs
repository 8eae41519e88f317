//! The fine-tuning loop: cross-entropy on the answer token at each prompt's last position,
//! AdamW, over a low-rank adapter (the base model frozen) or all weights (on a copy), optionally
//! with noise injected at a hook (§4), with a progress callback and a cancel flag.

use std::sync::atomic::{AtomicBool, Ordering};

use burn::module::{Module, ModuleMapper, Param, ParamId};
use burn::tensor::activation::log_softmax;
use burn::tensor::{Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use super::adamw::{AdamW, AdamWSettings};
use crate::EngineError;
use crate::model::MlpAdapter;
use crate::model::PoserGpt;
use crate::model::differentiable::{
    Additions, check_adapter, final_resid_from_embed, last_logits_from_embed,
};
use crate::model::forward::padded_ids;
use crate::model::forward::{check_prompts, intervention_deltas, read_f32};
use crate::model::{Edit, HookPoint, Intervention, NoiseDistribution, Positions};

/// One training prompt and the token the model should answer at its last position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainExample {
    /// The prompt's token ids.
    pub tokens: Vec<u32>,
    /// The answer token it is trained towards.
    pub target: u32,
}

/// Noise added at a hook while training (§4: fine-tuning with the S2 noise injected).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingNoise {
    /// Where (a residual-stream hook or `hook_embed`).
    pub hook: HookPoint,
    /// Which tokens of each prompt.
    pub positions: Positions,
    /// How the direction's components are drawn.
    pub distribution: NoiseDistribution,
    /// L2 norm of the added vector.
    pub magnitude: f32,
    /// Seed of step 0's direction; step `s` uses `seed + s`, so each step gets fresh noise.
    pub seed: u64,
}

impl TrainingNoise {
    /// The intervention applied at step `step` (0-based).
    pub fn at_step(&self, step: usize) -> Intervention {
        Intervention {
            hook: self.hook,
            positions: self.positions.clone(),
            edit: Edit::Noise {
                distribution: self.distribution,
                seed: self.seed.wrapping_add(step as u64),
                magnitude: self.magnitude,
            },
        }
    }
}

/// How long and how to train.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainSettings {
    /// Optimiser steps.
    pub steps: usize,
    /// Examples per step, taken in order and wrapping around (the paper's S3 uses 4).
    pub batch_size: usize,
    /// The optimiser.
    pub adamw: AdamWSettings,
    /// Noise injected during training, if any.
    pub noise: Option<TrainingNoise>,
    /// Keep the token and position embeddings fixed when training all weights (the zoo's
    /// fine-tunes share the base model's embeddings, so they ship once).
    #[serde(default)]
    pub freeze_embeddings: bool,
}

/// What the progress callback hears after each step.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StepReport {
    /// Steps done so far (1-based).
    pub step: usize,
    /// Steps asked for.
    pub steps: usize,
    /// The batch's loss before this step's update.
    pub loss: f32,
}

/// The result of a training run.
#[derive(Debug)]
pub struct TrainRun<T> {
    /// What was trained, on a plain (non-autodiff) device, ready for inference.
    pub trained: T,
    /// The loss of each step taken, before its update.
    pub losses: Vec<f32>,
    /// Whether the cancel flag stopped the run before `steps`.
    pub cancelled: bool,
    /// Copies of what was trained after each asked-for number of steps (0 = untrained), in
    /// ascending order; steps past the end of the run (or past a cancel) are left out.
    pub snapshots: Vec<(usize, T)>,
}

/// Where an interrupted run stood: enough, with the model's weights at that point, for the
/// rest of the run to be exactly what the uninterrupted run would have done.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedTraining {
    /// Steps already taken.
    pub steps_done: usize,
    /// Their losses.
    pub losses: Vec<f32>,
    /// The optimiser's moments ([`AdamW::state_bytes`]).
    pub optimizer: Vec<u8>,
}

/// How a long run survives an interruption: where it picks up, and how often and where it
/// saves its progress. The zoo's fine-tunes take most of an hour each.
pub struct Continuation<'a> {
    /// The state an interrupted run saved; the model passed to the run must be its weights.
    pub resume: Option<SavedTraining>,
    /// Save after every this many steps (0: never).
    pub save_every: usize,
    /// Receives the model so far (on a plain device) and the state to resume it from.
    pub save: &'a mut dyn FnMut(&PoserGpt, &SavedTraining) -> Result<(), EngineError>,
}

/// Trains `adapter` on `model` (which stays unchanged: its parameters are constants here).
pub async fn train_adapter(
    model: &PoserGpt,
    adapter: MlpAdapter,
    examples: &[TrainExample],
    settings: &TrainSettings,
    progress: &mut dyn FnMut(StepReport),
    cancel: &AtomicBool,
) -> Result<TrainRun<MlpAdapter>, EngineError> {
    train_adapter_with_snapshots(model, adapter, examples, settings, &[], progress, cancel).await
}

/// [`train_adapter`], keeping a copy of the adapter after each of `snapshot_steps` steps (S3
/// reads the model at steps 0, 1, 2, 4, … of one run).
pub async fn train_adapter_with_snapshots(
    model: &PoserGpt,
    adapter: MlpAdapter,
    examples: &[TrainExample],
    settings: &TrainSettings,
    snapshot_steps: &[usize],
    progress: &mut dyn FnMut(StepReport),
    cancel: &AtomicBool,
) -> Result<TrainRun<MlpAdapter>, EngineError> {
    check_adapter(model, &adapter)?;
    check_training(model, examples, settings)?;
    // Constants, even if `model` came from a training run: only the adapter gets gradients.
    let model = model.valid();
    run_steps(
        adapter,
        |adapter, batch, interventions| batch_loss(&model, Some(adapter), batch, interventions),
        examples,
        settings,
        snapshot_steps,
        None,
        progress,
        cancel,
    )
    .await
}

/// Trains every parameter of a copy of `model` (cloning a module shares its tensors until they
/// are updated, so the copy is cheap and `model` itself stays unchanged).
pub async fn train_all_weights(
    model: &PoserGpt,
    examples: &[TrainExample],
    settings: &TrainSettings,
    progress: &mut dyn FnMut(StepReport),
    cancel: &AtomicBool,
) -> Result<TrainRun<PoserGpt>, EngineError> {
    train_all_weights_with_snapshots(model, examples, settings, &[], progress, cancel).await
}

/// [`train_all_weights`], keeping a copy of the model after each of `snapshot_steps` steps.
pub async fn train_all_weights_with_snapshots(
    model: &PoserGpt,
    examples: &[TrainExample],
    settings: &TrainSettings,
    snapshot_steps: &[usize],
    progress: &mut dyn FnMut(StepReport),
    cancel: &AtomicBool,
) -> Result<TrainRun<PoserGpt>, EngineError> {
    train_whole_model(
        model,
        examples,
        settings,
        snapshot_steps,
        None,
        progress,
        cancel,
    )
    .await
}

/// [`train_all_weights`] that saves its progress and can pick up where an interrupted run of
/// the same training stopped (`model` is then the weights it saved).
pub async fn train_all_weights_resumable(
    model: &PoserGpt,
    examples: &[TrainExample],
    settings: &TrainSettings,
    continuation: &mut Continuation<'_>,
    progress: &mut dyn FnMut(StepReport),
    cancel: &AtomicBool,
) -> Result<TrainRun<PoserGpt>, EngineError> {
    let continuation = Some(continuation);
    train_whole_model(
        model,
        examples,
        settings,
        &[],
        continuation,
        progress,
        cancel,
    )
    .await
}

/// Every weight of a copy of `model`, toward each example's answer.
async fn train_whole_model(
    model: &PoserGpt,
    examples: &[TrainExample],
    settings: &TrainSettings,
    snapshot_steps: &[usize],
    continuation: Option<&mut Continuation<'_>>,
    progress: &mut dyn FnMut(StepReport),
    cancel: &AtomicBool,
) -> Result<TrainRun<PoserGpt>, EngineError> {
    check_training(model, examples, settings)?;
    run_steps(
        trainable_copy(model, settings),
        |model, batch, interventions| batch_loss(model, None, batch, interventions),
        examples,
        settings,
        snapshot_steps,
        continuation,
        progress,
        cancel,
    )
    .await
}

/// Pretrains every weight of a copy of `model` with next-token cross-entropy over each
/// prompt's own text (the targets of `examples` are not used): how the zoo's shared base model
/// learns the language of the scenarios before any answer is taught.
pub async fn pretrain(
    model: &PoserGpt,
    examples: &[TrainExample],
    settings: &TrainSettings,
    progress: &mut dyn FnMut(StepReport),
    cancel: &AtomicBool,
) -> Result<TrainRun<PoserGpt>, EngineError> {
    check_training(model, examples, settings)?;
    run_steps(
        trainable_copy(model, settings),
        next_token_loss,
        examples,
        settings,
        &[],
        None,
        progress,
        cancel,
    )
    .await
}

/// A copy of `model` to train (cloning shares tensors until they are updated, so it is cheap),
/// with the embeddings fixed if the settings ask.
fn trainable_copy(model: &PoserGpt, settings: &TrainSettings) -> PoserGpt {
    let mut copy = model.clone();
    if settings.freeze_embeddings {
        copy.embed = copy.embed.no_grad();
        copy.pos_embed = copy.pos_embed.no_grad();
    }
    copy
}

/// Mean next-token cross-entropy over every real (unpadded) position of the batch, as `[1]`.
fn next_token_loss(
    model: &PoserGpt,
    batch: &[&TrainExample],
    interventions: &[Intervention],
) -> Result<Tensor<1>, EngineError> {
    let device = model.embed.weight.device();
    let prompts: Vec<Vec<u32>> = batch.iter().map(|e| e.tokens.clone()).collect();
    let lens: Vec<usize> = prompts.iter().map(Vec::len).collect();
    let max_len = lens.iter().copied().max().unwrap_or(0);
    if max_len < 2 {
        return Err(EngineError::InvalidParameter(
            "next-token training needs prompts of at least 2 tokens".to_owned(),
        ));
    }
    let deltas = intervention_deltas(model, interventions, &lens, max_len)?;
    let embedded = model.embed.forward(padded_ids(&prompts, &device));
    let additions = Additions {
        adapter: None,
        deltas: &deltas,
    };
    let resid = final_resid_from_embed(model, embedded, &lens, &additions);
    let d_model = model.config.d_model;
    let rows = batch.len() * (max_len - 1);
    // Position t predicts token t + 1; positions past a prompt's end weigh nothing.
    let inputs = resid.narrow(1, 0, max_len - 1).reshape([rows, d_model]);
    let logits = model.unembed(inputs);
    let predicted = lens
        .iter()
        .map(|len| len.saturating_sub(1))
        .sum::<usize>()
        .max(1);
    let mut targets = Vec::with_capacity(rows);
    let mut weights = Vec::with_capacity(rows);
    for prompt in &prompts {
        for t in 0..max_len - 1 {
            let next = prompt.get(t + 1);
            targets.push(next.map_or(0, |&id| i64::from(id)));
            weights.push(if next.is_some() {
                1.0 / predicted as f32
            } else {
                0.0
            });
        }
    }
    let targets = Tensor::<2, Int>::from_data(TensorData::new(targets, [rows, 1]), &device);
    let weights = Tensor::<1>::from_data(TensorData::new(weights, [rows]), &device);
    let log_p = log_softmax(logits, 1).gather(1, targets).reshape([rows]);
    Ok((log_p * weights).sum().neg())
}

/// Checks the settings, and the examples against the model (which also makes sure there is at
/// least one example, so batches can wrap around).
fn check_training(
    model: &PoserGpt,
    examples: &[TrainExample],
    settings: &TrainSettings,
) -> Result<(), EngineError> {
    settings.adamw.validate()?;
    if settings.batch_size == 0 {
        return Err(EngineError::InvalidParameter(
            "batch size must be at least 1".to_owned(),
        ));
    }
    let prompts: Vec<Vec<u32>> = examples.iter().map(|e| e.tokens.clone()).collect();
    check_prompts(model, &prompts)?;
    let d_vocab = model.config.d_vocab;
    if let Some(example) = examples.iter().find(|e| e.target as usize >= d_vocab) {
        return Err(EngineError::InvalidParameter(format!(
            "training target {} is outside the vocabulary of {d_vocab}",
            example.target
        )));
    }
    if let Some(noise) = &settings.noise {
        // Checks the hook and that its positions exist in every example.
        let lens: Vec<usize> = prompts.iter().map(Vec::len).collect();
        let max_len = lens.iter().copied().max().unwrap_or(0);
        intervention_deltas(model, &[noise.at_step(0)], &lens, max_len)?;
    }
    Ok(())
}

/// Mean cross-entropy of the batch's targets at each prompt's last position, as `[1]`.
fn batch_loss(
    model: &PoserGpt,
    adapter: Option<&MlpAdapter>,
    batch: &[&TrainExample],
    interventions: &[Intervention],
) -> Result<Tensor<1>, EngineError> {
    let device = model.embed.weight.device();
    let prompts: Vec<Vec<u32>> = batch.iter().map(|e| e.tokens.clone()).collect();
    let lens: Vec<usize> = prompts.iter().map(Vec::len).collect();
    let max_len = lens.iter().copied().max().unwrap_or(0);
    let deltas = intervention_deltas(model, interventions, &lens, max_len)?;
    let embedded = model.embed.forward(padded_ids(&prompts, &device));
    let additions = Additions {
        adapter,
        deltas: &deltas,
    };
    let logits = last_logits_from_embed(model, embedded, &lens, &additions);
    let targets: Vec<i64> = batch.iter().map(|e| i64::from(e.target)).collect();
    let targets = Tensor::<2, Int>::from_data(TensorData::new(targets, [batch.len(), 1]), &device);
    Ok(log_softmax(logits, 1).gather(1, targets).mean().neg())
}

/// Gives every float parameter an id from its place in the module (1, 2, … in visiting order),
/// so that optimiser state saved for one module matches the same module rebuilt from its
/// weights (burn keys the state by parameter id, and a fresh module gets fresh random ids).
struct IdsByPosition(u64);

impl ModuleMapper for IdsByPosition {
    fn map_float<const D: usize>(&mut self, mut param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        self.0 += 1;
        param.id = ParamId::from(self.0);
        param
    }
}

/// The loop shared by every kind of training: `module` trains on an autodiff device (frozen
/// parameters stay frozen) and comes back on a plain one, ready for inference. With a
/// `continuation` (only for whole models) it starts after the saved steps and saves as asked.
#[allow(clippy::too_many_arguments)]
async fn run_steps<M: Savable>(
    module: M,
    loss_of: impl Fn(&M, &[&TrainExample], &[Intervention]) -> Result<Tensor<1>, EngineError>,
    examples: &[TrainExample],
    settings: &TrainSettings,
    snapshot_steps: &[usize],
    mut continuation: Option<&mut Continuation<'_>>,
    progress: &mut dyn FnMut(StepReport),
    cancel: &AtomicBool,
) -> Result<TrainRun<M>, EngineError> {
    if snapshot_steps.windows(2).any(|w| w[0] >= w[1]) {
        return Err(EngineError::InvalidParameter(format!(
            "snapshot steps {snapshot_steps:?} must be strictly ascending"
        )));
    }
    let mut trainable = module.map(&mut IdsByPosition(0)).train();
    let mut optimizer = AdamW::new(settings.adamw)?.for_steps(settings.steps);
    let mut losses = Vec::with_capacity(settings.steps);
    let mut first_step = 0;
    if let Some(saved) = continuation.as_mut().and_then(|c| c.resume.take()) {
        if saved.steps_done > settings.steps || saved.losses.len() != saved.steps_done {
            return Err(EngineError::InvalidParameter(format!(
                "the saved run took {} steps with {} losses, but this run takes {} steps; resume only the run that was saved, or start afresh without the saved state",
                saved.steps_done,
                saved.losses.len(),
                settings.steps
            )));
        }
        optimizer = optimizer.restored(&saved.optimizer, saved.steps_done)?;
        first_step = saved.steps_done;
        losses = saved.losses;
    }
    let mut snapshots = Vec::with_capacity(snapshot_steps.len());
    for step in first_step..settings.steps {
        // A copy shares the tensors until the next update replaces them, so it is cheap.
        if snapshot_steps.contains(&step) {
            snapshots.push((step, trainable.valid()));
        }
        if cancel.load(Ordering::Relaxed) {
            return Ok(TrainRun {
                trained: trainable.valid(),
                losses,
                cancelled: true,
                snapshots,
            });
        }
        let batch: Vec<&TrainExample> = (0..settings.batch_size)
            .filter_map(|i| examples.get((step * settings.batch_size + i) % examples.len()))
            .collect();
        let interventions: Vec<Intervention> = settings
            .noise
            .iter()
            .map(|noise| noise.at_step(step))
            .collect();
        let loss = loss_of(&trainable, &batch, &interventions)?;
        trainable = optimizer.step(trainable, &loss);
        // Reading the loss back also yields to the page between steps.
        let value = read_f32(loss.inner(), "training loss").await?;
        let loss = value.first().copied().ok_or_else(|| {
            EngineError::UnexpectedTensor("the training loss has no value".to_owned())
        })?;
        losses.push(loss);
        progress(StepReport {
            step: step + 1,
            steps: settings.steps,
            loss,
        });
        if let Some(continuation) = continuation.as_mut()
            && continuation.save_every > 0
            && (step + 1) % continuation.save_every == 0
            && step + 1 < settings.steps
        {
            let saved = SavedTraining {
                steps_done: step + 1,
                losses: losses.clone(),
                optimizer: optimizer.state_bytes()?,
            };
            trainable.valid().save_with(continuation, &saved)?;
        }
    }
    if snapshot_steps.contains(&settings.steps) {
        snapshots.push((settings.steps, trainable.valid()));
    }
    Ok(TrainRun {
        trained: trainable.valid(),
        losses,
        cancelled: false,
        snapshots,
    })
}

/// What a [`Continuation`] can save: whole models only (an adapter run is short).
trait Savable: Module {
    fn save_with(
        &self,
        continuation: &mut Continuation<'_>,
        saved: &SavedTraining,
    ) -> Result<(), EngineError>;
}

impl Savable for PoserGpt {
    fn save_with(
        &self,
        continuation: &mut Continuation<'_>,
        saved: &SavedTraining,
    ) -> Result<(), EngineError> {
        (continuation.save)(self, saved)
    }
}

impl Savable for MlpAdapter {
    fn save_with(&self, _: &mut Continuation<'_>, _: &SavedTraining) -> Result<(), EngineError> {
        Err(EngineError::InvalidParameter(
            "an adapter's training run cannot be saved and resumed".to_owned(),
        ))
    }
}
