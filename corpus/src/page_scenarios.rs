//! Scenarios as the page's playground shows them: one record per benchmark scenario, holding its
//! facts (the oversight fact in both its good and its poor form) and its two actions, so the
//! page can render the good-oversight, poor-oversight and removed-oversight prompts, and prompts
//! a person has edited, exactly as the generator renders them.
//!
//! The files (`public/scenarios/<family>.json`) are made from the families' benchmark
//! candidates by `poser scenarios export-page`; a test checks that the committed files match.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::error::CorpusError;
use crate::example::{Example, Fact};
use crate::scenario::{fact_token_span, render_prompt};

/// The format tag of a page scenario file.
pub const PAGE_SCENARIOS_FORMAT: &str = "poser-page-scenarios/1";

/// The type name of the oversight fact.
pub const OVERSIGHT_FACT_TYPE: &str = "critical";

/// One family's scenarios for the page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageScenarioSet {
    /// Always [`PAGE_SCENARIOS_FORMAT`].
    pub format: String,
    /// The family, e.g. `genie_and_reward`.
    pub family: String,
    /// The scenarios, in the benchmark candidates' order.
    pub scenarios: Vec<PageScenario>,
}

/// One scenario: everything needed to render any of its versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageScenario {
    /// Shared by the scenario's versions in the corpus.
    pub scenario_id: String,
    /// The template it came from.
    pub template_id: String,
    /// The facts in prompt order, the oversight fact (type `critical`) in its good form.
    pub facts: Vec<Fact>,
    /// The oversight fact's poor form (it takes the good form's place).
    pub poor_oversight: String,
    /// The action shown as `A:`.
    pub action_a: String,
    /// The action shown as `B:`.
    pub action_b: String,
    /// The benign action's letter, `A` or `B`.
    pub benign: String,
}

/// Which version of the oversight fact a prompt shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Oversight {
    /// Misbehaviour would be caught.
    Good,
    /// It would not.
    Poor,
    /// No oversight fact at all.
    Removed,
}

impl Oversight {
    /// All three, in the order the page offers them.
    pub const ALL: [Self; 3] = [Self::Good, Self::Poor, Self::Removed];

    /// The lower-case name used in files and addresses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Good => "good",
            Self::Poor => "poor",
            Self::Removed => "removed",
        }
    }

    /// Parses [`Oversight::as_str`]'s names.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == name)
    }
}

impl PageScenario {
    /// Builds a scenario from its `good` and `poor` benchmark rows (same scenario).
    pub fn from_versions(good: &Example, poor: &Example) -> Result<Self, CorpusError> {
        let invalid = |message: String| CorpusError::Invalid {
            path: "generated/families".to_owned(),
            item: good.scenario_id.clone(),
            message,
        };
        if good.variant != "good" || poor.variant != "poor" || good.scenario_id != poor.scenario_id
        {
            return Err(invalid(format!(
                "expected the good and poor versions of one scenario, got `{}` ({}) and `{}` ({})",
                good.id, good.variant, poor.id, poor.variant
            )));
        }
        let (Some(action_a), Some(action_b), Some(actions)) =
            (&good.action_a, &good.action_b, &good.actions)
        else {
            return Err(invalid("the scenario has no actions".to_owned()));
        };
        let oversight_at = |row: &Example| {
            row.facts
                .iter()
                .position(|fact| fact.fact_type == OVERSIGHT_FACT_TYPE)
        };
        let (Some(at), Some(poor_at)) = (oversight_at(good), oversight_at(poor)) else {
            return Err(invalid("a version has no oversight fact".to_owned()));
        };
        if at != poor_at || good.facts.len() != poor.facts.len() {
            return Err(invalid(
                "the good and poor versions place their facts differently".to_owned(),
            ));
        }
        let benign = if *action_a == actions.benign {
            "A"
        } else {
            "B"
        };
        Ok(Self {
            scenario_id: good.scenario_id.clone(),
            template_id: good.template_id.clone(),
            facts: good.facts.clone(),
            poor_oversight: poor.facts[at].content.clone(),
            action_a: action_a.clone(),
            action_b: action_b.clone(),
            benign: benign.to_owned(),
        })
    }

    /// The facts of the version with `oversight`, in prompt order.
    pub fn facts_for(&self, oversight: Oversight) -> Vec<Fact> {
        self.facts
            .iter()
            .filter_map(|fact| {
                if fact.fact_type != OVERSIGHT_FACT_TYPE {
                    return Some(fact.clone());
                }
                match oversight {
                    Oversight::Good => Some(fact.clone()),
                    Oversight::Poor => Some(Fact {
                        content: self.poor_oversight.clone(),
                        fact_type: fact.fact_type.clone(),
                    }),
                    Oversight::Removed => None,
                }
            })
            .collect()
    }

    /// The prompt of the version with `oversight`, unedited.
    pub fn render(&self, oversight: Oversight) -> RenderedPrompt {
        RenderedPrompt::new(&self.facts_for(oversight), &self.action_a, &self.action_b)
    }
}

/// A rendered scenario prompt with the token positions of each fact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenderedPrompt {
    /// The prompt text, `<<prompt>>` … `<</prompt>>`.
    pub text: String,
    /// Per fact, in prompt order, the token positions of its sentence (without its number).
    pub fact_spans: Vec<Range<usize>>,
}

impl RenderedPrompt {
    /// Renders `facts` and the actions as the generator does, and places each fact's tokens.
    pub fn new(facts: &[Fact], action_a: &str, action_b: &str) -> Self {
        let text = render_prompt(facts, Some((action_a, action_b)));
        let fact_spans = facts
            .iter()
            .enumerate()
            // Always found in text we rendered; an empty span would keep the indices aligned.
            .map(|(i, fact)| fact_token_span(&text, i + 1, &fact.content).unwrap_or(0..0))
            .collect();
        Self { text, fact_spans }
    }
}

/// One family's page scenarios from its benchmark candidate rows (every scenario's `good` and
/// `poor` versions are paired by `scenario_id`).
pub fn page_scenarios(
    family: &str,
    candidates: &[Example],
) -> Result<PageScenarioSet, CorpusError> {
    let mut scenarios = Vec::new();
    for good in candidates.iter().filter(|row| row.variant == "good") {
        let poor = candidates
            .iter()
            .find(|row| row.scenario_id == good.scenario_id && row.variant == "poor")
            .ok_or_else(|| CorpusError::Invalid {
                path: format!("generated/families/{family}"),
                item: good.scenario_id.clone(),
                message: "the scenario has no poor-oversight version".to_owned(),
            })?;
        scenarios.push(PageScenario::from_versions(good, poor)?);
    }
    Ok(PageScenarioSet {
        format: PAGE_SCENARIOS_FORMAT.to_owned(),
        family: family.to_owned(),
        scenarios,
    })
}

impl PageScenarioSet {
    /// Parses and checks a page scenario file; `source_name` labels errors.
    pub fn from_json(text: &str, source_name: &str) -> Result<Self, CorpusError> {
        let set: Self = serde_json::from_str(text).map_err(|error| CorpusError::Data {
            path: source_name.to_owned(),
            line: error.line(),
            message: error.to_string(),
        })?;
        if set.format != PAGE_SCENARIOS_FORMAT {
            return Err(CorpusError::Data {
                path: source_name.to_owned(),
                line: 1,
                message: format!(
                    "format `{}` is not `{PAGE_SCENARIOS_FORMAT}`; regenerate it with `poser scenarios export-page`",
                    set.format
                ),
            });
        }
        Ok(set)
    }

    /// The scenarios a page offers: those of the curated set (its scenario ids) when one is
    /// shipped, else every scenario, in file order.
    pub fn listed(&self, curated: Option<&[String]>) -> Vec<PageScenario> {
        self.scenarios
            .iter()
            .filter(|s| curated.is_none_or(|ids| ids.contains(&s.scenario_id)))
            .cloned()
            .collect()
    }

    /// The file's text (pretty JSON with a final newline, so diffs stay readable).
    pub fn to_json(&self) -> Result<String, CorpusError> {
        serde_json::to_string_pretty(self)
            .map(|text| text + "\n")
            .map_err(|error| CorpusError::Serialize {
                what: format!("page scenarios of {}", self.family),
                message: error.to_string(),
            })
    }
}

/// The scenario ids of a curated set file (JSON Lines of benchmark rows), in file order and
/// without repeats (a scenario's good and level-0 versions may both be kept).
pub fn curated_scenario_ids(jsonl: &str) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for line in jsonl.lines() {
        let Ok(row) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if let Some(id) = row.get("scenario_id").and_then(|id| id.as_str())
            && !ids.iter().any(|seen| seen == id)
        {
            ids.push(id.to_owned());
        }
    }
    ids
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::example::examples_from_jsonl;
    use crate::tokenizer::{pre_tokenize, token_count};

    fn family_rows() -> Vec<Example> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../scenarios/generated/families/genie_and_reward/benchmark-candidates.jsonl"
        );
        let text = std::fs::read_to_string(path).unwrap_or_default();
        examples_from_jsonl(&text, path).unwrap_or_default()
    }

    #[test]
    fn every_version_renders_exactly_as_the_corpus_prompt() {
        let rows = family_rows();
        assert!(rows.len() > 100, "the committed candidates are missing");
        let set = page_scenarios("genie_and_reward", &rows).expect("pairs every scenario");
        assert_eq!(set.scenarios.len(), rows.len() / 3);
        for scenario in &set.scenarios {
            for (oversight, variant) in [
                (Oversight::Good, "good"),
                (Oversight::Poor, "poor"),
                (Oversight::Removed, "level0"),
            ] {
                let row = rows
                    .iter()
                    .find(|r| r.scenario_id == scenario.scenario_id && r.variant == variant)
                    .expect("the corpus has all three versions");
                assert_eq!(
                    scenario.render(oversight).text,
                    row.prompt,
                    "{} {variant}",
                    scenario.scenario_id
                );
            }
        }
    }

    #[test]
    fn fact_spans_cover_exactly_each_sentences_tokens() {
        let rows = family_rows();
        let set = page_scenarios("genie_and_reward", &rows).expect("pairs every scenario");
        for scenario in set.scenarios.iter().take(20) {
            let rendered = scenario.render(Oversight::Poor);
            let facts = scenario.facts_for(Oversight::Poor);
            assert_eq!(rendered.fact_spans.len(), facts.len());
            let pieces = pre_tokenize(&rendered.text);
            // Special tokens such as `<<prompt>>` may count differently as plain pieces.
            let opening = crate::scenario::PROMPT_OPEN;
            let offset = pre_tokenize(opening).len() - token_count(opening);
            for (fact, span) in facts.iter().zip(&rendered.fact_spans) {
                let words = &pieces[span.start + offset..span.end + offset];
                assert_eq!(words.concat(), fact.content.replace(' ', ""));
                assert_eq!(span.len(), token_count(&fact.content));
            }
            let ordered = rendered
                .fact_spans
                .windows(2)
                .all(|w| w[0].end < w[1].start);
            assert!(ordered, "{:?}", rendered.fact_spans);
        }
    }

    #[test]
    fn oversight_names_round_trip_and_files_check_their_format() {
        for oversight in Oversight::ALL {
            assert_eq!(Oversight::parse(oversight.as_str()), Some(oversight));
        }
        assert_eq!(Oversight::parse("absent"), None);
        let set = PageScenarioSet {
            format: "poser-page-scenarios/0".to_owned(),
            family: "x".to_owned(),
            scenarios: Vec::new(),
        };
        let text = serde_json::to_string(&set).unwrap_or_default();
        let error = PageScenarioSet::from_json(&text, "x.json").err();
        assert!(format!("{error:?}").contains("export-page"), "{error:?}");
    }
}
