//! hashwatt: measured SHA-256d mining versus AI inference for a GPU's idle time.
//!
//! (The `econ` branch carries only the modules it owns; the lead's `lib.rs`
//! declares the full module list.)
#![warn(missing_docs)]

pub mod economics;
pub mod report;
