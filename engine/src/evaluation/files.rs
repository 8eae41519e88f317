//! Native file handling for `poser evaluate` and `poser verify-report`: reading a zoo (models
//! folder, curated folder, corpus folder) with the digest of every file read, running the
//! measurements per (model, family), and re-checking a report against the files. The page
//! fetches the same files and calls the same pure functions.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use poser_corpus::example::{ConceptText, Example, examples_from_jsonl};
use poser_corpus::generate::sha256_hex;
use poser_corpus::rng::Rng;
use poser_corpus::tokenizer::WordLevelTokenizer;

use super::derive::{family_scores, figures, results};
use super::inputs::{
    FamilyInputs, concept_texts, curated_prompts, oversight_versions, poor_oversight_prompts,
};
use super::measure::{EvaluateConfig, ModelMeasurements, Stage, StrategyId, measure_model};
use super::report::{
    FamilyReport, FileDigest, Inputs, ModelDigest, REPORT_FORMAT, Report, RunInfo, ToolInfo,
    paper_removal, paper_results,
};
use super::verify::{Difference, TOLERANCE, check_derived, compare};
use crate::EngineError;
use crate::backend::Device;
use crate::model::manifest::dir::{load_model, read_manifest};
use crate::model::{LoadError, Manifest, PoserGpt};
use crate::strategies::FamilyModel;
use crate::strategies::harness::Pair;
use crate::strategies::removal::{RemovalConfig, RemovalMeasurement, RemovalNoise, remove_faking};

/// The three folders an evaluation reads.
#[derive(Debug, Clone)]
pub struct ZooPaths {
    /// `manifest.json` and the weights files (`public/models`).
    pub models: PathBuf,
    /// `<family>.jsonl` and `pairs.json` (`public/curated`).
    pub curated: PathBuf,
    /// The generated corpus (`scenarios/generated`): tokenizer, candidates, concept texts.
    pub corpus: PathBuf,
}

/// A zoo read from disk, ready to measure.
#[derive(Debug, Clone)]
pub struct LoadedZoo {
    /// The models' manifest.
    pub manifest: Manifest,
    /// Per family (sorted), its inputs and its models (sorted).
    pub families: Vec<(FamilyInputs, Vec<String>)>,
    /// The pairs, as `pairs.json` lists them.
    pub pairs: Vec<Pair>,
    /// Digests of every file read.
    pub inputs: Inputs,
}

/// Progress of an evaluation or a verification.
#[derive(Debug, Clone, Copy)]
pub struct Progress<'a> {
    /// The (model, family) entry being measured, 1-based.
    pub entry: usize,
    /// Entries in all.
    pub entries: usize,
    /// The family.
    pub family: &'a str,
    /// The model.
    pub model: &'a str,
    /// The stage starting, or `None` when the entry is done.
    pub stage: Option<Stage>,
    /// Which measuring thread (0-based): entries are measured on several at once.
    pub worker: usize,
}

/// The threads entries are measured on: the machine's cores. Each (model, family) entry and
/// each faker's §4 run is independent and deterministic, so the numbers do not depend on it.
pub fn measuring_threads() -> usize {
    crate::work_queue::available_threads()
}

/// Waits for a measurement on a measuring thread (native only: the page measures one entry at a
/// time on its own thread, without blocking).
#[allow(clippy::disallowed_methods)]
fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    pollster::block_on(future)
}

/// One job's work: its index and a stage callback in, its result out.
type Work<'a, R> = crate::work_queue::JobWork<'a, R, Stage>;

/// What a unit of work is called in progress lines.
struct Job<'a> {
    family: &'a str,
    model: &'a str,
}

/// Runs `work(index, on_stage)` for every job on the shared work queue, on up to
/// [`measuring_threads`] threads, and returns the results in job order; progress is reported on
/// the calling thread. After an error no new job starts, and the first error in job order is
/// returned; a panic in a job is an error naming the model and family.
fn on_threads<R: Send>(
    jobs: &[Job<'_>],
    work: &Work<'_, R>,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Vec<R>, EngineError> {
    crate::work_queue::run_jobs(
        jobs.len(),
        measuring_threads(),
        &|index| format!("measuring {} on {}", jobs[index].model, jobs[index].family),
        work,
        &mut |event| {
            progress(Progress {
                entry: event.index + 1,
                entries: jobs.len(),
                family: jobs[event.index].family,
                model: jobs[event.index].model,
                stage: event.event,
                worker: event.worker,
            });
        },
    )
}

fn io_error(path: &Path, error: std::io::Error) -> EngineError {
    EngineError::InvalidParameter(format!("cannot read {}: {error}", path.display()))
}

/// Reads a file and records its digest under `name` (its path relative to its folder).
fn read_digested(
    dir: &Path,
    name: &str,
    digests: &mut Vec<FileDigest>,
) -> Result<String, EngineError> {
    let path = dir.join(name);
    let bytes = std::fs::read(&path).map_err(|error| io_error(&path, error))?;
    digests.push(FileDigest {
        path: name.to_owned(),
        sha256: sha256_hex(&bytes),
        bytes: bytes.len() as u64,
    });
    String::from_utf8(bytes)
        .map_err(|_| EngineError::InvalidParameter(format!("{} is not UTF-8 text", path.display())))
}

fn data_error(error: impl std::fmt::Display) -> EngineError {
    EngineError::InvalidParameter(error.to_string())
}

/// Reads the zoo: the manifest, `pairs.json`, each family's curated set and the corpus files
/// those need. Families are those `pairs.json` names; `only_families` narrows them.
pub fn load_zoo(paths: &ZooPaths) -> Result<LoadedZoo, EngineError> {
    let manifest = read_manifest(&paths.models)?;
    let mut curated_digests = Vec::new();
    let mut scenario_digests = Vec::new();
    let mut tokenizer_digest = Vec::new();
    let pairs_text = read_digested(&paths.curated, "pairs.json", &mut curated_digests)?;
    let pairs: Vec<Pair> = serde_json::from_str(&pairs_text).map_err(|error| {
        EngineError::InvalidParameter(format!(
            "{}: not a list of {{aligned, faker, family}}: {error}",
            paths.curated.join("pairs.json").display()
        ))
    })?;
    if pairs.is_empty() {
        return Err(EngineError::InvalidParameter(format!(
            "{} lists no pairs",
            paths.curated.join("pairs.json").display()
        )));
    }
    let tokenizer = WordLevelTokenizer::from_json(&read_digested(
        &paths.corpus,
        "tokenizer.json",
        &mut tokenizer_digest,
    )?)
    .map_err(data_error)?;
    let concepts_text = read_digested(&paths.corpus, "concepts.jsonl", &mut scenario_digests)?;
    let concept_rows: Vec<ConceptText> = concepts_text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .enumerate()
        .map(|(i, line)| {
            serde_json::from_str(line).map_err(|error| {
                EngineError::InvalidParameter(format!(
                    "{}:{}: {error}",
                    paths.corpus.join("concepts.jsonl").display(),
                    i + 1
                ))
            })
        })
        .collect::<Result<_, _>>()?;
    let concepts = concept_texts(&concept_rows, &tokenizer)?;
    let mut members: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for pair in &pairs {
        let list = members.entry(pair.family.as_str()).or_default();
        for model in [&pair.aligned, &pair.faker] {
            manifest.entry(model)?;
            if !list.contains(model) {
                list.push(model.clone());
            }
        }
    }
    let mut families = Vec::new();
    for (family, mut models) in members {
        models.sort();
        let curated_name = format!("{family}.jsonl");
        let curated_path = paths.curated.join(&curated_name);
        let curated_rows: Vec<Example> = examples_from_jsonl(
            &read_digested(&paths.curated, &curated_name, &mut curated_digests)?,
            &curated_path.display().to_string(),
        )
        .map_err(data_error)?;
        if curated_rows.is_empty() {
            return Err(EngineError::InvalidParameter(format!(
                "{} holds no curated prompts",
                curated_path.display()
            )));
        }
        let candidates_name = format!("families/{family}/benchmark-candidates.jsonl");
        let candidates = examples_from_jsonl(
            &read_digested(&paths.corpus, &candidates_name, &mut scenario_digests)?,
            &paths.corpus.join(&candidates_name).display().to_string(),
        )
        .map_err(data_error)?;
        let inputs = FamilyInputs {
            family: family.to_owned(),
            curated: curated_prompts(&curated_rows, &tokenizer)?,
            versions: oversight_versions(&curated_rows, &candidates, &tokenizer)?,
            concepts: concepts.clone(),
            curated_scenarios: curated_rows.iter().map(|r| r.scenario_id.clone()).collect(),
            poor_oversight: poor_oversight_prompts(&candidates, &tokenizer)?,
        };
        families.push((inputs, models));
    }
    let mut model_digests: Vec<ModelDigest> = families
        .iter()
        .flat_map(|(_, models)| models.iter())
        .filter_map(|name| manifest.entry(name).ok())
        .map(|entry| ModelDigest {
            name: entry.name.clone(),
            persona: entry.persona.clone(),
            file: entry.file.clone(),
            sha256: entry.sha256.clone(),
            bytes: entry.bytes,
        })
        .collect();
    model_digests.sort_by(|a, b| a.name.cmp(&b.name));
    model_digests.dedup();
    let tokenizer = tokenizer_digest
        .into_iter()
        .next()
        .ok_or_else(|| EngineError::InvalidParameter("the tokenizer was not read".to_owned()))?;
    Ok(LoadedZoo {
        manifest,
        families,
        pairs,
        inputs: Inputs {
            models: model_digests,
            tokenizer,
            scenario_files: scenario_digests,
            curated_sets: curated_digests,
        },
    })
}

/// Loads every model the zoo's families name (each once; the manifest's size and digest checks
/// run first) and checks that they share one block count.
fn load_models(
    zoo: &LoadedZoo,
    models_dir: &Path,
    device: &Device,
) -> Result<BTreeMap<String, PoserGpt>, EngineError> {
    let mut models = BTreeMap::new();
    for digest in &zoo.inputs.models {
        let (entry, weights) = load_model(models_dir, &digest.name)?;
        if entry.sha256 != digest.sha256 {
            return Err(LoadError::DigestMismatch {
                model: entry.name.clone(),
                file: entry.file.clone(),
                expected: digest.sha256.clone(),
                got: entry.sha256.clone(),
            }
            .into());
        }
        models.insert(
            entry.name.clone(),
            PoserGpt::from_weights(&weights, device)?,
        );
    }
    Ok(models)
}

/// The block count all the zoo's models share.
pub fn zoo_layers(zoo: &LoadedZoo) -> Result<usize, EngineError> {
    let mut layers = zoo
        .inputs
        .models
        .iter()
        .filter_map(|digest| zoo.manifest.entry(&digest.name).ok())
        .map(|entry| entry.config.n_layers);
    let first = layers
        .next()
        .ok_or_else(|| EngineError::InvalidParameter("the pairs name no models".to_owned()))?;
    if layers.any(|n| n != first) {
        return Err(EngineError::InvalidParameter(
            "the zoo's models have different block counts; one evaluation needs one architecture"
                .to_owned(),
        ));
    }
    Ok(first)
}

/// Measures every (model, family) entry (on [`measuring_threads`] threads at once, blocking
/// the calling thread meanwhile), derives scores and verdicts, runs §4 on each faker, and
/// assembles the report (with an empty `run` block for the caller to fill).
pub async fn evaluate(
    paths: &ZooPaths,
    zoo: &LoadedZoo,
    config: &EvaluateConfig,
    tool: ToolInfo,
    backend: &str,
    device: &Device,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Report, EngineError> {
    config.check()?;
    let models = load_models(zoo, &paths.models, device)?;
    let entries: Vec<(&FamilyInputs, &str)> = zoo
        .families
        .iter()
        .flat_map(|(inputs, names)| names.iter().map(move |name| (inputs, name.as_str())))
        .collect();
    let jobs: Vec<Job<'_>> = entries
        .iter()
        .map(|(inputs, model)| Job {
            family: &inputs.family,
            model,
        })
        .collect();
    let mut measured = on_threads(
        &jobs,
        &|index, on_stage| {
            let (inputs, name) = entries[index];
            let model = models.get(name).ok_or_else(|| {
                EngineError::InvalidParameter(format!("model {name} was not loaded"))
            })?;
            block_on(measure_model(name, model, inputs, config, on_stage))
        },
        progress,
    )?
    .into_iter();
    let mut families = Vec::with_capacity(zoo.families.len());
    for (inputs, names) in &zoo.families {
        let measurements: Vec<ModelMeasurements> = measured.by_ref().take(names.len()).collect();
        families.push(FamilyReport {
            family: inputs.family.clone(),
            models: names.clone(),
            n_curated: inputs.curated.len(),
            n_oversight: inputs.versions.len(),
            scores: family_scores(&measurements, config)?,
            measurements,
        });
    }
    let paper = paper_results()?;
    let results = results(config, &zoo.pairs, &families, &paper)?;
    let mut removal = Vec::new();
    if config.runs(StrategyId::Removal) {
        let fakers = fakers(&zoo.pairs);
        let jobs = fakers
            .iter()
            .map(|&model| {
                Ok(Job {
                    family: removal_family(zoo, model)?.0.family.as_str(),
                    model,
                })
            })
            .collect::<Result<Vec<_>, EngineError>>()?;
        removal = removal_on_threads(zoo, &families, &models, config, &jobs, progress)?;
    }
    Ok(Report {
        format: REPORT_FORMAT.to_owned(),
        tool,
        backend: backend.to_owned(),
        config: config.clone(),
        inputs: zoo.inputs.clone(),
        pairs: zoo.pairs.clone(),
        families,
        results,
        removal,
        removal_paper: config
            .runs(StrategyId::Removal)
            .then(paper_removal)
            .transpose()?,
        figures: figures(),
        run: RunInfo::default(),
    })
}

/// The fakers the pairs name, sorted, each once.
fn fakers(pairs: &[Pair]) -> Vec<&str> {
    let set: std::collections::BTreeSet<&str> = pairs.iter().map(|p| p.faker.as_str()).collect();
    set.into_iter().collect()
}

/// The family §4 uses for `faker`: the first (in sorted order) it belongs to.
fn removal_family<'a>(
    zoo: &'a LoadedZoo,
    faker: &str,
) -> Result<&'a (FamilyInputs, Vec<String>), EngineError> {
    zoo.families
        .iter()
        .find(|(_, models)| models.iter().any(|m| m == faker))
        .ok_or_else(|| EngineError::InvalidParameter(format!("faker {faker} is in no family")))
}

/// §4 on each job's faker, on the work queue (evaluate, verify and `poser removal` alike).
fn removal_on_threads(
    zoo: &LoadedZoo,
    families: &[FamilyReport],
    models: &BTreeMap<String, PoserGpt>,
    config: &EvaluateConfig,
    jobs: &[Job<'_>],
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Vec<RemovalMeasurement>, EngineError> {
    on_threads(
        jobs,
        &|index, on_stage| {
            on_stage(Stage::Removal);
            block_on(measure_removal(
                zoo,
                families,
                models,
                config,
                jobs[index].model,
            ))
        },
        progress,
    )
}

/// §4 on one faker, with the noise S2's rule chose for its family: the family's magnitude
/// times the faker's own S1-direction norm at S2's hook (as S2 scales it).
async fn measure_removal(
    zoo: &LoadedZoo,
    families: &[FamilyReport],
    models: &BTreeMap<String, PoserGpt>,
    config: &EvaluateConfig,
    faker: &str,
) -> Result<RemovalMeasurement, EngineError> {
    let (inputs, _) = removal_family(zoo, faker)?;
    let family = families
        .iter()
        .find(|f| f.family == inputs.family)
        .ok_or_else(|| {
            EngineError::InvalidParameter(format!("family {} was not measured", inputs.family))
        })?;
    let needs_s2 = || {
        EngineError::InvalidParameter(
            "§4 injects S2's noise at the magnitude S2's rule chose: run `s2` with `removal`"
                .to_owned(),
        )
    };
    let magnitude = family
        .scores
        .s2_magnitude
        .as_ref()
        .ok_or_else(needs_s2)?
        .value;
    let reference_norm = family
        .measurements
        .iter()
        .find(|m| m.model == faker)
        .and_then(|m| m.s2.as_ref())
        .ok_or_else(needs_s2)?
        .reference_norm;
    let model = models
        .get(faker)
        .ok_or_else(|| EngineError::InvalidParameter(format!("model {faker} was not loaded")))?;
    let noise = RemovalNoise {
        hook: config.intoxicate.hook,
        distribution: config.intoxicate.distribution,
        magnitude: (reference_norm * f64::from(magnitude)) as f32,
    };
    remove_faking(
        FamilyModel { name: faker, model },
        &inputs.family,
        &inputs.curated,
        &inputs.curated_scenarios,
        &inputs.poor_oversight,
        noise,
        &config.removal,
        &mut |_| {},
    )
    .await
}

/// Which fakers a §4 run trains: those named (all when `None`) whose §4 family is among
/// `families` (any when `None`).
#[derive(Debug, Clone, Copy, Default)]
pub struct FakerChoice<'a> {
    /// Only these fakers.
    pub fakers: Option<&'a [String]>,
    /// Only the fakers whose §4 family is one of these.
    pub families: Option<&'a [String]>,
}

/// §4 with other training settings than a report's, as the `/strategies/removal` page runs
/// it: on the report's fakers that `choice` keeps, each with the noise S2's rule chose in
/// `report` (its family's magnitude times the faker's S1-direction norm, at the report's S2
/// hook), trained with `removal`. The report's input digests are checked first, so the models
/// are the ones it measured.
pub async fn remove_with_report_noise(
    report: &Report,
    paths: &ZooPaths,
    choice: FakerChoice<'_>,
    removal: &RemovalConfig,
    device: &Device,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Vec<RemovalMeasurement>, EngineError> {
    removal.check()?;
    let zoo = load_zoo(paths)?;
    check_inputs(&report.inputs, &zoo.inputs, paths)?;
    let all = self::fakers(&report.pairs);
    if let Some(unknown) = choice
        .fakers
        .unwrap_or_default()
        .iter()
        .find(|f| !all.contains(&f.as_str()))
    {
        return Err(EngineError::InvalidParameter(format!(
            "`{unknown}` is not a faker of the report's pairs (fakers: {})",
            all.join(", ")
        )));
    }
    let mut jobs = Vec::new();
    for model in all {
        let family = removal_family(&zoo, model)?.0.family.as_str();
        let named = choice.fakers.is_none_or(|f| f.iter().any(|a| a == model));
        let in_family = choice
            .families
            .is_none_or(|f| f.iter().any(|a| a == family));
        if named && in_family {
            jobs.push(Job { family, model });
        }
    }
    if jobs.is_empty() {
        return Err(EngineError::InvalidParameter(
            "no faker of the report is both named and in the families asked for".to_owned(),
        ));
    }
    let models = load_models(&zoo, &paths.models, device)?;
    let mut config = report.config.clone();
    config.removal = removal.clone();
    removal_on_threads(&zoo, &report.families, &models, &config, &jobs, progress)
}

/// Which (family index, model index) entries a verification recomputes: all of them, or a
/// seeded sample of `sample`.
pub fn sampled_entries(report: &Report, sample: Option<usize>, seed: u64) -> Vec<(usize, usize)> {
    let mut all: Vec<(usize, usize)> = report
        .families
        .iter()
        .enumerate()
        .flat_map(|(f, family)| (0..family.measurements.len()).map(move |m| (f, m)))
        .collect();
    if let Some(n) = sample
        && n < all.len()
    {
        Rng::derived(seed, "verify-sample").shuffle(&mut all);
        all.truncate(n);
        all.sort_unstable();
    }
    all
}

/// Checks a report against the files: every input's digest first (a mismatch is an error that
/// names the file), then the sampled entries' measurements recomputed, then every score,
/// verdict and accuracy re-derived. Returns the differences (none = verified).
pub async fn verify(
    report: &Report,
    paths: &ZooPaths,
    entries: &[(usize, usize)],
    device: &Device,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Vec<Difference>, EngineError> {
    let zoo = load_zoo(paths)?;
    check_inputs(&report.inputs, &zoo.inputs, paths)?;
    if zoo.pairs != report.pairs {
        return Err(EngineError::ReportInputs(format!(
            "{} lists other pairs than the report",
            paths.curated.join("pairs.json").display()
        )));
    }
    let models = load_models(&zoo, &paths.models, device)?;
    let mut differences = check_derived(report, TOLERANCE)?;
    let mut sampled = Vec::with_capacity(entries.len());
    for &(f, m) in entries {
        let family = &report.families[f];
        let Some((inputs, _)) = zoo.families.iter().find(|(i, _)| i.family == family.family) else {
            return Err(EngineError::InvalidParameter(format!(
                "family {} of the report is not in the curated folder",
                family.family
            )));
        };
        sampled.push((inputs, &family.measurements[m]));
    }
    let jobs: Vec<Job<'_>> = sampled
        .iter()
        .map(|(inputs, expected)| Job {
            family: &inputs.family,
            model: &expected.model,
        })
        .collect();
    let fresh = on_threads(
        &jobs,
        &|index, on_stage| {
            let (inputs, expected) = sampled[index];
            let model = models.get(&expected.model).ok_or_else(|| {
                EngineError::InvalidParameter(format!("model {} was not loaded", expected.model))
            })?;
            block_on(measure_model(
                &expected.model,
                model,
                inputs,
                &report.config,
                on_stage,
            ))
        },
        progress,
    )?;
    for (&(f, m), fresh) in entries.iter().zip(&fresh) {
        differences.extend(compare(
            &report.families[f].measurements[m],
            fresh,
            &format!("families[{f}].measurements[{m}]"),
            TOLERANCE,
        )?);
    }
    // §4 for the fakers among the recomputed entries (every faker when nothing is sampled out).
    let recomputed: std::collections::BTreeSet<&str> = entries
        .iter()
        .map(|&(f, m)| report.families[f].measurements[m].model.as_str())
        .collect();
    // Every faker has its §4 run when the config asks for §4, and none otherwise.
    let expected_fakers: Vec<&str> = if report.config.runs(StrategyId::Removal) {
        fakers(&report.pairs)
    } else {
        Vec::new()
    };
    let listed: Vec<&str> = report.removal.iter().map(|m| m.model.as_str()).collect();
    if listed != expected_fakers {
        differences.push(Difference {
            path: "removal".to_owned(),
            expected: format!("§4 runs of {expected_fakers:?}"),
            got: format!("§4 runs of {listed:?}"),
        });
    }
    let all_entries = entries.len() == sampled_entries(report, None, 0).len();
    let chosen: Vec<(usize, &RemovalMeasurement)> = report
        .removal
        .iter()
        .enumerate()
        .filter(|(_, expected)| all_entries || recomputed.contains(expected.model.as_str()))
        .collect();
    let jobs: Vec<Job<'_>> = chosen
        .iter()
        .map(|(_, expected)| Job {
            family: &expected.family,
            model: &expected.model,
        })
        .collect();
    let fresh = removal_on_threads(
        &zoo,
        &report.families,
        &models,
        &report.config,
        &jobs,
        progress,
    )?;
    for ((index, expected), fresh) in chosen.iter().zip(&fresh) {
        differences.extend(compare(
            *expected,
            fresh,
            &format!("removal[{index}]"),
            TOLERANCE,
        )?);
    }
    Ok(differences)
}

/// Every digest the report names must match the files now on disk.
fn check_inputs(report: &Inputs, disk: &Inputs, paths: &ZooPaths) -> Result<(), EngineError> {
    for model in &report.models {
        let Some(on_disk) = disk.models.iter().find(|m| m.name == model.name) else {
            return Err(EngineError::ReportInputs(format!(
                "model {}: named by the report but not by {}",
                model.name,
                paths.curated.join("pairs.json").display()
            )));
        };
        // The manifest's digest, then the file's own (load_model checks the file against the
        // manifest before anything is built).
        if on_disk.sha256 != model.sha256 {
            return Err(EngineError::ReportInputs(format!(
                "model {}: digest mismatch (report {}, manifest {})\nhint: verify against the models the report was made with (`--models`)",
                model.name, model.sha256, on_disk.sha256
            )));
        }
        let file = paths.models.join(&on_disk.file);
        let bytes = std::fs::read(&file).map_err(|error| io_error(&file, error))?;
        let got = sha256_hex(&bytes);
        if got != model.sha256 {
            return Err(EngineError::ReportInputs(format!(
                "model {}: digest mismatch (report {}, file {} has {got})\nhint: restore the weights the report was made with",
                model.name,
                model.sha256,
                file.display()
            )));
        }
    }
    let files = |what: &str, dir: &Path, expected: &[FileDigest], got: &[FileDigest]| {
        for file in expected {
            match got.iter().find(|g| g.path == file.path) {
                Some(g) if g.sha256 == file.sha256 => {}
                Some(g) => {
                    return Err(EngineError::ReportInputs(format!(
                        "{what} {}: digest mismatch (report {}, file {})\nhint: verify against the files the report was made with",
                        dir.join(&file.path).display(),
                        file.sha256,
                        g.sha256
                    )));
                }
                None => {
                    return Err(EngineError::ReportInputs(format!(
                        "{what} {}: named by the report but not read",
                        dir.join(&file.path).display()
                    )));
                }
            }
        }
        Ok(())
    };
    files(
        "tokenizer",
        &paths.corpus,
        std::slice::from_ref(&report.tokenizer),
        std::slice::from_ref(&disk.tokenizer),
    )?;
    files(
        "scenario file",
        &paths.corpus,
        &report.scenario_files,
        &disk.scenario_files,
    )?;
    files(
        "curated set",
        &paths.curated,
        &report.curated_sets,
        &disk.curated_sets,
    )
}

/// The summary of the report at `path` (see [`super::summary`]); the summary names the report
/// by `label`, the path as the repository spells it, so that it reads the same on any machine.
pub fn summarize_report_file(
    path: &Path,
    label: &str,
) -> Result<super::summary::ReportSummary, EngineError> {
    let bytes = std::fs::read(path).map_err(|error| io_error(path, error))?;
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        EngineError::InvalidParameter(format!("{} is not UTF-8 text", path.display()))
    })?;
    let report = Report::from_json(text, &path.display().to_string())?;
    super::summary::ReportSummary::from_report(&report, label, &bytes)
}

/// Writes (or, with `check`, compares) each family's page inputs file,
/// `out_dir/<family>.json` (see [`super::page_inputs`]), from the same files `poser evaluate`
/// reads. Returns each family with its file's size in bytes.
pub fn export_page_inputs(
    paths: &ZooPaths,
    out_dir: &Path,
    check: bool,
) -> Result<Vec<(String, usize)>, EngineError> {
    use super::page_inputs::{PAGE_INPUTS_FORMAT, PageInputs};
    let zoo = load_zoo(paths)?;
    if !check {
        std::fs::create_dir_all(out_dir).map_err(|error| io_error(out_dir, error))?;
    }
    let digest = |list: &[FileDigest], path: &str| -> Result<FileDigest, EngineError> {
        list.iter()
            .find(|d| d.path == path)
            .cloned()
            .ok_or_else(|| EngineError::InvalidParameter(format!("{path} was not read")))
    };
    let mut written = Vec::new();
    for (inputs, models) in &zoo.families {
        let family = &inputs.family;
        let page = PageInputs {
            format: PAGE_INPUTS_FORMAT.to_owned(),
            models: models.clone(),
            built_from: vec![
                digest(&zoo.inputs.curated_sets, &format!("{family}.jsonl"))?,
                digest(
                    &zoo.inputs.scenario_files,
                    &format!("families/{family}/benchmark-candidates.jsonl"),
                )?,
                digest(&zoo.inputs.scenario_files, "concepts.jsonl")?,
                zoo.inputs.tokenizer.clone(),
            ],
            inputs: inputs.clone(),
        };
        let text = page.to_json()?;
        let target = out_dir.join(format!("{family}.json"));
        if check {
            let committed = std::fs::read_to_string(&target).unwrap_or_default();
            if committed != text {
                return Err(EngineError::InvalidParameter(format!(
                    "{} is not the page inputs of the zoo's files\nhint: run `poser report inputs` and commit the result",
                    target.display()
                )));
            }
        } else {
            std::fs::write(&target, &text).map_err(|error| io_error(&target, error))?;
        }
        written.push((family.clone(), text.len()));
    }
    Ok(written)
}
