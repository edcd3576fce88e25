//! Reports: the machine description and the outputs built from measurements.

pub mod compare;
pub mod machine;
pub mod plot;
