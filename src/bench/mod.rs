//! The benchmark harness: hashes per second and per joule of each backend.
//!
//! [`Plan::run`] is "bench this machine" as one call (what `hashwatt bench`
//! runs): backends, a meter per device, idle power, runs, the report.
//!
//! The job is synthetic (a fixed header, varied in its time field when the
//! nonce space runs out or a new interval starts) with a target of 1, which no
//! hash meets in practice, so the figure is pure search speed.
//!
//! A run ([`harness::run_backend`]) warms the engine up, then runs it in equal
//! slices of about a second (each a search with a deadline token), which gives
//! the median, minimum and maximum hashrate, while a [`PowerMeter`] measures
//! the whole window. Idle power ([`harness::measure_idle`]) is measured first,
//! so the energy above idle is known too. [`BenchReport`] is the JSON report
//! (`hashwatt.bench/1`: fields are only ever added).
//!
//! [`PowerMeter`]: crate::energy::PowerMeter

pub mod harness;
pub mod machine;
pub mod plan;

use serde::{Deserialize, Serialize};

use crate::header::Header;
use crate::pow::Target;
pub use machine::Machine;

pub use harness::{
    BenchConfig, BenchError, CANCEL_SAMPLES, Idle, Phase, Progress, cancel_latency,
    cancel_latency_samples, measure_idle, run_backend,
};
pub use plan::{Event, Plan};

/// The JSON schema name of a bench report. Version 1 is kept: fields are only
/// added (with defaults when reading older reports), never renamed or removed.
pub const SCHEMA: &str = "hashwatt.bench/1";

/// The ASIC every result is compared with (by default the hardware table's
/// [`S21_XP`](crate::hardware::S21_XP) row).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AsicReference {
    /// Model name.
    pub model: String,
    /// Its efficiency, joules per terahash.
    pub joules_per_terahash: f64,
    /// Where the figure comes from.
    pub source: String,
}

impl Default for AsicReference {
    fn default() -> Self {
        let a = crate::hardware::S21_XP;
        AsicReference {
            model: a.name.into(),
            joules_per_terahash: a.j_per_th,
            source: format!(
                "{} TH/s at {} W, {} J/TH at the wall ({}; docs/sources.md)",
                a.th_per_s,
                a.wall_watts.get(),
                a.j_per_th,
                a.source
            ),
        }
    }
}

/// Hashrate over the equal intervals (about a second each) of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IntervalHashrate {
    /// Median, hashes per second.
    pub median: f64,
    /// Slowest interval, hashes per second.
    pub min: f64,
    /// Fastest interval, hashes per second.
    pub max: f64,
    /// Number of intervals.
    pub intervals: usize,
}

impl IntervalHashrate {
    /// Statistics of per-interval rates (`None` when empty).
    pub fn of(rates: &[f64]) -> Option<Self> {
        if rates.is_empty() {
            return None;
        }
        let mut sorted = rates.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            0.5 * (sorted[n / 2 - 1] + sorted[n / 2])
        };
        Some(IntervalHashrate {
            median,
            min: sorted[0],
            max: sorted[n - 1],
            intervals: n,
        })
    }
}

/// The energy of one run, with its provenance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnergyReport {
    /// Energy over the measured window.
    pub joules: f64,
    /// Average power: joules / seconds.
    pub watts: f64,
    /// Energy above idle: joules − idle watts × seconds (`None` without an idle figure).
    pub net_joules: Option<f64>,
    /// The idle power subtracted.
    #[serde(default)]
    pub idle_watts: Option<f64>,
    /// Where the figure comes from: `measured: ...` or `modeled: ...`.
    pub source: String,
    /// Whether it was measured (false: modeled).
    pub measured: bool,
}

/// One backend's run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchResult {
    /// Backend name.
    pub backend: String,
    /// Worker threads.
    pub threads: usize,
    /// Nonces hashed in the measured window.
    pub hashes: u64,
    /// Length of the measured window, seconds.
    pub seconds: f64,
    /// Hashes per second over the window.
    pub hashrate: f64,
    /// The hardware it ran on (CPU model or GPU adapter).
    #[serde(default)]
    pub device: String,
    /// Warmup before the window, seconds.
    #[serde(default)]
    pub warmup_seconds: f64,
    /// Median, minimum and maximum over about-1-second intervals.
    #[serde(default)]
    pub interval_hashrate: Option<IntervalHashrate>,
    /// Energy of the window (`None` when no meter or model covers the device).
    #[serde(default)]
    pub energy: Option<EnergyReport>,
    /// Hashes per joule (gross: all the device's power).
    #[serde(default)]
    pub hashes_per_joule: Option<f64>,
    /// Joules per terahash (gross), the unit ASICs are rated in.
    #[serde(default)]
    pub joules_per_terahash: Option<f64>,
    /// Hashes per joule above idle (the marginal cost of hashing on a device
    /// that is powered anyway).
    #[serde(default)]
    pub net_hashes_per_joule: Option<f64>,
    /// Joules per terahash above idle.
    #[serde(default)]
    pub net_joules_per_terahash: Option<f64>,
    /// How many times more energy per hash than the reference ASIC (gross J/TH ÷ ASIC J/TH).
    #[serde(default)]
    pub times_less_efficient_than_asic: Option<f64>,
    /// Time from `cancel()` to the engine's `search` returning, milliseconds:
    /// the median of [`BenchResult::cancel_latency`] when that was measured.
    #[serde(default)]
    pub cancel_latency_ms: Option<f64>,
    /// The distribution of the cancel latency over cancels at random points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_latency: Option<CancelLatency>,
    /// Device memory the engine's allocator reserved, bytes (GPU engines whose
    /// backend reports it; `None` for CPU engines).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_memory_bytes: Option<u64>,
}

/// Cancel latency over several cancels at random points of a search,
/// milliseconds; percentiles by nearest rank.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CancelLatency {
    /// Number of cancels measured.
    pub samples: usize,
    /// Median.
    pub p50_ms: f64,
    /// 99th percentile (the maximum for fewer than 100 samples).
    pub p99_ms: f64,
    /// Largest.
    pub max_ms: f64,
    /// Mean.
    pub mean_ms: f64,
}

impl CancelLatency {
    /// The distribution of `samples` (`None` if empty).
    pub fn of(samples: &[std::time::Duration]) -> Option<CancelLatency> {
        let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e3).collect();
        ms.sort_by(f64::total_cmp);
        let n = ms.len();
        let rank = |p: f64| ms[((p * n as f64).ceil() as usize).clamp(1, n) - 1];
        (n > 0).then(|| CancelLatency {
            samples: n,
            p50_ms: rank(0.50),
            p99_ms: rank(0.99),
            max_ms: ms[n - 1],
            mean_ms: ms.iter().sum::<f64>() / n as f64,
        })
    }
}

impl BenchResult {
    /// A run's timing, with no interval series, energy or cancel figures yet.
    pub fn timing(
        backend: String,
        threads: usize,
        hashes: u64,
        seconds: f64,
        device: String,
    ) -> Self {
        BenchResult {
            backend,
            threads,
            hashes,
            seconds,
            hashrate: hashes as f64 / seconds,
            device,
            warmup_seconds: 0.0,
            interval_hashrate: None,
            energy: None,
            hashes_per_joule: None,
            joules_per_terahash: None,
            net_hashes_per_joule: None,
            net_joules_per_terahash: None,
            times_less_efficient_than_asic: None,
            cancel_latency_ms: None,
            cancel_latency: None,
            device_memory_bytes: None,
        }
    }
}

/// The idle power of a device, measured or modeled before the runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IdleReport {
    /// The device.
    pub device: String,
    /// Average idle power.
    pub watts: f64,
    /// Seconds measured (0 for a model, which needs no measuring).
    pub seconds: f64,
    /// `measured: ...` or `modeled: ...`.
    pub source: String,
    /// Whether it was measured.
    pub measured: bool,
}

/// How the bench was run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BenchSettings {
    /// Measured seconds per backend.
    pub seconds: f64,
    /// Warmup seconds per backend.
    pub warmup_seconds: f64,
    /// Idle seconds asked for.
    pub idle_seconds: f64,
    /// `--meter`.
    pub meter: String,
}

/// A whole bench report, as `hashwatt bench --json` prints it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchReport {
    /// [`SCHEMA`].
    pub schema: String,
    /// The machine measured.
    pub machine: Machine,
    /// How the bench was run.
    #[serde(default)]
    pub settings: BenchSettings,
    /// Idle power per device.
    #[serde(default)]
    pub idle: Vec<IdleReport>,
    /// One result per backend.
    pub results: Vec<BenchResult>,
    /// The ASIC compared with.
    #[serde(default)]
    pub asic: AsicReference,
    /// Notes, e.g. why energy is modeled rather than measured.
    #[serde(default)]
    pub notes: Vec<String>,
}

/// Errors from reading a report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// Not JSON of the report's shape.
    #[error("not a bench report: {0}")]
    Json(#[from] serde_json::Error),
    /// A schema this version cannot read.
    #[error("unsupported report schema {found:?} (expected {SCHEMA:?})")]
    Schema {
        /// The schema found.
        found: String,
    },
}

impl BenchReport {
    /// Reads a JSON report (any `hashwatt.bench/1`, including ones written
    /// before the energy fields existed).
    ///
    /// # Errors
    /// [`ReportError`] for malformed JSON or another schema.
    pub fn from_json(text: &str) -> Result<Self, ReportError> {
        let report: BenchReport = serde_json::from_str(text)?;
        if report.schema != SCHEMA {
            return Err(ReportError::Schema {
                found: report.schema,
            });
        }
        Ok(report)
    }
}

/// A target no hash meets in practice (value 1).
pub fn unreachable_target() -> Target {
    let mut b = [0u8; 32];
    b[0] = 1;
    Target::from_le_bytes(b)
}

/// The synthetic header benchmarks hash: the genesis block's.
pub fn synthetic_header() -> Header {
    Header::from_bytes(&GENESIS_HEADER)
}

const GENESIS_HEADER: [u8; 80] = {
    let mut h = [0u8; 80];
    let tail: [u8; 48] = [
        0x3b, 0xa3, 0xed, 0xfd, 0x7a, 0x7b, 0x12, 0xb2, 0x7a, 0xc7, 0x2c, 0x3e, 0x67, 0x76, 0x8f,
        0x61, 0x7f, 0xc8, 0x1b, 0xc3, 0x88, 0x8a, 0x51, 0x32, 0x3a, 0x9f, 0xb8, 0xaa, 0x4b, 0x1e,
        0x5e, 0x4a, 0x29, 0xab, 0x5f, 0x49, 0xff, 0xff, 0x00, 0x1d, 0x1d, 0xac, 0x2b, 0x7c, 0, 0,
        0, 0,
    ];
    h[0] = 1;
    let mut i = 0;
    while i < 44 {
        h[36 + i] = tail[i];
        i += 1;
    }
    h
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_stats() {
        let s = IntervalHashrate::of(&[3.0, 1.0, 2.0, 10.0]).unwrap();
        assert_eq!((s.median, s.min, s.max, s.intervals), (2.5, 1.0, 10.0, 4));
        assert_eq!(IntervalHashrate::of(&[5.0, 1.0, 9.0]).unwrap().median, 5.0);
        assert!(IntervalHashrate::of(&[]).is_none());
    }

    #[test]
    fn reads_a_report_written_before_the_energy_fields() {
        let old = r#"{"schema":"hashwatt.bench/1","machine":{"cpu":"AMD EPYC","cpu_features":["avx2"],
            "logical_cpus":2,"os":"linux x86_64","hashwatt_version":"0.1.0"},
            "results":[{"backend":"scalar","threads":2,"hashes":1000,"seconds":0.5,"hashrate":2000.0}]}"#;
        let report = BenchReport::from_json(old).unwrap();
        assert_eq!(report.results[0].hashes, 1000);
        assert_eq!(report.results[0].energy, None);
        assert_eq!(report.machine.git_commit, "");
        assert_eq!(report.asic.joules_per_terahash, 13.5);
        let other = old.replace("bench/1", "bench/9");
        assert!(matches!(
            BenchReport::from_json(&other),
            Err(ReportError::Schema { .. })
        ));
    }

    #[test]
    fn synthetic_header_is_genesis() {
        assert_eq!(
            synthetic_header()
                .with_nonce(2083236893)
                .block_hash()
                .to_string(),
            "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
        );
    }
}
