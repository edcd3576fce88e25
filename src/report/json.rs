//! JSON export: the [`BenchReport`] as `hashwatt bench --json` prints it.

use crate::bench::BenchReport;

/// The report as pretty-printed JSON (with a final newline).
///
/// # Errors
/// Serialization errors (none in practice: every field is plain data).
pub fn to_string(report: &BenchReport) -> Result<String, serde_json::Error> {
    serde_json::to_string_pretty(report).map(|mut s| {
        s.push('\n');
        s
    })
}
