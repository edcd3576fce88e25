//! The machine a report was measured on: defined in [`crate::bench::machine`]
//! (a bench report embeds it) and re-exported here for readers of reports.

pub use crate::bench::machine::{GIT_COMMIT, Machine};
