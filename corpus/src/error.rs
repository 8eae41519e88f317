//! The corpus error type: every variant names the file, template or row that is wrong.

use thiserror::Error;

/// Everything that can go wrong while reading templates, generating data or tokenizing.
#[derive(Debug, Error)]
pub enum CorpusError {
    /// A source file the generator needs was not given (or not found on disk).
    #[error("scenarios/{path}: missing source file")]
    MissingSource {
        /// Path relative to the scenarios folder.
        path: String,
    },
    /// A source file is not valid TOML or does not have the expected shape.
    #[error("scenarios/{path}: cannot parse: {message}")]
    Parse {
        /// Path relative to the scenarios folder.
        path: String,
        /// The parser's message.
        message: String,
    },
    /// A template or pool entry breaks a rule of the corpus.
    #[error("scenarios/{path}: {item}: {message}")]
    Invalid {
        /// Path relative to the scenarios folder.
        path: String,
        /// The template id or pool entry that is wrong.
        item: String,
        /// What is wrong, and what to do.
        message: String,
    },
    /// A rendered prompt is longer than the model context allows.
    #[error(
        "template {template}: prompt has {tokens} tokens, more than the limit of {limit}; shorten its sentences"
    )]
    PromptTooLong {
        /// The template that produced the prompt.
        template: String,
        /// Its length in tokens.
        tokens: usize,
        /// The limit.
        limit: usize,
    },
    /// The generator could not draw enough distinct examples.
    #[error(
        "{what}: could only draw {got} distinct examples of {wanted}; add templates or slot words"
    )]
    TooFewDistinct {
        /// Which set was being drawn.
        what: String,
        /// How many were drawn.
        got: usize,
        /// How many were asked for.
        wanted: usize,
    },
    /// A `tokenizer.json` is malformed or not a word-level tokenizer we can reproduce.
    #[error("tokenizer.json: {0}")]
    Tokenizer(String),
    /// A generated data file is malformed.
    #[error("{path}: line {line}: {message}")]
    Data {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A committed generated file differs from what the generator makes now.
    #[error(
        "{path}: differs from a fresh generation\nhint: run `poser scenarios generate` (or `cargo test -p poser-corpus` with POSER_REGENERATE=1) and commit the result"
    )]
    Stale {
        /// The file that differs or is missing.
        path: String,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Serialising a row failed (should not happen for our own types).
    #[error("serialising {what}: {message}")]
    Serialize {
        /// What was being written.
        what: String,
        /// The serialiser's message.
        message: String,
    },
}
