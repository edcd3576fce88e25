//! Typed errors for the economics models and scenario loading.

use std::path::PathBuf;

/// Everything that can go wrong while building or evaluating a scenario.
///
/// Each variant's message is one line and names the offending field, so the
/// CLI can print it as is.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EconError {
    /// A numeric input is out of its allowed range (negative price, zero
    /// difficulty, percentage outside 0–100, NaN, ...).
    #[error("invalid `{field}`: {reason} (got {value})")]
    InvalidInput {
        /// Dotted field name, as in the scenario file (`mining.difficulty`).
        field: String,
        /// What the field must be.
        reason: &'static str,
        /// The rejected value, formatted.
        value: String,
    },
    /// A required input that no layer set.
    #[error("`{field}` is not set: {hint}")]
    Missing {
        /// Dotted field name.
        field: &'static str,
        /// How to set it.
        hint: &'static str,
    },
    /// An input that was given (by a flag or a scenario file) but that the
    /// scenario does not use.
    #[error("{input} is not used: {reason}")]
    NotUsed {
        /// The flag, or the scenario file and key, that set it.
        input: String,
        /// Why it is not used.
        reason: &'static str,
    },
    /// A GPU preset name that is not in [`crate::economics::presets::GPUS`].
    #[error("unknown GPU preset `{name}` (known: {known})")]
    UnknownGpu {
        /// The name given.
        name: String,
        /// Comma-separated list of known preset keys.
        known: String,
    },
    /// A model preset name that is not in [`crate::economics::presets::MODELS`].
    #[error("unknown model preset `{name}` (known: {known})")]
    UnknownModel {
        /// The name given.
        name: String,
        /// Comma-separated list of known preset keys.
        known: String,
    },
    /// The precision does not exist on the chosen GPU (e.g. FP8 on A100).
    #[error(
        "`inference.precision`: {precision} is not supported by {gpu} (no {precision} tensor cores)"
    )]
    UnsupportedPrecision {
        /// Precision name.
        precision: String,
        /// GPU preset display name.
        gpu: String,
    },
    /// The weights fit, but the KV cache of one sequence of the requested
    /// token count does not fit in the memory left.
    #[error(
        "`inference.input_tokens` + `inference.output_tokens` = {tokens}: one sequence's KV cache \
         ({kv_gb:.1} GB) does not fit in the {room_gb:.1} GB left beside {model}'s weights on \
         {gpus} x {gpu}; lower the token counts or raise `inference.gpus_per_replica`"
    )]
    ContextDoesNotFit {
        /// Model display name.
        model: String,
        /// GPU display name.
        gpu: String,
        /// GPUs per replica.
        gpus: u32,
        /// Input plus output tokens of one sequence.
        tokens: u64,
        /// KV cache of one such sequence, GB.
        kv_gb: f64,
        /// Memory usable for the KV cache, GB.
        room_gb: f64,
    },
    /// The model's weights do not fit in the GPUs' memory.
    #[error(
        "`inference.model`: {model} weights ({weights_gb:.1} GB) do not fit in {gpus} x {gpu} ({memory_gb:.0} GB each); raise `inference.gpus_per_replica`"
    )]
    ModelDoesNotFit {
        /// Model display name.
        model: String,
        /// GPU display name.
        gpu: String,
        /// GPUs per replica.
        gpus: u32,
        /// Weight bytes in GB.
        weights_gb: f64,
        /// Memory per GPU in GB.
        memory_gb: f64,
    },
    /// A scenario file could not be read.
    #[error("cannot read scenario {}", path.display())]
    ReadScenario {
        /// Path given.
        path: PathBuf,
        /// Underlying I/O error.
        source: std::io::Error,
    },
    /// A scenario file is not valid TOML or has an unknown / mistyped key.
    #[error("scenario {}: {message}", path.display())]
    ParseScenario {
        /// Path given.
        path: PathBuf,
        /// The TOML parser's message, flattened to one line.
        message: String,
    },
    /// A bench report could not be read or understood.
    #[error("bench report {}: {message}", path.display())]
    BenchReport {
        /// Path given.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
}

/// Result alias for this module.
pub type Result<T, E = EconError> = std::result::Result<T, E>;

fn invalid(field: &str, reason: &'static str, value: f64) -> EconError {
    EconError::InvalidInput {
        field: field.to_owned(),
        reason,
        value: format!("{value}"),
    }
}

/// Checks that `value` is a finite number ≥ 0.
pub(crate) fn non_negative(field: &str, value: f64) -> Result<f64> {
    if !value.is_finite() {
        return Err(invalid(field, "must be a finite number", value));
    }
    if value < 0.0 {
        return Err(invalid(field, "must not be negative", value));
    }
    Ok(value)
}

/// Checks that `value` is a finite number > 0.
pub(crate) fn positive(field: &str, value: f64) -> Result<f64> {
    non_negative(field, value)?;
    if value == 0.0 {
        return Err(invalid(field, "must be greater than zero", value));
    }
    Ok(value)
}

/// Checks that `value` is a finite number (any sign).
pub(crate) fn finite(field: &str, value: f64) -> Result<f64> {
    if !value.is_finite() {
        return Err(invalid(field, "must be a finite number", value));
    }
    Ok(value)
}

/// Checks that `value` is a percentage in 0–100.
pub(crate) fn percent(field: &str, value: f64) -> Result<f64> {
    non_negative(field, value)?;
    if value > 100.0 {
        return Err(invalid(
            field,
            "must be a percentage between 0 and 100",
            value,
        ));
    }
    Ok(value)
}

/// Longest mining projection, in months (100 years): the projection holds one
/// row per month, and no difficulty or price trend means anything beyond this.
pub const MAX_HORIZON_MONTHS: u32 = 1200;

/// Checks a horizon length against [`MAX_HORIZON_MONTHS`].
pub(crate) fn horizon_months(field: &str, months: u32) -> Result<u32> {
    if months > MAX_HORIZON_MONTHS {
        return Err(invalid(
            field,
            "must be at most 1200 months (100 years)",
            f64::from(months),
        ));
    }
    Ok(months)
}

/// Checks that `value` is ≥ 1 (a PUE).
pub(crate) fn at_least_one(field: &str, value: f64) -> Result<f64> {
    non_negative(field, value)?;
    if value < 1.0 {
        return Err(invalid(field, "must be at least 1.0", value));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_field() {
        let e = percent("mining.pool_fee_pct", 120.0).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid `mining.pool_fee_pct`: must be a percentage between 0 and 100 (got 120)"
        );
        let e = positive("mining.difficulty", 0.0).unwrap_err();
        assert!(
            e.to_string()
                .contains("`mining.difficulty`: must be greater than zero")
        );
        let e = non_negative("power.electricity_usd_per_kwh", -0.1).unwrap_err();
        assert!(e.to_string().contains("must not be negative"));
        let e = non_negative("x", f64::NAN).unwrap_err();
        assert!(e.to_string().contains("finite"));
        assert!(at_least_one("power.pue", 0.9).is_err());
        assert!(finite("site.sell_back", -5.0).is_ok());
    }
}
