//! End to end against the test pool (`tests/support/pool.rs`): cpuminer-opt
//! proves the pool right, then hashwatt's miner (library and binary, CPU and
//! GPU, TCP and TLS) gets shares accepted through every fault the pool can
//! inject, clean-job switches and a failover to a second pool.
//!
//! cpuminer-opt is `../shared/peers/cpuminer-opt/cpuminer` beside the
//! repository; without it the cpuminer test prints why and passes, unless
//! `HASHWATT_REQUIRE_CPUMINER=1` (CI). The GPU test follows
//! `HASHWATT_REQUIRE_GPU` the same way.

mod common;
#[path = "support/pool.rs"]
mod pool;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use hashwatt::mine::{
    Backoff, EngineState, MineError, MineEvent, Miner, MinerConfig, PoolConfig, ShareStatus,
    Timeouts, WorkSource,
};
use hashwatt::search::{CpuEngine, Engine};
use hashwatt::sha256::CpuKernel;
use pool::{Fault, PoolOptions, TestPool};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(60);

fn cpu_engine() -> Arc<dyn Engine> {
    Arc::new(CpuEngine::new(CpuKernel::best(), Some(1)).unwrap())
}

fn config(urls: &[String]) -> MinerConfig {
    let pools = urls
        .iter()
        .map(|u| PoolConfig::new(u, "hw.test", "x"))
        .collect();
    let mut c = MinerConfig::new(WorkSource::Pools(pools));
    c.timeouts = Timeouts {
        connect: Duration::from_secs(2),
        response: Duration::from_secs(2),
        idle: Duration::from_secs(2),
    };
    c.backoff = Backoff {
        initial: Duration::from_millis(100),
        max: Duration::from_millis(400),
    };
    c.failback_interval = Duration::from_millis(500);
    c.chunk_time = Duration::from_millis(200);
    c
}

/// A miner and everything it reported so far.
struct Run {
    miner: Option<Miner>,
    rx: Receiver<MineEvent>,
    events: Vec<MineEvent>,
}

impl Run {
    fn start(config: MinerConfig, engines: Vec<Arc<dyn Engine>>) -> Run {
        let (tx, rx) = std::sync::mpsc::channel();
        let miner = Miner::start(config, engines, Some(tx)).unwrap();
        Run {
            miner: Some(miner),
            rx,
            events: Vec::new(),
        }
    }

    fn miner(&self) -> &Miner {
        self.miner.as_ref().unwrap()
    }

    /// Waits for an event (after those already seen) matching `pred`.
    fn wait(&mut self, what: &str, pred: impl Fn(&MineEvent) -> bool) -> MineEvent {
        let until = Instant::now() + WAIT;
        while Instant::now() < until {
            if let Ok(e) = self.rx.recv_timeout(Duration::from_millis(50)) {
                self.events.push(e.clone());
                if pred(&e) {
                    return e;
                }
            }
        }
        panic!(
            "no {what} event within {WAIT:?}; events: {:#?}",
            self.events
        );
    }

    fn accepted(&mut self) -> MineEvent {
        self.wait("accepted share", |e| {
            matches!(
                e,
                MineEvent::Share {
                    status: ShareStatus::Accepted,
                    ..
                }
            )
        })
    }

    fn disconnected(&mut self, needle: &str) -> String {
        let e = self.wait(
            &format!("disconnected ({needle})"),
            |e| matches!(e, MineEvent::Disconnected { reason, .. } if reason.contains(needle)),
        );
        let MineEvent::Disconnected { reason, .. } = e else {
            unreachable!()
        };
        reason
    }

    fn stop(&mut self) -> hashwatt::mine::MineSummary {
        self.miner.take().unwrap().stop()
    }
}

fn pool(opts: PoolOptions) -> TestPool {
    TestPool::start(opts).unwrap()
}

fn easy() -> PoolOptions {
    PoolOptions {
        difficulty: 0.0005,
        ..PoolOptions::default()
    }
}

#[test]
fn cpu_miner_gets_rolled_shares_accepted_and_stops_cleanly() {
    let p = pool(PoolOptions {
        vardiff_every: 4,
        max_difficulty: 0.004,
        job_interval: Duration::from_millis(700),
        ..easy()
    });
    let mut run = Run::start(config(&[p.url()]), vec![cpu_engine(), cpu_engine()]);
    let e = run.wait("connected", |e| matches!(e, MineEvent::Connected { .. }));
    let MineEvent::Connected { version_mask, .. } = e else {
        unreachable!()
    };
    assert_eq!(version_mask.as_deref(), Some("1fffe000"));
    assert!(p.wait_for(WAIT, |s| s.accepted >= 10), "{:?}", p.stats());
    // Vardiff raised the difficulty and the miner followed it.
    run.wait(
        "difficulty 0.002",
        |e| matches!(e, MineEvent::Difficulty { difficulty, .. } if *difficulty >= 0.002),
    );
    run.wait("share at raised difficulty", |e| {
        matches!(e, MineEvent::Share { status: ShareStatus::Accepted, pool_difficulty, .. } if *pool_difficulty >= 0.002)
    });
    // Both engines found shares: each hashes its own nonce space.
    let stats = run.miner().stats();
    assert!(
        stats.engines.iter().all(|e| e.shares_found > 0),
        "{stats:?}"
    );
    assert!(stats.pool_difficulty.unwrap() >= 0.002);
    assert!(stats.network_difficulty.unwrap() > 1e12);
    assert_eq!(stats.pool.as_deref(), Some(p.url().as_str()));

    // Pause engine 0: it stops within one batch, and its hash count freezes.
    let yielded = run.miner().pause(0).unwrap();
    assert!(yielded < Duration::from_secs(2), "pause took {yielded:?}");
    let frozen = run.miner().stats().engines[0].hashes;
    assert_eq!(run.miner().stats().engines[0].state, EngineState::Paused);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(run.miner().stats().engines[0].hashes, frozen);
    assert!(run.miner().stats().engines[1].state == EngineState::Running);
    run.miner().resume(0).unwrap();
    let until = Instant::now() + WAIT;
    while run.miner().stats().engines[0].hashes == frozen {
        assert!(Instant::now() < until, "engine 0 did not resume");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(run.miner().pause(7).is_err());

    // Release engine 1: the miner lets go of it (the engine, and a GPU's
    // memory, is freed), it cannot be resumed as it was, and a new engine
    // takes its place and its nonce space.
    let engine: Arc<dyn Engine> = cpu_engine();
    let watch = Arc::downgrade(&engine);
    run.miner().resume_with(1, engine).unwrap();
    let frozen = run.miner().stats().engines[1].hashes;
    let until = Instant::now() + WAIT;
    while run.miner().stats().engines[1].hashes == frozen {
        assert!(Instant::now() < until, "the new engine 1 did not hash");
        std::thread::sleep(Duration::from_millis(20));
    }
    run.miner().release(1).unwrap();
    assert!(
        watch.upgrade().is_none(),
        "the released engine is still held"
    );
    assert!(!run.miner().has_engine(1).unwrap());
    assert_eq!(run.miner().stats().engines[1].state, EngineState::Paused);
    assert!(matches!(
        run.miner().resume(1),
        Err(MineError::Released { index: 1 })
    ));
    let frozen = run.miner().stats().engines[1].hashes;
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(run.miner().stats().engines[1].hashes, frozen);
    run.miner().resume_with(1, cpu_engine()).unwrap();
    assert!(run.miner().has_engine(1).unwrap());
    let until = Instant::now() + WAIT;
    while run.miner().stats().engines[1].hashes == frozen {
        assert!(Instant::now() < until, "engine 1 did not resume");
        std::thread::sleep(Duration::from_millis(20));
    }

    let t0 = Instant::now();
    let summary = run.stop();
    assert!(
        t0.elapsed() < Duration::from_secs(3),
        "stop took {:?}",
        t0.elapsed()
    );
    assert!(
        summary
            .engines
            .iter()
            .all(|e| e.state == EngineState::Stopped)
    );
    let ps = p.stats();
    // Every share the pool accepted, the miner counted, and the other way round.
    assert_eq!(summary.shares.accepted, ps.accepted, "{summary:?} {ps:?}");
    assert!(summary.shares.rejected.is_empty(), "{summary:?}");
    assert!((summary.shares.accepted_difficulty - ps.accepted_difficulty).abs() < 1e-9);
    assert!(ps.rejected.is_empty(), "{ps:?}");
    // Version rolling was used.
    assert!(ps.configure_seen && ps.accepted_rolled > 0, "{ps:?}");
}

#[test]
fn clean_jobs_switch_the_engines_and_void_old_work() {
    let p = pool(easy());
    let mut run = Run::start(config(&[p.url()]), vec![cpu_engine()]);
    run.accepted();
    p.inject(Fault::CleanJob);
    let e = run.wait(
        "clean job",
        |e| matches!(e, MineEvent::Job { clean: true, job_id, .. } if job_id.starts_with("2-")),
    );
    let MineEvent::Job { job_id, .. } = e else {
        unreachable!()
    };
    // Shares come for the new job only from now on.
    run.wait("share on the new job", |e| {
        matches!(e, MineEvent::Share { status: ShareStatus::Accepted, job_id: j, .. } if *j == job_id)
    });
    let summary = run.stop();
    let ps = p.stats();
    // A share already on the wire when the clean job went out is "Job not
    // found" for the pool; the miner counts it as stale, not as rejected.
    assert!(ps.rejected.keys().all(|r| r == "Job not found"), "{ps:?}");
    assert!(summary.shares.rejected.is_empty(), "{summary:?}");
    assert_eq!(summary.shares.accepted, ps.accepted);
}

/// A fault makes the miner log why and reconnect, then shares are accepted again.
fn survives(fault: Fault, needle: &str) {
    let p = pool(easy());
    let mut run = Run::start(config(&[p.url()]), vec![cpu_engine()]);
    run.accepted();
    p.inject(fault);
    let reason = run.disconnected(needle);
    eprintln!("reason: {reason}");
    run.wait("reconnected", |e| matches!(e, MineEvent::Connected { .. }));
    run.accepted();
    let summary = run.stop();
    assert!(summary.connections >= 2, "{summary:?}");
    assert!(p.stats().rejected.is_empty(), "{:?}", p.stats());
}

#[test]
fn garbage_line() {
    survives(Fault::Garbage, "malformed JSON");
}

#[test]
fn oversized_line() {
    survives(Fault::Oversized, "over 65536 bytes");
}

#[test]
fn malformed_json() {
    survives(Fault::MalformedJson, "malformed JSON");
}

#[test]
fn wrong_length_hex() {
    survives(Fault::WrongLengthHex, "prevhash");
}

#[test]
fn absurd_difficulty() {
    survives(Fault::AbsurdDifficulty, "absurd difficulty");
}

#[test]
fn unknown_method() {
    survives(Fault::UnknownMethod, "unknown method");
}

#[test]
fn stalled_pool() {
    survives(Fault::Stall, "silent");
}

#[test]
fn disconnect() {
    survives(Fault::Disconnect, "closed");
}

#[test]
fn client_reconnect_and_show_message() {
    let p = pool(easy());
    let q = pool(easy());
    let mut run = Run::start(config(&[p.url()]), vec![cpu_engine()]);
    run.accepted();
    p.inject(Fault::ShowMessage("maintenance at noon".into()));
    run.wait(
        "message",
        |e| matches!(e, MineEvent::Message { text, .. } if text == "maintenance at noon"),
    );
    p.inject(Fault::Reconnect {
        port: q.port(),
        wait: 0,
    });
    run.disconnected("reconnect");
    let url = q.url();
    run.wait(
        "connected to the second pool",
        |e| matches!(e, MineEvent::Connected { url: u, .. } if *u == url),
    );
    assert!(q.wait_for(WAIT, |s| s.accepted >= 1));
    run.stop();
}

#[test]
fn set_extranonce_applies_to_the_next_job() {
    let p = pool(easy());
    let mut run = Run::start(config(&[p.url()]), vec![cpu_engine()]);
    run.accepted();
    p.inject(Fault::SetExtranonce([0xfe, 0xed, 0xbe, 0xef]));
    run.wait(
        "clean job after set_extranonce",
        |e| matches!(e, MineEvent::Job { clean: true, job_id, .. } if job_id != "1-1"),
    );
    let before = p.stats().accepted;
    assert!(
        p.wait_for(WAIT, |s| s.accepted >= before + 3),
        "{:?}",
        p.stats()
    );
    // The pool checks each share against the new extranonce1: none rejected
    // (a share of the voided job already on the wire is "Job not found": stale).
    run.stop();
    assert!(
        p.stats().rejected.keys().all(|r| r == "Job not found"),
        "{:?}",
        p.stats()
    );
}

#[test]
fn failover_to_the_second_pool_and_back() {
    let mut a = pool(easy());
    let b = pool(easy());
    let port_a = a.port();
    let (url_a, url_b) = (a.url(), b.url());
    let mut run = Run::start(config(&[url_a.clone(), url_b.clone()]), vec![cpu_engine()]);
    run.wait("connected to a", |e| {
        matches!(e, MineEvent::Connected { pool: 0, .. })
    });
    assert!(a.wait_for(WAIT, |s| s.accepted >= 1));
    a.stop();
    run.wait("connected to b", |e| {
        matches!(e, MineEvent::Connected { pool: 1, .. })
    });
    assert!(b.wait_for(WAIT, |s| s.accepted >= 1));
    // a comes back on its port: the miner returns to it.
    let a2 = pool(PoolOptions {
        port: port_a,
        ..easy()
    });
    run.wait("back on a", |e| {
        matches!(e, MineEvent::Connected { pool: 0, .. })
    });
    assert!(a2.wait_for(WAIT, |s| s.accepted >= 1));
    let summary = run.stop();
    assert!(summary.connections >= 3, "{summary:?}");
}

#[test]
fn tls_pool_with_a_self_signed_certificate() {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, cert.cert.pem()).unwrap();
    let p = pool(PoolOptions {
        tls: Some((
            vec![cert.cert.der().to_vec()],
            cert.signing_key.serialize_der(),
        )),
        ..easy()
    });
    assert!(p.url().starts_with("stratum+ssl://localhost:"));
    // Without the certificate trusted, the handshake fails with a clear reason.
    let mut run = Run::start(config(&[p.url()]), vec![cpu_engine()]);
    run.disconnected("certificate");
    run.stop();
    let mut c = config(&[p.url()]);
    c.tls.ca_file = Some(ca);
    let mut run = Run::start(c, vec![cpu_engine()]);
    run.accepted();
    run.stop();
    assert!(p.stats().accepted >= 1);
}

#[test]
fn gpu_miner_gets_shares_accepted() {
    let engine = match hashwatt::gpu::GpuEngine::open(&hashwatt::gpu::GpuOptions::default()) {
        Ok(e) => e,
        Err(e) => {
            assert!(
                std::env::var("HASHWATT_REQUIRE_GPU").as_deref() != Ok("1"),
                "HASHWATT_REQUIRE_GPU=1 but {e}"
            );
            eprintln!("skipped: no GPU adapter ({e})");
            return;
        }
    };
    let p = pool(PoolOptions {
        job_interval: Duration::from_millis(1500),
        ..easy()
    });
    let engines: Vec<Arc<dyn Engine>> = vec![Arc::new(engine), cpu_engine()];
    let mut run = Run::start(config(&[p.url()]), engines);
    run.wait("accepted GPU share", |e| {
        matches!(
            e,
            MineEvent::Share {
                engine: 0,
                status: ShareStatus::Accepted,
                ..
            }
        )
    });
    p.inject(Fault::Disconnect);
    run.disconnected("closed");
    run.wait("accepted GPU share after reconnect", |e| {
        matches!(
            e,
            MineEvent::Share {
                engine: 0,
                status: ShareStatus::Accepted,
                ..
            }
        )
    });
    let yielded = run.miner().pause(0).unwrap();
    eprintln!("GPU engine yielded in {yielded:?}");
    assert!(yielded < Duration::from_secs(3));
    let summary = run.stop();
    assert_eq!(summary.shares.accepted, p.stats().accepted);
    assert!(p.stats().rejected.is_empty());
}

fn cpuminer() -> Option<PathBuf> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/peers/cpuminer-opt/cpuminer");
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var("HASHWATT_REQUIRE_CPUMINER").as_deref() != Ok("1"),
        "HASHWATT_REQUIRE_CPUMINER=1 but {} is missing",
        path.display()
    );
    eprintln!("skipped: no cpuminer-opt at {}", path.display());
    None
}

#[test]
fn cpuminer_opt_gets_shares_accepted_and_a_corrupted_share_is_rejected() {
    let Some(cpuminer) = cpuminer() else { return };
    let p = pool(PoolOptions {
        difficulty: 0.002,
        fixed_extranonce1: Some([0x08, 0, 0, 2]),
        version_rolling: false,
        ..PoolOptions::default()
    });
    let url = format!("stratum+tcp://127.0.0.1:{}", p.port());
    let mut child = std::process::Command::new(&cpuminer)
        .args([
            "-a",
            "sha256d",
            "-o",
            &url,
            "-u",
            "cpuminer.1",
            "-p",
            "x",
            "-t",
            "1",
            "--no-color",
            "--time-limit",
            "120",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let ok = p.wait_for(WAIT, |s| s.accepted >= 3);
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let log =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let stats = p.stats();
    assert!(ok, "cpuminer-opt got no shares accepted: {stats:?}\n{log}");
    assert!(stats.rejected.is_empty(), "{stats:?}\n{log}");
    assert_eq!(stats.workers, ["cpuminer.1"]);
    // cpuminer-opt itself reports the pool's verdicts.
    assert!(log.contains("Accepted"), "{log}");

    // Replay one of its shares on a new connection (same extranonce1): the
    // original is a duplicate, a corrupted nonce or ntime is rejected.
    let (line, en1) = stats.accepted_lines[0].clone();
    assert_eq!(en1, "08000002");
    let submit: Value = serde_json::from_str(&line).unwrap();
    let params = submit["params"].as_array().unwrap().clone();
    let with = |i: usize, v: &str| {
        let mut p = params.clone();
        p[0] = json!("cpuminer.1");
        p[i] = json!(v);
        json!({"id": 10 + i, "method": "mining.submit", "params": p}).to_string()
    };
    let nonce = u32::from_str_radix(params[4].as_str().unwrap(), 16).unwrap();
    let time = u32::from_str_radix(params[3].as_str().unwrap(), 16).unwrap();
    let lines = vec![
        json!({"id": 1, "method": "mining.subscribe", "params": []}).to_string(),
        json!({"id": 2, "method": "mining.authorize", "params": ["cpuminer.1", "x"]}).to_string(),
        with(0, "cpuminer.1"),
        with(4, &format!("{:08x}", nonce ^ 1)),
        with(3, &format!("{:08x}", time + 1)),
    ];
    let answers = pool::raw_session(&format!("127.0.0.1:{}", p.port()), &lines).unwrap();
    assert_eq!(answers.len(), 5, "{answers:?}");
    assert_eq!(answers[2]["error"][1], "Duplicate share", "{answers:?}");
    for a in &answers[3..] {
        assert_eq!(a["result"], false, "{a}");
        assert!(
            a["error"][1]
                .as_str()
                .unwrap()
                .starts_with("Low difficulty share"),
            "{a}"
        );
    }
    assert_eq!(p.stats().accepted, stats.accepted);
}

fn spawn_mine(url: &str, extra: &[&str]) -> std::process::Child {
    common::hashwatt_command()
        .args([
            "mine",
            "--pool",
            url,
            "--user",
            "cli.1",
            "--backend",
            "cpu",
            "--threads",
            "1",
            "--json",
            "--idle-timeout",
            "5",
        ])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn mine_command_json_events_and_sigterm_summary() {
    let p = pool(easy());
    let mut child = spawn_mine(&p.url(), &[]);
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut seen = Vec::new();
    let until = Instant::now() + WAIT;
    while Instant::now() < until {
        let line = lines.next().unwrap().unwrap();
        let v: Value = serde_json::from_str(&line).unwrap();
        let accepted = v["event"] == "share" && v["status"] == "accepted";
        seen.push(v);
        if accepted {
            break;
        }
    }
    for ev in ["connected", "difficulty", "job", "share"] {
        assert!(seen.iter().any(|v| v["event"] == ev), "no {ev} in {seen:?}");
    }
    // SIGTERM: a clean stop with a summary.
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let rest: Vec<Value> = lines
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect();
    let out = child.wait_with_output().unwrap();
    // Stopped by SIGTERM, after its summary: exit 143 as for search and bench.
    assert!(
        out.status.code() == Some(143),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = rest.last().unwrap();
    assert_eq!(summary["event"], "summary");
    assert!(
        summary["shares"]["accepted"].as_u64().unwrap() >= 1,
        "{summary}"
    );
    assert_eq!(summary["engines"][0]["state"], "stopped");
    assert!(summary["hashrate"].as_f64().unwrap() > 0.0);
}

#[test]
fn mine_command_duration_and_bad_input() {
    let p = pool(easy());
    let out = spawn_mine(&p.url(), &["--duration", "2"])
        .wait_with_output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last["event"], "summary");

    // Without --json: log lines on stderr, the summary on stdout.
    let out = common::hashwatt_command()
        .args([
            "mine",
            "--pool",
            &p.url(),
            "--user",
            "cli.2",
            "--backend",
            "cpu",
            "--threads",
            "1",
            "--duration",
            "2",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let (text, log) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        log.contains(&format!(
            "connected to {} (version rolling, mask 1fffe000)",
            p.url()
        )),
        "{log}"
    );
    assert!(
        text.contains("shares: ") && text.contains("engine 0 ("),
        "{text}"
    );

    for (args, needle) in [
        (
            vec!["--pool", "http://x:1", "--user", "u"],
            "stratum+tcp://",
        ),
        (
            vec![
                "--pool",
                "stratum+tcp://127.0.0.1:1",
                "--user",
                "u",
                "--duration",
                "0",
            ],
            "--duration",
        ),
        (
            vec![
                "--pool",
                "stratum+tcp://127.0.0.1:1",
                "--user",
                "u",
                "--backend",
                "nope",
            ],
            "nope",
        ),
        (
            vec![
                "--pool",
                "stratum+ssl://127.0.0.1:1",
                "--user",
                "u",
                "--ca-cert",
                "/nonexistent.pem",
            ],
            "--ca-cert",
        ),
    ] {
        let out = common::hashwatt_command()
            .arg("mine")
            .args(&args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(err.contains(needle), "{args:?}: {needle:?} not in {err}");
    }
}
