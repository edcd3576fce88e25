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
