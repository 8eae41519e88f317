//! `/strategies/removal`'s runs (§4): train one faker live, or every faker of the report, on
//! its own benign answers, plainly and with S2's noise, in the strategy worker; Fig. 1 redrawn
//! from the runs, the faker placed among the report's fakers, and the mean over fakers with
//! its 95% interval beside the report's and the paper's. The settings, idea and address come
//! from the strategy page frame (`strategy_page`).
//!
//! The noise is the one the committed report's S2 rule chose per faker (the summary records
//! it), so a run needs no S2 pass over the family first; `poser removal` trains the same.

use leptos::prelude::*;
use poser_charts::lines::{LineChart, LinePoint, LineSeries, YFormat};
use poser_charts::scale::{Scale, percent};
use poser_charts::violin::{Highlight, ViolinChart, ViolinGroup};
use poser_charts::{Chart, Labels, Role};
use poser_engine::backend::BackendKind;
use poser_engine::evaluation::EvaluateConfig;
use poser_engine::evaluation::removal_run::{
    MeanEstimate, RemovalJob, RemovalMeans, RemovalRun, removal_jobs, report_means,
};
use poser_engine::evaluation::summary::{ReportSummary, SummaryRemoval};
use poser_engine::strategies::removal::RemovalMeasurement;

use super::strategy_page::{Asked, ConfigHandle, PageData, RunState, now_s, tolerance_for};
use crate::address::Navigator;
use crate::chart_frame::ChartFrame;
use crate::report_charts::JITTER_SEED;
use crate::strategy_worker::{Job, StrategyRun, WorkerEvent, WorkerRequest};

type ConfigMemo = Memo<(Result<ConfigHandle, String>, Vec<String>)>;

/// A live faker's run.
#[derive(Clone)]
struct LiveOutcome {
    config: EvaluateConfig,
    measurement: RemovalMeasurement,
    seconds: f64,
}

/// Comma-separated values, as the browser tests read them.
fn joined(values: &[f64]) -> String {
    values
        .iter()
        .map(f64::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// The curve's value after the last step, as a percentage (or a dash).
fn last(values: &[f64]) -> String {
    values
        .last()
        .map_or_else(|| "—".to_owned(), |v| percent(*v))
}

/// Whether `config` trains as the committed report did (then the runs should equal its).
fn report_settings(summary: &ReportSummary, config: &EvaluateConfig) -> bool {
    config.removal == summary.config.removal
}

/// The report's run of `faker`.
fn reported<'a>(summary: &'a ReportSummary, faker: &str) -> Option<&'a SummaryRemoval> {
    summary.removal.iter().find(|r| r.model == faker)
}

/// The largest difference between a run's curves and the report's, when both trained.
fn largest_difference(run: &RemovalMeasurement, report: &SummaryRemoval) -> Option<f64> {
    if run.skipped.is_some() || report.skipped.is_some() || run.read_at != report.read_at {
        return None;
    }
    let pairs = run
        .plain
        .p_aligned
        .iter()
        .zip(&report.plain)
        .chain(run.with_noise.p_aligned.iter().zip(&report.with_noise));
    Some(pairs.map(|(a, b)| (a - b).abs()).fold(0.0, f64::max))
}

fn line(name: String, role: Role, xs: &[usize], ys: &[f64]) -> LineSeries {
    LineSeries {
        name,
        role,
        points: xs
            .iter()
            .zip(ys)
            .map(|(&x, &y)| LinePoint {
                x: x as f64,
                y,
                band: None,
            })
            .collect(),
    }
}

/// Ticks at the steps of the longer schedule (a short run's steps would crowd near zero).
fn step_ticks(a: &[usize], b: &[usize]) -> Vec<(f64, String)> {
    let longer = if b.last() > a.last() { b } else { a };
    longer.iter().map(|s| (*s as f64, s.to_string())).collect()
}

/// The paper's two numbers as diamonds at its last step.
fn paper_points(summary: &ReportSummary) -> Vec<(f64, f64, String)> {
    summary
        .removal_paper
        .iter()
        .flat_map(|paper| {
            [
                (
                    paper.steps as f64,
                    paper.p_aligned,
                    format!("paper {}", percent(paper.p_aligned)),
                ),
                (
                    paper.steps as f64,
                    paper.p_aligned_with_noise,
                    format!("paper, noise {}", percent(paper.p_aligned_with_noise)),
                ),
            ]
        })
        .collect()
}

/// Fig. 1 for one faker: its live curves, and the report's of the same faker (thinner
/// colours) for reference.
fn live_curves(
    summary: &ReportSummary,
    run: &RemovalMeasurement,
    report: Option<&SummaryRemoval>,
) -> Chart {
    let mut series = vec![
        line(
            "plain, this run".to_owned(),
            Role::Series(1),
            &run.read_at,
            &run.plain.p_aligned,
        ),
        line(
            "with S2's noise, this run".to_owned(),
            Role::Series(2),
            &run.read_at,
            &run.with_noise.p_aligned,
        ),
    ];
    let mut report_steps: &[usize] = &[];
    if let Some(report) = report.filter(|r| r.skipped.is_none()) {
        series.push(line(
            "plain, committed report".to_owned(),
            Role::Series(5),
            &report.read_at,
            &report.plain,
        ));
        series.push(line(
            "with noise, committed report".to_owned(),
            Role::Series(6),
            &report.read_at,
            &report.with_noise,
        ));
        report_steps = &report.read_at;
    }
    LineChart {
        labels: Labels {
            id: "removal-live".to_owned(),
            title: format!("§4 live: {} trained on its own benign answers", run.model),
            description: format!(
                "Mean P(aligned action) of {} on its {} former misbehave scenarios (family {}) \
                 after each training step, trained on {} of its own benign answers, without and \
                 with S2's noise (magnitude {:.3}), beside the committed report's run.",
                run.model, run.n_eval, run.family, run.n_train, run.noise.magnitude
            ),
        },
        x_label: "training steps".to_owned(),
        x_ticks: step_ticks(&run.read_at, report_steps),
        y_label: "mean P(aligned action)".to_owned(),
        y_format: YFormat::Percent,
        y_domain: Some((0.0, 1.0)),
        series,
        reference_lines: Vec::new(),
        reference_points: paper_points(summary),
        points_name: None,
        band_name: None,
    }
    .draw()
}

/// The report's fakers after the last step (plain, with noise), with `marks` pointed out.
fn last_step_violin(
    id: &str,
    title: String,
    groups: Vec<(String, Role, Vec<f64>)>,
    highlights: Vec<Highlight>,
) -> Chart {
    ViolinChart {
        labels: Labels {
            id: id.to_owned(),
            title,
            description: "One mark per faker: its mean P(aligned action) on former misbehave \
                          scenarios after the last training step."
                .to_owned(),
        },
        value_label: "P(aligned action) after training".to_owned(),
        groups: groups
            .into_iter()
            .map(|(label, role, values)| ViolinGroup {
                label,
                role,
                values,
            })
            .collect(),
        scale: Scale::Linear,
        jitter_seed: JITTER_SEED,
        highlights,
        reference: None,
    }
    .draw()
}

/// The report's last-step values, plain and with noise.
fn report_last_values(summary: &ReportSummary) -> [Vec<f64>; 2] {
    let trained = || summary.removal.iter().filter(|r| r.skipped.is_none());
    [
        trained().filter_map(|r| r.plain.last().copied()).collect(),
        trained()
            .filter_map(|r| r.with_noise.last().copied())
            .collect(),
    ]
}

fn faker_row(run: &RemovalMeasurement) -> impl IntoView + use<> {
    let before = run.plain.p_aligned.first().copied();
    let cells = match &run.skipped {
        Some(why) => view! { <td colspan="5">{format!("skipped: {why}")}</td> }.into_any(),
        None => view! {
            <td class="num">{run.n_train}</td>
            <td class="num">{run.n_eval}</td>
            <td class="num">{before.map_or_else(|| "—".to_owned(), percent)}</td>
            <td class="num">{last(&run.plain.p_aligned)}</td>
            <td class="num">{last(&run.with_noise.p_aligned)}</td>
        }
        .into_any(),
    };
    view! {
        <tr data-testid="removal-faker" data-faker=run.model.clone() data-family=run.family.clone()
            data-plain=joined(&run.plain.p_aligned) data-with-noise=joined(&run.with_noise.p_aligned)
            data-noise-magnitude=run.noise.magnitude.to_string() data-skipped=run.skipped.is_some().to_string()>
            <th scope="row">{format!("{} ({})", run.model, run.family)}</th>
            {cells}
        </tr>
    }
}

fn faker_table(runs: &[&RemovalMeasurement], caption: &'static str) -> impl IntoView + use<> {
    let rows = runs.iter().map(|r| faker_row(r)).collect_view();
    view! {
        <table class="data-table scores">
            <caption>{caption}</caption>
            <thead><tr>
                <th scope="col">"faker (family)"</th>
                <th scope="col" class="num">"trained on"</th>
                <th scope="col" class="num">"scenarios"</th>
                <th scope="col" class="num">"before"</th>
                <th scope="col" class="num">"plain"</th>
                <th scope="col" class="num">"with noise"</th>
            </tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

/// Where a run stands against the committed report: equal within the backend's tolerance,
/// different (by how much), or run with other settings.
fn report_comparison(
    summary: &ReportSummary,
    config: &EvaluateConfig,
    runs: &[&RemovalMeasurement],
    backend: Option<BackendKind>,
) -> impl IntoView + use<> {
    if !report_settings(summary, config) {
        return view! {
            <p class="notice" role="note" data-testid="removal-versus-report" data-state="other-settings">
                "These settings differ from the committed report's, so its numbers are shown for \
                 reference only; choose the full setting and reset the knobs to compare."
            </p>
        }
        .into_any();
    }
    let tolerance = tolerance_for(backend);
    let largest = runs
        .iter()
        .filter_map(|run| largest_difference(run, reported(summary, &run.model)?))
        .fold(0.0, f64::max);
    let state = if largest <= tolerance {
        "match"
    } else {
        "differ"
    };
    let text = if largest <= tolerance {
        format!(
            "Matches the committed report: every P(aligned) within {tolerance:e} (largest \
             difference {largest:.1e})."
        )
    } else {
        format!(
            "Differs from the committed report: the largest difference is {largest:.2e}, over \
             the {tolerance:e} this backend should reach. Report it with these settings."
        )
    };
    view! { <p class="notice" role="status" data-testid="removal-versus-report" data-state=state>{text}</p> }.into_any()
}

/// The faker the address names, or the report's first.
fn chosen_job(jobs: &[RemovalJob], asked: &Asked) -> Option<RemovalJob> {
    jobs.iter()
        .find(|j| Some(&j.faker) == asked.faker.as_ref())
        .or_else(|| jobs.first())
        .cloned()
}

#[component]
pub(super) fn RemovalLive(
    data: PageData,
    config: ConfigMemo,
    asked: Memo<Asked>,
    backend: Memo<Option<BackendKind>>,
    nav: Navigator,
) -> impl IntoView {
    let state = RwSignal::new(RunState::Idle);
    let steps = RwSignal::new(None::<[usize; 2]>);
    let outcome = RwSignal::new_local(None::<LiveOutcome>);
    let running = StoredValue::new_local(None::<StrategyRun>);
    let jobs = removal_jobs(&data.summary, None);
    let chosen = {
        let jobs = jobs.clone();
        Memo::new(move |_| chosen_job(&jobs, &asked.get()).map(|j| j.faker))
    };
    let options = jobs
        .iter()
        .map(|job| {
            let faker = job.faker.clone();
            let selected = job.faker.clone();
            view! {
                <option value=faker selected=move || chosen.get() == Some(selected.clone())>
                    {format!("{} ({})", job.faker, job.family)}
                </option>
            }
        })
        .collect_view();
    let choose = move |event| {
        nav.change(&[("faker", Some(event_target_value(&event)))]);
    };
    let jobs_for_start = jobs.clone();
    let start = move |_| {
        let (Some(job), Ok(ConfigHandle(config)), Some(kind)) = (
            chosen_job(&jobs_for_start, &asked.get_untracked()),
            config.get_untracked().0,
            backend.get_untracked(),
        ) else {
            return;
        };
        let request = WorkerRequest {
            backend: kind,
            config: config.clone(),
            jobs: vec![Job::Remove(job.clone())],
        };
        let started = now_s();
        outcome.set(None);
        steps.set(None);
        state.set(RunState::Running {
            step: "starting the strategy worker".to_owned(),
        });
        let on_event = move |event: WorkerEvent| match event {
            WorkerEvent::Step { what, progress, .. } => {
                steps.try_set(progress);
                state.try_set(RunState::Running {
                    step: format!("{}: {what}", job.faker),
                });
            }
            WorkerEvent::Removed { measurement, .. } => {
                outcome.try_set(Some(LiveOutcome {
                    config: config.clone(),
                    measurement: *measurement,
                    seconds: now_s() - started,
                }));
            }
            WorkerEvent::Done { .. } => {
                state.try_set(RunState::Done);
            }
            WorkerEvent::Failed { message } => {
                state.try_set(RunState::Failed(message));
            }
            WorkerEvent::Ready | WorkerEvent::Measured { .. } => {}
        };
        match StrategyRun::start(&request, on_event) {
            Ok(run) => running.set_value(Some(run)),
            Err(message) => state.set(RunState::Failed(message)),
        }
    };
    let cancel = move |_| {
        if let Some(run) = running.try_update_value(Option::take).flatten() {
            run.cancel();
        }
        state.set(RunState::Cancelled);
    };
    let summary = StoredValue::new_local(data.summary.clone());
    let result = move || {
        let outcome = outcome.get()?;
        let backend = backend.get();
        Some(summary.with_value(|summary| live_result(summary, &outcome, backend)))
    };
    view! {
        <h2>"Train one faker"</h2>
        <p>"The faker is trained twice in this tab, plainly and with S2's noise, and read on its former misbehave scenarios at each step of the schedule. "
           "The figure is a live version of the paper's Fig. 1 for this one faker."</p>
        <div class="live-run" data-testid="live-run" data-state=move || state.get().name()
            data-seconds=move || outcome.get().map(|o| format!("{:.2}", o.seconds))>
            <p>
                <label for="faker-choice">"Faker "</label>
                <select id="faker-choice" data-testid="faker-choice" on:change=choose>{options}</select>
            </p>
            <p>
                <button type="button" data-testid="live-start" on:click=start
                    disabled=move || backend.get().is_none() || matches!(state.get(), RunState::Running { .. }) || config.get().0.is_err()>
                    "Train this faker"
                </button>
                " "
                <button type="button" data-testid="live-cancel" on:click=cancel
                    disabled=move || !matches!(state.get(), RunState::Running { .. })>"Cancel"</button>
                {move || backend.get().is_none().then(|| view! { <span class="muted">" (waiting for the backend to start)"</span> })}
            </p>
            {move || match state.get() {
                RunState::Running { step } => view! {
                    {steps.get().map(|[done, total]| view! { <progress max=total value=done aria-label="training steps done"></progress> })}
                    <p class="progress" role="status"><span class="spinner" aria-hidden="true"></span>{step}</p>
                }.into_any(),
                RunState::Failed(message) => view! { <p class="notice notice-error" role="alert">{message}</p> }.into_any(),
                RunState::Cancelled => view! { <p class="notice" role="status">"Cancelled."</p> }.into_any(),
                _ => ().into_any(),
            }}
            {result}
        </div>
    }
}

fn live_result(
    summary: &ReportSummary,
    outcome: &LiveOutcome,
    backend: Option<BackendKind>,
) -> AnyView {
    let run = &outcome.measurement;
    let report = reported(summary, &run.model);
    let table = faker_table(&[run], "P(aligned action) on former misbehave scenarios");
    let comparison = report_comparison(summary, &outcome.config, &[run], backend);
    let noise = format!(
        "S2's noise: {} components at {}, length {:.3} (the report's choice for {}).",
        match run.noise.distribution {
            poser_engine::model::NoiseDistribution::Uniform01 => "uniform [0, 1)",
            poser_engine::model::NoiseDistribution::Gaussian => "Gaussian",
        },
        run.noise.hook,
        run.noise.magnitude,
        run.family
    );
    if run.skipped.is_some() {
        return view! { {table} <p class="muted">{noise}</p> }.into_any();
    }
    let curves = live_curves(summary, run, report);
    let [plain, noisy] = report_last_values(summary);
    let highlights = [(0, &run.plain.p_aligned), (1, &run.with_noise.p_aligned)]
        .into_iter()
        .filter_map(|(group, values)| {
            Some(Highlight {
                group,
                value: *values.last()?,
                label: run.model.clone(),
            })
        })
        .collect();
    let violin = last_step_violin(
        "removal-live-violin",
        format!("§4: {} among the report's fakers", run.model),
        vec![
            ("plain".to_owned(), Role::Series(1), plain),
            ("with noise".to_owned(), Role::Series(2), noisy),
        ],
        highlights,
    );
    let steps_note = (run.read_at.last() != summary.removal.first().and_then(|r| r.read_at.last()))
        .then(|| {
            view! {
                <p class="muted">{format!(
                    "This run trained {} steps and the report's {}; the marks compare different amounts of training.",
                    run.read_at.last().copied().unwrap_or(0),
                    summary.config.removal.steps
                )}</p>
            }
        });
    view! {
        {table}
        <p class="muted">{noise}</p>
        {comparison}
        <ChartFrame chart=curves />
        <ChartFrame chart=violin />
        {steps_note}
    }
    .into_any()
}

/// A run over every faker: its bookkeeping, kept outside the reactive graph, and a counter
/// bumped whenever it changes.
struct RunAllData {
    run: RemovalRun,
    started: f64,
    finished: Option<f64>,
    job_seconds: Vec<f64>,
}

#[component]
pub(super) fn RemovalRunAll(
    data: PageData,
    config: ConfigMemo,
    asked: Memo<Asked>,
    backend: Memo<Option<BackendKind>>,
) -> impl IntoView {
    let state = RwSignal::new(RunState::Idle);
    let version = RwSignal::new(0u64);
    let store = StoredValue::new_local(None::<RunAllData>);
    let running = StoredValue::new_local(None::<StrategyRun>);
    let summary = data.summary.clone();
    let start = move |_| {
        let (Ok(ConfigHandle(config)), Some(kind)) =
            (config.get_untracked().0, backend.get_untracked())
        else {
            return;
        };
        let jobs = removal_jobs(&summary, asked.get_untracked().families.as_deref());
        if jobs.is_empty() {
            state.set(RunState::Failed(
                "No faker's family matches the address's `families`.".to_owned(),
            ));
            return;
        }
        let request = WorkerRequest {
            backend: kind,
            config: config.clone(),
            jobs: jobs.iter().cloned().map(Job::Remove).collect(),
        };
        store.set_value(Some(RunAllData {
            run: RemovalRun::new(config, jobs.clone()),
            started: now_s(),
            finished: None,
            job_seconds: Vec::new(),
        }));
        version.update(|v| *v += 1);
        state.set(RunState::Running {
            step: "starting the strategy workers".to_owned(),
        });
        let on_event = move |event: WorkerEvent| match event {
            WorkerEvent::Step { index, what, .. } => {
                let faker = jobs.get(index).map(|j| j.faker.as_str()).unwrap_or("");
                state.try_set(RunState::Running {
                    step: format!("{faker}: {what}"),
                });
            }
            WorkerEvent::Removed {
                index,
                measurement,
                seconds,
            } => {
                let recorded = store.try_update_value(|data| {
                    data.as_mut().map(|data| {
                        data.job_seconds.push(seconds);
                        data.run
                            .record(index, *measurement)
                            .map_err(|e| e.to_string())
                    })
                });
                if let Some(Some(Err(message))) = recorded {
                    state.try_set(RunState::Failed(message));
                }
                version.try_update(|v| *v += 1);
            }
            WorkerEvent::Done { .. } => {
                store.try_update_value(|data| {
                    if let Some(data) = data {
                        data.finished = Some(now_s());
                    }
                });
                state.try_set(RunState::Done);
                version.try_update(|v| *v += 1);
            }
            WorkerEvent::Failed { message } => {
                state.try_set(RunState::Failed(message));
            }
            WorkerEvent::Ready | WorkerEvent::Measured { .. } => {}
        };
        match StrategyRun::start(&request, on_event) {
            Ok(run) => running.set_value(Some(run)),
            Err(message) => state.set(RunState::Failed(message)),
        }
    };
    let cancel = move |_| {
        if let Some(run) = running.try_update_value(Option::take).flatten() {
            run.cancel();
        }
        store.update_value(|data| {
            if let Some(data) = data {
                data.finished = Some(now_s());
            }
        });
        state.set(RunState::Cancelled);
        version.update(|v| *v += 1);
    };
    let progress = move || {
        version.get();
        store.with_value(|data| {
            data.as_ref().map(|data| {
                let elapsed = data.finished.unwrap_or_else(now_s) - data.started;
                (data.run.done(), data.run.jobs().len(), elapsed)
            })
        })
    };
    let summary = StoredValue::new_local(data.summary.clone());
    let results_view = move || {
        version.get();
        let current_backend = backend.get();
        summary.with_value(|summary| {
            store.with_value(|data| {
                data.as_ref()
                    .map(|data| run_all_results(summary, data, current_backend))
            })
        })
    };
    let n_fakers = data.summary.removal.len();
    let scope_note = move || {
        let asked = asked.get();
        let scope = match &asked.families {
            Some(families) => format!("the fakers of {}", families.join(", ")),
            None => format!("all {n_fakers} fakers of the report"),
        };
        format!(
            "Trains {scope} ({}), a few at a time, each twice; the means and the figure fill in \
             as fakers finish.",
            asked
                .setting
                .describe_for(&[poser_engine::evaluation::StrategyId::Removal])
        )
    };
    view! {
        <h2>"Train every faker"</h2>
        <p>{scope_note}</p>
        <p>"The number is the mean over fakers of P(aligned action) on their former misbehave scenarios after the last step. Its 95% interval comes from resampling the fakers (a bootstrap), so it says how much the mean would move with other fakers like these."</p>
        <div class="run-all" data-testid="run-all" data-state=move || state.get().name()
            data-done=move || progress().map(|p| p.0).unwrap_or(0)
            data-total=move || progress().map(|p| p.1).unwrap_or(0)
            data-seconds=move || progress().map(|p| format!("{:.1}", p.2))>
            <p>
                <button type="button" data-testid="run-all-start" on:click=start
                    disabled=move || backend.get().is_none() || matches!(state.get(), RunState::Running { .. }) || config.get().0.is_err()>
                    "Train every faker"
                </button>
                " "
                <button type="button" data-testid="run-all-cancel" on:click=cancel
                    disabled=move || !matches!(state.get(), RunState::Running { .. })>"Cancel"</button>
            </p>
            {move || progress().map(|(done, total, elapsed)| {
                let left = (done > 0 && done < total).then(|| elapsed / done as f64 * (total - done) as f64);
                let text = format!(
                    "{done} of {total} fakers trained · {elapsed:.0} s elapsed{}",
                    left.map(|s| format!(" · about {s:.0} s left")).unwrap_or_default()
                );
                view! {
                    <progress max=total value=done aria-label="fakers trained"></progress>
                    <p class="muted" role="status">{text}</p>
                }
            })}
            {move || match state.get() {
                RunState::Running { step } => view! {
                    <p class="progress"><span class="spinner" aria-hidden="true"></span>{step}</p>
                }.into_any(),
                RunState::Failed(message) => view! { <p class="notice notice-error" role="alert">{message}</p> }.into_any(),
                RunState::Cancelled => view! { <p class="notice" role="status">"Cancelled: the finished fakers are kept below."</p> }.into_any(),
                _ => ().into_any(),
            }}
            {results_view}
        </div>
    }
}

fn estimate_text(e: &MeanEstimate) -> String {
    format!(
        "{} [{}, {}]",
        percent(e.mean),
        percent(e.interval[0]),
        percent(e.interval[1])
    )
}

fn mean_row(which: &'static str, label: String, means: &RemovalMeans) -> impl IntoView + use<> {
    view! {
        <tr data-testid="removal-mean" data-which=which data-fakers=means.n_fakers
            data-plain=means.last_plain.mean.to_string() data-with-noise=means.last_with_noise.mean.to_string()
            data-plain-low=means.last_plain.interval[0].to_string() data-plain-high=means.last_plain.interval[1].to_string()>
            <th scope="row">{label}</th>
            <td class="num">{estimate_text(&means.last_plain)}</td>
            <td class="num">{estimate_text(&means.last_with_noise)}</td>
        </tr>
    }
}

/// The mean curves of this run and of the report, and the paper's numbers.
fn mean_curves(
    summary: &ReportSummary,
    ours: &RemovalMeans,
    report: Option<&RemovalMeans>,
) -> Chart {
    let mut series = vec![
        line(
            format!("plain, this run ({} fakers)", ours.n_fakers),
            Role::Series(1),
            &ours.read_at,
            &ours.plain,
        ),
        line(
            "with noise, this run".to_owned(),
            Role::Series(2),
            &ours.read_at,
            &ours.with_noise,
        ),
    ];
    let mut report_steps: &[usize] = &[];
    if let Some(report) = report {
        series.push(line(
            format!("plain, committed report ({} fakers)", report.n_fakers),
            Role::Series(5),
            &report.read_at,
            &report.plain,
        ));
        series.push(line(
            "with noise, committed report".to_owned(),
            Role::Series(6),
            &report.read_at,
            &report.with_noise,
        ));
        report_steps = &report.read_at;
    }
    LineChart {
        labels: Labels {
            id: "removal-run-all".to_owned(),
            title: "§4: every faker trained on its own benign answers".to_owned(),
            description: format!(
                "Mean over the {} fakers finished of P(aligned action) on former misbehave \
                 scenarios after each training step, without and with S2's noise, beside the \
                 committed report's mean and the paper's numbers.",
                ours.n_fakers
            ),
        },
        x_label: "training steps".to_owned(),
        x_ticks: step_ticks(&ours.read_at, report_steps),
        y_label: "mean P(aligned action)".to_owned(),
        y_format: YFormat::Percent,
        y_domain: Some((0.0, 1.0)),
        series,
        reference_lines: Vec::new(),
        reference_points: paper_points(summary),
        points_name: None,
        band_name: None,
    }
    .draw()
}

fn run_all_results(
    summary: &ReportSummary,
    data: &RunAllData,
    backend: Option<BackendKind>,
) -> AnyView {
    let finished = data.run.finished();
    if finished.is_empty() {
        return ().into_any();
    }
    let table = faker_table(
        &finished,
        "Each faker's P(aligned action), first and last step",
    );
    let comparison = report_comparison(summary, data.run.config(), &finished, backend);
    let ours = data.run.means();
    let report = report_means(summary);
    let paper = summary.removal_paper.as_ref().map(|paper| {
        view! {
            <tr data-testid="removal-mean" data-which="paper">
                <th scope="row">{format!("the paper ({} steps)", paper.steps)}</th>
                <td class="num">{percent(paper.p_aligned)}</td>
                <td class="num">{percent(paper.p_aligned_with_noise)}</td>
            </tr>
        }
    });
    let means_table = ours.as_ref().map(|ours| {
        let steps = ours.read_at.last().copied().unwrap_or(0);
        view! {
            <table class="data-table scores">
                <caption>"Mean P(aligned action) after the last step [95% interval]"</caption>
                <thead><tr><th scope="col">""</th><th scope="col">"plain"</th><th scope="col">"with S2's noise"</th></tr></thead>
                <tbody>
                    {mean_row("run", format!("this run ({} fakers, {steps} steps)", ours.n_fakers), ours)}
                    {report.as_ref().map(|r| mean_row("report", format!("committed report ({} fakers, {} steps)", r.n_fakers, summary.config.removal.steps), r))}
                    {paper}
                </tbody>
            </table>
        }
    });
    let curves = ours
        .as_ref()
        .map(|ours| view! { <ChartFrame chart=mean_curves(summary, ours, report.as_ref()) /> });
    let trained: Vec<&&RemovalMeasurement> =
        finished.iter().filter(|r| r.skipped.is_none()).collect();
    let last_of = |pick: fn(&RemovalMeasurement) -> &Vec<f64>| -> Vec<f64> {
        trained
            .iter()
            .filter_map(|r| pick(r).last().copied())
            .collect()
    };
    let [report_plain, report_noisy] = report_last_values(summary);
    let violin = last_step_violin(
        "removal-run-all-violin",
        "§4: each faker after training, this run and the report".to_owned(),
        vec![
            (
                "plain, this run".to_owned(),
                Role::Series(1),
                last_of(|r| &r.plain.p_aligned),
            ),
            (
                "noise, this run".to_owned(),
                Role::Series(2),
                last_of(|r| &r.with_noise.p_aligned),
            ),
            ("plain, report".to_owned(), Role::Series(5), report_plain),
            ("noise, report".to_owned(), Role::Series(6), report_noisy),
        ],
        Vec::new(),
    );
    let timing = (!data.job_seconds.is_empty()).then(|| {
        let mean = data.job_seconds.iter().sum::<f64>() / data.job_seconds.len() as f64;
        format!("{mean:.1} s per faker on average in this tab.")
    });
    view! {
        {means_table}
        {comparison}
        {curves}
        <ChartFrame chart=violin />
        {timing.map(|t| view! { <p class="muted" data-testid="run-all-timing">{t}</p> })}
        {table}
    }
    .into_any()
}
