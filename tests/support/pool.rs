//! A Stratum V1 test pool: speaks the protocol as pools do and validates every
//! share by rebuilding its header with its own code (coinbase, merkle root and
//! SHA-256d by the `sha2` crate, independent of hashwatt's job building).
//!
//! Used by the integration tests (`#[path = "support/pool.rs"] mod pool;`)
//! and as a program: `cargo run --release --example test_pool -- --port 0`.
//!
//! It answers `mining.configure` (BIP 310 version rolling), `mining.subscribe`
//! (extranonce1 per connection and the extranonce2 size),
//! `mining.extranonce.subscribe`, `mining.authorize`, `mining.submit`; sends
//! `mining.set_difficulty` (vardiff: doubles after every `vardiff_every`
//! accepted shares), `mining.notify` (a new job every `job_interval`, a clean
//! job on a new "block"), and on demand [`Fault`]s: garbage lines, oversized
//! lines, malformed JSON, wrong-length hex, absurd difficulty, unknown
//! methods, a stall, a disconnect, `client.reconnect`.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The BIP 310 mask the pool grants.
pub const POOL_VERSION_MASK: u32 = 0x1fff_e000;

/// Settings.
#[derive(Clone, Debug)]
pub struct PoolOptions {
    /// Port to listen on (0: any free one).
    pub port: u16,
    /// Starting share difficulty.
    pub difficulty: f64,
    /// Double the difficulty after this many accepted shares on a connection (0: never).
    pub vardiff_every: u64,
    /// The highest difficulty vardiff goes to.
    pub max_difficulty: f64,
    /// extranonce2 size in bytes.
    pub extranonce2_size: usize,
    /// Grant version rolling when asked.
    pub version_rolling: bool,
    /// A new (not clean) job this often.
    pub job_interval: Duration,
    /// nBits of the jobs (hard: no share is a block).
    pub bits: u32,
    /// TLS certificate chain and key (DER), for `stratum+ssl`.
    pub tls: Option<(Vec<Vec<u8>>, Vec<u8>)>,
    /// Give every connection this extranonce1 (default: one per connection).
    pub fixed_extranonce1: Option<[u8; 4]>,
    /// Print every event on stderr.
    pub verbose: bool,
}

impl Default for PoolOptions {
    fn default() -> Self {
        PoolOptions {
            port: 0,
            difficulty: 0.001,
            vardiff_every: 0,
            max_difficulty: 1024.0,
            extranonce2_size: 4,
            version_rolling: true,
            job_interval: Duration::from_secs(30),
            bits: 0x1705_ae3a,
            tls: None,
            fixed_extranonce1: None,
            verbose: false,
        }
    }
}

/// Misbehaviour to inject into every open connection.
#[derive(Clone, Debug)]
pub enum Fault {
    /// A line that is not JSON.
    Garbage,
    /// A 100 KiB line.
    Oversized,
    /// JSON cut short.
    MalformedJson,
    /// A notify whose prevhash has 62 hex digits.
    WrongLengthHex,
    /// `mining.set_difficulty` with 0.
    AbsurdDifficulty,
    /// A method no client knows.
    UnknownMethod,
    /// Go silent (no answers, no jobs) on the open connections.
    Stall,
    /// Close every open connection.
    Disconnect,
    /// `client.reconnect` to this port after `wait` seconds.
    Reconnect {
        /// Port.
        port: u16,
        /// Seconds.
        wait: u64,
    },
    /// A new block: a clean job to every connection.
    CleanJob,
    /// `client.show_message`.
    ShowMessage(String),
    /// `mining.set_extranonce` with a new extranonce1 (and the same size),
    /// then a clean job: shares are checked against the new extranonce1.
    SetExtranonce([u8; 4]),
}

/// Counters.
#[derive(Clone, Debug, Default)]
pub struct PoolStats {
    /// Connections accepted.
    pub connections: u64,
    /// Authorized workers (names).
    pub workers: Vec<String>,
    /// Accepted shares.
    pub accepted: u64,
    /// Accepted shares that carried version bits (rolled).
    pub accepted_rolled: u64,
    /// Sum of the difficulty of accepted shares.
    pub accepted_difficulty: f64,
    /// Rejected shares by reason.
    pub rejected: BTreeMap<String, u64>,
    /// Raw lines of accepted submits, with the connection's extranonce1.
    pub accepted_lines: Vec<(String, String)>,
    /// Whether a client asked for version rolling.
    pub configure_seen: bool,
    /// Jobs sent.
    pub jobs: u64,
}

struct Job {
    conn: u64,
    id: String,
    prev: [u8; 32],
    coinb1: Vec<u8>,
    coinb2: Vec<u8>,
    branches: Vec<[u8; 32]>,
    version: u32,
    bits: u32,
    time: u32,
    difficulty: f64,
}

/// A share's identity for duplicate detection: job, extranonce2, ntime, nonce, version.
type ShareKey = (String, Vec<u8>, u32, u32, u32);

struct State {
    opts: PoolOptions,
    stop: AtomicBool,
    stats: Mutex<PoolStats>,
    faults: Mutex<Vec<Fault>>,
    fault_serial: AtomicU64,
    block: AtomicU32,
    next_en1: AtomicU32,
    next_conn: AtomicU64,
    job_seq: AtomicU64,
    jobs: Mutex<HashMap<String, Job>>,
    seen: Mutex<HashSet<ShareKey>>,
    tls: Option<Arc<rustls::ServerConfig>>,
}

/// A running pool; stops when dropped.
pub struct TestPool {
    addr: SocketAddr,
    state: Arc<State>,
    thread: Option<JoinHandle<()>>,
}

fn sha256d(data: &[u8]) -> [u8; 32] {
    Sha256::digest(Sha256::digest(data)).into()
}

fn now() -> u32 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as u32)
}

impl TestPool {
    /// A pool at difficulty 0.0002: shares every few thousand hashes, for
    /// the agent's end-to-end tests.
    pub fn easy() -> TestPool {
        TestPool::start(PoolOptions {
            difficulty: 0.0002,
            ..PoolOptions::default()
        })
        .unwrap_or_else(|e| panic!("test pool: {e}"))
    }

    /// Binds 127.0.0.1 and starts accepting.
    pub fn start(opts: PoolOptions) -> io::Result<TestPool> {
        let listener = TcpListener::bind(("127.0.0.1", opts.port))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let tls = match &opts.tls {
            None => None,
            Some((chain, key)) => {
                let provider = Arc::new(rustls::crypto::ring::default_provider());
                let certs = chain
                    .iter()
                    .map(|c| rustls::pki_types::CertificateDer::from(c.clone()))
                    .collect();
                let key = rustls::pki_types::PrivateKeyDer::try_from(key.clone())
                    .map_err(|e| io::Error::other(e.to_string()))?;
                let config = rustls::ServerConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()
                    .map_err(|e| io::Error::other(e.to_string()))?
                    .with_no_client_auth()
                    .with_single_cert(certs, key)
                    .map_err(|e| io::Error::other(e.to_string()))?;
                Some(Arc::new(config))
            }
        };
        let state = Arc::new(State {
            opts,
            stop: AtomicBool::new(false),
            stats: Mutex::new(PoolStats::default()),
            faults: Mutex::new(Vec::new()),
            fault_serial: AtomicU64::new(0),
            block: AtomicU32::new(1),
            next_en1: AtomicU32::new(0x0800_0001),
            next_conn: AtomicU64::new(1),
            job_seq: AtomicU64::new(0),
            jobs: Mutex::new(HashMap::new()),
            seen: Mutex::new(HashSet::new()),
            tls,
        });
        let st = Arc::clone(&state);
        let thread = std::thread::spawn(move || accept_loop(&listener, &st));
        Ok(TestPool {
            addr,
            state,
            thread: Some(thread),
        })
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `stratum+tcp://127.0.0.1:PORT` (or `stratum+ssl://localhost:PORT` with TLS).
    pub fn url(&self) -> String {
        if self.state.tls.is_some() {
            format!("stratum+ssl://localhost:{}", self.addr.port())
        } else {
            format!("stratum+tcp://127.0.0.1:{}", self.addr.port())
        }
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> PoolStats {
        self.state.stats.lock().unwrap().clone()
    }

    /// Injects a fault into every open connection.
    pub fn inject(&self, fault: Fault) {
        self.state.faults.lock().unwrap().push(fault);
        self.state.fault_serial.fetch_add(1, Ordering::SeqCst);
    }

    /// Waits until `pred(stats)` holds; false after `timeout`.
    pub fn wait_for(&self, timeout: Duration, pred: impl Fn(&PoolStats) -> bool) -> bool {
        let until = Instant::now() + timeout;
        while Instant::now() < until {
            if pred(&self.stats()) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        pred(&self.stats())
    }

    /// Stops accepting and closes every connection.
    pub fn stop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for TestPool {
    fn drop(&mut self) {
        self.stop();
    }
}

fn accept_loop(listener: &TcpListener, state: &Arc<State>) {
    let mut conns: Vec<JoinHandle<()>> = Vec::new();
    while !state.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((sock, _)) => {
                let st = Arc::clone(state);
                conns.push(std::thread::spawn(move || {
                    let _ = serve(sock, &st);
                }));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
        conns.retain(|c| !c.is_finished());
    }
    for c in conns {
        let _ = c.join();
    }
}

trait Stream: Read + Write + Send {}
impl<T: Read + Write + Send> Stream for T {}

/// One client connection.
struct Conn<'a> {
    state: &'a State,
    out: Box<dyn Stream>,
    en1: [u8; 4],
    authorized: Option<String>,
    subscribed: bool,
    mask: u32,
    difficulty: f64,
    accepted_here: u64,
    id: u64,
    last_job: Option<String>,
    stalled: bool,
}

fn log(state: &State, msg: &str) {
    if state.opts.verbose {
        eprintln!("pool: {msg}");
    }
}

fn serve(sock: TcpStream, state: &State) -> io::Result<()> {
    sock.set_nodelay(true)?;
    sock.set_read_timeout(Some(Duration::from_millis(20)))?;
    let control = sock.try_clone()?;
    let out: Box<dyn Stream> = match &state.tls {
        None => Box::new(sock),
        Some(cfg) => {
            let conn = rustls::ServerConnection::new(Arc::clone(cfg))
                .map_err(|e| io::Error::other(e.to_string()))?;
            Box::new(rustls::StreamOwned::new(conn, sock))
        }
    };
    let en1 = state
        .opts
        .fixed_extranonce1
        .unwrap_or_else(|| state.next_en1.fetch_add(1, Ordering::SeqCst).to_be_bytes());
    state.stats.lock().unwrap().connections += 1;
    let mut c = Conn {
        state,
        out,
        en1,
        authorized: None,
        subscribed: false,
        mask: 0,
        difficulty: state.opts.difficulty,
        accepted_here: 0,
        id: state.next_conn.fetch_add(1, Ordering::SeqCst),
        last_job: None,
        stalled: false,
    };
    let mut faults_done = state.fault_serial.load(Ordering::SeqCst);
    let mut block = state.block.load(Ordering::SeqCst);
    let mut next_job = Instant::now() + state.opts.job_interval;
    let mut buf: Vec<u8> = Vec::new();
    let result = (|| -> io::Result<()> {
        loop {
            if state.stop.load(Ordering::SeqCst) {
                return Ok(());
            }
            // Faults injected since the last look.
            let serial = state.fault_serial.load(Ordering::SeqCst);
            if serial > faults_done {
                let faults: Vec<Fault> = {
                    let all = state.faults.lock().unwrap();
                    let n = all.len();
                    all[n - (serial - faults_done) as usize..].to_vec()
                };
                faults_done = serial;
                for f in faults {
                    if !c.fault(&f)? {
                        return Ok(());
                    }
                }
            }
            if !c.stalled && c.authorized.is_some() {
                let b = state.block.load(Ordering::SeqCst);
                if b != block {
                    block = b;
                    c.send_job(true)?;
                    next_job = Instant::now() + state.opts.job_interval;
                } else if Instant::now() >= next_job {
                    c.send_job(false)?;
                    next_job = Instant::now() + state.opts.job_interval;
                }
            }
            let mut chunk = [0u8; 4096];
            match c.out.read(&mut chunk) {
                Ok(0) => return Ok(()),
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => return Err(e),
            }
            while let Some(pos) = buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = buf.drain(..=pos).collect();
                let line = String::from_utf8_lossy(&line).trim().to_string();
                if line.is_empty() || c.stalled {
                    continue;
                }
                log(state, &format!("<- {line}"));
                c.handle(&line)?;
            }
        }
    })();
    let _ = control.shutdown(std::net::Shutdown::Both);
    result
}

impl Conn<'_> {
    fn send(&mut self, v: &Value) -> io::Result<()> {
        self.send_raw(&v.to_string())
    }

    fn send_raw(&mut self, line: &str) -> io::Result<()> {
        if line.len() < 300 {
            log(self.state, &format!("-> {line}"));
        }
        self.out.write_all(line.as_bytes())?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }

    /// Applies a fault; false closes the connection.
    fn fault(&mut self, f: &Fault) -> io::Result<bool> {
        match f {
            Fault::Garbage => self.send_raw("this is not json at all")?,
            Fault::Oversized => self.send_raw(&format!(
                "{{\"id\":null,\"method\":\"client.show_message\",\"params\":[\"{}\"]}}",
                "x".repeat(100 * 1024)
            ))?,
            Fault::MalformedJson => {
                self.send_raw("{\"id\":null,\"method\":\"mining.notify\",\"params\":[\"1\",")?
            }
            Fault::WrongLengthHex => {
                let mut params = self.job_params(true);
                params[1] = json!("00".repeat(31));
                self.send(&json!({"id": null, "method": "mining.notify", "params": params}))?;
            }
            Fault::AbsurdDifficulty => {
                self.send(&json!({"id": null, "method": "mining.set_difficulty", "params": [0]}))?;
            }
            Fault::UnknownMethod => {
                self.send(&json!({"id": null, "method": "mining.bogus_method", "params": []}))?;
            }
            Fault::Stall => self.stalled = true,
            Fault::Disconnect => return Ok(false),
            Fault::Reconnect { port, wait } => {
                self.send(&json!({"id": null, "method": "client.reconnect", "params": ["127.0.0.1", port, wait]}))?;
            }
            Fault::CleanJob => {
                self.state.block.fetch_add(1, Ordering::SeqCst);
            }
            Fault::SetExtranonce(en1) => {
                self.en1 = *en1;
                let size = self.state.opts.extranonce2_size;
                self.send(&json!({"id": null, "method": "mining.set_extranonce", "params": [hex::encode(en1), size]}))?;
                self.send_job(true)?;
            }
            Fault::ShowMessage(text) => {
                self.send(&json!({"id": null, "method": "client.show_message", "params": [text]}))?;
            }
        }
        Ok(true)
    }

    fn reply(&mut self, id: &Value, result: Value, error: Value) -> io::Result<()> {
        self.send(&json!({"id": id, "result": result, "error": error}))
    }

    fn handle(&mut self, line: &str) -> io::Result<()> {
        let Ok(msg) = serde_json::from_str::<Value>(line) else {
            return self.reply(
                &Value::Null,
                Value::Null,
                json!([20, "Malformed JSON", null]),
            );
        };
        let id = msg.get("id").cloned().unwrap_or(Value::Null);
        let method = msg.get("method").and_then(Value::as_str).unwrap_or("");
        let params = msg
            .get("params")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        match method {
            "mining.configure" => {
                self.state.stats.lock().unwrap().configure_seen = true;
                let wants = params
                    .first()
                    .and_then(Value::as_array)
                    .is_some_and(|a| a.iter().any(|x| x == "version-rolling"));
                if wants && self.state.opts.version_rolling {
                    let asked = params
                        .get(1)
                        .and_then(|o| o.get("version-rolling.mask"))
                        .and_then(Value::as_str)
                        .and_then(|s| u32::from_str_radix(s, 16).ok())
                        .unwrap_or(u32::MAX);
                    self.mask = asked & POOL_VERSION_MASK;
                    let mask = format!("{:08x}", self.mask);
                    self.reply(
                        &id,
                        json!({"version-rolling": true, "version-rolling.mask": mask}),
                        Value::Null,
                    )
                } else {
                    self.reply(&id, json!({"version-rolling": false}), Value::Null)
                }
            }
            "mining.subscribe" => {
                self.subscribed = true;
                let en1 = hex::encode(self.en1);
                self.reply(
                    &id,
                    json!([
                        [["mining.set_difficulty", "d1"], ["mining.notify", "n1"]],
                        en1,
                        self.state.opts.extranonce2_size
                    ]),
                    Value::Null,
                )
            }
            "mining.extranonce.subscribe" => self.reply(&id, json!(true), Value::Null),
            "mining.authorize" => {
                let user = params
                    .first()
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                if !self.subscribed || user.is_empty() {
                    return self.reply(&id, json!(false), json!([24, "Unauthorized worker", null]));
                }
                self.state.stats.lock().unwrap().workers.push(user.clone());
                self.authorized = Some(user);
                self.reply(&id, json!(true), Value::Null)?;
                let d = self.difficulty;
                self.send(&json!({"id": null, "method": "mining.set_difficulty", "params": [d]}))?;
                self.send_job(true)
            }
            "mining.submit" => {
                let verdict = self.check_share(&params);
                let mut st = self.state.stats.lock().unwrap();
                match verdict {
                    Ok((d, rolled)) => {
                        st.accepted += 1;
                        st.accepted_difficulty += d;
                        if rolled {
                            st.accepted_rolled += 1;
                        }
                        st.accepted_lines
                            .push((line.to_string(), hex::encode(self.en1)));
                        drop(st);
                        log(self.state, &format!("share accepted at difficulty {d}"));
                        self.reply(&id, json!(true), Value::Null)?;
                        self.accepted_here += 1;
                        let every = self.state.opts.vardiff_every;
                        if every > 0
                            && self.accepted_here.is_multiple_of(every)
                            && self.difficulty * 2.0 <= self.state.opts.max_difficulty
                        {
                            self.difficulty *= 2.0;
                            let d = self.difficulty;
                            self.send(&json!({"id": null, "method": "mining.set_difficulty", "params": [d]}))?;
                            self.send_job(false)?;
                        }
                        Ok(())
                    }
                    Err((code, reason)) => {
                        *st.rejected.entry(reason.clone()).or_default() += 1;
                        drop(st);
                        log(self.state, &format!("share rejected: {reason}"));
                        self.reply(&id, json!(false), json!([code, reason, null]))
                    }
                }
            }
            _ if !method.is_empty() => {
                self.reply(&id, Value::Null, json!([20, "Unknown method", null]))
            }
            // A response from the client (to client.get_version etc.).
            _ => Ok(()),
        }
    }

    fn job_params(&self, clean: bool) -> Vec<Value> {
        let jobs = self.state.jobs.lock().unwrap();
        match self.last_job.as_ref().and_then(|id| jobs.get(id)) {
            Some(j) => vec![
                json!(j.id),
                json!(hex::encode(swap_words(j.prev))),
                json!(hex::encode(&j.coinb1)),
                json!(hex::encode(&j.coinb2)),
                json!(j.branches.iter().map(hex::encode).collect::<Vec<_>>()),
                json!(format!("{:08x}", j.version)),
                json!(format!("{:08x}", j.bits)),
                json!(format!("{:08x}", j.time)),
                json!(clean),
            ],
            None => vec![json!("0"); 9],
        }
    }

    fn send_job(&mut self, clean: bool) -> io::Result<()> {
        let me = self.id;
        if clean {
            self.state.jobs.lock().unwrap().retain(|_, j| j.conn != me);
        }
        let seq = self.state.job_seq.fetch_add(1, Ordering::SeqCst) + 1;
        let block = self.state.block.load(Ordering::SeqCst);
        let id = format!("{block:x}-{seq:x}");
        // prevhash and branches vary per block and job; the coinbase is a
        // real transaction shape with a BIP 34 height push.
        let mut prev = sha256d(format!("block {block}").as_bytes());
        prev[28..].copy_from_slice(&[0, 0, 0, 0]);
        let en_len = 4 + self.state.opts.extranonce2_size;
        let height = 800_000 + block;
        let mut script_head = vec![0x03];
        script_head.extend_from_slice(&height.to_le_bytes()[..3]);
        let tag = format!("/hashwatt-test-pool/{seq}/");
        let script_len = script_head.len() + en_len + tag.len();
        let mut coinb1 = hex::decode(
            "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff",
        )
        .unwrap_or_default();
        coinb1.push(script_len as u8);
        coinb1.extend_from_slice(&script_head);
        let mut coinb2 = tag.into_bytes();
        coinb2.extend_from_slice(&hex::decode("ffffffff0100f2052a010000001976a914d23fcdf86f7e756a64a7a9688ef9903327048ed988ac00000000").unwrap_or_default());
        let branches = (0..3u8)
            .map(|i| sha256d(format!("tx {block} {seq} {i}").as_bytes()))
            .collect();
        let job = Job {
            conn: me,
            id: id.clone(),
            prev,
            coinb1,
            coinb2,
            branches,
            version: 0x2000_0000,
            bits: self.state.opts.bits,
            time: now(),
            difficulty: self.difficulty,
        };
        self.state.jobs.lock().unwrap().insert(id.clone(), job);
        self.last_job = Some(id);
        self.state.stats.lock().unwrap().jobs += 1;
        let params = self.job_params(clean);
        self.send(&json!({"id": null, "method": "mining.notify", "params": params}))
    }

    /// Validates a submit: Ok((difficulty credited, rolled)) or Err((code, reason)).
    fn check_share(&mut self, p: &[Value]) -> Result<(f64, bool), (i64, String)> {
        let s = |i: usize| {
            p.get(i)
                .and_then(Value::as_str)
                .ok_or((20, format!("parameter {i} missing")))
        };
        let worker = s(0)?;
        if self.authorized.as_deref() != Some(worker) {
            return Err((24, "Unauthorized worker".into()));
        }
        let jobs = self.state.jobs.lock().unwrap();
        let job = jobs.get(s(1)?).ok_or((21, "Job not found".to_string()))?;
        let en2 = hex::decode(s(2)?).map_err(|_| (20, "extranonce2 is not hex".to_string()))?;
        if en2.len() != self.state.opts.extranonce2_size {
            return Err((20, "Incorrect size of extranonce2".into()));
        }
        let word = |i: usize, what: &str| -> Result<u32, (i64, String)> {
            let t = s(i)?;
            if t.len() != 8 {
                return Err((20, format!("{what} is not 8 hex digits")));
            }
            u32::from_str_radix(t, 16).map_err(|_| (20, format!("{what} is not hex")))
        };
        let time = word(3, "ntime")?;
        let nonce = word(4, "nonce")?;
        if time < job.time || time > job.time + 7200 {
            return Err((20, "ntime out of range".into()));
        }
        let (version, rolled) = match p.get(5) {
            None | Some(Value::Null) => (job.version, false),
            Some(_) => {
                let bits = word(5, "version bits")?;
                if bits & !self.mask != 0 {
                    return Err((20, "version bits outside the mask".into()));
                }
                ((job.version & !self.mask) | bits, bits != 0)
            }
        };
        let key = (job.id.clone(), en2.clone(), time, nonce, version);
        let mut seen = self.state.seen.lock().unwrap();
        if seen.contains(&key) {
            return Err((22, "Duplicate share".into()));
        }
        // Rebuild the header: coinbase, merkle root, wire order.
        let mut coinbase = job.coinb1.clone();
        coinbase.extend_from_slice(&self.en1);
        coinbase.extend_from_slice(&en2);
        coinbase.extend_from_slice(&job.coinb2);
        let mut root = sha256d(&coinbase);
        for b in &job.branches {
            let mut cat = root.to_vec();
            cat.extend_from_slice(b);
            root = sha256d(&cat);
        }
        let mut header = Vec::with_capacity(80);
        header.extend_from_slice(&version.to_le_bytes());
        header.extend_from_slice(&job.prev);
        header.extend_from_slice(&root);
        header.extend_from_slice(&time.to_le_bytes());
        header.extend_from_slice(&job.bits.to_le_bytes());
        header.extend_from_slice(&nonce.to_le_bytes());
        let hash = sha256d(&header);
        // share difficulty = 0xffff * 2^208 / hash, hash read little-endian.
        let value = hash
            .iter()
            .rev()
            .fold(0f64, |acc, &b| acc * 256.0 + f64::from(b));
        let diff1 = 65535.0 * 2f64.powi(208);
        let share_diff = if value == 0.0 {
            f64::INFINITY
        } else {
            diff1 / value
        };
        if share_diff < job.difficulty * (1.0 - 1e-9) {
            return Err((
                23,
                format!(
                    "Low difficulty share ({share_diff:.6} < {})",
                    job.difficulty
                ),
            ));
        }
        let d = job.difficulty;
        seen.insert(key);
        Ok((d, rolled))
    }
}

/// The header's prev hash as a notify carries it: each 4-byte word byte-swapped.
fn swap_words(mut b: [u8; 32]) -> [u8; 32] {
    for w in b.chunks_mut(4) {
        w.reverse();
    }
    b
}

/// Sends raw lines to a pool and returns each answer line (for replaying shares).
pub fn raw_session(addr: &str, lines: &[String]) -> io::Result<Vec<Value>> {
    let sock = TcpStream::connect(addr)?;
    sock.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut w = sock.try_clone()?;
    let mut r = BufReader::new(sock);
    let mut answers = Vec::new();
    for line in lines {
        w.write_all(line.as_bytes())?;
        w.write_all(b"\n")?;
        let want = serde_json::from_str::<Value>(line)
            .ok()
            .and_then(|v| v.get("id").cloned());
        loop {
            let mut l = String::new();
            if r.read_line(&mut l)? == 0 {
                return Ok(answers);
            }
            let v: Value = serde_json::from_str(&l).map_err(|e| io::Error::other(e.to_string()))?;
            let is_answer = v.get("method").is_none() && v.get("id") == want.as_ref();
            if is_answer {
                answers.push(v);
                break;
            }
        }
    }
    Ok(answers)
}
