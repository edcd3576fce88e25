//! Solo mining from `getblocktemplate`: a loopback JSON-RPC server (tiny_http)
//! replays the real regtest template in `tests/data/gbt/` (Bitcoin Core
//! cannot be installed here) and checks every `submitblock` with its own code
//! and `sha2`: prev hash, nBits, proof of work, merkle root over the coinbase
//! and the template's transaction, the BIP 34 height, the payout output, the
//! witness commitment and the coinbase's witness reserved value.

#[path = "support/agent.rs"]
mod agent;
mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hashwatt::gbt::rpc::NodeAuth;
use hashwatt::mine::node::NodeConfig;
use hashwatt::mine::{Backoff, MineEvent, Miner, MinerConfig, ShareStatus, Timeouts, WorkSource};
use hashwatt::search::{CpuEngine, Engine};
use hashwatt::sha256::CpuKernel;
use serde_json::{Value, json};

use common::dsha;

const USER: &str = "rpcuser";
const PASSWORD: &str = "rpc pass";

fn rev(h: &str) -> Vec<u8> {
    let mut b = hex::decode(h).unwrap();
    b.reverse();
    b
}

fn template() -> Value {
    let file: Value = serde_json::from_str(include_str!(
        "data/gbt/p2poolv2_regtest_ckpool_one-txn.json"
    ))
    .unwrap();
    file["gbt"].clone()
}

/// A regtest payout address and its script, built with the bech32 encoder.
fn payout() -> (String, Vec<u8>) {
    let program = [0x11u8; 20];
    let hrp = bech32::Hrp::parse("bcrt").unwrap();
    let addr = bech32::segwit::encode(hrp, bech32::segwit::VERSION_0, &program).unwrap();
    let mut script = vec![0x00, 0x14];
    script.extend_from_slice(&program);
    (addr, script)
}

#[derive(Default)]
struct NodeLog {
    accepted: AtomicU64,
    invalid: Mutex<Vec<String>>,
    unauthorized: AtomicU64,
    longpolls: AtomicU64,
}

struct FakeNode {
    url: String,
    log: Arc<NodeLog>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for FakeNode {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Checks a submitted block against the template; `Err(reason)` as Bitcoin Core would word it.
fn check_block(block: &[u8], t: &Value, payout_script: &[u8]) -> Result<(), String> {
    let header = &block[..80];
    if header[4..36] != rev(t["previousblockhash"].as_str().unwrap())[..] {
        return Err("prev-blk-not-found".into());
    }
    if header[72..76] != rev(t["bits"].as_str().unwrap())[..] {
        return Err("bad-diffbits".into());
    }
    let mut hash = dsha(header);
    hash.reverse();
    if hash[..] > hex::decode(t["target"].as_str().unwrap()).unwrap()[..] {
        return Err("high-hash".into());
    }
    let tx = hex::decode(t["transactions"][0]["data"].as_str().unwrap()).unwrap();
    if block[80] != 2 || !block.ends_with(&tx) {
        return Err("bad-txns".into());
    }
    let cb = &block[81..block.len() - tx.len()];
    // Segwit coinbase: marker and flag, then one witness item of 32 zero bytes before the locktime.
    let n = cb.len();
    if cb[4..6] != [0, 1] || cb[n - 38..n - 4] != [&[1u8, 32][..], &[0u8; 32][..]].concat()[..] {
        return Err("bad-witness-nonce-size".into());
    }
    let legacy = [&cb[..4], &cb[6..n - 38], &cb[n - 4..]].concat();
    let root = dsha(
        &[
            dsha(&legacy),
            rev(t["transactions"][0]["txid"].as_str().unwrap()),
        ]
        .concat(),
    );
    if header[36..68] != root[..] {
        return Err("bad-txnmrklroot".into());
    }
    // scriptSig starts with the BIP 34 height push (505 = 0x01f9).
    if legacy[42..45] != [0x02, 0xf9, 0x01] {
        return Err("bad-cb-height".into());
    }
    let value = t["coinbasevalue"].as_u64().unwrap().to_le_bytes();
    let pay = [&value[..], &[payout_script.len() as u8][..], payout_script].concat();
    if !legacy.windows(pay.len()).any(|w| w == pay) {
        return Err("bad-cb-payout".into());
    }
    let wc = hex::decode(t["default_witness_commitment"].as_str().unwrap()).unwrap();
    let out = [&[0u8; 8][..], &[wc.len() as u8][..], &wc[..]].concat();
    if !legacy.windows(out.len()).any(|w| w == out) {
        return Err("bad-witness-merkle-match".into());
    }
    Ok(())
}

fn start_node(payout_script: Vec<u8>) -> FakeNode {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let url = format!("http://{}", server.server_addr().to_ip().unwrap());
    let log = Arc::new(NodeLog::default());
    let stop = Arc::new(AtomicBool::new(false));
    let (l, s) = (Arc::clone(&log), Arc::clone(&stop));
    let auth = format!("Basic {}", base64_encode(&format!("{USER}:{PASSWORD}")));
    let thread = std::thread::spawn(move || {
        let t = template();
        while !s.load(Ordering::SeqCst) {
            let Ok(Some(mut req)) = server.recv_timeout(Duration::from_millis(20)) else {
                continue;
            };
            let ok = req
                .headers()
                .iter()
                .any(|h| h.field.equiv("Authorization") && h.value.as_str() == auth);
            if !ok {
                l.unauthorized.fetch_add(1, Ordering::SeqCst);
                let _ = req.respond(tiny_http::Response::empty(401));
                continue;
            }
            let mut body = String::new();
            let _ = req.as_reader().read_to_string(&mut body);
            let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
            let result = match v["method"].as_str() {
                Some("getblocktemplate") => {
                    assert_eq!(v["params"][0]["rules"], json!(["segwit"]));
                    if v["params"][0]["longpollid"].is_string() {
                        l.longpolls.fetch_add(1, Ordering::SeqCst);
                        // A long poll: hold it briefly (no new block comes here).
                        let until = Instant::now() + Duration::from_millis(300);
                        while Instant::now() < until && !s.load(Ordering::SeqCst) {
                            std::thread::sleep(Duration::from_millis(10));
                        }
                    }
                    t.clone()
                }
                Some("getblockchaininfo") => json!({"chain": "regtest", "blocks": 504}),
                Some("submitblock") => {
                    let block =
                        hex::decode(v["params"][0].as_str().unwrap_or("")).unwrap_or_default();
                    match check_block(&block, &t, &payout_script) {
                        Ok(()) => {
                            l.accepted.fetch_add(1, Ordering::SeqCst);
                            Value::Null
                        }
                        Err(reason) => {
                            l.invalid.lock().unwrap().push(reason.clone());
                            Value::String(reason)
                        }
                    }
                }
                _ => Value::Null,
            };
            let resp = json!({"result": result, "error": null, "id": v["id"]});
            let _ = req.respond(tiny_http::Response::from_string(resp.to_string()));
        }
    });
    FakeNode {
        url,
        log,
        stop,
        thread: Some(thread),
    }
}

fn base64_encode(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn config(node: &FakeNode, auth: NodeAuth, address: &str) -> MinerConfig {
    let mut c = MinerConfig::new(WorkSource::Node(NodeConfig::new(&node.url, auth, address)));
    c.timeouts = Timeouts {
        connect: Duration::from_secs(2),
        response: Duration::from_secs(2),
        idle: Duration::from_secs(2),
    };
    c.backoff = Backoff {
        initial: Duration::from_millis(100),
        max: Duration::from_millis(300),
    };
    c.chunk_time = Duration::from_millis(100);
    c
}

fn engine() -> Arc<dyn Engine> {
    Arc::new(CpuEngine::new(CpuKernel::best(), Some(1)).unwrap())
}

fn wait_for(
    rx: &std::sync::mpsc::Receiver<MineEvent>,
    what: &str,
    pred: impl Fn(&MineEvent) -> bool,
) -> MineEvent {
    let until = Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    while Instant::now() < until {
        if let Ok(e) = rx.recv_timeout(Duration::from_millis(50)) {
            if pred(&e) {
                return e;
            }
            seen.push(e);
        }
    }
    panic!("no {what}: {seen:#?}");
}

#[test]
fn solo_mines_a_valid_regtest_block_with_user_password() {
    let (address, script) = payout();
    let node = start_node(script);
    let auth = NodeAuth::UserPass {
        user: USER.into(),
        password: PASSWORD.into(),
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let miner = Miner::start(
        config(&node, auth, &address),
        vec![engine(), engine()],
        Some(tx),
    )
    .unwrap();
    wait_for(&rx, "block accepted", |e| {
        matches!(
            e,
            MineEvent::Share {
                status: ShareStatus::Accepted,
                ..
            }
        )
    });
    let summary = miner.stop();
    assert!(node.log.accepted.load(Ordering::SeqCst) >= 1);
    assert!(
        node.log.invalid.lock().unwrap().is_empty(),
        "{:?}",
        node.log.invalid.lock().unwrap()
    );
    assert_eq!(
        summary.shares.accepted,
        node.log.accepted.load(Ordering::SeqCst)
    );
    assert!(summary.shares.blocks >= 1);
    assert!(
        node.log.longpolls.load(Ordering::SeqCst) >= 1,
        "the miner long-polls"
    );
}

#[test]
fn cookie_auth_and_refused_credentials() {
    let (address, script) = payout();
    let node = start_node(script);
    let dir = tempfile::tempdir().unwrap();
    let cookie = dir.path().join(".cookie");
    std::fs::write(&cookie, format!("{USER}:{PASSWORD}")).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let miner = Miner::start(
        config(&node, NodeAuth::Cookie(cookie), &address),
        vec![engine()],
        Some(tx),
    )
    .unwrap();
    wait_for(&rx, "block accepted", |e| {
        matches!(
            e,
            MineEvent::Share {
                status: ShareStatus::Accepted,
                ..
            }
        )
    });
    miner.stop();

    // A mainnet address for a regtest node is refused before any work.
    let auth = NodeAuth::UserPass {
        user: USER.into(),
        password: PASSWORD.into(),
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let mainnet = "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4";
    let miner = Miner::start(config(&node, auth, mainnet), vec![engine()], Some(tx)).unwrap();
    wait_for(
        &rx,
        "network mismatch",
        |e| matches!(e, MineEvent::Disconnected { reason, .. } if reason.contains("Mainnet address but the node is on regtest")),
    );
    assert_eq!(miner.stop().shares.blocks, 0);

    let bad = NodeAuth::UserPass {
        user: USER.into(),
        password: "wrong".into(),
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let miner = Miner::start(config(&node, bad, &address), vec![engine()], Some(tx)).unwrap();
    wait_for(
        &rx,
        "401",
        |e| matches!(e, MineEvent::Disconnected { reason, .. } if reason.contains("refused the credentials")),
    );
    miner.stop();
    assert!(node.log.unauthorized.load(Ordering::SeqCst) >= 1);
}

#[test]
fn mine_command_on_a_node_and_bad_addresses() {
    let (address, script) = payout();
    let node = start_node(script);
    let out = common::hashwatt_command()
        .args([
            "mine",
            "--node",
            &node.url,
            "--rpc-user",
            USER,
            "--rpc-password",
            PASSWORD,
        ])
        .args([
            "--payout-address",
            &address,
            "--backend",
            "cpu",
            "--threads",
            "1",
            "--duration",
            "3",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines().any(|l| l.contains("\"event\":\"block\"")),
        "{text}"
    );
    let summary: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert!(
        summary["shares"]["accepted"].as_u64().unwrap() >= 1,
        "{summary}"
    );
    assert!(node.log.invalid.lock().unwrap().is_empty());

    for (args, needle) in [
        (
            vec!["--payout-address", "bcrt1qnotanaddress"],
            "invalid payout address",
        ),
        (
            vec!["--payout-address", &address],
            "--rpc-user and --rpc-password, or --rpc-cookie",
        ),
    ] {
        let out = common::hashwatt_command()
            .args(["mine", "--node", &node.url])
            .args(&args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && !err.contains("panicked"), "{err}");
        assert!(err.contains(needle), "{needle:?} not in {err}");
    }
}

#[test]
fn agent_solo_mines_on_the_node_and_books_the_block() {
    let (address, script) = payout();
    let node = start_node(script);
    let dir = tempfile::tempdir().unwrap();
    let books = dir.path().join("books.jsonl");
    let listen = format!("127.0.0.1:{}", agent::free_port());
    let out = common::hashwatt_command()
        .args(["agent", "--device", "cpu", "--threads", "1"])
        .args([
            "--node",
            &node.url,
            "--rpc-user",
            USER,
            "--rpc-password",
            PASSWORD,
        ])
        .args([
            "--payout-address",
            &address,
            "--electricity",
            "0",
            "--duration",
            "4",
        ])
        .args([
            "--listen",
            &listen,
            "--books",
            books.to_str().unwrap(),
            "--no-nvml",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The node checked every block with its own rebuild and sha2.
    assert!(node.log.accepted.load(Ordering::SeqCst) >= 1);
    assert!(node.log.invalid.lock().unwrap().is_empty());
    let records = agent::books(&books);
    let last = records.last().unwrap();
    assert_eq!(last["event"], "stopped", "{last}");
    let accepted = last["totals"]["total"]["accepted"].as_u64().unwrap_or(0);
    assert!(accepted >= 1, "{last}");
    let text = std::fs::read_to_string(&books).unwrap();
    assert!(
        !text.contains(PASSWORD),
        "the RPC password reached the books"
    );
}
