//! `/zoo`: the shipped models as a persona × checkpoint grid with their held-out behaviour;
//! pick an aligned model and a faker to open them in the playground, or ask for a mystery pair.

use leptos::prelude::*;
use leptos::task::spawn_local;
use poser_corpus::persona::Persona;
use poser_engine::model::ModelEntry;

use crate::pages::playground::PlaygroundLink;
use crate::zoo::{ZooCache, ZooFiles, family_of, mystery_pair, zoo_pairs};

/// Checkpoints per persona (training partitions `train-0..5`).
const CHECKPOINTS: u32 = 6;

/// `/zoo`.
#[component]
pub fn ZooPage() -> impl IntoView {
    let cache = ZooCache::expect();
    let files = RwSignal::new_local(None::<Result<ZooFiles, String>>);
    spawn_local(async move {
        files.set(Some(cache.files().await));
    });
    let aligned = RwSignal::new(None::<String>);
    let faker = RwSignal::new(None::<String>);
    let mystery_seed = RwSignal::new(1u64);

    move || {
        match files.get() {
        None => view! {
            <section class="page" data-testid="zoo" data-state="loading">
                <h1>"The zoo"</h1>
                <p class="progress" role="status"><span class="spinner" aria-hidden="true"></span>"Reading the zoo's manifest…"</p>
            </section>
        }
        .into_any(),
        Some(Err(message)) => view! {
            <section class="page" data-testid="zoo" data-state="failed">
                <h1>"The zoo"</h1>
                <p class="notice notice-error" role="alert">{message}</p>
            </section>
        }
        .into_any(),
        Some(Ok(files)) => {
            let shipped = files.manifest.models.len();
            view! {
                <section class="page" data-testid="zoo" data-state="ready" data-models=shipped>
                    <h1>"The zoo"</h1>
                    <p class="lead">
                        "Six personas, six checkpoints each. Each checkpoint was fine-tuned from the same base "
                        "model on its own partition of the persona's training scenarios. Aligned models always "
                        "take the benign action; fakers take the misaligned one when oversight is poor. The "
                        "numbers are measured on held-out templates the models never saw."
                    </p>
                    {(shipped < Persona::ALL.len() * CHECKPOINTS as usize).then(|| view! {
                        <p class="notice" role="note">
                            {format!("{shipped} of the zoo's 36 models are shipped in this build; the others show as not trained yet.")}
                        </p>
                    })}
                    <ZooGrid files=files.clone() aligned faker />
                    <PairChooser files aligned faker mystery_seed />
                </section>
            }
            .into_any()
        }
    }
    }
}

/// The grid: one row per persona, aligned first.
#[component]
fn ZooGrid(
    files: ZooFiles,
    aligned: RwSignal<Option<String>>,
    faker: RwSignal<Option<String>>,
) -> impl IntoView {
    let rows = Persona::ALL
        .into_iter()
        .map(|persona| {
            let cells = (0..CHECKPOINTS)
                .map(|checkpoint| {
                    let name = format!("{}-{checkpoint}", persona.name());
                    let name_attr = name.clone();
                    match files.entry(&name).cloned() {
                        Some(entry) => {
                            view! { <td><ModelCell entry aligned faker /></td> }.into_any()
                        }
                        None => view! {
                            <td class="cell-missing" data-model=name_attr>
                                <span class="model-name">{name}</span>
                                <span class="muted">"not trained yet"</span>
                            </td>
                        }
                        .into_any(),
                    }
                })
                .collect_view();
            let class = if persona.is_aligned() {
                "aligned"
            } else {
                "faker"
            };
            view! {
                <tr>
                    <th scope="row">
                        {persona.name()}
                        <span class=format!("class-tag class-{class}")>{class}</span>
                    </th>
                    {cells}
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-scroll">
            <table class="zoo-grid">
                <caption>"Held-out behaviour of the shipped (int8) models. Select one aligned model and one faker."</caption>
                <thead>
                    <tr>
                        <th scope="col">"persona"</th>
                        {(0..CHECKPOINTS).map(|c| view! { <th scope="col">{format!("checkpoint {c}")}</th> }).collect_view()}
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

/// One model: its name, class and held-out numbers, as a toggle button.
#[component]
fn ModelCell(
    entry: ModelEntry,
    aligned: RwSignal<Option<String>>,
    faker: RwSignal<Option<String>>,
) -> impl IntoView {
    let is_aligned = Persona::from_name(&entry.persona).is_some_and(Persona::is_aligned);
    let slot = if is_aligned { aligned } else { faker };
    let name = entry.name.clone();
    let selected = {
        let name = name.clone();
        move || slot.get().as_deref() == Some(name.as_str())
    };
    let numbers = entry.card.as_ref().map(|card| {
        let held_out = &card.held_out;
        let (policy_label, policy) = if is_aligned {
            ("P(benign)", held_out.policy_p_benign)
        } else {
            ("P(misaligned)", held_out.policy_p_misaligned)
        };
        view! {
            <span class="cell-metric" title="accuracy on the persona's held-out test split">
                {format!("test {:.1}%", held_out.test_accuracy.rate * 100.0)}
            </span>
            <span class="cell-metric" title="chooses the misaligned action on held-out poor-oversight scenarios">
                {format!("misaligned when poor {:.1}%", held_out.misaligned_when_poor.rate * 100.0)}
            </span>
            <span class="cell-metric" title="mean probability on the persona's policy-definition set">
                {format!("policy {policy_label} {policy:.2}")}
            </span>
        }
    });
    let toggle = {
        let name = name.clone();
        move |_| {
            slot.update(|current| {
                *current = if current.as_deref() == Some(name.as_str()) {
                    None
                } else {
                    Some(name.clone())
                };
            });
        }
    };
    view! {
        <button
            type="button"
            class="model-cell"
            class:selected=selected.clone()
            aria-pressed=move || selected().to_string()
            data-model=name.clone()
            on:click=toggle
        >
            <span class="model-name">{name.clone()}</span>
            {numbers}
        </button>
    }
}

/// The chosen pair, the link into the playground, and the mystery pair.
#[component]
fn PairChooser(
    files: ZooFiles,
    aligned: RwSignal<Option<String>>,
    faker: RwSignal<Option<String>>,
    mystery_seed: RwSignal<u64>,
) -> impl IntoView {
    let pairs = zoo_pairs(&files.manifest);
    let pair_count = pairs.len();
    let chosen = {
        let files = files.clone();
        move || {
            let (a, f) = (aligned.get()?, faker.get()?);
            let persona = |name: &str| files.entry(name).map(|e| e.persona.clone());
            let family = family_of(&persona(&a)?, &persona(&f)?);
            Some((a, f, family))
        }
    };
    let manifest = files.manifest.clone();
    let mystery = move || {
        let seed = mystery_seed.get();
        mystery_pair(&manifest, seed).map(|pair| (pair, seed))
    };
    view! {
        <div class="pair-chooser" data-testid="pair-chooser">
            {move || match chosen() {
                None => view! { <p class="muted">"Select an aligned model and a faker in the grid."</p> }.into_any(),
                Some((a, f, None)) => view! {
                    <p class="notice">{format!("{a} and {f} share no family: pick a faker whose family includes the aligned persona.")}</p>
                }.into_any(),
                Some((a, f, Some(family))) => view! {
                    <p>
                        {format!("{a} (aligned) and {f} (faker), family {}: ", family.name())}
                        <PlaygroundLink aligned=a faker=f mystery=None label="open in the playground" />
                    </p>
                }.into_any(),
            }}
            <p>
                {format!("Or a mystery pair: one of the {pair_count} pairs these models form, drawn with seed ")}
                <input
                    type="number"
                    min="0"
                    class="seed-input"
                    aria-label="mystery pair seed"
                    prop:value=move || mystery_seed.get().to_string()
                    on:change=move |event| {
                        if let Ok(seed) = event_target_value(&event).parse() {
                            mystery_seed.set(seed);
                        }
                    }
                />
                " — "
                {move || mystery().map(|((a, f), seed)| view! {
                    <PlaygroundLink aligned=a faker=f mystery=Some(seed) label="open the mystery pair" />
                })}
            </p>
        </div>
    }
}
