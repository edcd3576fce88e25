//! `hashwatt fleet` over a real bench report and real agent books, as users
//! run it: per host and total, with JSON, Markdown and CSV exports that
//! agree with the inputs.

#[path = "support/agent.rs"]
mod agent;
mod common;

use std::time::Duration;

use agent::*;
use common::hashwatt;
use serde_json::Value;

#[test]
fn fleet_sets_bench_reports_and_agent_books_side_by_side() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let bench = dir.path().join("bench.json");
    let o = hashwatt(&[
        "bench",
        "--backend",
        "scalar",
        "--seconds",
        "0.3",
        "--threads",
        "1",
        "--meter",
        "mock",
        "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::write(&bench, &o.stdout).unwrap_or_else(|e| panic!("{e}"));
    let bench_v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}"));

    let books = dir.path().join("books.jsonl");
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut child = spawn_agent(
        &[
            "--device",
            "cpu",
            "--threads",
            "1",
            "--header",
            HEADER,
            "--books",
            books.to_str().unwrap_or_default(),
            "--listen",
            &listen,
            "--electricity",
            "0.1",
            "--mining-watts",
            "50",
            "--duration",
            "1.5",
        ],
        &dir.path().join("agent"),
    );
    assert!(wait_exit(&mut child, Duration::from_secs(30)).success());
    let last = agent::books(&books).pop().unwrap_or(Value::Null);
    let t = &last["totals"]["total"];

    let md = dir.path().join("fleet.md");
    let csv = dir.path().join("fleet.csv");
    let bench_arg = format!("rack1-node7={}", bench.display());
    let o = hashwatt(&[
        "fleet",
        &bench_arg,
        books.to_str().unwrap_or_default(),
        "--json",
        "--export-markdown",
        md.to_str().unwrap_or_default(),
        "--export-csv",
        csv.to_str().unwrap_or_default(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let f: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(f["schema"], "hashwatt.fleet/1");
    let hosts = f["hosts"].as_array().cloned().unwrap_or_default();
    assert_eq!(hosts.len(), 2);
    assert_eq!(hosts[0]["host"], "rack1-node7");
    assert_eq!(hosts[0]["kind"], "bench");
    assert_eq!(hosts[0]["hashrate"], bench_v["results"][0]["hashrate"]);
    assert_eq!(
        hosts[0]["hashes_per_joule"],
        bench_v["results"][0]["hashes_per_joule"]
    );
    // The agent's host is the one its books name.
    let me = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    if !me.trim().is_empty() {
        assert_eq!(hosts[1]["host"], me.trim());
    }
    assert_eq!(hosts[1]["kind"], "agent");
    assert_eq!(hosts[1]["hashes"], t["hashes"]);
    let rate = t["hashes"].as_f64().unwrap_or(0.0) / t["seconds_mining"].as_f64().unwrap_or(1.0);
    assert!((hosts[1]["hashrate"].as_f64().unwrap_or(0.0) - rate).abs() <= rate * 1e-9);
    // Hashes per joule from the books' own totals (joules modeled from --mining-watts).
    let hpj = hosts[1]["hashes_per_joule"].as_f64().unwrap_or(0.0);
    let expect = t["hashes"].as_f64().unwrap_or(0.0) / t["joules"].as_f64().unwrap_or(1.0);
    assert!((hpj - expect).abs() <= expect * 1e-9, "{hpj} vs {expect}");
    assert_eq!(hosts[1]["energy_measured"], false);
    let net =
        t["revenue_usd"].as_f64().unwrap_or(0.0) - t["power_cost_usd"].as_f64().unwrap_or(0.0);
    assert!((hosts[1]["net_usd"].as_f64().unwrap_or(0.0) - net).abs() < 1e-12);
    assert!(net < 0.0, "a CPU at $0.10/kWh loses money: {net}");
    let total = &f["total"];
    let sum =
        hosts[0]["hashrate"].as_f64().unwrap_or(0.0) + hosts[1]["hashrate"].as_f64().unwrap_or(0.0);
    assert!((total["hashrate"].as_f64().unwrap_or(0.0) - sum).abs() < 1e-6);
    assert_eq!(total["hashes"], t["hashes"]);

    let md = std::fs::read_to_string(&md).unwrap_or_default();
    assert!(md.contains("| rack1-node7 | bench | scalar |"), "{md}");
    assert!(md.contains("| **total** |"), "{md}");
    let csv = std::fs::read_to_string(&csv).unwrap_or_default();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(lines[0].starts_with("host,kind,backend,hashrate,hashes_per_joule"));
    assert!(lines[3].starts_with("total,2 hosts,"));

    // A file that is neither: one clear line, non-zero exit.
    let bad = dir.path().join("notes.txt");
    std::fs::write(&bad, "hello\n").unwrap_or_else(|e| panic!("{e}"));
    let o = hashwatt(&["fleet", bad.to_str().unwrap_or_default()]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("neither a hashwatt.bench/1 report nor agent books"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}
