//! Shared helpers for the corpus tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::OnceLock;

use poser_corpus::{DEFAULT_SEED, GeneratedCorpus, generate_corpus, io::read_sources};

/// The repository's `scenarios/` folder.
pub fn scenarios_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

/// The committed generated files.
pub fn generated_dir() -> PathBuf {
    scenarios_dir().join("generated")
}

/// The corpus generated in memory with the default seed (once per test binary).
pub fn corpus() -> &'static GeneratedCorpus {
    static CORPUS: OnceLock<GeneratedCorpus> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let sources = read_sources(&scenarios_dir()).unwrap();
        generate_corpus(&sources, DEFAULT_SEED).unwrap_or_else(|e| panic!("{e}"))
    })
}
