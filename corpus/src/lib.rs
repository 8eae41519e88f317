//! Poser Lab's scenario corpus: our own role-play templates (in `scenarios/`) → seeded,
//! versioned data sets with the Poser field names, and the word-level tokenizer.
//!
//! The core ([`generate_corpus`], [`WordLevelTokenizer`]) is pure Rust with no file system,
//! clock or threads, so it builds and runs in wasm32. The [`io`] module is the thin native
//! layer the `poser scenarios` command calls: [`io::generate`], [`io::stats`], [`io::check`].
//!
//! The data model, the oversight-pool decision and the file layout are described in
//! `scenarios/README.md`.
//!
//! Command line (wired in the engine's `poser` binary):
//!
//! - `poser scenarios generate [--scenarios DIR] [--out DIR] [--seed N]` →
//!   [`io::generate`]`(scenarios, out, seed)`: writes `scenarios/generated/`, prints [`Stats`];
//! - `poser scenarios stats [--scenarios DIR] [--seed N] [--json]` → [`io::stats`]: generates in
//!   memory, writes nothing; `Stats` implements `Display` (a table) and `Serialize`;
//! - `poser scenarios check [--scenarios DIR] [--out DIR] [--seed N]` → [`io::check`]: fails
//!   with [`CorpusError::Stale`] (and a `hint:`) when committed files differ from a fresh run.
//!
//! Defaults: `--scenarios scenarios`, `--out scenarios/generated`, `--seed` [`DEFAULT_SEED`].

pub mod error;
pub mod example;
pub mod generate;
pub mod io;
pub mod overlap;
pub mod page_scenarios;
pub mod persona;
pub mod rng;
pub mod scenario;
pub mod sources;
pub mod stats;
pub mod tokenizer;

pub use error::CorpusError;
pub use example::{ConceptText, Example, Fact, Partition, examples_from_jsonl};
pub use generate::{
    CorpusData, DEFAULT_SEED, GENERATOR_VERSION, GeneratedCorpus, GeneratedFile, Manifest, Sizes,
    generate_corpus, generate_corpus_with,
};
pub use persona::{Family, Persona};
pub use scenario::{MAX_PROMPT_TOKENS, Variant};
pub use sources::{SourceFile, source_paths};
pub use stats::Stats;
pub use tokenizer::WordLevelTokenizer;
