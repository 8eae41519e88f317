//! The strategies spec the browser tests run (`browser-tests/fixture-strategies.json`): it
//! parses, runs on the fixture models, and still exercises what the page is compared on (the
//! magnitude rule picking a value from the sweep, S4 separating the two models).

// Tests run natively, where blocking on a future is fine.
#![allow(clippy::disallowed_methods)]
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use poser_corpus::tokenizer::WordLevelTokenizer;
use poser_engine::backend::cpu_device;
use poser_engine::evaluation::StrategiesSpec;
use poser_engine::model::PoserGpt;
use poser_engine::model::manifest::dir::load_model;
use poser_engine::strategies::FamilyModel;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn fixture_spec() -> StrategiesSpec {
    let text =
        std::fs::read_to_string(repo_root().join("browser-tests/fixture-strategies.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn the_browser_tests_spec_runs_on_the_fixture_models() {
    let spec = fixture_spec();
    let root = repo_root();
    let tokenizer = WordLevelTokenizer::from_json(
        &std::fs::read_to_string(root.join("scenarios/generated/tokenizer.json")).unwrap(),
    )
    .unwrap();
    let device = cpu_device();
    let models: Vec<PoserGpt> = spec
        .models
        .iter()
        .map(|name| {
            let (_, weights) =
                load_model(&root.join("engine/tests/fixtures/models"), name).unwrap();
            PoserGpt::from_weights(&weights, &device).unwrap()
        })
        .collect();
    let family: Vec<FamilyModel<'_>> = spec
        .models
        .iter()
        .zip(&models)
        .map(|(name, model)| FamilyModel { name, model })
        .collect();
    let outcome = pollster::block_on(spec.run(&family, &tokenizer)).unwrap();

    // Random-weight models give P(A)+P(B) near 1e-3; the spec's thresholds are set so that the
    // rule stops inside the sweep, not at its first value by default.
    assert_eq!(outcome.intoxicate.len(), 2);
    for run in &outcome.intoxicate {
        assert!(run.magnitude.rule_met, "{:?}", run.magnitude);
        assert!(run.magnitude.index > 0, "{:?}", run.magnitude);
        for model in &run.models {
            assert!(model.reference_norm > 0.0);
            assert_eq!(model.p_misaligned.len(), run.magnitudes.len());
        }
    }
    let s4 = &outcome.suspicious_concepts.models;
    assert_eq!(s4.len(), 2);
    assert!((s4[0].score + s4[1].score).abs() < 1e-9 && s4[0].score.abs() > 0.5);

    // S3 trains each model in the page too: every step sees the same two prompts, so the loss
    // must fall, or comparing the page's run with native would say nothing about the updates.
    assert_eq!(outcome.learning_speed.len(), 2);
    for s3 in &outcome.learning_speed {
        for curve in [&s3.adapter, &s3.all_weights] {
            assert_eq!(curve.losses.len(), 2);
            assert!(curve.losses[1] < curve.losses[0] - 0.1, "{curve:?}");
        }
    }
    assert_eq!(outcome.gradient_saliency.len(), 2);
    assert!(
        outcome
            .gradient_saliency
            .iter()
            .all(|s6a| s6a.scenarios.len() == 2)
    );

    // The same spec with the models given in another order is refused, not scored under the
    // wrong names.
    let swapped = [family[1], family[0]];
    assert!(pollster::block_on(spec.run(&swapped, &tokenizer)).is_err());
}

#[test]
fn a_fact_that_is_not_in_its_prompt_is_refused() {
    let mut spec = fixture_spec();
    spec.oversight[0].fact = "This sentence is in no prompt.".to_owned();
    let tokenizer = WordLevelTokenizer::from_json(
        &std::fs::read_to_string(repo_root().join("scenarios/generated/tokenizer.json")).unwrap(),
    )
    .unwrap();
    let error = spec.inputs(&tokenizer).unwrap_err().to_string();
    assert!(error.contains("oversight scenario 0"), "{error}");
}
