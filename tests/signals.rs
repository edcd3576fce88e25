//! `search` and `bench` as users stop them: streaming hits in constant memory,
//! `--max-hits`, and Ctrl-C (SIGINT) / SIGTERM sent to the real process, which
//! must print its partial results, keep its exports and exit 130 / 143.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use hashwatt::header::Header;
use hashwatt::pow::{CompactTarget, Target};

const GENESIS: &str = "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c";

fn spawn(args: &[&str]) -> Child {
    common::hashwatt_command()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("hashwatt starts")
}

fn signal(child: &Child, name: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

/// Resident memory of a process in kB, from /proc.
fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[test]
fn search_streams_hits_in_constant_memory_and_stops_on_sigint() {
    // Half of all hashes meet 207fffff: 2^31 hits over the full range, which
    // no process could hold. Hits must stream, and memory stay flat.
    let mut child = spawn(&[
        "search",
        "--header",
        GENESIS,
        "--bits",
        "207fffff",
        "--backend",
        "cpu",
        "--json",
    ]);
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let header: Header = GENESIS.parse().unwrap();
    let target = Target::from_compact(CompactTarget::from_consensus(0x207f_ffff)).unwrap();
    let started = Instant::now();
    let mut hits = 0u64;
    let mut rss = Vec::new();
    let mut last_nonce = None;
    while started.elapsed() < Duration::from_secs(4) {
        let line = lines.next().expect("a line").expect("utf-8");
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        let nonce = v["nonce"].as_u64().expect("a hit line") as u32;
        assert!(last_nonce.is_none_or(|n| nonce > n), "hits in nonce order");
        last_nonce = Some(nonce);
        if hits.is_multiple_of(50_000) {
            // The sha2 oracle agrees.
            let h = common::oracle_hash(&header.with_nonce(nonce));
            assert!(target.is_met_by(h), "{nonce}");
            assert_eq!(v["hash"], h.to_string());
            if started.elapsed() > Duration::from_millis(500) {
                rss.extend(rss_kb(child.id()));
            }
        }
        hits += 1;
    }
    assert!(hits > 100_000, "only {hits} hits streamed in 4 s");
    if rss.len() >= 2 {
        let (first, last) = (rss[0], *rss.last().unwrap());
        assert!(
            last < first + 32 * 1024,
            "memory grew from {first} kB to {last} kB while streaming"
        );
    }
    signal(&child, "INT");
    // Drain the rest: more hit lines, then the summary.
    let mut summary = None;
    for line in lines {
        let v: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
        if v.get("summary").is_some() {
            summary = Some(v["summary"].clone());
        } else {
            hits += 1;
        }
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "exit code after SIGINT");
    let s = summary.expect("a summary line after SIGINT");
    assert_eq!(s["hits"].as_u64(), Some(hits), "{s}");
    assert_eq!(s["complete"], false);
    assert!(s["stopped"].as_str().unwrap().contains("SIGINT"), "{s}");
    let covered = s["covered_end"].as_u64().unwrap();
    assert!(
        covered > u64::from(last_nonce.unwrap()) && covered < 1 << 32,
        "{s}"
    );
}

#[test]
fn max_hits_stops_after_n() {
    let out = common::hashwatt_command()
        .args([
            "search",
            "--header",
            GENESIS,
            "--bits",
            "207fffff",
            "--max-hits",
            "7",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<&str> = text
        .lines()
        .skip(1)
        .take_while(|l| !l.contains("hit(s)"))
        .collect();
    assert_eq!(rows.len(), 7, "{text}");
    assert!(
        text.contains("7 hit(s)") && text.contains("stopped after --max-hits 7"),
        "{text}"
    );
    let bad = common::hashwatt_command()
        .args(["search", "--header", GENESIS, "--max-hits", "0"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
}

#[test]
fn search_text_summary_on_sigterm() {
    let child = spawn(&[
        "search",
        "--header",
        GENESIS,
        "--bits",
        "1d00ffff",
        "--backend",
        "scalar",
        "--threads",
        "1",
    ]);
    std::thread::sleep(Duration::from_millis(700));
    signal(&child, "TERM");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(143));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("0 hit(s) in "), "{text}");
    assert!(text.contains("stopped by SIGTERM (exit 143)"), "{text}");
}

#[test]
fn bench_on_sigterm_keeps_the_partial_window_and_its_exports() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("bench.json");
    let csv = dir.path().join("bench.csv");
    let child = spawn(&[
        "bench",
        "--backend",
        "scalar",
        "--threads",
        "1",
        "--seconds",
        "60",
        "--warmup",
        "0",
        "--meter",
        "mock",
        "--json",
        "--export-json",
        json.to_str().unwrap(),
        "--export-csv",
        csv.to_str().unwrap(),
    ]);
    std::thread::sleep(Duration::from_millis(2500));
    signal(&child, "TERM");
    let started = Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(started.elapsed() < Duration::from_secs(10), "slow to stop");
    assert_eq!(
        out.status.code(),
        Some(143),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let exported: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(printed, exported);
    let r = &printed["results"][0];
    let seconds = r["seconds"].as_f64().unwrap();
    assert!(
        seconds > 1.0 && seconds < 30.0,
        "partial window: {seconds} s"
    );
    assert!(r["hashes"].as_u64().unwrap() > 0);
    assert!(
        printed["notes"].to_string().contains("cancelled"),
        "{printed}"
    );
    assert!(std::fs::read_to_string(&csv).unwrap().contains("scalar"));
}
