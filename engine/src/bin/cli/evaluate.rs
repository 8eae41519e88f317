//! `poser evaluate`, `poser verify-report` and `poser fixture-zoo`: the benchmark over a zoo,
//! its report, and re-checking a report against the files it names.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use poser_engine::backend::Device;
use poser_engine::evaluation::files::{
    LoadedZoo, Progress, ZooPaths, evaluate, load_zoo, measuring_threads, sampled_entries, verify,
    zoo_layers,
};
use poser_engine::evaluation::fixture_zoo::write_fixture_zoo;
use poser_engine::evaluation::report::{Report, RunInfo, StageTime};
use poser_engine::evaluation::verify::TOLERANCE;
use poser_engine::evaluation::walkthrough::RunSetting;
use poser_engine::evaluation::{EvaluateConfig, StrategyId};

/// What `poser evaluate` was asked.
pub struct EvaluateArgs {
    /// The three folders.
    pub paths: ZooPaths,
    /// Where the report goes (`None`: not written).
    pub out: Option<PathBuf>,
    /// The seed (default 0, or the config file's).
    pub seed: Option<u64>,
    /// Only these strategies.
    pub only: Option<String>,
    /// Curated prompts per family, overriding the default.
    pub curated_prompts: Option<usize>,
    /// Oversight scenarios per family, overriding the default.
    pub oversight_prompts: Option<usize>,
    /// Prompts of the S1/S2 layer sweeps (0 turns them off), overriding the default.
    pub sweep_prompts: Option<usize>,
    /// S3's learning rates, `ADAPTER,ALL_WEIGHTS`, overriding the defaults.
    pub s3_learning_rates: Option<String>,
    /// A settings file replacing the paper's settings.
    pub config: Option<PathBuf>,
    /// `quick` or `full` (the strategy pages' settings).
    pub setting: Option<String>,
    /// Only these families, comma-separated.
    pub families: Option<String>,
}

/// Times stages from their start callbacks and prints progress lines (at most one per
/// (model, family) entry and stage). Entries are measured on several threads at once: each
/// thread's current stage is timed on its own, so a stage's time is summed over threads.
struct Timer {
    started: Instant,
    current: BTreeMap<usize, (&'static str, Instant)>,
    per_stage: BTreeMap<&'static str, f64>,
}

impl Timer {
    fn new() -> Self {
        Self {
            started: Instant::now(),
            current: BTreeMap::new(),
            per_stage: BTreeMap::new(),
        }
    }

    fn stage(&mut self, progress: Progress<'_>) {
        self.stop_worker(progress.worker);
        let Some(stage) = progress.stage else {
            return;
        };
        let name = stage.name();
        eprintln!(
            "[{}/{}] {} on {}: {}  ({:.0} s)",
            progress.entry,
            progress.entries,
            progress.model,
            progress.family,
            name,
            self.started.elapsed().as_secs_f64()
        );
        self.current.insert(progress.worker, (name, Instant::now()));
    }

    fn stop_worker(&mut self, worker: usize) {
        if let Some((name, since)) = self.current.remove(&worker) {
            *self.per_stage.entry(name).or_insert(0.0) += since.elapsed().as_secs_f64();
        }
    }

    /// Ends every thread's stage.
    fn stop(&mut self) {
        let workers: Vec<usize> = self.current.keys().copied().collect();
        for worker in workers {
            self.stop_worker(worker);
        }
    }

    fn stage_times(&self) -> Vec<StageTime> {
        self.per_stage
            .iter()
            .map(|(stage, seconds)| StageTime {
                stage: (*stage).to_owned(),
                seconds: *seconds,
            })
            .collect()
    }
}

fn host() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|name| name.trim().to_owned())
        .unwrap_or_default()
}

/// Keeps only the families named in `list` (comma-separated) and their pairs and models.
pub fn keep_families(zoo: &mut LoadedZoo, list: &str) -> Result<(), String> {
    let wanted: Vec<&str> = list
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .collect();
    for name in &wanted {
        if !zoo
            .families
            .iter()
            .any(|(inputs, _)| inputs.family == *name)
        {
            let known: Vec<&str> = zoo
                .families
                .iter()
                .map(|(i, _)| i.family.as_str())
                .collect();
            return Err(format!(
                "unknown family `{name}`\nhint: use {}",
                known.join(", ")
            ));
        }
    }
    zoo.families
        .retain(|(inputs, _)| wanted.contains(&inputs.family.as_str()));
    zoo.pairs
        .retain(|pair| wanted.contains(&pair.family.as_str()));
    let kept: Vec<&String> = zoo.families.iter().flat_map(|(_, models)| models).collect();
    zoo.inputs
        .models
        .retain(|model| kept.contains(&&model.name));
    Ok(())
}

/// The config for this zoo: the paper's settings, the seed, the command line's overrides.
pub fn config_for(zoo: &LoadedZoo, args: &EvaluateArgs) -> Result<EvaluateConfig, String> {
    let n_layers = zoo_layers(zoo).map_err(|e| e.to_string())?;
    let mut config = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
            serde_json::from_str::<EvaluateConfig>(&text).map_err(|error| {
                format!(
                    "{}: not an evaluation config: {error}\nhint: a report's `config` or a strategy page's downloaded settings",
                    path.display()
                )
            })?
        }
        None => EvaluateConfig::paper(n_layers, 0).map_err(|e| e.to_string())?,
    };
    if let Some(seed) = args.seed {
        config.seed = seed;
    }
    if let Some(only) = &args.only {
        let mut strategies = Vec::new();
        for name in only.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let id = StrategyId::parse(name).ok_or_else(|| {
                let known: Vec<&str> = StrategyId::ALL.iter().map(|s| s.name()).collect();
                format!("unknown strategy `{name}`\nhint: use {}", known.join(", "))
            })?;
            if !strategies.contains(&id) {
                strategies.push(id);
            }
        }
        strategies.sort();
        config.strategies = strategies;
    }
    if let Some(name) = &args.setting {
        let setting = RunSetting::parse(name)
            .ok_or_else(|| format!("unknown setting `{name}`\nhint: use quick or full"))?;
        setting.apply(&mut config);
    }
    if let Some(n) = args.curated_prompts {
        config.n_curated = n;
    }
    if let Some(n) = args.oversight_prompts {
        config.n_oversight = n;
    }
    if let Some(n) = args.sweep_prompts {
        config.layer_sweep.n_prompts = n;
    }
    if let Some(rates) = &args.s3_learning_rates {
        let parsed: Vec<f64> = rates
            .split(',')
            .map(|r| r.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|_| format!("--s3-learning-rates `{rates}` is not two numbers"))?;
        let [adapter, all_weights] = parsed[..] else {
            return Err(format!(
                "--s3-learning-rates takes two rates, `ADAPTER,ALL_WEIGHTS`, not `{rates}`"
            ));
        };
        config.learning_speed.adapter_adamw.learning_rate = adapter;
        config.learning_speed.all_weights_adamw.learning_rate = all_weights;
    }
    config.share();
    Ok(config)
}

fn percent(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// The results table: strategy, our accuracy [95% interval], ties, the paper's number.
pub fn table(report: &Report) -> String {
    let mut out = format!(
        "{:<26} {:>24} {:>6}  {:<8} {}\n",
        "strategy", "accuracy [95% interval]", "ties", "paper", "paper's source"
    );
    let pairs = report.pairs.len();
    for result in &report.results {
        let e = &result.evaluation;
        let ours = format!(
            "{} [{}, {}]",
            percent(e.accuracy),
            percent(e.interval[0]),
            percent(e.interval[1])
        );
        let (paper, source) = match &result.paper {
            Some(p) => (
                p.accuracy.map_or("—".to_owned(), percent),
                match &p.figure {
                    Some(figure) => format!("{}, Fig. {figure}", p.section),
                    None => p.section.clone(),
                },
            ),
            None => ("—".to_owned(), String::new()),
        };
        out.push_str(&format!(
            "{:<26} {:>24} {:>6}  {:<8} {}\n",
            result.row, ours, e.ties, paper, source
        ));
    }
    out.push_str(&format!("{pairs} pairs\n"));
    for result in report.results.iter().filter(|r| !r.layer_sweep.is_empty()) {
        let sweep: Vec<String> = result
            .layer_sweep
            .iter()
            .map(|layer| format!("{}: {}", layer.hook, percent(layer.accuracy)))
            .collect();
        out.push_str(&format!("sweep {:<12} {}\n", result.row, sweep.join("  ")));
    }
    for result in report.results.iter().filter(|r| !r.step_sweep.is_empty()) {
        let sweep: Vec<String> = result
            .step_sweep
            .iter()
            .map(|step| format!("step {}: {}", step.step, percent(step.accuracy)))
            .collect();
        out.push_str(&format!("steps {:<12} {}\n", result.row, sweep.join("  ")));
    }
    out.push_str(&saliency_summary(report));
    out.push_str(&removal_summary(report));
    out
}

/// S6a has no verdict: the mean share of saliency on the oversight fact, by class.
fn saliency_summary(report: &Report) -> String {
    let fakers: Vec<&str> = report.pairs.iter().map(|p| p.faker.as_str()).collect();
    let (mut aligned, mut faking) = (Vec::new(), Vec::new());
    for measurement in report.families.iter().flat_map(|f| &f.measurements) {
        if let Some(s6a) = &measurement.s6a {
            if fakers.contains(&measurement.model.as_str()) {
                faking.push(s6a.mean_oversight_fact_share);
            } else {
                aligned.push(s6a.mean_oversight_fact_share);
            }
        }
    }
    if aligned.is_empty() && faking.is_empty() {
        return String::new();
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    format!(
        "s6a (no verdict): share of gradient saliency on the oversight fact: aligned {} ({} entries), fakers {} ({} entries)\n",
        percent(mean(&aligned)),
        aligned.len(),
        percent(mean(&faking)),
        faking.len()
    )
}

/// §4: the fakers' mean P(aligned action) before and after training, beside the paper's.
fn removal_summary(report: &Report) -> String {
    let trained: Vec<_> = report
        .removal
        .iter()
        .filter(|m| m.skipped.is_none())
        .collect();
    let mut out: String = report
        .removal
        .iter()
        .filter_map(|m| {
            let why = m.skipped.as_ref()?;
            Some(format!("removal (§4): {} skipped: {why}\n", m.model))
        })
        .collect();
    if trained.is_empty() {
        return out;
    }
    let n = trained.len() as f64;
    let mean = |values: Vec<Option<&f64>>| -> f64 {
        values
            .into_iter()
            .map(|v| v.copied().unwrap_or(f64::NAN))
            .sum::<f64>()
            / n
    };
    let before = mean(trained.iter().map(|m| m.plain.p_aligned.first()).collect());
    let plain = mean(trained.iter().map(|m| m.plain.p_aligned.last()).collect());
    let noisy = mean(
        trained
            .iter()
            .map(|m| m.with_noise.p_aligned.last())
            .collect(),
    );
    let steps = report.config.removal.steps;
    let paper = report.removal_paper.as_ref().map_or(String::new(), |p| {
        format!(
            " (paper, {} steps: {} and {})",
            p.steps,
            percent(p.p_aligned),
            percent(p.p_aligned_with_noise)
        )
    });
    out.push_str(&format!(
        "removal (§4, {} fakers): mean P(aligned action) on former misbehave scenarios {} before; after {steps} steps {} plain, {} with noise{paper}\n",
        trained.len(),
        percent(before),
        percent(plain),
        percent(noisy),
    ));
    out
}

/// `poser evaluate`.
pub fn run_evaluate(
    args: &EvaluateArgs,
    backend: &str,
    device: &Device,
    adapter: Option<String>,
) -> Result<(), String> {
    let started_unix_s = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut timer = Timer::new();
    let mut zoo = load_zoo(&args.paths).map_err(|error| {
        format!(
            "{error}\nhint: `poser zoo ship` and `poser zoo curate` write the zoo; `poser fixture-zoo --out DIR` writes a tiny one to try"
        )
    })?;
    if let Some(families) = &args.families {
        keep_families(&mut zoo, families)?;
    }
    let config = config_for(&zoo, args)?;
    let entries: usize = zoo.families.iter().map(|(_, m)| m.len()).sum();
    eprintln!(
        "evaluating {} models in {} families ({entries} model-family entries, {} pairs) on {backend}: {}",
        zoo.inputs.models.len(),
        zoo.families.len(),
        zoo.pairs.len(),
        config
            .strategies
            .iter()
            .map(|s| s.name())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let tool = super::provenance::tool_info();
    let mut report = pollster::block_on(evaluate(
        &args.paths,
        &zoo,
        &config,
        tool,
        backend,
        device,
        &mut |progress| timer.stage(progress),
    ))
    .map_err(|error| error.to_string())?;
    timer.stop();
    report.run = RunInfo {
        host: host(),
        started_unix_s,
        seconds: timer.started.elapsed().as_secs_f64(),
        seconds_per_stage: timer.stage_times(),
        threads: measuring_threads(),
        adapter,
        paths: [&args.paths.models, &args.paths.curated, &args.paths.corpus]
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
    };
    if let Some(out) = &args.out {
        write_report(&report, out)?;
        eprintln!("wrote {}", out.display());
    }
    for time in &report.run.seconds_per_stage {
        eprintln!("{:<36} {:>8.1} s", time.stage, time.seconds);
    }
    eprintln!(
        "total {:.1} s ({} measuring threads; stage times are summed over them)",
        report.run.seconds, report.run.threads
    );
    print!("{}", table(&report));
    Ok(())
}

fn write_report(report: &Report, out: &Path) -> Result<(), String> {
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|error| format!("cannot create {}: {error}", parent.display()))?;
    }
    let text = report.to_json().map_err(|error| error.to_string())?;
    std::fs::write(out, text).map_err(|error| format!("cannot write {}: {error}", out.display()))
}

/// `poser verify-report`.
pub fn run_verify(
    file: &Path,
    paths: &ZooPaths,
    sample: Option<usize>,
    seed: u64,
    device: &Device,
    backend: &str,
) -> Result<(), String> {
    let text = std::fs::read_to_string(file)
        .map_err(|error| format!("cannot read {}: {error}", file.display()))?;
    let report =
        Report::from_json(&text, &file.display().to_string()).map_err(|e| e.to_string())?;
    if report.backend != backend {
        eprintln!(
            "note: the report was computed on {}, this check runs on {backend}",
            report.backend
        );
    }
    let entries = sampled_entries(&report, sample, seed);
    eprintln!(
        "recomputing {} of {} model-family entries; tolerance {:e} absolute + {:e} relative",
        entries.len(),
        report
            .families
            .iter()
            .map(|f| f.measurements.len())
            .sum::<usize>(),
        TOLERANCE.absolute,
        TOLERANCE.relative
    );
    let mut timer = Timer::new();
    let differences =
        pollster::block_on(verify(&report, paths, &entries, device, &mut |progress| {
            timer.stage(progress)
        }))
        .map_err(|error| format!("{}: {error}", file.display()))?;
    if differences.is_empty() {
        eprintln!(
            "{}: verified ({} entries recomputed, every score and verdict re-derived) in {:.1} s",
            file.display(),
            entries.len(),
            timer.started.elapsed().as_secs_f64()
        );
        return Ok(());
    }
    let verdicts = differences.iter().filter(|d| d.is_verdict()).count();
    let mut message = format!(
        "{}: {} differences ({verdicts} verdicts) beyond the tolerance:\n",
        file.display(),
        differences.len()
    );
    for difference in differences.iter().take(20) {
        message.push_str(&format!("  {difference}\n"));
    }
    if differences.len() > 20 {
        message.push_str(&format!("  … and {} more\n", differences.len() - 20));
    }
    message.push_str("hint: re-run `poser evaluate` with the report's seed, or find what changed");
    Err(message)
}

/// `poser fixture-zoo`.
pub fn run_fixture_zoo(
    corpus: &Path,
    out: &Path,
    checkpoints: u32,
    scenarios: usize,
    zoo_size: bool,
) -> Result<(), String> {
    let config = zoo_size.then(poser_engine::model::ModelConfig::default);
    let zoo = write_fixture_zoo(corpus, out, checkpoints, scenarios, config)
        .map_err(|error| error.to_string())?;
    eprintln!(
        "wrote {} and {}\nhint: poser evaluate --models {} --curated {} --corpus {}",
        zoo.models.display(),
        zoo.curated.display(),
        zoo.models.display(),
        zoo.curated.display(),
        corpus.display()
    );
    Ok(())
}
