//! CSV export: one row per backend, RFC 4180 quoting.

use crate::bench::BenchReport;

/// The column names, in order.
pub const HEADER: &[&str] = &[
    "backend",
    "device",
    "threads",
    "hashes",
    "seconds",
    "hashrate",
    "hashrate_median",
    "hashrate_min",
    "hashrate_max",
    "watts",
    "joules",
    "net_joules",
    "hashes_per_joule",
    "joules_per_terahash",
    "net_joules_per_terahash",
    "times_less_efficient_than_asic",
    "cancel_latency_ms",
    "energy_measured",
    "energy_source",
];

/// Quotes a field when it holds a comma, quote or line break.
pub fn quote(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

fn opt(v: Option<f64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// The report as CSV: a header line and one line per result. Absent figures are empty.
pub fn to_string(report: &BenchReport) -> String {
    let mut out = HEADER.join(",");
    out.push('\n');
    for r in &report.results {
        let e = r.energy.as_ref();
        let h = r.interval_hashrate.as_ref();
        let row = [
            quote(&r.backend),
            quote(&r.device),
            r.threads.to_string(),
            r.hashes.to_string(),
            r.seconds.to_string(),
            r.hashrate.to_string(),
            opt(h.map(|h| h.median)),
            opt(h.map(|h| h.min)),
            opt(h.map(|h| h.max)),
            opt(e.map(|e| e.watts)),
            opt(e.map(|e| e.joules)),
            opt(e.and_then(|e| e.net_joules)),
            opt(r.hashes_per_joule),
            opt(r.joules_per_terahash),
            opt(r.net_joules_per_terahash),
            opt(r.times_less_efficient_than_asic),
            opt(r.cancel_latency_ms),
            e.map(|e| e.measured.to_string()).unwrap_or_default(),
            quote(e.map_or("", |e| e.source.as_str())),
        ];
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quoting() {
        assert_eq!(quote("scalar"), "scalar");
        assert_eq!(quote("a, b"), "\"a, b\"");
        assert_eq!(quote("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
