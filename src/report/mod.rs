//! Reports: the machine description and the outputs built from measurements.
//!
//! Bench reports export as JSON ([`json`]), CSV ([`csv`]) and Markdown
//! ([`markdown`]), after hyperfine's `export/` module. [`compare`] sets saved
//! bench or econ reports side by side; [`plot`] draws the economics
//! sensitivity charts as SVG. [`fleet`] sets bench reports and agent books
//! from many hosts side by side.

pub mod atomic;
pub mod compare;
pub mod csv;
pub mod fleet;
pub mod json;
pub mod machine;
pub mod markdown;
#[cfg(feature = "plot")]
pub mod plot;
