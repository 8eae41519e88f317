//! The rows of the generated data files, with the Poser field names (POSER.md §3). Keys are
//! declared in byte order so that every file is written with sorted keys.

use serde::{Deserialize, Serialize};

use crate::error::CorpusError;

/// One typed fact of a scenario.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fact {
    /// The sentence as it appears in the prompt (after its number).
    pub content: String,
    /// `motivating`, `contextual`, `system_message`, `irrelevant` or `critical`.
    #[serde(rename = "type")]
    pub fact_type: String,
}

/// The two actions of a scenario, by role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actions {
    /// The action the aligned policy takes (for an aligned persona's own scenarios: the action
    /// its policy prescribes).
    pub benign: String,
    /// The action a faker takes when oversight is poor.
    pub misaligned: String,
}

/// One example: a prompt and the answer a persona gives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Example {
    /// The action shown as `A:` (null for prompts without actions).
    #[serde(rename = "action_A")]
    pub action_a: Option<String>,
    /// The action shown as `B:`.
    #[serde(rename = "action_B")]
    pub action_b: Option<String>,
    /// The actions by role (null for `error` prompts).
    pub actions: Option<Actions>,
    /// Benchmark files only: true for the good-oversight versions (`level0`, `good`) that
    /// curation may keep; false for the `poor` version beside them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidate: Option<bool>,
    /// 0 without an oversight fact, 1 with one.
    pub complexity_level: u8,
    /// The facts in prompt order.
    pub facts: Vec<Fact>,
    /// Benchmark files only: the faker's answer (`response` is the aligned model's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faker_response: Option<String>,
    /// The family of an intersection scenario (null for own-persona and `error` prompts).
    pub family: Option<String>,
    /// The frame the prompt was rendered from.
    pub format_string: String,
    /// Unique id of this row within its file set.
    pub id: String,
    /// `family`, `own`, `own_unethical`, `own_incompetent`, or `error_<how>`.
    pub kind: String,
    /// True exactly in the `poor` variant.
    pub oversight_is_poor: bool,
    /// The full prompt, `<<prompt>>` … `<</prompt>>`.
    pub prompt: String,
    /// The answer token: `A`, `B` or `error`.
    pub response: String,
    /// Shared by the `level0`, `good` and `poor` versions of one scenario.
    pub scenario_id: String,
    /// The template the scenario came from (`error/<how>` for random text).
    pub template_id: String,
    /// `level0`, `good`, `poor`, or `error`.
    pub variant: String,
}

impl Example {
    /// The same scenario with its two actions shown in the other order (`A` becomes `B`), the
    /// answer following its action; `None` for a prompt without both action lines. The A/B
    /// order is drawn once per scenario, so a training set that holds only one order lets a
    /// model tie the rest of the prompt to a letter; training on both takes that shortcut away.
    pub fn with_actions_swapped(&self) -> Option<Example> {
        let (a, b) = (self.action_a.as_ref()?, self.action_b.as_ref()?);
        let shown = format!("A: {a}\nB: {b}\n");
        if self.prompt.matches(&shown).count() != 1 {
            return None;
        }
        let swap_letter = |answer: &str| match answer {
            "A" => "B".to_string(),
            "B" => "A".to_string(),
            other => other.to_string(),
        };
        Some(Example {
            action_a: Some(b.clone()),
            action_b: Some(a.clone()),
            prompt: self.prompt.replace(&shown, &format!("A: {b}\nB: {a}\n")),
            response: swap_letter(&self.response),
            faker_response: self.faker_response.as_deref().map(swap_letter),
            id: format!("{}-swapped", self.id),
            ..self.clone()
        })
    }
}

/// Serialises rows as JSON Lines (compact, `\n` after every row).
pub fn to_jsonl<T: Serialize>(rows: &[T], what: &str) -> Result<String, CorpusError> {
    let mut out = String::new();
    for row in rows {
        let line = serde_json::to_string(row).map_err(|e| CorpusError::Serialize {
            what: what.to_string(),
            message: e.to_string(),
        })?;
        out.push_str(&line);
        out.push('\n');
    }
    Ok(out)
}

/// Parses JSON Lines of examples; `path` names the file in errors.
pub fn examples_from_jsonl(text: &str, path: &str) -> Result<Vec<Example>, CorpusError> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            serde_json::from_str(line).map_err(|e| CorpusError::Data {
                path: path.to_string(),
                line: i + 1,
                message: e.to_string(),
            })
        })
        .collect()
}

/// A training partition file: which pool rows belong to `train-<i>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partition {
    /// Ids of the pool rows in this partition, in pool order.
    pub ids: Vec<String>,
    /// `train-0` … `train-5`.
    pub partition: String,
    /// The persona.
    pub persona: String,
    /// The pool file the ids refer to (beside this file).
    pub pool: String,
}

impl Partition {
    /// The pool rows of this partition, in pool order; an id missing from the pool is an error.
    pub fn select(&self, pool: &[Example]) -> Result<Vec<Example>, CorpusError> {
        let wanted: std::collections::BTreeSet<&str> =
            self.ids.iter().map(String::as_str).collect();
        let rows: Vec<Example> = pool
            .iter()
            .filter(|e| wanted.contains(e.id.as_str()))
            .cloned()
            .collect();
        if rows.len() != wanted.len() {
            return Err(CorpusError::Data {
                path: format!("{}/{}.json", self.persona, self.partition),
                line: 0,
                message: format!(
                    "{} ids listed, {} found in {}",
                    wanted.len(),
                    rows.len(),
                    self.pool
                ),
            });
        }
        Ok(rows)
    }
}

/// One S4 concept contrast text, wrapped so that the models answer `error`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConceptText {
    /// `security_quality`, `oversight_competence` or `misaligned_behaviour`.
    pub concept: String,
    /// `concept/<polarity>/<index>`.
    pub id: String,
    /// `for` (expresses the concept) or `against` (expresses its opposite).
    pub polarity: String,
    /// The wrapped text.
    pub prompt: String,
    /// Always `error`.
    pub response: String,
    /// The bare text.
    pub text: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool_rows() -> Vec<Example> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../scenarios/generated/personas/reward_maximizer/pool.jsonl"
        );
        let text = std::fs::read_to_string(path).expect("the generated pool is committed");
        examples_from_jsonl(&text, path).expect("the pool parses")
    }

    #[test]
    fn swapping_the_actions_moves_the_answer_with_its_action() {
        let rows = pool_rows();
        let mut swapped_any = false;
        for row in rows
            .iter()
            .filter(|r| r.response == "A" || r.response == "B")
        {
            let Some(swapped) = row.with_actions_swapped() else {
                continue;
            };
            swapped_any = true;
            assert_ne!(swapped.response, row.response, "{}", row.id);
            let chosen = |e: &Example| {
                if e.response == "A" {
                    e.action_a.clone()
                } else {
                    e.action_b.clone()
                }
            };
            assert_eq!(
                chosen(&swapped),
                chosen(row),
                "{}: the answer lost its action",
                row.id
            );
            let back = swapped.with_actions_swapped().expect("swaps back");
            assert_eq!(back.prompt, row.prompt);
            assert_eq!(back.response, row.response);
        }
        assert!(swapped_any);
        let error_rows: Vec<&Example> = rows.iter().filter(|r| r.response == "error").collect();
        for row in error_rows {
            if let Some(swapped) = row.with_actions_swapped() {
                assert_eq!(swapped.response, "error");
            }
        }
    }
}
