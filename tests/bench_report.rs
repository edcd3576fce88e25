//! `hashwatt bench` as users run it: the whole report with the mock meter
//! (snapshot plus exact energy arithmetic), meter selection and fallbacks,
//! exports that parse back, and clear errors for bad input.

mod common;

use std::path::Path;

use common::hashwatt;
use hashwatt::bench::BenchReport;
use serde_json::Value;

/// Runs `hashwatt bench` with short timings and returns the JSON report.
fn bench_json(extra: &[&str]) -> (Value, String) {
    let mut args = vec!["bench", "--seconds", "0.3", "--warmup", "0", "--json"];
    args.extend_from_slice(extra);
    let out = hashwatt(&args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "hashwatt {args:?} failed: {stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    (serde_json::from_str(&stdout).unwrap(), stdout)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// Replaces what depends on timing or on the machine with a marker.
fn redact(report: &mut Value) {
    for key in [
        "cpu",
        "cpu_features",
        "logical_cpus",
        "os",
        "git_commit",
        "hashwatt_version",
        "gpu_adapters",
    ] {
        report["machine"][key] = "[machine]".into();
    }
    for idle in report["idle"].as_array_mut().unwrap() {
        idle["device"] = "[machine]".into();
    }
    for r in report["results"].as_array_mut().unwrap() {
        for key in [
            "hashes",
            "seconds",
            "hashrate",
            "hashes_per_joule",
            "joules_per_terahash",
            "net_hashes_per_joule",
            "net_joules_per_terahash",
            "times_less_efficient_than_asic",
            "cancel_latency_ms",
        ] {
            r[key] = "[timing]".into();
        }
        for key in ["p50_ms", "p99_ms", "max_ms", "mean_ms"] {
            r["cancel_latency"][key] = "[timing]".into();
        }
        r["device"] = "[machine]".into();
        r["threads"] = "[machine]".into();
        for key in ["median", "min", "max"] {
            r["interval_hashrate"][key] = "[timing]".into();
        }
        for key in ["joules", "net_joules"] {
            r["energy"][key] = "[timing]".into();
        }
        // Exactly 100 W up to rounding of joules / seconds.
        let w = f(&r["energy"]["watts"]);
        assert!(close(w, 100.0), "{w}");
        r["energy"]["watts"] = 100.0.into();
    }
}

#[test]
fn mock_report_field_by_field() {
    let (report, _) = bench_json(&[
        "--backend",
        "scalar",
        "--meter",
        "mock",
        "--mock-watts",
        "100",
        "--mock-idle-watts",
        "20",
    ]);
    let results = report["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    let r = &results[0];

    // Exact arithmetic on the raw numbers.
    let hashes = r["hashes"].as_u64().unwrap() as f64;
    let seconds = f(&r["seconds"]);
    let e = &r["energy"];
    let joules = f(&e["joules"]);
    assert!(hashes > 0.0 && seconds >= 0.3, "{r}");
    assert!(close(f(&r["hashrate"]), hashes / seconds));
    assert!(close(joules, 100.0 * seconds), "joules = watts × seconds");
    assert!(close(f(&e["watts"]), 100.0));
    assert!(
        close(f(&e["net_joules"]), joules - 20.0 * seconds),
        "net = joules − idle × seconds"
    );
    assert_eq!(f(&e["idle_watts"]), 20.0);
    assert!(close(f(&r["hashes_per_joule"]), hashes / joules));
    assert!(close(f(&r["joules_per_terahash"]), joules * 1e12 / hashes));
    let net = joules - 20.0 * seconds;
    assert!(close(f(&r["net_hashes_per_joule"]), hashes / net));
    assert!(close(f(&r["net_joules_per_terahash"]), net * 1e12 / hashes));
    assert!(close(
        f(&r["times_less_efficient_than_asic"]),
        joules * 1e12 / hashes / 13.5
    ));
    let h = &r["interval_hashrate"];
    assert!(f(&h["min"]) <= f(&h["median"]) && f(&h["median"]) <= f(&h["max"]));
    assert!(f(&r["cancel_latency_ms"]) >= 0.0);
    // The cancel latency is a distribution over the default 100 cancels.
    let c = &r["cancel_latency"];
    assert_eq!(c["samples"].as_u64(), Some(100), "{c}");
    assert_eq!(f(&c["p50_ms"]), f(&r["cancel_latency_ms"]));
    assert!(f(&c["p50_ms"]) <= f(&c["p99_ms"]) && f(&c["p99_ms"]) <= f(&c["max_ms"]));
    // A CPU engine reports no device memory.
    assert!(r.get("device_memory_bytes").is_none(), "{r}");
    assert_eq!(
        report["machine"]["git_commit"].as_str().map(str::is_empty),
        Some(false)
    );

    // The report reads back into the library's type.
    let typed: BenchReport = serde_json::from_value(report.clone()).unwrap();
    assert_eq!(typed.results[0].hashes as f64, hashes);

    let mut redacted = report;
    redact(&mut redacted);
    insta::assert_snapshot!(
        "mock_report",
        serde_json::to_string_pretty(&redacted).unwrap()
    );
}

#[test]
fn cancel_samples_sets_the_probe_count_and_zero_skips_the_probe() {
    let run = |n: &str| {
        let (report, _) = bench_json(&[
            "--backend",
            "scalar",
            "--threads",
            "1",
            "--meter",
            "mock",
            "--cancel-samples",
            n,
        ]);
        report["results"][0].clone()
    };
    let five = run("5");
    assert_eq!(five["cancel_latency"]["samples"], 5, "{five}");
    assert!(f(&five["cancel_latency_ms"]) >= 0.0);
    let none = run("0");
    assert!(none.get("cancel_latency").is_none(), "{none}");
    assert!(none["cancel_latency_ms"].is_null(), "{none}");
}

/// A minimal RFC 4180 reader: quoted fields, doubled quotes.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for line in text.lines() {
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match (c, quoted) {
                ('"', true) if chars.peek() == Some(&'"') => {
                    field.push('"');
                    chars.next();
                }
                ('"', _) => quoted = !quoted,
                (',', false) => fields.push(std::mem::take(&mut field)),
                (c, _) => field.push(c),
            }
        }
        fields.push(field);
        rows.push(fields);
    }
    rows
}

#[test]
fn exports_parse_back() {
    let tmp = tempfile::tempdir().unwrap();
    let path = |name: &str| tmp.path().join(name).display().to_string();
    let (json, stdout) = bench_json(&[
        "--backend",
        "all",
        "--meter",
        "mock",
        "--export-json",
        &path("r.json"),
        "--export-csv",
        &path("r.csv"),
        "--export-markdown",
        &path("r.md"),
    ]);
    let results = json["results"].as_array().unwrap();
    // `all` is every CPU kernel, plus `gpu` where an adapter exists.
    let gpu = usize::from(!hashwatt::gpu::adapter::adapters().is_empty());
    assert_eq!(
        results.len(),
        hashwatt::sha256::CpuKernel::available().len() + gpu
    );

    // JSON: the same report as stdout, and it round-trips through the type.
    let exported = std::fs::read_to_string(tmp.path().join("r.json")).unwrap();
    assert_eq!(exported, stdout);
    let typed = BenchReport::from_json(&exported).unwrap();
    assert_eq!(serde_json::to_value(&typed).unwrap(), json);

    // CSV: header, then one row per result with the report's values.
    let csv = parse_csv(&std::fs::read_to_string(tmp.path().join("r.csv")).unwrap());
    assert_eq!(csv[0], hashwatt::report::csv::HEADER);
    assert_eq!(csv.len(), 1 + results.len());
    let col = |name: &str| csv[0].iter().position(|h| h == name).unwrap();
    for (row, r) in csv[1..].iter().zip(results) {
        assert_eq!(row.len(), csv[0].len());
        assert_eq!(row[col("backend")], r["backend"].as_str().unwrap());
        assert_eq!(row[col("hashes")], r["hashes"].to_string());
        let joules: f64 = row[col("joules")].parse().unwrap();
        // serde_json's default float parsing may differ in the last bit.
        assert!(close(joules, f(&r["energy"]["joules"])));
        let jth: f64 = row[col("joules_per_terahash")].parse().unwrap();
        assert!(close(jth, f(&r["joules_per_terahash"])));
        assert_eq!(row[col("energy_measured")], "false");
        // The source holds commas: quoted, and read back whole.
        assert_eq!(
            row[col("energy_source")],
            r["energy"]["source"].as_str().unwrap()
        );
    }

    // Markdown: a table with a header, a separator and one row per result.
    let md = std::fs::read_to_string(tmp.path().join("r.md")).unwrap();
    let table: Vec<&str> = md.lines().filter(|l| l.starts_with('|')).collect();
    assert_eq!(table.len(), 2 + results.len(), "{md}");
    let cells = |line: &str| -> Vec<String> {
        line.trim_matches('|')
            .split(" | ")
            .map(|c| c.trim().to_string())
            .collect()
    };
    assert_eq!(cells(table[0]), hashwatt::report::markdown::COLUMNS);
    assert!(table[1].chars().all(|c| "|:-".contains(c)), "{}", table[1]);
    for (line, r) in table[2..].iter().zip(results) {
        let row = cells(line);
        assert_eq!(row.len(), hashwatt::report::markdown::COLUMNS.len());
        assert_eq!(row[0], r["backend"].as_str().unwrap());
        assert_eq!(row[3], "100", "{line}");
        assert_eq!(row[8], "modeled");
    }
    assert!(md.contains("Antminer S21 XP at 13.5 J/TH"), "{md}");
}

#[test]
fn modeled_cpu_power_scales_with_threads() {
    let (report, _) = bench_json(&[
        "--backend",
        "scalar",
        "--threads",
        "1",
        "--meter",
        "modeled",
        "--cpu-watts",
        "10:30",
    ]);
    let cpus = report["machine"]["logical_cpus"].as_u64().unwrap() as f64;
    let r = &report["results"][0];
    let e = &r["energy"];
    let seconds = f(&r["seconds"]);
    let expected = 10.0 + (1.0 / cpus).min(1.0) * 20.0;
    assert!(close(f(&e["watts"]), expected), "{e}");
    assert!(close(f(&e["net_joules"]), f(&e["joules"]) - 10.0 * seconds));
    assert_eq!(e["measured"], false);
    let source = e["source"].as_str().unwrap();
    assert!(source.starts_with("modeled: --cpu-watts 10:30"), "{source}");
    assert_eq!(report["idle"][0]["watts"], 10.0);
}

#[test]
fn auto_without_rapl_is_modeled_and_says_so() {
    let (report, _) = bench_json(&[
        "--backend",
        "scalar",
        "--idle-seconds",
        "0",
        "--rapl-root",
        "/nonexistent/powercap",
    ]);
    let notes = report["notes"].to_string();
    let energy = &report["results"][0]["energy"];
    // Every CPU has a labeled model: a TDP-table row or the per-CPU default.
    assert_eq!(energy["measured"], false);
    let source = energy["source"].as_str().unwrap();
    assert!(
        source.starts_with("modeled: CPU power model for ")
            && (source.contains("table row") || source.contains("not in the TDP table")),
        "{source}"
    );
    assert!(
        notes.contains("RAPL is not available under /nonexistent/powercap"),
        "{notes}"
    );
    assert!(notes.contains("modeled, not measured"), "{notes}");
    assert!(report["results"][0]["hashes_per_joule"].as_f64().unwrap() > 0.0);
}

#[test]
fn rapl_meter_on_a_fake_tree_is_measured() {
    let tmp = tempfile::tempdir().unwrap();
    let zone = tmp.path().join("intel-rapl:0");
    std::fs::create_dir(&zone).unwrap();
    for (file, text) in [
        ("name", "package-0"),
        ("energy_uj", "5000000"),
        ("max_energy_range_uj", "262143328850"),
    ] {
        std::fs::write(zone.join(file), text).unwrap();
    }
    let root = tmp.path().display().to_string();
    let (report, _) = bench_json(&[
        "--backend",
        "scalar",
        "--meter",
        "rapl",
        "--rapl-root",
        &root,
        "--idle-seconds",
        "0.2",
    ]);
    let idle = &report["idle"][0];
    assert_eq!(idle["measured"], true);
    assert!(f(&idle["seconds"]) >= 0.2);
    let e = &report["results"][0]["energy"];
    assert_eq!(e["measured"], true);
    assert_eq!(e["source"], "measured: RAPL package energy (package-0)");
    // The fake counter never moves: zero joules, so no hashes per joule.
    assert_eq!(e["joules"], 0.0);
    assert!(report["results"][0]["hashes_per_joule"].is_null());
}

fn fails_with(args: &[&str], needle: &str) {
    let out = hashwatt(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} succeeded");
    assert!(stderr.contains(needle), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
}

#[test]
fn nvml_meter_without_a_gpu_fails_clearly() {
    let out = hashwatt(&["bench", "--seconds", "0.3", "--meter", "nvml"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    if hashwatt::energy::nvml::probe().is_err() {
        assert!(
            stderr.starts_with("error: NVML is not available: "),
            "{stderr}"
        );
    } else {
        assert!(
            stderr.contains("--meter nvml cannot measure CPU"),
            "{stderr}"
        );
    }
}

#[test]
fn bad_input_is_a_one_line_error() {
    let b = |extra: &[&str]| {
        let mut v = vec!["bench"];
        if !extra.contains(&"--seconds") {
            v.extend(["--seconds", "0.3"]);
        }
        v.extend_from_slice(extra);
        v.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let cases: &[(&[&str], &str)] = &[
        (&["--seconds", "0"], "invalid --seconds 0"),
        (&["--seconds", "NaN"], "invalid --seconds NaN"),
        (&["--warmup=-1"], "invalid --warmup -1"),
        (
            &["--idle-seconds", "1e9"],
            "invalid --idle-seconds 1000000000",
        ),
        (&["--meter", "wattmeter"], "unknown meter \"wattmeter\""),
        (&["--cpu-watts", "hot"], "invalid power \"hot\""),
        (
            &["--gpu-watts", "500:300"],
            "idle watts exceed full-load watts",
        ),
        (&["--backend", "quantum"], "unknown backend \"quantum\""),
        (
            &["--cancel-samples", "100001"],
            "100001 is not in 0..=100000",
        ),
        (
            &["--meter", "rapl", "--rapl-root", "/nonexistent/pc"],
            "RAPL is not available under /nonexistent/pc",
        ),
        (
            &["--meter", "mock", "--export-csv", "/nonexistent/dir/r.csv"],
            "cannot write --export-csv /nonexistent/dir/r.csv",
        ),
    ];
    for (extra, needle) in cases {
        let args = b(extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        fails_with(&args, needle);
    }
    assert!(!Path::new("/nonexistent/dir/r.csv").exists());
}
