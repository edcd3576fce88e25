//! Reading `hashwatt bench --json` reports (`"schema": "hashwatt.bench/1"`).
//!
//! The reader is tolerant: unknown fields are ignored, and the energy fields
//! (`energy`, `hashes_per_joule`, `joules_per_terahash`) may be absent or
//! `null`, as in reports written before energy metering existed.
//!
//! It is a lenient view of the schema that [`crate::bench::BenchReport`]
//! writes, kept apart from that strict type on purpose: economics needs only a
//! backend's hash rate and, when present, its watts, and analysts trim or
//! hand-write reports (a rate measured by another miner, say). The test
//! `econ_reads_a_report_that_bench_just_wrote` (`tests/econ_cli.rs`) keeps the
//! two in step.

use super::error::{EconError, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The schema string of bench reports: [`crate::bench::SCHEMA`], the one
/// definition, under the name this reader has always used.
pub use crate::bench::SCHEMA as BENCH_SCHEMA;

/// A bench report (only the fields economics needs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchReport {
    /// Must be [`BENCH_SCHEMA`].
    pub schema: String,
    /// Free-form machine description.
    #[serde(default)]
    pub machine: serde_json::Value,
    /// One entry per backend run.
    pub results: Vec<BenchResult>,
}

/// One backend's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchResult {
    /// Backend name (`gpu`, `avx2`, `scalar`, ...).
    pub backend: String,
    /// Threads used.
    #[serde(default)]
    pub threads: Option<u64>,
    /// Hashes computed.
    #[serde(default)]
    pub hashes: Option<f64>,
    /// Wall-clock seconds.
    #[serde(default)]
    pub seconds: Option<f64>,
    /// The device it ran on (a CPU model or a GPU adapter's name).
    #[serde(default)]
    pub device: Option<String>,
    /// Measured hashes per second.
    pub hashrate: f64,
    /// Energy measurement, when a meter was available.
    #[serde(default)]
    pub energy: Option<BenchEnergy>,
    /// Hashes per joule.
    #[serde(default)]
    pub hashes_per_joule: Option<f64>,
    /// Joules per terahash.
    #[serde(default)]
    pub joules_per_terahash: Option<f64>,
}

/// Energy measured during a bench run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchEnergy {
    /// Total joules over the run.
    #[serde(default)]
    pub joules: Option<f64>,
    /// Average watts over the run.
    #[serde(default)]
    pub watts: Option<f64>,
    /// Joules above the idle baseline.
    #[serde(default)]
    pub net_joules: Option<f64>,
    /// The idle power the bench subtracted, W.
    #[serde(default)]
    pub idle_watts: Option<f64>,
    /// Meter description (`nvml:NVIDIA H100 80GB HBM3`, `rapl`, ...).
    #[serde(default)]
    pub source: Option<String>,
    /// Whether the figure was measured (true) or modeled.
    #[serde(default)]
    pub measured: Option<bool>,
}

/// Lower-case name fragments of software (CPU-emulated) graphics adapters:
/// Mesa's llvmpipe/lavapipe and softpipe, Google's SwiftShader, Microsoft's
/// WARP ("Basic Render Driver").
const SOFTWARE_ADAPTERS: [&str; 6] = [
    "llvmpipe",
    "lavapipe",
    "softpipe",
    "swiftshader",
    "basic render",
    "warp",
];

impl BenchResult {
    /// The adapter's name when this is a `gpu` result that ran on a software
    /// adapter: its rate is the host CPU's, not a GPU's.
    pub fn software_adapter(&self) -> Option<&str> {
        let d = self.device.as_deref()?;
        let lower = d.to_lowercase();
        (self.backend == "gpu" && SOFTWARE_ADAPTERS.iter().any(|s| lower.contains(s))).then_some(d)
    }

    /// Average watts during the run, when the report has them.
    pub fn watts(&self) -> Option<f64> {
        let e = self.energy.as_ref()?;
        e.watts
            .or_else(|| Some(e.joules? / self.seconds.filter(|s| *s > 0.0)?))
            .filter(|w| w.is_finite() && *w >= 0.0)
    }

    /// Idle baseline watts: the report's `energy.idle_watts`, else
    /// `(joules − net_joules) / seconds`, when present.
    pub fn idle_watts(&self) -> Option<f64> {
        let e = self.energy.as_ref()?;
        let w = e.idle_watts.or_else(|| {
            let s = self.seconds.filter(|s| *s > 0.0)?;
            Some((e.joules? - e.net_joules?) / s)
        })?;
        (w.is_finite() && w >= 0.0).then_some(w)
    }

    /// Whether the energy figures were measured by a meter.
    pub fn energy_measured(&self) -> bool {
        self.energy
            .as_ref()
            .is_some_and(|e| e.measured.unwrap_or(false))
    }

    /// The meter's description, or `"unknown meter"`.
    pub fn energy_source(&self) -> &str {
        self.energy
            .as_ref()
            .and_then(|e| e.source.as_deref())
            .unwrap_or("unknown meter")
    }
}

impl BenchReport {
    /// Parses a report from JSON text.
    ///
    /// # Errors
    /// [`EconError::BenchReport`] for bad JSON, a different schema, or no
    /// results.
    pub fn from_json(text: &str, path: &Path) -> Result<Self> {
        let err = |message: String| EconError::BenchReport {
            path: path.to_owned(),
            message,
        };
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| err(format!("not JSON: {e}")))?;
        match value.get("schema").and_then(|s| s.as_str()) {
            Some(BENCH_SCHEMA) => {}
            Some(other) => {
                return Err(err(format!(
                    "schema is `{other}`, expected `{BENCH_SCHEMA}`"
                )));
            }
            None => return Err(err("no `schema` field".into())),
        }
        let report: BenchReport = serde_json::from_value(value).map_err(|e| err(format!("{e}")))?;
        if report.results.is_empty() {
            return Err(err("no results".into()));
        }
        Ok(report)
    }

    /// Reads and parses a report file.
    ///
    /// # Errors
    /// As [`BenchReport::from_json`], or an unreadable file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| EconError::BenchReport {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        Self::from_json(&text, path)
    }

    /// Picks the result to use: `backend` if given, else `gpu` if present,
    /// else the fastest.
    ///
    /// # Errors
    /// [`EconError::BenchReport`] if `backend` is not in the report.
    pub fn select(&self, backend: Option<&str>, path: &Path) -> Result<&BenchResult> {
        if let Some(name) = backend {
            return self
                .results
                .iter()
                .find(|r| r.backend.eq_ignore_ascii_case(name))
                .ok_or_else(|| EconError::BenchReport {
                    path: path.to_owned(),
                    message: format!(
                        "no result for backend `{name}` (report has: {})",
                        self.results
                            .iter()
                            .map(|r| r.backend.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                });
        }
        let best = self
            .results
            .iter()
            .find(|r| r.backend == "gpu")
            .or_else(|| {
                self.results
                    .iter()
                    .max_by(|a, b| a.hashrate.total_cmp(&b.hashrate))
            });
        best.ok_or_else(|| EconError::BenchReport {
            path: path.to_owned(),
            message: "no results".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NEW: &str = r#"{"schema":"hashwatt.bench/1","machine":{"cpu":"x","extra":1},
      "results":[
        {"backend":"avx2","threads":2,"hashes":1,"seconds":10.0,"hashrate":3.0e7},
        {"backend":"gpu","threads":1,"hashes":1,"seconds":10.0,"hashrate":1.2e9,
         "energy":{"joules":3000.0,"watts":300.0,"net_joules":2500.0,"source":"nvml:H100","measured":true},
         "hashes_per_joule":4e6,"joules_per_terahash":2.5e5,"future_field":[1,2]}]}"#;
    const OLD: &str = r#"{"schema":"hashwatt.bench/1","machine":{},
      "results":[{"backend":"scalar","hashrate":1.0e6,"energy":null},
                 {"backend":"avx2","hashrate":5.0e6}]}"#;

    #[test]
    fn picks_gpu_and_reads_energy() {
        let p = Path::new("new.json");
        let r = BenchReport::from_json(NEW, p).unwrap_or_else(|e| panic!("{e}"));
        let g = r.select(None, p).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(g.backend, "gpu");
        assert_eq!(g.watts(), Some(300.0));
        assert_eq!(g.idle_watts(), Some(50.0));
        assert!(g.energy_measured());
        let a = r.select(Some("AVX2"), p).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(a.watts(), None);
        let e = r.select(Some("neon"), p).unwrap_err().to_string();
        assert!(e.contains("avx2, gpu"), "{e}");
    }

    #[test]
    fn old_reports_pick_the_fastest() {
        let p = Path::new("old.json");
        let r = BenchReport::from_json(OLD, p).unwrap_or_else(|e| panic!("{e}"));
        let best = r.select(None, p).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(best.backend, "avx2");
        assert!(!best.energy_measured());
    }

    #[test]
    fn wrong_schema_is_an_error() {
        let e = BenchReport::from_json(r#"{"schema":"hashwatt.econ/1"}"#, Path::new("x.json"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("expected `hashwatt.bench/1`"), "{e}");
    }
}
