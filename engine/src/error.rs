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
    /// A file could not be read, written or understood (the message names it and, where it
    /// helps, what to do), or a folder lacks what a step needs.
    #[error("{0}")]
    Files(String),
    /// The zoo pipeline was asked for something it does not have (an unknown persona, a model
    /// without a card), a training run failed, or a shipped zoo disagrees with its cards.
    #[error("{0}")]
    Zoo(String),
    /// A job of a work queue panicked; the queue stopped, and the process goes on.
    #[error("{job} stopped with a panic: {message}")]
    JobPanicked {
        /// What the job was doing, e.g. "measuring saint-0 on truth_and_reward".
        job: String,
        /// The panic's message.
        message: String,
    },
    /// A model or model set could not be loaded.
    #[error(transparent)]
    Load(#[from] crate::model::LoadError),
}
