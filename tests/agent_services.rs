//! The agent with real services: scraped by a real Prometheus server, and
//! preempted by a real Slurm cluster.
//!
//! Prometheus: the Debian package `prometheus` (`.ci/prometheus.sh`); the
//! test starts the server itself with a config that scrapes the agent.
//! Slurm: the single-node cluster `.ci/slurm.sh` starts. Without the
//! service each test prints why it skips; with HASHWATT_REQUIRE_PROMETHEUS=1
//! or HASHWATT_REQUIRE_SLURM=1 (CI) it fails instead.

#[path = "support/agent.rs"]
mod agent;
mod common;
#[path = "support/pool.rs"]
#[allow(clippy::type_complexity)]
mod pool;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use agent::*;
use serde_json::Value;

/// Skips (prints why) or, when `var` is 1, fails.
fn unavailable(var: &str, why: &str) {
    if std::env::var(var).is_ok_and(|v| v == "1") {
        panic!("{why} ({var}=1)");
    }
    eprintln!("skipping: {why} (set {var}=1 to make this a failure)");
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"_-.".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The value of an instant query with one series, through Prometheus's
/// HTTP API.
fn query(prom_port: u16, q: &str) -> Option<f64> {
    let (code, body) = http(
        "GET",
        prom_port,
        &format!("/api/v1/query?query={}", percent_encode(q)),
        None,
    )?;
    if code != 200 {
        return None;
    }
    let v: Value = serde_json::from_str(&body).ok()?;
    let result = v["data"]["result"].as_array()?;
    let first = result.first()?;
    first["value"][1].as_str()?.parse().ok()
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_prometheus(dir: &Path, agent_port: u16) -> (Killed, u16) {
    let port = free_port();
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: hashwatt-agent\n    scrape_interval: 1s\n    \
             static_configs:\n      - targets: ['127.0.0.1:{agent_port}']\n"
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let log = std::fs::File::create(dir.join("prometheus.log")).unwrap_or_else(|e| panic!("{e}"));
    let log2 = log.try_clone().unwrap_or_else(|e| panic!("{e}"));
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("tsdb").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start prometheus: {e}"));
    (Killed(child), port)
}

#[test]
fn a_real_prometheus_scrapes_the_agent_and_its_series_move() {
    if Command::new("prometheus")
        .arg("--version")
        .output()
        .is_err()
    {
        return unavailable(
            "HASHWATT_REQUIRE_PROMETHEUS",
            "no `prometheus` binary (apt-get install prometheus, or .ci/prometheus.sh)",
        );
    }
    let mut pool = pool::TestPool::easy();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let url = pool.url();
    let books_path = dir.path().join("books.jsonl");
    let mut child = spawn_agent(
        &[
            "--device",
            "cpu",
            "--threads",
            "1",
            "--pool",
            &url,
            "--user",
            "prom",
            "--listen",
            &listen,
            "--books",
            books_path.to_str().unwrap_or_default(),
            "--electricity",
            "0",
            "--no-nvml",
        ],
        &dir.path().join("agent"),
    );
    wait_ready(&mut child, port);
    let (prom, prom_port) = start_prometheus(dir.path(), port);

    // The series arrive ...
    let hashes = r#"hashwatt_hashes_total{job="hashwatt-agent",device="cpu"}"#;
    let mut first = 0.0;
    assert!(
        wait_until(Duration::from_secs(60), || {
            first = query(prom_port, hashes).unwrap_or(0.0);
            first > 0.0
        }),
        "Prometheus never saw {hashes}: {}",
        std::fs::read_to_string(dir.path().join("prometheus.log")).unwrap_or_default()
    );
    // ... and move.
    assert!(wait_until(Duration::from_secs(30), || {
        query(prom_port, hashes).is_some_and(|v| v > first)
    }));
    for q in [
        r#"hashwatt_state{device="cpu",state="mining"}"#,
        r#"hashwatt_hashrate_hashes_per_second{device="cpu"} > 0"#,
        r#"hashwatt_energy_joules_total{device="cpu"} > 0"#,
        r#"hashwatt_power_watts{device="cpu"} > 0"#,
        r#"hashwatt_shares_total{device="cpu",result="accepted"} > 0"#,
        r#"hashwatt_modeled_revenue_usd_total{device="cpu"} > 0"#,
        r#"hashwatt_decision_margin_usd_per_hour{device="cpu"} > 0"#,
        r#"hashwatt_economic_inputs_as_of_unix_seconds{input="difficulty"} > 1.7e9"#,
    ] {
        assert!(
            wait_until(Duration::from_secs(30), || query(prom_port, q).is_some()),
            "no series for {q}"
        );
    }
    assert_eq!(
        query(prom_port, r#"hashwatt_state{device="cpu",state="mining"}"#),
        Some(1.0)
    );

    // A pause shows up as a state change and a yield-latency observation.
    let (code, _) = http("POST", port, "/pause", None).unwrap_or_default();
    assert_eq!(code, 200);
    assert!(wait_until(Duration::from_secs(30), || {
        query(prom_port, r#"hashwatt_state{device="cpu",state="paused"}"#) == Some(1.0)
    }));
    assert!(wait_until(Duration::from_secs(30), || {
        query(
            prom_port,
            r#"hashwatt_yield_latency_seconds_count{device="cpu"}"#,
        )
        .is_some_and(|n| n >= 1.0)
    }));
    assert_eq!(
        query(
            prom_port,
            r#"hashwatt_hashrate_hashes_per_second{device="cpu"}"#
        ),
        Some(0.0)
    );
    drop(prom);
    signal(&child, "TERM");
    assert!(wait_exit(&mut child, Duration::from_secs(15)).success());
    pool.stop();
}

fn slurm(args: &[&str]) -> Option<String> {
    let out = Command::new(args[0]).args(&args[1..]).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// `scontrol show job ID` as KEY=VALUE pairs.
fn job_field(id: &str, key: &str) -> Option<String> {
    let text = slurm(&["scontrol", "-o", "show", "job", id])?;
    text.split_whitespace()
        .find_map(|kv| kv.strip_prefix(&format!("{key}=")).map(str::to_string))
}

struct Cancel(Vec<String>);

impl Drop for Cancel {
    fn drop(&mut self) {
        for id in &self.0 {
            let _ = Command::new("scancel").arg(id).status();
        }
    }
}

#[test]
fn slurm_preempts_the_agent_which_stops_within_grace_and_is_requeued() {
    let up = slurm(&["sinfo", "-h", "-o", "%T"])
        .is_some_and(|s| s.contains("idle") || s.contains("mixed") || s.contains("alloc"));
    if !up {
        return unavailable(
            "HASHWATT_REQUIRE_SLURM",
            "no running Slurm cluster (start one with .ci/slurm.sh)",
        );
    }
    let grace: f64 = slurm(&["scontrol", "-o", "show", "partition", "scavenger"])
        .and_then(|p| {
            p.split_whitespace()
                .find_map(|kv| kv.strip_prefix("GraceTime=").map(str::to_string))
        })
        .and_then(|g| g.parse().ok())
        .unwrap_or_else(|| panic!("no scavenger partition with a GraceTime: see .ci/slurm.sh"));
    let mut pool = pool::TestPool::easy();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let books_path = dir.path().join("books.jsonl");
    let log = dir.path().join("agent-job.log");
    let high_log = dir.path().join("high-job.log");
    let port = free_port();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/slurm/hashwatt-agent.sbatch");
    let export = format!(
        "ALL,HASHWATT_POOL={},HASHWATT_USER=slurm-worker,HASHWATT_BIN={},HASHWATT_BOOKS={},\
         HASHWATT_LISTEN=127.0.0.1:{port},HASHWATT_ARGS=--threads 1 --electricity 0 --checkpoint-every 1 --no-nvml,\
         NODEVICE_SELECT=1",
        pool.url(),
        env!("CARGO_BIN_EXE_hashwatt"),
        books_path.display()
    );
    let id = slurm(&[
        "sbatch",
        "--parsable",
        "--exclusive",
        "--output",
        log.to_str().unwrap_or_default(),
        "--export",
        &export,
        script.to_str().unwrap_or_default(),
    ])
    .unwrap_or_else(|| panic!("sbatch of the agent failed"));
    let mut cancel = Cancel(vec![id.clone()]);

    // The agent runs in the scavenger partition and mines for the pool.
    let running = wait_until(Duration::from_secs(60), || {
        http("GET", port, "/readyz", None).is_some_and(|(c, _)| c == 200)
    });
    assert!(
        running,
        "the agent job never answered: state {:?}, log {}",
        job_field(&id, "JobState"),
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    assert_eq!(job_field(&id, "Partition").as_deref(), Some("scavenger"));
    assert!(
        pool.wait_for(Duration::from_secs(60), |s| s.accepted >= 1),
        "no accepted share from the Slurm job"
    );

    // An AI job in the high partition needs the whole node.
    let high = slurm(&[
        "sbatch",
        "--parsable",
        "--partition",
        "high",
        "--exclusive",
        "--output",
        high_log.to_str().unwrap_or_default(),
        "--wrap",
        "echo high-priority job ran; sleep 1",
    ])
    .unwrap_or_else(|| panic!("sbatch of the high-priority job failed"));
    cancel.0.push(high.clone());
    assert!(
        wait_until(Duration::from_secs(90), || {
            std::fs::read_to_string(&high_log).is_ok_and(|t| t.contains("high-priority job ran"))
        }),
        "the high-priority job never ran: {:?}",
        job_field(&high, "JobState")
    );

    // The agent got SIGTERM, stopped hashing and wrote its final record
    // within the grace time (after it, SIGKILL leaves no record at all).
    assert!(wait_until(Duration::from_secs(30), || {
        books(&books_path)
            .last()
            .is_some_and(|r| r["event"] == "stopped")
    }));
    let records = books(&books_path);
    let last = records.last().unwrap_or(&Value::Null);
    assert_eq!(last["stopped_by"], "SIGTERM", "{last}");
    let took =
        last["time"].as_f64().unwrap_or(f64::MAX) - last["stop_asked_at"].as_f64().unwrap_or(0.0);
    assert!(
        took < grace,
        "stopped {took:.3} s after SIGTERM; GraceTime is {grace} s"
    );
    assert!(last["totals"]["total"]["hashes"].as_u64().unwrap_or(0) > 0);
    assert!(last["totals"]["total"]["accepted"].as_u64().unwrap_or(0) >= 1);
    assert!(
        http("GET", port, "/healthz", None).is_none(),
        "agent still answering"
    );

    // Slurm requeued the job: it is pending again with one restart, and it
    // will start over with the same books when the node is free.
    assert!(wait_until(Duration::from_secs(30), || {
        job_field(&id, "Restarts").is_some_and(|r| r != "0")
    }));
    let state = job_field(&id, "JobState").unwrap_or_default();
    assert!(
        ["PENDING", "REQUEUED", "RUNNING", "CONFIGURING"].contains(&state.as_str()),
        "{state}"
    );
    let job_log = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(job_log.contains("restart 0"), "{job_log}");
    drop(cancel);
    pool.stop();
}
