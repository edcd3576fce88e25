//! Unit newtypes, the one definition for the whole crate: energy meters,
//! bench reports, the hardware table and the money model all use these.
//!
//! Every quantity that crosses a function boundary carries its unit in its
//! type, so a price per kWh can never be passed where a price per MWh is
//! expected. Each type is a thin wrapper over `f64` (serialised transparently
//! as a bare number) with a [`get`](Watts::get) accessor and a `Display` that
//! prints the unit: with the precision asked for (`{:.1}`), else with the
//! unit's default (two decimals for watts, three for joules, the shortest
//! exact form for the rest).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

macro_rules! unit {
    ($(#[$doc:meta])* $name:ident, $label:literal) => {
        unit!($(#[$doc])* $name, $label, None);
    };
    ($(#[$doc:meta])* $name:ident, $label:literal, $default_precision:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub f64);

        impl $name {
            /// Wraps a raw value in this unit.
            pub const fn new(value: f64) -> Self {
                Self(value)
            }

            /// The raw value in this unit.
            pub const fn get(self) -> f64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let precision: Option<usize> = $default_precision;
                match f.precision().or(precision) {
                    Some(p) => write!(f, "{:.*} {}", p, self.0, $label),
                    None => write!(f, "{} {}", self.0, $label),
                }
            }
        }
    };
}

unit!(
    /// Electrical power in watts.
    Watts,
    "W",
    Some(2)
);
unit!(
    /// Energy in joules.
    Joules,
    "J",
    Some(3)
);
unit!(
    /// Hash rate in SHA-256d hashes per second (H/s).
    HashRate,
    "H/s"
);
unit!(
    /// Generation throughput in output tokens per second.
    TokensPerSecond,
    "tok/s"
);
unit!(
    /// An amount of US dollars.
    Usd,
    "USD"
);
unit!(
    /// A rate of US dollars per hour (revenue, cost or net).
    UsdPerHour,
    "USD/h"
);
unit!(
    /// An electricity price in US dollars per kilowatt-hour.
    UsdPerKwh,
    "USD/kWh"
);
unit!(
    /// An electricity price or revenue in US dollars per megawatt-hour.
    UsdPerMwh,
    "USD/MWh"
);
unit!(
    /// A token price in US dollars per million output tokens.
    UsdPerMtok,
    "USD/Mtok"
);
unit!(
    /// An amount of bitcoin (1 BTC = 100,000,000 satoshis).
    Btc,
    "BTC"
);
unit!(
    /// Bitcoin network difficulty (dimensionless; difficulty 1 needs about
    /// 2^32 hashes per block).
    Difficulty,
    ""
);
unit!(
    /// A percentage, 0 to 100 where a field says so.
    Percent,
    "%"
);

impl Watts {
    /// Converts to kilowatts.
    pub fn kilowatts(self) -> f64 {
        self.0 / 1000.0
    }

    /// The energy drawn at this power for `duration`.
    pub fn over(self, duration: Duration) -> Joules {
        Joules(self.0 * duration.as_secs_f64())
    }
}

impl Joules {
    /// The average power of this energy spread over `duration` (`None` for an empty window).
    pub fn per(self, duration: Duration) -> Option<Watts> {
        let s = duration.as_secs_f64();
        (s > 0.0).then(|| Watts(self.0 / s))
    }

    /// From microjoules (RAPL's unit).
    pub fn from_micro(uj: u64) -> Joules {
        Joules(uj as f64 * 1e-6)
    }

    /// From millijoules (NVML's unit).
    pub fn from_milli(mj: u64) -> Joules {
        Joules(mj as f64 * 1e-3)
    }
}

impl UsdPerKwh {
    /// The same price per megawatt-hour.
    pub fn per_mwh(self) -> UsdPerMwh {
        UsdPerMwh(self.0 * 1000.0)
    }
}

impl UsdPerMwh {
    /// The same price per kilowatt-hour.
    pub fn per_kwh(self) -> UsdPerKwh {
        UsdPerKwh(self.0 / 1000.0)
    }
}

impl UsdPerHour {
    /// Dollars per day at this hourly rate.
    pub fn per_day(self) -> Usd {
        Usd(self.0 * 24.0)
    }
}

impl Percent {
    /// The percentage as a fraction (50 % → 0.5).
    pub fn fraction(self) -> f64 {
        self.0 / 100.0
    }
}

impl Btc {
    /// Number of satoshis in one bitcoin (`COIN` in Bitcoin Core
    /// `src/consensus/amount.h`).
    pub const SATS_PER_BTC: u64 = 100_000_000;

    /// Converts a satoshi amount to bitcoin (exact for any real subsidy).
    pub fn from_sats(sats: u64) -> Self {
        Btc(sats as f64 / Self::SATS_PER_BTC as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(UsdPerKwh(0.08).per_mwh(), UsdPerMwh(80.0));
        assert_eq!(UsdPerMwh(45.0).per_kwh(), UsdPerKwh(0.045));
        assert_eq!(Watts(700.0).kilowatts(), 0.7);
        assert_eq!(Percent(2.5).fraction(), 0.025);
        assert_eq!(Btc::from_sats(312_500_000), Btc(3.125));
        assert_eq!(UsdPerHour(1.5).per_day(), Usd(36.0));
        assert_eq!(format!("{:.1}", Watts(699.96)), "700.0 W");
        assert_eq!(format!("{}", Watts(35.0)), "35.00 W");
        assert_eq!(format!("{}", Joules(1.5)), "1.500 J");
        assert_eq!(format!("{}", UsdPerMwh(34.0)), "34 USD/MWh");
        assert_eq!(Watts(250.0).over(Duration::from_secs(4)), Joules(1000.0));
        assert_eq!(
            Joules(1000.0).per(Duration::from_millis(2500)),
            Some(Watts(400.0))
        );
        assert_eq!(Joules(1.0).per(Duration::ZERO), None);
        assert_eq!(Joules::from_micro(2_500_000), Joules(2.5));
        assert_eq!(Joules::from_milli(1_500), Joules(1.5));
    }

    #[test]
    fn serde_is_transparent() {
        let json = serde_json::to_string(&Watts(350.0)).unwrap_or_default();
        assert_eq!(json, "350.0");
    }
}

/// The one number formatter of the text outputs (bench text and Markdown,
/// econ Markdown, compare and fleet tables): `-` when absent, `n/a` when not
/// finite, else `digits` significant digits, written plainly from 0.001 up
/// to 10⁹ (whole numbers keep all their digits; trailing zeros after the
/// point are dropped) and in scientific notation outside.
pub fn figure(value: Option<f64>, digits: usize) -> String {
    let Some(v) = value else {
        return "-".into();
    };
    if !v.is_finite() {
        return "n/a".into();
    }
    let a = v.abs();
    if a == 0.0 {
        return "0".into();
    }
    let digits = digits.max(1);
    if !(1e-3..1e9).contains(&a) {
        return format!("{v:.prec$e}", prec = digits - 1);
    }
    let magnitude = a.log10().floor() as i32;
    let decimals = (digits as i32 - 1 - magnitude).max(0) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

#[cfg(test)]
mod figure_tests {
    use super::figure;

    #[test]
    fn figures_read_the_same_everywhere() {
        assert_eq!(figure(None, 3), "-");
        assert_eq!(figure(Some(f64::NAN), 3), "n/a");
        assert_eq!(figure(Some(0.0), 3), "0");
        assert_eq!(figure(Some(13.5), 3), "13.5");
        assert_eq!(figure(Some(9.5), 4), "9.5");
        assert_eq!(figure(Some(3.125), 4), "3.125");
        assert_eq!(figure(Some(10_928.4), 4), "10928");
        assert_eq!(figure(Some(1_850_000.0), 4), "1850000");
        assert_eq!(figure(Some(-0.25), 4), "-0.25");
        assert_eq!(figure(Some(1.5e10), 4), "1.500e10");
        assert_eq!(figure(Some(0.000_5), 2), "5.0e-4");
        // Changed when the three formatters became this one:
        // report::sig printed 1.00, 2.70e6 and 1235 (no trimming, plain
        // only below 10⁶) ...
        assert_eq!(figure(Some(1.0), 3), "1");
        assert_eq!(figure(Some(2_700_000.0), 3), "2700000");
        assert_eq!(figure(Some(1234.6), 3), "1235");
        // ... econ's num kept three decimals (12.346, 0.13117) ...
        assert_eq!(figure(Some(12.3456), 4), "12.35");
        assert_eq!(figure(Some(0.131_174_8), 4), "0.1312");
        // ... and `bench`'s text kept two (123.46, 1.235e5).
        assert_eq!(figure(Some(123.456), 3), "123");
        assert_eq!(figure(Some(123_456.0), 3), "123456");
    }
}
