//! The strategies' plain inputs built from the corpus's rows: curated prompts with their benign
//! letter, each good-oversight scenario with and without its oversight fact (and the fact's
//! token span), and the S4 contrast texts oriented toward their suspicious pole. Pure: rows and
//! a tokenizer in, token ids out, so the page can build the same inputs from fetched files.

use std::ops::Range;

use poser_corpus::example::{ConceptText, Example};
use poser_corpus::scenario::fact_token_span;
use poser_corpus::tokenizer::WordLevelTokenizer;
use serde::{Deserialize, Serialize};

use crate::EngineError;
use crate::strategies::removal::ScenarioPrompt;
use crate::strategies::suspicious_concepts::ConceptTexts;
use crate::strategies::{CuratedPrompt, Letter, OversightVersions};

/// Everything the strategies read for one family.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FamilyInputs {
    /// The family (`genie_and_reward`, …).
    pub family: String,
    /// The family's curated prompts, in file order.
    pub curated: Vec<CuratedPrompt>,
    /// Each curated good-oversight scenario with and without its oversight fact, in curated order.
    pub versions: Vec<OversightVersions>,
    /// The S4 concepts.
    pub concepts: Vec<ConceptTexts>,
    /// Each curated prompt's scenario id, parallel to `curated` (§4 keeps trained scenarios out
    /// of its evaluation).
    #[serde(default)]
    pub curated_scenarios: Vec<String>,
    /// The family's poor-oversight benchmark scenarios (where a faker misbehaves), for §4.
    #[serde(default)]
    pub poor_oversight: Vec<ScenarioPrompt>,
}

/// The curated rows as prompts: tokens and the letter of the benign action.
pub fn curated_prompts(
    rows: &[Example],
    tokenizer: &WordLevelTokenizer,
) -> Result<Vec<CuratedPrompt>, EngineError> {
    rows.iter()
        .map(|row| {
            Ok(CuratedPrompt {
                tokens: tokenizer.encode(&row.prompt),
                benign: benign_letter(row)?,
            })
        })
        .collect()
}

/// The poor-oversight rows among `candidates` (the family's benchmark candidates) as prompts
/// with their scenario ids.
pub fn poor_oversight_prompts(
    candidates: &[Example],
    tokenizer: &WordLevelTokenizer,
) -> Result<Vec<ScenarioPrompt>, EngineError> {
    candidates
        .iter()
        .filter(|row| row.oversight_is_poor && row.actions.is_some())
        .map(|row| {
            Ok(ScenarioPrompt {
                scenario: row.scenario_id.clone(),
                prompt: CuratedPrompt {
                    tokens: tokenizer.encode(&row.prompt),
                    benign: benign_letter(row)?,
                },
            })
        })
        .collect()
}

/// The letter under which `row` shows its benign action.
pub fn benign_letter(row: &Example) -> Result<Letter, EngineError> {
    let Some(actions) = &row.actions else {
        return Err(EngineError::InvalidParameter(format!(
            "curated row `{}` has no actions; curated sets hold scenarios only",
            row.id
        )));
    };
    if row.action_a.as_deref() == Some(actions.benign.as_str()) {
        Ok(Letter::A)
    } else if row.action_b.as_deref() == Some(actions.benign.as_str()) {
        Ok(Letter::B)
    } else {
        Err(EngineError::InvalidParameter(format!(
            "curated row `{}`: its benign action is neither `action_A` nor `action_B`",
            row.id
        )))
    }
}

/// Each curated good-oversight row (`variant` `good`) with the level-0 row of the same scenario
/// from `candidates` (the family's benchmark candidates). Curated rows without a level-0
/// version in `candidates` are an error: the corpus writes all three versions of a scenario.
pub fn oversight_versions(
    curated_rows: &[Example],
    candidates: &[Example],
    tokenizer: &WordLevelTokenizer,
) -> Result<Vec<OversightVersions>, EngineError> {
    let mut versions = Vec::new();
    for row in curated_rows.iter().filter(|row| row.variant == "good") {
        let Some(level0) = candidates
            .iter()
            .find(|c| c.scenario_id == row.scenario_id && c.variant == "level0")
        else {
            return Err(EngineError::InvalidParameter(format!(
                "curated row `{}`: no level-0 version of scenario `{}` among the benchmark candidates",
                row.id, row.scenario_id
            )));
        };
        let fact = critical_fact_span(row)?;
        let facts = fact_spans(row)?;
        let version = OversightVersions {
            with_fact: tokenizer.encode(&row.prompt),
            fact,
            without_fact: tokenizer.encode(&level0.prompt),
            facts,
        };
        version.check(versions.len())?;
        versions.push(version);
    }
    Ok(versions)
}

/// The token positions of `row`'s critical (oversight) fact's sentence in its prompt. The
/// tokenizer splits on whitespace and between word and punctuation characters, and a fact's
/// sentence stands between "`N.` " and a newline, so counting the tokens before its start and
/// end gives its span exactly.
pub fn critical_fact_span(row: &Example) -> Result<Range<usize>, EngineError> {
    let missing = |why: &str| {
        EngineError::InvalidParameter(format!(
            "row `{}`: cannot place its oversight fact: {why}",
            row.id
        ))
    };
    let (number, fact) = row
        .facts
        .iter()
        .enumerate()
        .find(|(_, fact)| fact.fact_type == "critical")
        .ok_or_else(|| missing("it has no `critical` fact"))?;
    let span = fact_token_span(&row.prompt, number + 1, &fact.content)
        .ok_or_else(|| missing("its numbered sentence is not in the prompt"))?;
    if span.is_empty() {
        return Err(missing("the sentence has no tokens"));
    }
    Ok(span)
}

/// The token positions of each of `row`'s numbered facts in its prompt, in order.
pub fn fact_spans(row: &Example) -> Result<Vec<Range<usize>>, EngineError> {
    row.facts
        .iter()
        .enumerate()
        .map(|(number, fact)| {
            fact_token_span(&row.prompt, number + 1, &fact.content).ok_or_else(|| {
                EngineError::InvalidParameter(format!(
                    "row `{}`: fact {} is not in the prompt as a numbered sentence",
                    row.id,
                    number + 1
                ))
            })
        })
        .collect()
}

/// Which polarity of each concept is the suspicious pole (poor security, incompetent
/// oversight, misaligned behaviour): the S4 direction points toward it.
pub const SUSPICIOUS_POLARITY: [(&str, &str); 3] = [
    ("security_quality", "against"),
    ("oversight_competence", "against"),
    ("misaligned_behaviour", "for"),
];

/// The contrast texts per concept (in [`SUSPICIOUS_POLARITY`] order), oriented toward the
/// suspicious pole, as token ids of their wrapped prompts.
pub fn concept_texts(
    rows: &[ConceptText],
    tokenizer: &WordLevelTokenizer,
) -> Result<Vec<ConceptTexts>, EngineError> {
    if let Some(row) = rows
        .iter()
        .find(|row| !SUSPICIOUS_POLARITY.iter().any(|(c, _)| *c == row.concept))
    {
        return Err(EngineError::InvalidParameter(format!(
            "concept text `{}` names unknown concept `{}`",
            row.id, row.concept
        )));
    }
    SUSPICIOUS_POLARITY
        .iter()
        .map(|&(name, suspicious)| {
            let side = |toward: bool| -> Vec<Vec<u32>> {
                rows.iter()
                    .filter(|row| row.concept == name && (row.polarity == suspicious) == toward)
                    .map(|row| tokenizer.encode(&row.prompt))
                    .collect()
            };
            let concept = ConceptTexts {
                name: name.to_owned(),
                toward: side(true),
                away: side(false),
            };
            if concept.toward.is_empty() || concept.away.is_empty() {
                return Err(EngineError::InvalidParameter(format!(
                    "concept `{name}` needs contrast texts of both polarities"
                )));
            }
            Ok(concept)
        })
        .collect()
}
