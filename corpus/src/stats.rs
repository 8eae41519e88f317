//! Counts and checks over a generated corpus, printed by `poser scenarios stats`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;

use crate::example::Example;
use crate::generate::{CorpusData, GeneratedFile};
use crate::overlap::max_overlap;
use crate::scenario::MAX_PROMPT_TOKENS;
use crate::sources::Sources;
use crate::tokenizer::WordLevelTokenizer;

/// Counts for one persona.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonaStats {
    /// The persona.
    pub persona: String,
    /// Own-persona templates used for training / test.
    pub own_templates: (usize, usize),
    /// Rows in the training pool.
    pub pool: usize,
    /// Rows in each partition.
    pub partitions: Vec<usize>,
    /// Rows in the test split.
    pub test: usize,
    /// Rows in the policy-definition set.
    pub policy: usize,
    /// Pool rows by answer (`A`, `B`, `error`).
    pub pool_labels: BTreeMap<String, usize>,
    /// Test rows by answer.
    pub test_labels: BTreeMap<String, usize>,
    /// Pool rows by kind (`family`, `own`, `error_…`).
    pub pool_kinds: BTreeMap<String, usize>,
    /// Pool rows by version (`level0`, `good`, `poor`, `error`).
    pub pool_variants: BTreeMap<String, usize>,
    /// Pool rows on which the persona takes the misaligned action.
    pub pool_misaligned: usize,
    /// Rows of pool, test and policy whose prompt repeats an earlier row's.
    pub duplicates: usize,
}

/// Counts for one family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FamilyStats {
    /// The family.
    pub family: String,
    /// Templates in all.
    pub templates: usize,
    /// Templates in the train / test / benchmark splits.
    pub split: (usize, usize, usize),
    /// Benchmark rows (three versions per scenario).
    pub benchmark_rows: usize,
    /// Benchmark candidates (level0 and good versions).
    pub candidates: usize,
    /// Largest word overlap between two of its templates, per mille, and the pair.
    pub max_overlap: (u32, String, String),
}

/// Counts and checks over the whole corpus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// The seed.
    pub seed: u64,
    /// Per persona, in `Persona::ALL` order.
    pub personas: Vec<PersonaStats>,
    /// Per family, in `Family::ALL` order.
    pub families: Vec<FamilyStats>,
    /// Facts by type, over every persona row and benchmark row.
    pub fact_types: BTreeMap<String, usize>,
    /// Rows by version (oversight), over every persona row and benchmark row.
    pub variants: BTreeMap<String, usize>,
    /// Rows by answer, over every persona row.
    pub labels: BTreeMap<String, usize>,
    /// Tokens in the vocabulary.
    pub vocab_size: usize,
    /// Longest prompt in tokens, and its id.
    pub longest_prompt: (usize, String),
    /// The limit on prompt length.
    pub max_prompt_tokens: usize,
    /// `[UNK]` tokens over all prompts (should be 0).
    pub unknown_tokens: usize,
    /// Exact duplicate prompts, summed over personas (within pool + test + policy).
    pub exact_duplicates: usize,
    /// Prompts that appear in both a persona's pool and its test or policy set, summed.
    pub train_test_overlap: usize,
    /// S4 concept texts.
    pub concept_texts: usize,
    /// Output files and their total size in bytes.
    pub files: (usize, usize),
}

fn count<'a>(keys: impl Iterator<Item = &'a str>) -> BTreeMap<String, usize> {
    let mut map = BTreeMap::new();
    for key in keys {
        *map.entry(key.to_string()).or_insert(0) += 1;
    }
    map
}

impl Stats {
    /// Computes the statistics of a generated corpus.
    pub fn compute(
        sources: &Sources,
        data: &CorpusData,
        tokenizer: &WordLevelTokenizer,
        files: &[GeneratedFile],
    ) -> Stats {
        let mut personas = Vec::new();
        let mut all_rows: Vec<&Example> = Vec::new();
        let mut exact_duplicates = 0;
        let mut train_test_overlap = 0;
        for (p, split) in data.personas.iter().zip(&data.own_splits) {
            let mut seen = BTreeSet::new();
            let mut duplicates = 0;
            for e in p.pool.iter().chain(&p.test).chain(&p.policy) {
                if !seen.insert(e.prompt.as_str()) {
                    duplicates += 1;
                }
            }
            let pool_prompts: BTreeSet<&str> = p.pool.iter().map(|e| e.prompt.as_str()).collect();
            train_test_overlap += p
                .test
                .iter()
                .chain(&p.policy)
                .filter(|e| pool_prompts.contains(e.prompt.as_str()))
                .count();
            exact_duplicates += duplicates;
            all_rows.extend(p.pool.iter().chain(&p.test).chain(&p.policy));
            personas.push(PersonaStats {
                persona: p.persona.name().to_string(),
                own_templates: (split.train.len(), split.test.len()),
                pool: p.pool.len(),
                partitions: p.partitions.iter().map(Vec::len).collect(),
                test: p.test.len(),
                policy: p.policy.len(),
                pool_labels: count(p.pool.iter().map(|e| e.response.as_str())),
                test_labels: count(p.test.iter().map(|e| e.response.as_str())),
                pool_kinds: count(p.pool.iter().map(|e| e.kind.as_str())),
                pool_variants: count(p.pool.iter().map(|e| e.variant.as_str())),
                pool_misaligned: p
                    .pool
                    .iter()
                    .filter(|e| {
                        e.actions.as_ref().is_some_and(|a| {
                            let shown = if e.response == "A" {
                                &e.action_a
                            } else {
                                &e.action_b
                            };
                            shown.as_deref() == Some(a.misaligned.as_str())
                        })
                    })
                    .count(),
                duplicates,
            });
        }
        let labels = count(all_rows.iter().map(|e| e.response.as_str()));
        let mut families = Vec::new();
        for f in &data.families {
            let templates = sources.family_templates(f.family);
            families.push(FamilyStats {
                family: f.family.name().to_string(),
                templates: templates.len(),
                split: (
                    f.split.train.len(),
                    f.split.test.len(),
                    f.split.benchmark.len(),
                ),
                benchmark_rows: f.benchmark.len(),
                candidates: f
                    .benchmark
                    .iter()
                    .filter(|e| e.candidate == Some(true))
                    .count(),
                max_overlap: max_overlap(templates).unwrap_or((0, String::new(), String::new())),
            });
            all_rows.extend(&f.benchmark);
        }
        let fact_types = count(
            all_rows
                .iter()
                .flat_map(|e| e.facts.iter().map(|f| f.fact_type.as_str())),
        );
        let variants = count(all_rows.iter().map(|e| e.variant.as_str()));
        let mut longest = (0, String::new());
        let mut unknown_tokens = 0;
        let prompts = all_rows
            .iter()
            .map(|e| (e.prompt.as_str(), e.id.as_str()))
            .chain(
                data.concepts
                    .iter()
                    .map(|c| (c.prompt.as_str(), c.id.as_str())),
            );
        for (prompt, id) in prompts {
            let ids = tokenizer.encode(prompt);
            unknown_tokens += ids.iter().filter(|i| **i == tokenizer.unk_id()).count();
            if ids.len() > longest.0 {
                longest = (ids.len(), id.to_string());
            }
        }
        Stats {
            seed: data.seed,
            personas,
            families,
            fact_types,
            variants,
            labels,
            vocab_size: tokenizer.vocab_size(),
            longest_prompt: longest,
            max_prompt_tokens: MAX_PROMPT_TOKENS,
            unknown_tokens,
            exact_duplicates,
            train_test_overlap,
            concept_texts: data.concepts.len(),
            files: (files.len(), files.iter().map(|f| f.contents.len()).sum()),
        }
    }
}

fn map_line(map: &BTreeMap<String, usize>) -> String {
    map.iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "seed {}", self.seed)?;
        writeln!(
            f,
            "\npersona             own tpl  pool  test  policy  partitions            misaligned  dup"
        )?;
        for p in &self.personas {
            writeln!(
                f,
                "{:<19} {:>3}/{:<3} {:>5} {:>5} {:>7}  {:<21} {:>10}  {:>3}",
                p.persona,
                p.own_templates.0,
                p.own_templates.1,
                p.pool,
                p.test,
                p.policy,
                p.partitions
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(","),
                p.pool_misaligned,
                p.duplicates
            )?;
        }
        for p in &self.personas {
            writeln!(
                f,
                "  {} pool labels: {}",
                p.persona,
                map_line(&p.pool_labels)
            )?;
            writeln!(
                f,
                "  {} test labels: {}",
                p.persona,
                map_line(&p.test_labels)
            )?;
            writeln!(f, "  {} pool kinds: {}", p.persona, map_line(&p.pool_kinds))?;
            writeln!(
                f,
                "  {} pool versions: {}",
                p.persona,
                map_line(&p.pool_variants)
            )?;
        }
        writeln!(
            f,
            "\nfamily              templates  train/test/bench  bench rows  candidates  max overlap"
        )?;
        for fam in &self.families {
            writeln!(
                f,
                "{:<19} {:>9}  {:>5}/{}/{:<6} {:>10}  {:>10}  {}.{}% ({} ~ {})",
                fam.family,
                fam.templates,
                fam.split.0,
                fam.split.1,
                fam.split.2,
                fam.benchmark_rows,
                fam.candidates,
                fam.max_overlap.0 / 10,
                fam.max_overlap.0 % 10,
                fam.max_overlap.1,
                fam.max_overlap.2
            )?;
        }
        writeln!(f, "\nfact types: {}", map_line(&self.fact_types))?;
        writeln!(f, "versions (oversight): {}", map_line(&self.variants))?;
        writeln!(f, "answers (persona rows): {}", map_line(&self.labels))?;
        writeln!(f, "vocabulary: {} tokens", self.vocab_size)?;
        writeln!(
            f,
            "longest prompt: {} tokens ({}); limit {} (+1 answer token = context {})",
            self.longest_prompt.0,
            self.longest_prompt.1,
            self.max_prompt_tokens,
            self.max_prompt_tokens + 1
        )?;
        writeln!(f, "unknown tokens: {}", self.unknown_tokens)?;
        writeln!(f, "exact duplicate prompts: {}", self.exact_duplicates)?;
        writeln!(
            f,
            "prompts in both a pool and its test/policy set: {}",
            self.train_test_overlap
        )?;
        writeln!(f, "S4 concept texts: {}", self.concept_texts)?;
        writeln!(f, "files: {} ({} bytes)", self.files.0, self.files.1)
    }
}
