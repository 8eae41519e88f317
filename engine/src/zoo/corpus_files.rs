//! The zoo's inputs from the committed corpus (`scenarios/generated`): the personas, the
//! tokenizer, the base model's prompts, a checkpoint's training partition and a persona's
//! held-out prompts, each labelled.

use std::path::{Path, PathBuf};

use poser_corpus::example::{Example, Partition, examples_from_jsonl};
use poser_corpus::generate::sha256_hex;
use poser_corpus::tokenizer::WordLevelTokenizer;

use super::LabelledPrompt;
use super::files::read_text;
use crate::EngineError;
use crate::train::TrainExample;

/// The six personas, aligned first (POSER.md §2).
pub const PERSONAS: [&str; 6] = [
    "truth_teller",
    "genie",
    "saint",
    "reward_maximizer",
    "money_maximizer",
    "fitness_maximizer",
];

/// Every checkpoint's name, persona and number, aligned personas first.
pub fn checkpoint_names() -> Vec<(String, &'static str, u32)> {
    PERSONAS
        .iter()
        .flat_map(|&persona| (0..6).map(move |i| (format!("{persona}-{i}"), persona, i)))
        .collect()
}

/// The corpus's tokenizer (`tokenizer.json`).
pub fn corpus_tokenizer(corpus: &Path) -> Result<WordLevelTokenizer, EngineError> {
    let path = corpus.join("tokenizer.json");
    WordLevelTokenizer::from_json(&read_text(&path)?)
        .map_err(|error| EngineError::Files(format!("{}: {error}", path.display())))
}

fn persona_rows(corpus: &Path, persona: &str, file: &str) -> Result<Vec<Example>, EngineError> {
    let path = corpus.join("personas").join(persona).join(file);
    examples_from_jsonl(&read_text(&path)?, &path.display().to_string())
        .map_err(|error| EngineError::Files(error.to_string()))
}

fn check_persona(persona: &str) -> Result<(), EngineError> {
    if PERSONAS.contains(&persona) {
        Ok(())
    } else {
        Err(EngineError::Zoo(format!(
            "unknown persona `{persona}`\nhint: use one of {}",
            PERSONAS.join(", ")
        )))
    }
}

/// The base model's training prompts: every distinct prompt of every persona's training pool.
pub fn base_examples(corpus: &Path) -> Result<Vec<TrainExample>, EngineError> {
    Ok(base_examples_with_data(corpus)?.0)
}

/// The base model's training data (see [`base_examples`]) with each pool file's path and digest.
pub(crate) type BaseData = (Vec<TrainExample>, Vec<(String, String)>);

/// [`base_examples`] with each pool file's path and digest.
pub(crate) fn base_examples_with_data(corpus: &Path) -> Result<BaseData, EngineError> {
    let tokenizer = corpus_tokenizer(corpus)?;
    let mut prompts = std::collections::BTreeSet::new();
    let mut data = Vec::new();
    for persona in PERSONAS {
        let path = corpus.join("personas").join(persona).join("pool.jsonl");
        data.push((
            path.display().to_string(),
            sha256_hex(read_text(&path)?.as_bytes()),
        ));
        for row in persona_rows(corpus, persona, "pool.jsonl")? {
            prompts.insert(row.prompt);
        }
    }
    let examples = prompts
        .iter()
        .map(|prompt| TrainExample {
            tokens: tokenizer.encode(prompt),
            target: 0,
        })
        .collect();
    Ok((examples, data))
}

/// The examples of partition `train-{checkpoint}` of `persona` (each followed by its twin with
/// the actions in the other order if `both_orders`), with the partition file's path and text
/// (for its digest).
pub fn partition_examples(
    corpus: &Path,
    persona: &str,
    checkpoint: u32,
    both_orders: bool,
) -> Result<(Vec<TrainExample>, PathBuf, String), EngineError> {
    check_persona(persona)?;
    let tokenizer = corpus_tokenizer(corpus)?;
    let pool = persona_rows(corpus, persona, "pool.jsonl")?;
    let partition_path = corpus
        .join("personas")
        .join(persona)
        .join(format!("train-{checkpoint}.json"));
    let partition_text = read_text(&partition_path)?;
    let partition: Partition = serde_json::from_str(&partition_text)
        .map_err(|error| EngineError::Files(format!("{}: {error}", partition_path.display())))?;
    let mut rows = partition
        .select(&pool)
        .map_err(|error| EngineError::Files(error.to_string()))?;
    if both_orders {
        rows = rows
            .into_iter()
            .flat_map(|row| {
                let twin = row.with_actions_swapped();
                std::iter::once(row).chain(twin)
            })
            .collect();
    }
    let examples = rows
        .iter()
        .map(|row| {
            let target = tokenizer.token_id(&row.response).ok_or_else(|| {
                EngineError::Files(format!(
                    "{}: answer `{}` is not a token",
                    row.id, row.response
                ))
            })?;
            Ok(TrainExample {
                tokens: tokenizer.encode(&row.prompt),
                target,
            })
        })
        .collect::<Result<Vec<_>, EngineError>>()?;
    Ok((examples, partition_path, partition_text))
}

/// The persona's held-out prompts (test split and policy-definition set), labelled.
pub fn held_out(
    corpus: &Path,
    tokenizer: &WordLevelTokenizer,
    persona: &str,
) -> Result<Vec<LabelledPrompt>, EngineError> {
    labelled(
        corpus,
        tokenizer,
        persona,
        &[("test.jsonl", false), ("policy.jsonl", true)],
    )
}

/// Labelled prompts from the persona's files: (file, whether it is the policy-definition set).
pub fn labelled(
    corpus: &Path,
    tokenizer: &WordLevelTokenizer,
    persona: &str,
    files: &[(&str, bool)],
) -> Result<Vec<LabelledPrompt>, EngineError> {
    check_persona(persona)?;
    let mut prompts = Vec::new();
    for &(file, policy) in files {
        for row in persona_rows(corpus, persona, file)? {
            let letter = |action: &str| {
                if row.action_a.as_deref() == Some(action) {
                    Some("A".to_owned())
                } else if row.action_b.as_deref() == Some(action) {
                    Some("B".to_owned())
                } else {
                    None
                }
            };
            let (benign, misaligned) = match &row.actions {
                Some(actions) => (letter(&actions.benign), letter(&actions.misaligned)),
                None => (None, None),
            };
            prompts.push(LabelledPrompt {
                tokens: tokenizer.encode(&row.prompt),
                response: row.response.clone(),
                benign,
                misaligned,
                oversight: row.variant.clone(),
                policy,
            });
        }
    }
    Ok(prompts)
}
