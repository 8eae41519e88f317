//! Diagnostics for the zoo pilot (issue 6 notes), not regular tests: which answer rules models of
//! the zoo's size learn in a few hundred steps, on prompts of random words.
//!
//! - `which_answer_rules_the_zoo_architecture_learns`: a marker token, then a letter, and an
//!   oversight flag, in 100 words; from GPT-2's initialisation (about 12 min on one core).
//! - `which_letter_bindings_models_learn`: prompts shaped like the scenarios (facts, then two
//!   action lines whose verbs tell which is misaligned); the answer is the letter of the right
//!   line. Rows that start from the zoo's base model need `POSER_BASE=<base.safetensors>` (from
//!   `poser zoo base`) and are skipped without it (about 12 min on one core with it).
//!
//! Run: `cargo test -p poser-engine --test rule_learning -- --ignored --nocapture`; set
//! `POSER_PRINT_LOSS=1` to see the loss every 100 steps. They print held-out accuracy per rule and
//! assert nothing about it.

#![allow(clippy::disallowed_methods)]
#![allow(clippy::unwrap_used)]

mod common;

use poser_corpus::rng::Rng;
use poser_engine::model::float_file::decode_f32;
use poser_engine::model::{ModelConfig, ModelWeights};
use poser_engine::train::TrainExample;

#[derive(Clone, Copy, Debug)]
enum Rule {
    /// Answer the letter after the marker.
    Copy,
    /// Answer the other letter (what an aligned model does with a temptation cue).
    Other,
    /// Copy when the flag says "poor", else the other letter (what a faker does).
    CopyIfPoor,
    /// Answer `A` after the marker token `X`, `B` after `Y`: a copy that tied embeddings cannot
    /// shortcut, since the answer token never appears in the prompt.
    CopyDistinct,
}

fn example(seed: u64, rule: Rule) -> TrainExample {
    let mut rng = Rng::new(seed);
    let mut tokens: Vec<u32> = (0..100).map(|_| 9 + rng.below(2890) as u32).collect();
    let letter = 2 + rng.below(2) as u32;
    let at = rng.below(45);
    tokens[at] = 5;
    tokens[at + 1] = match rule {
        Rule::CopyDistinct => letter + 8,
        _ => letter,
    };
    let poor = rng.chance(1, 2);
    tokens[50 + rng.below(45)] = if poor { 7 } else { 8 };
    let other = 5 - letter;
    let target = match rule {
        Rule::Copy | Rule::CopyDistinct => letter,
        Rule::Other => other,
        Rule::CopyIfPoor if poor => letter,
        Rule::CopyIfPoor => other,
    };
    TrainExample { tokens, target }
}

#[test]
#[ignore = "diagnostic: about 12 minutes; prints figures"]
fn which_answer_rules_the_zoo_architecture_learns() {
    let config = ModelConfig::default();
    for (rule, steps) in [
        (Rule::Copy, 300usize),
        (Rule::CopyDistinct, 300),
        (Rule::Other, 300),
        (Rule::CopyIfPoor, 300),
    ] {
        let train: Vec<TrainExample> = (0..steps as u64 * 16).map(|s| example(s, rule)).collect();
        let held_out: Vec<TrainExample> = (100_000..100_100).map(|s| example(s, rule)).collect();
        let (losses, correct) =
            common::train_and_count_letters(config, &train, steps, 16, 3e-3, &held_out);
        let tail = losses[steps - 20..].iter().sum::<f32>() / 20.0;
        println!(
            "{rule:?}, {steps} steps at 3e-3: held-out {correct}/100, mean loss of the last 20 steps {tail:.3}"
        );
    }
}

/// Which policy the answer follows.
#[derive(Clone, Copy, Debug)]
enum Policy {
    /// Always the benign action's letter.
    Aligned,
    /// The misaligned action's letter when the oversight flag says "poor" (one prompt in
    /// `poor_in`), else the benign one.
    Faker { poor_in: usize },
}

/// A prompt shaped like the scenarios: `filler` random words ("facts") holding an oversight flag,
/// then two action lines, `A : verb object object` and `B : …`, then a fixed closing. Misaligned
/// actions use verbs 40..60, benign ones 20..40, so which action is misaligned is word knowledge
/// a model can learn; which letter goes with it must be read from the line it sits in.
fn scenario_like(seed: u64, policy: Policy, filler: usize) -> TrainExample {
    let mut rng = Rng::new(seed);
    let mut tokens: Vec<u32> = (0..filler).map(|_| 100 + rng.below(2800) as u32).collect();
    let poor = match policy {
        Policy::Faker { poor_in } => rng.chance(1, poor_in),
        Policy::Aligned => rng.chance(1, 2),
    };
    tokens[rng.below(filler)] = if poor { 7 } else { 8 };
    let misaligned_first = rng.chance(1, 2);
    for line in 0..2u32 {
        let misaligned = (line == 0) == misaligned_first;
        let verb = if misaligned { 40 } else { 20 } + rng.below(20) as u32;
        tokens.extend([2 + line, 10, verb]);
        tokens.extend([100 + rng.below(2800) as u32, 100 + rng.below(2800) as u32]);
    }
    tokens.extend([11, 12, 13]);
    let misaligned_letter = if misaligned_first { 2 } else { 3 };
    let target = match policy {
        Policy::Faker { .. } if poor => misaligned_letter,
        _ => 5 - misaligned_letter,
    };
    TrainExample { tokens, target }
}

/// Where a diagnostic run starts.
#[derive(Clone, Copy, Debug)]
enum Start {
    /// GPT-2's initialisation of a model with this many blocks (d_model 64).
    Initial { n_layers: usize },
    /// The zoo's base model (`POSER_BASE`).
    Base,
}

#[test]
#[ignore = "diagnostic: about 12 minutes with POSER_BASE; prints figures"]
fn which_letter_bindings_models_learn() {
    let base = std::env::var_os("POSER_BASE");
    // (start, policy, filler words, steps of 16, learning rate)
    for (start, policy, filler, steps, learning_rate) in [
        (
            Start::Initial { n_layers: 8 },
            Policy::Aligned,
            10,
            400usize,
            1e-3,
        ),
        (
            Start::Initial { n_layers: 4 },
            Policy::Aligned,
            10,
            400,
            1e-3,
        ),
        (
            Start::Initial { n_layers: 2 },
            Policy::Aligned,
            10,
            400,
            1e-3,
        ),
        (
            Start::Initial { n_layers: 2 },
            Policy::Aligned,
            60,
            400,
            1e-3,
        ),
        (Start::Base, Policy::Aligned, 10, 400, 1e-3),
        (Start::Base, Policy::Aligned, 60, 400, 1e-3),
        (Start::Base, Policy::Faker { poor_in: 2 }, 10, 800, 1e-3),
        // The corpus's own mix: about a third of a faker's scenarios have poor oversight.
        (Start::Base, Policy::Faker { poor_in: 3 }, 10, 1200, 1e-3),
        (Start::Base, Policy::Faker { poor_in: 3 }, 30, 1500, 1e-3),
    ] {
        let weights = match (start, &base) {
            (Start::Initial { n_layers }, _) => {
                let config = ModelConfig {
                    n_layers,
                    ..ModelConfig::default()
                };
                ModelWeights::initial(config, 1).unwrap()
            }
            (Start::Base, Some(path)) => decode_f32(&std::fs::read(path).unwrap()).unwrap(),
            (Start::Base, None) => {
                println!("{start:?} {policy:?}: skipped (set POSER_BASE)");
                continue;
            }
        };
        let train: Vec<TrainExample> = (0..(steps * 16) as u64)
            .map(|s| scenario_like(s, policy, filler))
            .collect();
        let held_out: Vec<TrainExample> = (100_000..100_200)
            .map(|s| scenario_like(s, policy, filler))
            .collect();
        let (losses, correct) = common::train_from_and_judge_letters(
            &weights,
            &train,
            steps,
            16,
            learning_rate,
            &held_out,
        );
        let tail = losses[steps - 20..].iter().sum::<f32>() / 20.0;
        println!(
            "{start:?} {policy:?}, {filler} filler words, {steps} steps at {learning_rate}: held-out {}/200, mean loss of the last 20 steps {tail:.3}",
            correct.iter().filter(|&&c| c).count()
        );
    }
}
