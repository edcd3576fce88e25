//! The agent's books: an append-only JSON-lines file.
//!
//! Every record is one line, written with a single `write` and flushed
//! before the next, so a crash or `kill -9` loses at most the record being
//! written (a torn last line is skipped on reading). Records that change the
//! totals carry the cumulative [`Totals`], so on start the agent reads the
//! file back and carries on from the last complete record that has them.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::AgentError;

/// Cumulative figures of one device.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeviceTotals {
    /// Nonces hashed.
    pub hashes: u64,
    /// Shares the pool accepted.
    pub accepted: u64,
    /// Shares the pool rejected.
    pub rejected: u64,
    /// Shares the pool called stale.
    pub stale: u64,
    /// Hits at or under the share target found without a pool to submit
    /// them to (`--header` mode); re-checked on the scalar path.
    pub found: u64,
    /// Energy used while mining, joules.
    pub joules: f64,
    /// Where the joules come from (`measured: ...` or `modeled: ...`).
    pub joules_source: String,
    /// Modeled revenue of the hashes, USD (expected value at the inputs of
    /// the time: difficulty, BTC price, pool fee).
    pub revenue_usd: f64,
    /// Modeled power cost of the joules, USD (electricity price × PUE).
    pub power_cost_usd: f64,
    /// Seconds spent mining.
    pub seconds_mining: f64,
    /// Seconds paused by a trigger (HTTP, signal, probe, NVML).
    pub seconds_paused: f64,
    /// Seconds idle by decision (mining did not pay).
    pub seconds_idle: f64,
}

impl DeviceTotals {
    /// Adds `other` into `self` (the source label is kept when set).
    pub fn add(&mut self, other: &DeviceTotals) {
        self.hashes += other.hashes;
        self.accepted += other.accepted;
        self.rejected += other.rejected;
        self.stale += other.stale;
        self.found += other.found;
        self.joules += other.joules;
        if self.joules_source.is_empty() {
            self.joules_source.clone_from(&other.joules_source);
        }
        self.revenue_usd += other.revenue_usd;
        self.power_cost_usd += other.power_cost_usd;
        self.seconds_mining += other.seconds_mining;
        self.seconds_paused += other.seconds_paused;
        self.seconds_idle += other.seconds_idle;
    }
}

/// Cumulative figures per device (keyed by device name, e.g. `gpu:0`) and
/// for the whole host.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Totals {
    /// Per device.
    pub devices: BTreeMap<String, DeviceTotals>,
    /// Sum over devices.
    pub total: DeviceTotals,
}

impl Totals {
    /// Recomputes [`Totals::total`] from the devices.
    pub fn sum(&mut self) {
        let mut total = DeviceTotals::default();
        for d in self.devices.values() {
            total.add(d);
        }
        // A mix of sources is labeled as such.
        let sources: std::collections::BTreeSet<_> = self
            .devices
            .values()
            .map(|d| d.joules_source.as_str())
            .filter(|s| !s.is_empty())
            .collect();
        if sources.len() > 1 {
            total.joules_source = sources.into_iter().collect::<Vec<_>>().join("; ");
        }
        self.total = total;
    }
}

/// The books file, open for appending.
#[derive(Debug)]
pub struct Books {
    path: PathBuf,
    file: File,
}

/// Seconds since the Unix epoch, with milliseconds.
pub fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

impl Books {
    /// Opens (creating) the books at `path` and reads back the totals of its
    /// last complete record that carries them.
    ///
    /// # Errors
    /// [`AgentError::Books`] when the file cannot be opened or read, or a
    /// complete line in it is not a JSON object (a torn last line, without
    /// its newline, is skipped).
    pub fn open(path: &Path) -> Result<(Books, Totals), AgentError> {
        let err = |reason: String| AgentError::Books {
            path: path.to_path_buf(),
            reason,
        };
        if path.exists() {
            drop_torn_tail(path).map_err(|e| err(e.to_string()))?;
        }
        let totals = if path.exists() {
            read_totals(path)?
        } else {
            Totals::default()
        };
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| err(e.to_string()))?;
        Ok((
            Books {
                path: path.to_path_buf(),
                file,
            },
            totals,
        ))
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one record: `{"time": <unix s>, "event": event, ...fields}`,
    /// in one write, then flushes it to the operating system.
    ///
    /// # Errors
    /// [`AgentError::Books`] when the write fails.
    pub fn record(&mut self, event: &str, fields: Value) -> Result<(), AgentError> {
        let mut obj = serde_json::Map::new();
        obj.insert("time".into(), json!(unix_now()));
        obj.insert("event".into(), json!(event));
        if let Value::Object(map) = fields {
            obj.extend(map);
        }
        let mut line = serde_json::to_vec(&Value::Object(obj)).map_err(|e| AgentError::Books {
            path: self.path.clone(),
            reason: e.to_string(),
        })?;
        line.push(b'\n');
        self.write_raw(&line)
    }

    fn write_raw(&mut self, bytes: &[u8]) -> Result<(), AgentError> {
        self.file
            .write_all(bytes)
            .and_then(|()| self.file.flush())
            .map_err(|e| AgentError::Books {
                path: self.path.clone(),
                reason: e.to_string(),
            })
    }
}

/// Cuts a torn last record (a crash mid-write: no newline at the end) off
/// the file, so that the next record starts on a line of its own.
fn drop_torn_tail(path: &Path) -> std::io::Result<()> {
    let bytes = std::fs::read(path)?;
    if bytes.last().is_none_or(|&b| b == b'\n') {
        return Ok(());
    }
    let keep = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    OpenOptions::new()
        .write(true)
        .open(path)?
        .set_len(keep as u64)
}

/// The totals of the last complete record in `path` that has them.
///
/// # Errors
/// [`AgentError::Books`] when the file cannot be read or a complete line is
/// not a JSON object.
pub fn read_totals(path: &Path) -> Result<Totals, AgentError> {
    let err = |reason: String| AgentError::Books {
        path: path.to_path_buf(),
        reason,
    };
    let file = File::open(path).map_err(|e| err(e.to_string()))?;
    let mut reader = BufReader::new(file);
    let mut totals = Totals::default();
    let mut line = String::new();
    let mut number = 0usize;
    loop {
        line.clear();
        let n = reader
            .read_line(&mut line)
            .map_err(|e| err(e.to_string()))?;
        if n == 0 {
            break;
        }
        number += 1;
        let complete = line.ends_with('\n');
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => {
                if let Some(t) = map.get("totals") {
                    totals = serde_json::from_value(t.clone())
                        .map_err(|e| err(format!("line {number}: totals: {e}")))?;
                }
            }
            // A torn last line: the crash the format is built to survive.
            Err(_) if !complete => break,
            Ok(_) | Err(_) => {
                return Err(err(format!(
                    "line {number} is not a JSON object record; is this a hashwatt books file?"
                )));
            }
        }
    }
    Ok(totals)
}

/// Every complete record in a books file, in order (a torn last line is
/// skipped).
///
/// # Errors
/// [`AgentError::Books`] when the file cannot be read or a complete line is
/// not JSON.
pub fn read_records(path: &Path) -> Result<Vec<Value>, AgentError> {
    let err = |reason: String| AgentError::Books {
        path: path.to_path_buf(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    let complete = text.ends_with('\n');
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::with_capacity(lines.len());
    for (i, l) in lines.iter().enumerate() {
        if l.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(l) {
            Ok(v) => out.push(v),
            Err(_) if i + 1 == lines.len() && !complete => break,
            Err(e) => return Err(err(format!("line {}: {e}", i + 1))),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn totals(hashes: u64) -> Totals {
        let mut t = Totals::default();
        t.devices.insert(
            "cpu".into(),
            DeviceTotals {
                hashes,
                joules: 1.5,
                joules_source: "modeled: test".into(),
                ..Default::default()
            },
        );
        t.sum();
        t
    }

    #[test]
    fn totals_survive_a_reopen_and_a_torn_last_line() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("books.jsonl");
        {
            let (mut b, t) = Books::open(&path).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(t, Totals::default());
            b.record("checkpoint", json!({"totals": totals(10)}))
                .unwrap_or_else(|e| panic!("{e}"));
            b.record("state", json!({"device": "cpu"}))
                .unwrap_or_else(|e| panic!("{e}"));
            b.record("checkpoint", json!({"totals": totals(25)}))
                .unwrap_or_else(|e| panic!("{e}"));
        }
        // kill -9 in the middle of a record.
        let mut f = OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap_or_else(|e| panic!("{e}"));
        f.write_all(br#"{"time":1,"event":"checkpoint","totals":{"devi"#)
            .unwrap_or_else(|e| panic!("{e}"));
        drop(f);
        let (mut b, t) = Books::open(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.total.hashes, 25);
        b.record("checkpoint", json!({"totals": totals(30)}))
            .unwrap_or_else(|e| panic!("{e}"));
        drop(b);
        let records = read_records(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(records.len(), 4, "the torn record is cut off: {records:?}");
        assert_eq!(
            read_totals(&path)
                .unwrap_or_else(|e| panic!("{e}"))
                .total
                .hashes,
            30
        );
    }

    #[test]
    fn a_file_that_is_not_books_is_refused() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("x.jsonl");
        std::fs::write(&path, "hello\nworld\n").unwrap_or_else(|e| panic!("{e}"));
        let e = Books::open(&path).map(|_| ()).unwrap_err();
        assert!(e.to_string().contains("line 1"), "{e}");
    }
}
