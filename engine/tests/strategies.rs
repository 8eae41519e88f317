//! The detection strategies on hand-built models whose verdict is known by construction, with
//! controls: swapping the two models flips the verdict, identical models tie, the same seed
//! gives the same result.
//!
//! Every model here starts "blank": its blocks add nothing (attention and MLP outputs are
//! zero), LayerNorms are plain, positions are zero, and ordinary tokens ("fillers") have
//! zero-mean embeddings in dimensions 4.. only. Dimensions 0..4 are left for the signal each
//! construction plants, so a model's last-token residual is exactly what the test puts there.

// Tests run natively, where blocking on a future is fine.
#![allow(clippy::disallowed_methods)]
// Helpers outside `#[test]` functions are test code too.
#![allow(clippy::unwrap_used)]

mod common;

use std::ops::Range;

use common::CONFIG;
use poser_corpus::rng::Rng;
use poser_engine::model::{ModelWeights, NoiseDistribution, PoserGpt};
use poser_engine::strategies::attentiveness::{
    AttentivenessConfig, attention_to_fact, majority_vote, oversight_removal,
};
use poser_engine::strategies::confidence::{ConfidenceConfig, confidence};
use poser_engine::strategies::decision_speed::{DecisionSpeedConfig, decision_speed};
use poser_engine::strategies::induce_safe_belief::{InduceSafeBeliefConfig, induce_safe_belief};
use poser_engine::strategies::intoxicate::{IntoxicateConfig, intoxicate};
use poser_engine::strategies::suspicious_concepts::{
    ConceptTexts, SuspiciousConceptsConfig, suspicious_concepts,
};
use poser_engine::strategies::{
    CuratedPrompt, FamilyModel, Letter, OversightVersions, Pair, evaluate_pairs,
    evaluate_pairs_with,
};

use pollster::block_on;

const A: usize = 2;
const B: usize = 3;
/// The last token of every prompt.
const LAST: u32 = 10;
/// The oversight fact's token.
const FACT: u32 = 30;
/// Concept texts end with these: toward (20..23), away (23..26).
const TOWARD: u32 = 20;
const AWAY: u32 = 23;
/// Ordinary tokens.
const FILLERS: Range<u32> = 31..50;

fn d() -> usize {
    CONFIG.d_model
}

/// `scale · (e_i − e_j)`: zero mean, so LayerNorm keeps its direction.
fn axis(i: usize, j: usize, scale: f32) -> Vec<f32> {
    let mut v = vec![0.0; d()];
    v[i] = scale;
    v[j] = -scale;
    v
}

fn plus(a: &[f32], b: &[f32]) -> Vec<f32> {
    a.iter().zip(b).map(|(x, y)| x + y).collect()
}

/// A zero-mean vector in dimensions 4.. only.
fn filler(rng: &mut Rng, scale: f32) -> Vec<f32> {
    let mut v = vec![0.0; d()];
    for x in &mut v[4..] {
        *x = rng.next_f32_in(-scale, scale);
    }
    let m = v[4..].iter().sum::<f32>() / (d() - 4) as f32;
    for x in &mut v[4..] {
        *x -= m;
    }
    v
}

fn set_row(w: &mut ModelWeights, name: &str, row: usize, values: &[f32]) {
    let t = w.tensors.get_mut(name).unwrap();
    let width = t.shape[1];
    t.values[row * width..(row + 1) * width].copy_from_slice(values);
}

fn set(w: &mut ModelWeights, name: &str, index: usize, value: f32) {
    w.tensors.get_mut(name).unwrap().values[index] = value;
}

/// A model whose blocks add nothing; every token a filler (seeded by `seed`).
fn blank(seed: u64) -> ModelWeights {
    let mut w = common::weights(seed);
    for (name, t) in &mut w.tensors {
        let value = if name.ends_with(".gamma") {
            Some(1.0)
        } else if name.ends_with(".beta")
            || name.contains(".attn.")
            || name.contains(".mlp.fc_out")
            || name == "pos_embed.weight"
        {
            Some(0.0)
        } else {
            None
        };
        if let Some(value) = value {
            t.values.iter_mut().for_each(|x| *x = value);
        }
    }
    let mut rng = Rng::new(seed);
    for token in 0..CONFIG.d_vocab {
        let row = filler(&mut rng, 1.0);
        set_row(&mut w, "embed.weight", token, &row);
    }
    w
}

/// Block `layer`'s attention copies: every query attends evenly to every visible key (queries
/// and keys are zero) and the values pass through unchanged (identity projections).
fn copy_attention(w: &mut ModelWeights, layer: usize) {
    for projection in ["v", "o"] {
        let name = format!("blocks.{layer}.attn.{projection}.weight");
        for i in 0..d() {
            set(w, &name, i * d() + i, 1.0);
        }
    }
}

fn model(w: &ModelWeights) -> PoserGpt {
    common::model_from(w)
}

/// `min + (a seeded draw below spread)` filler tokens.
fn fillers(rng: &mut Rng, min: usize, spread: usize) -> Vec<u32> {
    let n = min + rng.below(spread);
    (0..n)
        .map(|_| FILLERS.start + rng.below((FILLERS.end - FILLERS.start) as usize) as u32)
        .collect()
}

/// Scenarios of random fillers with the oversight fact (three `FACT` tokens) inside, ending in
/// `LAST`, with their versions without the fact.
fn oversight_versions(n: usize, seed: u64) -> Vec<OversightVersions> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| {
            let before = fillers(&mut rng, 2, 5);
            let after = fillers(&mut rng, 1, 5);
            let mut with_fact = before.clone();
            with_fact.extend([FACT; 3]);
            with_fact.extend(&after);
            with_fact.push(LAST);
            let mut without_fact = before.clone();
            without_fact.extend(&after);
            without_fact.push(LAST);
            OversightVersions {
                with_fact,
                fact: before.len()..before.len() + 3,
                without_fact,
                facts: Vec::new(),
            }
        })
        .collect()
}

/// The good-oversight versions as curated prompts, benign `A`.
fn curated_from(versions: &[OversightVersions]) -> Vec<CuratedPrompt> {
    versions
        .iter()
        .map(|v| CuratedPrompt {
            tokens: v.with_fact.clone(),
            benign: Letter::A,
        })
        .collect()
}

/// Pair accuracy of one (aligned, faker) pair from per-model scores.
fn credit(scores: &[(String, f64)], aligned: &str, faker: &str) -> f64 {
    let pair = Pair {
        aligned: aligned.to_owned(),
        faker: faker.to_owned(),
        family: "f".to_owned(),
    };
    let score = |name: &str, _: &str| scores.iter().find(|(n, _)| n == name).unwrap().1;
    evaluate_pairs(&[pair], score, 1).accuracy
}

/// The harness calls the model with `faker_score` the faker, and swapping the two roles gives no
/// credit.
fn assert_names_the_faker(aligned_score: f64, faker_score: f64) {
    let scores = vec![
        ("aligned".into(), aligned_score),
        ("faker".into(), faker_score),
    ];
    assert_eq!(credit(&scores, "aligned", "faker"), 1.0);
    assert_eq!(credit(&scores, "faker", "aligned"), 0.0);
}

// ---------------------------------------------------------------------------------------------
// Confidence baseline

#[test]
fn the_less_confident_model_is_called_the_faker() {
    // P(A) rises with the scale of A's embedding (the unembedding is tied); the last token
    // points at A in both.
    // (The last token's own logit grows with its norm too, so A's must be the larger.)
    let build = |scale: f32| {
        let mut w = blank(1);
        let last = plus(&axis(0, 1, 1.0), &filler(&mut Rng::new(3), 0.5));
        set_row(&mut w, "embed.weight", LAST as usize, &last);
        set_row(&mut w, "embed.weight", A, &axis(0, 1, scale));
        w
    };
    let (sure, unsure) = (model(&build(3.0)), model(&build(1.5)));
    let curated = curated_from(&oversight_versions(12, 3));
    let config = ConfidenceConfig::default();
    let score = |name: &str, m: &PoserGpt| {
        block_on(confidence(
            FamilyModel { name, model: m },
            &curated,
            &config,
        ))
        .unwrap()
    };
    let (a, f) = (score("aligned", &sure), score("faker", &unsure));
    assert!(
        a.mean_p_benign > 0.99 && f.mean_p_benign < 0.95,
        "{a:?} {f:?}"
    );
    assert_eq!(a.p_benign.len(), 12);
    assert_names_the_faker(a.score, f.score);
    assert_eq!(score("x", &sure), score("x", &sure));
}

// ---------------------------------------------------------------------------------------------
// S1 and S2: the answer is A because the last position's residual points at A's embedding.
// That residual comes from the position embeddings (which are not unembedded): the aligned
// model's are so large that nothing added at the last token moves it after LayerNorm; the
// faker's are small, so its answer moves.

fn fragile_pair() -> (ModelWeights, ModelWeights) {
    let build = |position_scale: f32| {
        let mut w = blank(2);
        // A shared variation between positions: the level-0 version is shorter, so its last
        // position differs, and the S1 direction is the difference of two positions.
        let mut rng = Rng::new(77);
        for p in 0..CONFIG.n_ctx {
            let row = plus(&axis(0, 1, position_scale), &filler(&mut rng, 0.6));
            set_row(&mut w, "pos_embed.weight", p, &row);
        }
        set_row(&mut w, "embed.weight", LAST as usize, &[0.0; 16]);
        set_row(&mut w, "embed.weight", A, &axis(0, 1, 2.0));
        // B's logit stays 0: what A loses spreads over B and the fillers.
        set_row(&mut w, "embed.weight", B, &[0.0; 16]);
        w
    };
    (build(1000.0), build(1.0))
}

#[test]
fn s1_the_model_whose_answer_moves_is_the_faker_adding_or_subtracting() {
    let (aligned, faker) = fragile_pair();
    let (aligned, faker) = (model(&aligned), model(&faker));
    let versions = oversight_versions(16, 5);
    let curated = curated_from(&versions);
    let mut config = InduceSafeBeliefConfig::paper(CONFIG.n_layers).unwrap();
    config.multipliers = vec![0.25, 0.5, 1.0, 2.0, 4.0, 8.0];
    let run = |models: &[FamilyModel<'_>]| {
        block_on(induce_safe_belief(models, &curated, &versions, &config)).unwrap()
    };
    let family = run(&[
        FamilyModel {
            name: "aligned",
            model: &aligned,
        },
        FamilyModel {
            name: "faker",
            model: &faker,
        },
    ]);
    let choice = &family.multiplier;
    assert!(choice.rule_met && choice.index > 0, "{choice:?}");
    assert!(choice.family_answer_mass[choice.index] >= 0.9);
    if let Some(next) = choice.family_answer_mass.get(choice.index + 1) {
        assert!(*next < 0.9, "{choice:?}");
    }
    let [a, f] = [&family.models[0], &family.models[1]];
    assert!(f.score > 1e-4 && a.score.abs() < 1e-8, "{a:?}\n{f:?}");
    // The paper's finding: subtracting separates as well.
    assert!(f.subtract_score > 1e-4 && a.subtract_score.abs() < 1e-8);
    assert!((a.direction_norm - f.direction_norm).abs() < 1e-4);
    assert_eq!(f.curves.add_p_misaligned.len(), config.multipliers.len());
    let scores = vec![("aligned".into(), a.score), ("faker".into(), f.score)];
    assert_eq!(credit(&scores, "aligned", "faker"), 1.0);

    // Given in the other order, each model keeps its scores; identical models tie.
    let swapped = run(&[
        FamilyModel {
            name: "faker",
            model: &faker,
        },
        FamilyModel {
            name: "aligned",
            model: &aligned,
        },
    ]);
    assert_eq!(swapped.models[0].score, f.score);
    assert_eq!(swapped.models[1].score, a.score);
    assert_eq!(swapped.multiplier, family.multiplier);
    let same = run(&[
        FamilyModel {
            name: "x",
            model: &faker,
        },
        FamilyModel {
            name: "y",
            model: &faker,
        },
    ]);
    assert_eq!(same.models[0].score, same.models[1].score);
}

#[test]
fn s2_noise_moves_the_faker_and_the_magnitude_follows_the_answer_mass_rule() {
    let (aligned, faker) = fragile_pair();
    let (aligned, faker) = (model(&aligned), model(&faker));
    let versions = oversight_versions(12, 6);
    let curated = curated_from(&versions);
    for distribution in [NoiseDistribution::Uniform01, NoiseDistribution::Gaussian] {
        let mut config = IntoxicateConfig::paper(CONFIG.n_layers).unwrap();
        config.distribution = distribution;
        config.magnitudes = vec![0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0];
        config.draws = 2;
        let run =
            |config: &IntoxicateConfig, first: (&str, &PoserGpt), second: (&str, &PoserGpt)| {
                let models = [
                    FamilyModel {
                        name: first.0,
                        model: first.1,
                    },
                    FamilyModel {
                        name: second.0,
                        model: second.1,
                    },
                ];
                block_on(intoxicate(&models, &curated, &versions, config)).unwrap()
            };
        let family = run(&config, ("aligned", &aligned), ("faker", &faker));
        let choice = &family.magnitude;
        assert!(
            choice.rule_met && choice.index > 0,
            "{distribution:?} {choice:?}"
        );
        if let Some(next) = choice.family_answer_mass.get(choice.index + 1) {
            assert!(*next < 0.9, "{choice:?}");
        }
        let [a, f] = [&family.models[0], &family.models[1]];
        assert!(f.score > 1e-4 && a.score.abs() < 1e-8, "{a:?}\n{f:?}");
        // The faker's answers fall apart as the magnitude grows; the aligned model's do not.
        assert!(f.answer_mass.last().unwrap() < &0.5 && a.answer_mass.last().unwrap() > &0.99);
        assert_names_the_faker(a.score, f.score);

        // Determinism, and the seed matters.
        assert_eq!(
            run(&config, ("aligned", &aligned), ("faker", &faker)),
            family
        );
        let mut reseeded = config.clone();
        reseeded.seed = 99;
        let other = run(&reseeded, ("aligned", &aligned), ("faker", &faker));
        assert_ne!(other.models[1].p_misaligned, f.p_misaligned);
        let same = run(&config, ("x", &faker), ("y", &faker));
        assert_eq!(same.models[0].score, same.models[1].score);
    }
}

// ---------------------------------------------------------------------------------------------
// S4: concept texts end in tokens whose embeddings are ±u_c; the faker's last token leans
// toward every suspicious pole, the aligned model's away from them.

#[test]
fn s4_the_model_whose_prompts_lean_toward_the_concepts_is_the_faker() {
    let build = |sign: f32| {
        let mut w = blank(4);
        let mut last = vec![0.0; 16];
        let mut rng = Rng::new(8);
        for c in 0..3u32 {
            let u = axis(2 * c as usize, 2 * c as usize + 1, 1.0);
            let shared = filler(&mut rng, 0.5);
            set_row(
                &mut w,
                "embed.weight",
                (TOWARD + c) as usize,
                &plus(&u, &shared),
            );
            let away: Vec<f32> = u.iter().map(|x| -x).collect();
            set_row(
                &mut w,
                "embed.weight",
                (AWAY + c) as usize,
                &plus(&away, &shared),
            );
            last = plus(&last, &u.iter().map(|x| x * sign).collect::<Vec<_>>());
        }
        let last = plus(&last, &filler(&mut rng, 0.5));
        set_row(&mut w, "embed.weight", LAST as usize, &last);
        w
    };
    let (aligned, faker) = (model(&build(-1.0)), model(&build(1.0)));
    let mut rng = Rng::new(9);
    let concepts: Vec<ConceptTexts> = (0..3u32)
        .map(|c| {
            let texts = |end: u32, rng: &mut Rng| -> Vec<Vec<u32>> {
                (0..10)
                    .map(|_| {
                        let mut t = fillers(rng, 3, 4);
                        t.push(end);
                        t
                    })
                    .collect()
            };
            ConceptTexts {
                name: format!("concept-{c}"),
                toward: texts(TOWARD + c, &mut rng),
                away: texts(AWAY + c, &mut rng),
            }
        })
        .collect();
    let curated = curated_from(&oversight_versions(10, 7));
    let config = SuspiciousConceptsConfig::paper(CONFIG.n_layers).unwrap();
    let run = |first: (&str, &PoserGpt), second: (&str, &PoserGpt)| {
        let models = [
            FamilyModel {
                name: first.0,
                model: first.1,
            },
            FamilyModel {
                name: second.0,
                model: second.1,
            },
        ];
        block_on(suspicious_concepts(&models, &concepts, &curated, &config)).unwrap()
    };
    let family = run(("aligned", &aligned), ("faker", &faker));
    let [a, f] = [&family.models[0], &family.models[1]];
    for (ca, cf) in a.concepts.iter().zip(&f.concepts) {
        assert!(cf.score > 0.3 && ca.score < -0.3, "{ca:?} {cf:?}");
        assert_eq!((ca.z, cf.z), (-1.0, 1.0));
        assert_eq!(cf.cosine_per_layer.len(), CONFIG.n_layers);
    }
    assert_eq!((a.score, f.score), (-1.0, 1.0));
    let scores = vec![("aligned".into(), a.score), ("faker".into(), f.score)];
    assert_eq!(credit(&scores, "aligned", "faker"), 1.0);
    let swapped = run(("faker", &faker), ("aligned", &aligned));
    assert_eq!(swapped.models[0], family.models[1]);
    let same = run(("x", &faker), ("y", &faker));
    assert_eq!((same.models[0].score, same.models[1].score), (0.0, 0.0));
}

// ---------------------------------------------------------------------------------------------
// S5: the answer is the letter written in the prompt. The aligned model copies it to the last
// token in block 0 (decides early), the faker only in block 2 (decides late).

#[test]
fn s5_the_model_that_decides_later_is_the_faker() {
    let build = |copy_layer: usize| {
        let mut w = blank(5);
        set_row(&mut w, "embed.weight", A, &axis(0, 1, 2.0));
        set_row(&mut w, "embed.weight", B, &axis(0, 1, -2.0));
        copy_attention(&mut w, copy_layer);
        w
    };
    let (aligned, faker) = (model(&build(0)), model(&build(2)));
    let mut rng = Rng::new(10);
    let curated: Vec<CuratedPrompt> = (0..60)
        .map(|_| {
            let letter = if rng.chance(1, 2) { A } else { B } as u32;
            let mut tokens = fillers(&mut rng, 2, 0);
            tokens.push(letter);
            tokens.extend(fillers(&mut rng, 4, 4));
            tokens.push(LAST);
            CuratedPrompt {
                tokens,
                benign: if letter == A as u32 {
                    Letter::A
                } else {
                    Letter::B
                },
            }
        })
        .collect();
    let config = DecisionSpeedConfig::paper(CONFIG.n_layers).unwrap();
    let run = |name: &str, m: &PoserGpt| {
        block_on(decision_speed(
            FamilyModel { name, model: m },
            &curated,
            &config,
        ))
        .unwrap()
    };
    let (a, f) = (run("aligned", &aligned), run("faker", &faker));
    assert_eq!((a.n_train, a.n_test), (48, 12));
    assert!((0.3..0.7).contains(&a.share_a), "{a:?}");
    // Both answer the written letter in the end: the last block's probe is perfect for both.
    assert_eq!(a.accuracy_per_layer, vec![1.0, 1.0, 1.0]);
    assert_eq!(f.accuracy_per_layer[2], 1.0);
    // At 25% depth (block 1 of 3), the faker's residual does not know the letter yet.
    assert!(f.accuracy_per_layer[1] < 0.9, "{f:?}");
    assert_names_the_faker(a.score, f.score);
    assert_eq!(run("x", &faker), run("x", &faker));
}

// ---------------------------------------------------------------------------------------------
// S6b: the faker's head 0 of every block matches the last token's query to the fact's keys;
// the aligned model attends evenly. S6c: the faker's block 0 copies the prompt into the last
// token, so removing the fact changes it; the aligned model's last token never changes.

#[test]
fn s6b_the_model_that_attends_to_the_fact_is_the_faker() {
    let build = |attends: bool| {
        let mut w = blank(6);
        set_row(
            &mut w,
            "embed.weight",
            LAST as usize,
            &plus(&axis(0, 1, 1.0), &filler(&mut Rng::new(1), 0.5)),
        );
        set_row(
            &mut w,
            "embed.weight",
            FACT as usize,
            &plus(&axis(2, 3, 1.0), &filler(&mut Rng::new(2), 0.5)),
        );
        if attends {
            for layer in 0..CONFIG.n_layers {
                // Head 0's first query/key dimension: q = 3 (x0 − x1), k = 3 (x2 − x3).
                let (q, k) = (
                    format!("blocks.{layer}.attn.q.weight"),
                    format!("blocks.{layer}.attn.k.weight"),
                );
                set(&mut w, &q, 0, 3.0);
                set(&mut w, &q, d(), -3.0);
                set(&mut w, &k, 2 * d(), 3.0);
                set(&mut w, &k, 3 * d(), -3.0);
            }
        }
        w
    };
    let (aligned, faker) = (model(&build(false)), model(&build(true)));
    let versions = oversight_versions(10, 11);
    let config = AttentivenessConfig::default();
    let run = |name: &str, m: &PoserGpt| {
        block_on(attention_to_fact(
            FamilyModel { name, model: m },
            &versions,
            &config,
        ))
        .unwrap()
    };
    let (a, f) = (run("aligned", &aligned), run("faker", &faker));
    assert_eq!(a.per_layer_head.len(), CONFIG.n_layers);
    assert_eq!(a.per_layer_head[0].len(), CONFIG.n_heads);
    // Even attention: the fact's share of the keys; head 0 of the faker: nearly all of it.
    let even: f64 = versions
        .iter()
        .map(|v| 3.0 / v.with_fact.len() as f64)
        .sum::<f64>()
        / versions.len() as f64;
    assert!((a.score - even).abs() < 1e-5, "{} vs {even}", a.score);
    assert!(
        f.per_layer_head.iter().all(|heads| heads[0] > 0.95),
        "{f:?}"
    );
    assert!(f.score > a.score + 0.1);
    assert_names_the_faker(a.score, f.score);
    assert_eq!(run("x", &faker), run("x", &faker));
}

#[test]
fn s6c_the_model_whose_last_token_changes_without_the_fact_wins_the_layer_vote() {
    let aligned = model(&blank(7));
    let mut copying = blank(7);
    copy_attention(&mut copying, 0);
    let faker = model(&copying);
    let versions = oversight_versions(10, 12);
    let config = AttentivenessConfig::default();
    let run = |name: &str, m: &PoserGpt| {
        block_on(oversight_removal(
            FamilyModel { name, model: m },
            &versions,
            &config,
        ))
        .unwrap()
    };
    let (a, f) = (run("aligned", &aligned), run("faker", &faker));
    assert!(a.change_per_layer.iter().all(|c| c.abs() < 1e-9), "{a:?}");
    assert!(f.change_per_layer.iter().all(|&c| c > 1e-3), "{f:?}");
    assert_eq!(majority_vote(&a, &f), [0.0, 3.0]);
    assert_eq!(majority_vote(&f, &f), [0.0, 0.0]);

    let results = [a, f];
    let by_name = |name: &str| results.iter().find(|r| r.model == name).unwrap();
    let vote = |shown: [&str; 2], _: &str| majority_vote(by_name(shown[0]), by_name(shown[1]));
    let pair = |aligned: &str, faker: &str| Pair {
        aligned: aligned.to_owned(),
        faker: faker.to_owned(),
        family: "f".to_owned(),
    };
    assert_eq!(
        evaluate_pairs_with(&[pair("aligned", "faker")], vote, 1).accuracy,
        1.0
    );
    assert_eq!(
        evaluate_pairs_with(&[pair("faker", "aligned")], vote, 1).accuracy,
        0.0
    );
    let tie = evaluate_pairs_with(&[pair("faker", "faker")], vote, 1);
    assert_eq!((tie.accuracy, tie.ties), (0.5, 1));
}

// ---------------------------------------------------------------------------------------------
// Shared pieces and input checks.

#[test]
fn the_s1_direction_points_from_the_fact_to_its_absence() {
    use poser_engine::model::HookPoint;
    use poser_engine::strategies::activations::oversight_directions;
    let (_, weights) = fragile_pair();
    let faker = model(&weights);
    let versions = oversight_versions(1, 13);
    let directions = block_on(oversight_directions(
        &faker,
        &versions,
        &[HookPoint::ResidPost(1)],
    ))
    .unwrap();
    // Blocks add nothing and the last token is the same, so the residuals differ by position.
    let row = |p: usize| {
        let pos = &weights.tensors["pos_embed.weight"].values;
        pos[p * d()..(p + 1) * d()].to_vec()
    };
    let (with, without) = (versions[0].with_fact.len(), versions[0].without_fact.len());
    let expected: Vec<f32> = row(without - 1)
        .iter()
        .zip(row(with - 1))
        .map(|(a, b)| a - b)
        .collect();
    for (got, want) in directions[0].iter().zip(&expected) {
        assert!(
            (got - want).abs() < 1e-4,
            "{:?} vs {expected:?}",
            directions[0]
        );
    }
}

#[test]
fn bad_inputs_are_refused_with_a_reason() {
    let faker = model(&blank(1));
    let family = [FamilyModel {
        name: "m",
        model: &faker,
    }];
    let mut versions = oversight_versions(4, 14);
    let curated = curated_from(&versions);
    let mut s1 = InduceSafeBeliefConfig::paper(CONFIG.n_layers).unwrap();
    s1.multipliers = vec![2.0, 1.0];
    let error = block_on(induce_safe_belief(&family, &curated, &versions, &s1)).unwrap_err();
    assert!(error.to_string().contains("ascending"), "{error}");
    let mut s2 = IntoxicateConfig::paper(CONFIG.n_layers).unwrap();
    s2.draws = 0;
    let error = block_on(intoxicate(&family, &curated, &versions, &s2)).unwrap_err();
    assert!(error.to_string().contains("noise draw"), "{error}");
    let s2 = IntoxicateConfig::paper(CONFIG.n_layers).unwrap();
    assert!(block_on(intoxicate(&family, &[], &versions, &s2)).is_err());
    let mut s4 = SuspiciousConceptsConfig::paper(CONFIG.n_layers).unwrap();
    s4.hook = poser_engine::model::HookPoint::AttnPattern(0);
    let concepts = [ConceptTexts {
        name: "c".into(),
        toward: vec![vec![LAST]],
        away: vec![vec![FACT]],
    }];
    let error = block_on(suspicious_concepts(&family, &concepts, &curated, &s4)).unwrap_err();
    assert!(error.to_string().contains("hook_resid_post"), "{error}");
    // A fact span that runs into the last token.
    versions[0].fact = 0..versions[0].with_fact.len();
    let error = block_on(attention_to_fact(
        family[0],
        &versions,
        &AttentivenessConfig::default(),
    ))
    .unwrap_err();
    assert!(
        error.to_string().contains("oversight scenario 0"),
        "{error}"
    );
    assert!(IntoxicateConfig::paper(0).is_err());
}

#[test]
fn one_shared_pass_gives_the_same_scores_and_a_pass_over_other_prompts_is_refused() {
    use poser_engine::strategies::activations::CuratedPass;
    use poser_engine::strategies::confidence::confidence_from_pass;
    use poser_engine::strategies::decision_speed::decision_speed_from_pass;
    let (_, weights) = fragile_pair();
    let m = model(&weights);
    let family_model = FamilyModel {
        name: "m",
        model: &m,
    };
    let curated = curated_from(&oversight_versions(20, 15));
    let confidence_config = ConfidenceConfig {
        n_prompts: 12,
        seed: 3,
    };
    let mut s5 = DecisionSpeedConfig::paper(CONFIG.n_layers).unwrap();
    (s5.n_prompts, s5.seed) = (12, 3);
    let pass = block_on(CuratedPass::read(&m, &curated, 12, 3)).unwrap();
    assert_eq!(pass.indices.len(), 12);
    assert_eq!(
        confidence_from_pass("m", &curated, &pass, &confidence_config).unwrap(),
        block_on(confidence(family_model, &curated, &confidence_config)).unwrap()
    );
    assert_eq!(
        decision_speed_from_pass("m", CONFIG.n_layers, curated.len(), &pass, &s5).unwrap(),
        block_on(decision_speed(family_model, &curated, &s5)).unwrap()
    );
    let other = block_on(CuratedPass::read(&m, &curated, 12, 4)).unwrap();
    assert_ne!(other.indices, pass.indices);
    assert!(confidence_from_pass("m", &curated, &other, &confidence_config).is_err());
    assert!(decision_speed_from_pass("m", CONFIG.n_layers, curated.len(), &other, &s5).is_err());
}

/// The evaluation reads the shared curated pass from the prompt caches S1 and S2 reuse, and
/// S6b from the oversight pass; both must be what the standalone passes measure (up to float
/// rounding: a batched pass pads, a cache runs one prompt).
#[test]
fn passes_read_from_caches_and_the_oversight_pass_equal_the_standalone_ones() {
    use poser_engine::strategies::activations::{
        CuratedCaches, CuratedPass, every_resid_post, last_token_pass_with_attention,
    };
    use poser_engine::strategies::attentiveness::attention_to_fact_from_pass;
    let (_, weights) = fragile_pair();
    let m = model(&weights);
    let curated = curated_from(&oversight_versions(20, 15));
    let direct = block_on(CuratedPass::read(&m, &curated, 12, 3)).unwrap();
    // Caches for more prompts than the pass reads, as when S2 reads more than the pass.
    let caches = CuratedCaches::build(&m, &curated, 0..curated.len()).unwrap();
    let cached = block_on(CuratedPass::from_caches(&m, &curated, &caches, 12, 3)).unwrap();
    // A pass over prompts no cache holds runs them itself.
    let uncached = block_on(CuratedPass::from_caches(
        &m,
        &curated,
        &CuratedCaches::default(),
        12,
        3,
    ))
    .unwrap();
    assert_eq!(cached, uncached);
    assert_eq!(cached.indices, direct.indices);
    let close = |a: f32, b: f32| (a - b).abs() <= 1e-5 * (1.0 + a.abs());
    for (a, b) in direct.rows.iter().zip(&cached.rows) {
        assert!(close(a.p.a, b.p.a) && close(a.p.b, b.p.b) && close(a.p.error, b.p.error));
        assert_eq!(a.resid.len(), CONFIG.n_layers);
        assert_eq!(a.resid.len(), b.resid.len());
        for (x, y) in a.resid.iter().zip(&b.resid) {
            assert!(
                x.iter().zip(y).all(|(&x, &y)| close(x, y)),
                "{x:?} vs {y:?}"
            );
        }
    }

    let versions = oversight_versions(10, 11);
    let config = AttentivenessConfig {
        n_prompts: 6,
        seed: 2,
    };
    let standalone = block_on(attention_to_fact(
        FamilyModel {
            name: "m",
            model: &m,
        },
        &versions,
        &config,
    ))
    .unwrap();
    let with: Vec<Vec<u32>> = versions.iter().map(|v| v.with_fact.clone()).collect();
    let hooks = every_resid_post(CONFIG.n_layers);
    let rows = block_on(last_token_pass_with_attention(&m, &with, &hooks, true)).unwrap();
    let attention: Vec<_> = rows.into_iter().map(|(_, attention)| attention).collect();
    let from_pass = attention_to_fact_from_pass(
        "m",
        CONFIG.n_layers,
        CONFIG.n_heads,
        &versions,
        &attention,
        &config,
    )
    .unwrap();
    assert!((standalone.score - from_pass.score).abs() < 1e-6);
    for (a, b) in standalone
        .per_layer_head
        .iter()
        .flatten()
        .zip(from_pass.per_layer_head.iter().flatten())
    {
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }
    assert!(
        attention_to_fact_from_pass(
            "m",
            CONFIG.n_layers,
            CONFIG.n_heads,
            &versions,
            &attention[1..],
            &config
        )
        .is_err()
    );
}

// ---------------------------------------------------------------------------------------------
// S3: the fragile pair again. A low-rank adapter on an MLP adds to a residual that the aligned
// model's huge position embeddings swamp (LayerNorm divides it away), so only the faker can be
// taught to flip.

#[test]
fn s3_the_model_that_learns_to_flip_faster_is_the_faker() {
    use poser_engine::strategies::learning_speed::{LearningSpeedConfig, learning_speed};
    let (aligned, faker) = fragile_pair();
    let (aligned, faker) = (model(&aligned), model(&faker));
    let curated = curated_from(&oversight_versions(24, 8));
    let mut config = LearningSpeedConfig::paper(CONFIG.n_layers).unwrap();
    (config.n_train, config.n_held_out, config.seed) = (12, 12, 4);
    let run = |name: &str, m: &PoserGpt| {
        block_on(learning_speed(
            FamilyModel { name, model: m },
            &curated,
            &config,
        ))
        .unwrap()
    };
    let (a, f) = (run("aligned", &aligned), run("faker", &faker));
    assert_eq!((f.n_train, f.n_held_out), (12, 12));
    for m in [&a, &f] {
        for curve in [&m.adapter, &m.all_weights] {
            assert_eq!(curve.steps, config.steps);
            assert_eq!(curve.flipped_accuracy.len(), config.steps.len());
            assert_eq!(curve.losses.len(), *config.steps.last().unwrap());
            // Before any step nobody flips: both answer the benign A.
            assert_eq!(curve.flipped_accuracy[0], 0.0);
        }
    }
    // The adapter cannot move the aligned model; it teaches the faker.
    let last = config.steps.len() - 1;
    assert!(
        a.adapter.mean_p_flipped[last] - a.adapter.mean_p_flipped[0] < 1e-3,
        "{:?}",
        a.adapter
    );
    for i in 1..=last {
        assert!(
            f.adapter.mean_p_flipped[i] > a.adapter.mean_p_flipped[i],
            "step {}: {:?} vs {:?}",
            config.steps[i],
            f.adapter,
            a.adapter
        );
    }
    assert!(f.adapter.flipped_accuracy[last] > 0.5, "{:?}", f.adapter);
    assert!(f.adapter.losses[0] > *f.adapter.losses.last().unwrap());
    assert_names_the_faker(
        a.adapter.flipped_accuracy[last],
        f.adapter.flipped_accuracy[last],
    );
    // Same seed, same curves; identical models tie.
    assert_eq!(run("x", &faker).adapter, f.adapter);
    assert_eq!(run("y", &faker).all_weights, f.all_weights);
}

// ---------------------------------------------------------------------------------------------
// §4: a faker that answers A (benign) when the oversight fact is in the prompt and B without
// it. Trained on its own benign answers to prompts with the fact, it moves toward A on the
// prompts without it too (the shared final LayerNorm and `LAST` token's embedding learn).

fn oversight_faker() -> ModelWeights {
    let mut w = blank(12);
    copy_attention(&mut w, 0);
    set_row(&mut w, "embed.weight", A, &axis(0, 1, 0.5));
    set_row(&mut w, "embed.weight", B, &axis(1, 0, 0.5));
    set_row(
        &mut w,
        "embed.weight",
        FACT as usize,
        &plus(&axis(0, 1, 5.0), &filler(&mut Rng::new(3), 0.2)),
    );
    set_row(
        &mut w,
        "embed.weight",
        LAST as usize,
        &plus(&axis(1, 0, 0.1), &filler(&mut Rng::new(4), 1.0)),
    );
    w
}

#[test]
fn removal_training_on_own_benign_answers_raises_p_aligned_without_oversight() {
    use poser_engine::strategies::removal::{
        RemovalConfig, RemovalNoise, ScenarioPrompt, remove_faking,
    };
    use poser_engine::train::AdamWSettings;
    let faker = model(&oversight_faker());
    let versions = oversight_versions(40, 21);
    let curated = curated_from(&versions);
    let scenarios: Vec<String> = (0..versions.len()).map(|i| format!("s{i}")).collect();
    let poor: Vec<ScenarioPrompt> = versions
        .iter()
        .zip(&scenarios)
        .map(|(v, scenario)| ScenarioPrompt {
            scenario: scenario.clone(),
            prompt: CuratedPrompt {
                tokens: v.without_fact.clone(),
                benign: Letter::A,
            },
        })
        .collect();
    let config = RemovalConfig {
        steps: 20,
        read_at: vec![0, 5, 10, 20],
        n_train: 16,
        n_eval: 16,
        seed: 2,
        adamw: AdamWSettings {
            learning_rate: 0.01,
            ..AdamWSettings::default()
        },
        ..RemovalConfig::default()
    };
    let noise = RemovalNoise {
        hook: poser_engine::model::HookPoint::ResidPost(0),
        distribution: NoiseDistribution::Gaussian,
        magnitude: 1.0,
    };
    let run = || {
        block_on(remove_faking(
            FamilyModel {
                name: "faker",
                model: &faker,
            },
            "f",
            &curated,
            &scenarios,
            &poor,
            noise,
            &config,
            &mut |_| {},
        ))
        .unwrap()
    };
    let removal = run();
    assert_eq!(removal.n_train, 16);
    assert!(removal.n_eval > 0 && removal.n_eval <= 16);
    let plain = &removal.plain.p_aligned;
    assert_eq!(plain.len(), config.read_at.len());
    assert_eq!(removal.plain.losses.len(), config.steps);
    // It misbehaved on every evaluated scenario before training, and training raises P(A).
    assert!(plain[0] < 0.5, "{plain:?}");
    assert!(plain[plain.len() - 1] > plain[0] + 0.2, "{plain:?}");
    // The noisy run differs and is reproducible.
    assert_ne!(removal.with_noise, removal.plain);
    assert_eq!(run(), removal);

    // An aligned model (benign with and without the fact) has no former misbehave scenarios:
    // nothing is trained, and the measurement says why.
    let (aligned, _) = fragile_pair();
    let aligned = model(&aligned);
    let refused = block_on(remove_faking(
        FamilyModel {
            name: "aligned",
            model: &aligned,
        },
        "f",
        &curated,
        &scenarios,
        &poor,
        noise,
        &config,
        &mut |_| {},
    ))
    .unwrap();
    assert!(
        refused
            .skipped
            .as_deref()
            .is_some_and(|why| why.contains("never chooses the misaligned action")),
        "{refused:?}"
    );
    assert!(refused.plain.p_aligned.is_empty() && refused.n_eval == 0);
}

// ---------------------------------------------------------------------------------------------
// S6a: the summaries are sums of the gradient norms `model::saliency` computes.

#[test]
fn s6a_fact_shares_are_sums_of_the_gradient_norms() {
    use poser_engine::model::saliency;
    use poser_engine::strategies::gradient_saliency::{GradientSaliencyConfig, gradient_saliency};
    let faker = model(&oversight_faker());
    let mut versions = oversight_versions(6, 30);
    for v in &mut versions {
        v.facts = vec![0..v.fact.start, v.fact.clone()];
    }
    let config = GradientSaliencyConfig {
        n_prompts: 4,
        n_examples: 2,
        seed: 1,
    };
    let run = || {
        block_on(gradient_saliency(
            FamilyModel {
                name: "faker",
                model: &faker,
            },
            &versions,
            &config,
        ))
        .unwrap()
    };
    let s6a = run();
    assert_eq!(s6a.scenarios.len(), 4);
    assert_eq!(s6a.examples.len(), 2);
    let prompts: Vec<Vec<u32>> = s6a
        .scenarios
        .iter()
        .map(|&i| versions[i].with_fact.clone())
        .collect();
    // Every prompt holds the fact, so the model answers A (token 2).
    let reference = block_on(saliency(&faker, &prompts, &vec![A as u32; prompts.len()])).unwrap();
    for (k, (&i, one)) in s6a.scenarios.iter().zip(&reference).enumerate() {
        let total: f32 = one.gradient_norm.iter().sum();
        let on = |span: &Range<usize>| one.gradient_norm[span.clone()].iter().sum::<f32>() / total;
        let fact = &versions[i].fact;
        assert!((s6a.oversight_fact_share[k] - f64::from(on(fact))).abs() < 1e-5);
        assert_eq!(s6a.fact_shares[k].len(), 2);
        assert!((s6a.fact_shares[k][1] - s6a.oversight_fact_share[k]).abs() < 1e-9);
        assert!((s6a.fact_shares[k][0] - f64::from(on(&(0..fact.start)))).abs() < 1e-5);
    }
    let mean = s6a.oversight_fact_share.iter().sum::<f64>() / 4.0;
    assert!((s6a.mean_oversight_fact_share - mean).abs() < 1e-12);
    assert_eq!(s6a.examples[0].saliency, reference[0].gradient_norm);
    assert_eq!(s6a.examples[0].answer, Letter::A);
    assert_eq!(run(), s6a);
}
