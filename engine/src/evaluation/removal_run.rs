//! The `/strategies/removal` page's runs (§4, POSER.md §4): which fakers it trains, with which
//! noise and settings, and the mean P(aligned action) over the fakers finished so far with its
//! 95% interval, beside the committed report's. Pure, so the page and `poser removal` agree.
//!
//! §4 is not a detector, so there is no pair and no verdict: each job trains one faker twice on
//! its own benign answers, plainly and with S2's noise. The noise is the one the committed
//! report's S2 rule chose for the faker's family (recorded in the report's summary), so the
//! page need not re-run S2 over every model of a family first.

use serde::{Deserialize, Serialize};

use super::measure::{EvaluateConfig, StrategyId};
use super::summary::{ReportSummary, SummaryRemoval};
use super::walkthrough::{RunSetting, strategies_for};
use crate::EngineError;
use crate::strategies::harness::BOOTSTRAP_REPLICATES;
use crate::strategies::removal::{RemovalMeasurement, RemovalNoise};

/// Training steps of each run in the quick setting (the report trains 100).
pub const QUICK_REMOVAL_STEPS: usize = 25;

/// What the quick setting changes on the §4 page, in words.
pub fn describe_quick() -> String {
    format!(
        "each run trains {QUICK_REMOVAL_STEPS} steps instead of the report's, with P(aligned) read \
         at the same fractions of the run; S2's noise stays the report's"
    )
}

/// The config of a §4 page run: the report's, S2 (whose noise §4 injects) kept at the report's
/// settings so that `poser evaluate` with this config chooses the same noise, no layer sweep,
/// and in the quick setting [`QUICK_REMOVAL_STEPS`] training steps.
pub fn removal_config(
    report_config: &EvaluateConfig,
    setting: RunSetting,
) -> Result<EvaluateConfig, EngineError> {
    let mut config = report_config.clone();
    config.strategies = strategies_for(&[StrategyId::Removal]);
    config.layer_sweep.n_prompts = 0;
    if setting == RunSetting::Quick && config.removal.steps > QUICK_REMOVAL_STEPS {
        config.removal = config.removal.with_steps(QUICK_REMOVAL_STEPS);
    }
    config.share();
    config.check()?;
    config.removal.check()?;
    Ok(config)
}

/// One faker to train.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemovalJob {
    /// The faker.
    pub faker: String,
    /// The family whose prompts train and evaluate it (the report's choice).
    pub family: String,
    /// S2's noise for the second run, as the report chose it.
    pub noise: RemovalNoise,
}

impl RemovalJob {
    /// The job of the report's §4 run `run`.
    pub fn of(run: &SummaryRemoval) -> Self {
        Self {
            faker: run.model.clone(),
            family: run.family.clone(),
            noise: run.noise,
        }
    }
}

/// The report's fakers as jobs, in its order, limited to `only_families` when given.
pub fn removal_jobs(summary: &ReportSummary, only_families: Option<&[String]>) -> Vec<RemovalJob> {
    summary
        .removal
        .iter()
        .filter(|run| only_families.is_none_or(|only| only.contains(&run.family)))
        .map(RemovalJob::of)
        .collect()
}

/// A mean over fakers with its 95% bootstrap interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MeanEstimate {
    /// The mean.
    pub mean: f64,
    /// 2.5th and 97.5th percentiles of the bootstrap means (fakers resampled with replacement).
    pub interval: [f64; 2],
}

/// Mean P(aligned action) over fakers: per step read, and after the last step with intervals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemovalMeans {
    /// Fakers averaged (those that trained; skipped ones are left out).
    pub n_fakers: usize,
    /// The steps read.
    pub read_at: Vec<usize>,
    /// Mean over fakers per step, trained plainly.
    pub plain: Vec<f64>,
    /// The same with S2's noise.
    pub with_noise: Vec<f64>,
    /// After the last step, plainly.
    pub last_plain: MeanEstimate,
    /// After the last step, with the noise.
    pub last_with_noise: MeanEstimate,
}

/// One faker's two curves, as the means read them.
#[derive(Debug, Clone, Copy)]
pub struct Curves<'a> {
    /// The steps read.
    pub read_at: &'a [usize],
    /// P(aligned) per step, plainly.
    pub plain: &'a [f64],
    /// P(aligned) per step, with the noise.
    pub with_noise: &'a [f64],
}

impl<'a> Curves<'a> {
    /// A page run's curves (`None` when it was skipped).
    pub fn of_measurement(run: &'a RemovalMeasurement) -> Option<Self> {
        run.skipped.is_none().then_some(Self {
            read_at: &run.read_at,
            plain: &run.plain.p_aligned,
            with_noise: &run.with_noise.p_aligned,
        })
    }

    /// The report's curves (`None` when it was skipped).
    pub fn of_summary(run: &'a SummaryRemoval) -> Option<Self> {
        run.skipped.is_none().then_some(Self {
            read_at: &run.read_at,
            plain: &run.plain,
            with_noise: &run.with_noise,
        })
    }
}

/// The means over `curves` (every one read at the same steps), the bootstrap drawn from
/// `seed`; `None` without curves or when their steps differ.
pub fn removal_means(curves: &[Curves<'_>], seed: u64) -> Option<RemovalMeans> {
    let first = curves.first()?;
    let n_steps = first.read_at.len();
    let same = curves.iter().all(|c| {
        c.read_at == first.read_at && c.plain.len() == n_steps && c.with_noise.len() == n_steps
    });
    if !same || n_steps == 0 {
        return None;
    }
    // `noise` picks the run: false = plain, true = with S2's noise.
    let value = |c: &Curves<'_>, noise: bool, step: usize| {
        if noise {
            c.with_noise[step]
        } else {
            c.plain[step]
        }
    };
    let mean_at = |noise: bool, step: usize| {
        curves.iter().map(|c| value(c, noise, step)).sum::<f64>() / curves.len() as f64
    };
    let per_step = |noise: bool| (0..n_steps).map(|s| mean_at(noise, s)).collect();
    let last = n_steps - 1;
    let estimate = |noise: bool, label: &str| {
        let values: Vec<f64> = curves.iter().map(|c| value(c, noise, last)).collect();
        MeanEstimate {
            mean: mean_at(noise, last),
            interval: bootstrap_mean_interval(&values, seed, label),
        }
    };
    Some(RemovalMeans {
        n_fakers: curves.len(),
        read_at: first.read_at.to_vec(),
        plain: per_step(false),
        with_noise: per_step(true),
        last_plain: estimate(false, "removal-plain"),
        last_with_noise: estimate(true, "removal-noise"),
    })
}

/// 95% percentile interval of the mean of `values`, resampled with replacement.
fn bootstrap_mean_interval(values: &[f64], seed: u64, label: &str) -> [f64; 2] {
    if values.is_empty() {
        return [0.0, 0.0];
    }
    let mut rng = poser_corpus::rng::Rng::derived(seed, label);
    let mut means: Vec<f64> = (0..BOOTSTRAP_REPLICATES)
        .map(|_| {
            (0..values.len())
                .map(|_| values[rng.below(values.len())])
                .sum::<f64>()
                / values.len() as f64
        })
        .collect();
    means.sort_by(f64::total_cmp);
    let at = |q: f64| means[((q * (means.len() - 1) as f64).round()) as usize];
    [at(0.025), at(0.975)]
}

/// The committed report's means (what a full-setting run of every faker should reproduce).
pub fn report_means(summary: &ReportSummary) -> Option<RemovalMeans> {
    let curves: Vec<Curves<'_>> = summary
        .removal
        .iter()
        .filter_map(Curves::of_summary)
        .collect();
    removal_means(&curves, summary.config.seed)
}

/// A page's "run all fakers" in progress: the jobs and each one's measurement as it arrives. A
/// cancelled run keeps what it finished.
#[derive(Debug, Clone, PartialEq)]
pub struct RemovalRun {
    config: EvaluateConfig,
    jobs: Vec<RemovalJob>,
    measured: Vec<Option<RemovalMeasurement>>,
}

impl RemovalRun {
    /// A run of `jobs` with `config`'s §4 settings.
    pub fn new(config: EvaluateConfig, jobs: Vec<RemovalJob>) -> Self {
        Self {
            measured: vec![None; jobs.len()],
            config,
            jobs,
        }
    }

    /// The run's config.
    pub fn config(&self) -> &EvaluateConfig {
        &self.config
    }

    /// The jobs, in order.
    pub fn jobs(&self) -> &[RemovalJob] {
        &self.jobs
    }

    /// Records job `index`'s measurement; it must be that job's faker.
    pub fn record(
        &mut self,
        index: usize,
        measurement: RemovalMeasurement,
    ) -> Result<(), EngineError> {
        let job = self.jobs.get(index).ok_or_else(|| {
            EngineError::InvalidParameter(format!("§4 job {index} is not in this run"))
        })?;
        if job.faker != measurement.model {
            return Err(EngineError::InvalidParameter(format!(
                "§4 job {index} trains {}, not {}",
                job.faker, measurement.model
            )));
        }
        self.measured[index] = Some(measurement);
        Ok(())
    }

    /// The measurements so far, in job order.
    pub fn finished(&self) -> Vec<&RemovalMeasurement> {
        self.measured.iter().flatten().collect()
    }

    /// Jobs finished.
    pub fn done(&self) -> usize {
        self.measured.iter().filter(|m| m.is_some()).count()
    }

    /// The means over the finished fakers that trained.
    pub fn means(&self) -> Option<RemovalMeans> {
        let curves: Vec<Curves<'_>> = self
            .measured
            .iter()
            .flatten()
            .filter_map(Curves::of_measurement)
            .collect();
        removal_means(&curves, self.config.seed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_shortens_training_keeps_s2_and_reads_at_the_same_fractions() -> Result<(), EngineError>
    {
        let report = EvaluateConfig::paper(8, 0)?;
        let full = removal_config(&report, RunSetting::Full)?;
        let quick = removal_config(&report, RunSetting::Quick)?;
        // The page frame asks `run_config` for the §4 page's strategies and gets the same.
        assert_eq!(
            super::super::walkthrough::run_config(
                &report,
                &[StrategyId::Removal],
                RunSetting::Quick
            )?,
            quick
        );
        assert_eq!(full.strategies, vec![StrategyId::S2, StrategyId::Removal]);
        assert_eq!(full.removal, report.removal);
        assert_eq!(full.layer_sweep.n_prompts, 0);
        // S2 chooses the noise: the quick setting leaves it (and its prompt counts) alone.
        assert_eq!(quick.intoxicate, report.intoxicate);
        assert_eq!(quick.n_curated, report.n_curated);
        assert_eq!(quick.removal.steps, QUICK_REMOVAL_STEPS);
        let fractions = |c: &EvaluateConfig| -> Vec<f64> {
            c.removal
                .read_at
                .iter()
                .map(|&at| at as f64 / c.removal.steps as f64)
                .collect()
        };
        for (quick, full) in fractions(&quick).iter().zip(fractions(&full)) {
            assert!((quick - full).abs() <= 0.5 / QUICK_REMOVAL_STEPS as f64 + 1e-12);
        }
        Ok(())
    }

    #[test]
    fn means_and_interval_cover_the_fakers_and_refuse_mixed_schedules() {
        let read_at = [0, 10];
        let plains = [[0.0, 0.2], [0.0, 0.6], [0.1, 1.0]];
        let noises = [[0.0, 0.5], [0.0, 0.5], [0.1, 0.5]];
        let curves: Vec<Curves<'_>> = plains
            .iter()
            .zip(&noises)
            .map(|(plain, noise)| Curves {
                read_at: &read_at,
                plain,
                with_noise: noise,
            })
            .collect();
        let Some(means) = removal_means(&curves, 0) else {
            panic!("three curves give means");
        };
        assert_eq!(means.n_fakers, 3);
        assert!((means.last_plain.mean - 0.6).abs() < 1e-12);
        let [low, high] = means.last_plain.interval;
        assert!(
            (0.2..0.6).contains(&low) && high > 0.6 && high <= 1.0,
            "{low} {high}"
        );
        // Equal values: no spread.
        assert_eq!(means.last_with_noise.interval, [0.5, 0.5]);
        let other = [0, 5];
        let mixed = [
            curves[0],
            Curves {
                read_at: &other,
                ..curves[1]
            },
        ];
        assert!(removal_means(&mixed, 0).is_none());
        assert!(removal_means(&[], 0).is_none());
    }
}
