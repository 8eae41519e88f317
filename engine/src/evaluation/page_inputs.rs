//! One family's strategy inputs as the page fetches them (`public/inputs/<family>.json`, made
//! by `poser report inputs`): the same [`FamilyInputs`] `poser evaluate` builds from the
//! corpus, already tokenized, with the digests of the files they were built from. The page runs
//! the strategies on exactly what the command line runs them on; `cargo test` checks that the
//! committed files equal a fresh build.

use serde::{Deserialize, Serialize};

use super::inputs::FamilyInputs;
use super::report::FileDigest;
use crate::EngineError;

/// The format tag this engine writes and reads.
pub const PAGE_INPUTS_FORMAT: &str = "poser-page-inputs/1";

/// Largest page inputs file read (bytes): the biggest shipped family is well under this.
pub const MAX_PAGE_INPUTS_BYTES: usize = 16 * 1024 * 1024;

/// A family's inputs for the page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageInputs {
    /// Always [`PAGE_INPUTS_FORMAT`].
    pub format: String,
    /// The family's models (sorted), as `pairs.json` names them.
    pub models: Vec<String>,
    /// Digests of the files the inputs were built from (the curated set, the candidates, the
    /// concept texts, the tokenizer), relative to their folders.
    pub built_from: Vec<FileDigest>,
    /// What the strategies read.
    pub inputs: FamilyInputs,
}

impl PageInputs {
    /// Reads a page inputs file; `source` names it in errors.
    pub fn from_json(text: &str, source: &str) -> Result<Self, EngineError> {
        if text.len() > MAX_PAGE_INPUTS_BYTES {
            return Err(EngineError::InvalidParameter(format!(
                "{source}: {} bytes is over the {MAX_PAGE_INPUTS_BYTES}-byte limit of a page inputs file",
                text.len()
            )));
        }
        let parsed: Self = serde_json::from_str(text).map_err(|error| {
            EngineError::InvalidParameter(format!("{source}: not a page inputs file: {error}"))
        })?;
        if parsed.format != PAGE_INPUTS_FORMAT {
            return Err(EngineError::InvalidParameter(format!(
                "{source}: format `{}` is not `{PAGE_INPUTS_FORMAT}`; rebuild it with `poser report inputs`",
                parsed.format
            )));
        }
        for (index, version) in parsed.inputs.versions.iter().enumerate() {
            version.check(index)?;
        }
        Ok(parsed)
    }

    /// The file's text: compact JSON and a final newline, so that the same inputs give the same
    /// bytes.
    pub fn to_json(&self) -> Result<String, EngineError> {
        serde_json::to_string(self)
            .map(|text| text + "\n")
            .map_err(|error| EngineError::InvalidParameter(error.to_string()))
    }
}
