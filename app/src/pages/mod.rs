//! One module per page of the walkthrough.

mod benchmark;
mod debug;
mod not_found;
mod overview;
pub mod playground;
mod removal_page;
mod results;
pub mod strategies;
mod strategy_page;
mod system_page;
mod zoo_page;

pub use benchmark::BenchmarkPage;
pub use debug::{DebugFineTune, DebugForward, DebugPanic, DebugStrategies};
pub use not_found::NotFound;
pub use overview::Overview;
pub use playground::Playground;
pub use results::ResultsPage;
pub use strategies::StrategiesIndex;
pub use strategy_page::StrategyPage;
pub use system_page::SystemPage;
pub use zoo_page::ZooPage;
