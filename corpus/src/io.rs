//! The thin file-system layer: read the sources, write or check the generated files. The
//! generator itself ([`crate::generate_corpus`]) never touches the disk, so it also runs in wasm.

use std::path::{Path, PathBuf};

use crate::error::CorpusError;
use crate::generate::{GeneratedCorpus, generate_corpus};
use crate::sources::{SourceFile, source_paths};
use crate::stats::Stats;

/// Output of `corpus/scripts/check_tokenizer.py`, kept beside the generated files; not made
/// by the generator, so [`check`] leaves it alone.
pub const TOKENIZER_CHECK_PATH: &str = "tokenizer-check.json";

fn io_error(path: &Path, source: std::io::Error) -> CorpusError {
    CorpusError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Reads every source file under `scenarios_dir` (the `scenarios/` folder).
pub fn read_sources(scenarios_dir: &Path) -> Result<Vec<SourceFile>, CorpusError> {
    source_paths()
        .into_iter()
        .map(|path| {
            let full = scenarios_dir.join(&path);
            match std::fs::read_to_string(&full) {
                Ok(text) => Ok(SourceFile { path, text }),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    Err(CorpusError::MissingSource { path })
                }
                Err(e) => Err(io_error(&full, e)),
            }
        })
        .collect()
}

/// Generates the corpus in memory from the sources under `scenarios_dir`.
pub fn generate_in_memory(scenarios_dir: &Path, seed: u64) -> Result<GeneratedCorpus, CorpusError> {
    generate_corpus(&read_sources(scenarios_dir)?, seed)
}

/// Writes every file of `corpus` under `out_dir`, creating folders as needed.
pub fn write(corpus: &GeneratedCorpus, out_dir: &Path) -> Result<(), CorpusError> {
    for file in &corpus.files {
        let full = out_dir.join(&file.path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io_error(parent, e))?;
        }
        std::fs::write(&full, file.contents.as_bytes()).map_err(|e| io_error(&full, e))?;
    }
    Ok(())
}

/// `poser scenarios generate`: reads `scenarios_dir`, writes every file under `out_dir`
/// (normally `scenarios/generated`), and returns the statistics.
pub fn generate(scenarios_dir: &Path, out_dir: &Path, seed: u64) -> Result<Stats, CorpusError> {
    let corpus = generate_in_memory(scenarios_dir, seed)?;
    write(&corpus, out_dir)?;
    Ok(corpus.stats)
}

/// `poser scenarios stats`: generates in memory and returns the statistics (writes nothing).
pub fn stats(scenarios_dir: &Path, seed: u64) -> Result<Stats, CorpusError> {
    Ok(generate_in_memory(scenarios_dir, seed)?.stats)
}

fn list_files(dir: &Path, prefix: &str, out: &mut Vec<String>) -> Result<(), CorpusError> {
    let entries = std::fs::read_dir(dir).map_err(|e| io_error(dir, e))?;
    let mut names: Vec<(String, PathBuf)> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| io_error(dir, e))?;
        names.push((
            entry.file_name().to_string_lossy().into_owned(),
            entry.path(),
        ));
    }
    names.sort();
    for (name, path) in names {
        let relative = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        if path.is_dir() {
            list_files(&path, &relative, out)?;
        } else {
            out.push(relative);
        }
    }
    Ok(())
}

/// Fails with [`CorpusError::Stale`] on the first file under `out_dir` that differs from
/// `corpus`, is missing, or is left over from an older generation.
pub fn compare(corpus: &GeneratedCorpus, out_dir: &Path) -> Result<(), CorpusError> {
    for file in &corpus.files {
        let full = out_dir.join(&file.path);
        let stale = || CorpusError::Stale {
            path: full.display().to_string(),
        };
        let on_disk = std::fs::read(&full).map_err(|_| stale())?;
        if on_disk != file.contents.as_bytes() {
            return Err(stale());
        }
    }
    let mut present = Vec::new();
    list_files(out_dir, "", &mut present)?;
    for path in present {
        let known = path == TOKENIZER_CHECK_PATH || corpus.files.iter().any(|f| f.path == path);
        if !known {
            return Err(CorpusError::Stale {
                path: out_dir.join(path).display().to_string(),
            });
        }
    }
    Ok(())
}

/// `poser scenarios check` (what CI runs): regenerates in memory and compares with the files
/// under `out_dir` (see [`compare`]).
pub fn check(scenarios_dir: &Path, out_dir: &Path, seed: u64) -> Result<Stats, CorpusError> {
    let corpus = generate_in_memory(scenarios_dir, seed)?;
    compare(&corpus, out_dir)?;
    Ok(corpus.stats)
}

/// Writes (or, with `check`, compares) each family's page scenario file,
/// `out_dir/<family>.json`, made from `generated_dir/families/<family>/benchmark-candidates.jsonl`.
/// Returns the number of families.
pub fn export_page_scenarios(
    generated_dir: &Path,
    out_dir: &Path,
    check: bool,
) -> Result<usize, CorpusError> {
    use crate::example::examples_from_jsonl;
    use crate::page_scenarios::page_scenarios;
    let families_dir = generated_dir.join("families");
    let mut families: Vec<String> = std::fs::read_dir(&families_dir)
        .map_err(|error| io_error(&families_dir, error))?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .collect();
    families.sort();
    if !check {
        std::fs::create_dir_all(out_dir).map_err(|error| io_error(out_dir, error))?;
    }
    for family in &families {
        let path = families_dir.join(family).join("benchmark-candidates.jsonl");
        let text = std::fs::read_to_string(&path).map_err(|error| io_error(&path, error))?;
        let rows = examples_from_jsonl(&text, &path.display().to_string())?;
        let exported = page_scenarios(family, &rows)?.to_json()?;
        let target = out_dir.join(format!("{family}.json"));
        if check {
            let committed = std::fs::read_to_string(&target).unwrap_or_default();
            if committed != exported {
                return Err(CorpusError::Stale {
                    path: format!(
                        "{} (made by `poser scenarios export-page`)",
                        target.display()
                    ),
                });
            }
        } else {
            std::fs::write(&target, exported).map_err(|error| io_error(&target, error))?;
        }
    }
    Ok(families.len())
}
