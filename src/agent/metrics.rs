//! The agent's Prometheus metrics (OpenMetrics text, `prometheus-client`).

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

use super::State;
use super::books::DeviceTotals;

/// `device="gpu:0"`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DeviceLabel {
    /// The device as given to `--device`.
    pub device: String,
}

/// `device`, `result="accepted"|"rejected"|"stale"|"found"`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ShareLabels {
    /// The device.
    pub device: String,
    /// The pool's verdict (`found`: no pool, `--header` mode).
    pub result: String,
}

/// `device`, `state="mining"|"paused"|"idle"`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StateLabels {
    /// The device.
    pub device: String,
    /// One of the states.
    pub state: String,
}

/// `device`, `source="measured"|"modeled"`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EnergyLabels {
    /// The device.
    pub device: String,
    /// Whether the joules are measured or modeled.
    pub source: String,
}

/// `input="difficulty"|"btc_price_usd"|"electricity_usd_per_kwh"`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct InputLabel {
    /// The economic input.
    pub input: String,
}

type F64Gauge = Gauge<f64, AtomicU64>;
type F64Counter = Counter<f64, AtomicU64>;

/// Every series the agent exports.
pub struct Metrics {
    registry: Registry,
    /// Hash rate over the last slice, H/s (0 when not mining).
    pub hashrate: Family<DeviceLabel, F64Gauge>,
    /// Nonces hashed.
    pub hashes: Family<DeviceLabel, Counter>,
    /// Shares by result.
    pub shares: Family<ShareLabels, Counter>,
    /// Energy while mining, J.
    pub joules: Family<EnergyLabels, F64Counter>,
    /// Power while mining over the last slice, W (0 when not mining).
    pub watts: Family<DeviceLabel, F64Gauge>,
    /// 1 for the device's current state, 0 for the others.
    pub state: Family<StateLabels, Gauge>,
    /// Decision margin, mining over staying off, $/h.
    pub margin: Family<DeviceLabel, F64Gauge>,
    /// Modeled revenue, USD.
    pub revenue: Family<DeviceLabel, F64Counter>,
    /// Modeled power cost, USD.
    pub power_cost: Family<DeviceLabel, F64Counter>,
    /// Time from a pause request to the engine's return, s.
    pub yield_latency: Family<DeviceLabel, Histogram>,
    /// When each economic input was true, Unix seconds.
    pub inputs_as_of: Family<InputLabel, F64Gauge>,
}

fn latency_histogram() -> Histogram {
    // 50 µs .. ~1.6 s in ×2 steps: the hand-back target is 10 ms.
    Histogram::new(exponential_buckets(50e-6, 2.0, 16))
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Registers every series under the `hashwatt` prefix.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("hashwatt");
        let m = Metrics {
            registry: Registry::default(),
            hashrate: Family::default(),
            hashes: Family::default(),
            shares: Family::default(),
            joules: Family::default(),
            watts: Family::default(),
            state: Family::default(),
            margin: Family::default(),
            revenue: Family::default(),
            power_cost: Family::default(),
            yield_latency: Family::new_with_constructor(latency_histogram),
            inputs_as_of: Family::default(),
        };
        registry.register(
            "hashrate_hashes_per_second",
            "SHA-256d hash rate over the last slice (0 when not mining)",
            m.hashrate.clone(),
        );
        registry.register("hashes", "Nonces hashed", m.hashes.clone());
        registry.register(
            "shares",
            "Shares by result (found: no pool to submit to)",
            m.shares.clone(),
        );
        registry.register_with_unit(
            "energy",
            "Energy used while mining (source: measured or modeled)",
            Unit::Joules,
            m.joules.clone(),
        );
        registry.register_with_unit(
            "power",
            "Power while mining over the last slice (0 when not mining)",
            Unit::Other("watts".into()),
            m.watts.clone(),
        );
        registry.register(
            "state",
            "1 for the device's state (mining, paused, idle), 0 for the others",
            m.state.clone(),
        );
        registry.register(
            "decision_margin_usd_per_hour",
            "Net $/h of mining minus net $/h of staying off the device (modeled)",
            m.margin.clone(),
        );
        registry.register(
            "modeled_revenue_usd",
            "Expected revenue of the hashes at the inputs of the time (modeled)",
            m.revenue.clone(),
        );
        registry.register(
            "modeled_power_cost_usd",
            "Power cost of the mining energy at the power price of the time (modeled)",
            m.power_cost.clone(),
        );
        registry.register_with_unit(
            "yield_latency",
            "Time from a pause request until the engine stopped hashing",
            Unit::Seconds,
            m.yield_latency.clone(),
        );
        registry.register(
            "economic_inputs_as_of_unix_seconds",
            "When each economic input of the current decision was true",
            m.inputs_as_of.clone(),
        );
        Metrics { registry, ..m }
    }

    /// Sets a device's state series.
    pub fn set_state(&self, device: &str, state: State) {
        for s in [State::Mining, State::Paused, State::Idle] {
            self.state
                .get_or_create(&StateLabels {
                    device: device.to_string(),
                    state: s.to_string(),
                })
                .set(i64::from(s == state));
        }
    }

    /// Starts a device's counters at its restored totals, so the counters and
    /// the books agree after a restart.
    pub fn restore(&self, device: &str, t: &DeviceTotals, measured: bool) {
        let d = DeviceLabel {
            device: device.to_string(),
        };
        self.hashes.get_or_create(&d).inc_by(t.hashes);
        for (result, n) in [
            ("accepted", t.accepted),
            ("rejected", t.rejected),
            ("stale", t.stale),
            ("found", t.found),
        ] {
            self.shares
                .get_or_create(&ShareLabels {
                    device: device.to_string(),
                    result: result.into(),
                })
                .inc_by(n);
        }
        self.joules
            .get_or_create(&energy_labels(device, measured))
            .inc_by(t.joules);
        self.revenue.get_or_create(&d).inc_by(t.revenue_usd);
        self.power_cost.get_or_create(&d).inc_by(t.power_cost_usd);
        self.hashrate.get_or_create(&d).set(0.0);
        self.watts.get_or_create(&d).set(0.0);
    }

    /// The OpenMetrics text exposition.
    ///
    /// # Errors
    /// A formatting error from the encoder.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

/// The energy series' labels.
pub fn energy_labels(device: &str, measured: bool) -> EnergyLabels {
    EnergyLabels {
        device: device.to_string(),
        source: if measured { "measured" } else { "modeled" }.into(),
    }
}
