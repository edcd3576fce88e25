//! The `hashwatt` binary as users run it: outputs, JSON contracts and bad input.

mod common;

use std::process::Output;

use common::{GENESIS, GENESIS_HASH, hashwatt};

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs a command that must fail cleanly: non-zero exit, one error line naming `needle`, no panic.
fn assert_clean_error(args: &[&str], needle: &str) {
    let o = hashwatt(args);
    let err = stderr(&o);
    assert!(!o.status.success(), "{args:?} should fail");
    assert!(o.status.code().is_some(), "{args:?} was killed by a signal");
    assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
    assert!(
        err.contains(needle),
        "{args:?}: expected {needle:?} in {err:?}"
    );
}

#[test]
fn io_errors_name_their_cause_once() {
    for args in [
        vec!["econ", "--scenario", "/nonexistent/scenario.toml"],
        vec!["compare", "/nonexistent/a.json", "/nonexistent/b.json"],
    ] {
        let o = hashwatt(&args);
        let err = stderr(&o);
        assert!(!o.status.success(), "{args:?}");
        assert_eq!(err.matches("os error 2").count(), 1, "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    }
}

#[test]
fn huge_inputs_are_not_echoed_back() {
    let huge = "z".repeat(60_000);
    for flag in ["--header", "--bits", "--target"] {
        let mut args = vec!["search", "--header", GENESIS];
        if flag == "--header" {
            args[2] = &huge;
        } else {
            args.extend([flag, &huge]);
        }
        let o = hashwatt(&args);
        let err = stderr(&o);
        assert!(!o.status.success());
        assert!(err.len() < 600, "{flag}: {} bytes of stderr", err.len());
        assert!(err.contains("60000 characters"), "{flag}: {err}");
    }
    let o = hashwatt(&["bench", "--backend", &huge]);
    assert!(!o.status.success());
    assert!(stderr(&o).len() < 600, "{}", stderr(&o));
}

#[test]
fn header_takes_0x_like_target() {
    let o = hashwatt(&["hash", "--header", &format!("0x{GENESIS}")]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).starts_with(GENESIS_HASH));
}

#[test]
fn unknown_wgpu_backend_is_an_error() {
    for args in [
        vec!["devices"],
        vec![
            "search",
            "--header",
            GENESIS,
            "--count",
            "10",
            "--backend",
            "gpu",
        ],
        vec!["search", "--header", GENESIS, "--count", "10"],
    ] {
        let o = common::hashwatt_command()
            .args(&args)
            .env("WGPU_BACKEND", "vulkan,vulcan")
            .output()
            .unwrap();
        let err = stderr(&o);
        assert!(!o.status.success(), "{args:?}: {err}");
        assert!(
            err.contains("WGPU_BACKEND=\"vulkan,vulcan\" names unknown backend \"vulcan\""),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn no_spurious_error_lines_from_vulkan_layers() {
    // As a user runs it: no NODEVICE_SELECT, no XDG_RUNTIME_DIR (a headless host).
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_hashwatt"))
        .args(["devices"])
        .env_remove("NODEVICE_SELECT")
        .env_remove("XDG_RUNTIME_DIR")
        .output()
        .unwrap();
    assert!(o.status.success());
    let err = stderr(&o);
    assert!(!err.contains("error"), "{err}");
}

#[test]
fn hash_prints_the_display_hash() {
    let o = hashwatt(&["hash", "--header", GENESIS]);
    assert!(o.status.success());
    assert!(stdout(&o).starts_with(GENESIS_HASH));

    let o = hashwatt(&["hash", "--header", GENESIS, "--json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["hash"], GENESIS_HASH);
    assert_eq!(v["meets_target"], true);

    // Another nonce: same target, not met.
    let other = format!("{}00000000", &GENESIS[..152]);
    let v: serde_json::Value =
        serde_json::from_str(&stdout(&hashwatt(&["hash", "--header", &other, "--json"]))).unwrap();
    assert_eq!(v["meets_target"], false);
}

#[test]
fn search_json_finds_the_genesis_nonce() {
    let o = hashwatt(&[
        "search",
        "--header",
        GENESIS,
        "--start",
        "2083230000",
        "--count",
        "10000",
        "--threads",
        "2",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["nonce"], 2083236893u32);
    assert_eq!(lines[0]["hash"], GENESIS_HASH);
    assert_eq!(lines[0]["header"], GENESIS);
    let s = &lines[1]["summary"];
    assert_eq!(s["hashes"], 10000);
    assert_eq!(s["hits"], 1);
    assert!(s["seconds"].as_f64().unwrap() > 0.0);
    assert!(s["hashrate"].as_f64().unwrap() > 0.0);
    assert!(s["backend"].is_string());
}

#[test]
fn search_target_options_and_table() {
    // Difficulty 2^-16 over 2^18 nonces: a few hits, each printed in the table.
    let o = hashwatt(&[
        "search",
        "--header",
        GENESIS,
        "--count",
        "262144",
        "--difficulty",
        "0.0000152587890625",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("hit(s) in 262144 nonces"), "{out}");
    // Regtest-easy nBits: about half of the nonces.
    let o = hashwatt(&[
        "search", "--header", GENESIS, "--count", "1000", "--bits", "207fffff", "--json",
    ]);
    let last = stdout(&o).lines().last().unwrap().to_string();
    let v: serde_json::Value = serde_json::from_str(&last).unwrap();
    let hits = v["summary"]["hits"].as_u64().unwrap();
    assert!((400..=600).contains(&hits), "{hits}");
    // The max target: every nonce.
    let o = hashwatt(&[
        "search",
        "--header",
        GENESIS,
        "--count",
        "300",
        "--target",
        &"f".repeat(64),
        "--json",
    ]);
    assert_eq!(stdout(&o).lines().count(), 301);
}

#[test]
fn search_ending_at_u32_max() {
    let o = hashwatt(&[
        "search",
        "--header",
        GENESIS,
        "--start",
        "4294967290",
        "--target",
        &"f".repeat(64),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 7);
    assert!(out.lines().nth(5).unwrap().contains("\"nonce\":4294967295"));
}

#[test]
fn bench_json_contract() {
    let o = hashwatt(&[
        "bench",
        "--backend",
        "scalar",
        "--seconds",
        "0.3",
        "--threads",
        "1",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["schema"], "hashwatt.bench/1");
    assert!(v["machine"].is_object());
    let r = &v["results"][0];
    assert_eq!(r["backend"], "scalar");
    assert_eq!(r["threads"], 1);
    assert!(r["hashes"].as_u64().unwrap() > 0);
    assert!(r["seconds"].as_f64().unwrap() >= 0.3);
    let rate = r["hashrate"].as_f64().unwrap();
    let expect = r["hashes"].as_f64().unwrap() / r["seconds"].as_f64().unwrap();
    assert!((rate - expect).abs() / expect < 1e-9);
}

#[test]
fn devices_lists_cpu_backends() {
    let o = hashwatt(&["devices"]);
    assert!(o.status.success());
    assert!(stdout(&o).contains("scalar"));
}

#[test]
fn bad_input_is_a_clean_error() {
    let short = &GENESIS[..158];
    let nonhex = format!("{}zz", &GENESIS[..158]);
    let zero = "0".repeat(64);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["hash", "--header", short], "expected 160 hex digits"),
        (vec!["hash", "--header", &nonhex], "non-hex character 'z'"),
        (vec!["search", "--header", short], "--header"),
        (
            vec!["search", "--header", GENESIS, "--bits", "1d80ffff"],
            "negative",
        ),
        (
            vec!["search", "--header", GENESIS, "--bits", "ff00ffff"],
            "overflows",
        ),
        (
            vec!["search", "--header", GENESIS, "--bits", "1d00ff"],
            "--bits",
        ),
        (
            vec!["search", "--header", GENESIS, "--target", &zero],
            "zero",
        ),
        (
            vec!["search", "--header", GENESIS, "--target", "12345"],
            "--target",
        ),
        (
            vec!["search", "--header", GENESIS, "--difficulty", "0"],
            "difficulty",
        ),
        (
            vec!["search", "--header", GENESIS, "--difficulty", "-3"],
            "difficulty",
        ),
        (
            vec!["search", "--header", GENESIS, "--difficulty", "NaN"],
            "difficulty",
        ),
        (
            vec![
                "search",
                "--header",
                GENESIS,
                "--start",
                "4294967295",
                "--count",
                "2",
            ],
            "runs past the nonce space",
        ),
        (
            vec!["search", "--header", GENESIS, "--count", "0"],
            "count must be at least 1",
        ),
        (
            vec!["search", "--header", GENESIS, "--start", "4294967296"],
            "4294967296",
        ),
        (
            vec!["search", "--header", GENESIS, "--backend", "quantum"],
            "unknown backend \"quantum\"",
        ),
        (
            vec!["search", "--header", GENESIS, "--threads", "0"],
            "--threads",
        ),
        (vec!["bench", "--backend", "quantum"], "unknown backend"),
        (vec!["bench", "--seconds", "-1"], "--seconds"),
        // Options the chosen backend would not use are refused, not dropped.
        (
            vec![
                "search",
                "--header",
                GENESIS,
                "--backend",
                "gpu",
                "--threads",
                "2",
            ],
            "--threads 2 applies to CPU backends",
        ),
        (
            vec![
                "search",
                "--header",
                GENESIS,
                "--backend",
                "scalar",
                "--adapter",
                "0",
            ],
            "--adapter \"0\" applies to the GPU backend, not to --backend scalar",
        ),
        (
            vec![
                "search",
                "--header",
                GENESIS,
                "--adapter",
                "0",
                "--threads",
                "1",
            ],
            "--threads 1 applies to CPU backends",
        ),
        (
            vec!["bench", "--backend", "cpu", "--adapter", "llvmpipe"],
            "--adapter \"llvmpipe\" applies to the GPU backend, not to --backend cpu",
        ),
        (
            vec!["bench", "--backend", "gpu", "--threads", "2"],
            "--threads 2 applies to CPU backends",
        ),
        (
            vec![
                "search",
                "--header",
                GENESIS,
                "--backend",
                "cpu",
                "--gpu-batch-ms",
                "5",
            ],
            "--gpu-batch-ms applies to the GPU backend, not to --backend cpu",
        ),
        (
            vec!["bench", "--backend", "scalar", "--trusted-shader"],
            "--trusted-shader applies to the GPU backend, not to --backend scalar",
        ),
        (
            vec!["bench", "--backend", "scalar", "--gpu-watts", "300"],
            "--gpu-watts is not used: no GPU backend runs in this bench",
        ),
        (
            vec![
                "bench",
                "--backend",
                "scalar",
                "--meter",
                "mock",
                "--cpu-watts",
                "50",
            ],
            "--cpu-watts sets the power model's figures, which --meter mock does not use",
        ),
    ];
    for (args, needle) in cases {
        assert_clean_error(&args, needle);
    }
    // The header's own invalid nBits is reported when no other target is given.
    let neg_bits = format!("{}ffff801d{}", &GENESIS[..144], &GENESIS[152..]);
    assert_clean_error(
        &["search", "--header", &neg_bits, "--count", "10"],
        "negative",
    );
    assert_clean_error(&["hash", "--header", &neg_bits], "negative");
}
