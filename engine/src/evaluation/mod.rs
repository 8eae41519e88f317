//! The whole benchmark over a zoo (issue 7): the strategies' inputs from the corpus, the
//! measurements per (model, family) done once and shared, the scores and pair verdicts derived
//! from them, and the report that holds it all and can be re-checked.
//!
//! - [`inputs`]: curated prompts, oversight versions and concept texts from corpus rows;
//! - [`measure`]: the config and one model's measurements on one family;
//! - [`derive`]: scores per family (behavioural rules, z-scores), verdicts, layer sweeps;
//! - [`report`]: the report's types (`poser-report/1`) and the paper's numbers;
//! - [`verify`]: comparing numbers within a stated tolerance, re-deriving a report;
//! - [`strategies_spec`]: S2 and S4 on a few models described as data (CLI and page);
//! - [`summary`]: what the benchmark and results pages draw of a report, derived from it;
//! - [`page_inputs`]: a family's inputs as the page fetches them (`public/inputs/`);
//! - [`walkthrough`]: the strategy pages' runs: settings, run-all bookkeeping, a pair's scores;
//! - [`removal_run`]: the §4 page's runs: its settings, the fakers' noise, means over fakers;
//! - `files`, `fixture_zoo` (native): reading a zoo from disk, a tiny zoo for tests.

pub mod derive;
#[cfg(not(target_arch = "wasm32"))]
pub mod files;
#[cfg(not(target_arch = "wasm32"))]
pub mod fixture_zoo;
pub mod inputs;
pub mod measure;
pub mod page_inputs;
pub mod removal_run;
pub mod report;
pub mod strategies_spec;
pub mod summary;
pub mod verify;
pub mod walkthrough;

pub use inputs::FamilyInputs;
pub use measure::{EvaluateConfig, ModelMeasurements, Stage, StrategyId, measure_model};
pub use report::{REPORT_FORMAT, Report};
pub use strategies_spec::{StrategiesOutcome, StrategiesSpec};
