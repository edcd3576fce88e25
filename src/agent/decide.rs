//! The agent's decision: mine, or stay off the device, on current inputs.
//!
//! The money comes from [`crate::economics::evaluate`]; this module only
//! feeds it the inputs of the moment (difficulty, BTC price, power price by
//! hour) and adds the two rules that stop a long-running agent from
//! flapping: a minimum margin and a minimum dwell time.

use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::AgentError;
use crate::economics::scenario::Scenario;
use crate::economics::units::{Btc, Difficulty, HashRate, Percent, Usd, UsdPerKwh, Watts};
use crate::economics::{Choice, evaluate};

/// One economic input, where it came from, and as of when (Unix seconds).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Input {
    /// The value.
    pub value: f64,
    /// Where it came from (`--btc-price`, `pool nbits`, `default: ...`).
    pub source: String,
    /// When the value was true, Unix seconds.
    pub as_of: f64,
}

impl Input {
    /// An input with its source and time.
    pub fn new(value: f64, source: impl Into<String>, as_of: f64) -> Input {
        Input {
            value,
            source: source.into(),
            as_of,
        }
    }
}

/// Power price by hour of day (UTC), $/MWh.
///
/// The file has one `HOUR USD_PER_MWH` pair per line (`#` starts a comment);
/// a price holds from its hour until the next listed hour, wrapping past
/// midnight, so `0 45` alone is a flat $45/MWh.
#[derive(Clone, Debug, PartialEq)]
pub struct PowerSchedule {
    hours: [f64; 24],
}

impl PowerSchedule {
    /// Parses a schedule; `name` names the file in errors.
    ///
    /// # Errors
    /// [`AgentError::Schedule`] for a malformed line, an hour outside 0–23, a
    /// repeated hour, a negative or non-finite price, or no line at all.
    pub fn parse(text: &str, name: &str) -> Result<PowerSchedule, AgentError> {
        let err = |line: usize, reason: String| AgentError::Schedule {
            file: name.to_string(),
            line,
            reason,
        };
        let mut set: [Option<f64>; 24] = [None; 24];
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let mut parts = line.split_whitespace();
            let (Some(h), Some(p), None) = (parts.next(), parts.next(), parts.next()) else {
                return Err(err(
                    i + 1,
                    format!("expected `HOUR USD_PER_MWH`, got {raw:?}"),
                ));
            };
            let hour: usize = h
                .parse()
                .ok()
                .filter(|h| *h < 24)
                .ok_or_else(|| err(i + 1, format!("hour {h:?} is not 0..=23")))?;
            let price: f64 = p
                .parse()
                .ok()
                .filter(|p: &f64| p.is_finite() && *p >= 0.0)
                .ok_or_else(|| err(i + 1, format!("price {p:?} is not a $/MWh figure ≥ 0")))?;
            if set[hour].replace(price).is_some() {
                return Err(err(i + 1, format!("hour {hour} is listed twice")));
            }
        }
        let Some(last) = set.iter().rev().flatten().next().copied() else {
            return Err(err(0, "no `HOUR USD_PER_MWH` line".into()));
        };
        let mut hours = [0.0; 24];
        let mut current = last;
        for (h, slot) in set.iter().enumerate() {
            if let Some(p) = slot {
                current = *p;
            }
            hours[h] = current;
        }
        Ok(PowerSchedule { hours })
    }

    /// Reads and parses a schedule file.
    ///
    /// # Errors
    /// [`AgentError::Schedule`] when it cannot be read or parsed.
    pub fn load(path: &Path) -> Result<PowerSchedule, AgentError> {
        let text = std::fs::read_to_string(path).map_err(|e| AgentError::Schedule {
            file: path.display().to_string(),
            line: 0,
            reason: e.to_string(),
        })?;
        PowerSchedule::parse(&text, &path.display().to_string())
    }

    /// The price in hour `hour` (0–23, UTC), $/MWh.
    pub fn usd_per_mwh(&self, hour: usize) -> f64 {
        self.hours[hour % 24]
    }
}

/// The power price: fixed, or by hour.
#[derive(Clone, Debug, PartialEq)]
pub enum PowerPrice {
    /// One price all day.
    Fixed {
        /// The price.
        usd_per_kwh: UsdPerKwh,
        /// Where it came from (`--electricity`, or the cited default).
        source: String,
    },
    /// `--power-schedule FILE`.
    Schedule(PowerSchedule),
}

impl PowerPrice {
    /// The price at Unix time `now`, as an [`Input`] (as of the start of the
    /// hour for a schedule).
    pub fn at(&self, now: f64, started: f64) -> Input {
        match self {
            PowerPrice::Fixed {
                usd_per_kwh,
                source,
            } => Input::new(usd_per_kwh.get(), source.clone(), started),
            PowerPrice::Schedule(s) => {
                let hour_start = (now / 3600.0).floor() * 3600.0;
                let hour = ((now / 3600.0).floor() as i64).rem_euclid(24) as usize;
                Input::new(
                    s.usd_per_mwh(hour) / 1000.0,
                    format!("--power-schedule, hour {hour:02} UTC"),
                    hour_start,
                )
            }
        }
    }
}

/// The inputs of one decision.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Inputs {
    /// Network difficulty.
    pub difficulty: Input,
    /// BTC price, USD.
    pub btc_price_usd: Input,
    /// Electricity, USD per kWh.
    pub electricity_usd_per_kwh: Input,
    /// Mean fees per block, BTC (`--live`; otherwise the cited default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fees_btc_per_block: Option<Input>,
    /// Chain tip height, for the block subsidy (`--live`; otherwise the
    /// cited default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<Input>,
}

impl Inputs {
    /// The oldest as-of time of the inputs.
    pub fn oldest_as_of(&self) -> f64 {
        self.difficulty
            .as_of
            .min(self.btc_price_usd.as_of)
            .min(self.electricity_usd_per_kwh.as_of)
            .min(
                self.fees_btc_per_block
                    .as_ref()
                    .map_or(f64::INFINITY, |i| i.as_of),
            )
            .min(self.height.as_ref().map_or(f64::INFINITY, |i| i.as_of))
    }
}

/// What the economics say for one device.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Verdict {
    /// Net $/h mining (revenue − power).
    pub mine_usd_per_hour: f64,
    /// Net $/h staying off the device (its idle power, if it stays on).
    pub idle_usd_per_hour: f64,
    /// `mine − idle`, $/h: what mining adds over leaving the device alone.
    pub margin_usd_per_hour: f64,
    /// Modeled revenue per hash, USD (expected value).
    pub revenue_usd_per_hash: f64,
    /// Modeled power cost per joule at the device, USD (with PUE).
    pub cost_usd_per_joule: f64,
    /// Hash rate the verdict assumed, H/s.
    pub hashrate: f64,
    /// Board power the verdict assumed, W.
    pub watts: f64,
}

/// Evaluates mining on a device with `hashrate` and `watts` at `inputs`
/// through [`evaluate`], with no paid inference in the slot (the agent
/// only ever gets idle time: AI work takes the device through a trigger)
/// and no idle power charged to staying off, so mining must pay for all of
/// its `watts`.
///
/// # Errors
/// [`AgentError::Economics`] for inputs the model refuses.
pub fn verdict(inputs: &Inputs, hashrate: f64, watts: f64) -> Result<Verdict, AgentError> {
    let mut s = Scenario::new(HashRate(hashrate), Watts(watts));
    s.name = "hashwatt agent".into();
    s.utilization = Percent(0.0);
    s.mining.difficulty = Difficulty(inputs.difficulty.value);
    s.mining.btc_price = Usd(inputs.btc_price_usd.value);
    s.power.electricity = UsdPerKwh(inputs.electricity_usd_per_kwh.value);
    if let Some(fees) = &inputs.fees_btc_per_block {
        s.mining.fees_per_block = Btc(fees.value);
    }
    if let Some(h) = &inputs.height {
        s.mining.height = u32::try_from(h.value as u64)
            .ok()
            .filter(|_| h.value.fract() == 0.0 && h.value >= 0.0)
            .ok_or_else(|| {
                AgentError::Economics(format!("height {} is not a block height", h.value))
            })?;
    }
    // Staying off costs this device nothing extra: mining must pay for all
    // of its power (the preset's idle figure is an H100's, not this device's).
    s.power.idle_watts = Watts(0.0);
    let d = evaluate(&s).map_err(|e| AgentError::Economics(e.to_string()))?;
    let mine = d.net_usd_per_hour.of(Choice::Mine).get();
    let idle = d.net_usd_per_hour.of(Choice::Idle).get();
    let revenue_usd_per_hash = if hashrate > 0.0 {
        d.mining.usd_per_hour.get() / hashrate / 3600.0
    } else {
        0.0
    };
    let cost_usd_per_joule = inputs.electricity_usd_per_kwh.value * s.power.pue / 3.6e6;
    Ok(Verdict {
        mine_usd_per_hour: mine,
        idle_usd_per_hour: idle,
        margin_usd_per_hour: mine - idle,
        revenue_usd_per_hash,
        cost_usd_per_joule,
        hashrate,
        watts,
    })
}

/// The anti-flapping rules.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Policy {
    /// Mine only when mining beats staying off by at least this, $/h.
    pub min_margin_usd_per_hour: f64,
    /// Hold a decided state at least this long before changing it.
    pub min_dwell: Duration,
}

/// A decided state held against flapping.
#[derive(Clone, Debug)]
pub struct Dwell {
    mine: Option<bool>,
    since: Instant,
}

impl Default for Dwell {
    fn default() -> Self {
        Dwell {
            mine: None,
            since: Instant::now(),
        }
    }
}

impl Dwell {
    /// Applies `policy` to a verdict at `now`: the first decision is taken
    /// at once; later a change needs the dwell time to have passed. Returns
    /// whether to mine and whether the dwell rule held a change back.
    pub fn decide(&mut self, policy: &Policy, margin: f64, now: Instant) -> (bool, bool) {
        let want = margin >= policy.min_margin_usd_per_hour;
        match self.mine {
            Some(current) if current != want => {
                if now.saturating_duration_since(self.since) >= policy.min_dwell {
                    self.mine = Some(want);
                    self.since = now;
                    (want, false)
                } else {
                    (current, true)
                }
            }
            Some(current) => (current, false),
            None => {
                self.mine = Some(want);
                self.since = now;
                (want, false)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schedule_holds_each_price_until_the_next_hour_and_wraps() {
        let s = PowerSchedule::parse("# h p\n7 95\n19 70 # evening\n", "t")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.usd_per_mwh(0), 70.0);
        assert_eq!(s.usd_per_mwh(6), 70.0);
        assert_eq!(s.usd_per_mwh(7), 95.0);
        assert_eq!(s.usd_per_mwh(18), 95.0);
        assert_eq!(s.usd_per_mwh(23), 70.0);
    }

    #[test]
    fn bad_schedules_name_the_line() {
        for (text, needle) in [
            ("24 10\n", "line 1: hour \"24\""),
            ("1 10\n1 20\n", "line 2: hour 1 is listed twice"),
            ("1 -3\n", "price \"-3\""),
            ("1\n", "expected `HOUR USD_PER_MWH`"),
            ("# nothing\n", "no `HOUR USD_PER_MWH` line"),
        ] {
            let e = PowerSchedule::parse(text, "s.txt").unwrap_err().to_string();
            assert!(e.contains(needle), "{text:?}: {e}");
        }
    }

    fn inputs(electricity: f64) -> Inputs {
        Inputs {
            difficulty: Input::new(1.0e12, "t", 0.0),
            btc_price_usd: Input::new(90_000.0, "t", 0.0),
            electricity_usd_per_kwh: Input::new(electricity, "t", 0.0),
            fees_btc_per_block: None,
            height: None,
        }
    }

    #[test]
    fn free_power_makes_mining_pay_and_dear_power_does_not() {
        let free = verdict(&inputs(0.0), 1e9, 300.0).unwrap_or_else(|e| panic!("{e}"));
        assert!(free.margin_usd_per_hour > 0.0, "{free:?}");
        assert!(free.revenue_usd_per_hash > 0.0);
        let dear = verdict(&inputs(0.5), 1e9, 300.0).unwrap_or_else(|e| panic!("{e}"));
        assert!(dear.margin_usd_per_hour < 0.0, "{dear:?}");
        // Revenue per hash does not depend on the power price.
        assert!((free.revenue_usd_per_hash - dear.revenue_usd_per_hash).abs() < 1e-30);
        // The joule price is the kWh price (with PUE) over 3.6 MJ.
        assert!(dear.cost_usd_per_joule > 0.5 / 3.6e6);
    }

    #[test]
    fn the_dwell_time_holds_a_change_back() {
        let policy = Policy {
            min_margin_usd_per_hour: 0.0,
            min_dwell: Duration::from_secs(60),
        };
        let t0 = Instant::now();
        let mut d = Dwell::default();
        assert_eq!(d.decide(&policy, 1.0, t0), (true, false));
        assert_eq!(
            d.decide(&policy, -1.0, t0 + Duration::from_secs(30)),
            (true, true)
        );
        assert_eq!(
            d.decide(&policy, -1.0, t0 + Duration::from_secs(61)),
            (false, false)
        );
        // Below the minimum margin is "do not mine".
        let strict = Policy {
            min_margin_usd_per_hour: 2.0,
            ..policy
        };
        assert_eq!(Dwell::default().decide(&strict, 1.0, t0), (false, false));
    }
}
