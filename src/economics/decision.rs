//! The decision for one GPU-hour: mine, infer or stay idle, with the
//! break-even points that would change it.
//!
//! Net USD per hour of each option (PUE applied to every watt):
//!
//! * **mine** = mining revenue − mining watts × price;
//! * **infer** = u × (inference revenue at full use − inference watts × price)
//!   − (1 − u) × idle watts × price, where `u` is the utilization: the GPU
//!   must stay on to take requests, so it idles the rest of the hour;
//! * **idle** = − idle watts × price, or 0 when powered down.
//!
//! Each net is linear in the BTC price, the electricity price, the token (or
//! rental) price and the utilization, so every break-even point is solved in
//! closed form, and the tests check that at each one the two options' nets,
//! recomputed through [`evaluate`], are equal.

use super::error::Result;
use super::inference::{self, InferenceEstimate, InferenceValue};
use super::mining::{self, HorizonMonth, MiningEstimate};
use super::power::{IdleMode, cost_per_hour};
use super::scenario::Scenario;
use super::units::{UsdPerHour, UsdPerKwh, Watts};
use serde::Serialize;
use std::fmt;

/// The three uses of an idle GPU-hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Choice {
    /// SHA-256d mining.
    Mine,
    /// AI inference (serving tokens or rented out).
    Infer,
    /// Stay idle (or powered down).
    Idle,
}

impl fmt::Display for Choice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Choice::Mine => "mine",
            Choice::Infer => "infer",
            Choice::Idle => "idle",
        })
    }
}

/// Net USD per hour of each option.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Nets {
    /// Mining.
    pub mine: UsdPerHour,
    /// Inference.
    pub infer: UsdPerHour,
    /// Idle.
    pub idle: UsdPerHour,
}

impl Nets {
    /// Net of one option.
    pub fn of(&self, c: Choice) -> UsdPerHour {
        match c {
            Choice::Mine => self.mine,
            Choice::Infer => self.infer,
            Choice::Idle => self.idle,
        }
    }

    /// The best option; ties go to idle, then infer (the cheaper, simpler
    /// choice wins a tie).
    pub fn winner(&self) -> Choice {
        let mut best = Choice::Idle;
        for c in [Choice::Infer, Choice::Mine] {
            if self.of(c).get() > self.of(best).get() {
                best = c;
            }
        }
        best
    }
}

/// Power cost per hour of each state (modeled from watts × price × PUE;
/// watts are measured only when they came from a metered bench report).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PowerCosts {
    /// Mining for the whole hour.
    pub mining: UsdPerHour,
    /// Serving inference for the whole hour.
    pub inference_busy: UsdPerHour,
    /// On but idle for the whole hour.
    pub idle_on: UsdPerHour,
    /// Inference at the scenario's utilization (busy + idle share).
    pub inference: UsdPerHour,
    /// The idle option (idle_on, or 0 when powered down).
    pub idle: UsdPerHour,
}

/// The break-even points. `None` means no value in the meaningful range
/// (non-negative prices, utilization 0–100 %) changes the comparison.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BreakEvens {
    /// BTC price at which mining equals the best other option.
    pub btc_price_usd: Option<f64>,
    /// BTC price at which mining equals staying idle (mining stops paying).
    pub btc_price_vs_idle_usd: Option<f64>,
    /// Electricity price at which mining equals the best other option.
    pub electricity_usd_per_kwh: Option<f64>,
    /// Electricity price below which mining beats staying idle.
    pub electricity_vs_idle_usd_per_kwh: Option<f64>,
    /// Token price at which inference equals the best other option
    /// (tokens method).
    pub usd_per_mtok: Option<f64>,
    /// Rental price at which inference equals the best other option
    /// (rental method).
    pub rental_usd_per_hour: Option<f64>,
    /// Utilization at which inference equals the best other option.
    pub utilization_pct: Option<f64>,
}

/// Everything [`evaluate`] computes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    /// Mining revenue.
    pub mining: MiningEstimate,
    /// Inference revenue.
    pub inference: InferenceEstimate,
    /// Power costs.
    pub power: PowerCosts,
    /// Net per option.
    pub net_usd_per_hour: Nets,
    /// The best option.
    pub winner: Choice,
    /// Winner's net minus the runner-up's.
    pub margin_usd_per_hour: f64,
    /// Mining revenue ÷ mining power cost (1.0 = mining pays its power).
    pub mining_revenue_to_power_cost: f64,
    /// Break-even points.
    pub breakeven: BreakEvens,
    /// Month-by-month mining projection (empty unless a horizon is set).
    pub horizon: Vec<HorizonMonth>,
}

struct Linear {
    /// Mining revenue per hour.
    r_m: f64,
    /// Inference revenue per hour at full use.
    r_i: f64,
    /// Utilization fraction.
    u: f64,
    /// kW × PUE for each state (USD/h per USD/kWh).
    a_m: f64,
    a_i: f64,
    a_idle: f64,
    /// kW × PUE of the idle option (0 when powered down).
    a_idle_opt: f64,
}

impl Linear {
    fn nets(&self, e: f64) -> Nets {
        // `+ 0.0` turns a negative zero (free power) into a plain zero.
        Nets {
            mine: UsdPerHour(self.r_m - self.a_m * e + 0.0),
            infer: UsdPerHour(
                self.u * (self.r_i - self.a_i * e) - (1.0 - self.u) * self.a_idle * e + 0.0,
            ),
            idle: UsdPerHour(-self.a_idle_opt * e + 0.0),
        }
    }
}

fn kw_pue(w: Watts, pue: f64) -> f64 {
    w.kilowatts() * pue
}

const REL_TOL: f64 = 1e-9;

/// Evaluates a scenario: revenue, power, nets, winner, break-evens and (if
/// asked) the horizon projection. The per-MW site view is computed beside it
/// by [`crate::economics::site::evaluate`].
///
/// This is the entry point for schedulers:
///
/// ```
/// use hashwatt::economics::{evaluate, scenario::Scenario, units::*, Choice};
/// // A GPU measured at 5 GH/s drawing 700 W, everything else at cited defaults.
/// let mut s = Scenario::new(HashRate(5e9), Watts(700.0));
/// s.utilization = Percent(0.0); // no inference demand this hour
/// let d = evaluate(&s)?;
/// // Mining earns a tiny fraction of its power bill, so idling wins.
/// assert!(d.mining_revenue_to_power_cost < 0.01);
/// assert_eq!(d.winner, Choice::Idle);
/// # Ok::<(), hashwatt::economics::EconError>(())
/// ```
///
/// # Errors
/// Any invalid input, named by field.
pub fn evaluate(s: &Scenario) -> Result<Decision> {
    s.validate()?;
    let mining = mining::estimate(&s.mining)?;
    let inference = inference::estimate(&s.inference, s.utilization)?;
    let e = s.power.electricity;
    let pue = s.power.pue;
    let lin = Linear {
        r_m: mining.usd_per_hour.get(),
        r_i: inference.full_usd_per_hour.get(),
        u: s.utilization.fraction(),
        a_m: kw_pue(s.power.mining_watts, pue),
        a_i: kw_pue(s.power.inference_watts, pue),
        a_idle: kw_pue(s.power.idle_watts, pue),
        a_idle_opt: match s.power.idle_mode {
            IdleMode::On => kw_pue(s.power.idle_watts, pue),
            IdleMode::PoweredDown => 0.0,
        },
    };
    let nets = lin.nets(e.get());
    let winner = nets.winner();
    let runner_up = [Choice::Mine, Choice::Infer, Choice::Idle]
        .into_iter()
        .filter(|c| *c != winner)
        .map(|c| nets.of(c).get())
        .fold(f64::NEG_INFINITY, f64::max);
    let mining_power = cost_per_hour(s.power.mining_watts, e, pue);
    let idle_on = cost_per_hour(s.power.idle_watts, e, pue);
    let busy = cost_per_hour(s.power.inference_watts, e, pue);
    let power = PowerCosts {
        mining: mining_power,
        inference_busy: busy,
        idle_on,
        inference: UsdPerHour(lin.u * busy.get() + (1.0 - lin.u) * idle_on.get()),
        idle: UsdPerHour(lin.a_idle_opt * e.get()),
    };
    let ratio = if mining_power.get() > 0.0 {
        mining.usd_per_hour.get() / mining_power.get()
    } else {
        f64::INFINITY
    };
    let breakeven = breakevens(s, &mining, &inference, &lin, e);
    let horizon = if s.horizon.months > 0 {
        mining::project(&s.mining, &s.horizon, mining_power)?
    } else {
        Vec::new()
    };
    Ok(Decision {
        mining,
        inference,
        power,
        net_usd_per_hour: nets,
        winner,
        margin_usd_per_hour: nets.of(winner).get() - runner_up,
        mining_revenue_to_power_cost: ratio,
        breakeven,
        horizon,
    })
}

fn non_negative(x: f64) -> Option<f64> {
    (x.is_finite() && x >= 0.0).then_some(x)
}

fn breakevens(
    s: &Scenario,
    mining: &MiningEstimate,
    inference: &InferenceEstimate,
    lin: &Linear,
    e: UsdPerKwh,
) -> BreakEvens {
    let e = e.get();
    let nets = lin.nets(e);
    let best_other_than_mine = nets.infer.get().max(nets.idle.get());
    let best_other_than_infer = nets.mine.get().max(nets.idle.get());

    // BTC price: mining revenue is linear in the price, P × (BTC/hour).
    let btc_per_hour = mining.btc_per_day.get() / 24.0;
    let price_for = |target: f64| {
        if btc_per_hour > 0.0 {
            non_negative((target + lin.a_m * e) / btc_per_hour)
        } else {
            None
        }
    };

    // Electricity: mining(e) = max(infer(e), idle(e)). Each pair crosses at
    // most once; keep the crossings where mining ties the best alternative,
    // and report the one nearest today's price.
    let mut candidates = Vec::new();
    // (revenue, kW×PUE) of infer and of idle, as functions of e.
    let pairs = [
        (
            lin.u * lin.r_i,
            lin.u * lin.a_i + (1.0 - lin.u) * lin.a_idle,
        ),
        (0.0, lin.a_idle_opt),
    ];
    for (k, (r_x, a_x)) in pairs.iter().enumerate() {
        let denom = lin.a_m - a_x;
        if denom.abs() > 0.0
            && let Some(x) = non_negative((lin.r_m - r_x) / denom)
        {
            // Mining ties alternative k at x; keep x only if k is the
            // better alternative there (the other is not above it).
            let n = lin.nets(x);
            let (this, other) = if k == 0 {
                (n.infer.get(), n.idle.get())
            } else {
                (n.idle.get(), n.infer.get())
            };
            if this >= other - 1e-12 - 1e-9 * other.abs() {
                candidates.push(x);
            }
        }
    }
    let electricity = candidates
        .into_iter()
        .min_by(|a, b| (a - e).abs().total_cmp(&(b - e).abs()));
    let electricity_vs_idle = {
        let denom = lin.a_m - lin.a_idle_opt;
        if denom > 0.0 {
            non_negative(lin.r_m / denom)
        } else {
            None
        }
    };

    // Inference: infer = u × (R − a_i e) − (1 − u) a_idle e = target.
    let target = best_other_than_infer;
    let idle_part = (1.0 - lin.u) * lin.a_idle * e;
    let revenue_needed = if lin.u > 0.0 {
        Some((target + idle_part) / lin.u + lin.a_i * e)
    } else {
        None
    };
    let (usd_per_mtok, rental) = match &s.inference {
        InferenceValue::Tokens { .. } => {
            // Revenue = output tok/s × 3600 × price / 1e6 + the input part,
            // which stays at its own price.
            let tps = inference.tokens_per_second.get();
            let input = inference.input_usd_per_hour.get();
            let p = revenue_needed.and_then(|r| {
                if tps > 0.0 {
                    non_negative((r - input) * 1e6 / (tps * 3600.0))
                } else {
                    None
                }
            });
            (p, None)
        }
        InferenceValue::Rental { .. } => (None, revenue_needed.and_then(non_negative)),
    };
    let utilization = {
        let denom = lin.r_i - lin.a_i * e + lin.a_idle * e;
        if denom > 0.0 {
            let u = (target + lin.a_idle * e) / denom;
            (u.is_finite() && (-REL_TOL..=1.0 + REL_TOL).contains(&u))
                .then_some(u.clamp(0.0, 1.0) * 100.0)
        } else {
            None
        }
    };

    BreakEvens {
        btc_price_usd: price_for(best_other_than_mine),
        btc_price_vs_idle_usd: price_for(nets.idle.get()),
        electricity_usd_per_kwh: electricity,
        electricity_vs_idle_usd_per_kwh: electricity_vs_idle,
        usd_per_mtok,
        rental_usd_per_hour: rental,
        utilization_pct: utilization,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::economics::units::*;

    fn h100(hashrate: f64) -> Scenario {
        let mut s = Scenario::new(HashRate(hashrate), Watts(700.0));
        s.utilization = Percent(60.0);
        s
    }

    fn eval(s: &Scenario) -> Decision {
        evaluate(s).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Equal to 1e-7 relative (and 1e-12 USD/h absolute, for nets at zero).
    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 + 1e-7 * a.abs().max(b.abs())
    }

    #[test]
    fn hand_computed_nets() {
        // 5 GH/s at the Jan 2026 defaults: 5e9 × 4.263204e-4 / 1e15 BTC/day
        // × $91,132 = $1.94255e-4/day → 8.094e-6 USD/h.
        let s = h100(5e9);
        let d = eval(&s);
        assert!(
            (d.mining.usd_per_hour.get() - 8.0940e-6).abs() < 1e-9,
            "{}",
            d.mining.usd_per_hour
        );
        // Power: 700 W × $0.081 × 1.56 = $0.088452/h.
        assert!(close(d.power.mining.get(), 0.088_452));
        assert!(close(
            d.net_usd_per_hour.mine.get(),
            d.mining.usd_per_hour.get() - 0.088_452
        ));
        // Idle on at 70 W: −$0.0088452/h.
        assert!(close(d.net_usd_per_hour.idle.get(), -0.008_845_2));
        // Inference: 0.6 × (tok/s × 3600 × 0.18e-6 × (1 + 1000/1000) − 0.088452)
        // − 0.4 × 0.0088452: input and output tokens both billed at $0.18/M.
        let full = d.inference.tokens_per_second.get() * 3600.0 * 0.18 / 1e6 * 2.0;
        assert!(close(d.inference.input_usd_per_hour.get(), full / 2.0));
        assert!(close(
            d.net_usd_per_hour.infer.get(),
            0.6 * (full - 0.088_452) - 0.4 * 0.008_845_2
        ));
        assert_eq!(d.winner, Choice::Infer);
        // Mining earns < 0.01 % of its power bill.
        assert!(
            d.mining_revenue_to_power_cost < 1e-4,
            "{}",
            d.mining_revenue_to_power_cost
        );
    }

    fn with_btc(s: &Scenario, p: f64) -> Scenario {
        let mut t = s.clone();
        t.mining.btc_price = Usd(p);
        t
    }

    fn with_e(s: &Scenario, e: f64) -> Scenario {
        let mut t = s.clone();
        t.power.electricity = UsdPerKwh(e);
        t
    }

    #[test]
    fn at_the_btc_breakevens_the_nets_tie() {
        for s in [h100(5e9), {
            let mut s = h100(5e9);
            s.power.idle_mode = IdleMode::PoweredDown;
            s
        }] {
            let d = eval(&s);
            let p = d
                .breakeven
                .btc_price_usd
                .unwrap_or_else(|| panic!("no btc breakeven"));
            // Mining would need BTC in the hundreds of millions of USD.
            assert!(p > 1e8, "{p}");
            let n = eval(&with_btc(&s, p)).net_usd_per_hour;
            assert!(
                close(n.mine.get(), n.infer.get().max(n.idle.get())),
                "{n:?}"
            );
            let p = d
                .breakeven
                .btc_price_vs_idle_usd
                .unwrap_or_else(|| panic!("none"));
            let n = eval(&with_btc(&s, p)).net_usd_per_hour;
            assert!(close(n.mine.get(), n.idle.get()), "{n:?}");
        }
    }

    #[test]
    fn at_the_electricity_breakevens_the_nets_tie() {
        // Make mining competitive so crossings exist: an ASIC-like hash rate
        // on this GPU's power, no inference demand.
        let mut s = h100(5e13);
        s.utilization = Percent(0.0);
        let d = eval(&s);
        let e = d
            .breakeven
            .electricity_usd_per_kwh
            .unwrap_or_else(|| panic!("none"));
        let n = eval(&with_e(&s, e)).net_usd_per_hour;
        assert!(
            close(n.mine.get(), n.infer.get().max(n.idle.get())),
            "{e} {n:?}"
        );
        let e2 = d
            .breakeven
            .electricity_vs_idle_usd_per_kwh
            .unwrap_or_else(|| panic!("none"));
        let n = eval(&with_e(&s, e2)).net_usd_per_hour;
        assert!(close(n.mine.get(), n.idle.get()), "{n:?}");
        // Hand check: R_m / ((0.7 − 0.07) × 1.56).
        assert!(close(e2, d.mining.usd_per_hour.get() / (0.63 * 1.56)));
        // With inference busy and far ahead, no price makes the GPU miner win.
        let d = eval(&h100(5e9));
        assert_eq!(d.breakeven.electricity_usd_per_kwh, None);
        // But a price below which mining beats idling exists (tiny).
        let e3 = d
            .breakeven
            .electricity_vs_idle_usd_per_kwh
            .unwrap_or_else(|| panic!("none"));
        assert!(e3 < 1e-4, "{e3}");
    }

    #[test]
    fn at_the_inference_breakevens_the_nets_tie() {
        let mut s = h100(5e9);
        // With input tokens billed at $0.18/M too, no output price ties: the
        // input tokens alone beat the alternatives. Bill output only here.
        if let InferenceValue::Tokens {
            usd_per_mtok_input, ..
        } = &mut s.inference
        {
            *usd_per_mtok_input = UsdPerMtok(0.0);
        }
        assert_eq!(eval(&h100(5e9)).breakeven.usd_per_mtok, None);
        let d = eval(&s);
        let p = d.breakeven.usd_per_mtok.unwrap_or_else(|| panic!("none"));
        let mut t = s.clone();
        if let InferenceValue::Tokens { usd_per_mtok, .. } = &mut t.inference {
            *usd_per_mtok = UsdPerMtok(p);
        }
        let n = eval(&t).net_usd_per_hour;
        assert!(
            close(n.infer.get(), n.mine.get().max(n.idle.get())),
            "{n:?}"
        );
        // Break-even token price is a few cents per million.
        assert!(p > 0.001 && p < 0.05, "{p}");

        let u = d
            .breakeven
            .utilization_pct
            .unwrap_or_else(|| panic!("none"));
        let mut t = s.clone();
        t.utilization = Percent(u);
        let n = eval(&t).net_usd_per_hour;
        assert!(
            close(n.infer.get(), n.mine.get().max(n.idle.get())),
            "{u} {n:?}"
        );

        let mut r = s.clone();
        r.inference = InferenceValue::Rental {
            usd_per_hour: UsdPerHour(2.69),
        };
        let d = eval(&r);
        let q = d
            .breakeven
            .rental_usd_per_hour
            .unwrap_or_else(|| panic!("none"));
        r.inference = InferenceValue::Rental {
            usd_per_hour: UsdPerHour(q),
        };
        let n = eval(&r).net_usd_per_hour;
        assert!(
            close(n.infer.get(), n.mine.get().max(n.idle.get())),
            "{n:?}"
        );
        // Best other is idling at −0.0088452; the rental must satisfy
        // 0.6 × (q − 0.088452) − 0.4 × 0.0088452 = −0.0088452, so
        // q = 0.088452 − 0.0088452 = 0.0796068.
        let expect = 0.088_452 - 0.008_845_2;
        assert!(close(q, expect), "{q} vs {expect}");
    }

    #[test]
    fn powered_down_idle_is_free_and_wins_without_demand() {
        let mut s = h100(5e9);
        s.utilization = Percent(0.0);
        s.power.idle_mode = IdleMode::PoweredDown;
        let d = eval(&s);
        assert_eq!(d.net_usd_per_hour.idle, UsdPerHour(0.0));
        assert_eq!(d.winner, Choice::Idle);
        assert_eq!(d.breakeven.utilization_pct.map(|u| u > 0.0), Some(true));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// For random scenarios, every break-even that exists is a tie when
        /// substituted back into the full evaluation.
        #[test]
        fn breakevens_are_ties_for_random_scenarios(
            log_hash in 6.0f64..17.0,
            btc in 1_000.0f64..500_000.0,
            e in 0.0f64..0.5,
            util in 0.0f64..100.0,
            watts in 50.0f64..1500.0,
            idle in 0.0f64..200.0,
            powered_down in proptest::bool::ANY,
            rental in proptest::option::of(0.0f64..10.0),
        ) {
            let mut s = Scenario::new(HashRate(10f64.powf(log_hash)), Watts(watts));
            s.mining.btc_price = Usd(btc);
            s.power.electricity = UsdPerKwh(e);
            s.power.idle_watts = Watts(idle);
            s.power.idle_mode = if powered_down { IdleMode::PoweredDown } else { IdleMode::On };
            s.utilization = Percent(util);
            if let Some(r) = rental {
                s.inference = InferenceValue::Rental { usd_per_hour: UsdPerHour(r) };
            }
            let d = eval(&s);
            let b = d.breakeven;
            let best_alt = |n: Nets| n.infer.get().max(n.idle.get());
            let best_not_infer = |n: Nets| n.mine.get().max(n.idle.get());
            if let Some(p) = b.btc_price_usd {
                let n = eval(&with_btc(&s, p)).net_usd_per_hour;
                proptest::prop_assert!(close(n.mine.get(), best_alt(n)), "btc {p}: {n:?}");
            }
            if let Some(p) = b.btc_price_vs_idle_usd {
                let n = eval(&with_btc(&s, p)).net_usd_per_hour;
                proptest::prop_assert!(close(n.mine.get(), n.idle.get()), "btc/idle {p}: {n:?}");
            }
            if let Some(x) = b.electricity_usd_per_kwh {
                let n = eval(&with_e(&s, x)).net_usd_per_hour;
                proptest::prop_assert!(close(n.mine.get(), best_alt(n)), "e {x}: {n:?}");
            }
            if let Some(x) = b.electricity_vs_idle_usd_per_kwh {
                let n = eval(&with_e(&s, x)).net_usd_per_hour;
                proptest::prop_assert!(close(n.mine.get(), n.idle.get()), "e/idle {x}: {n:?}");
            }
            if let Some(u) = b.utilization_pct {
                let mut t = s.clone();
                t.utilization = Percent(u);
                let n = eval(&t).net_usd_per_hour;
                proptest::prop_assert!(close(n.infer.get(), best_not_infer(n)), "u {u}: {n:?}");
            }
            let mut t = s.clone();
            match (&mut t.inference, b.usd_per_mtok, b.rental_usd_per_hour) {
                (InferenceValue::Tokens { usd_per_mtok, .. }, Some(p), _) => *usd_per_mtok = UsdPerMtok(p),
                (InferenceValue::Rental { usd_per_hour }, _, Some(r)) => *usd_per_hour = UsdPerHour(r),
                _ => return Ok(()),
            }
            let n = eval(&t).net_usd_per_hour;
            proptest::prop_assert!(close(n.infer.get(), best_not_infer(n)), "price: {n:?}");
        }
    }

    #[test]
    fn ties_prefer_idle() {
        let n = Nets {
            mine: UsdPerHour(0.0),
            infer: UsdPerHour(0.0),
            idle: UsdPerHour(0.0),
        };
        assert_eq!(n.winner(), Choice::Idle);
    }
}
