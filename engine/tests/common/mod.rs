//! Helpers shared by the engine's integration tests: a tiny model configuration and seeded
//! random weights, models and prompts.

// Each test file uses its own subset of these helpers.
#![allow(dead_code)]

use poser_corpus::rng::Rng;
use poser_engine::backend::cpu_device;
use poser_engine::model::{ModelConfig, ModelWeights, PoserGpt, PositionOrigin};

/// Small enough for finite differences and quick training steps, big enough to have several
/// blocks and heads.
pub const CONFIG: ModelConfig = ModelConfig {
    n_layers: 3,
    d_model: 16,
    n_heads: 4,
    d_mlp: 32,
    n_ctx: 24,
    d_vocab: 50,
    layer_norm_eps: 1e-5,
    positions: PositionOrigin::Start,
};

/// Seeded random weights of [`CONFIG`].
pub fn weights(seed: u64) -> ModelWeights {
    ModelWeights::random(CONFIG, seed).unwrap()
}

/// A model on the CPU backend from `weights`.
pub fn model_from(weights: &ModelWeights) -> PoserGpt {
    PoserGpt::from_weights(weights, &cpu_device()).unwrap()
}

/// A model on the CPU backend with seeded random weights of [`CONFIG`].
pub fn model(seed: u64) -> PoserGpt {
    model_from(&weights(seed))
}

/// `len` seeded random token ids below [`CONFIG`]'s vocabulary size.
pub fn prompt(seed: u64, len: usize) -> Vec<u32> {
    let mut rng = Rng::new(seed);
    (0..len).map(|_| rng.below(CONFIG.d_vocab) as u32).collect()
}

/// Trains every weight of a GPT-2-initialised model of `config` on `train` (AdamW at
/// `learning_rate`, `steps` steps of `batch_size`), then judges each `held_out` example: does its target, `A` or `B`,
/// get the higher probability? Returns the training losses and those judgements.
pub fn train_and_judge_letters(
    config: ModelConfig,
    train: &[poser_engine::train::TrainExample],
    steps: usize,
    batch_size: usize,
    learning_rate: f64,
    held_out: &[poser_engine::train::TrainExample],
) -> (Vec<f32>, Vec<bool>) {
    let start = ModelWeights::initial(config, 1).unwrap();
    train_from_and_judge_letters(&start, train, steps, batch_size, learning_rate, held_out)
}

/// [`train_and_judge_letters`] from the weights `start` instead of GPT-2's initialisation.
pub fn train_from_and_judge_letters(
    start: &ModelWeights,
    train: &[poser_engine::train::TrainExample],
    steps: usize,
    batch_size: usize,
    learning_rate: f64,
    held_out: &[poser_engine::train::TrainExample],
) -> (Vec<f32>, Vec<bool>) {
    use poser_engine::model::{ForwardRequest, forward};
    use poser_engine::train::{AdamWSettings, TrainSettings, train_all_weights};
    let model = model_from(start);
    let settings = TrainSettings {
        steps,
        batch_size,
        adamw: AdamWSettings {
            learning_rate,
            ..AdamWSettings::default()
        },
        noise: None,
        freeze_embeddings: false,
    };
    let mut window = Vec::new();
    let run = pollster::block_on(train_all_weights(
        &model,
        train,
        &settings,
        &mut |report| {
            // A running view for the long diagnostics: the mean loss of every 100 steps.
            window.push(report.loss);
            if window.len() == 100 && std::env::var_os("POSER_PRINT_LOSS").is_some() {
                let mean = window.iter().sum::<f32>() / 100.0;
                eprintln!(
                    "step {}: mean loss of the last 100 steps {mean:.3}",
                    report.step
                );
                window.clear();
            } else if window.len() == 100 {
                window.clear();
            }
        },
        &std::sync::atomic::AtomicBool::new(false),
    ))
    .unwrap();
    let prompts: Vec<Vec<u32>> = held_out.iter().map(|e| e.tokens.clone()).collect();
    let outputs =
        pollster::block_on(forward(&run.trained, &prompts, &ForwardRequest::default())).unwrap();
    let correct = outputs
        .iter()
        .zip(held_out)
        .map(|(output, example)| (output.p.a > output.p.b) == (example.target == 2))
        .collect();
    (run.losses, correct)
}

/// [`train_and_judge_letters`], counting the held-out examples answered right.
pub fn train_and_count_letters(
    config: ModelConfig,
    train: &[poser_engine::train::TrainExample],
    steps: usize,
    batch_size: usize,
    learning_rate: f64,
    held_out: &[poser_engine::train::TrainExample],
) -> (Vec<f32>, usize) {
    let (losses, correct) =
        train_and_judge_letters(config, train, steps, batch_size, learning_rate, held_out);
    (losses, correct.iter().filter(|&&right| right).count())
}
