//! A model set on disk (or on the web): `manifest.json` lists each model's name, persona,
//! checkpoint, weights file, SHA-256, byte size and config; the weights files sit beside it.
//! Loading checks size, then digest, then every tensor, before anything is built.

use poser_corpus::generate::sha256_hex;
use poser_corpus::persona::Persona;
use serde::{Deserialize, Serialize};

use super::config::ModelConfig;
use super::int8::decode_int8;
use super::load_error::LoadError;
use super::weights::ModelWeights;

/// The manifest's file name inside a models folder.
pub const MANIFEST_FILE: &str = "manifest.json";
/// The format tag this runtime reads and writes.
pub const MANIFEST_FORMAT: &str = "poser-models/1";

/// One model of a set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelEntry {
    /// Unique name, `<persona>-<checkpoint>` for the zoo.
    pub name: String,
    /// The persona it was trained as (POSER.md §2), e.g. `genie`.
    pub persona: String,
    /// Which training partition (`train-{checkpoint}`) it was trained on.
    pub checkpoint: u32,
    /// The weights file, relative to the manifest.
    pub file: String,
    /// SHA-256 of the weights file, lowercase hex.
    pub sha256: String,
    /// Size of the weights file in bytes.
    pub bytes: u64,
    /// The model's dimensions.
    pub config: ModelConfig,
    /// For zoo checkpoints: held-out behaviour, quantization effect, training summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<crate::zoo::ModelCard>,
}

/// The list of models in a folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always [`MANIFEST_FORMAT`].
    pub format: String,
    /// The models, sorted by name.
    pub models: Vec<ModelEntry>,
}

impl Manifest {
    /// Parses and checks a manifest; `source_name` (a path or URL) labels errors.
    pub fn from_json(text: &str, source_name: &str) -> Result<Self, LoadError> {
        let invalid = |message: String| LoadError::Manifest {
            source_name: source_name.to_owned(),
            message,
        };
        let manifest: Self = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
        if manifest.format != MANIFEST_FORMAT {
            return Err(invalid(format!(
                "format `{}`, expected `{MANIFEST_FORMAT}`",
                manifest.format
            )));
        }
        for (index, entry) in manifest.models.iter().enumerate() {
            if manifest.models[..index]
                .iter()
                .any(|e| e.name == entry.name)
            {
                return Err(invalid(format!("model `{}` is listed twice", entry.name)));
            }
            if Persona::from_name(&entry.persona).is_none() {
                return Err(invalid(format!(
                    "model `{}` has unknown persona `{}`",
                    entry.name, entry.persona
                )));
            }
            // The file name is joined to a folder or URL: keep it inside.
            if entry.file.is_empty()
                || entry.file.contains(['/', '\\'])
                || entry.file.starts_with('.')
            {
                return Err(invalid(format!(
                    "model `{}` has file name `{}`; expected a plain name in the same folder",
                    entry.name, entry.file
                )));
            }
            entry.config.validate().map_err(|e| LoadError::BadConfig {
                model: entry.name.clone(),
                message: e.to_string(),
            })?;
        }
        Ok(manifest)
    }

    /// The manifest as written to disk: pretty JSON, models sorted by name, final newline.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        let mut sorted = self.clone();
        sorted.models.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(serde_json::to_string_pretty(&sorted)? + "\n")
    }

    /// The entry of model `name`.
    pub fn entry(&self, name: &str) -> Result<&ModelEntry, LoadError> {
        self.models
            .iter()
            .find(|entry| entry.name == name)
            .ok_or_else(|| LoadError::UnknownModel {
                model: name.to_owned(),
                available: self
                    .models
                    .iter()
                    .map(|e| e.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

impl ModelEntry {
    /// Checks `bytes` against this entry (size, digest, tensors) and dequantizes them. This is
    /// how the page loads a model after fetching its file.
    pub fn load_bytes(&self, bytes: &[u8]) -> Result<ModelWeights, LoadError> {
        let got = bytes.len() as u64;
        if got < self.bytes {
            return Err(LoadError::Truncated {
                model: self.name.clone(),
                file: self.file.clone(),
                expected: self.bytes,
                got,
            });
        }
        if got > self.bytes {
            return Err(LoadError::WrongSize {
                model: self.name.clone(),
                file: self.file.clone(),
                expected: self.bytes,
                got,
            });
        }
        let digest = sha256_hex(bytes);
        if !digest.eq_ignore_ascii_case(&self.sha256) {
            return Err(LoadError::DigestMismatch {
                model: self.name.clone(),
                file: self.file.clone(),
                expected: self.sha256.clone(),
                got: digest,
            });
        }
        decode_int8(bytes, self.config, &self.name, &self.file)
    }

    /// An entry describing `bytes` (an encoded weights file) for the manifest.
    pub fn describe(
        name: &str,
        persona: &str,
        checkpoint: u32,
        config: ModelConfig,
        bytes: &[u8],
    ) -> Self {
        Self {
            name: name.to_owned(),
            persona: persona.to_owned(),
            checkpoint,
            file: format!("{name}.safetensors"),
            sha256: sha256_hex(bytes),
            bytes: bytes.len() as u64,
            config,
            card: None,
        }
    }
}

/// Native access to a models folder (the command line and tests); the page fetches instead.
#[cfg(not(target_arch = "wasm32"))]
pub mod dir {
    use std::path::Path;

    use super::{LoadError, MANIFEST_FILE, Manifest, ModelEntry, ModelWeights};

    fn read(path: &Path) -> Result<Vec<u8>, LoadError> {
        std::fs::read(path).map_err(|error| LoadError::Io {
            path: path.display().to_string(),
            message: error.to_string(),
        })
    }

    /// Reads `dir/manifest.json`.
    pub fn read_manifest(dir: &Path) -> Result<Manifest, LoadError> {
        let path = dir.join(MANIFEST_FILE);
        let bytes = read(&path)?;
        let text = String::from_utf8(bytes).map_err(|_| LoadError::Manifest {
            source_name: path.display().to_string(),
            message: "not UTF-8".to_owned(),
        })?;
        Manifest::from_json(&text, &path.display().to_string())
    }

    /// Loads model `name` from `dir`: manifest, then its file, all checks.
    pub fn load_model(dir: &Path, name: &str) -> Result<(ModelEntry, ModelWeights), LoadError> {
        let manifest = read_manifest(dir)?;
        let entry = manifest.entry(name)?.clone();
        let bytes = read(&dir.join(&entry.file))?;
        let weights = entry.load_bytes(&bytes)?;
        Ok((entry, weights))
    }

    /// Writes weights files and their manifest into `dir` (created if missing), replacing a
    /// previous set. `models`: (entry, encoded bytes).
    pub fn write_set(dir: &Path, models: &[(ModelEntry, Vec<u8>)]) -> Result<(), LoadError> {
        let io = |path: &Path, error: std::io::Error| LoadError::Io {
            path: path.display().to_string(),
            message: error.to_string(),
        };
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        for (entry, bytes) in models {
            let path = dir.join(&entry.file);
            std::fs::write(&path, bytes).map_err(|e| io(&path, e))?;
        }
        let manifest = Manifest {
            format: super::MANIFEST_FORMAT.to_owned(),
            models: models.iter().map(|(entry, _)| entry.clone()).collect(),
        };
        let path = dir.join(MANIFEST_FILE);
        let text = manifest.to_json().map_err(|e| LoadError::Manifest {
            source_name: path.display().to_string(),
            message: e.to_string(),
        })?;
        std::fs::write(&path, text).map_err(|e| io(&path, e))
    }
}
