//! A loopback server (tiny_http) that replays real recorded responses
//! (`tests/data/live/`, sources in its README): a Bitcoin Core node's
//! `getmininginfo`/`getblockchaininfo` on `POST /` and mempool.space's REST
//! API under `/api`. Used by `econ --live` and `agent --live` tests.
#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::Value;

pub const USER: &str = "u";
pub const PASSWORD: &str = "p";

pub fn recorded(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/live")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// How the replay server misbehaves.
#[derive(Clone, Copy, PartialEq)]
pub enum Fault {
    /// Every response as recorded.
    None,
    /// `/api/v1/prices` answers a page that is not JSON.
    MalformedPrice,
    /// The node answers `getmininginfo` with a result that has no difficulty.
    MalformedNode,
}

/// A loopback server: JSON-RPC on `POST /`, REST under `/api`.
pub struct Replay {
    pub url: String,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Replay {
    pub fn start(fault: Fault) -> Replay {
        let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
        let url = format!("http://{}", server.server_addr().to_ip().unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let s = Arc::clone(&stop);
        let (mining, chain) = (
            recorded("node_getmininginfo.json"),
            recorded("node_getblockchaininfo.json"),
        );
        let (prices, rewards, hashrate, tip) = (
            recorded("mempool_prices.json"),
            recorded("mempool_reward_stats_100.json"),
            recorded("mempool_hashrate_3d.json"),
            recorded("mempool_tip_height.txt"),
        );
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                let Ok(Some(mut req)) = server.recv_timeout(Duration::from_millis(20)) else {
                    continue;
                };
                let path = req.url().to_string();
                let body = if *req.method() == tiny_http::Method::Post {
                    let mut text = String::new();
                    let _ = req.as_reader().read_to_string(&mut text);
                    let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                    match v["method"].as_str() {
                        Some("getmininginfo") if fault == Fault::MalformedNode => {
                            r#"{"result": {"blocks": "tip"}, "error": null, "id": 1}"#.to_string()
                        }
                        Some("getmininginfo") => mining.clone(),
                        Some("getblockchaininfo") => chain.clone(),
                        _ => r#"{"result": null, "error": {"code": -32601, "message": "Method not found"}, "id": 1}"#.into(),
                    }
                } else {
                    match path.as_str() {
                        "/api/v1/prices" if fault == Fault::MalformedPrice => {
                            "<html>502 Bad Gateway</html>".to_string()
                        }
                        "/api/v1/prices" => prices.clone(),
                        "/api/blocks/tip/height" => tip.clone(),
                        "/api/v1/mining/hashrate/3d" => hashrate.clone(),
                        p if p.starts_with("/api/v1/mining/reward-stats/") => rewards.clone(),
                        _ => {
                            let _ = req.respond(tiny_http::Response::empty(404));
                            continue;
                        }
                    }
                };
                let _ = req.respond(tiny_http::Response::from_string(body));
            }
        });
        Replay {
            url,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Replay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A loopback URL where nothing listens (a node that is down).
pub fn dead_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    drop(l);
    url
}
