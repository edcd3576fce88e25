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

/// The columns of [`econ`].
pub const ECON_HEADER: &[&str] = &[
    "section",
    "key",
    "value",
    "unit",
    "source_kind",
    "source",
    "measured",
    "assumption",
];

/// An econ report as CSV in long form: the scenario's name and date, every
/// input with its unit and provenance, then every site option's figures
/// (`site`, `<option id>.<field>`).
pub fn econ(r: &crate::economics::report::EconReport) -> String {
    let mut out = ECON_HEADER.join(",") + "\n";
    let mut row = |fields: [&str; 8]| {
        out.push_str(&fields.map(quote).join(","));
        out.push('\n');
    };
    row(["scenario", "name", &r.scenario, "", "", "", "", ""]);
    let date = r.scenario_date.clone().unwrap_or_default();
    row(["scenario", "date", &date, "", "", "", "", ""]);
    for (key, e) in &r.inputs {
        let value = match &e.value {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        row([
            "input",
            key,
            &value,
            e.unit,
            e.source.kind.label(),
            &e.source.detail,
            if e.source.measured { "true" } else { "false" },
            if e.assumption { "true" } else { "false" },
        ]);
    }
    let modeled = "modeled (site view)";
    for o in &r.site.options {
        let figures = [
            ("units", o.units, ""),
            (
                "revenue_usd_per_mw_year",
                Some(o.revenue_usd_per_mw_year),
                "USD/MW-year",
            ),
            (
                "opex_usd_per_mw_year",
                Some(o.opex_usd_per_mw_year),
                "USD/MW-year",
            ),
            (
                "net_usd_per_mw_year",
                Some(o.net_usd_per_mw_year),
                "USD/MW-year",
            ),
            ("capex_usd_per_mw", Some(o.capex_usd_per_mw), "USD/MW"),
            ("npv_usd_per_mw", Some(o.npv_usd_per_mw), "USD/MW"),
            ("payback_years", o.payback_years, "years"),
            (
                "breakeven_power_usd_per_mwh",
                o.breakeven_power_usd_per_mwh,
                "USD/MWh",
            ),
        ];
        for (field, v, unit) in figures {
            row([
                "site",
                &format!("{}.{field}", o.id),
                &opt(v),
                unit,
                modeled,
                &o.basis,
                "false",
                "false",
            ]);
        }
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
