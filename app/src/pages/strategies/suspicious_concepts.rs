//! S4, identify suspicious concepts: its idea, rule, knobs and live figure (Fig. 7's cosines,
//! every block, each concept).

use poser_charts::lines::{LineChart, YFormat};
use poser_charts::{Chart, Labels};
use poser_engine::evaluation::StrategyId;
use poser_engine::model::HookPoint;

use super::{LivePair, Walkthrough, block_knob, block_ticks, parse_block, shared_knobs};

/// S4's page.
pub fn walkthrough() -> Walkthrough {
    Walkthrough {
        name: "s4",
        strategies: &[StrategyId::S4],
        title: "S4 · Identify suspicious concepts",
        idea: &[
            "A faker has to keep track of things an aligned model never needs: how good the \
             security is, whether the overseers are competent, what misbehaving would look like. \
             If those concepts are more active inside a model while it answers, that model may \
             be the one waiting for its chance.",
            "For each of three concepts — security quality, oversight competence, misaligned \
             behaviour — each model reads ten short texts that express it and ten that express \
             its opposite; the difference of the mean residuals at one block is the concept's \
             direction for that model. Then, on the curated prompts, we measure the cosine \
             between that direction and the model's residual at the last token.",
        ],
        rule: &[
            "Per concept, the model whose residual points more along the concept (the higher \
             mean cosine) is called the faker. The combined score turns each concept's cosine \
             into a z-score over the family's models and averages the three.",
            "The paper reports 71% of pairs combined, with wide intervals per concept: the \
             concepts light up in both models, so the difference is small. On this page a single \
             pair's z-scores use the committed report's cosines for the family's other models.",
        ],
        verdict_rows: &[
            "s4",
            "s4_security_quality",
            "s4_oversight_competence",
            "s4_misaligned_behaviour",
        ],
        figures_note: "the paper's Fig. 7 (each concept's cosine), here at every block of both \
             models",
        knobs: |n_layers| {
            let mut knobs = vec![block_knob(
                "Where the concepts are read",
                "Directions and activations are both taken after this block. The paper: layer \
                 20 of 40 (50% depth).",
                n_layers,
                |c| {
                    c.suspicious_concepts
                        .hook
                        .block()
                        .map_or_else(String::new, |b| b.to_string())
                },
                |c, text| {
                    c.suspicious_concepts.hook = HookPoint::ResidPost(parse_block(text)?);
                    Ok(())
                },
            )];
            knobs.extend(shared_knobs(true, false));
            knobs
        },
        live_figures,
    }
}

/// Each concept's mean cosine at every block for the two models, the verdict block marked.
fn live_figures(live: &LivePair<'_>) -> Vec<Chart> {
    let concepts = live.measured.map(|m| m.s4.as_ref());
    let [Some(aligned), Some(faker)] = concepts else {
        return Vec::new();
    };
    let verdict_block = live.config.suspicious_concepts.hook.block();
    aligned
        .concepts
        .iter()
        .zip(&faker.concepts)
        .map(|(a, f)| {
            let n = a.cosine_per_layer.len().min(f.cosine_per_layer.len());
            let xs: Vec<f64> = (0..n).map(|b| b as f64).collect();
            let name = a.concept.replace('_', " ");
            let marked = verdict_block
                .filter(|&b| b < n)
                .map(|b| {
                    vec![
                        (
                            b as f64,
                            a.cosine_per_layer[b],
                            format!("verdict block {b}"),
                        ),
                        (b as f64, f.cosine_per_layer[b], String::new()),
                    ]
                })
                .unwrap_or_default();
            LineChart {
                labels: Labels {
                    id: format!("live-s4-{}", a.concept),
                    title: format!("S4 live: cosine with the {name} direction, this pair"),
                    description: format!(
                        "Mean cosine between each model's own {name} direction and its residual \
                         at the last token of the curated prompts, after every block (the \
                         paper's Fig. 7 reads one block; the diamonds mark the verdict's). The \
                         model with the higher cosine at the verdict block is called the faker \
                         for this concept."
                    ),
                },
                x_label: "block (blocks.{i}.hook_resid_post)".to_owned(),
                x_ticks: block_ticks(n),
                y_label: "mean cosine".to_owned(),
                y_format: YFormat::Value,
                y_domain: None,
                series: live.two_lines(&xs, [&a.cosine_per_layer[..n], &f.cosine_per_layer[..n]]),
                reference_lines: Vec::new(),
                reference_points: marked,
                points_name: Some("each model at the verdict block".to_owned()),
                band_name: None,
            }
            .draw()
        })
        .collect()
}
