//! Outputs: side-by-side comparison of saved reports and SVG plots.
pub mod compare;
pub mod plot;
