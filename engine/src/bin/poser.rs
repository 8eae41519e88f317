//! `poser`: Poser Lab's command line. Data goes to stdout, progress and errors to stderr.

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    cli::main()
}

#[cfg(not(target_arch = "wasm32"))]
mod cli {
    use std::process::ExitCode;
    use std::time::Instant;

    use clap::{Parser, Subcommand};
    use poser_engine::backend::{BackendKind, cpu_device, init_wgpu_device};
    use poser_engine::warmup::{MatmulSpec, seeded_matmul};

    #[derive(Parser)]
    #[command(name = "poser", version, about = "Poser Lab: aligned vs alignment-faking model pairs")]
    struct Cli {
        #[command(subcommand)]
        command: Command,
    }

    #[derive(Subcommand)]
    enum Command {
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
            Command::Warmup { backend, size, seed, repeat, json } => {
                let kind = BackendKind::parse(&backend).ok_or_else(|| {
                    format!("unknown backend `{backend}`\nhint: use `cpu` or `webgpu`")
                })?;
                let device = match kind {
                    BackendKind::Cpu => cpu_device(),
                    BackendKind::WebGpu => {
                        let (device, adapter) = pollster::block_on(init_wgpu_device())
                            .map_err(|error| format!("{error}\nhint: use `--backend cpu` on a machine without a GPU"))?;
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
                    let text = serde_json::to_string_pretty(&summary).map_err(|error| error.to_string())?;
                    println!("{text}");
                } else {
                    println!("sum {:.6}  abs_sum {:.6}  samples {:?}", summary.sum, summary.abs_sum, summary.samples);
                }
                Ok(())
            }
        }
    }
}
