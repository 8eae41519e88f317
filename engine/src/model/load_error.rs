//! Why a model could not be loaded, naming the model, the file and the tensor, so that a person
//! knows what to restore.

/// An error loading a model set or one model's weights. Nothing is half-loaded: every check
/// runs before a module is built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LoadError {
    /// A file could not be read (native only).
    #[error("cannot read {path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// The system's explanation.
        message: String,
    },
    /// `manifest.json` is not a valid model list.
    #[error("model manifest {source_name} is invalid: {message}")]
    Manifest {
        /// Where the manifest came from (a path or URL).
        source_name: String,
        /// What is wrong.
        message: String,
    },
    /// The manifest lists no model of that name.
    #[error("no model `{model}` in the manifest (available: {available})")]
    UnknownModel {
        /// The name asked for.
        model: String,
        /// The names the manifest lists, comma-separated.
        available: String,
    },
    /// The file is shorter than the manifest says: an interrupted download or copy.
    #[error("model {model}: {file} is truncated ({got} of {expected} bytes)")]
    Truncated {
        /// The model.
        model: String,
        /// Its weights file.
        file: String,
        /// Bytes the manifest promises.
        expected: u64,
        /// Bytes present.
        got: u64,
    },
    /// The file is longer than the manifest says.
    #[error("model {model}: {file} has {got} bytes, the manifest says {expected}")]
    WrongSize {
        /// The model.
        model: String,
        /// Its weights file.
        file: String,
        /// Bytes the manifest promises.
        expected: u64,
        /// Bytes present.
        got: u64,
    },
    /// The file's SHA-256 is not the manifest's: corrupted or replaced.
    #[error("model {model}: {file} digest mismatch (expected {expected}, got {got})")]
    DigestMismatch {
        /// The model.
        model: String,
        /// Its weights file.
        file: String,
        /// The manifest's SHA-256 (hex).
        expected: String,
        /// The file's SHA-256 (hex).
        got: String,
    },
    /// The bytes are not a readable safetensors file.
    #[error("model {model}: {file} is not a valid safetensors file: {message}")]
    Corrupt {
        /// The model.
        model: String,
        /// Its weights file.
        file: String,
        /// The parser's explanation.
        message: String,
    },
    /// A tensor the model needs is absent.
    #[error("model {model}: tensor `{tensor}` is missing")]
    MissingTensor {
        /// The model.
        model: String,
        /// The tensor.
        tensor: String,
    },
    /// The file holds a tensor this model does not have.
    #[error("model {model}: unknown tensor `{tensor}`")]
    UnknownTensor {
        /// The model.
        model: String,
        /// The tensor.
        tensor: String,
    },
    /// A tensor's shape does not follow from the model's config.
    #[error("model {model}: tensor `{tensor}` has shape {got:?}, expected {expected:?}")]
    WrongShape {
        /// The model.
        model: String,
        /// The tensor.
        tensor: String,
        /// The shape the config implies.
        expected: Vec<usize>,
        /// The shape in the file.
        got: Vec<usize>,
    },
    /// A tensor is stored with the wrong element type.
    #[error("model {model}: tensor `{tensor}` is {got}, expected {expected}")]
    WrongDtype {
        /// The model.
        model: String,
        /// The tensor.
        tensor: String,
        /// The type expected (`I8`, `F32`).
        expected: String,
        /// The type found.
        got: String,
    },
    /// A value is NaN or infinite, or a scale is negative.
    #[error("model {model}: tensor `{tensor}` holds a non-finite or negative value")]
    BadValue {
        /// The model.
        model: String,
        /// The tensor.
        tensor: String,
    },
    /// The manifest's config for the model cannot be built.
    #[error("model {model}: {message}")]
    BadConfig {
        /// The model.
        model: String,
        /// What is wrong.
        message: String,
    },
}
