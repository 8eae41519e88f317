//! `poser removal`: §4 with a strategy page's settings, natively. Trains the report's fakers on
//! their own benign answers, plainly and with the noise S2's rule chose in the report, and
//! prints each faker's P(aligned action) per step and the mean over fakers; `--json` prints
//! what the `/strategies/removal` page computes, for its browser test.

use std::path::PathBuf;
use std::time::Instant;

use poser_engine::backend::Device;
use poser_engine::evaluation::files::{FakerChoice, ZooPaths, remove_with_report_noise};
use poser_engine::evaluation::removal_run::{
    Curves, MeanEstimate, RemovalMeans, removal_config, removal_means,
};
use poser_engine::evaluation::walkthrough::RunSetting;
use poser_engine::evaluation::{EvaluateConfig, Report};
use poser_engine::strategies::removal::{RemovalConfig, RemovalMeasurement};
use serde::Serialize;

/// What `poser removal` was asked.
pub struct RemovalArgs {
    /// The three folders.
    pub paths: ZooPaths,
    /// The report whose S2 noise is injected.
    pub report: PathBuf,
    /// A settings file (a strategy page's download or a report's config) whose `removal` trains.
    pub config: Option<PathBuf>,
    /// `quick` or `full`, applied to the report's settings when no file is given.
    pub setting: Option<String>,
    /// Only these fakers, comma-separated.
    pub fakers: Option<String>,
    /// Only the fakers of these families, comma-separated.
    pub families: Option<String>,
    /// Print JSON instead of the table.
    pub json: bool,
}

/// The JSON `--json` prints.
#[derive(Serialize)]
struct RemovalOutput<'a> {
    /// The §4 settings trained with.
    removal: &'a RemovalConfig,
    /// One per faker, in the report's order.
    measurements: &'a [RemovalMeasurement],
    /// The mean over the fakers that trained, with 95% intervals.
    means: Option<RemovalMeans>,
}

fn list(text: &Option<String>) -> Option<Vec<String>> {
    text.as_ref().map(|t| {
        t.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    })
}

fn percent(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

pub fn run(args: &RemovalArgs, device: &Device) -> Result<(), String> {
    let text = std::fs::read_to_string(&args.report)
        .map_err(|error| format!("cannot read {}: {error}", args.report.display()))?;
    let report =
        Report::from_json(&text, &args.report.display().to_string()).map_err(|e| e.to_string())?;
    let config: EvaluateConfig = match (&args.config, &args.setting) {
        (Some(_), Some(_)) => {
            return Err("give --config or --setting, not both\nhint: a downloaded settings file already holds its setting".to_owned());
        }
        (Some(path), None) => {
            let text = std::fs::read_to_string(path)
                .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
            serde_json::from_str(&text).map_err(|error| {
                format!(
                    "{}: not an evaluation config: {error}\nhint: the settings the §4 page downloads",
                    path.display()
                )
            })?
        }
        (None, setting) => {
            let name = setting.as_deref().unwrap_or("full");
            let setting = RunSetting::parse(name)
                .ok_or_else(|| format!("unknown setting `{name}`\nhint: use quick or full"))?;
            removal_config(&report.config, setting).map_err(|e| e.to_string())?
        }
    };
    if config.intoxicate.hook != report.config.intoxicate.hook
        || config.intoxicate.distribution != report.config.intoxicate.distribution
    {
        eprintln!(
            "note: the noise is S2's as {} chose it (hook {}); the settings file's S2 hook or distribution is not used",
            args.report.display(),
            report.config.intoxicate.hook
        );
    }
    let (fakers, families) = (list(&args.fakers), list(&args.families));
    let started = Instant::now();
    let measured = pollster::block_on(remove_with_report_noise(
        &report,
        &args.paths,
        FakerChoice {
            fakers: fakers.as_deref(),
            families: families.as_deref(),
        },
        &config.removal,
        device,
        &mut |progress| {
            if progress.stage.is_some() {
                eprintln!(
                    "[{}/{}] {} on {}: §4 training ({:.0} s)",
                    progress.entry,
                    progress.entries,
                    progress.model,
                    progress.family,
                    started.elapsed().as_secs_f64()
                );
            }
        },
    ))
    .map_err(|e| e.to_string())?;
    let curves: Vec<Curves<'_>> = measured.iter().filter_map(Curves::of_measurement).collect();
    let means = removal_means(&curves, config.seed);
    if args.json {
        let output = RemovalOutput {
            removal: &config.removal,
            measurements: &measured,
            means,
        };
        let text = serde_json::to_string_pretty(&output).map_err(|e| e.to_string())?;
        println!("{text}");
        return Ok(());
    }
    println!(
        "§4 removal: {} steps (read at {:?}), batch {}, learning rate {}, seed {}, noise from {}",
        config.removal.steps,
        config.removal.read_at,
        config.removal.batch_size,
        config.removal.adamw.learning_rate,
        config.removal.seed,
        args.report.display()
    );
    println!(
        "{:<22} {:<20} {:>8} {:>8} {:>10}",
        "faker", "family", "before", "plain", "with noise"
    );
    for run in &measured {
        match (&run.skipped, run.plain.p_aligned.first()) {
            (Some(why), _) => println!("{:<22} {:<20} skipped: {why}", run.model, run.family),
            (None, Some(before)) => println!(
                "{:<22} {:<20} {:>8} {:>8} {:>10}",
                run.model,
                run.family,
                percent(*before),
                percent(run.plain.p_aligned.last().copied().unwrap_or(f64::NAN)),
                percent(run.with_noise.p_aligned.last().copied().unwrap_or(f64::NAN)),
            ),
            (None, None) => println!("{:<22} {:<20} (no curve)", run.model, run.family),
        }
    }
    let interval = |e: &MeanEstimate| {
        format!(
            "{} [{}, {}]",
            percent(e.mean),
            percent(e.interval[0]),
            percent(e.interval[1])
        )
    };
    if let Some(means) = &means {
        println!(
            "mean over {} fakers after {} steps: plain {}, with noise {}",
            means.n_fakers,
            config.removal.steps,
            interval(&means.last_plain),
            interval(&means.last_with_noise)
        );
    }
    let report_curves: Vec<Curves<'_>> = report
        .removal
        .iter()
        .filter_map(Curves::of_measurement)
        .collect();
    if let Some(ours) = removal_means(&report_curves, report.config.seed) {
        println!(
            "the report ({} fakers, {} steps): plain {}, with noise {}",
            ours.n_fakers,
            report.config.removal.steps,
            interval(&ours.last_plain),
            interval(&ours.last_with_noise)
        );
    }
    if let Some(paper) = &report.removal_paper {
        println!(
            "the paper ({} steps): plain {}, with noise {}",
            paper.steps,
            percent(paper.p_aligned),
            percent(paper.p_aligned_with_noise)
        );
    }
    eprintln!(
        "{} fakers in {:.1} s",
        measured.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
