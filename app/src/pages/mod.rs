//! One module per page of the walkthrough.

mod debug;
mod not_found;
mod overview;
mod system_page;

pub use debug::{DebugFineTune, DebugForward, DebugPanic, DebugStrategies};
pub use not_found::NotFound;
pub use overview::Overview;
pub use system_page::SystemPage;
