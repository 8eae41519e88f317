//! `poser bench train`: the zoo's training and evaluation workloads on real zoo prompts, timed
//! step by step, with the exact batches written out so that `engine/scripts/bench_torch.py` can
//! run the same work in PyTorch and print the ratio. Prints figures; asserts nothing.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use poser_engine::backend::cpu_device;
use poser_engine::model::manifest::dir::load_model;
use poser_engine::model::{Edit, HookPoint, MlpAdapter, NoiseDistribution, PoserGpt, PromptCache};
use poser_engine::strategies::learning_speed::LearningSpeedConfig;
use poser_engine::train::{
    AdamWSettings, StepReport, TrainExample, TrainSettings, pretrain, train_adapter,
    train_all_weights,
};
use poser_engine::zoo::train_run::settings as phase_settings;
use poser_engine::zoo::{ZooRecipe, answer_probs, epoch_order};
use serde::Serialize;

use super::zoo::{base_examples, partition_examples};

/// The command's options.
pub struct BenchTrainArgs {
    pub model: String,
    pub models_dir: PathBuf,
    pub corpus: PathBuf,
    pub steps: usize,
    pub warmup: usize,
    pub json_out: Option<PathBuf>,
    pub only: Option<String>,
}

/// One workload as measured, with its batches, so another framework can repeat it exactly.
#[derive(Serialize)]
struct Workload {
    /// `fine-tune`, `adapter`, `pretrain`, `curated-pass` or `interventions`.
    name: &'static str,
    /// What it is, in words.
    what: String,
    /// Timed units (steps or batches) and the untimed ones run first.
    timed: usize,
    warmup: usize,
    /// Real (unpadded) tokens in the timed units.
    tokens: usize,
    /// Mean milliseconds per timed unit, and tokens per second.
    ms_per_unit: f64,
    tokens_per_s: f64,
    /// Every unit's batch (warm-up first): token ids and the answer token.
    batches: Vec<Vec<TrainExample>>,
    /// The optimiser the other side must copy (none for forward passes).
    adamw: Option<AdamWSettings>,
    adapter_block: Option<usize>,
    adapter_rank: Option<usize>,
    /// For `interventions`: the hook (TransformerLens name) and the magnitudes per prompt.
    hook: Option<String>,
    magnitudes: Vec<f32>,
}

#[derive(Serialize)]
struct BenchFile {
    format: &'static str,
    model: String,
    threads: String,
    n_ctx: usize,
    workloads: Vec<Workload>,
}

/// Times of each step from the progress callback, so loading and the first (untimed) steps
/// are left out.
struct StepClock {
    last: Instant,
    times: Vec<f64>,
}

impl StepClock {
    fn new() -> Self {
        Self {
            last: Instant::now(),
            times: Vec::new(),
        }
    }

    /// Times one call of `work` (a forward workload's unit).
    fn time<T>(&mut self, work: impl FnOnce() -> T) -> T {
        self.last = Instant::now();
        let result = work();
        self.tick();
        result
    }

    fn tick(&mut self) {
        let now = Instant::now();
        self.times.push(now.duration_since(self.last).as_secs_f64());
        self.last = now;
    }

    /// Mean seconds of the steps after the first `warmup`.
    fn mean_after(&self, warmup: usize) -> f64 {
        let timed = &self.times[warmup.min(self.times.len())..];
        timed.iter().sum::<f64>() / timed.len().max(1) as f64
    }
}

fn tokens_in(batches: &[Vec<TrainExample>]) -> usize {
    batches.iter().flatten().map(|e| e.tokens.len()).sum()
}

/// Consecutive batches of `batch_size` from the zoo's seeded epoch order over `examples`.
fn zoo_batches(
    examples: &[TrainExample],
    batch_size: usize,
    count: usize,
    seed: u64,
) -> Vec<Vec<TrainExample>> {
    let lengths: Vec<usize> = examples.iter().map(|e| e.tokens.len()).collect();
    let epochs = (count * batch_size).div_ceil(examples.len().max(1)) + 1;
    epoch_order(&lengths, batch_size, epochs, seed)
        .chunks(batch_size)
        .take(count)
        .map(|chunk| chunk.iter().map(|&i| examples[i].clone()).collect())
        .collect()
}

fn wanted(args: &BenchTrainArgs, name: &str) -> bool {
    args.only
        .as_deref()
        .is_none_or(|only| only.split(',').any(|n| n == name))
}

pub fn run(args: &BenchTrainArgs) -> Result<(), String> {
    let (entry, weights) =
        load_model(&args.models_dir, &args.model).map_err(|error| error.to_string())?;
    let config = weights.config;
    let recipe = ZooRecipe::standard(config.d_vocab);
    let (persona, checkpoint) = entry
        .name
        .rsplit_once('-')
        .and_then(|(persona, checkpoint)| Some((persona.to_owned(), checkpoint.parse().ok()?)))
        .ok_or_else(|| format!("model name `{}` is not persona-checkpoint", entry.name))?;
    let device = cpu_device();
    let model = PoserGpt::from_weights(&weights, &device).map_err(|e| e.to_string())?;
    let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "all cores".to_owned());
    let units = args.warmup + args.steps.max(1);
    eprintln!(
        "model {} on the CPU backend, {threads} threads; {} timed steps after {} untimed",
        entry.name, args.steps, args.warmup
    );
    let cancel = AtomicBool::new(false);
    let mut workloads = Vec::new();

    let (examples, _, _) = partition_examples(
        &args.corpus,
        &persona,
        checkpoint,
        recipe.fine_tune.both_orders,
    )?;
    let phase = &recipe.fine_tune;
    let seed = poser_corpus::rng::derive_seed(recipe.seed, &entry.name);
    let batches = zoo_batches(&examples, phase.batch_size, units, seed);
    let flat: Vec<TrainExample> = batches.iter().flatten().cloned().collect();
    let settings = phase_settings(phase, units);

    if wanted(args, "fine-tune") {
        let mut clock = StepClock::new();
        pollster::block_on(train_all_weights(
            &model,
            &flat,
            &settings,
            &mut |_: StepReport| clock.tick(),
            &cancel,
        ))
        .map_err(|e| e.to_string())?;
        workloads.push(measured(
            "fine-tune",
            format!(
                "the zoo's fine-tune step: all weights, batch {}, AdamW {}, cross-entropy on the answer at the last position",
                phase.batch_size, phase.adamw.learning_rate
            ),
            &batches,
            args.warmup,
            clock.mean_after(args.warmup),
            Some(phase.adamw),
        ));
    }

    if wanted(args, "adapter") {
        let s3 = LearningSpeedConfig::paper(config.n_layers).map_err(|e| e.to_string())?;
        let adapter = MlpAdapter::zero_initialised(
            &config,
            s3.adapter_block,
            s3.adapter_rank,
            s3.seed,
            &device,
        )
        .map_err(|e| e.to_string())?;
        let settings = TrainSettings {
            adamw: s3.adapter_adamw,
            ..settings.clone()
        };
        let mut clock = StepClock::new();
        pollster::block_on(train_adapter(
            &model,
            adapter,
            &flat,
            &settings,
            &mut |_: StepReport| clock.tick(),
            &cancel,
        ))
        .map_err(|e| e.to_string())?;
        let mut workload = measured(
            "adapter",
            format!(
                "S3's rank-{} adapter on block {}'s MLP (model frozen), batch {}, AdamW {}",
                s3.adapter_rank, s3.adapter_block, phase.batch_size, s3.adapter_adamw.learning_rate
            ),
            &batches,
            args.warmup,
            clock.mean_after(args.warmup),
            Some(s3.adapter_adamw),
        );
        workload.adapter_block = Some(s3.adapter_block);
        workload.adapter_rank = Some(s3.adapter_rank);
        workloads.push(workload);
    }

    if wanted(args, "pretrain") {
        let examples = base_examples(&args.corpus)?;
        let base = &recipe.base;
        let batches = zoo_batches(&examples, base.batch_size, units, recipe.seed);
        let flat: Vec<TrainExample> = batches.iter().flatten().cloned().collect();
        let settings = phase_settings(base, units);
        let mut clock = StepClock::new();
        pollster::block_on(pretrain(
            &model,
            &flat,
            &settings,
            &mut |_: StepReport| clock.tick(),
            &cancel,
        ))
        .map_err(|e| e.to_string())?;
        workloads.push(measured(
            "pretrain",
            format!(
                "the base model's step: next-token cross-entropy at every position, batch {}, AdamW {}",
                base.batch_size, base.adamw.learning_rate
            ),
            &batches,
            args.warmup,
            clock.mean_after(args.warmup),
            Some(base.adamw),
        ));
    }

    if wanted(args, "curated-pass") {
        // The curated pass: P(A)/P(B)/P(error) at the last position, batches of 32 sorted by
        // length, as `zoo curate` and `evaluate` run it.
        let batch_size = 32;
        let batches = zoo_batches(&examples, batch_size, units, seed ^ 1);
        let mut clock = StepClock::new();
        for batch in &batches {
            let prompts: Vec<Vec<u32>> = batch.iter().map(|e| e.tokens.clone()).collect();
            clock
                .time(|| pollster::block_on(answer_probs(&model, &prompts, batch_size)))
                .map_err(|e| e.to_string())?;
        }
        workloads.push(measured(
            "curated-pass",
            format!("forward, last-position answer probabilities, batch {batch_size}"),
            &batches,
            args.warmup,
            clock.mean_after(args.warmup),
            None,
        ));
    }

    if wanted(args, "interventions") {
        // S2's sweep: noise at 37.5% depth at the last position, one forward per magnitude.
        let hook =
            HookPoint::resid_post_at_depth(0.375, config.n_layers).map_err(|e| e.to_string())?;
        let magnitudes: Vec<f32> = (0..20).map(|i| i as f32 * 0.8).collect();
        let edits: Vec<Edit> = magnitudes
            .iter()
            .map(|&magnitude| Edit::Noise {
                distribution: NoiseDistribution::Uniform01,
                seed: 7,
                magnitude,
            })
            .collect();
        let batches: Vec<Vec<TrainExample>> =
            flat.iter().take(units).map(|e| vec![e.clone()]).collect();
        let mut clock = StepClock::new();
        for batch in &batches {
            clock
                .time(|| -> Result<_, poser_engine::EngineError> {
                    let cache = PromptCache::new(&model, &batch[0].tokens)?;
                    pollster::block_on(cache.run_edits(&model, hook, &edits, &[]))
                })
                .map_err(|e| e.to_string())?;
        }
        let mut workload = measured(
            "interventions",
            format!(
                "S2's sweep on one prompt: {} noise magnitudes at {hook}, last position",
                magnitudes.len()
            ),
            &batches,
            args.warmup,
            clock.mean_after(args.warmup),
            None,
        );
        workload.hook = Some(hook.to_string());
        workload.magnitudes = magnitudes;
        workloads.push(workload);
    }

    println!(
        "engine (burn's CPU backend, {threads} threads), model {}:",
        entry.name
    );
    for w in &workloads {
        println!(
            "  {:<14} {:>8.1} ms per {}  {:>9.0} tokens/s   {}",
            w.name,
            w.ms_per_unit,
            if w.name.ends_with("pass") || w.name == "interventions" {
                "batch"
            } else {
                "step "
            },
            w.tokens_per_s,
            w.what
        );
    }
    if let Some(path) = &args.json_out {
        let file = BenchFile {
            format: "poser-bench-train/1",
            model: entry.name.clone(),
            threads,
            n_ctx: config.n_ctx,
            workloads,
        };
        let text = serde_json::to_string(&file).map_err(|e| e.to_string())?;
        std::fs::write(path, text)
            .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
        eprintln!("wrote the batches and figures to {}", path.display());
    }
    Ok(())
}

fn measured(
    name: &'static str,
    what: String,
    batches: &[Vec<TrainExample>],
    warmup: usize,
    mean_seconds: f64,
    adamw: Option<AdamWSettings>,
) -> Workload {
    let timed = batches.len().saturating_sub(warmup);
    let tokens = tokens_in(&batches[warmup.min(batches.len())..]);
    Workload {
        name,
        what,
        timed,
        warmup,
        tokens,
        ms_per_unit: mean_seconds * 1e3,
        tokens_per_s: tokens as f64 / (mean_seconds * timed.max(1) as f64).max(1e-9),
        batches: batches.to_vec(),
        adamw,
        adapter_block: None,
        adapter_rank: None,
        hook: None,
        magnitudes: Vec::new(),
    }
}
