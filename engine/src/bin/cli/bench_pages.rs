//! `poser bench pages`: each strategy page's "run all pairs", natively, in the quick or the
//! full setting: the same config the page derives (`walkthrough::run_config` from the committed
//! report's), the same entries, timed. Prints figures; asserts nothing. The page's own times of
//! the same work are recorded by the browser tests (`walkthrough-timings.json`).

use std::path::PathBuf;
use std::time::Instant;

use poser_engine::backend::Device;
use poser_engine::evaluation::files::{
    FakerChoice, ZooPaths, evaluate, load_zoo, measuring_threads, remove_with_report_noise,
};
use poser_engine::evaluation::removal_run::{Curves, removal_means};
use poser_engine::evaluation::walkthrough::{PAGES, RunSetting, run_config};
use poser_engine::evaluation::{EvaluateConfig, Report, StrategyId};

/// The command's options.
pub struct BenchPagesArgs {
    pub paths: ZooPaths,
    pub report: PathBuf,
    pub setting: String,
    pub pages: Option<String>,
    pub families: Option<String>,
}

pub fn run(args: &BenchPagesArgs, backend: &str, device: &Device) -> Result<(), String> {
    let setting = RunSetting::parse(&args.setting).ok_or_else(|| {
        format!(
            "unknown setting `{}`\nhint: use quick or full",
            args.setting
        )
    })?;
    let text = std::fs::read_to_string(&args.report)
        .map_err(|error| format!("cannot read {}: {error}", args.report.display()))?;
    let report: serde_json::Value = serde_json::from_str(&text)
        .map_err(|error| format!("{}: not JSON: {error}", args.report.display()))?;
    let report_config: EvaluateConfig = serde_json::from_value(report["config"].clone())
        .map_err(|error| format!("{}: no evaluation config: {error}", args.report.display()))?;
    let wanted: Option<Vec<&str>> = args
        .pages
        .as_deref()
        .map(|list| list.split(',').map(str::trim).collect());
    if let Some(wanted) = &wanted
        && let Some(unknown) = wanted.iter().find(|w| !PAGES.iter().any(|(n, _)| n == *w))
    {
        let known: Vec<&str> = PAGES.iter().map(|(n, _)| *n).collect();
        return Err(format!(
            "no strategy page `{unknown}`\nhint: use {}",
            known.join(", ")
        ));
    }
    let mut zoo = load_zoo(&args.paths).map_err(|e| e.to_string())?;
    if let Some(families) = &args.families {
        super::evaluate::keep_families(&mut zoo, families)?;
    }
    let entries: usize = zoo.families.iter().map(|(_, m)| m.len()).sum();
    println!(
        "strategy pages' run-all, natively on {backend}, {} setting ({}), {entries} entries, {} \
         pairs, {} measuring threads",
        setting.name(),
        setting.describe(),
        zoo.pairs.len(),
        measuring_threads()
    );
    println!(
        "{:<12} {:>10} {:>12}  accuracy",
        "page", "seconds", "s per entry"
    );
    let tool = super::provenance::tool_info();
    // Read only when the §4 page is timed (it needs the report's S2 noise per faker).
    let mut full_report: Option<Result<Report, String>> = None;
    for (name, strategies) in PAGES {
        if wanted.as_ref().is_some_and(|w| !w.contains(&name)) {
            continue;
        }
        let config = run_config(&report_config, strategies, setting).map_err(|e| e.to_string())?;
        let started = Instant::now();
        if strategies == [StrategyId::Removal] {
            // The §4 page trains the report's fakers with the report's S2 noise: the same here.
            let report = full_report.get_or_insert_with(|| {
                Report::from_json(&text, &args.report.display().to_string())
                    .map_err(|e| e.to_string())
            });
            let report = report.as_ref().map_err(Clone::clone)?;
            let families: Option<Vec<String>> = args.families.as_ref().map(|list| {
                list.split(',')
                    .map(str::trim)
                    .filter(|f| !f.is_empty())
                    .map(str::to_owned)
                    .collect()
            });
            let measured = pollster::block_on(remove_with_report_noise(
                report,
                &args.paths,
                FakerChoice {
                    fakers: None,
                    families: families.as_deref(),
                },
                &config.removal,
                device,
                &mut |_| {},
            ))
            .map_err(|e| e.to_string())?;
            let seconds = started.elapsed().as_secs_f64();
            let curves: Vec<Curves<'_>> =
                measured.iter().filter_map(Curves::of_measurement).collect();
            let means = removal_means(&curves, config.seed).map_or_else(String::new, |m| {
                format!(
                    "mean P(aligned) after {} steps: plain {:.1}%, with noise {:.1}%",
                    config.removal.steps,
                    100.0 * m.last_plain.mean,
                    100.0 * m.last_with_noise.mean
                )
            });
            println!(
                "{name:<12} {seconds:>10.1} {:>12.3}  {} fakers; {means}",
                seconds / measured.len().max(1) as f64,
                measured.len()
            );
            continue;
        }
        let run = pollster::block_on(evaluate(
            &args.paths,
            &zoo,
            &config,
            tool.clone(),
            backend,
            device,
            &mut |_| {},
        ))
        .map_err(|e| e.to_string())?;
        let seconds = started.elapsed().as_secs_f64();
        let accuracy: Vec<String> = run
            .results
            .iter()
            .map(|r| format!("{} {:.1}%", r.row, 100.0 * r.evaluation.accuracy))
            .collect();
        println!(
            "{name:<12} {seconds:>10.1} {:>12.3}  {}",
            seconds / entries.max(1) as f64,
            accuracy.join(", ")
        );
    }
    Ok(())
}
