//! Side-by-side comparison of saved reports (`hashwatt compare`).
//!
//! Accepts two or more reports of one schema, either `hashwatt.bench/1`
//! (e.g. two GPUs, or one host on two dates) or `hashwatt.econ/1` (two
//! scenarios). Every numeric field is flattened to a dotted path — bench
//! results are keyed by backend (`results[gpu].hashrate`), site options by
//! name — and each report after the first gets its difference from the
//! first, absolute and in percent.
//!
//! ```
//! use hashwatt::report::compare::{compare, Loaded};
//! let a = Loaded::from_json("a.json", r#"{"schema":"hashwatt.bench/1","results":[{"backend":"gpu","hashrate":1.0e9}]}"#)?;
//! let b = Loaded::from_json("b.json", r#"{"schema":"hashwatt.bench/1","results":[{"backend":"gpu","hashrate":1.5e9}]}"#)?;
//! let c = compare(&[a, b])?;
//! let row = c.rows.iter().find(|r| r.field == "results[gpu].hashrate").unwrap();
//! assert_eq!(row.diffs[0].as_ref().unwrap().percent, Some(50.0));
//! # Ok::<(), hashwatt::report::compare::CompareError>(())
//! ```

use serde::Serialize;
use serde_json::Value;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Schemas `compare` understands.
pub const KNOWN_SCHEMAS: [&str; 3] = [
    crate::bench::SCHEMA,
    crate::economics::report::ECON_SCHEMA_V1,
    crate::economics::report::ECON_SCHEMA,
];

/// Schema of the comparison's own JSON output.
pub const COMPARE_SCHEMA: &str = "hashwatt.compare/1";

/// Why a comparison failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CompareError {
    /// A file could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// A file is not JSON.
    #[error("{} is not JSON: {message}", path.display())]
    Json {
        /// File.
        path: PathBuf,
        /// Parser message.
        message: String,
    },
    /// No `schema` string.
    #[error("{} has no \"schema\" field (expected one of: {})", path.display(), KNOWN_SCHEMAS.join(", "))]
    MissingSchema {
        /// File.
        path: PathBuf,
    },
    /// A schema `compare` does not know.
    #[error("{} has unknown schema `{schema}` (expected one of: {})", path.display(), KNOWN_SCHEMAS.join(", "))]
    UnknownSchema {
        /// File.
        path: PathBuf,
        /// Its schema.
        schema: String,
    },
    /// Reports of different schemas.
    #[error("cannot compare {} ({first_schema}) with {} ({schema}): all reports must have the same schema", first.display(), path.display())]
    MixedSchemas {
        /// First report.
        first: PathBuf,
        /// Its schema.
        first_schema: String,
        /// The report that differs.
        path: PathBuf,
        /// Its schema.
        schema: String,
    },
    /// Fewer than two reports.
    #[error("compare needs at least two reports, got {0}")]
    TooFew(usize),
}

/// A loaded report.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    /// File path.
    pub path: PathBuf,
    /// Schema string.
    pub schema: String,
    /// Parsed JSON.
    pub value: Value,
}

impl Loaded {
    /// Parses a report from text; `path` is used in messages and labels.
    ///
    /// # Errors
    /// [`CompareError::Json`], [`CompareError::MissingSchema`],
    /// [`CompareError::UnknownSchema`].
    pub fn from_json(path: impl AsRef<Path>, text: &str) -> Result<Self, CompareError> {
        let path = path.as_ref().to_owned();
        let value: Value = serde_json::from_str(text).map_err(|e| CompareError::Json {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let schema = value
            .get("schema")
            .and_then(Value::as_str)
            .ok_or_else(|| CompareError::MissingSchema { path: path.clone() })?
            .to_owned();
        if !KNOWN_SCHEMAS.contains(&schema.as_str()) {
            return Err(CompareError::UnknownSchema { path, schema });
        }
        Ok(Loaded {
            path,
            schema,
            value,
        })
    }

    /// Reads and parses a report file.
    ///
    /// # Errors
    /// [`CompareError::Read`] or as [`Loaded::from_json`].
    pub fn load(path: &Path) -> Result<Self, CompareError> {
        let text = std::fs::read_to_string(path).map_err(|source| CompareError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_json(path, &text)
    }

    fn label(&self) -> String {
        self.path
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.path.display().to_string())
    }
}

/// Difference of one value from the first report's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diff {
    /// `value − first`.
    pub absolute: f64,
    /// `(value − first) / |first| × 100`, `None` when the first is near
    /// zero: below 1e-9, or so small that the change is over 100 times it
    /// (a percentage of a near-zero base says nothing).
    pub percent: Option<f64>,
}

/// One compared field.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// Dotted path.
    pub field: String,
    /// Value in each report (`null` where absent).
    pub values: Vec<Value>,
    /// For reports 2..n: difference from report 1 (numeric fields only).
    pub diffs: Vec<Option<Diff>>,
}

/// A comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// [`COMPARE_SCHEMA`].
    pub schema: &'static str,
    /// Schema of the compared reports.
    pub compared_schema: String,
    /// Report files, in order (the first is the baseline).
    pub reports: Vec<String>,
    /// Rows.
    pub rows: Vec<Row>,
}

/// Paths left out of econ comparisons: long series (per-input provenance,
/// `inputs.<key>.source`, is left out too; the values stay).
const SKIP: [&str; 4] = [
    "sensitivity",
    "horizon",
    "site.by_power_price",
    "site.notes",
];

fn flatten(v: &Value, prefix: &str, out: &mut Vec<(String, Value)>) {
    if SKIP.contains(&prefix) || (prefix.starts_with("inputs.") && prefix.ends_with(".source")) {
        return;
    }
    let join = |k: &str| {
        if prefix.is_empty() {
            k.to_owned()
        } else {
            format!("{prefix}.{k}")
        }
    };
    match v {
        Value::Object(map) => {
            for (k, val) in map {
                flatten(val, &join(k), out);
            }
        }
        Value::Array(items) => {
            let all_scalars = items.iter().all(|i| !i.is_object() && !i.is_array());
            if all_scalars {
                out.push((prefix.to_owned(), v.clone()));
                return;
            }
            for (i, item) in items.iter().enumerate() {
                let key = item
                    .get("id")
                    .or_else(|| item.get("backend"))
                    .or_else(|| item.get("name"))
                    .or_else(|| item.get("device"))
                    .and_then(Value::as_str)
                    .map_or_else(|| i.to_string(), str::to_owned);
                let key = match item.get("threads").and_then(Value::as_u64) {
                    Some(t)
                        if item.get("backend").is_some()
                            && items
                                .iter()
                                .filter(|o| o.get("backend") == item.get("backend"))
                                .count()
                                > 1 =>
                    {
                        format!("{key}/{t}t")
                    }
                    _ => key,
                };
                let sub = format!("{prefix}[{key}]");
                match item {
                    Value::Object(map) => {
                        for (k, val) in map {
                            if k == "id" || k == "backend" || k == "name" || k == "device" {
                                continue;
                            }
                            flatten(val, &format!("{sub}.{k}"), out);
                        }
                    }
                    other => flatten(other, &sub, out),
                }
            }
        }
        // `inputs.<key>.value` reads better as `inputs.<key>`.
        other => {
            let field = prefix
                .strip_suffix(".value")
                .filter(|p| p.starts_with("inputs."))
                .unwrap_or(prefix);
            out.push((field.to_owned(), other.clone()));
        }
    }
}

/// Compares reports; the first is the baseline.
///
/// # Errors
/// [`CompareError::TooFew`] for fewer than two, [`CompareError::MixedSchemas`].
pub fn compare(reports: &[Loaded]) -> Result<Comparison, CompareError> {
    if reports.len() < 2 {
        return Err(CompareError::TooFew(reports.len()));
    }
    let first = &reports[0];
    for r in &reports[1..] {
        if r.schema != first.schema {
            return Err(CompareError::MixedSchemas {
                first: first.path.clone(),
                first_schema: first.schema.clone(),
                path: r.path.clone(),
                schema: r.schema.clone(),
            });
        }
    }
    let flat: Vec<Vec<(String, Value)>> = reports
        .iter()
        .map(|r| {
            let mut out = Vec::new();
            flatten(&r.value, "", &mut out);
            out
        })
        .collect();
    let mut order = Vec::new();
    let mut seen = HashSet::new();
    for f in &flat {
        for (k, _) in f {
            if k != "schema" && seen.insert(k.clone()) {
                order.push(k.clone());
            }
        }
    }
    let rows = order
        .into_iter()
        .map(|field| {
            let values: Vec<Value> = flat
                .iter()
                .map(|f| {
                    f.iter()
                        .find(|(k, _)| *k == field)
                        .map_or(Value::Null, |(_, v)| v.clone())
                })
                .collect();
            let base = values[0].as_f64();
            let diffs = values[1..]
                .iter()
                .map(|v| {
                    let (a, b) = (base?, v.as_f64()?);
                    let d = b - a;
                    Some(Diff {
                        absolute: d,
                        percent: (a.abs() > 1e-9 && d.abs() <= 100.0 * a.abs())
                            .then(|| d / a.abs() * 100.0),
                    })
                })
                .collect();
            Row {
                field,
                values,
                diffs,
            }
        })
        .collect();
    Ok(Comparison {
        schema: COMPARE_SCHEMA,
        compared_schema: first.schema.clone(),
        reports: reports.iter().map(Loaded::label).collect(),
        rows,
    })
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => "—".into(),
        Value::Number(n) => n
            .as_f64()
            .map_or_else(|| n.to_string(), |x| crate::units::figure(Some(x), 4)),
        Value::String(s) => s.replace('|', "/"),
        other => other.to_string().replace('|', "/"),
    }
}

impl Comparison {
    /// Markdown table: one column per report, then Δ and Δ% per report
    /// after the first.
    pub fn to_markdown(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(o, "# hashwatt compare ({})\n", self.compared_schema);
        let _ = writeln!(
            o,
            "Baseline: `{}`. Δ = value − baseline.\n",
            self.reports[0]
        );
        let mut header = String::from("| field |");
        let mut rule = String::from("|---|");
        for r in &self.reports {
            let _ = write!(header, " {r} |");
            rule.push_str("---:|");
        }
        for r in &self.reports[1..] {
            let _ = write!(header, " Δ {r} | Δ% {r} |");
            rule.push_str("---:|---:|");
        }
        let _ = writeln!(o, "{header}\n{rule}");
        for row in &self.rows {
            let mut line = format!("| `{}` |", row.field);
            for v in &row.values {
                let _ = write!(line, " {} |", cell(v));
            }
            for d in &row.diffs {
                match d {
                    Some(d) => {
                        let pct = d
                            .percent
                            .map_or_else(|| "—".into(), |p| format!("{p:+.2} %"));
                        let abs = if d.absolute == 0.0 {
                            "0".to_owned()
                        } else {
                            let s = crate::units::figure(Some(d.absolute), 4);
                            if d.absolute > 0.0 { format!("+{s}") } else { s }
                        };
                        let _ = write!(line, " {abs} | {pct} |");
                    }
                    None => line.push_str(" | |"),
                }
            }
            let _ = writeln!(o, "{line}");
        }
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bench(path: &str, rate: f64, watts: Option<f64>) -> Loaded {
        let energy = watts.map_or("null".to_owned(), |w| {
            format!(r#"{{"watts":{w},"measured":true}}"#)
        });
        let text = format!(
            r#"{{"schema":"hashwatt.bench/1","machine":{{"cpu":"c"}},"results":[{{"backend":"gpu","hashrate":{rate},"energy":{energy}}},{{"backend":"scalar","hashrate":1.0}}]}}"#
        );
        Loaded::from_json(path, &text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn diffs_against_the_first() {
        let c = compare(&[
            bench("a.json", 2e9, Some(300.0)),
            bench("b.json", 3e9, Some(250.0)),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        let row = |f: &str| {
            c.rows
                .iter()
                .find(|r| r.field == f)
                .unwrap_or_else(|| panic!("no {f}"))
        };
        let h = row("results[gpu].hashrate");
        assert_eq!(
            h.diffs[0],
            Some(Diff {
                absolute: 1e9,
                percent: Some(50.0)
            })
        );
        let w = row("results[gpu].energy.watts");
        let d = w.diffs[0].clone().unwrap_or_else(|| panic!("no diff"));
        assert!((d.percent.unwrap_or(0.0) + 16.666_666).abs() < 1e-4);
        assert_eq!(row("machine.cpu").diffs[0], None);
        let md = c.to_markdown();
        assert!(
            md.contains("| `results[gpu].hashrate` | 2.000e9 | 3.000e9 | +1.000e9 | +50.00 % |"),
            "{md}"
        );
    }

    #[test]
    fn absent_energy_is_a_dash() {
        let c = compare(&[
            bench("a.json", 2e9, None),
            bench("b.json", 2e9, Some(250.0)),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        let w = c
            .rows
            .iter()
            .find(|r| r.field == "results[gpu].energy.watts")
            .unwrap_or_else(|| panic!("row"));
        assert_eq!(w.values[0], Value::Null);
        assert_eq!(w.diffs[0], None);
    }

    #[test]
    fn schema_errors() {
        let e = Loaded::from_json("x.json", r#"{"schema":"other/9"}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown schema `other/9`"), "{e}");
        let e = Loaded::from_json("x.json", r#"{"a":1}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no \"schema\""), "{e}");
        let econ = Loaded::from_json("e.json", r#"{"schema":"hashwatt.econ/1"}"#)
            .unwrap_or_else(|e| panic!("{e}"));
        let e = compare(&[bench("a.json", 1.0, None), econ])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("cannot compare a.json (hashwatt.bench/1) with e.json (hashwatt.econ/1)"),
            "{e}"
        );
        assert!(matches!(
            compare(&[bench("a.json", 1.0, None)]),
            Err(CompareError::TooFew(1))
        ));
    }
}
