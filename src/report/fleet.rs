//! The fleet view: bench reports and agent books from many hosts side by
//! side, per host and in total (`hashwatt fleet`).
//!
//! A bench report (`hashwatt.bench/1`) counts as its fastest backend: hash
//! rate and hashes per joule as measured (or modeled, as labeled). Agent
//! books (JSON lines, [`crate::agent::books`]) give what the agent actually
//! did: hashes over time mining, joules, time mining, paused and idle, and
//! modeled revenue minus modeled power cost.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use crate::agent::books::{DeviceTotals, Totals, read_records};
use crate::report::csv::quote;
use crate::units::figure;

/// The schema name of the fleet JSON.
pub const SCHEMA: &str = "hashwatt.fleet/1";

/// Errors loading fleet inputs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FleetError {
    /// The file cannot be read.
    #[error("{}: {reason}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Neither a bench report nor agent books.
    #[error("{}: {reason}", path.display())]
    Unknown {
        /// The file.
        path: PathBuf,
        /// What was found.
        reason: String,
    },
}

/// One host's line.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HostRow {
    /// Host name (`HOST=FILE`, the books' host, or the file name).
    pub host: String,
    /// `bench` or `agent`.
    pub kind: String,
    /// Backend (bench) or devices (agent).
    pub backend: String,
    /// Hash rate, H/s: the bench result's, or the agent's hashes over its
    /// time mining.
    pub hashrate: f64,
    /// Hashes per joule.
    pub hashes_per_joule: Option<f64>,
    /// Whether the energy was measured (`false`: modeled).
    pub energy_measured: Option<bool>,
    /// Hashes done (agent).
    pub hashes: Option<u64>,
    /// Seconds mining (agent).
    pub seconds_mining: Option<f64>,
    /// Seconds paused by a trigger (agent).
    pub seconds_paused: Option<f64>,
    /// Seconds idle by decision (agent).
    pub seconds_idle: Option<f64>,
    /// Shares accepted by the pool (agent).
    pub accepted: Option<u64>,
    /// Modeled revenue, USD (agent).
    pub revenue_usd: Option<f64>,
    /// Modeled power cost, USD (agent).
    pub power_cost_usd: Option<f64>,
    /// Modeled net: revenue − power cost, USD (agent).
    pub net_usd: Option<f64>,
}

/// The whole fleet.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Fleet {
    /// [`SCHEMA`].
    pub schema: &'static str,
    /// One row per input.
    pub hosts: Vec<HostRow>,
    /// Sums (hash rate, hashes, times, money) and the fleet's hashes per
    /// joule (total hash rate over total power).
    pub total: HostRow,
}

fn read(path: &Path) -> Result<String, FleetError> {
    std::fs::read_to_string(path).map_err(|e| FleetError::Read {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

fn stem(path: &Path) -> String {
    path.file_stem().map_or_else(
        || path.display().to_string(),
        |s| s.to_string_lossy().into_owned(),
    )
}

fn from_bench(host: String, v: &Value, path: &Path) -> Result<HostRow, FleetError> {
    let results = v["results"]
        .as_array()
        .filter(|r| !r.is_empty())
        .ok_or_else(|| FleetError::Unknown {
            path: path.to_path_buf(),
            reason: "bench report without results".into(),
        })?;
    let best = results
        .iter()
        .max_by(|a, b| {
            a["hashrate"]
                .as_f64()
                .unwrap_or(0.0)
                .total_cmp(&b["hashrate"].as_f64().unwrap_or(0.0))
        })
        .unwrap_or(&results[0]);
    Ok(HostRow {
        host,
        kind: "bench".into(),
        backend: best["backend"].as_str().unwrap_or("?").to_string(),
        hashrate: best["hashrate"].as_f64().unwrap_or(0.0),
        hashes_per_joule: best["hashes_per_joule"].as_f64(),
        energy_measured: best["energy"]["measured"].as_bool(),
        hashes: None,
        seconds_mining: None,
        seconds_paused: None,
        seconds_idle: None,
        accepted: None,
        revenue_usd: None,
        power_cost_usd: None,
        net_usd: None,
    })
}

fn from_books(host: Option<String>, path: &Path) -> Result<HostRow, FleetError> {
    let records = read_records(path).map_err(|e| FleetError::Unknown {
        path: path.to_path_buf(),
        reason: format!("neither a hashwatt.bench/1 report nor agent books ({e})"),
    })?;
    if !records.iter().any(|r| r.get("event").is_some()) {
        return Err(FleetError::Unknown {
            path: path.to_path_buf(),
            reason: "neither a hashwatt.bench/1 report nor agent books (no \"event\" records)"
                .into(),
        });
    }
    let totals: Totals = records
        .iter()
        .rev()
        .find_map(|r| r.get("totals"))
        .and_then(|t| serde_json::from_value(t.clone()).ok())
        .unwrap_or_default();
    let started = records.iter().rev().find(|r| r["event"] == "started");
    let booked_host = started.and_then(|r| r["host"].as_str()).map(str::to_string);
    let devices = started
        .and_then(|r| r["devices"].as_array())
        .map(|d| {
            d.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("+")
        })
        .unwrap_or_default();
    let t: &DeviceTotals = &totals.total;
    let hashrate = if t.seconds_mining > 0.0 {
        t.hashes as f64 / t.seconds_mining
    } else {
        0.0
    };
    Ok(HostRow {
        host: host.or(booked_host).unwrap_or_else(|| stem(path)),
        kind: "agent".into(),
        backend: devices,
        hashrate,
        hashes_per_joule: (t.joules > 0.0).then(|| t.hashes as f64 / t.joules),
        energy_measured: (!t.joules_source.is_empty())
            .then(|| t.joules_source.split("; ").all(|s| s == "measured")),
        hashes: Some(t.hashes),
        seconds_mining: Some(t.seconds_mining),
        seconds_paused: Some(t.seconds_paused),
        seconds_idle: Some(t.seconds_idle),
        accepted: Some(t.accepted),
        revenue_usd: Some(t.revenue_usd),
        power_cost_usd: Some(t.power_cost_usd),
        net_usd: Some(t.revenue_usd - t.power_cost_usd),
    })
}

/// Loads one input: a bench report or agent books; `host` overrides the
/// name.
///
/// # Errors
/// [`FleetError`] when the file cannot be read or is neither.
pub fn load(host: Option<String>, path: &Path) -> Result<HostRow, FleetError> {
    let text = read(path)?;
    if let Ok(v) = serde_json::from_str::<Value>(&text)
        && v.get("schema").is_some()
    {
        return match v["schema"].as_str() {
            Some(crate::bench::SCHEMA) => from_bench(host.unwrap_or_else(|| stem(path)), &v, path),
            other => Err(FleetError::Unknown {
                path: path.to_path_buf(),
                reason: format!(
                    "schema {other:?}: the fleet view reads {} reports and agent books",
                    crate::bench::SCHEMA
                ),
            }),
        };
    }
    from_books(host, path)
}

fn sum_opt<T: Copy + std::iter::Sum<T>>(
    rows: &[HostRow],
    f: impl Fn(&HostRow) -> Option<T>,
) -> Option<T> {
    let v: Vec<T> = rows.iter().filter_map(&f).collect();
    (!v.is_empty()).then(|| v.into_iter().sum())
}

/// Sets the rows side by side with their total.
pub fn fleet(hosts: Vec<HostRow>) -> Fleet {
    let hashrate: f64 = hosts.iter().map(|h| h.hashrate).sum();
    // Power of each host at its rate: H/s ÷ H/J = W.
    let watts: Option<f64> = hosts
        .iter()
        .map(|h| {
            h.hashes_per_joule
                .filter(|e| *e > 0.0)
                .map(|e| h.hashrate / e)
        })
        .sum();
    let measured = hosts
        .iter()
        .map(|h| h.energy_measured)
        .collect::<Option<Vec<_>>>();
    let total = HostRow {
        host: "total".into(),
        kind: format!("{} hosts", hosts.len()),
        backend: String::new(),
        hashrate,
        hashes_per_joule: watts.filter(|w| *w > 0.0).map(|w| hashrate / w),
        energy_measured: measured.map(|m| m.iter().all(|x| *x)),
        hashes: sum_opt(&hosts, |h| h.hashes),
        seconds_mining: sum_opt(&hosts, |h| h.seconds_mining),
        seconds_paused: sum_opt(&hosts, |h| h.seconds_paused),
        seconds_idle: sum_opt(&hosts, |h| h.seconds_idle),
        accepted: sum_opt(&hosts, |h| h.accepted),
        revenue_usd: sum_opt(&hosts, |h| h.revenue_usd),
        power_cost_usd: sum_opt(&hosts, |h| h.power_cost_usd),
        net_usd: sum_opt(&hosts, |h| h.net_usd),
    };
    Fleet {
        schema: SCHEMA,
        hosts,
        total,
    }
}

/// The CSV columns.
pub const CSV_HEADER: &[&str] = &[
    "host",
    "kind",
    "backend",
    "hashrate",
    "hashes_per_joule",
    "energy_measured",
    "hashes",
    "seconds_mining",
    "seconds_paused",
    "seconds_idle",
    "accepted",
    "revenue_usd",
    "power_cost_usd",
    "net_usd",
];

fn cells(r: &HostRow, text: bool) -> Vec<String> {
    let f = |v: Option<f64>| {
        if text {
            figure(v, 4)
        } else {
            v.map(|v| v.to_string()).unwrap_or_default()
        }
    };
    let n = |v: Option<u64>| {
        v.map(|v| v.to_string())
            .unwrap_or(if text { "-".into() } else { String::new() })
    };
    vec![
        r.host.clone(),
        r.kind.clone(),
        r.backend.clone(),
        f(Some(r.hashrate)),
        f(r.hashes_per_joule),
        match r.energy_measured {
            Some(true) => "measured".into(),
            Some(false) => "modeled".into(),
            None => {
                if text {
                    "-".into()
                } else {
                    String::new()
                }
            }
        },
        n(r.hashes),
        f(r.seconds_mining),
        f(r.seconds_paused),
        f(r.seconds_idle),
        n(r.accepted),
        f(r.revenue_usd),
        f(r.power_cost_usd),
        f(r.net_usd),
    ]
}

impl Fleet {
    /// CSV, one row per host then the total (RFC 4180 quoting).
    pub fn to_csv(&self) -> String {
        let mut out = CSV_HEADER.join(",") + "\n";
        for r in self.hosts.iter().chain(std::iter::once(&self.total)) {
            let row: Vec<String> = cells(r, false).iter().map(|c| quote(c)).collect();
            out += &row.join(",");
            out.push('\n');
        }
        out
    }

    /// A Markdown table, one row per host then the total.
    pub fn to_markdown(&self) -> String {
        let head = [
            "host",
            "kind",
            "backend",
            "H/s",
            "H/J",
            "energy",
            "hashes",
            "s mining",
            "s paused",
            "s idle",
            "accepted",
            "revenue $ (modeled)",
            "power $ (modeled)",
            "net $ (modeled)",
        ];
        let mut out = format!("| {} |\n", head.join(" | "));
        out += &format!("|{}|\n", ["---"; 14].join("|"));
        for r in &self.hosts {
            out += &format!("| {} |\n", cells(r, true).join(" | "));
        }
        let total: Vec<String> = cells(&self.total, true)
            .into_iter()
            .map(|c| if c.is_empty() { c } else { format!("**{c}**") })
            .collect();
        out += &format!("| {} |\n", total.join(" | "));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(host: &str, hashrate: f64, hpj: f64, net: Option<f64>) -> HostRow {
        HostRow {
            host: host.into(),
            kind: "agent".into(),
            backend: "cpu".into(),
            hashrate,
            hashes_per_joule: Some(hpj),
            energy_measured: Some(false),
            hashes: Some(10),
            seconds_mining: Some(1.0),
            seconds_paused: Some(2.0),
            seconds_idle: Some(0.5),
            accepted: Some(1),
            revenue_usd: net,
            power_cost_usd: net.map(|_| 0.0),
            net_usd: net,
        }
    }

    #[test]
    fn the_total_weights_efficiency_by_power() {
        // 100 H/s at 10 H/J (10 W) and 300 H/s at 1 H/J (300 W):
        // 400 H/s over 310 W.
        let f = fleet(vec![
            row("a", 100.0, 10.0, Some(1.0)),
            row("b", 300.0, 1.0, Some(2.0)),
        ]);
        assert_eq!(f.total.hashrate, 400.0);
        let hpj = f.total.hashes_per_joule.unwrap_or(0.0);
        assert!((hpj - 400.0 / 310.0).abs() < 1e-12, "{hpj}");
        assert_eq!(f.total.net_usd, Some(3.0));
        assert_eq!(f.total.seconds_paused, Some(4.0));
        assert_eq!(f.total.hashes, Some(20));
        let csv = f.to_csv();
        assert_eq!(csv.lines().count(), 4);
        assert!(
            csv.lines()
                .last()
                .unwrap_or("")
                .starts_with("total,2 hosts,")
        );
        assert!(f.to_markdown().contains("| **total** |"));
    }
}
