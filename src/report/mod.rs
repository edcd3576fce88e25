//! Reports: the machine description and the outputs built from measurements.

pub mod machine;
pub mod compare;
pub mod plot;
