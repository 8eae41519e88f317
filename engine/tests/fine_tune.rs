//! Fine-tuning against its acceptance checks: a zero adapter changes nothing, adapter training
//! leaves the base model alone, one AdamW step matches the formula, 20 steps learn a toy task,
//! noise lands where `forward` would put it, and a model learns to copy a letter from its prompt.

// Tests run natively, where blocking on a future is fine.
#![allow(clippy::disallowed_methods)]
#![allow(clippy::unwrap_used)]

mod common;
use common::{CONFIG, model, prompt};

use std::sync::atomic::AtomicBool;

use burn::module::Module;
use burn::tensor::{Tensor, TensorData};
use poser_engine::backend::cpu_device;
use poser_engine::model::differentiable::last_logits;
use poser_engine::model::{
    Edit, ForwardRequest, HookPoint, Intervention, MlpAdapter, NoiseDistribution, PoserGpt,
    Positions, forward,
};
use poser_engine::train::{
    AdamW, AdamWSettings, Continuation, SavedTraining, StepReport, TrainExample, TrainSettings,
    TrainingNoise, pretrain, train_adapter, train_all_weights, train_all_weights_resumable,
};

/// Four prompts of different lengths, each with its own answer among `A`/`B`.
fn toy_task() -> Vec<TrainExample> {
    [(50, 7, 2), (51, 5, 3), (52, 9, 2), (53, 6, 3)]
        .iter()
        .map(|&(seed, len, target)| TrainExample {
            tokens: prompt(seed, len),
            target,
        })
        .collect()
}

fn settings(steps: usize, learning_rate: f64) -> TrainSettings {
    TrainSettings {
        steps,
        batch_size: 4,
        adamw: AdamWSettings {
            learning_rate,
            ..AdamWSettings::default()
        },
        noise: None,
        freeze_embeddings: false,
    }
}

#[test]
fn a_zero_adapter_leaves_the_logits_bit_identical() {
    let model = model(1);
    let prompts = vec![prompt(10, 8), prompt(11, 5)];
    let traced = pollster::block_on(forward(&model, &prompts, &ForwardRequest::default())).unwrap();
    let adapter = MlpAdapter::zero_initialised(&CONFIG, 1, 4, 7, &cpu_device()).unwrap();
    let with = pollster::block_on(last_logits(&model, &prompts, Some(&adapter), &[])).unwrap();
    let without = pollster::block_on(last_logits(&model, &prompts, None, &[])).unwrap();
    for ((output, with), without) in traced.iter().zip(&with).zip(&without) {
        let bits = |values: &[f32]| values.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(with), bits(&output.last_logits));
        assert_eq!(bits(without), bits(&output.last_logits));
    }
}

#[test]
fn one_adamw_step_matches_the_formula() {
    let settings = AdamWSettings {
        learning_rate: 0.1,
        weight_decay: 0.5,
        ..AdamWSettings::default()
    };
    let device = cpu_device();
    let adapter = MlpAdapter::zero_initialised(&CONFIG, 0, 2, 3, &device)
        .unwrap()
        .train();
    let before = adapter
        .down
        .val()
        .inner()
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    // loss = Σ c ⊙ down, so the gradient is exactly c.
    let c: Vec<f32> = (0..before.len()).map(|i| i as f32 * 0.25 - 3.0).collect();
    let c_tensor = Tensor::<2>::from_data(TensorData::new(c.clone(), [CONFIG.d_mlp, 2]), &device);
    let loss = (adapter.down.val() * c_tensor).sum();
    let mut optimizer = AdamW::new(settings).unwrap();
    let after = optimizer.step(adapter, &loss).valid();
    let after = after.down.val().into_data().try_to_vec::<f32>().unwrap();
    for ((p, g), found) in before.iter().zip(&c).zip(&after) {
        // First step: m̂ = g and v̂ = g², so the update is g / (|g| + ε).
        let (p, g) = (f64::from(*p), f64::from(*g));
        let expected = p * (1.0 - 0.1 * 0.5) - 0.1 * g / (g.abs() + 1e-8);
        assert!(
            (f64::from(*found) - expected).abs() < 1e-6,
            "{found} vs {expected}"
        );
    }
}

#[test]
fn adapter_training_learns_and_leaves_the_base_weights_unchanged() {
    let model = model(2);
    let before = pollster::block_on(model.to_weights()).unwrap();
    let adapter = MlpAdapter::zero_initialised(&CONFIG, 1, 4, 7, &cpu_device()).unwrap();
    let mut reports: Vec<StepReport> = Vec::new();
    let run = pollster::block_on(train_adapter(
        &model,
        adapter,
        &toy_task(),
        &settings(20, 0.05),
        &mut |report| reports.push(report),
        &AtomicBool::new(false),
    ))
    .unwrap();
    assert!(!run.cancelled);
    assert_eq!(run.losses.len(), 20);
    assert_eq!(
        reports.iter().map(|r| r.step).collect::<Vec<_>>(),
        (1..=20).collect::<Vec<_>>()
    );
    let (first, last) = (run.losses[0], run.losses[19]);
    assert!(last <= 0.5 * first, "loss {first} → {last}");
    assert_eq!(pollster::block_on(model.to_weights()).unwrap(), before);
    let up = run
        .trained
        .up
        .val()
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    assert!(up.iter().any(|&v| v != 0.0), "the adapter did not train");
}

#[test]
fn full_fine_tuning_learns_on_a_copy() {
    let model = model(3);
    let before = pollster::block_on(model.to_weights()).unwrap();
    let run = pollster::block_on(train_all_weights(
        &model,
        &toy_task(),
        &settings(20, 0.01),
        &mut |_| {},
        &AtomicBool::new(false),
    ))
    .unwrap();
    let (first, last) = (run.losses[0], run.losses[19]);
    assert!(last <= 0.5 * first, "loss {first} → {last}");
    assert_eq!(pollster::block_on(model.to_weights()).unwrap(), before);
    assert_ne!(
        pollster::block_on(run.trained.to_weights()).unwrap(),
        before
    );
}

#[test]
fn frozen_embeddings_stay_bit_identical_while_the_blocks_learn() {
    let model = model(3);
    let before = pollster::block_on(model.to_weights()).unwrap();
    let settings = TrainSettings {
        freeze_embeddings: true,
        ..settings(5, 0.01)
    };
    let run = pollster::block_on(train_all_weights(
        &model,
        &toy_task(),
        &settings,
        &mut |_| {},
        &AtomicBool::new(false),
    ))
    .unwrap();
    let after = pollster::block_on(run.trained.to_weights()).unwrap();
    for name in ["embed.weight", "pos_embed.weight"] {
        assert_eq!(after.tensors[name], before.tensors[name], "{name} changed");
    }
    assert_ne!(
        after.tensors["blocks.0.attn.q.weight"],
        before.tensors["blocks.0.attn.q.weight"]
    );
}

#[test]
fn pretraining_learns_to_predict_the_next_token() {
    // Two fixed sequences, repeated: next-token loss must fall well below its start.
    let sequences = [prompt(60, 12), prompt(61, 9)];
    let examples: Vec<TrainExample> = sequences
        .iter()
        .map(|tokens| TrainExample {
            tokens: tokens.clone(),
            target: 0,
        })
        .collect();
    let model = model(5);
    let run = pollster::block_on(pretrain(
        &model,
        &examples,
        &TrainSettings {
            batch_size: 2,
            ..settings(20, 0.02)
        },
        &mut |_| {},
        &AtomicBool::new(false),
    ))
    .unwrap();
    let (first, last) = (run.losses[0], run.losses[19]);
    // A random model over a vocabulary of 50 starts near ln(50) ≈ 3.9.
    assert!(first > 2.0, "first loss {first}");
    assert!(last <= 0.3 * first, "loss {first} → {last}");
    // The padded shorter sequence counts only its own 8 predictions: the loss of the pair
    // equals the token-weighted mean of each alone.
    let alone = |tokens: &[u32]| {
        let run = pollster::block_on(pretrain(
            &model,
            &[TrainExample {
                tokens: tokens.to_vec(),
                target: 0,
            }],
            &TrainSettings {
                batch_size: 1,
                ..settings(1, 0.02)
            },
            &mut |_| {},
            &AtomicBool::new(false),
        ))
        .unwrap();
        f64::from(run.losses[0])
    };
    let weighted = (alone(&sequences[0]) * 11.0 + alone(&sequences[1]) * 8.0) / 19.0;
    assert!(
        (f64::from(first) - weighted).abs() < 1e-4,
        "{first} vs {weighted}"
    );
}

/// A run saved part-way and picked up from the save, with the model rebuilt from the saved
/// weights (as after a restart), must be the uninterrupted run: same losses, same weights, to
/// the bit. Otherwise a zoo checkpoint would depend on when its training was interrupted.
#[test]
fn a_resumed_run_is_bit_identical_to_the_uninterrupted_one() {
    let model = model(3);
    let examples = toy_task();
    let settings = TrainSettings {
        batch_size: 2,
        ..settings(9, 0.01)
    };
    let mut uninterrupted_saves = 0;
    let mut count = |_: &PoserGpt, _: &SavedTraining| {
        uninterrupted_saves += 1;
        Ok(())
    };
    let uninterrupted = pollster::block_on(train_all_weights_resumable(
        &model,
        &examples,
        &settings,
        &mut Continuation {
            resume: None,
            save_every: 4,
            save: &mut count,
        },
        &mut |_| {},
        &AtomicBool::new(false),
    ))
    .unwrap();
    // Saves after steps 4 and 8, none at the end (the output is written then).
    assert_eq!(uninterrupted_saves, 2);
    let plain = pollster::block_on(train_all_weights(
        &model,
        &examples,
        &settings,
        &mut |_| {},
        &AtomicBool::new(false),
    ))
    .unwrap();
    assert_eq!(plain.losses, uninterrupted.losses);

    // The same run, stopped by its cancel flag just after its first save (step 4).
    let cancel = AtomicBool::new(false);
    let mut saves = Vec::new();
    let mut keep = |model: &PoserGpt, saved: &SavedTraining| {
        saves.push((pollster::block_on(model.to_weights())?, saved.clone()));
        cancel.store(true, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    };
    let stopped = pollster::block_on(train_all_weights_resumable(
        &model,
        &examples,
        &settings,
        &mut Continuation {
            resume: None,
            save_every: 4,
            save: &mut keep,
        },
        &mut |_| {},
        &cancel,
    ))
    .unwrap();
    assert!(stopped.cancelled);
    let (weights, saved) = saves.pop().unwrap();
    assert_eq!(saved.steps_done, 4);
    assert_eq!(saved.losses, uninterrupted.losses[..4]);

    let rebuilt = PoserGpt::from_weights(&weights, &cpu_device()).unwrap();
    let mut steps_heard = Vec::new();
    let resumed = pollster::block_on(train_all_weights_resumable(
        &rebuilt,
        &examples,
        &settings,
        &mut Continuation {
            resume: Some(saved.clone()),
            save_every: 0,
            save: &mut |_, _| Ok(()),
        },
        &mut |report: StepReport| steps_heard.push(report.step),
        &AtomicBool::new(false),
    ))
    .unwrap();
    assert_eq!(steps_heard, (5..=9).collect::<Vec<_>>());
    let bits = |values: &[f32]| values.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&resumed.losses), bits(&uninterrupted.losses));
    assert_eq!(
        pollster::block_on(resumed.trained.to_weights()).unwrap(),
        pollster::block_on(uninterrupted.trained.to_weights()).unwrap()
    );

    // Without the optimiser's moments the continuation is a different run: the test above
    // would notice a restore that silently dropped them.
    let fresh = AdamW::new(settings.adamw).unwrap().state_bytes().unwrap();
    let rebuilt = PoserGpt::from_weights(&weights, &cpu_device()).unwrap();
    let forgetful = pollster::block_on(train_all_weights_resumable(
        &rebuilt,
        &examples,
        &settings,
        &mut Continuation {
            resume: Some(SavedTraining {
                optimizer: fresh,
                ..saved
            }),
            save_every: 0,
            save: &mut |_, _| Ok(()),
        },
        &mut |_| {},
        &AtomicBool::new(false),
    ))
    .unwrap();
    assert_ne!(bits(&forgetful.losses), bits(&uninterrupted.losses));
}

#[test]
fn the_cancel_flag_stops_before_the_next_step() {
    let model = model(4);
    let adapter = MlpAdapter::zero_initialised(&CONFIG, 0, 2, 1, &cpu_device()).unwrap();
    let run = pollster::block_on(train_adapter(
        &model,
        adapter,
        &toy_task(),
        &settings(5, 0.01),
        &mut |_| {},
        &AtomicBool::new(true),
    ))
    .unwrap();
    assert!(run.cancelled);
    assert!(run.losses.is_empty());
}

#[test]
fn bad_training_inputs_are_refused() {
    let model = model(5);
    let no_grad = AtomicBool::new(false);
    let mut examples = toy_task();
    examples[0].target = 50;
    assert!(
        pollster::block_on(train_all_weights(
            &model,
            &examples,
            &settings(1, 0.01),
            &mut |_| {},
            &no_grad
        ))
        .is_err()
    );
    assert!(
        pollster::block_on(train_all_weights(
            &model,
            &[],
            &settings(1, 0.01),
            &mut |_| {},
            &no_grad
        ))
        .is_err()
    );
    assert!(MlpAdapter::zero_initialised(&CONFIG, 3, 2, 1, &cpu_device()).is_err());
    assert!(MlpAdapter::zero_initialised(&CONFIG, 0, 0, 1, &cpu_device()).is_err());
}

fn noise(magnitude: f32) -> TrainingNoise {
    TrainingNoise {
        hook: HookPoint::ResidPost(1),
        positions: Positions::Last,
        distribution: NoiseDistribution::Gaussian,
        magnitude,
        seed: 11,
    }
}

#[test]
fn interventions_in_the_differentiable_pass_match_the_traced_forward() {
    let model = model(6);
    let prompts = vec![prompt(60, 7), prompt(61, 4)];
    let interventions = vec![
        noise(3.0).at_step(0),
        Intervention {
            hook: HookPoint::Embed,
            positions: Positions::All,
            edit: Edit::AddVector((0..CONFIG.d_model).map(|i| i as f32 * 0.1).collect()),
        },
        Intervention {
            hook: HookPoint::ResidPre(2),
            positions: Positions::At(vec![0, 3]),
            edit: Edit::AddVector(vec![0.5; CONFIG.d_model]),
        },
    ];
    let request = ForwardRequest {
        captures: Vec::new(),
        interventions: interventions.clone(),
    };
    let traced = pollster::block_on(forward(&model, &prompts, &request)).unwrap();
    let found = pollster::block_on(last_logits(&model, &prompts, None, &interventions)).unwrap();
    let plain = pollster::block_on(last_logits(&model, &prompts, None, &[])).unwrap();
    for ((output, found), plain) in traced.iter().zip(&found).zip(&plain) {
        assert_eq!(found, &output.last_logits);
        assert_ne!(found, plain, "the interventions changed nothing");
    }
}

/// Mean cross-entropy of the toy task's targets, from the traced forward with `interventions`.
fn traced_loss(model: &PoserGpt, interventions: Vec<Intervention>) -> f64 {
    let examples = toy_task();
    let prompts: Vec<Vec<u32>> = examples.iter().map(|e| e.tokens.clone()).collect();
    let request = ForwardRequest {
        captures: Vec::new(),
        interventions,
    };
    let outputs = pollster::block_on(forward(model, &prompts, &request)).unwrap();
    let total: f64 = outputs
        .iter()
        .zip(&examples)
        .map(|(output, example)| {
            let logits: Vec<f64> = output.last_logits.iter().map(|&l| f64::from(l)).collect();
            let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let log_total = logits.iter().map(|l| (l - max).exp()).sum::<f64>().ln() + max;
            log_total - logits[example.target as usize]
        })
        .sum();
    total / examples.len() as f64
}

#[test]
fn training_noise_is_injected_at_its_hook_fresh_each_step() {
    let model = model(7);
    let train = |noise: Option<TrainingNoise>| {
        let adapter = MlpAdapter::zero_initialised(&CONFIG, 1, 4, 7, &cpu_device()).unwrap();
        let settings = TrainSettings {
            noise,
            ..settings(3, 0.05)
        };
        pollster::block_on(train_adapter(
            &model,
            adapter,
            &toy_task(),
            &settings,
            &mut |_| {},
            &AtomicBool::new(false),
        ))
        .unwrap()
        .losses
    };
    let quiet = train(None);
    assert_eq!(train(Some(noise(0.0))), quiet);
    let noisy = train(Some(noise(4.0)));
    // Step 0 sees exactly the noise `forward` adds for the same intervention.
    let expected = traced_loss(&model, vec![noise(4.0).at_step(0)]);
    assert!(
        (f64::from(noisy[0]) - expected).abs() < 1e-5,
        "{} vs {expected}",
        noisy[0]
    );
    assert!((f64::from(quiet[0]) - traced_loss(&model, Vec::new())).abs() < 1e-5);
    assert_ne!(noisy[0], quiet[0]);
    assert_ne!(noise(4.0).at_step(0), noise(4.0).at_step(1));
}

#[test]
fn noise_at_a_read_only_hook_is_refused() {
    let model = model(8);
    let settings = TrainSettings {
        noise: Some(TrainingNoise {
            hook: HookPoint::AttnPattern(0),
            ..noise(1.0)
        }),
        ..settings(1, 0.01)
    };
    let result = pollster::block_on(train_all_weights(
        &model,
        &toy_task(),
        &settings,
        &mut |_| {},
        &AtomicBool::new(false),
    ));
    assert!(result.is_err());
}

/// The loop can learn an input-dependent answer: copy whichever of `A`/`B` sits at a fixed
/// position of otherwise random prompts (fresh prompts every step, so nothing can be memorised),
/// from GPT-2's initialisation. Held-out accuracy must be high.
#[test]
fn full_training_learns_to_copy_a_letter_from_the_prompt() {
    let config = poser_engine::model::ModelConfig {
        n_layers: 2,
        d_model: 32,
        n_heads: 4,
        d_mlp: 64,
        n_ctx: 16,
        d_vocab: 40,
        layer_norm_eps: 1e-5,
        positions: poser_engine::model::PositionOrigin::End,
    };
    let example = |seed: u64| {
        let mut rng = poser_corpus::rng::Rng::new(seed);
        let mut tokens: Vec<u32> = (0..12).map(|_| 5 + rng.below(35) as u32).collect();
        let letter = 2 + rng.below(2) as u32;
        tokens[4] = letter;
        TrainExample {
            tokens,
            target: letter,
        }
    };
    let train: Vec<TrainExample> = (0..4800).map(example).collect();
    let held_out: Vec<TrainExample> = (100_000..100_200).map(example).collect();
    let (losses, correct) =
        common::train_and_count_letters(config, &train, 300, 16, 3e-3, &held_out);
    let tail: f32 = losses[280..].iter().sum::<f32>() / 20.0;
    assert!(
        correct >= 190,
        "held-out accuracy {correct}/200, final losses {tail}"
    );
}
