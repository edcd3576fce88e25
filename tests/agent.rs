//! `hashwatt agent` end to end, as users run it: against the test pool,
//! paused and resumed over HTTP, by signal and by a --busy-when probe,
//! stopped by SIGTERM with a final record, books that survive kill -9, and
//! the refusals (bearer token beyond loopback, bad input).

#[path = "support/agent.rs"]
mod agent;
mod common;
#[path = "support/live.rs"]
mod live;
#[path = "support/pool.rs"]
#[allow(clippy::type_complexity)]
mod pool;

use std::time::Duration;

use agent::*;
use serde_json::Value;

const PASSWORD: &str = "s3cret-pool-password";

fn hashes(port: u16, token: Option<&str>) -> u64 {
    device_field(&status(port, token), "hashes")
        .as_u64()
        .unwrap_or(0)
}

fn state(port: u16) -> String {
    device_field(&status(port, None), "state")
        .as_str()
        .unwrap_or("")
        .to_string()
}

/// The value of a metric line `NAME{LABELS} VALUE` whose name and labels
/// contain every needle.
fn metric(text: &str, needles: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find(|l| needles.iter().all(|n| l.contains(n)))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn mines_for_the_test_pool_pauses_over_http_and_by_signal_and_stops_on_sigterm() {
    let mut pool = pool::TestPool::easy();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let books_path = dir.path().join("books.jsonl");
    let out = dir.path().join("agent");
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let url = pool.url();
    let mut child = spawn_agent(
        &[
            "--device",
            "cpu",
            "--threads",
            "1",
            "--pool",
            &url,
            "--user",
            "worker1",
            "--password",
            PASSWORD,
            "--listen",
            &listen,
            "--books",
            books_path.to_str().unwrap_or_default(),
            "--electricity",
            "0",
            "--json",
            "--checkpoint-every",
            "1",
        ],
        &out,
    );
    wait_ready(&mut child, port);

    // Shares reach the pool, which validates each by rebuilding its header.
    assert!(
        pool.wait_for(Duration::from_secs(60), |s| s.accepted >= 2),
        "no accepted shares: {:?}",
        pool.stats()
    );
    assert!(wait_until(Duration::from_secs(10), || {
        device_field(&status(port, None), "shares")["accepted"]
            .as_u64()
            .is_some_and(|n| n >= 1)
    }));
    assert_eq!(state(port), "mining");

    // POST /pause returns once the engine has stopped hashing.
    let (code, body) = http("POST", port, "/pause?device=cpu", None).unwrap_or_default();
    assert_eq!(code, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    let yield_ms = v["paused"][0]["yield_ms"]
        .as_f64()
        .unwrap_or_else(|| panic!("no yield_ms: {body}"));
    assert!((0.0..2000.0).contains(&yield_ms), "{yield_ms}");
    assert_eq!(state(port), "paused");
    let h1 = hashes(port, None);
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(hashes(port, None), h1, "hashes moved while paused");
    assert_eq!(
        device_field(&status(port, None), "paused_by"),
        serde_json::json!(["manual"])
    );

    // Every device off: the miner and its engines are released (GPU memory
    // freed); a resume starts them again.
    assert!(wait_until(Duration::from_secs(10), || {
        books(&books_path)
            .iter()
            .any(|r| r["event"] == "engines_released")
    }));

    // Unknown device: a clear 404, nothing paused.
    let (code, body) = http("POST", port, "/pause?device=gpu:7", None).unwrap_or_default();
    assert_eq!(code, 404, "{body}");
    assert!(body.contains("gpu:7"), "{body}");

    // POST /resume: hashing again.
    let (code, _) = http("POST", port, "/resume", None).unwrap_or_default();
    assert_eq!(code, 200);
    assert!(wait_until(Duration::from_secs(10), || hashes(port, None) > h1));
    assert_eq!(state(port), "mining");

    // SIGUSR1 pauses, SIGUSR2 resumes.
    signal(&child, "USR1");
    assert!(wait_until(Duration::from_secs(10), || state(port) == "paused"));
    let h2 = hashes(port, None);
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(
        hashes(port, None),
        h2,
        "hashes moved while paused by SIGUSR1"
    );
    signal(&child, "USR2");
    assert!(wait_until(Duration::from_secs(10), || hashes(port, None) > h2));

    // The metrics count what the pool accepted and the two hand-backs.
    let (code, text) = http("GET", port, "/metrics", None).unwrap_or_default();
    assert_eq!(code, 200);
    assert!(
        metric(&text, &["hashwatt_shares_total", "accepted", "cpu"]).is_some_and(|n| n >= 1.0),
        "{text}"
    );
    assert!(
        metric(&text, &["hashwatt_yield_latency_seconds_count", "cpu"]).is_some_and(|n| n >= 2.0),
        "{text}"
    );
    assert!(
        metric(&text, &["hashwatt_state{", "state=\"mining\""]) == Some(1.0),
        "{text}"
    );
    assert!(
        text.trim_end().ends_with("# EOF"),
        "not OpenMetrics: {text}"
    );

    // SIGTERM: a clean stop with a final record.
    let status_json = status(port, None).to_string();
    signal(&child, "TERM");
    let st = wait_exit(&mut child, Duration::from_secs(15));
    assert!(st.success(), "{st}");
    let records = books(&books_path);
    let last = records.last().unwrap_or_else(|| panic!("empty books"));
    assert_eq!(last["event"], "stopped", "{last}");
    assert_eq!(last["stopped_by"], "SIGTERM");
    let total = &last["totals"]["total"];
    let pool_accepted = pool.stats().accepted;
    let booked = total["accepted"].as_u64().unwrap_or(0);
    assert!(
        booked >= 1 && booked <= pool_accepted,
        "{booked} vs pool {pool_accepted}"
    );
    assert!(total["hashes"].as_u64().unwrap_or(0) > 0);
    assert!(total["joules"].as_f64().unwrap_or(0.0) > 0.0);
    assert!(
        total["seconds_paused"].as_f64().unwrap_or(0.0) > 1.0,
        "{total}"
    );
    assert!(total["seconds_mining"].as_f64().unwrap_or(0.0) > 0.0);
    // Every decision is booked with its inputs.
    let decision = records
        .iter()
        .find(|r| r["event"] == "decision")
        .unwrap_or_else(|| panic!("no decision record"));
    assert_eq!(decision["choice"], "mine");
    assert_eq!(decision["inputs"]["electricity_usd_per_kwh"]["value"], 0.0);
    assert!(
        decision["inputs"]["difficulty"]["source"]
            .as_str()
            .is_some_and(|s| s.contains("pool job"))
    );

    // The password is nowhere: books, stdout, stderr, status, metrics.
    let (stdout, stderr) = output_of(&out);
    let books_text = std::fs::read_to_string(&books_path).unwrap_or_default();
    for (what, text) in [
        ("books", &books_text),
        ("stdout", &stdout),
        ("stderr", &stderr),
        ("status", &status_json),
        ("metrics", &text),
    ] {
        assert!(!text.contains(PASSWORD), "password in {what}");
    }
    pool.stop();
}

#[test]
fn totals_survive_a_stop_and_a_kill_9() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let books_path = dir.path().join("books.jsonl");
    let b = books_path.to_str().unwrap_or_default().to_string();
    let run = |extra: &[&str], name: &str| {
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let mut args = vec![
            "--device",
            "cpu",
            "--threads",
            "1",
            "--header",
            HEADER,
            "--books",
            &b,
            "--listen",
            &listen,
            "--electricity",
            "0",
            "--checkpoint-every",
            "0.2",
        ];
        args.extend_from_slice(extra);
        let mut child = spawn_agent(&args, &dir.path().join(name));
        wait_ready(&mut child, port);
        (child, port)
    };
    let total_hashes = |r: &Value| r["totals"]["total"]["hashes"].as_u64().unwrap_or(0);

    let (mut a, _) = run(&["--duration", "1.5"], "a");
    assert!(wait_exit(&mut a, Duration::from_secs(20)).success());
    let first = books(&books_path);
    let h1 = total_hashes(first.last().unwrap_or(&Value::Null));
    assert!(h1 > 0);

    // kill -9 mid-run: the last checkpoint survives, at most one record is lost.
    let (mut b9, port) = run(&[], "b");
    assert!(wait_until(Duration::from_secs(20), || hashes(port, None) > h1));
    std::thread::sleep(Duration::from_millis(600));
    let _ = b9.kill();
    let _ = b9.wait();
    let after_kill = books(&books_path);
    let h2 = after_kill
        .iter()
        .filter(|r| r["event"] == "checkpoint")
        .map(total_hashes)
        .max()
        .unwrap_or(0);
    assert!(
        h2 > h1,
        "the second run's checkpoints carry on from {h1}: {h2}"
    );

    let (mut c, port) = run(&["--duration", "1"], "c");
    // The restored totals are there from the start.
    assert!(hashes(port, None) >= h2);
    assert!(wait_exit(&mut c, Duration::from_secs(20)).success());
    let last = books(&books_path);
    let end = last.last().unwrap_or(&Value::Null);
    assert_eq!(end["event"], "stopped");
    assert_eq!(end["stopped_by"], "--duration");
    assert!(total_hashes(end) > h2);
    let started: Vec<_> = last.iter().filter(|r| r["event"] == "started").collect();
    assert_eq!(started.len(), 3);
    assert!(total_hashes(&serde_json::json!({"totals": started[2]["restored_totals"]})) >= h2);
}

#[test]
fn a_busy_probe_pauses_and_releases_and_a_losing_decision_idles() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let busy = dir.path().join("busy");
    let books_path = dir.path().join("books.jsonl");
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let probe = format!("test -e {}", busy.display());
    let mut child = spawn_agent(
        &[
            "--device",
            "cpu",
            "--threads",
            "1",
            "--header",
            HEADER,
            "--listen",
            &listen,
            "--books",
            books_path.to_str().unwrap_or_default(),
            "--electricity",
            "0",
            "--busy-when",
            &probe,
            "--busy-every",
            "0.1",
        ],
        &dir.path().join("a"),
    );
    wait_ready(&mut child, port);
    assert!(wait_until(Duration::from_secs(10), || hashes(port, None) > 0));
    std::fs::write(&busy, b"").unwrap_or_else(|e| panic!("{e}"));
    assert!(wait_until(Duration::from_secs(10), || state(port) == "paused"));
    assert_eq!(
        device_field(&status(port, None), "paused_by"),
        serde_json::json!(["busy-when"])
    );
    std::fs::remove_file(&busy).unwrap_or_else(|e| panic!("{e}"));
    assert!(wait_until(Duration::from_secs(10), || state(port) == "mining"));
    signal(&child, "INT");
    assert!(wait_exit(&mut child, Duration::from_secs(15)).success());
    let records = books(&books_path);
    assert_eq!(
        records.last().map(|r| r["stopped_by"].clone()),
        Some("SIGINT".into())
    );

    // Power at $50/kWh: mining cannot pay; after measuring, the agent goes idle.
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
            "--listen",
            &listen,
            "--books",
            books_path.to_str().unwrap_or_default(),
            "--electricity",
            "50",
            "--min-dwell",
            "0",
            "--decide-every",
            "0.5",
        ],
        &dir.path().join("b"),
    );
    wait_ready(&mut child, port);
    assert!(wait_until(Duration::from_secs(20), || state(port) == "idle"));
    let s = status(port, None);
    assert_eq!(s["decision"]["devices"]["cpu"]["choice"], "idle");
    assert!(
        s["decision"]["devices"]["cpu"]["verdict"]["margin_usd_per_hour"]
            .as_f64()
            .is_some_and(|m| m < 0.0),
        "{s}"
    );
    let h = hashes(port, None);
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(hashes(port, None), h, "hashing while idle");
    signal(&child, "TERM");
    assert!(wait_exit(&mut child, Duration::from_secs(15)).success());
}

#[test]
fn the_token_is_required_beyond_loopback_and_checked() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let books_path = dir.path().join("books.jsonl");
    let b = books_path.to_str().unwrap_or_default();
    let out = hashwatt_output(&[
        "--device",
        "cpu",
        "--header",
        HEADER,
        "--books",
        b,
        "--listen",
        "0.0.0.0:0",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--token-file"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "t0ken-abc\n").unwrap_or_else(|e| panic!("{e}"));
    let port = free_port();
    let listen = format!("0.0.0.0:{port}");
    let mut child = spawn_agent(
        &[
            "--device",
            "cpu",
            "--threads",
            "1",
            "--header",
            HEADER,
            "--books",
            b,
            "--listen",
            &listen,
            "--token-file",
            token_file.to_str().unwrap_or_default(),
        ],
        &dir.path().join("a"),
    );
    wait_ready(&mut child, port);
    for (method, path) in [("GET", "/status"), ("POST", "/pause"), ("POST", "/resume")] {
        let (code, _) = http(method, port, path, None).unwrap_or_default();
        assert_eq!(code, 401, "{method} {path} without a token");
        let (code, _) = http(method, port, path, Some("wrong")).unwrap_or_default();
        assert_eq!(code, 401, "{method} {path} with a wrong token");
    }
    assert_eq!(state_with(port, "t0ken-abc"), "mining");
    let (code, _) = http("POST", port, "/pause", Some("t0ken-abc")).unwrap_or_default();
    assert_eq!(code, 200);
    assert_eq!(state_with(port, "t0ken-abc"), "paused");
    // Metrics and probes stay open for Prometheus and the kubelet.
    assert_eq!(http("GET", port, "/metrics", None).map(|r| r.0), Some(200));
    assert_eq!(http("GET", port, "/healthz", None).map(|r| r.0), Some(200));
    signal(&child, "TERM");
    assert!(wait_exit(&mut child, Duration::from_secs(15)).success());
}

fn state_with(port: u16, token: &str) -> String {
    device_field(&status(port, Some(token)), "state")
        .as_str()
        .unwrap_or("")
        .to_string()
}

fn hashwatt_output(args: &[&str]) -> std::process::Output {
    common::hashwatt(&[&["agent"], args].concat())
}

#[test]
fn bad_input_gets_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let schedule = dir.path().join("prices.txt");
    std::fs::write(&schedule, "0 40\n25 90\n").unwrap_or_else(|e| panic!("{e}"));
    let books = dir.path().join("b.jsonl");
    let b = books.to_str().unwrap_or_default();
    let s = schedule.to_str().unwrap_or_default();
    let not_books = dir.path().join("not-books.txt");
    std::fs::write(&not_books, "hello\n").unwrap_or_else(|e| panic!("{e}"));
    let nb = not_books.to_str().unwrap_or_default();
    for (args, needle) in [
        (
            vec!["--device", "tpu", "--header", HEADER, "--books", b],
            "invalid --device \"tpu\"",
        ),
        (
            vec![
                "--device",
                "cpu",
                "--header",
                HEADER,
                "--books",
                b,
                "--live",
                "--live-timeout",
                "0",
            ],
            "--live-timeout must be",
        ),
        (
            vec![
                "--device",
                "cpu",
                "--header",
                HEADER,
                "--books",
                b,
                "--live",
                "--node",
                "http://127.0.0.1:1",
            ],
            "--node needs --rpc-user",
        ),
        (
            vec!["--device", "gpu:x", "--header", HEADER, "--books", b],
            "adapter index",
        ),
        (
            vec![
                "--device",
                "cpu",
                "--header",
                HEADER,
                "--books",
                b,
                "--power-schedule",
                s,
            ],
            "line 2: hour \"25\"",
        ),
        (
            vec![
                "--device", "cpu", "--device", "cpu", "--header", HEADER, "--books", b,
            ],
            "--device cpu given twice",
        ),
        (
            vec!["--device", "cpu", "--header", HEADER, "--books", nb],
            "line 1",
        ),
        (
            vec![
                "--device",
                "cpu",
                "--pool",
                "http://x:1",
                "--user",
                "u",
                "--books",
                b,
            ],
            "http://x:1",
        ),
        (
            vec![
                "--device",
                "cpu",
                "--header",
                HEADER,
                "--books",
                b,
                "--electricity",
                "-1",
            ],
            "--electricity must be",
        ),
        (
            vec![
                "--device",
                "gpu",
                "--header",
                HEADER,
                "--books",
                b,
                "--threads",
                "2",
            ],
            "--threads 2 applies to --device cpu",
        ),
        (
            vec![
                "--device",
                "cpu",
                "--header",
                HEADER,
                "--books",
                b,
                "--batch-ms",
                "5",
            ],
            "--batch-ms 5 applies to GPU devices",
        ),
    ] {
        let out = hashwatt_output(&args);
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    // Any pool flag with --header would be dropped: clap refuses each.
    for flag in [
        &["--password", "p"][..],
        &["--user", "u"],
        &["--ca-cert", "ca.pem"],
        &["--no-version-rolling"],
        &["--idle-timeout", "5"],
        &["--max-backoff", "5"],
    ] {
        let mut args = vec!["--device", "cpu", "--header", HEADER];
        args.extend_from_slice(flag);
        let out = hashwatt_output(&args);
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("cannot be used with"), "{args:?}: {err}");
        assert!(err.contains(flag[0]), "{args:?}: {err}");
    }
}

/// CPU seconds (user + system) the process has used, from /proc.
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which is in parentheses).
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    // USER_HZ is 100 on Linux.
    Some(ticks / 100.0)
}

#[test]
fn on_the_gpu_a_pause_stops_hashing_and_a_paused_agent_costs_almost_no_cpu() {
    if !gpu_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let books_path = dir.path().join("books.jsonl");
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut child = spawn_agent(
        &[
            "--device",
            "gpu",
            "--header",
            HEADER,
            "--batch-ms",
            "5",
            "--listen",
            &listen,
            "--books",
            books_path.to_str().unwrap_or_default(),
            "--electricity",
            "0",
            "--mining-watts",
            "100",
            "--no-nvml",
        ],
        &dir.path().join("gpu"),
    );
    wait_ready(&mut child, port);
    assert!(wait_until(Duration::from_secs(30), || hashes(port, None) > 0));
    assert_eq!(device_field(&status(port, None), "device"), "gpu");
    let (code, body) = http("POST", port, "/pause", None).unwrap_or_default();
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("yield_ms"), "{body}");
    assert_eq!(state(port), "paused");
    let h = hashes(port, None);
    // Paused: no hashing, and well under 1 % of a core (a few wake-ups a second).
    let before = cpu_seconds(child.id());
    std::thread::sleep(Duration::from_secs(3));
    let after = cpu_seconds(child.id());
    assert_eq!(hashes(port, None), h, "hashing while paused");
    if let (Some(a), Some(b)) = (before, after) {
        assert!(b - a <= 0.03, "{:.3} CPU s in 3 s paused", b - a);
    }
    let (code, _) = http("POST", port, "/resume", None).unwrap_or_default();
    assert_eq!(code, 200);
    assert!(wait_until(Duration::from_secs(30), || hashes(port, None) > h));
    signal(&child, "TERM");
    assert!(wait_exit(&mut child, Duration::from_secs(20)).success());
    let last = books(&books_path).pop().unwrap_or(Value::Null);
    assert_eq!(last["event"], "stopped");
}

#[test]
fn live_inputs_from_the_rest_api_reach_the_decision_books_and_metrics() {
    let srv = live::Replay::start(live::Fault::None);
    let api = format!("{}/api", srv.url);
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let books_path = dir.path().join("books.jsonl");
    let cache = dir.path().join("live.json");
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
            "--listen",
            &listen,
            "--books",
            books_path.to_str().unwrap_or_default(),
            "--electricity",
            "0",
            "--decide-every",
            "0.5",
            "--live",
            "--live-api",
            &api,
            "--live-cache",
            cache.to_str().unwrap_or_default(),
            "--live-timeout",
            "5",
        ],
        &dir.path().join("a"),
    );
    wait_ready(&mut child, port);
    // The recorded /v1/prices: USD 43753 as of 1703252411.
    let live_decision = |r: &Value| {
        r["event"] == "decision" && r["inputs"]["btc_price_usd"]["value"].as_f64() == Some(43753.0)
    };
    assert!(
        wait_until(Duration::from_secs(20), || books(&books_path)
            .iter()
            .any(live_decision)),
        "no decision on the live price: {:?}",
        books(&books_path)
    );
    let records = books(&books_path);
    let d = records
        .iter()
        .find(|r| live_decision(r))
        .cloned()
        .unwrap_or_default();
    let price = &d["inputs"]["btc_price_usd"];
    let source = price["source"].as_str().unwrap_or_default();
    assert!(
        source.starts_with("live: ") && source.contains(&format!("{api}/v1/prices")),
        "{d}"
    );
    assert_eq!(price["as_of"].as_f64(), Some(1_703_252_411.0), "{d}");
    // A fixed header's nBits is not today's network: difficulty is live too.
    let diff = d["inputs"]["difficulty"]["source"]
        .as_str()
        .unwrap_or_default();
    assert!(diff.starts_with("live: "), "{d}");
    assert_eq!(
        d["inputs"]["height"]["value"].as_f64(),
        Some(698_767.0),
        "{d}"
    );
    assert!(
        d["inputs"]["fees_btc_per_block"]["value"]
            .as_f64()
            .is_some_and(|f| f > 0.0),
        "{d}"
    );
    let live_rec = records
        .iter()
        .find(|r| r["event"] == "live")
        .cloned()
        .unwrap_or_default();
    assert_eq!(live_rec["used"], "live", "{live_rec}");
    assert!(cache.exists(), "the live cache was not written");
    let (code, text) = http("GET", port, "/metrics", None).unwrap_or_default();
    assert_eq!(code, 200);
    assert_eq!(
        metric(
            &text,
            &["economic_inputs_as_of_unix_seconds", "btc_price_usd"]
        ),
        Some(1_703_252_411.0),
        "{text}"
    );
    signal(&child, "TERM");
    assert!(wait_exit(&mut child, Duration::from_secs(15)).success());

    // With --node, difficulty and height come from the node's getmininginfo
    // (the replay server does not check the credentials).
    const RPC_PASSWORD: &str = "s3cret-rpc-password";
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let books_node = dir.path().join("books-node.jsonl");
    let mut child = spawn_agent(
        &[
            "--device",
            "cpu",
            "--threads",
            "1",
            "--header",
            HEADER,
            "--listen",
            &listen,
            "--books",
            books_node.to_str().unwrap_or_default(),
            "--electricity",
            "0",
            "--decide-every",
            "0.5",
            "--live",
            "--live-api",
            &api,
            "--live-cache",
            cache.to_str().unwrap_or_default(),
            "--node",
            &srv.url,
            "--rpc-user",
            live::USER,
            "--rpc-password",
            RPC_PASSWORD,
        ],
        &dir.path().join("b"),
    );
    wait_ready(&mut child, port);
    let node_decision = |r: &Value| {
        r["event"] == "decision"
            && r["inputs"]["difficulty"]["source"]
                .as_str()
                .is_some_and(|s| s.contains("getmininginfo"))
    };
    assert!(
        wait_until(Duration::from_secs(20), || books(&books_node)
            .iter()
            .any(node_decision)),
        "no decision on the node's difficulty: {:?}",
        books(&books_node)
    );
    signal(&child, "TERM");
    assert!(wait_exit(&mut child, Duration::from_secs(15)).success());
    let text = std::fs::read_to_string(&books_node).unwrap_or_default();
    assert!(
        !text.contains(RPC_PASSWORD),
        "the RPC password reached the books"
    );
    drop(srv);
}

#[test]
fn in_pool_mode_a_paused_gpu_lets_go_of_its_engine_while_the_cpu_mines_on() {
    if !gpu_or_skip() {
        return;
    }
    let mut pool = pool::TestPool::easy();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let books_path = dir.path().join("books.jsonl");
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let url = pool.url();
    let mut child = spawn_agent(
        &[
            "--device",
            "gpu",
            "--device",
            "cpu",
            "--threads",
            "1",
            "--pool",
            &url,
            "--user",
            "worker1",
            "--listen",
            &listen,
            "--books",
            books_path.to_str().unwrap_or_default(),
            "--electricity",
            "0",
            "--mining-watts",
            "100",
            "--no-nvml",
        ],
        &dir.path().join("agent"),
    );
    wait_ready(&mut child, port);
    let device = |name: &str, field: &str| -> Value {
        status(port, None)["devices"]
            .as_array()
            .and_then(|d| d.iter().find(|d| d["device"] == name))
            .map_or(Value::Null, |d| d[field].clone())
    };
    let hashes_of = |name: &str| device(name, "hashes").as_u64().unwrap_or(0);
    assert!(wait_until(Duration::from_secs(60), || hashes_of("gpu") > 0
        && hashes_of("cpu") > 0));

    // Pause the GPU alone: its engine is released, the CPU mines on.
    let (code, body) = http("POST", port, "/pause?device=gpu", None).unwrap_or_default();
    assert_eq!(code, 200, "{body}");
    assert_eq!(device("gpu", "state"), "paused");
    let released = |r: &Value| r["event"] == "engine_released" && r["device"] == "gpu";
    assert!(wait_until(Duration::from_secs(10), || books(&books_path)
        .iter()
        .any(released)));
    let (g, c) = (hashes_of("gpu"), hashes_of("cpu"));
    // The CPU's count moves at the end of each engine call (about 1 s).
    assert!(
        wait_until(Duration::from_secs(20), || hashes_of("cpu") > c),
        "the CPU stopped with the GPU"
    );
    assert_eq!(hashes_of("gpu"), g, "the paused GPU hashed");
    assert!(
        !books(&books_path)
            .iter()
            .any(|r| r["event"] == "engines_released"),
        "the miner was released while the CPU mines"
    );

    // Resume: the GPU's engine is opened again and hashes.
    let (code, _) = http("POST", port, "/resume?device=gpu", None).unwrap_or_default();
    assert_eq!(code, 200);
    assert!(wait_until(Duration::from_secs(30), || hashes_of("gpu") > g));
    assert!(
        books(&books_path)
            .iter()
            .any(|r| r["event"] == "engine_reopened" && r["device"] == "gpu")
    );

    signal(&child, "TERM");
    let st = wait_exit(&mut child, Duration::from_secs(15));
    assert!(st.success(), "{st}");
    pool.stop();
}
