//! The engine's error type: each variant names what went wrong in words a person can act on.

/// An error from the engine. Messages say what happened; callers add what to do.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The WebGPU/wgpu device could not be created.
    #[error("could not start the GPU backend: {0}")]
    GpuUnavailable(String),
    /// A device computation failed while reading its result back.
    #[error("reading a result back from the {backend} backend failed: {message}")]
    ReadBack {
        /// The backend that failed, as shown to people.
        backend: String,
        /// The runtime's own explanation.
        message: String,
    },
    /// A tensor had a shape or element type the caller did not expect.
    #[error("unexpected tensor contents: {0}")]
    UnexpectedTensor(String),
    /// A parameter was outside the range the computation accepts.
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
    /// A report disagrees with the files it names (a digest, a pair list).
    #[error("{0}")]
    ReportInputs(String),
    /// A model or model set could not be loaded.
    #[error(transparent)]
    Load(#[from] crate::model::LoadError),
}
