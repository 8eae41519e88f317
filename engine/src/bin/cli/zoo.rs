//! `poser zoo`: trains the shared base model and the fine-tuned checkpoints from the committed
//! corpus, measures a checkpoint's behaviour on held-out data, ships, curates and checks the
//! zoo. The pipeline is the library's (`poser_engine::zoo`); this file turns the command's
//! arguments into its calls, prints its progress on stderr and runs `zoo train`'s processes.

use std::path::{Path, PathBuf};
use std::time::Instant;

use poser_engine::EngineError;
use poser_engine::train::{StepReport, TrainExample};
use poser_engine::zoo::ZooRecipe;
use poser_engine::zoo::check_shipped::check_shipped;
use poser_engine::zoo::corpus_files;
use poser_engine::zoo::curate_files::curate_families as curate_from_files;
use poser_engine::zoo::files::ZooProgress;
use poser_engine::zoo::measure_file::measure_weights_file;
use poser_engine::zoo::train_run::{checkpoints_to_train, fine_tune_checkpoint, train_base};

pub use poser_engine::zoo::files::ZooPaths;
pub use poser_engine::zoo::ship::QUANTIZATION_GROUP;

/// Step, loss and ETA on stderr every `every` steps (the ETA from this process's pace, so a
/// resumed run's is right too).
fn progress_printer(what: String, every: usize) -> impl FnMut(StepReport) {
    let started = Instant::now();
    let mut first_step = None;
    move |report: StepReport| {
        let first = *first_step.get_or_insert(report.step);
        if report.step.is_multiple_of(every) || report.step == report.steps || report.step == first
        {
            let elapsed = started.elapsed().as_secs_f64();
            let done_here = (report.step + 1 - first) as f64;
            let eta = elapsed / done_here * (report.steps - report.step) as f64;
            eprintln!(
                "{what}: step {}/{}  loss {:.4}  {:.0} s elapsed, ETA {:.0} s",
                report.step, report.steps, report.loss, elapsed, eta
            );
        }
    }
}

/// The pipeline's progress on stderr: notes as they are, a training run's steps through
/// [`progress_printer`] (every 20 steps).
fn on_stderr() -> impl FnMut(ZooProgress<'_>) {
    let mut steps = None;
    move |progress: ZooProgress<'_>| match progress {
        ZooProgress::Step { run, report } => {
            steps.get_or_insert_with(|| progress_printer(run.to_owned(), 20))(report);
        }
        ZooProgress::Note(note) => eprintln!("{note}"),
    }
}

fn message(error: EngineError) -> String {
    error.to_string()
}

/// The base model's training prompts (see [`corpus_files::base_examples`]).
pub fn base_examples(corpus: &Path) -> Result<Vec<TrainExample>, String> {
    corpus_files::base_examples(corpus).map_err(message)
}

/// A checkpoint's training examples, partition file and its text (see
/// [`corpus_files::partition_examples`]).
pub fn partition_examples(
    corpus: &Path,
    persona: &str,
    checkpoint: u32,
    both_orders: bool,
) -> Result<(Vec<TrainExample>, PathBuf, String), String> {
    corpus_files::partition_examples(corpus, persona, checkpoint, both_orders).map_err(message)
}

/// `poser zoo base`.
pub fn base(paths: &ZooPaths, recipe: &ZooRecipe) -> Result<(), String> {
    train_base(paths, recipe, &mut on_stderr()).map_err(message)
}

/// `poser zoo fine-tune`.
pub fn fine_tune(
    paths: &ZooPaths,
    recipe: &ZooRecipe,
    persona: &str,
    checkpoint: u32,
) -> Result<(), String> {
    fine_tune_checkpoint(paths, recipe, persona, checkpoint, &mut on_stderr()).map_err(message)
}

/// `poser zoo measure`: the behaviour as JSON on stdout.
pub fn measure_file(
    corpus: &Path,
    weights_file: &Path,
    persona: &str,
    on_pool: bool,
    per_prompt: Option<&Path>,
) -> Result<(), String> {
    let measured = measure_weights_file(corpus, weights_file, persona, on_pool, per_prompt)
        .map_err(message)?;
    eprintln!(
        "measured {} prompts in {:.1} s",
        measured.prompts, measured.seconds
    );
    println!(
        "{}",
        serde_json::to_string_pretty(&measured.behaviour).map_err(|e| e.to_string())?
    );
    Ok(())
}

/// `poser zoo train`: the base model if missing, then every missing checkpoint, `jobs`
/// fine-tunes at a time, each a single-threaded `poser zoo fine-tune` process (two processes
/// use two cores better than one process's threads do on models this small). The processes are
/// this command's own (`current_exe` and its argument names), so the pool stays here.
pub fn train_all(paths: &ZooPaths, jobs: usize, only: Option<&str>) -> Result<(), String> {
    let started = Instant::now();
    let exe = std::env::current_exe().map_err(|error| error.to_string())?;
    let run = |args: &[String], log: &Path| -> Result<std::process::Child, String> {
        if let Some(parent) = log.parent() {
            std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        // Appended to, so a resumed checkpoint's log keeps the part before the interruption.
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|e| format!("{}: {e}", log.display()))?;
        std::process::Command::new(&exe)
            .args(args)
            .env("RAYON_NUM_THREADS", "1")
            .stdout(std::process::Stdio::null())
            .stderr(log_file)
            .spawn()
            .map_err(|error| format!("cannot start {}: {error}", exe.display()))
    };
    let common = |extra: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = extra.iter().map(|s| (*s).to_owned()).collect();
        args.extend([
            "--corpus".to_owned(),
            paths.corpus.display().to_string(),
            "--out".to_owned(),
            paths.out.display().to_string(),
        ]);
        args
    };
    if !paths.base_file().exists() {
        eprintln!(
            "training the base model (log: {})",
            paths.out.join("logs/base.txt").display()
        );
        let status = run(&common(&["zoo", "base"]), &paths.out.join("logs/base.txt"))?
            .wait()
            .map_err(|e| e.to_string())?;
        if !status.success() {
            return Err(format!(
                "the base model failed; see {}",
                paths.out.join("logs/base.txt").display()
            ));
        }
        eprintln!(
            "base model done at {:.0} s",
            started.elapsed().as_secs_f64()
        );
    }
    let mut queue = checkpoints_to_train(paths, only);
    queue.reverse();
    let total = queue.len();
    let mut running: Vec<(String, std::process::Child)> = Vec::new();
    let mut done = 0usize;
    let mut failed = Vec::new();
    while !queue.is_empty() || !running.is_empty() {
        while running.len() < jobs.max(1) {
            let Some((name, persona, checkpoint)) = queue.pop() else {
                break;
            };
            let checkpoint = checkpoint.to_string();
            let args = common(&[
                "zoo",
                "fine-tune",
                "--persona",
                persona,
                "--checkpoint",
                &checkpoint,
            ]);
            let child = run(&args, &paths.out.join(format!("logs/{name}.txt")))?;
            running.push((name, child));
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
        let mut still = Vec::new();
        for (name, mut child) in running {
            match child.try_wait().map_err(|e| e.to_string())? {
                Some(status) => {
                    done += 1;
                    let elapsed = started.elapsed().as_secs_f64();
                    if !status.success() {
                        failed.push(name.clone());
                    }
                    eprintln!(
                        "{name} {} ({done}/{total}) at {elapsed:.0} s",
                        if status.success() { "done" } else { "FAILED" }
                    );
                }
                None => still.push((name, child)),
            }
        }
        running = still;
    }
    eprintln!("zoo trained in {:.0} s", started.elapsed().as_secs_f64());
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} checkpoints failed: {}; see {}",
            failed.len(),
            failed.join(", "),
            paths.out.join("logs").display()
        ))
    }
}

/// `poser zoo ship`: the zoo card names this checkout's commit.
pub fn ship(
    paths: &ZooPaths,
    public: &Path,
    only: Option<&str>,
    quantization_group: Option<usize>,
) -> Result<(), String> {
    poser_engine::zoo::ship::ship(
        paths,
        public,
        only,
        quantization_group,
        &super::provenance::git_commit(),
        &mut on_stderr(),
    )
    .map_err(message)
}

/// `poser zoo curate`.
pub fn curate_families(
    corpus: &Path,
    models_dir: &Path,
    out: &Path,
    cache: Option<&Path>,
) -> Result<(), String> {
    curate_from_files(corpus, models_dir, out, cache, &mut on_stderr()).map_err(message)
}

/// `poser zoo check`.
pub fn check(corpus: &Path, models_dir: &Path, retrain: Option<&str>) -> Result<(), String> {
    check_shipped(corpus, models_dir, retrain, &mut on_stderr()).map_err(message)
}
