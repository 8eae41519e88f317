//! The model runtime against its acceptance checks, on the CPU backend: the plain-Rust
//! reference, batching with padding, last-position recomputation, interventions and captures,
//! attention patterns.

// Tests run natively, where blocking on a future is fine.
#![allow(clippy::disallowed_methods)]
// Helpers outside `#[test]` functions are test code too.
#![allow(clippy::unwrap_used)]

mod common;
use common::{CONFIG, prompt, weights};

use poser_engine::backend::cpu_device;
use poser_engine::model::reference::reference_forward;
use poser_engine::model::{
    CaptureRequest, Edit, ForwardRequest, HookPoint, Intervention, ModelWeights, NoiseDistribution,
    PoserGpt, Positions, PromptCache, PromptOutput, forward,
};

fn model(weights: &ModelWeights) -> PoserGpt {
    PoserGpt::from_weights(weights, &cpu_device()).unwrap()
}

fn run(model: &PoserGpt, prompts: &[Vec<u32>], request: &ForwardRequest) -> Vec<PromptOutput> {
    pollster::block_on(forward(model, prompts, request)).unwrap()
}

/// Largest difference, each relative to max(1, |expected|).
fn max_difference(actual: &[f32], expected: &[f32]) -> f32 {
    assert_eq!(actual.len(), expected.len(), "lengths differ");
    actual
        .iter()
        .zip(expected)
        .map(|(a, e)| (a - e).abs() / e.abs().max(1.0))
        .fold(0.0, f32::max)
}

fn assert_close(actual: &[f32], expected: &[f32], tolerance: f32, what: &str) {
    let difference = max_difference(actual, expected);
    assert!(
        difference <= tolerance,
        "{what}: differs by {difference} (tolerance {tolerance})"
    );
}

fn assert_outputs_close(actual: &PromptOutput, expected: &PromptOutput, tolerance: f32) {
    assert_eq!(actual.tokens, expected.tokens);
    assert_close(
        &actual.last_logits,
        &expected.last_logits,
        tolerance,
        "logits",
    );
    let p = |o: &PromptOutput| [o.p.a, o.p.b, o.p.error];
    assert_close(&p(actual), &p(expected), tolerance, "answer probabilities");
    assert_eq!(actual.captures.len(), expected.captures.len());
    for (a, e) in actual.captures.iter().zip(&expected.captures) {
        assert_eq!(
            (a.hook, &a.positions, &a.shape),
            (e.hook, &e.positions, &e.shape)
        );
        assert_close(
            &a.values,
            &e.values,
            tolerance,
            &format!("capture {}", a.hook),
        );
    }
}

fn every_hook(positions: Positions) -> Vec<CaptureRequest> {
    let mut hooks = vec![HookPoint::Embed];
    for layer in 0..CONFIG.n_layers {
        hooks.extend([
            HookPoint::ResidPre(layer),
            HookPoint::AttnPattern(layer),
            HookPoint::ResidPost(layer),
        ]);
    }
    hooks
        .into_iter()
        .map(|hook| CaptureRequest {
            hook,
            positions: positions.clone(),
        })
        .collect()
}

#[test]
fn burn_model_matches_the_plain_rust_reference() {
    for seed in [1, 2] {
        let weights = weights(seed);
        let model = model(&weights);
        let tokens = prompt(seed + 10, 13);
        let request = ForwardRequest {
            captures: every_hook(Positions::All),
            interventions: Vec::new(),
        };
        let burn = run(&model, std::slice::from_ref(&tokens), &request).remove(0);
        let reference = reference_forward(&weights, &tokens).unwrap();
        assert_close(&burn.last_logits, &reference.last_logits, 1e-4, "logits");
        for layer in 0..CONFIG.n_layers {
            let post = burn
                .captures
                .iter()
                .find(|c| c.hook == HookPoint::ResidPost(layer))
                .unwrap();
            let last = &post.values[12 * CONFIG.d_model..];
            assert_close(last, &reference.resid_post_last[layer], 1e-4, "resid_post");
            let pattern = burn
                .captures
                .iter()
                .find(|c| c.hook == HookPoint::AttnPattern(layer))
                .unwrap();
            let flat: Vec<f32> = reference.patterns[layer]
                .iter()
                .flatten()
                .flatten()
                .copied()
                .collect();
            assert_close(&pattern.values, &flat, 1e-4, "pattern");
        }
        // The logits are not trivially small or flat.
        let spread = burn.last_logits.iter().fold(0.0_f32, |m, v| m.max(v.abs()));
        assert!(spread > 1.0, "logits too flat to compare: {spread}");
    }
}

#[test]
fn a_padded_batch_of_mixed_lengths_equals_each_prompt_alone() {
    let model = model(&weights(3));
    let prompts: Vec<Vec<u32>> = [7, 1, 24, 12, 3]
        .iter()
        .enumerate()
        .map(|(i, &len)| prompt(100 + i as u64, len))
        .collect();
    for positions in [Positions::Last, Positions::All, Positions::At(vec![0])] {
        let request = ForwardRequest {
            captures: every_hook(positions),
            interventions: vec![Intervention {
                hook: HookPoint::ResidPre(1),
                positions: Positions::Last,
                edit: Edit::Noise {
                    distribution: NoiseDistribution::Gaussian,
                    seed: 9,
                    magnitude: 2.0,
                },
            }],
        };
        let batched = run(&model, &prompts, &request);
        for (prompt, together) in prompts.iter().zip(&batched) {
            let alone = run(&model, std::slice::from_ref(prompt), &request).remove(0);
            assert_outputs_close(together, &alone, 1e-5);
        }
    }
}

#[test]
fn last_position_recomputation_equals_full_recomputation() {
    let model = model(&weights(4));
    let tokens = prompt(5, 17);
    let captures: Vec<HookPoint> = every_hook(Positions::Last)
        .into_iter()
        .map(|c| c.hook)
        .collect();
    let cache = PromptCache::new(&model, &tokens).unwrap();
    for hook in [
        HookPoint::Embed,
        HookPoint::ResidPre(0),
        HookPoint::ResidPost(0),
        HookPoint::ResidPre(2),
        HookPoint::ResidPost(2),
    ] {
        let edits: Vec<Edit> = (0..20)
            .map(|i| Edit::Noise {
                distribution: NoiseDistribution::Uniform01,
                seed: 11,
                magnitude: i as f32 * 0.5,
            })
            .collect();
        let fast = pollster::block_on(cache.run_edits(&model, hook, &edits, &captures)).unwrap();
        assert_eq!(fast.len(), 20);
        for (edit, fast) in edits.iter().zip(&fast) {
            let request = ForwardRequest {
                captures: every_hook(Positions::Last),
                interventions: vec![Intervention {
                    hook,
                    positions: Positions::Last,
                    edit: edit.clone(),
                }],
            };
            let full = run(&model, std::slice::from_ref(&tokens), &request).remove(0);
            assert_outputs_close(fast, &full, 1e-5);
        }
        // The magnitudes do change the answer, so the comparison above is not vacuous.
        let moved = max_difference(&fast[19].last_logits, &fast[0].last_logits);
        assert!(moved > 1e-2, "{hook}: noise moved logits by only {moved}");
    }
    // A one-token prompt has nothing to cache but still works.
    let one = prompt(6, 1);
    let cache = PromptCache::new(&model, &one).unwrap();
    let edit = Edit::AddVector(vec![0.5; CONFIG.d_model]);
    let fast = pollster::block_on(cache.run_edits(
        &model,
        HookPoint::ResidPre(1),
        std::slice::from_ref(&edit),
        &[],
    ))
    .unwrap()
    .remove(0);
    let request = ForwardRequest {
        captures: Vec::new(),
        interventions: vec![Intervention {
            hook: HookPoint::ResidPre(1),
            positions: Positions::Last,
            edit,
        }],
    };
    let full = run(&model, &[one], &request).remove(0);
    assert_outputs_close(&fast, &full, 1e-5);
}

#[test]
fn zero_edits_leave_logits_unchanged() {
    let model = model(&weights(5));
    let prompts = vec![prompt(20, 9), prompt(21, 4)];
    let plain = run(&model, &prompts, &ForwardRequest::default());
    let zero_edits = [
        Edit::AddVector(vec![0.0; CONFIG.d_model]),
        Edit::Noise {
            distribution: NoiseDistribution::Gaussian,
            seed: 3,
            magnitude: 0.0,
        },
    ];
    for edit in &zero_edits {
        for hook in [HookPoint::Embed, HookPoint::ResidPost(1)] {
            let request = ForwardRequest {
                captures: Vec::new(),
                interventions: vec![Intervention {
                    hook,
                    positions: Positions::All,
                    edit: edit.clone(),
                }],
            };
            for (edited, plain) in run(&model, &prompts, &request).iter().zip(&plain) {
                assert_outputs_close(edited, plain, 1e-6);
            }
        }
    }
    let cache = PromptCache::new(&model, &prompts[0]).unwrap();
    let cached =
        pollster::block_on(cache.run_edits(&model, HookPoint::ResidPre(2), &zero_edits, &[]))
            .unwrap();
    for edited in &cached {
        assert_outputs_close(edited, &plain[0], 1e-5);
    }
}

#[test]
fn a_captured_residual_fed_back_reproduces_the_logits() {
    let model = model(&weights(6));
    let tokens = prompt(30, 11);
    let at = HookPoint::ResidPost(1);
    let capture = |interventions: Vec<Intervention>| {
        run(
            &model,
            std::slice::from_ref(&tokens),
            &ForwardRequest {
                captures: vec![CaptureRequest {
                    hook: at,
                    positions: Positions::Last,
                }],
                interventions,
            },
        )
        .remove(0)
    };
    // Push the residual somewhere else upstream, and keep where it ends up at block 1.
    let pushed = capture(vec![Intervention {
        hook: HookPoint::ResidPre(0),
        positions: Positions::Last,
        edit: Edit::Noise {
            distribution: NoiseDistribution::Gaussian,
            seed: 1,
            magnitude: 5.0,
        },
    }]);
    let clean = capture(Vec::new());
    let difference: Vec<f32> = pushed.captures[0]
        .values
        .iter()
        .zip(&clean.captures[0].values)
        .map(|(p, c)| p - c)
        .collect();
    // Adding (pushed - clean) at block 1 puts the pushed residual there: same logits.
    let fed_back = capture(vec![Intervention {
        hook: at,
        positions: Positions::Last,
        edit: Edit::AddVector(difference),
    }]);
    assert_close(&fed_back.last_logits, &pushed.last_logits, 1e-5, "logits");
    assert_close(
        &fed_back.captures[0].values,
        &pushed.captures[0].values,
        1e-5,
        "residual",
    );
    assert!(max_difference(&pushed.last_logits, &clean.last_logits) > 1e-2);
}

#[test]
fn attention_rows_sum_to_one_and_never_look_ahead() {
    let model = model(&weights(7));
    let prompts = vec![prompt(40, 10), prompt(41, 3)];
    let request = ForwardRequest {
        captures: (0..CONFIG.n_layers)
            .map(|layer| CaptureRequest {
                hook: HookPoint::AttnPattern(layer),
                positions: Positions::All,
            })
            .collect(),
        interventions: Vec::new(),
    };
    for (prompt, output) in prompts.iter().zip(run(&model, &prompts, &request)) {
        let len = prompt.len();
        for capture in &output.captures {
            assert_eq!(capture.shape, vec![CONFIG.n_heads, len, len]);
            for (row_index, row) in capture.values.chunks(len).enumerate() {
                let query = row_index % len;
                let sum: f32 = row.iter().sum();
                assert!((sum - 1.0).abs() < 1e-5, "row sums to {sum}");
                assert!(row[query + 1..].iter().all(|&w| w == 0.0), "looks ahead");
                assert!(row[..=query].iter().all(|&w| w > 0.0));
            }
        }
    }
}

#[test]
fn bad_requests_are_refused_with_a_message() {
    let model = model(&weights(8));
    let refuse = |prompts: Vec<Vec<u32>>, request: ForwardRequest| {
        pollster::block_on(forward(&model, &prompts, &request))
            .unwrap_err()
            .to_string()
    };
    let ok = vec![prompt(50, 5)];
    assert!(refuse(vec![], ForwardRequest::default()).contains("no prompts"));
    assert!(refuse(vec![prompt(1, 25)], ForwardRequest::default()).contains("25 tokens"));
    assert!(refuse(vec![vec![2, 50]], ForwardRequest::default()).contains("token id 50"));
    let at = |hook, positions, edit| ForwardRequest {
        captures: Vec::new(),
        interventions: vec![Intervention {
            hook,
            positions,
            edit,
        }],
    };
    let zero = Edit::AddVector(vec![0.0; CONFIG.d_model]);
    let message = refuse(
        ok.clone(),
        at(HookPoint::ResidPost(3), Positions::Last, zero.clone()),
    );
    assert!(message.contains("blocks.3.hook_resid_post"), "{message}");
    let message = refuse(
        ok.clone(),
        at(HookPoint::AttnPattern(0), Positions::Last, zero.clone()),
    );
    assert!(message.contains("not intervened"), "{message}");
    let message = refuse(
        ok.clone(),
        at(HookPoint::Embed, Positions::At(vec![5]), zero),
    );
    assert!(message.contains("position 5"), "{message}");
    let message = refuse(
        ok,
        at(
            HookPoint::Embed,
            Positions::Last,
            Edit::AddVector(vec![1.0; 3]),
        ),
    );
    assert!(message.contains("3 values"), "{message}");
}
