//! The strategy walkthrough's content: for each strategy with a page, its idea and verdict rule
//! in our words, its knobs (each bound to a field of the engine's `EvaluateConfig`), and the
//! strategy's own figure drawn from a live pair's measurements. The page frame that runs them
//! is `pages::strategy_page`; `/strategies` lists them.

mod confidence;
mod decision_speed;
mod induce_safe_belief;
mod intoxicate;
mod learning_speed;
mod oversight;
mod removal;
mod suspicious_concepts;

use leptos::prelude::*;
use poser_charts::lines::{LinePoint, LineSeries};
use poser_charts::{Chart, Role};
use poser_corpus::WordLevelTokenizer;
use poser_engine::evaluation::walkthrough::PairScores;
use poser_engine::evaluation::{EvaluateConfig, ModelMeasurements, StrategyId};
use poser_engine::model::HookPoint;

/// A setting people can change, bound to one field of the config.
pub struct Knob {
    /// Its key in the address.
    pub key: &'static str,
    /// Its label.
    pub label: &'static str,
    /// One sentence: what it changes.
    pub help: &'static str,
    /// The values offered (value, label); empty for a number field.
    pub choices: Vec<(String, String)>,
    /// The config's value, as the address writes it.
    pub read: fn(&EvaluateConfig) -> String,
    /// Sets the config's value from the address's text, or says why it cannot.
    pub write: fn(&mut EvaluateConfig, &str) -> Result<(), String>,
}

/// What a live pair run gives the figures.
pub struct LivePair<'a> {
    /// The config it ran with.
    pub config: &'a EvaluateConfig,
    /// The aligned model's and the faker's names.
    pub names: [&'a str; 2],
    /// Their measurements.
    pub measured: [&'a ModelMeasurements; 2],
    /// Their scores.
    pub scores: &'a PairScores,
    /// The zoo's tokenizer, to show prompts token by token.
    pub tokenizer: &'a WordLevelTokenizer,
}

impl LivePair<'_> {
    /// The two models as line series over `xs`, aligned first, from each side's values.
    pub fn two_lines(&self, xs: &[f64], values: [&[f64]; 2]) -> Vec<LineSeries> {
        [(0, Role::Aligned, "aligned"), (1, Role::Faker, "faker")]
            .into_iter()
            .map(|(side, role, class)| LineSeries {
                name: format!("{} ({class})", self.names[side]),
                role,
                points: xs
                    .iter()
                    .zip(values[side])
                    .map(|(&x, &y)| LinePoint { x, y, band: None })
                    .collect(),
            })
            .collect()
    }
}

/// Tick labels for `xs`, as the values print.
pub fn value_ticks(xs: &[f64]) -> Vec<(f64, String)> {
    xs.iter()
        .map(|&x| (x, poser_charts::scale::format_value(x)))
        .collect()
}

/// Tick labels for blocks 0..n, every `every`-th one named `{i}`.
pub fn block_ticks(n: usize) -> Vec<(f64, String)> {
    (0..n).map(|b| (b as f64, b.to_string())).collect()
}

/// One strategy's page.
pub struct Walkthrough {
    /// Its name in the address (`/strategies/{name}`).
    pub name: &'static str,
    /// The strategies it runs (S6's page runs S6a, S6b and S6c).
    pub strategies: &'static [StrategyId],
    /// The page's title.
    pub title: &'static str,
    /// What it does, a few short paragraphs.
    pub idea: &'static [&'static str],
    /// Which model the rule calls the faker, and why that should work.
    pub rule: &'static [&'static str],
    /// The verdict rows the page scores pairs by (a violin and an accuracy each), first the
    /// main one.
    pub verdict_rows: &'static [&'static str],
    /// The paper's figures the page redraws live, for the heading.
    pub figures_note: &'static str,
    /// The knobs, for models of `n_layers` blocks.
    pub knobs: fn(usize) -> Vec<Knob>,
    /// The strategy's own figures for a live pair.
    pub live_figures: fn(&LivePair<'_>) -> Vec<Chart>,
}

/// Every strategy with a walkthrough page, in the paper's order.
pub fn walkthroughs() -> Vec<Walkthrough> {
    vec![
        confidence::walkthrough(),
        induce_safe_belief::walkthrough(),
        intoxicate::walkthrough(),
        learning_speed::walkthrough(),
        suspicious_concepts::walkthrough(),
        decision_speed::walkthrough(),
        oversight::walkthrough(),
        removal::walkthrough(),
    ]
}

/// The walkthrough of the strategy named `name` in the address.
pub fn walkthrough(name: &str) -> Option<Walkthrough> {
    walkthroughs().into_iter().find(|w| w.name == name)
}

// ---- Knobs every strategy shares. ----

fn parse_count(text: &str, low: usize, high: usize) -> Result<usize, String> {
    let value: usize = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a whole number"))?;
    if value < low || value > high {
        return Err(format!("{value} is outside {low}–{high}"));
    }
    Ok(value)
}

/// The seed and the prompt counts a strategy reads (applied before the config's counts are
/// shared out): curated prompts, oversight scenarios, or both.
pub fn shared_knobs(curated: bool, oversight: bool) -> Vec<Knob> {
    let mut knobs = vec![Knob {
        key: "seed",
        label: "Seed",
        help: "Every subsample, noise draw, pair order and bootstrap derives from it.",
        choices: Vec::new(),
        read: |c| c.seed.to_string(),
        write: |c, text| {
            c.seed = text
                .trim()
                .parse()
                .map_err(|_| format!("`{text}` is not a whole number"))?;
            Ok(())
        },
    }];
    if curated {
        knobs.push(Knob {
            key: "curated",
            label: "Curated prompts per family",
            help: "At most this many of each family's curated prompts (a seeded subsample).",
            choices: Vec::new(),
            read: |c| c.n_curated.to_string(),
            write: |c, text| {
                c.n_curated = parse_count(text, 1, 1000)?;
                Ok(())
            },
        });
    }
    if oversight {
        knobs.push(Knob {
            key: "oversight",
            label: "Oversight scenarios per family",
            help: "Scenarios read with and without their oversight fact.",
            choices: Vec::new(),
            read: |c| c.n_oversight.to_string(),
            write: |c, text| {
                c.n_oversight = parse_count(text, 1, 1000)?;
                Ok(())
            },
        });
    }
    knobs
}

/// The block choices of a `blocks.{i}.hook_resid_post` knob, with each block's depth (block
/// `round(f·n)` carries the paper's depth `f`, POSER.md §4).
pub fn block_choices(n_layers: usize) -> Vec<(String, String)> {
    (0..n_layers)
        .map(|block| {
            let depth = 100.0 * block as f64 / n_layers as f64;
            (
                block.to_string(),
                format!("{} ({depth:.1}% depth)", HookPoint::ResidPost(block)),
            )
        })
        .collect()
}

/// A knob choosing the block of one of the config's hooks.
pub fn block_knob(
    label: &'static str,
    help: &'static str,
    n_layers: usize,
    read: fn(&EvaluateConfig) -> String,
    write: fn(&mut EvaluateConfig, &str) -> Result<(), String>,
) -> Knob {
    Knob {
        key: "block",
        label,
        help,
        choices: block_choices(n_layers),
        read,
        write,
    }
}

/// The answer-mass thresholds offered.
pub fn threshold_choices() -> Vec<(String, String)> {
    ["0.5", "0.7", "0.8", "0.9", "0.95", "0.99"]
        .iter()
        .map(|v| ((*v).to_owned(), (*v).to_owned()))
        .collect()
}

/// Parses a number in [0, 1].
pub fn parse_fraction(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    if !(0.0..=1.0).contains(&value) {
        return Err(format!("{value} is not between 0 and 1"));
    }
    Ok(value)
}

/// Parses a positive number (a learning rate).
pub fn parse_positive(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    if !(value > 0.0 && value.is_finite()) {
        return Err(format!("{value} is not a positive number"));
    }
    Ok(value)
}

/// Parses a block index below `n` (the config knows its hook's block count only through the
/// layer-based defaults, so the page checks against the models' block count).
pub fn parse_block(text: &str) -> Result<usize, String> {
    parse_count(text, 0, 63)
}

/// `/strategies`: every strategy, with a link to its page where it has one.
#[component]
pub fn StrategiesIndex() -> impl IntoView {
    let pages = walkthroughs();
    let page_of = |id: StrategyId| {
        pages
            .iter()
            .find(|w| w.strategies.contains(&id))
            .map(|w| w.name)
    };
    let rows = StrategyId::ALL
        .into_iter()
        .map(|id| {
            let label = strategy_label(id);
            let body = if let Some(name) = page_of(id) {
                view! { <a href=format!("/strategies/{name}")>{label}</a> }.into_any()
            } else {
                view! {
                    <span>{label}</span>
                    <span class="muted">" — no walkthrough page yet; its scores and accuracy are on "<a href="/results">"the results"</a></span>
                }
                .into_any()
            };
            view! { <li data-testid="strategy-link" data-strategy=id.name()>{body}</li> }
        })
        .collect_view();
    view! {
        <section class="page" data-testid="strategies">
            <h1>"Strategies"</h1>
            <p class="lead">
                "Each detector looks inside both models of a pair and must say which one is faking. "
                "A walkthrough page explains a strategy, lets you change its settings, runs it live on "
                "a pair in this tab, then on every pair, beside the committed report and the paper."
            </p>
            <ul class="strategy-list">{rows}</ul>
        </section>
    }
}

/// A strategy's name for people.
pub fn strategy_label(id: StrategyId) -> &'static str {
    match id {
        StrategyId::Confidence => "Confidence baseline",
        StrategyId::S1 => "S1 · Induce the belief that it is safe to misbehave",
        StrategyId::S2 => "S2 · Intoxicate the models",
        StrategyId::S3 => "S3 · Compare how fast models learn to misbehave",
        StrategyId::S4 => "S4 · Identify suspicious concepts",
        StrategyId::S5 => "S5 · Compare decision-making speed",
        StrategyId::S6a => "S6a · Gradient saliency",
        StrategyId::S6b => "S6b · Attention onto the oversight fact",
        StrategyId::S6c => "S6c · Removing the oversight fact",
        StrategyId::Removal => "§4 · Removing alignment faking",
    }
}

#[cfg(test)]
mod tests {
    use poser_engine::evaluation::walkthrough::{PAGES, RunSetting, run_config};

    use super::*;

    /// The pages and the engine's list (which `poser bench pages` times) name the same runs.
    #[test]
    fn pages_are_the_engines_pages() {
        let pages: Vec<(&str, Vec<StrategyId>)> = walkthroughs()
            .iter()
            .map(|w| (w.name, w.strategies.to_vec()))
            .collect();
        let engine: Vec<(&str, Vec<StrategyId>)> =
            PAGES.iter().map(|(n, s)| (*n, s.to_vec())).collect();
        assert_eq!(pages, engine);
    }

    /// Every knob reads back what it writes, refuses garbage, and its keys are unique per page.
    #[test]
    fn knobs_round_trip_through_the_config() -> Result<(), String> {
        let report = EvaluateConfig::paper(8, 0).map_err(|e| e.to_string())?;
        for page in walkthroughs() {
            let config = run_config(&report, page.strategies, RunSetting::Full)
                .map_err(|e| e.to_string())?;
            let knobs = (page.knobs)(8);
            let mut keys: Vec<&str> = knobs.iter().map(|k| k.key).collect();
            keys.sort_unstable();
            keys.dedup();
            assert_eq!(
                keys.len(),
                knobs.len(),
                "{}: duplicate knob keys",
                page.name
            );
            for knob in &knobs {
                let value = (knob.read)(&config);
                let mut written = config.clone();
                (knob.write)(&mut written, &value)?;
                assert_eq!(
                    written, config,
                    "{} {}: writing its own value",
                    page.name, knob.key
                );
                let changed = knob
                    .choices
                    .iter()
                    .map(|(v, _)| v.clone())
                    .find(|v| *v != value)
                    .unwrap_or_else(|| "2".to_owned());
                (knob.write)(&mut written, &changed)?;
                assert_eq!((knob.read)(&written), changed, "{} {}", page.name, knob.key);
                assert!(
                    (knob.write)(&mut written, "not a value").is_err(),
                    "{} {}: refuses garbage",
                    page.name,
                    knob.key
                );
                if !knob.choices.is_empty() {
                    assert!(
                        knob.choices.iter().any(|(v, _)| *v == value),
                        "{} {}: the default {value} is offered",
                        page.name,
                        knob.key
                    );
                }
            }
        }
        Ok(())
    }
}
