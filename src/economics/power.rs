//! Electricity cost of running a device: watts × USD/kWh × PUE.

use super::units::{UsdPerHour, UsdPerKwh, Watts};
use serde::{Deserialize, Serialize};

/// What the "idle" option does with the GPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum IdleMode {
    /// The GPU stays on and draws its idle power.
    #[default]
    On,
    /// The GPU (or its server) is powered down and draws nothing.
    PoweredDown,
}

impl std::str::FromStr for IdleMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "on" => Ok(IdleMode::On),
            "powered-down" | "off" => Ok(IdleMode::PoweredDown),
            _ => Err(format!("expected `on` or `powered-down`, got `{s}`")),
        }
    }
}

/// Cost per hour of drawing `watts` at `price`, with the facility overhead
/// `pue` (total facility power ÷ IT power; 1.0 means no overhead).
///
/// ```
/// use hashwatt::economics::power::cost_per_hour;
/// use hashwatt::economics::units::*;
/// // 700 W × $0.10/kWh × PUE 1.5 = $0.105/h
/// let c = cost_per_hour(Watts(700.0), UsdPerKwh(0.10), 1.5);
/// assert!((c.get() - 0.105).abs() < 1e-12);
/// ```
pub fn cost_per_hour(watts: Watts, price: UsdPerKwh, pue: f64) -> UsdPerHour {
    UsdPerHour(watts.kilowatts() * price.get() * pue)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn h100_at_default_prices() {
        // 700 W × $0.081/kWh × 1.56 = $0.088452/h
        let c = cost_per_hour(Watts(700.0), UsdPerKwh(0.081), 1.56);
        assert!((c.get() - 0.088_452).abs() < 1e-12);
        assert_eq!(
            cost_per_hour(Watts(0.0), UsdPerKwh(0.2), 1.2),
            UsdPerHour(0.0)
        );
    }
}
