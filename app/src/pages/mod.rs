//! One module per page of the walkthrough.

mod debug;
mod not_found;
mod overview;
pub mod playground;
mod system_page;
mod zoo_page;

pub use debug::{DebugFineTune, DebugForward, DebugPanic, DebugStrategies};
pub use not_found::NotFound;
pub use overview::Overview;
pub use playground::Playground;
pub use system_page::SystemPage;
pub use zoo_page::ZooPage;
