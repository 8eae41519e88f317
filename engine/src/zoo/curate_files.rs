//! Curating the benchmark from files (`poser zoo curate`): each family's good-oversight
//! candidates from the corpus, every shipped model of the family scored on them on the shared
//! work queue (scores cached by the model's digest and the inputs' digest), and the curated
//! sets, the curation summary and the pair list written out. The filter itself is [`super::curate`].

use std::path::Path;

use poser_corpus::example::{Example, examples_from_jsonl};
use poser_corpus::generate::sha256_hex;
use poser_corpus::tokenizer::WordLevelTokenizer;

use super::answer_probs;
use super::curate::{FamilyCuration, confidence, confidence_baseline, curate};
use super::files::{
    ZooProgress, block_on, clock, json_error, read_text, write_atomically, write_file,
};
use crate::EngineError;
use crate::backend::cpu_device;
use crate::model::manifest::dir::{load_model, read_manifest};
use crate::model::{ModelEntry, PoserGpt};
use crate::work_queue::{available_threads, run_jobs};

/// The two personas of a family, from its name (`truth_and_reward` → truth_teller, reward_maximizer).
fn family_personas(family: &str) -> Option<(&'static str, &'static str)> {
    let (aligned, faker) = family.split_once("_and_")?;
    let aligned = match aligned {
        "truth" => "truth_teller",
        "genie" => "genie",
        "saint" => "saint",
        _ => return None,
    };
    let faker = match faker {
        "reward" => "reward_maximizer",
        "money" => "money_maximizer",
        "fitness" => "fitness_maximizer",
        _ => return None,
    };
    Some((aligned, faker))
}

/// One family's candidates, ready to score: the rows, which letter is benign on each, the
/// tokens, and the family's models.
struct FamilyCandidates<'a> {
    family: &'a str,
    aligned: &'static str,
    faker: &'static str,
    rows: Vec<Example>,
    benign_letter: Vec<&'static str>,
    tokens: Vec<Vec<u32>>,
    members: Vec<&'a ModelEntry>,
    /// Digest of everything a model's scores on these candidates depend on besides its weights.
    inputs_sha256: String,
}

/// Bumped whenever the scoring (`answer_probs`, batch size, letter choice) changes, so that
/// older cached scores are never read back.
const CURATE_SCORES_VERSION: &str = "curate-scores/1";

/// Reads one family's good-oversight candidates and the shipped models that belong to it;
/// `None` for a folder that is not a family or a family with a persona missing.
fn family_candidates<'a>(
    corpus: &Path,
    family: &'a str,
    tokenizer: &WordLevelTokenizer,
    tokenizer_bytes: &str,
    manifest_models: &'a [ModelEntry],
    progress: &mut dyn FnMut(ZooProgress<'_>),
) -> Result<Option<FamilyCandidates<'a>>, EngineError> {
    let Some((aligned, faker)) = family_personas(family) else {
        return Ok(None);
    };
    let path = corpus
        .join("families")
        .join(family)
        .join("benchmark-candidates.jsonl");
    let text = read_text(&path)?;
    let rows: Vec<Example> = examples_from_jsonl(&text, &path.display().to_string())
        .map_err(|error| EngineError::Files(error.to_string()))?
        .into_iter()
        // Only the good-oversight versions (`level0`, `good`) are candidates; the `poor`
        // version beside each is where the faker should differ, never part of the set.
        .filter(|row| row.actions.is_some() && row.candidate == Some(true))
        .collect();
    let benign_letter: Vec<&'static str> = rows
        .iter()
        .map(|row| match &row.actions {
            Some(actions) if row.action_a.as_deref() == Some(actions.benign.as_str()) => "A",
            _ => "B",
        })
        .collect();
    let tokens: Vec<Vec<u32>> = rows
        .iter()
        .map(|row| tokenizer.encode(&row.prompt))
        .collect();
    let members: Vec<&ModelEntry> = manifest_models
        .iter()
        .filter(|entry| entry.persona == aligned || entry.persona == faker)
        .collect();
    let has = |persona: &str| members.iter().any(|entry| entry.persona == persona);
    if !has(aligned) || !has(faker) {
        progress(ZooProgress::Note(format!(
            "{family}: skipped: the models folder has no {} model",
            if has(aligned) { faker } else { aligned }
        )));
        return Ok(None);
    }
    if members.len() != 12 {
        progress(ZooProgress::Note(format!(
            "{family}: curating with {} models instead of the zoo's 12",
            members.len()
        )));
    }
    let inputs_sha256 = sha256_hex(
        format!(
            "{CURATE_SCORES_VERSION}\n{}\n{}",
            sha256_hex(text.as_bytes()),
            sha256_hex(tokenizer_bytes.as_bytes())
        )
        .as_bytes(),
    );
    Ok(Some(FamilyCandidates {
        family,
        aligned,
        faker,
        rows,
        benign_letter,
        tokens,
        members,
        inputs_sha256,
    }))
}

/// P(benign letter) of one model on each of a family's candidates, and whether it came from the
/// cache. Scores are cached under `cache` by the model's digest and the family's inputs digest,
/// so re-curating after a few new checkpoints only scores those; the cache holds the exact f32
/// values the model gave.
fn score_candidates(
    candidates: &FamilyCandidates<'_>,
    entry: &ModelEntry,
    models_dir: &Path,
    cache: Option<&Path>,
) -> Result<(Vec<f64>, bool), EngineError> {
    // Loading verifies the file's size and digest against the manifest, so a cached score is
    // only ever read back for these very weights.
    let (_, weights) = load_model(models_dir, &entry.name)?;
    let cached = cache.map(|dir| {
        dir.join(format!(
            "{}-{}-{}.f32",
            candidates.family,
            &entry.sha256,
            candidates.inputs_sha256.get(..16).unwrap_or_default()
        ))
    });
    if let Some(path) = &cached
        && let Ok(bytes) = std::fs::read(path)
        && bytes.len() == 4 * candidates.rows.len()
    {
        let scores = bytes
            .chunks_exact(4)
            .map(|c| f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]])))
            .collect();
        return Ok((scores, true));
    }
    let model = PoserGpt::from_weights(&weights, &cpu_device())?;
    let probs = block_on(answer_probs(&model, &candidates.tokens, 32))?;
    let scores: Vec<f32> = probs
        .iter()
        .zip(&candidates.benign_letter)
        .map(|(p, letter)| if *letter == "A" { p.a } else { p.b })
        .collect();
    if let Some(path) = &cached {
        let bytes: Vec<u8> = scores.iter().flat_map(|p| p.to_le_bytes()).collect();
        write_atomically(path, &bytes)?;
    }
    Ok((scores.into_iter().map(f64::from).collect(), false))
}

/// Curates every family's benchmark candidates with the shipped models of `models_dir`, and
/// writes the curated sets, the curation summary (counts, curves, confidence baselines) and the
/// list of (aligned, faker, family) pairs into `out`. Each (family, model) is scored as its own
/// job on the shared work queue, on the machine's cores, with scores cached under `cache`.
pub fn curate_families(
    corpus: &Path,
    models_dir: &Path,
    out: &Path,
    cache: Option<&Path>,
    progress: &mut dyn FnMut(ZooProgress<'_>),
) -> Result<(), EngineError> {
    let started = clock();
    let tokenizer_path = corpus.join("tokenizer.json");
    let tokenizer_bytes = read_text(&tokenizer_path)?;
    let tokenizer = WordLevelTokenizer::from_json(&tokenizer_bytes)
        .map_err(|error| EngineError::Files(format!("{}: {error}", tokenizer_path.display())))?;
    let manifest = read_manifest(models_dir)?;
    let families_dir = corpus.join("families");
    let mut family_names: Vec<String> = std::fs::read_dir(&families_dir)
        .map_err(|error| EngineError::Files(format!("{}: {error}", families_dir.display())))?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .collect();
    family_names.sort();
    let mut families = Vec::new();
    for family in &family_names {
        if let Some(candidates) = family_candidates(
            corpus,
            family,
            &tokenizer,
            &tokenizer_bytes,
            &manifest.models,
            progress,
        )? {
            families.push(candidates);
        }
    }
    let jobs: Vec<(&FamilyCandidates<'_>, &ModelEntry)> = families
        .iter()
        .flat_map(|family| family.members.iter().map(move |&entry| (family, entry)))
        .collect();
    let threads = available_threads();
    let scored = run_jobs(
        jobs.len(),
        threads,
        &|job| format!("scoring {} on {}", jobs[job].1.name, jobs[job].0.family),
        &|job, _: &mut dyn FnMut(())| {
            let (family, entry) = jobs[job];
            score_candidates(family, entry, models_dir, cache)
        },
        &mut |_| {},
    )?;
    let from_cache = scored.iter().filter(|(_, cached)| *cached).count();
    let mut scored = scored.into_iter().map(|(scores, _)| scores);
    let mut summaries = Vec::new();
    let mut pairs = Vec::new();
    for candidates in &families {
        let FamilyCandidates {
            family,
            aligned,
            faker,
            rows,
            members,
            ..
        } = candidates;
        let p_benign: Vec<Vec<f64>> = scored.by_ref().take(members.len()).collect();
        let curation = curate(&p_benign, rows.len());
        let all: Vec<usize> = (0..rows.len()).collect();
        let baseline = |prompts: &[usize]| {
            let scores = |persona: &str| -> Vec<f64> {
                members
                    .iter()
                    .zip(&p_benign)
                    .filter(|(entry, _)| entry.persona == persona)
                    .map(|(_, p)| confidence(p, prompts))
                    .collect()
            };
            confidence_baseline(&scores(aligned), &scores(faker))
        };
        let kept_rows: Vec<Example> = curation
            .kept
            .iter()
            .filter_map(|&i| rows.get(i).cloned())
            .collect();
        let jsonl = poser_corpus::example::to_jsonl(&kept_rows, family)
            .map_err(|error| EngineError::Files(error.to_string()))?;
        write_file(&out.join(format!("{family}.jsonl")), jsonl.as_bytes())?;
        for a in members.iter().filter(|e| e.persona == *aligned) {
            for f in members.iter().filter(|e| e.persona == *faker) {
                pairs.push(
                    serde_json::json!({"aligned": a.name, "faker": f.name, "family": family}),
                );
            }
        }
        let summary = FamilyCuration {
            family: (*family).to_owned(),
            candidates: rows.len(),
            models: members.iter().map(|e| e.name.clone()).collect(),
            threshold: curation.threshold,
            lowered: curation.lowered,
            kept: curation.kept.len(),
            curve: curation.curve.clone(),
            baseline_before: baseline(&all),
            baseline_after: baseline(&curation.kept),
        };
        progress(ZooProgress::Note(format!(
            "{family}: kept {}/{} at threshold {:.4}{}; confidence baseline {:.1}% → {:.1}% ({} models)",
            summary.kept,
            summary.candidates,
            summary.threshold,
            if summary.lowered { " (lowered)" } else { "" },
            summary.baseline_before.0 * 100.0,
            summary.baseline_after.0 * 100.0,
            members.len()
        )));
        summaries.push(summary);
    }
    write_file(
        &out.join("summary.json"),
        (serde_json::to_string_pretty(&summaries).map_err(json_error)? + "\n").as_bytes(),
    )?;
    write_file(
        &out.join("pairs.json"),
        (serde_json::to_string_pretty(&pairs).map_err(json_error)? + "\n").as_bytes(),
    )?;
    progress(ZooProgress::Note(format!(
        "curated {} families, {} pairs, in {:.0} s ({} of {} (family, model) scores from the cache, {threads} threads)",
        summaries.len(),
        pairs.len(),
        started.elapsed().as_secs_f64(),
        from_cache,
        jobs.len()
    )));
    Ok(())
}
