//! `/results`: every verdict rule of the committed report beside the paper's number, as a table
//! and as interval bars; accuracy per family; the layer sweeps, S3's step curves and §4's
//! curves; and for every rule the violin of its per-model scores, aligned vs faker.

use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use poser_charts::scale::percent;
use poser_engine::evaluation::summary::ReportSummary;

use crate::chart_frame::ChartFrame;
use crate::report_charts::{
    accuracy_bars, family_heatmap, layer_sweep_chart, removal_chart, row_name, s3_curves,
    score_meaning, score_violin, step_sweep_chart,
};
use crate::report_data::{load_summary, since_navigation_ms, utc_time};

/// `/results`.
#[component]
pub fn ResultsPage() -> impl IntoView {
    let loaded = RwSignal::new_local(None::<Result<Rc<ReportSummary>, String>>);
    spawn_local(async move {
        loaded.set(Some(load_summary().await));
    });
    move || {
        match loaded.get() {
        None => view! {
            <section class="page" data-testid="results" data-state="loading">
                <h1>"Results"</h1>
                <p class="progress" role="status"><span class="spinner" aria-hidden="true"></span>"Reading the report's summary…"</p>
            </section>
        }
        .into_any(),
        Some(Err(message)) => view! {
            <section class="page" data-testid="results" data-state="failed">
                <h1>"Results"</h1>
                <p class="notice notice-error" role="alert">{message}</p>
            </section>
        }
        .into_any(),
        Some(Ok(summary)) => results_view(&summary),
    }
    }
}

fn results_view(summary: &ReportSummary) -> AnyView {
    let source = &summary.source;
    let commit: String = source.tool.git_commit.chars().take(12).collect();
    let table_rows = summary
        .rows
        .iter()
        .map(|row| {
            let paper = row.paper.as_ref();
            let paper_text = paper
                .and_then(|p| p.accuracy)
                .map(percent)
                .unwrap_or_else(|| "—".to_owned());
            let paper_source = paper
                .map(|p| match &p.figure {
                    Some(figure) => format!("{}, Fig. {figure}", p.section),
                    None => p.section.clone(),
                })
                .unwrap_or_default();
            view! {
                <tr
                    data-testid="result-row"
                    data-row=row.row.clone()
                    data-accuracy=row.accuracy.to_string()
                    data-interval-low=row.interval[0].to_string()
                    data-interval-high=row.interval[1].to_string()
                    data-ties=row.ties
                >
                    <th scope="row">{row_name(&row.row)}<span class="row-key">{row.row.clone()}</span></th>
                    <td>{row.rule.clone()}</td>
                    <td class="num" data-testid="accuracy">{percent(row.accuracy)}</td>
                    <td class="num" data-testid="interval">{format!("{} – {}", percent(row.interval[0]), percent(row.interval[1]))}</td>
                    <td class="num">{row.ties}</td>
                    <td class="num">{paper_text}</td>
                    <td class="muted">{paper_source}</td>
                </tr>
            }
        })
        .collect_view();
    let sweeps = [
        layer_sweep_chart(
            summary,
            &["s1", "s1_subtract", "s2"],
            "sweep-s1-s2",
            "S1 and S2: pair accuracy at every block",
        ),
        layer_sweep_chart(
            summary,
            &["s4", "s6c"],
            "sweep-s4-s6c",
            "S4 and S6c: pair accuracy at every block",
        ),
        step_sweep_chart(summary),
        s3_curves(summary, "s3"),
        s3_curves(summary, "s3_full"),
    ]
    .into_iter()
    .flatten()
    .map(|chart| view! { <ChartFrame chart /> })
    .collect_view();
    let removal = removal_chart(summary).map(|chart| view! { <ChartFrame chart /> });
    let violins = summary
        .rows
        .iter()
        .map(|row| {
            let chart = score_violin(summary, &row.row);
            view! {
                <section class="violin-section" data-testid="violin" data-row=row.row.clone()>
                    <h3>{row_name(&row.row)}</h3>
                    <p>
                        {format!("Score: {}. Rule: {}. ", score_meaning(&row.row), row.rule)}
                        "Higher scores are more faker-like: in each pair the model with the higher score is called the faker."
                    </p>
                    <ChartFrame chart />
                </section>
            }
        })
        .collect_view();
    let drawn_ms = since_navigation_ms();
    view! {
        <section class="page" data-testid="results" data-state="ready" data-drawn-ms=drawn_ms.to_string()>
            <h1>"Results"</h1>
            <p class="lead">
                "Every detection rule of the committed report, run on all pairs of the shipped zoo, beside "
                "the paper's number. Accuracy is the share of pairs in which the rule names the faker (a tie "
                "counts one half); intervals are a seeded bootstrap over aligned models and fakers."
            </p>
            <dl class="facts" data-testid="report-source">
                <dt>"report"</dt><dd>{source.file.clone()}</dd>
                <dt>"made by"</dt><dd>{format!("{} {} at commit {commit}", source.tool.name, source.tool.version)}</dd>
                <dt>"evaluated"</dt><dd>{utc_time(source.started_unix_s)}</dd>
                <dt>"seed, backend"</dt><dd>{format!("{}, {}", source.seed, source.backend)}</dd>
                <dt>"pairs"</dt><dd>{source.n_pairs}</dd>
                <dt>"report SHA-256"</dt><dd class="digest">{source.sha256.clone()}</dd>
            </dl>
            <p class="hint">
                "Read every row against the confidence baseline (first row), which uses no internals: see "
                <a href="/benchmark">"the benchmark"</a>" for why it is so high here."
            </p>
            <h2>"Every verdict rule"</h2>
            <div class="table-scroll">
                <table class="data-table" data-testid="results-table">
                    <caption>"Accuracy over all pairs with its 95% interval and ties, and the paper's number with where it comes from."</caption>
                    <thead>
                        <tr>
                            <th scope="col">"rule"</th>
                            <th scope="col">"who is called the faker"</th>
                            <th scope="col">"accuracy"</th>
                            <th scope="col">"95% interval"</th>
                            <th scope="col">"ties"</th>
                            <th scope="col">"paper"</th>
                            <th scope="col">"paper's source"</th>
                        </tr>
                    </thead>
                    <tbody>{table_rows}</tbody>
                </table>
            </div>
            <ChartFrame chart=accuracy_bars(summary) />
            <h2>"Per family"</h2>
            <ChartFrame chart=family_heatmap(summary) />
            <h2>"Sweeps and curves"</h2>
            {sweeps}
            <h2>"Removing alignment faking (§4)"</h2>
            {removal}
            <h2>"Scores, aligned vs faker"</h2>
            <p>
                "One violin per rule, over every (model, family) entry: where the two shapes separate, "
                "the rule tells the classes apart."
            </p>
            {violins}
        </section>
    }
    .into_any()
}
