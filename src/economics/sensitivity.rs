//! Sensitivity sweeps: the three options' nets as one input varies.

use super::decision::{Choice, evaluate};
use super::error::Result;
use super::scenario::Scenario;
use super::units::{Difficulty, Percent, Usd, UsdPerKwh};
use serde::Serialize;

/// An input that can be swept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Parameter {
    /// BTC price, USD.
    BtcPrice,
    /// Network difficulty (plotted in T = 10^12).
    Difficulty,
    /// Electricity price, USD/kWh.
    Electricity,
    /// Inference utilization, percent.
    Utilization,
}

impl Parameter {
    /// All parameters, in report order.
    pub const ALL: [Parameter; 4] = [
        Parameter::BtcPrice,
        Parameter::Electricity,
        Parameter::Difficulty,
        Parameter::Utilization,
    ];

    /// File stem for plots (`btc_price`, `electricity`, ...).
    pub fn slug(self) -> &'static str {
        match self {
            Parameter::BtcPrice => "btc_price",
            Parameter::Difficulty => "difficulty",
            Parameter::Electricity => "electricity",
            Parameter::Utilization => "utilization",
        }
    }

    /// Axis label with unit.
    pub fn label(self) -> &'static str {
        match self {
            Parameter::BtcPrice => "BTC price (USD)",
            Parameter::Difficulty => "difficulty (T)",
            Parameter::Electricity => "electricity (USD/kWh)",
            Parameter::Utilization => "inference utilization (%)",
        }
    }

    /// The scenario's current value, in the axis unit.
    pub fn current(self, s: &Scenario) -> f64 {
        match self {
            Parameter::BtcPrice => s.mining.btc_price.get(),
            Parameter::Difficulty => s.mining.difficulty.get() / 1e12,
            Parameter::Electricity => s.power.electricity.get(),
            Parameter::Utilization => s.utilization.get(),
        }
    }

    fn apply(self, s: &mut Scenario, x: f64) {
        match self {
            Parameter::BtcPrice => s.mining.btc_price = Usd(x),
            Parameter::Difficulty => s.mining.difficulty = Difficulty(x * 1e12),
            Parameter::Electricity => s.power.electricity = UsdPerKwh(x),
            Parameter::Utilization => s.utilization = Percent(x),
        }
    }

    /// Default sweep: 21 points over 0.25–4× the current BTC price,
    /// 0.5–2× the difficulty, 0–0.30 USD/kWh, 0–100 % utilization.
    pub fn default_values(self, s: &Scenario) -> Vec<f64> {
        let n = 20;
        let cur = self.current(s);
        let (lo, hi) = match self {
            Parameter::BtcPrice => (0.25 * cur, 4.0 * cur),
            Parameter::Difficulty => (0.5 * cur, 2.0 * cur),
            Parameter::Electricity => (0.0, 0.30_f64.max(cur * 1.5)),
            Parameter::Utilization => (0.0, 100.0),
        };
        (0..=n)
            .map(|i| lo + (hi - lo) * f64::from(i) / f64::from(n))
            .collect()
    }
}

/// One point of a sweep.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SweepPoint {
    /// Input value, in the parameter's axis unit.
    pub x: f64,
    /// Mining net, USD/h.
    pub mine: f64,
    /// Inference net, USD/h.
    pub infer: f64,
    /// Idle net, USD/h.
    pub idle: f64,
    /// Best option.
    pub winner: Choice,
}

/// A sweep over one parameter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sweep {
    /// What varies.
    pub parameter: Parameter,
    /// Axis label.
    pub label: &'static str,
    /// The scenario's own value.
    pub current: f64,
    /// Points in increasing `x`.
    pub points: Vec<SweepPoint>,
}

/// Sweeps `parameter` over `values`, re-evaluating the whole scenario at
/// each point.
///
/// ```
/// use hashwatt::economics::{scenario::Scenario, sensitivity::{sweep, Parameter}, units::*};
/// let s = Scenario::new(HashRate(5e9), Watts(700.0));
/// let w = sweep(&s, Parameter::Electricity, &[0.0, 0.1])?;
/// assert!(w.points[0].mine > w.points[1].mine); // dearer power, worse mining
/// # Ok::<(), hashwatt::economics::EconError>(())
/// ```
///
/// # Errors
/// A value that makes the scenario invalid (e.g. negative price).
pub fn sweep(s: &Scenario, parameter: Parameter, values: &[f64]) -> Result<Sweep> {
    let mut t = s.clone();
    t.horizon.months = 0;
    let mut points = Vec::with_capacity(values.len());
    for &x in values {
        parameter.apply(&mut t, x);
        let d = evaluate(&t)?;
        let n = d.net_usd_per_hour;
        points.push(SweepPoint {
            x,
            mine: n.mine.get(),
            infer: n.infer.get(),
            idle: n.idle.get(),
            winner: d.winner,
        });
    }
    Ok(Sweep {
        parameter,
        label: parameter.label(),
        current: parameter.current(s),
        points,
    })
}

/// The four default sweeps.
///
/// # Errors
/// As [`sweep`].
pub fn default_sweeps(s: &Scenario) -> Result<Vec<Sweep>> {
    Parameter::ALL
        .iter()
        .map(|p| sweep(s, *p, &p.default_values(s)))
        .collect()
}

/// Revenue ÷ power cost of one use of one GPU (1 = revenue just pays the
/// power bill).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RevenueRatio {
    /// What is compared, e.g. `h100-sxm mining` or `l40s rental`.
    pub label: String,
    /// Revenue per hour ÷ power cost per hour at the scenario's price and PUE.
    pub ratio: f64,
}

/// Revenue ÷ power cost for the scenario's GPU mining and serving inference,
/// then for renting out each GPU of the hardware table at its cited rental
/// price and board power, at the scenario's electricity price and PUE.
/// Entries whose power cost is zero are left out (the ratio is unbounded).
///
/// # Errors
/// As [`evaluate`].
pub fn revenue_to_power(s: &Scenario) -> Result<Vec<RevenueRatio>> {
    let d = evaluate(s)?;
    let gpu = match &s.inference {
        super::inference::InferenceValue::Tokens { roofline, .. } => roofline.gpu.key,
        super::inference::InferenceValue::Rental { .. } => "this GPU",
    };
    let mut out = Vec::new();
    let mut push = |label: String, revenue: f64, cost: f64| {
        if cost > 0.0 && revenue.is_finite() {
            out.push(RevenueRatio {
                label,
                ratio: revenue / cost,
            });
        }
    };
    push(
        format!("{gpu} mining"),
        d.mining.usd_per_hour.get(),
        d.power.mining.get(),
    );
    push(
        format!("{gpu} inference ({})", d.inference.method),
        d.inference.full_usd_per_hour.get(),
        d.power.inference_busy.get(),
    );
    for g in crate::hardware::GPUS {
        if let Some(r) = super::presets::rental(g.key) {
            let cost = super::power::cost_per_hour(g.board_watts, s.power.electricity, s.power.pue);
            push(format!("{} rental", g.key), r.usd_per_hour, cost.get());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::economics::units::{HashRate, Watts};

    #[test]
    fn sweeps_move_the_right_lines() {
        let s = Scenario::new(HashRate(5e9), Watts(700.0));
        let all = default_sweeps(&s).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(all.len(), 4);
        for w in &all {
            assert_eq!(w.points.len(), 21);
        }
        let btc = &all[0];
        assert!(btc.points[20].mine > btc.points[0].mine);
        assert_eq!(btc.points[0].infer, btc.points[20].infer);
        let util = &all[3];
        assert!(util.points[20].infer > util.points[0].infer);
        assert_eq!(util.points[0].mine, util.points[20].mine);
        let diff = &all[2];
        assert!(diff.points[0].mine > diff.points[20].mine);
        assert!((diff.current - 148.26).abs() < 1e-9);
    }
}
