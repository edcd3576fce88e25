//! Markdown export: a table per report, with every energy figure's provenance.

use std::fmt::Write;

use crate::bench::BenchReport;
use crate::units::figure;

/// The table's column titles.
pub const COLUMNS: &[&str] = &[
    "Backend",
    "Threads",
    "MH/s (median [min, max])",
    "W",
    "H/J",
    "J/TH",
    "× ASIC J/TH",
    "Cancel ms",
    "Energy",
];

/// Escapes `|` so a cell cannot split the table.
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

/// The report as Markdown: machine line, table, ASIC and provenance notes.
pub fn to_string(report: &BenchReport) -> String {
    let m = &report.machine;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Machine: {} ({} logical CPUs; {}), {}, hashwatt {} ({})\n",
        cell(&m.cpu),
        m.logical_cpus,
        m.cpu_features.join(" "),
        m.os,
        m.hashwatt_version,
        m.git_commit
    );
    let _ = writeln!(out, "| {} |", COLUMNS.join(" | "));
    let _ = writeln!(
        out,
        "|{}",
        COLUMNS
            .iter()
            .enumerate()
            .map(|(i, _)| if i == 0 || i + 1 == COLUMNS.len() {
                ":---|"
            } else {
                "---:|"
            })
            .collect::<String>()
    );
    for r in &report.results {
        let rate = match &r.interval_hashrate {
            Some(h) => format!(
                "{} [{}, {}]",
                figure(Some(h.median / 1e6), 4),
                figure(Some(h.min / 1e6), 4),
                figure(Some(h.max / 1e6), 4)
            ),
            None => figure(Some(r.hashrate / 1e6), 4),
        };
        let e = r.energy.as_ref();
        let provenance = match e {
            Some(e) if e.measured => "measured",
            Some(_) => "modeled",
            None => "none",
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            cell(&r.backend),
            r.threads,
            rate,
            figure(e.map(|e| e.watts), 3),
            figure(r.hashes_per_joule, 3),
            figure(r.joules_per_terahash, 3),
            figure(r.times_less_efficient_than_asic, 3),
            figure(r.cancel_latency_ms, 3),
            provenance
        );
    }
    let _ = writeln!(
        out,
        "\nASIC reference: {} at {} J/TH ({}).",
        report.asic.model,
        report.asic.joules_per_terahash,
        cell(&report.asic.source)
    );
    for r in &report.results {
        if let Some(e) = &r.energy {
            let _ = writeln!(out, "\n{} energy: {}", cell(&r.backend), cell(&e.source));
        }
    }
    out
}
