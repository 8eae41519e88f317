//! `poser`: Poser Lab's command line. Data goes to stdout, progress and errors to stderr.

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    keep_freed_memory();
    cli::main()
}

/// Keeps freed memory in the process instead of glibc's default of handing every large block
/// back to the kernel when it is freed: a training step frees and reallocates the same
/// multi-megabyte buffers, and the page faults of getting them back were ~17% of a fine-tune
/// step (issue 24's profile). jemalloc and mimalloc with their default settings also give
/// pages back, and measured no faster.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn keep_freed_memory() {
    // glibc's largest mmap threshold on 64-bit targets (blocks above it are still mapped).
    const MMAP_THRESHOLD: libc::c_int = 32 << 20;
    const TRIM_THRESHOLD: libc::c_int = 1 << 30;
    // SAFETY: `mallopt` only changes allocator settings; it is called before any thread starts.
    // A setting it refuses leaves glibc's default, which is slower but correct.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
    }
}

#[cfg(all(
    not(target_arch = "wasm32"),
    not(all(target_os = "linux", target_env = "gnu"))
))]
fn keep_freed_memory() {}

// Native only: blocking on futures and the wall clock are fine outside the browser.
#[cfg(not(target_arch = "wasm32"))]
#[allow(clippy::disallowed_methods)]
mod cli {
    use std::process::ExitCode;
    use std::time::Instant;

    use std::path::{Path, PathBuf};

    use clap::{Args, Parser, Subcommand};
    use poser_corpus::tokenizer::WordLevelTokenizer;
    use poser_engine::backend::{BackendKind, Device, cpu_device, init_wgpu_device};
    use poser_engine::model::manifest::dir::{load_model, read_manifest, write_set};
    use poser_engine::model::{ForwardRequest, PoserGpt, forward};
    use poser_engine::warmup::{MatmulSpec, seeded_matmul};

    mod bench;
    mod bench_pages;
    mod bench_train;
    mod evaluate;
    mod export_hf;
    mod playground;
    mod provenance;
    mod removal;
    mod zoo;

    #[derive(Parser)]
    #[command(
        name = "poser",
        version,
        about = "Poser Lab: aligned vs alignment-faking model pairs"
    )]
    struct Cli {
        #[command(subcommand)]
        command: Command,
    }

    #[derive(Subcommand)]
    enum Command {
        /// The scenario corpus: generate the data sets from `scenarios/`, print their
        /// statistics, or check that the committed files are what the generator makes.
        Scenarios {
            #[command(subcommand)]
            action: ScenariosAction,
        },
        /// Multiply two seeded matrices on a backend and print a summary of the product (the
        /// page's warm-up computation; browser tests compare against it).
        Warmup {
            /// `cpu` (burn's Flex backend) or `webgpu` (burn's wgpu runtime; natively, Vulkan or Metal).
            #[arg(long, default_value = "cpu")]
            backend: String,
            /// Rows and columns of the square matrices.
            #[arg(long, default_value_t = MatmulSpec::default().size)]
            size: usize,
            /// Seed of the inputs.
            #[arg(long, default_value_t = MatmulSpec::default().seed)]
            seed: u64,
            /// How many times to run it; each run's time goes to stderr (the first includes
            /// kernel compilation on the GPU).
            #[arg(long, default_value_t = 1)]
            repeat: usize,
            /// Print the summary as JSON.
            #[arg(long)]
            json: bool,
        },
        /// Run one prompt (a text file) through a model and print the final token's logits and
        /// P(A), P(B), P(error).
        Forward {
            /// The model's name in the models folder's manifest.
            #[arg(long)]
            model: String,
            /// A file holding the prompt text.
            #[arg(long)]
            text: PathBuf,
            #[command(flatten)]
            models: ModelsArgs,
            /// `cpu` or `webgpu`.
            #[arg(long, default_value = "cpu")]
            backend: String,
            /// Print `{"tokens", "last_logits", "p"}` as JSON.
            #[arg(long)]
            json: bool,
        },
        /// The page's playground on the command line: a pair's probabilities, choices, saliency
        /// and per-fact shares on one scenario of its family, every oversight version, as JSON.
        Playground {
            /// The aligned model's name.
            #[arg(long)]
            aligned: String,
            /// The faker's name.
            #[arg(long)]
            faker: String,
            /// A scenario id; without it, the first of the list.
            #[arg(long)]
            scenario: Option<String>,
            /// Choose the first scenario on which the faker flips with poor oversight and the
            /// aligned model holds.
            #[arg(long)]
            find_flip: bool,
            /// The shipped models.
            #[arg(long, default_value = "public/models")]
            models_dir: PathBuf,
            /// The page's scenario files.
            #[arg(long, default_value = "public/scenarios")]
            scenarios_dir: PathBuf,
            /// The curated sets.
            #[arg(long, default_value = "public/curated")]
            curated_dir: PathBuf,
        },
        /// Timings, not tests: `forward` (throughput, cached interventions) and `train` (the
        /// zoo's training steps and evaluation passes, for `engine/scripts/bench_torch.py`).
        Bench {
            #[command(subcommand)]
            what: BenchWhat,
        },
        /// Fine-tune a model as a spec file describes (method, examples, settings; JSON, see
        /// `poser_engine::train::FineTuneSpec`) and print each step's loss. The page's
        /// `/debug/fine-tune` runs the same spec; browser tests compare the two.
        FineTune {
            /// The model's name in the models folder's manifest.
            #[arg(long)]
            model: String,
            /// The spec file.
            #[arg(long)]
            spec: PathBuf,
            #[command(flatten)]
            models: ModelsArgs,
            /// `cpu` or `webgpu`.
            #[arg(long, default_value = "cpu")]
            backend: String,
            /// Print `{"losses", "cancelled"}` as JSON.
            #[arg(long)]
            json: bool,
        },
        /// Run S2 (intoxicate) and S4 (suspicious concepts) on the models a spec file names
        /// (texts and settings; JSON, see `poser_engine::evaluation::StrategiesSpec`) and print
        /// their results. The page's `/debug/strategies` runs the same spec; browser tests
        /// compare the two.
        Strategies {
            /// The spec file.
            #[arg(long)]
            spec: PathBuf,
            #[command(flatten)]
            models: ModelsArgs,
            /// `cpu` or `webgpu`.
            #[arg(long, default_value = "cpu")]
            backend: String,
            /// Print the results as JSON (`{"intoxicate", "suspicious_concepts"}`).
            #[arg(long)]
            json: bool,
        },
        /// The model zoo: train the base model and the checkpoints, measure their behaviour.
        Zoo {
            #[command(subcommand)]
            action: ZooAction,
        },
        /// Files derived from a report: `summary` writes what the benchmark and results pages
        /// draw (verdict rows, per-model scores, sweeps, §4's curves) with the report's digest.
        Report {
            #[command(subcommand)]
            action: ReportAction,
        },
        /// Write a model as a Hugging Face GPT-2 checkpoint (`config.json`, `model.safetensors`,
        /// `tokenizer.json`, `tokenizer_config.json`) that `transformers` loads as
        /// `GPT2LMHeadModel`.
        ExportHf {
            /// The model's name in the models folder's manifest.
            #[arg(long)]
            model: String,
            /// Output folder (created if missing).
            #[arg(long)]
            out: PathBuf,
            #[command(flatten)]
            models: ModelsArgs,
        },
        /// Run the benchmark over a zoo: every strategy on every (model, family), the pair
        /// verdicts, accuracy with 95% intervals and the layer sweeps; print the table against
        /// the paper's numbers and write the report (progress to stderr).
        Evaluate {
            #[command(flatten)]
            zoo: ZooFolders,
            /// Where the report (JSON) goes.
            #[arg(long)]
            out: Option<PathBuf>,
            /// Seed of every subsample, split, noise draw, pair order and bootstrap (default 0,
            /// or the `--config` file's).
            #[arg(long)]
            seed: Option<u64>,
            /// Only these strategies (comma-separated): confidence, s1, s2, s3, s4, s5, s6a, s6b, s6c, removal (§4; needs s2).
            #[arg(long)]
            only: Option<String>,
            /// Curated prompts per family (default 200).
            #[arg(long)]
            curated_prompts: Option<usize>,
            /// Oversight scenarios per family (default 100).
            #[arg(long)]
            oversight_prompts: Option<usize>,
            /// Curated prompts of the S1/S2 layer sweeps (default 50; 0 turns them off).
            #[arg(long)]
            sweep_prompts: Option<usize>,
            /// S3's AdamW learning rates, `ADAPTER,ALL_WEIGHTS` (default 0.1,0.003), to see how
            /// its verdicts depend on them.
            #[arg(long, value_name = "ADAPTER,ALL_WEIGHTS")]
            s3_learning_rates: Option<String>,
            /// Every setting from this JSON file (a report's `config`, or the settings a strategy
            /// page downloads) instead of the paper's; the options above still override it.
            #[arg(long, value_name = "FILE")]
            config: Option<PathBuf>,
            /// The strategy pages' `quick` setting (fewer prompts, no layer sweep) or `full`
            /// (the default), applied before the count options above.
            #[arg(long, value_name = "quick|full")]
            setting: Option<String>,
            /// Only these families (comma-separated) and their pairs.
            #[arg(long)]
            families: Option<String>,
            /// `cpu` or `webgpu`.
            #[arg(long, default_value = "cpu")]
            backend: String,
        },
        /// §4 with other training settings (the `/strategies/removal` page's run, natively):
        /// train the report's fakers on their own benign answers, plainly and with the noise
        /// S2's rule chose in the report; print each faker's P(aligned action) and the mean.
        Removal {
            #[command(flatten)]
            zoo: ZooFolders,
            /// The report whose S2 noise is injected (and whose settings are the defaults).
            #[arg(long, default_value = "public/reports/zoo.json")]
            report: PathBuf,
            /// Settings from this JSON file (the §4 page's download); its `removal` trains.
            #[arg(long, value_name = "FILE")]
            config: Option<PathBuf>,
            /// Without `--config`: the report's settings in the page's `quick` setting (25
            /// steps) or `full` (the default).
            #[arg(long, value_name = "quick|full")]
            setting: Option<String>,
            /// Only these fakers (comma-separated).
            #[arg(long)]
            fakers: Option<String>,
            /// Only the fakers whose §4 family is one of these (comma-separated).
            #[arg(long)]
            families: Option<String>,
            /// Print the measurements and means as JSON instead of the table.
            #[arg(long)]
            json: bool,
            /// `cpu` or `webgpu`.
            #[arg(long, default_value = "cpu")]
            backend: String,
        },
        /// Re-check a report: the digests of every file it names, then its measurements
        /// recomputed (all, or a seeded sample of (model, family) entries) and every score,
        /// verdict and accuracy re-derived; fails naming each difference beyond 1e-4 absolute
        /// + 1e-4 relative, and every verdict that differs.
        VerifyReport {
            /// The report.
            file: PathBuf,
            #[command(flatten)]
            zoo: ZooFolders,
            /// Recompute only this many (model, family) entries, drawn from `--seed`.
            #[arg(long)]
            sample: Option<usize>,
            /// Seed of the sample.
            #[arg(long, default_value_t = 0)]
            seed: u64,
            /// `cpu` or `webgpu`.
            #[arg(long, default_value = "cpu")]
            backend: String,
        },
        /// Write a tiny zoo (random-weight models of 3 personas, 2 families, curated sets,
        /// `pairs.json`) to try `evaluate` and `verify-report` before the real zoo exists.
        FixtureZoo {
            /// Output folder (`models/` and `curated/` go inside).
            #[arg(long)]
            out: PathBuf,
            /// The corpus the curated sets are taken from.
            #[arg(long, default_value = "scenarios/generated")]
            corpus: PathBuf,
            /// Models per persona.
            #[arg(long, default_value_t = 2)]
            checkpoints: u32,
            /// Scenarios per family (each gives a level-0 and a good-oversight curated prompt).
            #[arg(long, default_value_t = 6)]
            scenarios: usize,
            /// Models of the real zoo's dimensions (8 blocks, d_model 64) instead of tiny ones,
            /// to time an evaluation.
            #[arg(long)]
            zoo_size: bool,
        },
        /// Write the fixture model set (seeded random weights, int8, manifest) used by tests.
        Fixtures {
            /// Output folder.
            #[arg(long, default_value = poser_engine::model::fixtures::FIXTURE_DIR)]
            out: PathBuf,
            /// Fail if the folder differs from a fresh generation instead of writing.
            #[arg(long)]
            check: bool,
        },
    }

    #[derive(Args)]
    struct ModelsArgs {
        /// The folder holding `manifest.json` and the weights files.
        #[arg(long, default_value = "public/models")]
        models_dir: PathBuf,
        /// The tokenizer the models were trained with.
        #[arg(long, default_value = "scenarios/generated/tokenizer.json")]
        tokenizer: PathBuf,
    }

    #[derive(Args)]
    struct ZooFolders {
        /// The models folder (`manifest.json` and the weights files).
        #[arg(long, default_value = "public/models")]
        models: PathBuf,
        /// The curated sets and `pairs.json`.
        #[arg(long, default_value = "public/curated")]
        curated: PathBuf,
        /// The generated corpus (tokenizer, benchmark candidates, concept texts).
        #[arg(long, default_value = "scenarios/generated")]
        corpus: PathBuf,
    }

    impl ZooFolders {
        fn paths(self) -> poser_engine::evaluation::files::ZooPaths {
            poser_engine::evaluation::files::ZooPaths {
                models: self.models,
                curated: self.curated,
                corpus: self.corpus,
            }
        }
    }

    #[derive(Subcommand)]
    enum BenchWhat {
        /// Forward throughput on real prompts, full forwards vs last-position interventions,
        /// on each backend available. Figures, not a test.
        Forward {
            /// A model from the models folder; without it, seeded random weights of the default
            /// (zoo) dimensions, which time the same.
            #[arg(long)]
            model: Option<String>,
            #[command(flatten)]
            models: ModelsArgs,
            /// `cpu`, `webgpu` or `all` (webgpu only where an adapter exists).
            #[arg(long, default_value = "all")]
            backend: String,
            /// How many real prompts to time full forwards on.
            #[arg(long, default_value_t = 64)]
            prompts: usize,
            /// Prompts per forward batch.
            #[arg(long, default_value_t = 16)]
            batch: usize,
            /// Interventions (noise magnitudes) per prompt in the intervention comparison.
            #[arg(long, default_value_t = 20)]
            variants: usize,
            /// Prompts in the intervention comparison.
            #[arg(long, default_value_t = 4)]
            intervention_prompts: usize,
            /// The generated corpus the prompts come from.
            #[arg(long, default_value = "scenarios/generated")]
            corpus: PathBuf,
        },
        /// Each strategy page's "run all pairs" natively (the config the page derives from the
        /// committed report's), timed page by page.
        Pages {
            #[command(flatten)]
            zoo: ZooFolders,
            /// The report whose config the pages start from.
            #[arg(long, default_value = "public/reports/zoo.json")]
            report: PathBuf,
            /// `quick` or `full`.
            #[arg(long, default_value = "quick")]
            setting: String,
            /// Comma-separated pages (default all): confidence, s1, s2, s3, s4, s5, s6.
            #[arg(long)]
            pages: Option<String>,
            /// Only these families (comma-separated).
            #[arg(long)]
            families: Option<String>,
            /// `cpu` or `webgpu`.
            #[arg(long, default_value = "cpu")]
            backend: String,
        },
        /// Train on the zoo's own batches, step by step, on the CPU backend, and write the batches
        /// with the figures so `engine/scripts/bench_torch.py` repeats the same work in PyTorch.
        Train {
            /// A shipped model (its persona's training partition gives the fine-tune batches).
            #[arg(long, default_value = "saint-0")]
            model: String,
            #[command(flatten)]
            models: ModelsArgs,
            /// The generated corpus (training partitions and pools).
            #[arg(long, default_value = "scenarios/generated")]
            corpus: PathBuf,
            /// Timed steps (or batches) per workload.
            #[arg(long, default_value_t = 20)]
            steps: usize,
            /// Untimed steps first (allocation, first-use costs).
            #[arg(long, default_value_t = 3)]
            warmup: usize,
            /// Write the batches and figures here (JSON, `poser-bench-train/1`).
            #[arg(long)]
            json_out: Option<PathBuf>,
            /// Comma-separated workloads (default all): fine-tune, adapter, pretrain,
            /// curated-pass, interventions.
            #[arg(long)]
            only: Option<String>,
        },
    }

    #[derive(Subcommand)]
    enum ZooAction {
        /// Pretrain the shared base model (next-token loss on training-pool prompts).
        Base {
            #[command(flatten)]
            paths: ZooPathArgs,
            /// Override the recipe's epochs (for quick experiments).
            #[arg(long)]
            epochs: Option<usize>,
        },
        /// Fine-tune one checkpoint, `<persona>-<checkpoint>`, from the base model.
        FineTune {
            #[command(flatten)]
            paths: ZooPathArgs,
            /// The persona, e.g. `genie`.
            #[arg(long)]
            persona: String,
            /// The training partition, 0 to 5.
            #[arg(long)]
            checkpoint: u32,
            /// Override the recipe's epochs (for quick experiments).
            #[arg(long)]
            epochs: Option<usize>,
            /// Override the recipe's learning rate (for quick experiments).
            #[arg(long)]
            learning_rate: Option<f64>,
            /// Override whether the embeddings stay at the base model's values.
            #[arg(long)]
            freeze_embeddings: Option<bool>,
            /// Override whether each scenario is trained in both A/B orders.
            #[arg(long)]
            both_orders: Option<bool>,
            /// Override the recipe's prompts per step (for quick experiments).
            #[arg(long)]
            batch_size: Option<usize>,
            /// Override the recipe's AdamW weight decay (for quick experiments).
            #[arg(long)]
            weight_decay: Option<f32>,
            /// Warm up over this share of the steps, then decay the learning rate to zero on a
            /// cosine (overrides the recipe's schedule; 0 warms up for one step).
            #[arg(long)]
            warmup_cosine: Option<f32>,
        },
        /// Measure a float checkpoint on its persona's held-out prompts; prints JSON.
        Measure {
            /// The corpus folder.
            #[arg(long, default_value = "scenarios/generated")]
            corpus: PathBuf,
            /// The f32 weights file.
            #[arg(long)]
            weights: PathBuf,
            /// The persona it was trained as.
            #[arg(long)]
            persona: String,
            /// Measure on the training pool instead of the held-out sets (to tell fitting from
            /// generalising).
            #[arg(long)]
            on_pool: bool,
            /// Also write P(A), P(B), P(error) of every prompt, one JSON line each, in file order.
            #[arg(long)]
            per_prompt: Option<PathBuf>,
        },
        /// The whole pipeline: the base model if missing, then every missing checkpoint.
        Train {
            #[command(flatten)]
            paths: ZooPathArgs,
            /// Fine-tunes run at once, each a single-threaded process.
            #[arg(long, default_value_t = 2)]
            jobs: usize,
            /// Only these checkpoints (comma-separated names), e.g. for a pilot.
            #[arg(long)]
            only: Option<String>,
        },
        /// Quantize the trained checkpoints to int8, measure what ships, and write the models,
        /// the manifest (with each model's card), the tokenizer and `ZOO.md`.
        Ship {
            #[command(flatten)]
            paths: ZooPathArgs,
            /// The folder the page loads models from.
            #[arg(long, default_value = "public/models")]
            public: PathBuf,
            /// Only these checkpoints (comma-separated names).
            #[arg(long)]
            only: Option<String>,
            /// Values per int8 scale within a matrix row (0: one scale per row).
            #[arg(long, default_value_t = zoo::QUANTIZATION_GROUP)]
            quantization_group: usize,
        },
        /// Curate each family's benchmark candidates with the shipped models: curated sets,
        /// counts and curves, the confidence baseline before and after, and the pair list.
        Curate {
            /// The corpus folder.
            #[arg(long, default_value = "scenarios/generated")]
            corpus: PathBuf,
            /// The shipped models.
            #[arg(long, default_value = "public/models")]
            models_dir: PathBuf,
            /// Where the curated sets, `summary.json` and `pairs.json` go.
            #[arg(long, default_value = "public/curated")]
            out: PathBuf,
            /// Where each (family, model)'s scores are cached, keyed by the model's digest and
            /// the candidates' and tokenizer's, so new checkpoints are the only ones scored.
            #[arg(long, default_value = "target/zoo/curate-cache")]
            cache: PathBuf,
            /// Score every model afresh, neither reading nor writing the cache.
            #[arg(long)]
            no_cache: bool,
        },
        /// Check a shipped zoo without retraining it: digests, each model's answers on its
        /// card's subsample, and 20 steps of retraining one checkpoint.
        Check {
            /// The corpus folder.
            #[arg(long, default_value = "scenarios/generated")]
            corpus: PathBuf,
            /// The shipped models.
            #[arg(long, default_value = "public/models")]
            models_dir: PathBuf,
            /// The checkpoint to retrain (default: the first in the manifest).
            #[arg(long)]
            retrain: Option<String>,
        },
        /// Print the recipe as JSON.
        Recipe,
    }

    #[derive(Args)]
    struct ZooPathArgs {
        /// The corpus folder.
        #[arg(long, default_value = "scenarios/generated")]
        corpus: PathBuf,
        /// Where training writes (float checkpoints and logs).
        #[arg(long, default_value = "target/zoo")]
        out: PathBuf,
    }

    fn run_zoo(action: ZooAction) -> Result<(), String> {
        use poser_engine::zoo::ZooRecipe;
        let recipe = |epochs: Option<usize>, base: bool| {
            let mut recipe = ZooRecipe::standard(poser_engine::model::config::DEFAULT_VOCAB);
            if let Some(epochs) = epochs {
                if base {
                    recipe.base.epochs = epochs;
                } else {
                    recipe.fine_tune.epochs = epochs;
                }
            }
            recipe
        };
        let paths = |args: ZooPathArgs| zoo::ZooPaths {
            corpus: args.corpus,
            out: args.out,
        };
        match action {
            ZooAction::Base {
                paths: args,
                epochs,
            } => zoo::base(&paths(args), &recipe(epochs, true)),
            ZooAction::FineTune {
                paths: args,
                persona,
                checkpoint,
                epochs,
                learning_rate,
                freeze_embeddings,
                both_orders,
                batch_size,
                weight_decay,
                warmup_cosine,
            } => {
                let mut recipe = recipe(epochs, false);
                if let Some(warmup_fraction) = warmup_cosine {
                    recipe.fine_tune.adamw.schedule =
                        poser_engine::train::LearningRateSchedule::WarmupCosine { warmup_fraction };
                }
                if let Some(size) = batch_size {
                    recipe.fine_tune.batch_size = size;
                }
                if let Some(decay) = weight_decay {
                    recipe.fine_tune.adamw.weight_decay = decay;
                }
                if let Some(both) = both_orders {
                    recipe.fine_tune.both_orders = both;
                }
                if let Some(freeze) = freeze_embeddings {
                    recipe.fine_tune.freeze_embeddings = freeze;
                }
                if let Some(rate) = learning_rate {
                    recipe.fine_tune.adamw.learning_rate = rate;
                }
                zoo::fine_tune(&paths(args), &recipe, &persona, checkpoint)
            }
            ZooAction::Measure {
                corpus,
                weights,
                persona,
                on_pool,
                per_prompt,
            } => zoo::measure_file(&corpus, &weights, &persona, on_pool, per_prompt.as_deref()),
            ZooAction::Train {
                paths: args,
                jobs,
                only,
            } => zoo::train_all(&paths(args), jobs, only.as_deref()),
            ZooAction::Ship {
                paths: args,
                public,
                only,
                quantization_group,
            } => zoo::ship(
                &paths(args),
                &public,
                only.as_deref(),
                (quantization_group > 0).then_some(quantization_group),
            ),
            ZooAction::Curate {
                corpus,
                models_dir,
                out,
                cache,
                no_cache,
            } => zoo::curate_families(&corpus, &models_dir, &out, (!no_cache).then_some(&*cache)),
            ZooAction::Check {
                corpus,
                models_dir,
                retrain,
            } => zoo::check(&corpus, &models_dir, retrain.as_deref()),
            ZooAction::Recipe => {
                let text = serde_json::to_string_pretty(&recipe(None, true))
                    .map_err(|error| error.to_string())?;
                println!("{text}");
                Ok(())
            }
        }
    }

    #[derive(Subcommand)]
    enum ReportAction {
        /// Write the page's summary of a report (compact JSON), or check that it is current.
        Summary {
            /// The report, as the repository spells its path (the summary records it).
            #[arg(long, default_value = "public/reports/zoo.json")]
            report: PathBuf,
            /// The summary to write.
            #[arg(long, default_value = "public/reports/zoo-summary.json")]
            out: PathBuf,
            /// Write nothing; fail if `--out` differs from a fresh summary.
            #[arg(long)]
            check: bool,
        },
        /// Write each family's strategy inputs for the page (`public/inputs/<family>.json`:
        /// what `poser evaluate` measures, tokenized), or check that they are current.
        Inputs {
            #[command(flatten)]
            zoo: ZooFolders,
            /// The folder to write.
            #[arg(long, default_value = "public/inputs")]
            out: PathBuf,
            /// Write nothing; fail if a file differs from a fresh build.
            #[arg(long)]
            check: bool,
        },
    }

    fn run_report(action: ReportAction) -> Result<(), String> {
        match action {
            ReportAction::Inputs { zoo, out, check } => {
                let written =
                    poser_engine::evaluation::files::export_page_inputs(&zoo.paths(), &out, check)
                        .map_err(|error| error.to_string())?;
                let bytes: usize = written.iter().map(|(_, bytes)| bytes).sum();
                let verb = if check { "match" } else { "written to" };
                eprintln!(
                    "page inputs of {} families ({bytes} bytes) {verb} {}",
                    written.len(),
                    out.display()
                );
                Ok(())
            }
            ReportAction::Summary { report, out, check } => {
                let label = report.display().to_string();
                let summary =
                    poser_engine::evaluation::files::summarize_report_file(&report, &label)
                        .and_then(|summary| summary.to_json())
                        .map_err(|error| error.to_string())?;
                if check {
                    let committed = std::fs::read_to_string(&out).unwrap_or_default();
                    if committed != summary {
                        return Err(format!(
                            "{} is not the summary of {}\nhint: run `poser report summary` and commit the result",
                            out.display(),
                            report.display()
                        ));
                    }
                    eprintln!("{} is the summary of {}", out.display(), report.display());
                    return Ok(());
                }
                std::fs::write(&out, &summary)
                    .map_err(|error| format!("cannot write {}: {error}", out.display()))?;
                eprintln!(
                    "wrote {} ({} bytes) from {}",
                    out.display(),
                    summary.len(),
                    report.display()
                );
                Ok(())
            }
        }
    }

    #[derive(Subcommand)]
    enum ScenariosAction {
        /// Write the data sets (and the tokenizer) to the output folder and print statistics.
        Generate {
            #[command(flatten)]
            corpus: CorpusArgs,
            /// Output folder.
            #[arg(long, default_value = "scenarios/generated")]
            out: PathBuf,
        },
        /// Generate in memory and print statistics; writes nothing.
        Stats {
            #[command(flatten)]
            corpus: CorpusArgs,
            /// Print the statistics as JSON.
            #[arg(long)]
            json: bool,
        },
        /// Fail if the committed data sets differ from a fresh generation.
        Check {
            #[command(flatten)]
            corpus: CorpusArgs,
            /// The folder holding the committed data sets.
            #[arg(long, default_value = "scenarios/generated")]
            out: PathBuf,
        },
        /// Write each family's scenarios for the page's playground (every version's facts and
        /// actions) from the generated benchmark candidates.
        ExportPage {
            /// The generated corpus.
            #[arg(long, default_value = "scenarios/generated")]
            generated: PathBuf,
            /// Where the page's files go.
            #[arg(long, default_value = "public/scenarios")]
            out: PathBuf,
            /// Compare with the files there instead of writing; fail if they differ.
            #[arg(long)]
            check: bool,
        },
    }

    #[derive(Args)]
    struct CorpusArgs {
        /// The folder with the templates and word lists.
        #[arg(long, default_value = "scenarios")]
        scenarios: PathBuf,
        /// Seed of the whole corpus (template splits, slot fillings, partitions).
        #[arg(long, default_value_t = poser_corpus::DEFAULT_SEED)]
        seed: u64,
    }

    pub fn main() -> ExitCode {
        match run(Cli::parse()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("error: {message}");
                ExitCode::FAILURE
            }
        }
    }

    fn run(cli: Cli) -> Result<(), String> {
        match cli.command {
            Command::Scenarios { action } => run_scenarios(action),
            Command::Forward {
                model,
                text,
                models,
                backend,
                json,
            } => run_forward(&model, &text, &models, &backend, json),
            Command::Fixtures { out, check } => run_fixtures(&out, check),
            Command::Playground {
                aligned,
                faker,
                scenario,
                find_flip,
                models_dir,
                scenarios_dir,
                curated_dir,
            } => playground::run(
                &playground::PlaygroundPaths {
                    models_dir: &models_dir,
                    scenarios_dir: &scenarios_dir,
                    curated_dir: &curated_dir,
                },
                &aligned,
                &faker,
                scenario.as_deref(),
                find_flip,
            ),
            Command::Evaluate {
                zoo,
                out,
                seed,
                only,
                curated_prompts,
                oversight_prompts,
                sweep_prompts,
                s3_learning_rates,
                config,
                setting,
                families,
                backend,
            } => {
                let kind = parse_backend(&backend)?;
                let device = make_device(kind)?;
                let args = evaluate::EvaluateArgs {
                    paths: zoo.paths(),
                    out,
                    seed,
                    only,
                    curated_prompts,
                    oversight_prompts,
                    sweep_prompts,
                    s3_learning_rates,
                    config,
                    setting,
                    families,
                };
                evaluate::run_evaluate(&args, kind.as_str(), &device, None)
            }
            Command::Removal {
                zoo,
                report,
                config,
                setting,
                fakers,
                families,
                json,
                backend,
            } => {
                let kind = parse_backend(&backend)?;
                let device = make_device(kind)?;
                removal::run(
                    &removal::RemovalArgs {
                        paths: zoo.paths(),
                        report,
                        config,
                        setting,
                        fakers,
                        families,
                        json,
                    },
                    &device,
                )
            }
            Command::VerifyReport {
                file,
                zoo,
                sample,
                seed,
                backend,
            } => {
                let kind = parse_backend(&backend)?;
                let device = make_device(kind)?;
                evaluate::run_verify(&file, &zoo.paths(), sample, seed, &device, kind.as_str())
            }
            Command::FixtureZoo {
                out,
                corpus,
                checkpoints,
                scenarios,
                zoo_size,
            } => evaluate::run_fixture_zoo(&corpus, &out, checkpoints, scenarios, zoo_size),
            Command::FineTune {
                model,
                spec,
                models,
                backend,
                json,
            } => run_fine_tune(&model, &spec, &models, &backend, json),
            Command::Strategies {
                spec,
                models,
                backend,
                json,
            } => run_strategies(&spec, &models, &backend, json),
            Command::Zoo { action } => run_zoo(action),
            Command::Report { action } => run_report(action),
            Command::ExportHf { model, out, models } => {
                export_hf::run(&models.models_dir, &models.tokenizer, &model, &out)
            }
            Command::Bench {
                what:
                    BenchWhat::Forward {
                        model,
                        models,
                        backend,
                        prompts,
                        batch,
                        variants,
                        intervention_prompts,
                        corpus,
                    },
            } => bench::run(&bench::BenchArgs {
                model,
                models_dir: models.models_dir,
                tokenizer: models.tokenizer,
                backend,
                prompts,
                batch,
                variants,
                intervention_prompts,
                corpus,
            }),
            Command::Bench {
                what:
                    BenchWhat::Pages {
                        zoo,
                        report,
                        setting,
                        pages,
                        families,
                        backend,
                    },
            } => {
                let kind = parse_backend(&backend)?;
                let device = make_device(kind)?;
                bench_pages::run(
                    &bench_pages::BenchPagesArgs {
                        paths: zoo.paths(),
                        report,
                        setting,
                        pages,
                        families,
                    },
                    kind.as_str(),
                    &device,
                )
            }
            Command::Bench {
                what:
                    BenchWhat::Train {
                        model,
                        models,
                        corpus,
                        steps,
                        warmup,
                        json_out,
                        only,
                    },
            } => bench_train::run(&bench_train::BenchTrainArgs {
                model,
                models_dir: models.models_dir,
                corpus,
                steps,
                warmup,
                json_out,
                only,
            }),
            Command::Warmup {
                backend,
                size,
                seed,
                repeat,
                json,
            } => {
                let kind = parse_backend(&backend)?;
                let device = make_device(kind)?;
                let spec = MatmulSpec { size, seed };
                let mut summary = None;
                for run in 1..=repeat.max(1) {
                    let started = Instant::now();
                    let result = pollster::block_on(seeded_matmul(&device, spec, kind.as_str()))
                        .map_err(|error| error.to_string())?;
                    eprintln!(
                        "run {run}: {size}×{size} matmul on {} in {:.3} ms",
                        kind.as_str(),
                        started.elapsed().as_secs_f64() * 1e3
                    );
                    summary = Some(result);
                }
                let summary = summary.ok_or("no run was made")?;
                if json {
                    let text = serde_json::to_string_pretty(&summary)
                        .map_err(|error| error.to_string())?;
                    println!("{text}");
                } else {
                    println!(
                        "sum {:.6}  abs_sum {:.6}  samples {:?}",
                        summary.sum, summary.abs_sum, summary.samples
                    );
                }
                Ok(())
            }
        }
    }

    fn parse_backend(name: &str) -> Result<BackendKind, String> {
        BackendKind::parse(name)
            .ok_or_else(|| format!("unknown backend `{name}`\nhint: use `cpu` or `webgpu`"))
    }

    fn make_device(kind: BackendKind) -> Result<Device, String> {
        match kind {
            BackendKind::Cpu => Ok(cpu_device()),
            BackendKind::WebGpu => {
                let (device, adapter) =
                    pollster::block_on(init_wgpu_device()).map_err(|error| {
                        format!("{error}\nhint: use `--backend cpu` on a machine without a GPU")
                    })?;
                eprintln!(
                    "adapter: {} ({}, {}{})",
                    adapter.name,
                    adapter.device_type,
                    adapter.graphics_api,
                    if adapter.is_fallback {
                        ", software"
                    } else {
                        ""
                    }
                );
                Ok(device)
            }
        }
    }

    fn read_tokenizer(path: &Path) -> Result<WordLevelTokenizer, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
        WordLevelTokenizer::from_json(&text).map_err(|error| format!("{}: {error}", path.display()))
    }

    fn run_forward(
        model_name: &str,
        text: &Path,
        models: &ModelsArgs,
        backend: &str,
        json: bool,
    ) -> Result<(), String> {
        let kind = parse_backend(backend)?;
        let (entry, weights) =
            load_model(&models.models_dir, model_name).map_err(|error| {
                format!(
                    "{error}\nhint: pass `--models-dir` to use another folder (the test fixtures: `--models-dir {}`)",
                    poser_engine::model::fixtures::FIXTURE_DIR
                )
            })?;
        let tokenizer = read_tokenizer(&models.tokenizer)?;
        if tokenizer.vocab_size() != entry.config.d_vocab {
            return Err(format!(
                "model {} has a vocabulary of {}, the tokenizer {} has {}\nhint: pass the tokenizer the model was trained with (`--tokenizer`)",
                entry.name,
                entry.config.d_vocab,
                models.tokenizer.display(),
                tokenizer.vocab_size()
            ));
        }
        let prompt_text = std::fs::read_to_string(text)
            .map_err(|error| format!("cannot read {}: {error}", text.display()))?;
        let tokens = tokenizer.encode(&prompt_text);
        let device = make_device(kind)?;
        let model = PoserGpt::from_weights(&weights, &device).map_err(|e| e.to_string())?;
        let outputs = pollster::block_on(forward(
            &model,
            std::slice::from_ref(&tokens),
            &ForwardRequest::default(),
        ))
        .map_err(|error| format!("{}: {error}", text.display()))?;
        let output = outputs.into_iter().next().ok_or("no output")?;
        if json {
            // A struct, not `json!`, to keep the documented key order.
            #[derive(serde::Serialize)]
            struct ForwardJson<'a> {
                tokens: &'a [u32],
                last_logits: &'a [f32],
                p: poser_engine::model::AnswerProbs,
            }
            let value = ForwardJson {
                tokens: &output.tokens,
                last_logits: &output.last_logits,
                p: output.p,
            };
            println!(
                "{}",
                serde_json::to_string(&value).map_err(|error| error.to_string())?
            );
        } else {
            println!(
                "{}: {} tokens  P(A) {:.4}  P(B) {:.4}  P(error) {:.4}",
                entry.name,
                output.tokens.len(),
                output.p.a,
                output.p.b,
                output.p.error
            );
        }
        Ok(())
    }

    /// Reads a JSON spec file; `what` names the kind in the error ("a fine-tuning spec").
    fn read_spec<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> Result<T, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
        serde_json::from_str(&text)
            .map_err(|error| format!("{} is not {what}: {error}", path.display()))
    }

    fn run_fine_tune(
        model_name: &str,
        spec_path: &Path,
        models: &ModelsArgs,
        backend: &str,
        json: bool,
    ) -> Result<(), String> {
        use poser_engine::train::FineTuneSpec;
        let kind = parse_backend(backend)?;
        let spec: FineTuneSpec = read_spec(spec_path, "a fine-tuning spec")?;
        let (_, weights) =
            load_model(&models.models_dir, model_name).map_err(|error| error.to_string())?;
        let tokenizer = read_tokenizer(&models.tokenizer)?;
        let device = make_device(kind)?;
        let model = PoserGpt::from_weights(&weights, &device).map_err(|e| e.to_string())?;
        let started = Instant::now();
        let cancel = std::sync::atomic::AtomicBool::new(false);
        let mut progress = |report: poser_engine::train::StepReport| {
            eprintln!(
                "step {}/{}  loss {:.6}  {:.1} s",
                report.step,
                report.steps,
                report.loss,
                started.elapsed().as_secs_f64()
            );
        };
        let outcome = pollster::block_on(spec.run(&model, &tokenizer, &mut progress, &cancel))
            .map_err(|error| format!("{}: {error}", spec_path.display()))?;
        if json {
            println!(
                "{}",
                serde_json::to_string(&outcome).map_err(|error| error.to_string())?
            );
        } else {
            let losses: Vec<String> = outcome.losses.iter().map(|l| format!("{l:.6}")).collect();
            println!("losses: {}", losses.join(" "));
        }
        Ok(())
    }

    fn run_strategies(
        spec_path: &Path,
        models: &ModelsArgs,
        backend: &str,
        json: bool,
    ) -> Result<(), String> {
        use poser_engine::evaluation::StrategiesSpec;
        use poser_engine::strategies::FamilyModel;
        let kind = parse_backend(backend)?;
        let spec: StrategiesSpec = read_spec(spec_path, "a strategies spec")?;
        let tokenizer = read_tokenizer(&models.tokenizer)?;
        let device = make_device(kind)?;
        let mut loaded = Vec::with_capacity(spec.models.len());
        for name in &spec.models {
            let (_, weights) =
                load_model(&models.models_dir, name).map_err(|error| error.to_string())?;
            loaded.push(PoserGpt::from_weights(&weights, &device).map_err(|e| e.to_string())?);
        }
        let family: Vec<FamilyModel<'_>> = spec
            .models
            .iter()
            .zip(&loaded)
            .map(|(name, model)| FamilyModel { name, model })
            .collect();
        let started = Instant::now();
        let outcome = pollster::block_on(spec.run(&family, &tokenizer))
            .map_err(|error| format!("{}: {error}", spec_path.display()))?;
        eprintln!(
            "S2 ×{} and S4 on {} models in {:.1} s",
            spec.intoxicate.len(),
            family.len(),
            started.elapsed().as_secs_f64()
        );
        if json {
            println!(
                "{}",
                serde_json::to_string(&outcome).map_err(|error| error.to_string())?
            );
        } else {
            for run in &outcome.intoxicate {
                println!(
                    "S2 {:?} at {}, magnitude {}:",
                    run.distribution, run.hook, run.magnitude.value
                );
                for model in &run.models {
                    println!("  {:<24} score {:+.6}", model.model, model.score);
                }
            }
            let concepts = &outcome.suspicious_concepts;
            println!("S4 at {}:", concepts.hook);
            for model in &concepts.models {
                println!("  {:<24} score {:+.6}", model.model, model.score);
            }
        }
        Ok(())
    }

    fn run_fixtures(out: &Path, check: bool) -> Result<(), String> {
        use poser_engine::model::fixtures::fixture_set;
        let set = fixture_set().map_err(|error| error.to_string())?;
        if check {
            let manifest = read_manifest(out).map_err(|error| error.to_string())?;
            let fresh: Vec<_> = set.iter().map(|(entry, _)| entry.clone()).collect();
            let files_match = set.iter().all(|(entry, bytes)| {
                std::fs::read(out.join(&entry.file)).is_ok_and(|on_disk| on_disk == *bytes)
            });
            if manifest.models != fresh || !files_match {
                return Err(format!(
                    "{} differs from a fresh generation\nhint: run `poser fixtures`",
                    out.display()
                ));
            }
            eprintln!("{} matches a fresh generation", out.display());
            return Ok(());
        }
        write_set(out, &set).map_err(|error| error.to_string())?;
        for (entry, bytes) in &set {
            eprintln!("wrote {} ({} bytes)", entry.file, bytes.len());
        }
        eprintln!("wrote {}", out.display());
        Ok(())
    }

    fn run_scenarios(action: ScenariosAction) -> Result<(), String> {
        use poser_corpus::io;
        match action {
            ScenariosAction::Generate { corpus, out } => {
                let stats = io::generate(&corpus.scenarios, &out, corpus.seed)
                    .map_err(|error| error.to_string())?;
                eprintln!("wrote {}", out.display());
                println!("{stats}");
            }
            ScenariosAction::Stats { corpus, json } => {
                let stats =
                    io::stats(&corpus.scenarios, corpus.seed).map_err(|error| error.to_string())?;
                if json {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&stats).map_err(|error| error.to_string())?
                    );
                } else {
                    println!("{stats}");
                }
            }
            ScenariosAction::Check { corpus, out } => {
                io::check(&corpus.scenarios, &out, corpus.seed)
                    .map_err(|error| error.to_string())?;
                eprintln!("{} matches a fresh generation", out.display());
            }
            ScenariosAction::ExportPage {
                generated,
                out,
                check,
            } => {
                let families = io::export_page_scenarios(&generated, &out, check)
                    .map_err(|error| error.to_string())?;
                let verb = if check { "match" } else { "written to" };
                eprintln!(
                    "page scenarios of {families} families {verb} {}",
                    out.display()
                );
            }
        }
        Ok(())
    }
}
