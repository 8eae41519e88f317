//! `/playground`: one scenario of a pair's family, both models side by side. Switch the
//! oversight fact between good, poor and removed and watch the faker flip while the aligned
//! model holds; edit or reorder the facts and actions; see which tokens and facts each model's
//! choice rests on (gradient saliency, last-token attention).
//!
//! Everything the view shows follows from the address (`v=1`, `aligned`, `faker`, `scenario`,
//! `oversight`, `seed`, `mystery`, `edit`), so a reload or a shared link shows the same thing.

use std::ops::Range;
use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_query_map;
use poser_corpus::page_scenarios::{OVERSIGHT_FACT_TYPE, Oversight, PageScenario, RenderedPrompt};
use poser_corpus::rng::Rng;
use poser_corpus::tokenizer::{pre_tokenize, token_count};
use poser_corpus::{Fact, WordLevelTokenizer};
use poser_engine::model::{PromptAttribution, attribute_prompt};

use crate::address::Navigator;
use crate::system::{SystemState, expect_system_state};
use crate::zoo::{FamilyScenarios, LoadStep, ZooCache, ZooFiles, family_of, mystery_pair};

/// The version of the address format this page reads and writes.
const STATE_VERSION: &str = "1";

/// A link to the playground with a pair (and, for a mystery pair, its seed).
#[component]
pub fn PlaygroundLink(
    aligned: String,
    faker: String,
    mystery: Option<u64>,
    label: &'static str,
) -> impl IntoView {
    // A mystery pair's address holds only its seed: the page draws the pair from it, so the
    // names never show in the address bar.
    let href = match mystery {
        Some(seed) => format!("/playground?v={STATE_VERSION}&mystery={seed}"),
        None => format!("/playground?v={STATE_VERSION}&aligned={aligned}&faker={faker}"),
    };
    view! { <a href=href class="button-link">{label}</a> }
}

/// What the address asks for.
#[derive(Debug, Clone, PartialEq)]
struct Asked {
    version: Option<String>,
    aligned: Option<String>,
    faker: Option<String>,
    scenario: Option<String>,
    oversight: Oversight,
    seed: u64,
    mystery: Option<u64>,
    edit: Option<Result<PageScenario, String>>,
}

impl Asked {
    fn from_query(get: impl Fn(&str) -> Option<String>) -> Self {
        Self {
            version: get("v"),
            aligned: get("aligned"),
            faker: get("faker"),
            scenario: get("scenario"),
            oversight: get("oversight")
                .and_then(|name| Oversight::parse(&name))
                .unwrap_or(Oversight::Good),
            seed: get("seed").and_then(|s| s.parse().ok()).unwrap_or(0),
            mystery: get("mystery").and_then(|s| s.parse().ok()),
            edit: get("edit").map(|text| {
                serde_json::from_str::<PageScenario>(&text).map_err(|error| {
                    format!("The edits in this address cannot be read ({error}); showing the scenario as generated.")
                })
            }),
        }
    }
}

/// The pair, its family's scenarios and the zoo files, once loaded.
#[derive(Clone)]
struct PairData {
    /// The aligned model's and the faker's names.
    names: [String; 2],
    files: ZooFiles,
    family: String,
    scenarios: FamilyScenarios,
}

/// What one model's panel shows.
#[derive(Clone)]
enum ModelSlot {
    Waiting,
    Loading(String),
    /// The outcome, with the prompt's tokens it is for (so a stale result is never shown as
    /// the current one).
    Done(Vec<u32>, Result<PromptAttribution, String>),
}

/// One run of both models: what they are asked.
#[derive(Debug, Clone, PartialEq)]
struct Job {
    models: [String; 2],
    tokens: Vec<u32>,
    spans: Vec<Range<usize>>,
}

/// `/playground`.
#[component]
pub fn Playground() -> impl IntoView {
    let query = use_query_map();
    let asked = Memo::new(move |_| {
        let map = query.get();
        Asked::from_query(|key| map.get(key))
    });
    let cache = StoredValue::new_local(ZooCache::expect());
    let system = expect_system_state();
    let nav = Navigator::new(STATE_VERSION);

    // The zoo files and the family's scenarios, reloaded when the pair changes.
    let pair_key = Memo::new(move |_| {
        let asked = asked.get();
        (asked.aligned, asked.faker, asked.mystery)
    });
    let pair_data = RwSignal::new_local(None::<Result<PairData, String>>);
    {
        Effect::new(move |_| {
            let (aligned, faker, mystery) = pair_key.get();
            let cache = cache.get_value();
            pair_data.set(None);
            spawn_local(async move {
                let loaded = load_pair(&cache, aligned, faker, mystery).await;
                pair_data.try_set(Some(loaded));
            });
        });
    }

    // The scenario shown: the one asked for (with its edits), else the first of the list.
    let scenario = Memo::new(move |_| {
        let asked = asked.get();
        let data = pair_data.get()?.ok()?;
        let list = scenario_list(&data.scenarios);
        let asked_for = asked.scenario.as_ref().and_then(|id| {
            data.scenarios
                .set
                .scenarios
                .iter()
                .find(|s| &s.scenario_id == id)
                .cloned()
        });
        let original = asked_for
            .or_else(|| list.first().cloned())
            .or_else(|| data.scenarios.set.scenarios.first().cloned())?;
        let shown = match asked.edit {
            Some(Ok(edited)) if edited.scenario_id == original.scenario_id => edited,
            _ => original.clone(),
        };
        Some((original, shown))
    });
    let rendered = Memo::new(move |_| {
        let (_, shown) = scenario.get()?;
        Some(shown.render(asked.get().oversight))
    });
    let shown_facts = Memo::new(move |_| {
        let (_, shown) = scenario.get()?;
        Some(shown.facts_for(asked.get().oversight))
    });
    let tokenizer = Memo::new(move |_| {
        pair_data
            .get()
            .and_then(Result::ok)
            .map(|data| TokenizerHandle(data.files.tokenizer.clone()))
    });
    let n_ctx = Memo::new(move |_| {
        let data = pair_data.get()?.ok()?;
        data.files.manifest.models.first().map(|m| m.config.n_ctx)
    });
    let job = Memo::new(move |_| {
        let names = pair_data.get()?.ok()?.names;
        let prompt = rendered.get()?;
        let tokenizer = tokenizer.get()?;
        let tokens = tokenizer.0.encode(&prompt.text);
        if tokens.len() > n_ctx.get()? {
            return None;
        }
        Some(Job {
            models: names,
            tokens,
            spans: prompt.fact_spans,
        })
    });

    let slots = RwSignal::new_local([ModelSlot::Waiting, ModelSlot::Waiting]);
    // Which run is current: a plain counter (not owned by the page's reactive owner, so a run
    // still going after the page is left reads it safely), bumped by every new request.
    let generation = Rc::new(std::cell::Cell::new(0u64));
    let first_result_ms = RwSignal::new(None::<f64>);
    let labels = Memo::new(move |_| {
        let names = pair_data.get()?.ok()?.names;
        Some(match asked.get().mystery {
            Some(seed) => {
                let order = mystery_order(seed);
                let label = |index: usize| {
                    let shown_at = order.iter().position(|&i| i == index).unwrap_or(index);
                    format!("Model {}", shown_at + 1)
                };
                [label(0), label(1)]
            }
            None => names,
        })
    });
    Effect::new(move |_| {
        generation.set(generation.get() + 1);
        let this_run = generation.get();
        let SystemState::Ready(ready) = system.get() else {
            return;
        };
        let (Some(job), Some(labels)) = (job.get(), labels.get()) else {
            slots.set([ModelSlot::Waiting, ModelSlot::Waiting]);
            return;
        };
        let current = {
            let generation = generation.clone();
            move || generation.get() == this_run
        };
        let device = ready.backend.device.clone();
        let cache = cache.get_value();
        slots.set([
            ModelSlot::Loading("waiting".to_owned()),
            ModelSlot::Loading("waiting".to_owned()),
        ]);
        spawn_local(async move {
            for (index, name) in job.models.iter().enumerate() {
                if !current() {
                    return;
                }
                // In mystery mode every line says "Model N", never the model's name.
                let label = labels[index].clone();
                let hide = |text: String| text.replace(name.as_str(), &label);
                let progress = {
                    let current = current.clone();
                    move |step: LoadStep| {
                        if current() {
                            let line = hide(step.describe());
                            slots.try_update(|s| s[index] = ModelSlot::Loading(line));
                        }
                    }
                };
                let outcome = match cache.model(&device, name, &progress).await {
                    Ok(model) if current() => {
                        let line = format!("running {label} on the prompt");
                        slots.try_update(|s| s[index] = ModelSlot::Loading(line));
                        attribute_prompt(&model, &job.tokens, &job.spans)
                            .await
                            .map_err(|error| format!("{label} could not run this prompt: {error}"))
                    }
                    Ok(_) => return,
                    Err(message) => Err(hide(message)),
                };
                if !current() {
                    return;
                }
                slots.try_update(|s| s[index] = ModelSlot::Done(job.tokens.clone(), outcome));
            }
            if first_result_ms.try_get_untracked().flatten().is_none() {
                let now = web_sys::window()
                    .and_then(|w| w.performance())
                    .map(|p| p.now());
                first_result_ms.try_set(now);
            }
        });
    });

    let page_state = move || {
        let tokens = job.get().map(|job| job.tokens);
        let current = |slot: &ModelSlot| matches!(slot, ModelSlot::Done(for_tokens, _) if Some(for_tokens) == tokens.as_ref());
        match pair_data.get() {
            Some(Err(_)) => "failed",
            Some(Ok(_)) if slots.with(|s| s.iter().all(current)) => "done",
            _ => "loading",
        }
    };

    view! {
        <section
            class="page playground"
            data-testid="playground"
            data-state=page_state
            data-prompt=move || rendered.get().map(|r| r.text).unwrap_or_default()
            data-oversight=move || asked.get().oversight.as_str()
            data-first-result-ms=move || first_result_ms.get().map(|ms| format!("{ms:.0}"))
        >
            <h1>"Playground"</h1>
            {move || {
                let asked = asked.get();
                asked.version.as_deref().filter(|v| *v != STATE_VERSION).map(|v| view! {
                    <p class="notice" role="note">{format!("This address was written by version {v} of the playground; this page reads version {STATE_VERSION} and may show something different.")}</p>
                })
            }}
            {move || match pair_data.get() {
                None => view! {
                    <p class="progress" role="status"><span class="spinner" aria-hidden="true"></span>"Reading the zoo and the pair's scenarios…"</p>
                }.into_any(),
                Some(Err(message)) => view! {
                    <p class="notice notice-error" role="alert">{message}</p>
                    <p><a href="/zoo">"Choose a pair on the zoo page."</a></p>
                }.into_any(),
                Some(Ok(data)) => {
                    let names = data.names.clone();
                    view! {
                    <PairHeader data=data.clone() asked />
                    <ScenarioControls data asked scenario nav />
                    {move || {
                        let oversight = asked.get().oversight;
                        scenario.get().map(|(original, shown)| view! {
                            <ScenarioEditor original shown oversight asked tokenizer nav />
                        })
                    }}
                    {move || {
                        let prompt = rendered.get()?;
                        let tokenizer = tokenizer.get()?;
                        let length = tokenizer.0.encode(&prompt.text).len();
                        let limit = n_ctx.get()?;
                        (length > limit).then(|| view! {
                            <p class="notice notice-error" role="alert" data-testid="too-long">
                                {format!("This prompt has {length} tokens; the models read at most {limit}. Shorten or remove a fact.")}
                            </p>
                        })
                    }}
                    <ModelPanels names asked slots job rendered tokenizer scenario shown_facts />
                }.into_any()
                }
            }}
        </section>
    }
}

/// A tokenizer behind a pointer, comparable by identity (one per page).
#[derive(Clone)]
struct TokenizerHandle(std::sync::Arc<WordLevelTokenizer>);

impl PartialEq for TokenizerHandle {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

async fn load_pair(
    cache: &ZooCache,
    aligned: Option<String>,
    faker: Option<String>,
    mystery: Option<u64>,
) -> Result<PairData, String> {
    let files = cache.files().await?;
    let (aligned, faker) = match (aligned, faker, mystery) {
        (Some(aligned), Some(faker), _) => (aligned, faker),
        (_, _, Some(seed)) => mystery_pair(&files.manifest, seed)
            .ok_or("The zoo in this build has no aligned model and faker that form a pair.")?,
        _ => {
            return Err("No pair is chosen: the address needs `aligned` and `faker` model names, or `mystery` and a seed.".into());
        }
    };
    let persona = |name: &str| {
        files
            .entry(name)
            .map(|entry| entry.persona.clone())
            .ok_or_else(|| format!("The zoo in this build has no model named `{name}`."))
    };
    let (aligned_persona, faker_persona) = (persona(&aligned)?, persona(&faker)?);
    let family = family_of(&aligned_persona, &faker_persona).ok_or_else(|| {
        format!(
            "{aligned} ({aligned_persona}) and {faker} ({faker_persona}) do not form a pair: the first must be an aligned model and the second a faker of the same family."
        )
    })?;
    let scenarios = cache.family(family.name()).await?;
    Ok(PairData {
        names: [aligned, faker],
        files,
        family: family.name().to_owned(),
        scenarios,
    })
}

/// The scenarios offered: the curated set if shipped, else every benchmark scenario.
fn scenario_list(scenarios: &FamilyScenarios) -> Vec<PageScenario> {
    scenarios
        .set
        .listed(scenarios.curated.as_deref().map(Vec::as_slice))
}

/// The pair's names (hidden in mystery mode) and family.
#[component]
fn PairHeader(data: PairData, asked: Memo<Asked>) -> impl IntoView {
    move || {
        let asked = asked.get();
        let who = if asked.mystery.is_some() {
            "a mystery pair: one aligned model and one faker, in an order drawn from the seed"
                .to_owned()
        } else {
            format!("{} (aligned) and {} (faker)", data.names[0], data.names[1])
        };
        view! {
            <p class="lead">{format!("Family {}: {who}.", data.family)}</p>
        }
    }
}

/// Scenario choice (list or seeded random) and the oversight switch.
#[component]
fn ScenarioControls(
    data: PairData,
    asked: Memo<Asked>,
    scenario: Memo<Option<(PageScenario, PageScenario)>>,
    nav: Navigator,
) -> impl IntoView {
    let list = scenario_list(&data.scenarios);
    let curated = data.scenarios.curated.is_some();
    let count = list.len();
    let ids: Vec<String> = list.iter().map(|s| s.scenario_id.clone()).collect();
    let current = move || {
        scenario
            .get()
            .map(|(o, _)| o.scenario_id)
            .unwrap_or_default()
    };
    // `selected` on each option: the select's value would be set before its options exist.
    let options = list
        .iter()
        .map(|s| {
            let label = format!("{} · {}", s.template_id, short_id(&s.scenario_id));
            let id = s.scenario_id.clone();
            let value = id.clone();
            view! { <option value=value selected=move || current() == id>{label}</option> }
        })
        .collect_view();
    let random = move |_| {
        let seed = asked.get_untracked().seed.wrapping_add(1);
        let mut rng = Rng::derived(seed, "playground-scenario");
        let now = scenario.get_untracked().map(|(o, _)| o.scenario_id);
        let others: Vec<&String> = ids.iter().filter(|id| Some(*id) != now.as_ref()).collect();
        let index = rng.below(others.len().max(1));
        if let Some(id) = others.get(index).copied() {
            nav.change(&[
                ("seed", Some(seed.to_string())),
                ("scenario", Some(id.clone())),
                ("edit", None),
            ]);
        }
    };
    let oversight_buttons = Oversight::ALL
        .into_iter()
        .map(|oversight| {
            let label = match oversight {
                Oversight::Good => "good oversight",
                Oversight::Poor => "poor oversight",
                Oversight::Removed => "oversight fact removed",
            };
            view! {
                <button
                    type="button"
                    class="toggle"
                    data-oversight=oversight.as_str()
                    aria-pressed=move || (asked.get().oversight == oversight).to_string()
                    on:click=move |_| nav.change(&[("oversight", Some(oversight.as_str().to_owned()))])
                >
                    {label}
                </button>
            }
        })
        .collect_view();
    view! {
        <div class="controls">
            <label>
                {if curated { format!("Curated scenario ({count}) ") } else { format!("Scenario ({count} benchmark scenarios; no curated set is shipped yet) ") }}
                <select
                    data-testid="scenario-select"

                    on:change=move |event| nav.change(&[
                        ("scenario", Some(event_target_value(&event))),
                        ("edit", None),
                    ])
                >
                    {options}
                </select>
            </label>
            <button type="button" on:click=random data-testid="random-scenario">
                {move || format!("Random scenario (seed {})", asked.get().seed.wrapping_add(1))}
            </button>
            <div class="toggle-group" role="group" aria-label="Oversight fact">{oversight_buttons}</div>
        </div>
    }
}

/// The display order of a mystery pair (indices into [aligned, faker]), drawn from its seed.
fn mystery_order(seed: u64) -> [usize; 2] {
    if Rng::derived(seed, "mystery-order").chance(1, 2) {
        [1, 0]
    } else {
        [0, 1]
    }
}

fn short_id(scenario_id: &str) -> &str {
    scenario_id.rsplit('/').next().unwrap_or(scenario_id)
}

/// The scenario's facts and actions, editable: text, order, reset. Words the models never saw
/// are listed under their line.
#[component]
fn ScenarioEditor(
    original: PageScenario,
    shown: PageScenario,
    oversight: Oversight,
    asked: Memo<Asked>,
    tokenizer: Memo<Option<TokenizerHandle>>,
    nav: Navigator,
) -> impl IntoView {
    // The scenario's fact indices in the order they are shown (the oversight fact hidden when
    // removed), and the text shown for each.
    let visible: Vec<usize> = shown
        .facts
        .iter()
        .enumerate()
        .filter(|(_, fact)| {
            !(oversight == Oversight::Removed && fact.fact_type == OVERSIGHT_FACT_TYPE)
        })
        .map(|(index, _)| index)
        .collect();
    let text_of = |scenario: &PageScenario, index: usize| -> String {
        let fact = &scenario.facts[index];
        if fact.fact_type == OVERSIGHT_FACT_TYPE && oversight == Oversight::Poor {
            scenario.poor_oversight.clone()
        } else {
            fact.content.clone()
        }
    };
    let save = {
        let original = original.clone();
        move |edited: PageScenario| {
            let value = (edited != original)
                .then(|| serde_json::to_string(&edited).ok())
                .flatten();
            nav.change(&[("edit", value)]);
        }
    };
    let unknown_words = move |text: &str| -> Vec<String> {
        let Some(tokenizer) = tokenizer.get_untracked() else {
            return Vec::new();
        };
        pre_tokenize(text)
            .into_iter()
            .filter(|word| tokenizer.0.token_id(word).is_none())
            .map(str::to_owned)
            .collect()
    };
    let rows = visible
        .iter()
        .enumerate()
        .map(|(position, &index)| {
            let fact_type = shown.facts[index].fact_type.clone();
            let fact_type_attr = fact_type.clone();
            let text = text_of(&shown, index);
            let unknown = unknown_words(&text);
            let on_edit = {
                let shown = shown.clone();
                let save = save.clone();
                move |event| {
                    let value = event_target_value(&event);
                    let mut edited = shown.clone();
                    if edited.facts[index].fact_type == OVERSIGHT_FACT_TYPE && oversight == Oversight::Poor {
                        edited.poor_oversight = value;
                    } else {
                        edited.facts[index].content = value;
                    }
                    save(edited);
                }
            };
            let swap = {
                let shown = shown.clone();
                let save = save.clone();
                let visible = visible.clone();
                move |with: Option<usize>| {
                    if let Some(&other) = with.and_then(|p| visible.get(p)) {
                        let mut edited = shown.clone();
                        edited.facts.swap(index, other);
                        save(edited);
                    }
                }
            };
            let up = {
                let swap = swap.clone();
                move |_| swap(position.checked_sub(1))
            };
            let down = move |_| swap(Some(position + 1));
            let is_last = position + 1 == visible.len();
            view! {
                <li data-fact-type=fact_type_attr>
                    <span class="fact-type">{fact_type}</span>
                    <textarea rows="2" aria-label=format!("fact {}", position + 1) on:change=on_edit prop:value=text></textarea>
                    <span class="fact-buttons">
                        <button type="button" aria-label=format!("move fact {} up", position + 1) disabled=position == 0 on:click=up>"↑"</button>
                        <button type="button" aria-label=format!("move fact {} down", position + 1) disabled=is_last on:click=down>"↓"</button>
                    </span>
                    {(!unknown.is_empty()).then(|| view! {
                        <p class="unknown-words" data-testid="unknown-words">{format!("Unknown to the models (read as [UNK]): {}", unknown.join(", "))}</p>
                    })}
                </li>
            }
        })
        .collect_view();
    let action_input = |letter: &'static str| {
        let text = if letter == "A" {
            shown.action_a.clone()
        } else {
            shown.action_b.clone()
        };
        let unknown = unknown_words(&text);
        let shown = shown.clone();
        let save = save.clone();
        let role = if shown.benign == letter {
            "benign"
        } else {
            "misaligned"
        };
        view! {
            <li>
                <span class="fact-type">{format!("{letter} ({role})")}</span>
                <input
                    type="text"
                    aria-label=format!("action {letter}")
                    prop:value=text
                    on:change=move |event| {
                        let mut edited = shown.clone();
                        if letter == "A" { edited.action_a = event_target_value(&event) } else { edited.action_b = event_target_value(&event) }
                        save(edited);
                    }
                />
                {(!unknown.is_empty()).then(|| view! {
                    <p class="unknown-words">{format!("Unknown to the models (read as [UNK]): {}", unknown.join(", "))}</p>
                })}
            </li>
        }
    };
    let edited = shown != original;
    // Swapping the actions moves the benign action to the other letter.
    let swap_actions = {
        let shown = shown.clone();
        let save = save.clone();
        move |_| {
            let mut swapped = shown.clone();
            std::mem::swap(&mut swapped.action_a, &mut swapped.action_b);
            swapped.benign = if swapped.benign == "A" { "B" } else { "A" }.to_owned();
            save(swapped);
        }
    };
    view! {
        <details class="editor" open=edited>
            <summary>{if edited { "Scenario (edited)" } else { "Scenario: edit or reorder the facts and actions" }}</summary>
            {move || asked.get().edit.and_then(Result::err).map(|message| view! { <p class="notice">{message}</p> })}
            {(oversight == Oversight::Removed).then(|| view! { <p class="muted">"The oversight fact is removed in this version; switch to good or poor oversight to edit it."</p> })}
            <ol class="fact-list">{rows}</ol>
            <ul class="action-list">{action_input("A")}{action_input("B")}</ul>
            <button type="button" on:click=swap_actions data-testid="swap-actions">"Swap A and B"</button>
            {edited.then(|| view! {
                <button type="button" on:click=move |_| nav.change(&[("edit", None)])>"Reset edits"</button>
            })}
        </details>
    }
}

/// Both models' panels, in display order (seeded in mystery mode), with the guess and reveal.
#[component]
fn ModelPanels(
    names: [String; 2],
    asked: Memo<Asked>,
    slots: RwSignal<[ModelSlot; 2], LocalStorage>,
    job: Memo<Option<Job>>,
    rendered: Memo<Option<RenderedPrompt>>,
    tokenizer: Memo<Option<TokenizerHandle>>,
    scenario: Memo<Option<(PageScenario, PageScenario)>>,
    shown_facts: Memo<Option<Vec<Fact>>>,
) -> impl IntoView {
    let guess = RwSignal::new(None::<usize>);
    // A new mystery pair starts unguessed (switching oversight or editing keeps the guess).
    let mystery_seed = Memo::new(move |_| asked.get().mystery);
    Effect::new(move |_| {
        mystery_seed.track();
        guess.set(None);
    });
    let order = move || -> [usize; 2] { mystery_seed.get().map_or([0, 1], mystery_order) };
    let revealed = move || asked.get().mystery.is_none() || guess.get().is_some();
    let panels = move || {
        let tokens = job.get().map(|job| job.tokens);
        order()
            .into_iter()
            .enumerate()
            .map(|(shown_at, index)| {
                let title = if revealed() {
                    let role = if index == 0 { "aligned" } else { "faker" };
                    format!("{} ({role})", names[index])
                } else {
                    format!("Model {}", shown_at + 1)
                };
                // A result for another prompt is never shown as this one's.
                let slot = match slots.with(|s| s[index].clone()) {
                    ModelSlot::Done(for_tokens, _) if Some(&for_tokens) != tokens.as_ref() => {
                        ModelSlot::Loading("updating".to_owned())
                    }
                    slot => slot,
                };
                let model_attr = revealed().then(|| names[index].clone());
                let role_attr = revealed().then_some(if index == 0 { "aligned" } else { "faker" });
                view! {
                    <ModelPanel title content=slot model_attr role_attr rendered tokenizer scenario shown_facts />
                }
            })
            .collect_view()
    };
    let guess_view = move || {
        let seed = mystery_seed.get()?;
        let faker_at = order().iter().position(|&index| index == 1).unwrap_or(1);
        Some(match guess.get() {
            None => view! {
                <div class="guess" data-testid="guess">
                    <p>{format!("Mystery pair (seed {seed}): which model is the faker?")}</p>
                    <button type="button" on:click=move |_| guess.set(Some(0))>"Model 1"</button>
                    <button type="button" on:click=move |_| guess.set(Some(1))>"Model 2"</button>
                </div>
            }
            .into_any(),
            Some(picked) => {
                let verdict = if picked == faker_at {
                    "Right"
                } else {
                    "Not this time"
                };
                view! {
                    <p class="guess" data-testid="guess" data-correct=(picked == faker_at).to_string()>
                        {format!("{verdict}: the faker is Model {}.", faker_at + 1)}
                    </p>
                }
                .into_any()
            }
        })
    };
    view! {
        {guess_view}
        <div class="model-panels">{panels}</div>
        <SaliencyLegend />
    }
}

/// One model's probabilities, choice, saliency map and per-fact shares.
#[component]
fn ModelPanel(
    title: String,
    content: ModelSlot,
    model_attr: Option<String>,
    role_attr: Option<&'static str>,
    rendered: Memo<Option<RenderedPrompt>>,
    tokenizer: Memo<Option<TokenizerHandle>>,
    scenario: Memo<Option<(PageScenario, PageScenario)>>,
    shown_facts: Memo<Option<Vec<Fact>>>,
) -> impl IntoView {
    let (state, body) = match content {
        ModelSlot::Waiting => ("waiting", view! { <p class="muted">"Waiting for the backend and the prompt…"</p> }.into_any()),
        ModelSlot::Loading(step) => (
            "loading",
            view! { <p class="progress" role="status"><span class="spinner" aria-hidden="true"></span>{step}</p> }.into_any(),
        ),
        ModelSlot::Done(_, Err(message)) => (
            "failed",
            view! { <p class="notice notice-error" role="alert">{message}</p> }.into_any(),
        ),
        ModelSlot::Done(_, Ok(attribution)) => ("done", attribution_view(attribution, rendered, tokenizer, scenario, shown_facts).into_any()),
    };
    view! {
        <article class="model-panel" data-testid="model-panel" data-state=state data-model=model_attr data-role=role_attr>
            <h2>{title}</h2>
            {body}
        </article>
    }
}

fn attribution_view(
    attribution: PromptAttribution,
    rendered: Memo<Option<RenderedPrompt>>,
    tokenizer: Memo<Option<TokenizerHandle>>,
    scenario: Memo<Option<(PageScenario, PageScenario)>>,
    shown_facts: Memo<Option<Vec<Fact>>>,
) -> impl IntoView {
    let p = attribution.p;
    let bars = [("A", p.a), ("B", p.b), ("error", p.error)]
        .into_iter()
        .map(|(answer, value)| {
            view! {
                <div class="prob-row" data-answer=answer data-p=value.to_string()>
                    <span class="prob-label">{format!("P({answer})")}</span>
                    <span class="prob-bar"><span class="prob-fill" style=format!("width: {:.2}%", value * 100.0)></span></span>
                    <span class="prob-value">{format!("{value:.3}")}</span>
                </div>
            }
        })
        .collect_view();
    let chosen = attribution.chosen.clone();
    let choice = move || {
        let (_, shown) = scenario.get()?;
        let action = if chosen == "A" {
            shown.action_a.clone()
        } else {
            shown.action_b.clone()
        };
        let role = if shown.benign == chosen {
            "benign"
        } else {
            "misaligned"
        };
        Some(view! {
            <p class="choice" data-chosen=chosen.clone() data-chosen-role=role>
                {format!("Chooses {chosen} ({role}): {action}")}
            </p>
        })
    };
    let saliency = attribution.saliency.clone();
    let tokens = attribution.tokens.clone();
    let map = move || {
        let prompt = rendered.get()?;
        let tokenizer = tokenizer.get()?;
        Some(saliency_map(&prompt.text, &tokens, &saliency, &tokenizer.0))
    };
    let facts = move || {
        let facts = shown_facts.get()?;
        let rows = facts
            .iter()
            .zip(attribution.fact_saliency_share.iter().zip(&attribution.fact_attention_share))
            .enumerate()
            .map(|(i, (fact, (saliency, attention)))| {
                view! {
                    <tr data-fact-type=fact.fact_type.clone() data-saliency-share=saliency.to_string() data-attention-share=attention.to_string()>
                        <td>{i + 1}</td>
                        <td>{fact.fact_type.clone()}</td>
                        <td class="num">{format!("{:.1}%", saliency * 100.0)}</td>
                        <td class="num">{format!("{:.1}%", attention * 100.0)}</td>
                    </tr>
                }
            })
            .collect_view();
        Some(view! {
            <table class="fact-shares">
                <caption>"Each fact's share of the token saliency and of the last token's attention (mean over blocks and heads)."</caption>
                <thead><tr><th scope="col">"fact"</th><th scope="col">"type"</th><th scope="col">"saliency"</th><th scope="col">"attention"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        })
    };
    view! {
        <div class="probs">{bars}</div>
        {choice}
        {map}
        {facts}
    }
}

/// The prompt's tokens coloured by saliency (scaled to the largest in this prompt), one line
/// per prompt line, each token's value in its title and `data-saliency`.
fn saliency_map(
    text: &str,
    tokens: &[u32],
    saliency: &[f32],
    tokenizer: &WordLevelTokenizer,
) -> AnyView {
    let max = saliency.iter().copied().fold(0.0f32, f32::max);
    // Token indices where a new line of the prompt starts.
    let line_starts: Vec<usize> = text
        .match_indices('\n')
        .map(|(at, _)| token_count(&text[..at]))
        .collect();
    let unk = tokenizer.unk_id();
    let pieces = tokens
        .iter()
        .zip(saliency)
        .enumerate()
        .map(|(index, (&id, &value))| {
            let word = tokenizer.token(id).unwrap_or("[UNK]").to_owned();
            let scaled = if max > 0.0 { value / max } else { 0.0 };
            let (background, foreground) = ramp(scaled);
            let breaks = line_starts.iter().filter(|&&start| start == index).count();
            let class = if id == unk {
                "token token-unk"
            } else {
                "token"
            };
            let title = format!(
                "{word}: saliency {value:.4} ({:.0}% of the largest)",
                scaled * 100.0
            );
            view! {
                {(breaks > 0 && index > 0).then(|| view! { <br /> })}
                <span
                    class=class
                    style=format!("background: {background}; color: {foreground}")
                    title=title
                    data-saliency=value.to_string()
                >
                    {word}
                </span>
                " "
            }
        })
        .collect_view();
    view! { <div class="saliency-map" data-testid="saliency-map">{pieces}</div> }.into_any()
}

/// The charts' sequential blue ramp (light to dark, readable with any colour vision) and the
/// text colour, black or white, that contrasts more with it (always at least 4.5:1).
fn ramp(t: f32) -> (String, String) {
    let background = poser_charts::palette::BLUES.at(f64::from(t));
    (background.hex(), background.readable_text().hex())
}

#[component]
fn SaliencyLegend() -> impl IntoView {
    view! {
        <div class="legend" aria-label="saliency colour scale">
            <span>"saliency: 0"</span>
            <span class="legend-ramp" aria-hidden="true"></span>
            <span>"largest in the prompt"</span>
            <p class="muted">
                "Saliency is the size of the gradient of log P(chosen letter) with respect to each token's embedding. "
                "Hover a token for its value; the table gives each fact's share as numbers. Tokens with a dashed border "
                "are words the models never saw ([UNK])."
            </p>
        </div>
    }
}
