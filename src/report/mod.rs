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

/// A figure for text outputs: `-` when absent, else `value` with `digits` significant digits.
pub(crate) fn sig(value: Option<f64>, digits: usize) -> String {
    match value {
        None => "-".into(),
        Some(v) if v == 0.0 || !v.is_finite() => format!("{v}"),
        Some(v) => {
            let magnitude = v.abs().log10().floor() as i32;
            if (-3..6).contains(&magnitude) {
                let decimals = (digits as i32 - 1 - magnitude).max(0) as usize;
                format!("{v:.decimals$}")
            } else {
                format!("{v:.prec$e}", prec = digits.saturating_sub(1))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::sig;

    #[test]
    fn significant_digits() {
        assert_eq!(sig(None, 3), "-");
        assert_eq!(sig(Some(13.5), 3), "13.5");
        assert_eq!(sig(Some(3.75), 3), "3.75");
        assert_eq!(sig(Some(1234.6), 3), "1235");
        assert_eq!(sig(Some(2_700_000.0), 3), "2.70e6");
        assert_eq!(sig(Some(0.000_5), 2), "5.0e-4");
    }
}
