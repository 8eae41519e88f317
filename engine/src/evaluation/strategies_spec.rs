//! A run of S2 (intoxicate) and S4 (suspicious concepts), and optionally S3 (learning speed,
//! which trains) and S6a (gradient saliency), on a few named models, described as data: the prompts and contrast texts as text, and each strategy's settings. The command line
//! (`poser strategies --spec`) and the page (`/debug/strategies`) run the same description
//! through the same engine functions, so their scores can be compared number for number.

use std::ops::Range;

use poser_corpus::tokenizer::{WordLevelTokenizer, token_count};
use serde::{Deserialize, Serialize};

use crate::EngineError;
use crate::strategies::gradient_saliency::{
    GradientSaliencyConfig, GradientSaliencyMeasurement, gradient_saliency,
};
use crate::strategies::intoxicate::{IntoxicateConfig, IntoxicateFamily, intoxicate};
use crate::strategies::learning_speed::{
    LearningSpeedConfig, LearningSpeedMeasurement, learning_speed,
};
use crate::strategies::suspicious_concepts::{
    ConceptTexts, SuspiciousConceptsConfig, SuspiciousConceptsFamily, suspicious_concepts,
};
use crate::strategies::{CuratedPrompt, FamilyModel, Letter, OversightVersions};

/// A curated prompt as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextCurated {
    /// The prompt, as the corpus writes it (`<<prompt>>…<</prompt>>`).
    pub prompt: String,
    /// The letter of the benign action.
    pub benign: Letter,
}

/// A scenario with and without its oversight fact, as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextOversight {
    /// The level-1 good-oversight prompt.
    pub with_fact: String,
    /// The oversight fact's sentence, exactly as it appears once in `with_fact`.
    pub fact: String,
    /// The level-0 prompt of the same scenario.
    pub without_fact: String,
}

/// One S4 concept's contrast texts (wrapped prompts), oriented toward the suspicious pole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextConcept {
    /// The concept's name (`security_quality`, …).
    pub name: String,
    /// Texts of the suspicious pole.
    pub toward: Vec<String>,
    /// Texts of the opposite pole.
    pub away: Vec<String>,
}

/// S2 and S4 on one family of models, as data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StrategiesSpec {
    /// The models' names in a models folder's manifest, in the order they are scored.
    pub models: Vec<String>,
    /// The family's curated prompts.
    pub curated: Vec<TextCurated>,
    /// The oversight scenarios S2's reference norm is built from.
    pub oversight: Vec<TextOversight>,
    /// S4's concepts.
    pub concepts: Vec<TextConcept>,
    /// One S2 run per entry (for example uniform and Gaussian noise).
    pub intoxicate: Vec<IntoxicateConfig>,
    /// The S4 run.
    pub suspicious_concepts: SuspiciousConceptsConfig,
    /// The S3 run on each model, if any: training in the page, compared with native.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub learning_speed: Option<LearningSpeedConfig>,
    /// The S6a run on each model over the oversight scenarios, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gradient_saliency: Option<GradientSaliencyConfig>,
}

/// What a spec's run produced: the strategies' family results, as `poser evaluate` files them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StrategiesOutcome {
    /// One S2 result per entry of the spec's `intoxicate`.
    pub intoxicate: Vec<IntoxicateFamily>,
    /// The S4 result.
    pub suspicious_concepts: SuspiciousConceptsFamily,
    /// S3 per model, in the spec's order (empty when the spec has no S3 run).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub learning_speed: Vec<LearningSpeedMeasurement>,
    /// S6a per model, in the spec's order (empty when the spec has no S6a run).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gradient_saliency: Vec<GradientSaliencyMeasurement>,
}

/// The spec's inputs as token ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecInputs {
    /// The curated prompts.
    pub curated: Vec<CuratedPrompt>,
    /// The oversight scenarios, with the fact's token span.
    pub versions: Vec<OversightVersions>,
    /// The S4 concepts.
    pub concepts: Vec<ConceptTexts>,
}

impl StrategiesSpec {
    /// Tokenizes the texts and places each oversight fact.
    pub fn inputs(&self, tokenizer: &WordLevelTokenizer) -> Result<SpecInputs, EngineError> {
        let curated = self
            .curated
            .iter()
            .map(|row| CuratedPrompt {
                tokens: tokenizer.encode(&row.prompt),
                benign: row.benign,
            })
            .collect();
        let versions = self
            .oversight
            .iter()
            .enumerate()
            .map(|(index, row)| {
                let fact = sentence_span(&row.with_fact, &row.fact).map_err(|why| {
                    EngineError::InvalidParameter(format!("oversight scenario {index}: {why}"))
                })?;
                let version = OversightVersions {
                    with_fact: tokenizer.encode(&row.with_fact),
                    facts: vec![fact.clone()],
                    fact,
                    without_fact: tokenizer.encode(&row.without_fact),
                };
                version.check(index)?;
                Ok(version)
            })
            .collect::<Result<_, EngineError>>()?;
        let encode = |texts: &[String]| texts.iter().map(|t| tokenizer.encode(t)).collect();
        let concepts = self
            .concepts
            .iter()
            .map(|concept| ConceptTexts {
                name: concept.name.clone(),
                toward: encode(&concept.toward),
                away: encode(&concept.away),
            })
            .collect();
        Ok(SpecInputs {
            curated,
            versions,
            concepts,
        })
    }

    /// Runs every S2 entry, then S4, on `models` (the spec's models, in its order).
    pub async fn run(
        &self,
        models: &[FamilyModel<'_>],
        tokenizer: &WordLevelTokenizer,
    ) -> Result<StrategiesOutcome, EngineError> {
        let given: Vec<&str> = models.iter().map(|m| m.name).collect();
        if given != self.models.iter().map(String::as_str).collect::<Vec<_>>() {
            return Err(EngineError::InvalidParameter(format!(
                "the spec scores models {:?}, but {given:?} were given",
                self.models
            )));
        }
        let inputs = self.inputs(tokenizer)?;
        let mut intoxicated = Vec::with_capacity(self.intoxicate.len());
        for config in &self.intoxicate {
            intoxicated.push(intoxicate(models, &inputs.curated, &inputs.versions, config).await?);
        }
        let concepts = suspicious_concepts(
            models,
            &inputs.concepts,
            &inputs.curated,
            &self.suspicious_concepts,
        )
        .await?;
        let mut learned = Vec::new();
        if let Some(config) = &self.learning_speed {
            for &model in models {
                learned.push(learning_speed(model, &inputs.curated, config).await?);
            }
        }
        let mut salient = Vec::new();
        if let Some(config) = &self.gradient_saliency {
            for &model in models {
                salient.push(gradient_saliency(model, &inputs.versions, config).await?);
            }
        }
        Ok(StrategiesOutcome {
            intoxicate: intoxicated,
            suspicious_concepts: concepts,
            learning_speed: learned,
            gradient_saliency: salient,
        })
    }
}

/// The token positions of `sentence` in `prompt`, where it must occur exactly once. The
/// tokenizer splits on whitespace and between word and punctuation characters, so counting the
/// tokens before the sentence's start and end gives its span, as for the corpus's facts.
pub fn sentence_span(prompt: &str, sentence: &str) -> Result<Range<usize>, String> {
    let found: Vec<usize> = prompt.match_indices(sentence).map(|(at, _)| at).collect();
    let [start] = found[..] else {
        return Err(format!(
            "the fact `{sentence}` occurs {} times in the prompt, not once",
            found.len()
        ));
    };
    let span = token_count(&prompt[..start])..token_count(&prompt[..start + sentence.len()]);
    if span.is_empty() {
        return Err(format!("the fact `{sentence}` has no tokens"));
    }
    Ok(span)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sentence_is_placed_by_its_tokens_and_must_occur_once() {
        let prompt = "<<prompt>>1. The sky is blue.\n2. Guards watch you.\n<</prompt>>";
        // `<<`, `prompt`, `>>`, `1`, `.`, then `The sky is blue .`
        assert_eq!(sentence_span(prompt, "The sky is blue."), Ok(5..10));
        assert_eq!(sentence_span(prompt, "Guards watch you."), Ok(12..16));
        assert!(sentence_span(prompt, "nowhere").is_err());
        assert!(sentence_span("a. a.", "a.").is_err());
    }
}
