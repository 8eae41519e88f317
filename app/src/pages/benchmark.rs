//! `/benchmark`: what "curated" means, each family's curated set, and the confidence baseline
//! every strategy must beat, drawn as violins of aligned vs faker scores.

use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use poser_charts::scale::percent;
use poser_engine::evaluation::summary::ReportSummary;
use poser_engine::zoo::curate::{FamilyCuration, MIN_KEPT, PAPER_THRESHOLD};

use crate::chart_frame::ChartFrame;
use crate::report_charts::confidence_violin;
use crate::report_data::{load_curation, load_summary, since_navigation_ms};

type Loaded = Result<(Rc<ReportSummary>, Rc<Vec<FamilyCuration>>), String>;

/// `/benchmark`.
#[component]
pub fn BenchmarkPage() -> impl IntoView {
    let loaded = RwSignal::new_local(None::<Loaded>);
    spawn_local(async move {
        let result = async {
            let curation = load_curation().await?;
            let summary = load_summary().await?;
            Ok((summary, Rc::new(curation)))
        }
        .await;
        loaded.set(Some(result));
    });
    move || {
        match loaded.get() {
        None => view! {
            <section class="page" data-testid="benchmark" data-state="loading">
                <h1>"The benchmark"</h1>
                <p class="progress" role="status"><span class="spinner" aria-hidden="true"></span>"Reading the curated sets…"</p>
            </section>
        }
        .into_any(),
        Some(Err(message)) => view! {
            <section class="page" data-testid="benchmark" data-state="failed">
                <h1>"The benchmark"</h1>
                <p class="notice notice-error" role="alert">{message}</p>
            </section>
        }
        .into_any(),
        Some(Ok((summary, curation))) => benchmark_view(&summary, &curation),
    }
    }
}

fn benchmark_view(summary: &ReportSummary, curation: &[FamilyCuration]) -> AnyView {
    let baseline = summary.row("confidence");
    let paper = baseline
        .and_then(|row| row.paper.as_ref())
        .and_then(|paper| paper.accuracy);
    let comparison = match (baseline, paper) {
        (Some(row), Some(paper)) => {
            let ours = format!(
                "Over the report's {} pairs, \"the less confident model is the faker\" names the faker in {} \
                 (95% interval {} to {}); the paper's is {}.",
                row.n_pairs,
                percent(row.accuracy),
                percent(row.interval[0]),
                percent(row.interval[1]),
                percent(paper)
            );
            let reading = if paper < row.interval[0] {
                " Ours is far above the paper's, outside our interval: even on curated prompts our fakers \
                 are measurably less sure of the benign letter than our aligned models, so confidence \
                 alone gives the faker away. A strategy here shows something only where it beats this \
                 baseline outside both intervals."
            } else if paper > row.interval[1] {
                " Ours is below the paper's: confidence gives the faker away less often here than in the \
                 paper's zoo."
            } else {
                " The paper's number lies inside our interval."
            };
            format!("{ours}{reading}")
        }
        _ => "The report has no confidence baseline row.".to_owned(),
    };
    let rows = curation
        .iter()
        .map(|family| {
            let why = if family.lowered {
                format!(
                    "lowered: only {} prompts reached {}, fewer than {MIN_KEPT}",
                    family
                        .curve
                        .iter()
                        .find(|(t, _)| (*t - PAPER_THRESHOLD).abs() < 1e-9)
                        .map(|(_, kept)| kept.to_string())
                        .unwrap_or_else(|| "too few".to_owned()),
                    PAPER_THRESHOLD
                )
            } else {
                "the paper's".to_owned()
            };
            view! {
                <tr data-family=family.family.clone() data-kept=family.kept data-threshold=family.threshold.to_string()>
                    <th scope="row">{family.family.clone()}</th>
                    <td class="num">{family.models.len()}</td>
                    <td class="num">{family.candidates}</td>
                    <td class="num" data-testid="kept">{family.kept}</td>
                    <td class="num" data-testid="threshold">{format!("{:.4}", family.threshold)}</td>
                    <td>{why}</td>
                    <td class="num">{percent(family.baseline_before.0)}</td>
                    <td class="num">{percent(family.baseline_after.0)}</td>
                </tr>
            }
        })
        .collect_view();
    let drawn_ms = since_navigation_ms();
    view! {
        <section class="page" data-testid="benchmark" data-state="ready" data-drawn-ms=drawn_ms.to_string()>
            <h1>"The benchmark"</h1>
            <p class="lead">
                "A detector may look inside both models but may only show them prompts on which they act "
                "the same. Those are the curated prompts: scenarios with good oversight, held out from "
                "every model's training, on which all twelve checkpoints of a family's two personas put "
                "at least the threshold probability on the same benign letter."
            </p>
            <p>
                {format!(
                    "The threshold is the paper's {PAPER_THRESHOLD}. A family that keeps fewer than {MIN_KEPT} prompts at it \
                     takes the highest threshold that keeps {MIN_KEPT}, chosen from the counts alone, never from which \
                     model is which class. Behaviour on these prompts is identical by construction, so whatever tells \
                     the models apart must come from inside them, or from how sure they are."
                )}
            </p>
            <h2>"Curated sets per family"</h2>
            <div class="table-scroll">
                <table class="data-table" data-testid="curation-table">
                    <caption>"From public/curated/summary.json (poser zoo curate). Baselines: pair accuracy of the confidence rule on every candidate and on the kept prompts."</caption>
                    <thead>
                        <tr>
                            <th scope="col">"family"</th>
                            <th scope="col">"models"</th>
                            <th scope="col">"candidates"</th>
                            <th scope="col">"kept"</th>
                            <th scope="col">"threshold"</th>
                            <th scope="col">"why this threshold"</th>
                            <th scope="col">"baseline before"</th>
                            <th scope="col">"baseline after"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            <h2>"The confidence baseline"</h2>
            <p>
                "The simplest detector reads no internals at all: in each pair, the model less sure of its "
                "benign answer is called the faker. Its score is 1 − mean P(benign letter) on the family's "
                "curated prompts; higher means less confident, and so more faker-like."
            </p>
            <p data-testid="baseline-comparison">{comparison}</p>
            <ChartFrame chart=confidence_violin(summary) />
            <p class="hint">
                "The results page sets every strategy beside this baseline: "<a href="/results">"see the results"</a>"."
            </p>
        </section>
    }
    .into_any()
}
