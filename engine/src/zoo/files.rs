//! What every native step of the zoo pipeline shares: where the corpus and the training outputs
//! are, reading and writing files with the path in every error (atomically where a reader must
//! never see half a file), the progress a step reports, and waiting on the engine's futures.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::EngineError;
use crate::train::StepReport;

/// Where the corpus and the training outputs are.
#[derive(Debug, Clone)]
pub struct ZooPaths {
    /// `scenarios/generated`.
    pub corpus: PathBuf,
    /// Training outputs (float checkpoints and logs).
    pub out: PathBuf,
}

impl ZooPaths {
    /// The base model's f32 weights (`base.safetensors`).
    pub fn base_file(&self) -> PathBuf {
        self.out.join("base.safetensors")
    }

    /// Checkpoint `name`'s f32 weights (`float/NAME.safetensors`).
    pub fn checkpoint_file(&self, name: &str) -> PathBuf {
        self.out.join("float").join(format!("{name}.safetensors"))
    }
}

/// What a step of the pipeline reports while it runs.
#[derive(Debug, Clone, PartialEq)]
pub enum ZooProgress<'a> {
    /// A training step of run `run` (`base` or a checkpoint's name).
    Step {
        /// The run.
        run: &'a str,
        /// The step, its count and its loss.
        report: StepReport,
    },
    /// A line for a person: what was written, kept, resumed, skipped or measured.
    Note(String),
}

/// Reads a text file; the error names it.
pub(crate) fn read_text(path: &Path) -> Result<String, EngineError> {
    std::fs::read_to_string(path)
        .map_err(|error| EngineError::Files(format!("cannot read {}: {error}", path.display())))
}

/// Writes `bytes` to `path`, creating its folder first.
pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> Result<(), EngineError> {
    create_parent(path)?;
    std::fs::write(path, bytes)
        .map_err(|error| EngineError::Files(format!("cannot write {}: {error}", path.display())))
}

fn create_parent(path: &Path) -> Result<(), EngineError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|error| {
            EngineError::Files(format!("cannot create {}: {error}", parent.display()))
        })?;
    }
    Ok(())
}

/// Writes `bytes` to `path` under a temporary name, flushed to disk, then renames it: readers
/// see the old file or the whole new one.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), EngineError> {
    use std::io::Write;
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(format!(".tmp-{}", std::process::id()));
    let temporary = PathBuf::from(temporary);
    create_parent(path)?;
    let cannot = |error: std::io::Error| {
        EngineError::Files(format!("cannot write {}: {error}", path.display()))
    };
    let mut file = std::fs::File::create(&temporary).map_err(cannot)?;
    file.write_all(bytes).map_err(cannot)?;
    file.sync_all().map_err(cannot)?;
    std::fs::rename(&temporary, path).map_err(cannot)?;
    if let Some(parent) = path.parent()
        && let Ok(directory) = std::fs::File::open(parent)
    {
        // The rename itself reaches the disk (where the platform allows syncing a folder).
        let _ = directory.sync_all();
    }
    Ok(())
}

/// A JSON text the pipeline writes or reads could not be made or understood.
pub(crate) fn json_error(error: serde_json::Error) -> EngineError {
    EngineError::Files(error.to_string())
}

/// Whether `--only`'s comma-separated names (none: every checkpoint) include `name`.
pub(crate) fn named_by(only: Option<&str>, name: &str) -> bool {
    only.is_none_or(|only| only.split(',').any(|n| n == name))
}

/// Waits for the engine's future (native only: the zoo pipeline runs on the CPU backend,
/// outside any browser).
#[allow(clippy::disallowed_methods)]
pub(crate) fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    pollster::block_on(future)
}

/// The wall clock, for the seconds the logs and notes report (native only).
#[allow(clippy::disallowed_methods)]
pub(crate) fn clock() -> Instant {
    Instant::now()
}
