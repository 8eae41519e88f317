//! Saliency (S6a) against its acceptance check: gradients of log P(answer) with respect to
//! `hook_embed` match finite differences of the traced forward pass.

// Tests run natively, where blocking on a future is fine.
#![allow(clippy::disallowed_methods)]
#![allow(clippy::unwrap_used)]

mod common;
use common::{CONFIG, model, prompt};

use poser_engine::model::{
    Edit, ForwardRequest, HookPoint, Intervention, PoserGpt, Positions, forward, saliency,
    span_sums,
};

/// log P(answer) at the last position, with `delta` added to `hook_embed` at `position`.
fn log_prob_with(
    model: &PoserGpt,
    tokens: &[u32],
    answer: u32,
    position: usize,
    delta: Vec<f32>,
) -> f64 {
    let request = ForwardRequest {
        captures: Vec::new(),
        interventions: vec![Intervention {
            hook: HookPoint::Embed,
            positions: Positions::At(vec![position]),
            edit: Edit::AddVector(delta),
        }],
    };
    let output = pollster::block_on(forward(model, &[tokens.to_vec()], &request))
        .unwrap()
        .remove(0);
    let logits: Vec<f64> = output.last_logits.iter().map(|&l| f64::from(l)).collect();
    let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let log_total = logits.iter().map(|l| (l - max).exp()).sum::<f64>().ln() + max;
    logits[answer as usize] - log_total
}

#[test]
fn embedding_gradients_match_finite_differences() {
    let model = model(3);
    // Two prompts of different lengths: padding must not leak into either gradient.
    let prompts = vec![prompt(20, 9), prompt(21, 6)];
    let answers = [2, 3];
    let saliencies = pollster::block_on(saliency(&model, &prompts, &answers)).unwrap();
    let eps = 1e-2_f32;
    let mut checked = 0;
    for ((tokens, &answer), found) in prompts.iter().zip(&answers).zip(&saliencies) {
        assert_eq!(found.gradients.len(), tokens.len() * CONFIG.d_model);
        let zero = vec![0.0; CONFIG.d_model];
        let log_p = log_prob_with(&model, tokens, answer, 0, zero);
        assert!((f64::from(found.log_prob) - log_p).abs() < 1e-4, "log P");
        for position in [0, tokens.len() / 2, tokens.len() - 1] {
            for dim in [0, 5, CONFIG.d_model - 1] {
                let mut delta = vec![0.0; CONFIG.d_model];
                delta[dim] = eps;
                let up = log_prob_with(&model, tokens, answer, position, delta.clone());
                delta[dim] = -eps;
                let down = log_prob_with(&model, tokens, answer, position, delta);
                let numeric = (up - down) / (2.0 * f64::from(eps));
                let analytic = f64::from(found.gradients[position * CONFIG.d_model + dim]);
                assert!(
                    (numeric - analytic).abs() <= 5e-4 * numeric.abs().max(1.0),
                    "position {position}, dim {dim}: finite difference {numeric}, gradient {analytic}"
                );
                checked += 1;
            }
        }
        // The last token's gradient is never zero in a random model: the check is not vacuous.
        assert!(found.gradient_norm.iter().all(|&n| n > 0.0));
    }
    assert_eq!(checked, 18);
}

#[test]
fn per_token_scores_follow_from_the_gradients_and_batches_agree() {
    let model = model(4);
    let prompts = vec![prompt(30, 5), prompt(31, 8)];
    let together = pollster::block_on(saliency(&model, &prompts, &[4, 2])).unwrap();
    let alone = pollster::block_on(saliency(&model, &prompts[..1], &[4])).unwrap();
    let difference = together[0]
        .gradients
        .iter()
        .zip(&alone[0].gradients)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    assert!(difference < 1e-6, "{difference}");
    for found in &together {
        for (row, &norm) in found
            .gradients
            .chunks(CONFIG.d_model)
            .zip(&found.gradient_norm)
        {
            let expected = row.iter().map(|g| g * g).sum::<f32>().sqrt();
            assert!((expected - norm).abs() < 1e-6);
        }
        assert_eq!(found.gradient_times_input.len(), found.tokens.len());
    }
}

#[test]
fn span_sums_add_each_facts_tokens() {
    let scores = [1.0, 2.0, 3.0, 4.0, 5.0];
    assert_eq!(
        span_sums(&scores, &[0..2, 2..5, 1..1]).unwrap(),
        vec![3.0, 12.0, 0.0]
    );
    let error = span_sums(&scores, &[0..1, 3..6]).unwrap_err();
    assert!(error.to_string().contains("3..6"), "{error}");
}

#[test]
fn saliency_refuses_mismatched_answers() {
    let model = model(5);
    let prompts = vec![prompt(40, 4)];
    assert!(pollster::block_on(saliency(&model, &prompts, &[])).is_err());
    assert!(pollster::block_on(saliency(&model, &prompts, &[50])).is_err());
}

/// The playground's attribution: its probabilities are the plain forward pass's, its saliency
/// is `saliency` for the chosen letter, and spans covering the whole prompt hold all of the
/// saliency and all of the last token's attention.
#[test]
fn attribution_agrees_with_forward_and_saliency_and_its_shares_are_shares() {
    use poser_engine::model::attribute_prompt;
    let model = model(41);
    let tokens = prompt(42, 17);
    let whole = 0..tokens.len();
    let spans = vec![2..6, 9..12, whole];
    let attribution = pollster::block_on(attribute_prompt(&model, &tokens, &spans)).unwrap();
    let plain = pollster::block_on(forward(
        &model,
        std::slice::from_ref(&tokens),
        &ForwardRequest::default(),
    ))
    .unwrap();
    assert_eq!(attribution.p, plain[0].p);
    let (letter, id) = if plain[0].p.a >= plain[0].p.b {
        ("A", 2)
    } else {
        ("B", 3)
    };
    assert_eq!(attribution.chosen, letter);
    let expected =
        pollster::block_on(saliency(&model, std::slice::from_ref(&tokens), &[id])).unwrap();
    assert_eq!(attribution.saliency, expected[0].gradient_norm);
    let sums = span_sums(&expected[0].gradient_norm, &spans).unwrap();
    let total: f32 = expected[0].gradient_norm.iter().sum();
    for (share, sum) in attribution.fact_saliency_share.iter().zip(&sums) {
        assert!((share - sum / total).abs() < 1e-6);
    }
    assert!((attribution.fact_saliency_share[2] - 1.0).abs() < 1e-5);
    assert!((attribution.fact_attention_share[2] - 1.0).abs() < 1e-5);
    let parts = attribution.fact_attention_share[0] + attribution.fact_attention_share[1];
    assert!(parts > 0.0 && parts < 1.0, "{parts}");
    let beyond = std::slice::from_ref(&(0..tokens.len() + 1)).to_vec();
    assert!(pollster::block_on(attribute_prompt(&model, &tokens, &beyond)).is_err());
}
