//! `poser`: Poser Lab's command line. Data goes to stdout, progress and errors to stderr.

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    cli::main()
}

// Native only: blocking on futures and the wall clock are fine outside the browser.
#[cfg(not(target_arch = "wasm32"))]
#[allow(clippy::disallowed_methods)]
mod cli {
    use std::process::ExitCode;
    use std::time::Instant;

    use std::path::PathBuf;

    use clap::{Args, Parser, Subcommand};
    use poser_engine::backend::{BackendKind, cpu_device, init_wgpu_device};
    use poser_engine::warmup::{MatmulSpec, seeded_matmul};

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
            Command::Warmup {
                backend,
                size,
                seed,
                repeat,
                json,
            } => {
                let kind = BackendKind::parse(&backend).ok_or_else(|| {
                    format!("unknown backend `{backend}`\nhint: use `cpu` or `webgpu`")
                })?;
                let device = match kind {
                    BackendKind::Cpu => cpu_device(),
                    BackendKind::WebGpu => {
                        let (device, adapter) =
                            pollster::block_on(init_wgpu_device()).map_err(|error| {
                                format!(
                                    "{error}\nhint: use `--backend cpu` on a machine without a GPU"
                                )
                            })?;
                        eprintln!(
                            "adapter: {} ({}, {})",
                            adapter.name, adapter.device_type, adapter.graphics_api
                        );
                        device
                    }
                };
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
        }
        Ok(())
    }
}
