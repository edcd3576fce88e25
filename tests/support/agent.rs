//! Helpers for the agent's end-to-end tests: run `hashwatt agent`, talk
//! HTTP to it, read its books. Its includers also declare `mod common`.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Mainnet block 1: any header does; the agent only needs something to hash.
pub const HEADER: &str = "010000006fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000982051fd1e4ba744bbbe680e1fee14677ba1a3c3540bf7b1cdb606e857233e0e61bc6649ffff001d01e36299";

/// Whether a GPU adapter is there for the GPU tests; without one they skip
/// (after saying so), unless `HASHWATT_REQUIRE_GPU=1` makes that a failure.
pub fn gpu_or_skip() -> bool {
    let require = std::env::var("HASHWATT_REQUIRE_GPU").is_ok_and(|v| v == "1");
    if hashwatt::gpu::adapter::adapters().is_empty() {
        assert!(!require, "HASHWATT_REQUIRE_GPU=1 but no GPU adapter");
        eprintln!("skipped: no GPU adapter");
        return false;
    }
    true
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port: {e}"))
}

/// A running agent, killed when dropped (a failing test leaves no process).
pub struct Running(pub Child);

impl std::ops::Deref for Running {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Running {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// `hashwatt agent ARGS...` with NODEVICE_SELECT=1; stdout and stderr go
/// to `OUT.stdout` and `OUT.stderr` (files, so a full pipe never blocks it).
pub fn spawn_agent(args: &[&str], out: &Path) -> Running {
    let file = |ext: &str| {
        std::fs::File::create(out.with_extension(ext))
            .unwrap_or_else(|e| panic!("{}: {e}", out.display()))
    };
    crate::common::hashwatt_command()
        .arg("agent")
        .args(args)
        .stdin(Stdio::null())
        .stdout(file("stdout"))
        .stderr(file("stderr"))
        .spawn()
        .map(Running)
        .unwrap_or_else(|e| panic!("cannot start hashwatt agent: {e}"))
}

/// One HTTP/1.0 request; returns (status, body). `None` when nothing answers.
pub fn http(method: &str, port: u16, path: &str, token: Option<&str>) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n{auth}Content-Length: 0\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string())?;
    Some((status, body))
}

/// `GET /status` as JSON.
pub fn status(port: u16, token: Option<&str>) -> Value {
    let (code, body) = http("GET", port, "/status", token).unwrap_or_else(|| panic!("no answer"));
    assert_eq!(code, 200, "{body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

/// Polls `pred` every 50 ms until it holds or `timeout` passes.
pub fn wait_until(timeout: Duration, mut pred: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if pred() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    pred()
}

/// Waits for `/readyz` to answer 200.
pub fn wait_ready(child: &mut Child, port: u16) {
    let ok = wait_until(Duration::from_secs(60), || {
        if let Ok(Some(st)) = child.try_wait() {
            panic!("agent exited early: {st}");
        }
        http("GET", port, "/readyz", None).is_some_and(|(c, _)| c == 200)
    });
    assert!(ok, "agent never became ready");
}

/// The first device's field in `/status`.
pub fn device_field(status: &Value, field: &str) -> Value {
    status["devices"][0][field].clone()
}

/// Every record of a books file.
pub fn books(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Sends a signal to a child.
pub fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(child.id().to_string())
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill -{sig} failed");
}

/// Waits for the child to exit, up to `timeout`; kills it and panics if it
/// does not.
pub fn wait_exit(child: &mut Child, timeout: Duration) -> std::process::ExitStatus {
    let end = Instant::now() + timeout;
    loop {
        if let Ok(Some(st)) = child.try_wait() {
            return st;
        }
        if Instant::now() > end {
            let _ = child.kill();
            let _ = child.wait();
            panic!("agent did not exit within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// What the agent started with `out` wrote to stdout and stderr.
pub fn output_of(out: &Path) -> (String, String) {
    let read = |ext: &str| std::fs::read_to_string(out.with_extension(ext)).unwrap_or_default();
    (read("stdout"), read("stderr"))
}
