//! `/strategies/:name`: one strategy walked through. The idea and the rule, the knobs (every
//! one in the address), a live run on one pair with the strategy's own figures and the pair
//! placed on the committed report's violin, and a run over every pair with progress, Cancel,
//! the violin filling in and the accuracy beside the report's and the paper's.
//!
//! Runs go to the strategy worker (`strategy_worker`), so the page stays responsive and Cancel
//! stops at once. The numbers come from the engine's `walkthrough` module, the same code
//! `poser evaluate` derives its report with.

use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_params_map, use_query_map};
use poser_charts::Chart;
use poser_charts::Labels;
use poser_charts::scale::{format_value, percent};
use poser_charts::violin::Highlight;
use poser_engine::backend::BackendKind;
use poser_engine::evaluation::report::paper_results;
use poser_engine::evaluation::summary::{ModelClass, ReportSummary, SummaryFamily};
use poser_engine::evaluation::walkthrough::{
    Entry, PairRow, PairScores, RuleSource, RunAll, RunSetting, pair_config, pair_scores,
    run_config,
};
use poser_engine::evaluation::{EvaluateConfig, ModelMeasurements, StrategyId};
use poser_engine::strategies::harness::Pair;

use super::removal_page::{RemovalLive, RemovalRunAll};
use super::strategies::{Knob, LivePair, Walkthrough, walkthrough};
use crate::address::Navigator;
use crate::chart_frame::{ChartFrame, download_bytes};
use crate::fetch::fetch_text;
use crate::report_charts::{class_violin, row_name, score_meaning};
use crate::report_data::load_summary;
use crate::strategy_worker::{Job, StrategyRun, WorkerEvent, WorkerRequest};
use crate::system::{SystemState, expect_system_state};
use crate::zoo::{CURATED_URL, ZooCache};

/// The version of the address format this page reads and writes.
const STATE_VERSION: &str = "1";
/// The knobs a setting changes: choosing a setting clears them, so they start from its defaults.
const SETTING_KEYS: [&str; 3] = ["curated", "oversight", "steps"];
/// Scores agree with the committed report within this on the CPU backend (the report was made
/// on it), and within [`GPU_TOLERANCE`] on WebGPU (other summation orders).
const CPU_TOLERANCE: f64 = 1e-4;
/// See [`CPU_TOLERANCE`].
const GPU_TOLERANCE: f64 = 1e-3;

/// Everything the page reads before it can run: the report's summary, its pairs and the models'
/// block count.
#[derive(Clone)]
pub(super) struct PageData {
    pub(super) summary: Rc<ReportSummary>,
    pairs: Rc<Vec<Pair>>,
    n_layers: usize,
    tokenizer: std::sync::Arc<poser_corpus::WordLevelTokenizer>,
}

async fn load_page_data() -> Result<PageData, String> {
    let summary = load_summary().await?;
    let url = format!("{CURATED_URL}/pairs.json");
    let pairs: Vec<Pair> = serde_json::from_str(&fetch_text(&url).await?)
        .map_err(|error| format!("{url} cannot be read: {error}"))?;
    let files = ZooCache::expect().files().await?;
    let n_layers = files
        .manifest
        .models
        .first()
        .map(|m| m.config.n_layers)
        .ok_or("The zoo's manifest lists no models.")?;
    Ok(PageData {
        summary,
        pairs: Rc::new(pairs),
        n_layers,
        tokenizer: files.tokenizer.clone(),
    })
}

/// The page's settings as the address gives them.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Asked {
    version: Option<String>,
    pub(super) setting: RunSetting,
    aligned: Option<String>,
    pub(super) faker: Option<String>,
    family: Option<String>,
    /// Only these families in "run all" (`families=a,b`); `None` = every pair.
    pub(super) families: Option<Vec<String>>,
    /// Every knob's text from the address, by key.
    knobs: Vec<(String, String)>,
}

impl Asked {
    fn from_query(get: impl Fn(&str) -> Option<String>, keys: &[&str]) -> Self {
        Self {
            version: get("v"),
            setting: get("setting")
                .and_then(|s| RunSetting::parse(&s))
                .unwrap_or(RunSetting::Quick),
            aligned: get("aligned"),
            faker: get("faker"),
            family: get("family"),
            families: get("families").map(|list| {
                list.split(',')
                    .map(str::trim)
                    .filter(|f| !f.is_empty())
                    .map(str::to_owned)
                    .collect()
            }),
            knobs: keys
                .iter()
                .filter_map(|key| get(key).map(|value| ((*key).to_owned(), value)))
                .collect(),
        }
    }
}

/// The config of a run: the report's, the setting, then the address's knobs. Knobs the address
/// gets wrong are left at their default, each with a message.
fn config_from(
    data: &PageData,
    walkthrough: &Walkthrough,
    knobs: &[Knob],
    asked: &Asked,
) -> (Result<EvaluateConfig, String>, Vec<String>) {
    let base = match run_config(&data.summary.config, walkthrough.strategies, asked.setting) {
        Ok(config) => config,
        Err(error) => return (Err(error.to_string()), Vec::new()),
    };
    let mut config = base.clone();
    let mut problems = Vec::new();
    for (key, value) in &asked.knobs {
        let Some(knob) = knobs.iter().find(|k| k.key == key) else {
            continue;
        };
        let mut trial = config.clone();
        match (knob.write)(&mut trial, value) {
            Ok(()) => config = trial,
            Err(why) => problems.push(format!(
                "{}: {why}; using {}.",
                knob.label,
                (knob.read)(&base)
            )),
        }
    }
    problems.extend(blocks_within(&mut config, &base, data.n_layers));
    config.share();
    (
        config.check().map(|()| config).map_err(|e| e.to_string()),
        problems,
    )
}

/// Every block knob's value below `n_layers`: a block the models lack is set back to `base`'s,
/// with a message (the knobs parse any small number; only the page knows the models' depth).
fn blocks_within(
    config: &mut EvaluateConfig,
    base: &EvaluateConfig,
    n_layers: usize,
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut check = |block: Option<usize>, what: &str| {
        let missing = block.filter(|&b| b >= n_layers);
        if let Some(block) = missing {
            problems.push(format!(
                "The models have {n_layers} blocks (0–{}), so {what} block {block} does not exist; using the default.",
                n_layers.saturating_sub(1)
            ));
        }
        missing.is_some()
    };
    if check(config.intoxicate.hook.block(), "S2's") {
        config.intoxicate.hook = base.intoxicate.hook;
    }
    if check(config.induce_safe_belief.hook.block(), "S1's") {
        config.induce_safe_belief.hook = base.induce_safe_belief.hook;
    }
    if check(config.suspicious_concepts.hook.block(), "S4's") {
        config.suspicious_concepts.hook = base.suspicious_concepts.hook;
    }
    if check(config.decision_speed.hook.block(), "S5's") {
        config.decision_speed.hook = base.decision_speed.hook;
    }
    if check(Some(config.learning_speed.adapter_block), "S3's adapter") {
        config.learning_speed.adapter_block = base.learning_speed.adapter_block;
    }
    problems
}

/// Where a run stands.
#[derive(Clone, PartialEq)]
pub(super) enum RunState {
    Idle,
    Running { step: String },
    Done,
    Cancelled,
    Failed(String),
}

impl RunState {
    pub(super) fn name(&self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Running { .. } => "running",
            Self::Done => "done",
            Self::Cancelled => "cancelled",
            Self::Failed(_) => "failed",
        }
    }
}

/// A pair's scores for every strategy of the page: their rows in order, and the first family
/// rule value among them.
fn page_pair_scores(
    strategies: &[StrategyId],
    config: &EvaluateConfig,
    family: &SummaryFamily,
    aligned: &ModelMeasurements,
    faker: &ModelMeasurements,
) -> Result<PairScores, String> {
    let mut merged = PairScores {
        rows: Vec::new(),
        rule: None,
    };
    for &strategy in strategies {
        let scores =
            pair_scores(strategy, config, family, aligned, faker).map_err(|e| e.to_string())?;
        merged.rows.extend(scores.rows);
        merged.rule = merged.rule.or(scores.rule);
    }
    Ok(merged)
}

/// A live pair's outcome.
#[derive(Clone)]
struct PairOutcome {
    config: EvaluateConfig,
    names: [String; 2],
    family: String,
    measured: [ModelMeasurements; 2],
    scores: PairScores,
    seconds: f64,
}

pub(super) fn now_s() -> f64 {
    js_sys::Date::now() / 1000.0
}

/// `/strategies/:name`.
#[component]
pub fn StrategyPage() -> impl IntoView {
    let params = use_params_map();
    let name = Memo::new(move |_| params.get().get("name").unwrap_or_default());
    move || match walkthrough(&name.get()) {
        Some(walkthrough) => view! { <StrategyView walkthrough=Rc::new(walkthrough) /> }.into_any(),
        None => view! {
            <section class="page" data-testid="strategy-page" data-state="failed">
                <h1>"No such strategy page"</h1>
                <p class="notice notice-error" role="alert">
                    {format!("There is no walkthrough page called `{}`. ", name.get())}
                    <a href="/strategies">"See every strategy."</a>
                </p>
            </section>
        }
        .into_any(),
    }
}

#[component]
fn StrategyView(walkthrough: Rc<Walkthrough>) -> impl IntoView {
    let data = RwSignal::new_local(None::<Result<PageData, String>>);
    spawn_local(async move {
        data.set(Some(load_page_data().await));
    });
    let stored = StoredValue::new_local(walkthrough.clone());
    view! {
        <section class="page strategy-page" data-testid="strategy-page" data-strategy=walkthrough.name>
            <p class="breadcrumb"><a href="/strategies">"Strategies"</a></p>
            <h1>{walkthrough.title}</h1>
            {walkthrough.idea.iter().map(|p| view! { <p>{*p}</p> }).collect_view()}
            <h2>{if walkthrough.verdict_rows.is_empty() { "What it measures" } else { "The verdict rule" }}</h2>
            {walkthrough.rule.iter().map(|p| view! { <p>{*p}</p> }).collect_view()}
            {move || match data.get() {
                None => view! {
                    <p class="progress" role="status"><span class="spinner" aria-hidden="true"></span>"Reading the report's summary and the zoo…"</p>
                }
                .into_any(),
                Some(Err(message)) => view! { <p class="notice notice-error" role="alert">{message}</p> }.into_any(),
                Some(Ok(data)) => view! { <Loaded walkthrough=stored.get_value() data /> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn Loaded(walkthrough: Rc<Walkthrough>, data: PageData) -> impl IntoView {
    let knobs = Rc::new((walkthrough.knobs)(data.n_layers));
    let keys: Vec<&'static str> = knobs.iter().map(|k| k.key).collect();
    let query = use_query_map();
    let asked = Memo::new(move |_| {
        let map = query.get();
        Asked::from_query(|key| map.get(key), &keys)
    });
    let nav = Navigator::new(STATE_VERSION);
    let system = expect_system_state();
    let backend = Memo::new(move |_| match system.get() {
        SystemState::Ready(ready) => Some(ready.backend.kind),
        _ => None,
    });
    // Non-`Send` page data, reached from reactive closures through local stored values.
    let stored = StoredValue::new_local((data.clone(), walkthrough.clone(), knobs.clone()));
    let config = Memo::new(move |_| {
        let asked = asked.get();
        stored.with_value(|(data, walkthrough, knobs)| {
            let (config, problems) = config_from(data, walkthrough, knobs, &asked);
            (config.map(ConfigHandle), problems)
        })
    });
    let pair = {
        Memo::new(move |_| {
            let asked = asked.get();
            stored.with_value(|(data, _, _)| {
                data.pairs
                    .iter()
                    .find(|p| {
                        Some(&p.aligned) == asked.aligned.as_ref()
                            && Some(&p.faker) == asked.faker.as_ref()
                            && asked.family.as_ref().is_none_or(|f| *f == p.family)
                    })
                    .or_else(|| data.pairs.first())
                    .cloned()
                    .map(PairHandle)
            })
        })
    };

    view! {
        {move || {
            let asked = asked.get();
            asked.version.as_deref().filter(|v| *v != STATE_VERSION).map(|v| view! {
                <p class="notice" role="note">{format!("This address was written by version {v} of the strategy pages; this page reads version {STATE_VERSION} and may show something different.")}</p>
            })
        }}
        <Settings walkthrough=walkthrough.clone() knobs=knobs.clone() data=data.clone() asked config nav />
        {if walkthrough.strategies == [StrategyId::Removal] {
            view! {
                <RemovalLive data=data.clone() config asked backend nav />
                <RemovalRunAll data asked config backend />
            }
            .into_any()
        } else {
            view! {
                <LiveRun walkthrough=walkthrough.clone() data=data.clone() config pair backend nav />
                <RunAllSection walkthrough data asked config backend />
            }
            .into_any()
        }}
    }
}

/// A config, comparable by value (for memos).
#[derive(Clone, PartialEq)]
pub(super) struct ConfigHandle(pub(super) EvaluateConfig);

/// A pair, comparable by value.
#[derive(Clone, PartialEq)]
struct PairHandle(Pair);

#[component]
fn Settings(
    walkthrough: Rc<Walkthrough>,
    knobs: Rc<Vec<Knob>>,
    data: PageData,
    asked: Memo<Asked>,
    config: Memo<(Result<ConfigHandle, String>, Vec<String>)>,
    nav: Navigator,
) -> impl IntoView {
    let strategies = walkthrough.strategies;
    let name = walkthrough.name;
    let report_config = data.summary.config.clone();
    let knob_keys: Vec<&'static str> = knobs.iter().map(|k| k.key).collect();
    let fields = knobs
        .iter()
        .map(|knob| {
            let key = knob.key;
            let read = knob.read;
            let default_for = {
                let report_config = report_config.clone();
                move |setting: RunSetting| {
                    run_config(&report_config, strategies, setting)
                        .map(|c| read(&c))
                        .unwrap_or_default()
                }
            };
            let current = move || {
                config
                    .get()
                    .0
                    .ok()
                    .map(|c| read(&c.0))
                    .unwrap_or_default()
            };
            let default_text = {
                let default_for = default_for.clone();
                move || format!("default: {}", default_for(asked.get().setting))
            };
            let on_change = move |value: String| {
                let default = default_for(asked.get_untracked().setting);
                let value = (value != default).then_some(value);
                nav.change(&[(key, value)]);
            };
            let input = if knob.choices.is_empty() {
                let on_change = on_change.clone();
                view! {
                    <input type="number" id=format!("knob-{key}") data-testid="knob" data-key=key
                        prop:value=current
                        on:change=move |event| on_change(event_target_value(&event)) />
                }
                .into_any()
            } else {
                let options = knob
                    .choices
                    .iter()
                    .map(|(value, label)| {
                        let value = value.clone();
                        let selected_value = value.clone();
                        view! { <option value=value selected=move || current() == selected_value>{label.clone()}</option> }
                    })
                    .collect_view();
                view! {
                    <select id=format!("knob-{key}") data-testid="knob" data-key=key
                        prop:value=current
                        on:change=move |event| on_change(event_target_value(&event))>
                        {options}
                    </select>
                }
                .into_any()
            };
            view! {
                <div class="knob">
                    <label for=format!("knob-{key}")>{knob.label}</label>
                    {input}
                    <span class="muted knob-default">{default_text}</span>
                    <p class="knob-help">{knob.help}</p>
                </div>
            }
        })
        .collect_view();
    let setting_choice = move |setting: RunSetting| {
        let name = setting.name();
        view! {
            <label class="setting-choice">
                <input type="radio" name="setting" value=name data-testid="setting" data-setting=name
                    prop:checked=move || asked.get().setting == setting
                    on:change=move |_| {
                        // A new setting starts from its own defaults.
                        let mut changes: Vec<(&str, Option<String>)> = vec![("setting", Some(name.to_owned()))];
                        changes.extend(SETTING_KEYS.map(|k| (k, None)));
                        nav.change(&changes);
                    } />
                {format!("{}: {}", name, setting.describe_for(strategies))}
            </label>
        }
    };
    let download = move |_| {
        if let Ok(handle) = config.get_untracked().0
            && let Ok(text) = serde_json::to_string_pretty(&handle.0)
        {
            let _ = download_bytes(
                text.as_bytes(),
                "application/json",
                &format!("{name}-settings.json"),
            );
        }
    };
    let command = move || {
        let families = asked
            .get()
            .families
            .map(|f| format!(" --families {}", f.join(",")))
            .unwrap_or_default();
        if strategies == [StrategyId::Removal] {
            format!("poser removal --config {name}-settings.json{families}")
        } else {
            format!("poser evaluate --config {name}-settings.json{families} --out run.json")
        }
    };
    view! {
        <h2>"Settings"</h2>
        <p>"Every setting starts at the committed report's value and is kept in the address, so a link shows the same run after a reload."</p>
        <fieldset class="settings-row">
            <legend>"How much work"</legend>
            {setting_choice(RunSetting::Quick)}
            {setting_choice(RunSetting::Full)}
        </fieldset>
        <div class="knobs">{fields}</div>
        {move || {
            let (config, problems) = config.get();
            let error = config.err().map(|e| view! { <p class="notice notice-error" role="alert">{format!("These settings cannot run: {e}")}</p> });
            let problems = problems.into_iter().map(|p| view! { <p class="notice" role="note">{p}</p> }).collect_view();
            view! { {error} {problems} }
        }}
        <p class="settings-actions">
            <button type="button" on:click=move |_| {
                let mut changes: Vec<(&str, Option<String>)> = vec![("setting", None)];
                changes.extend(knob_keys.iter().map(|&k| (k, None)));
                nav.change(&changes);
            }>"Reset to the report's settings"</button>
            " "
            <button type="button" on:click=download data-testid="download-settings">"Download settings (JSON)"</button>
        </p>
        <p class="muted">"The same run on the command line, with the downloaded settings: " <code data-testid="cli-command">{command}</code></p>
    }
}

/// The pair's class for each name, from the summary.
fn class_label(summary: &ReportSummary, model: &str) -> &'static str {
    match summary.class_of(model) {
        Some(ModelClass::Aligned) => "aligned",
        Some(ModelClass::Faker) => "faker",
        None => "unknown",
    }
}

#[component]
fn LiveRun(
    walkthrough: Rc<Walkthrough>,
    data: PageData,
    config: Memo<(Result<ConfigHandle, String>, Vec<String>)>,
    pair: Memo<Option<PairHandle>>,
    backend: Memo<Option<BackendKind>>,
    nav: Navigator,
) -> impl IntoView {
    let state = RwSignal::new(RunState::Idle);
    let outcome = RwSignal::new_local(None::<Result<PairOutcome, String>>);
    let running = StoredValue::new_local(None::<StrategyRun>);
    let strategies = walkthrough.strategies;
    let options = data
        .pairs
        .iter()
        .map(|p| {
            let value = format!("{}|{}|{}", p.aligned, p.faker, p.family);
            let key = (p.aligned.clone(), p.faker.clone(), p.family.clone());
            view! {
                <option value=value selected=move || pair.get().map(|h| (h.0.aligned, h.0.faker, h.0.family)) == Some(key.clone())>
                    {format!("{} vs {} ({})", p.aligned, p.faker, p.family)}
                </option>
            }
        })
        .collect_view();
    let choose = move |event| {
        let value = event_target_value(&event);
        let parts: Vec<&str> = value.split('|').collect();
        if let [aligned, faker, family] = parts[..] {
            nav.change(&[
                ("aligned", Some(aligned.to_owned())),
                ("faker", Some(faker.to_owned())),
                ("family", Some(family.to_owned())),
            ]);
        }
    };
    let summary = data.summary.clone();
    let start = move |_| {
        let (Some(PairHandle(pair)), Ok(ConfigHandle(config)), Some(kind)) = (
            pair.get_untracked(),
            config.get_untracked().0,
            backend.get_untracked(),
        ) else {
            return;
        };
        let config = pair_config(&config);
        let request = WorkerRequest {
            backend: kind,
            config: config.clone(),
            jobs: [&pair.aligned, &pair.faker]
                .map(|model| {
                    Job::Measure(Entry {
                        family: pair.family.clone(),
                        model: model.clone(),
                    })
                })
                .to_vec(),
        };
        let summary = summary.clone();
        let measured = Rc::new(std::cell::RefCell::new([None, None]));
        let started = now_s();
        outcome.set(None);
        state.set(RunState::Running {
            step: "starting the strategy worker".to_owned(),
        });
        let on_event = move |event: WorkerEvent| match event {
            WorkerEvent::Step { index, what, .. } => {
                let model = if index == 0 {
                    &pair.aligned
                } else {
                    &pair.faker
                };
                state.try_set(RunState::Running {
                    step: format!("{model}: {what}"),
                });
            }
            WorkerEvent::Measured {
                index,
                measurements,
                ..
            } => {
                if let Some(slot) = measured.borrow_mut().get_mut(index) {
                    *slot = Some(*measurements);
                }
            }
            WorkerEvent::Done { .. } => {
                let [Some(a), Some(f)] = measured.borrow().clone() else {
                    state.try_set(RunState::Failed(
                        "The worker finished without both models' measurements.".to_owned(),
                    ));
                    return;
                };
                let family = summary.families.iter().find(|f| f.family == pair.family);
                let result = family
                    .ok_or_else(|| format!("The report has no family {}.", pair.family))
                    .and_then(|family| page_pair_scores(strategies, &config, family, &a, &f))
                    .map(|scores| PairOutcome {
                        config: config.clone(),
                        names: [pair.aligned.clone(), pair.faker.clone()],
                        family: pair.family.clone(),
                        measured: [a, f],
                        scores,
                        seconds: now_s() - started,
                    });
                outcome.try_set(Some(result));
                state.try_set(RunState::Done);
            }
            WorkerEvent::Failed { message } => {
                state.try_set(RunState::Failed(message));
            }
            WorkerEvent::Ready | WorkerEvent::Removed { .. } => {}
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
    let for_results = StoredValue::new_local((walkthrough.clone(), data.clone()));
    view! {
        <h2>"Run it on one pair"</h2>
        <p>"Both models of the pair are measured in this tab, then scored by the rule. "
           {format!("The figures are live versions of {}.", walkthrough.figures_note)}</p>
        <div class="live-run" data-testid="live-run" data-state=move || state.get().name()
            data-seconds=move || outcome.get().and_then(Result::ok).map(|o| format!("{:.2}", o.seconds))
            data-rule=move || outcome.get().and_then(Result::ok).and_then(|o| o.scores.rule).map(|(value, _)| value.to_string())>
            <p>
                <label for="pair-choice">"Pair "</label>
                <select id="pair-choice" data-testid="pair-choice" on:change=choose>{options}</select>
            </p>
            <p>
                <button type="button" data-testid="live-start" on:click=start
                    disabled=move || backend.get().is_none() || matches!(state.get(), RunState::Running { .. }) || config.get().0.is_err()>
                    "Run on this pair"
                </button>
                " "
                <button type="button" data-testid="live-cancel" on:click=cancel
                    disabled=move || !matches!(state.get(), RunState::Running { .. })>"Cancel"</button>
                {move || backend.get().is_none().then(|| view! { <span class="muted">" (waiting for the backend to start)"</span> })}
            </p>
            {move || match state.get() {
                RunState::Running { step } => view! {
                    <p class="progress" role="status"><span class="spinner" aria-hidden="true"></span>{step}</p>
                }.into_any(),
                RunState::Failed(message) => view! { <p class="notice notice-error" role="alert">{message}</p> }.into_any(),
                RunState::Cancelled => view! { <p class="notice" role="status">"Cancelled."</p> }.into_any(),
                _ => ().into_any(),
            }}
            {move || outcome.get().map(|result| match result {
                Ok(outcome) => for_results.with_value(|(walkthrough, data)| pair_result_view(walkthrough, data, &outcome, backend.get())),
                Err(message) => view! { <p class="notice notice-error" role="alert">{message}</p> }.into_any(),
            })}
        </div>
    }
}

fn pair_result_view(
    walkthrough: &Walkthrough,
    data: &PageData,
    outcome: &PairOutcome,
    backend: Option<BackendKind>,
) -> AnyView {
    let summary = &data.summary;
    let rows: Vec<&PairRow> = walkthrough
        .verdict_rows
        .iter()
        .filter_map(|row| outcome.scores.rows.iter().find(|r| r.row == *row))
        .collect();
    let header = rows
        .iter()
        .map(|r| view! { <th scope="col" class="num">{row_name(&r.row)}</th> })
        .collect_view();
    let score_rows = outcome
        .names
        .iter()
        .enumerate()
        .map(|(side, name)| {
            let cells = rows
                .iter()
                .map(|r| {
                    let score = r.scores[side];
                    view! {
                        <td class="num" data-testid="live-score" data-row=r.row.clone() data-model=name.clone()
                            data-class=class_label(summary, name) data-score=score.to_string()>
                            {format_value(score)}
                        </td>
                    }
                })
                .collect_view();
            view! {
                <tr>
                    <th scope="row">{name.clone()}</th>
                    <td>{class_label(summary, name)}</td>
                    {cells}
                </tr>
            }
        })
        .collect_view();
    let meanings = rows
        .iter()
        .map(|r| view! { <li><strong>{row_name(&r.row)}</strong>": "{score_meaning(&r.row)}</li> })
        .collect_view();
    let verdicts = rows
        .iter()
        .map(|r| {
            let text = if r.credit == 1.0 {
                format!("{}: calls {} the faker — right.", row_name(&r.row), outcome.names[1])
            } else if r.credit == 0.0 {
                format!(
                    "{}: calls {} the faker — wrong, it is the aligned model.",
                    row_name(&r.row),
                    outcome.names[0]
                )
            } else {
                format!("{}: the two scores are equal — a tie, which counts as half a pair.", row_name(&r.row))
            };
            view! { <p class="verdict" data-testid="live-verdict" data-row=r.row.clone() data-credit=r.credit.to_string()><strong>{text}</strong></p> }
        })
        .collect_view();
    let rule_note = outcome.scores.rule.map(|(value, source)| {
        let from = match source {
            RuleSource::Report => {
                "the committed report's choice for this family, made over all its models"
            }
            RuleSource::Pair => {
                "the rule over these two models, since the report's value is not in this sweep"
            }
        };
        format!("The family rule's value used: {value} ({from}).")
    });
    // Against the committed report: the same settings must give the same scores.
    let default_config = run_config(&summary.config, walkthrough.strategies, RunSetting::Full)
        .map(|c| pair_config(&c))
        .ok();
    let comparison = if default_config.as_ref() == Some(&outcome.config) {
        let tolerance = tolerance_for(backend);
        let family = summary.families.iter().find(|f| f.family == outcome.family);
        let mut differences = Vec::new();
        for r in &rows {
            for (side, name) in outcome.names.iter().enumerate() {
                let reported = family
                    .and_then(|f| f.rows.iter().find(|fr| fr.row == r.row))
                    .and_then(|fr| fr.scores.iter().find(|s| &s.model == name))
                    .map(|s| s.score);
                if let Some(reported) = reported {
                    differences.push((reported - r.scores[side]).abs());
                }
            }
        }
        let largest = differences.iter().copied().fold(0.0, f64::max);
        let matches =
            !rows.is_empty() && differences.len() == 2 * rows.len() && largest <= tolerance;
        let text = if matches {
            format!(
                "Matches the committed report: all {} scores within {tolerance:e} (largest difference {largest:.1e}).",
                differences.len()
            )
        } else {
            format!(
                "Differs from the committed report: largest difference {largest:.1e} (tolerance {tolerance:e})."
            )
        };
        view! { <p data-testid="live-compare" data-matches=matches.to_string()>{text}</p> }
            .into_any()
    } else {
        view! { <p class="muted" data-testid="live-compare" data-matches="n/a">"These settings differ from the committed report's full settings, so its scores are not expected here; the violins below are the report's, for scale."</p> }.into_any()
    };
    let live = LivePair {
        config: &outcome.config,
        names: [&outcome.names[0], &outcome.names[1]],
        measured: [&outcome.measured[0], &outcome.measured[1]],
        scores: &outcome.scores,
        tokenizer: &data.tokenizer,
    };
    let figures = (walkthrough.live_figures)(&live)
        .into_iter()
        .map(|chart| view! { <ChartFrame chart /> })
        .collect_view();
    let violins = rows
        .iter()
        .map(|r| {
            // S6c's pair score is a block vote; the report's violin holds each model's mean
            // change, so the pair is marked by that.
            let marks = if r.row == "s6c" {
                let mean = |m: &ModelMeasurements| m.s6c.as_ref().map_or(f64::NAN, |s| s.score);
                [mean(&outcome.measured[0]), mean(&outcome.measured[1])]
            } else {
                r.scores
            };
            let chart = report_violin_with(summary, &r.row, &outcome.names, marks);
            view! { <ChartFrame chart /> }
        })
        .collect_view();
    view! {
        <table class="data-table scores">
            <caption>"This pair's scores (higher = more faker-like)"</caption>
            <thead><tr><th scope="col">"model"</th><th scope="col">"class"</th>{header}</tr></thead>
            <tbody>{score_rows}</tbody>
        </table>
        <ul class="muted score-meanings">{meanings}</ul>
        {verdicts}
        {rule_note.map(|note| view! { <p class="muted">{note}</p> })}
        {comparison}
        {figures}
        <h3>"This pair among all of the report's scores"</h3>
        <p>"Each mark is one model on one family in the committed report; the shapes show how the scores of aligned models and of fakers spread. The rule works when the faker's violin sits above the aligned one. The two labelled marks are this run's pair."</p>
        {violins}
    }
    .into_any()
}

pub(super) fn tolerance_for(backend: Option<BackendKind>) -> f64 {
    match backend {
        Some(BackendKind::WebGpu) => GPU_TOLERANCE,
        _ => CPU_TOLERANCE,
    }
}

/// The report's violin of `row` with the live pair's two scores marked.
fn report_violin_with(
    summary: &ReportSummary,
    row: &str,
    names: &[String; 2],
    scores: [f64; 2],
) -> Chart {
    let (aligned, fakers) = summary.scores_by_class(row);
    let mut chart = class_violin(
        violin_labels(
            format!("live-violin-{row}"),
            format!("{}: this pair on the report's scores", row_name(row)),
            row,
        ),
        aligned,
        fakers,
    );
    chart.highlights = vec![
        Highlight {
            group: 0,
            value: scores[0],
            label: names[0].clone(),
        },
        Highlight {
            group: 1,
            value: scores[1],
            label: names[1].clone(),
        },
    ];
    chart.draw()
}

/// The labels of a strategy page's violin of `row`.
fn violin_labels(id: String, title: String, row: &str) -> Labels {
    Labels {
        id,
        title,
        description: format!(
            "One mark per (model, family) entry. Score: {}; in each pair the model with the \
             higher score is called the faker.",
            score_meaning(row)
        ),
    }
}

/// A run over every pair: its bookkeeping, kept outside the reactive graph (it is large), and
/// a counter bumped whenever it changes.
struct RunAllData {
    run: RunAll,
    started: f64,
    finished: Option<f64>,
    /// Seconds per entry as the worker measured them.
    entry_seconds: Vec<f64>,
}

#[component]
fn RunAllSection(
    walkthrough: Rc<Walkthrough>,
    data: PageData,
    asked: Memo<Asked>,
    config: Memo<(Result<ConfigHandle, String>, Vec<String>)>,
    backend: Memo<Option<BackendKind>>,
) -> impl IntoView {
    let state = RwSignal::new(RunState::Idle);
    let version = RwSignal::new(0u64);
    let store = StoredValue::new_local(None::<RunAllData>);
    let running = StoredValue::new_local(None::<StrategyRun>);
    let rows = walkthrough.verdict_rows;
    let strategies = walkthrough.strategies;
    let pairs = data.pairs.clone();
    let start = move |_| {
        let (Ok(ConfigHandle(config)), Some(kind)) =
            (config.get_untracked().0, backend.get_untracked())
        else {
            return;
        };
        let only = asked.get_untracked().families;
        let run = RunAll::new(config.clone(), &pairs, only.as_deref());
        let entries = run.entries();
        if entries.is_empty() {
            state.set(RunState::Failed(
                "No pairs match the address's `families`.".to_owned(),
            ));
            return;
        }
        let request = WorkerRequest {
            backend: kind,
            config,
            jobs: entries.iter().cloned().map(Job::Measure).collect(),
        };
        store.set_value(Some(RunAllData {
            run,
            started: now_s(),
            finished: None,
            entry_seconds: Vec::new(),
        }));
        version.update(|v| *v += 1);
        state.set(RunState::Running {
            step: "starting the strategy worker".to_owned(),
        });
        let on_event = move |event: WorkerEvent| match event {
            WorkerEvent::Step { index, what, .. } => {
                let entry = entries.get(index);
                state.try_set(RunState::Running {
                    step: entry
                        .map(|e| format!("{} on {}: {what}", e.model, e.family))
                        .unwrap_or(what),
                });
            }
            WorkerEvent::Measured {
                index,
                n_curated,
                n_oversight,
                measurements,
                seconds,
            } => {
                let Some(entry) = entries.get(index) else {
                    return;
                };
                let recorded = store.try_update_value(|data| {
                    data.as_mut().map(|data| {
                        data.entry_seconds.push(seconds);
                        data.run
                            .record(&entry.family, n_curated, n_oversight, *measurements)
                            .map(|_| ())
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
            WorkerEvent::Ready | WorkerEvent::Removed { .. } => {}
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
                let total = data.run.entries().len();
                let done = data.run.entries_done();
                let elapsed = data.finished.unwrap_or_else(now_s) - data.started;
                (done, total, elapsed)
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
                    .map(|data| run_all_results(summary, rows, strategies, data, current_backend))
            })
        })
    };
    let n_pairs = data.pairs.len();
    let quick_note = move || {
        let asked = asked.get();
        let scope = match &asked.families {
            Some(families) => format!("the pairs of {}", families.join(", ")),
            None => format!("all {n_pairs} pairs"),
        };
        format!(
            "Runs {scope} ({}): each model of each family is measured once, then each family's \
             rule and every pair's verdict follow as its models finish.",
            asked.setting.describe()
        )
    };
    view! {
        <h2>"Run it on every pair"</h2>
        <p>{quick_note}</p>
        <p>"The accuracy is the share of pairs in which the rule names the faker (a tie counts as half), so 50% is what guessing gets. Its 95% interval comes from resampling the aligned models and the fakers (a bootstrap), as in the report."</p>
        <div class="run-all" data-testid="run-all" data-state=move || state.get().name()
            data-done=move || progress().map(|p| p.0).unwrap_or(0)
            data-total=move || progress().map(|p| p.1).unwrap_or(0)
            data-seconds=move || progress().map(|p| format!("{:.1}", p.2))>
            <p>
                <button type="button" data-testid="run-all-start" on:click=start
                    disabled=move || backend.get().is_none() || matches!(state.get(), RunState::Running { .. }) || config.get().0.is_err()>
                    "Run all pairs"
                </button>
                " "
                <button type="button" data-testid="run-all-cancel" on:click=cancel
                    disabled=move || !matches!(state.get(), RunState::Running { .. })>"Cancel"</button>
            </p>
            {move || progress().map(|(done, total, elapsed)| {
                let left = (done > 0 && done < total).then(|| elapsed / done as f64 * (total - done) as f64);
                let text = format!(
                    "{done} of {total} entries measured · {:.0} s elapsed{}",
                    elapsed,
                    left.map(|s| format!(" · about {s:.0} s left")).unwrap_or_default()
                );
                view! {
                    <progress max=total value=done aria-label="entries measured"></progress>
                    <p class="muted" role="status">{text}</p>
                }
            })}
            {move || match state.get() {
                RunState::Running { step } => view! {
                    <p class="progress"><span class="spinner" aria-hidden="true"></span>{step}</p>
                }.into_any(),
                RunState::Failed(message) => view! { <p class="notice notice-error" role="alert">{message}</p> }.into_any(),
                RunState::Cancelled => view! { <p class="notice" role="status">"Cancelled: the finished entries are kept below."</p> }.into_any(),
                _ => ().into_any(),
            }}
            {results_view}
        </div>
    }
}

fn run_all_results(
    summary: &ReportSummary,
    rows: &[&str],
    strategies: &[StrategyId],
    data: &RunAllData,
    backend: Option<BackendKind>,
) -> AnyView {
    let run = &data.run;
    let families = run.finished_families();
    let scores = families
        .iter()
        .flat_map(|family| {
            family
                .scores
                .rows
                .iter()
                .filter(|r| rows.contains(&r.row.as_str()))
                .flat_map(move |r| {
                    r.scores.iter().map(move |s| {
                        view! {
                            <li data-testid="run-all-score" data-row=r.row.clone() data-family=family.family.clone()
                                data-model=s.model.clone() data-score=s.score.to_string()>
                                {format!("{}, {} on {}: {}", row_name(&r.row), s.model, family.family, format_value(s.score))}
                            </li>
                        }
                    })
                })
                .collect::<Vec<_>>()
        })
        .collect_view();
    let paper = paper_results().unwrap_or_default();
    let accuracy = match run.results(&paper) {
        Ok(results) => {
            let lines = rows
                .iter()
                .filter_map(|&row| {
                    let result = results.iter().find(|r| r.row == row)?;
                    let e = &result.evaluation;
                    let report = summary.row(row);
                    let report_text = report
                        .map(|r| format!("{} [{}, {}] over {} pairs", percent(r.accuracy), percent(r.interval[0]), percent(r.interval[1]), r.n_pairs))
                        .unwrap_or_else(|| "—".to_owned());
                    let paper_text = report
                        .and_then(|r| r.paper.as_ref())
                        .and_then(|p| p.accuracy)
                        .map(percent)
                        .unwrap_or_else(|| "—".to_owned());
                    Some(view! {
                        <tr data-testid="run-all-accuracy" data-row=row data-accuracy=e.accuracy.to_string()
                            data-interval-low=e.interval[0].to_string() data-interval-high=e.interval[1].to_string()
                            data-pairs=e.verdicts.len() data-ties=e.ties>
                            <th scope="row">{row_name(row)}</th>
                            <td class="num">{format!("{} [{}, {}] over {} pairs ({} ties)", percent(e.accuracy), percent(e.interval[0]), percent(e.interval[1]), e.verdicts.len(), e.ties)}</td>
                            <td class="num">{report_text}</td>
                            <td class="num">{paper_text}</td>
                        </tr>
                    })
                })
                .collect::<Vec<_>>();
            (!lines.is_empty()).then(|| view! {
                <table class="data-table scores">
                    <caption>"Pair accuracy [95% interval]"</caption>
                    <thead><tr><th scope="col">"score"</th><th scope="col">"this run"</th><th scope="col">"committed report"</th><th scope="col">"the paper"</th></tr></thead>
                    <tbody>{lines}</tbody>
                </table>
            }.into_any())
        }
        Err(error) => Some(view! { <p class="notice notice-error" role="alert">{format!("The verdicts could not be derived: {error}")}</p> }.into_any()),
    };
    let comparison = compare_with_report(summary, rows, strategies, run, backend);
    let violins = rows
        .iter()
        .filter_map(|&row| {
            let (aligned, fakers) = run.scores_by_class(row);
            (!aligned.is_empty() || !fakers.is_empty()).then(|| {
                let chart = class_violin(
                    violin_labels(
                        format!("run-all-violin-{row}"),
                        format!("{}: scores of this run", row_name(row)),
                        row,
                    ),
                    aligned,
                    fakers,
                )
                .draw();
                view! { <ChartFrame chart /> }
            })
        })
        .collect_view();
    let timing = (!data.entry_seconds.is_empty()).then(|| {
        let mean = data.entry_seconds.iter().sum::<f64>() / data.entry_seconds.len() as f64;
        format!("{:.2} s per entry on average in this tab.", mean)
    });
    view! {
        {accuracy}
        {comparison}
        {violins}
        {timing.map(|t| view! { <p class="muted" data-testid="run-all-timing">{t}</p> })}
        <details>
            <summary>{format!("Every score of the {} finished families", families.len())}</summary>
            <ul class="score-list">{scores}</ul>
        </details>
    }
    .into_any()
}

/// With the report's full settings, this run's scores must equal the report's.
fn compare_with_report(
    summary: &ReportSummary,
    rows: &[&str],
    strategies: &[StrategyId],
    run: &RunAll,
    backend: Option<BackendKind>,
) -> Option<AnyView> {
    let families = run.finished_families();
    if families.is_empty() {
        return None;
    }
    let full = run_config(&summary.config, strategies, RunSetting::Full).ok()?;
    if &full != run.config() {
        return Some(view! {
            <p class="muted" data-testid="run-all-compare" data-matches="n/a">
                "These settings are not the committed report's, so its numbers are not expected here. The same settings on the command line (above) give these numbers."
            </p>
        }.into_any());
    }
    let tolerance = tolerance_for(backend);
    let mut compared = 0usize;
    let mut largest = 0.0f64;
    let mut differing = Vec::new();
    for family in &families {
        let report = summary.families.iter().find(|f| f.family == family.family);
        for &row in rows {
            let (Some(ours), Some(theirs)) = (
                family.scores.rows.iter().find(|r| r.row == row),
                report.and_then(|f| f.rows.iter().find(|r| r.row == row)),
            ) else {
                continue;
            };
            for score in &ours.scores {
                if let Some(reported) = theirs.scores.iter().find(|s| s.model == score.model) {
                    compared += 1;
                    let difference = (reported.score - score.score).abs();
                    largest = largest.max(difference);
                    if difference > tolerance {
                        differing.push(format!(
                            "{} of {} on {}",
                            row_name(row),
                            score.model,
                            family.family
                        ));
                    }
                }
            }
        }
    }
    let matches = differing.is_empty() && compared > 0;
    let text = if matches {
        format!(
            "Matches the committed report: {compared} scores within {tolerance:e} (largest difference {largest:.1e})."
        )
    } else {
        format!(
            "Differs from the committed report beyond {tolerance:e}: {}.",
            differing.join(", ")
        )
    };
    Some(
        view! { <p data-testid="run-all-compare" data-matches=matches.to_string()>{text}</p> }
            .into_any(),
    )
}
