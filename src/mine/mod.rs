//! Mining real work: a long-running [`Miner`] that takes jobs from Stratum V1
//! pools (or a Bitcoin Core node, see [`node`]) and hashes them on any number
//! of [`Engine`]s.
//!
//! # Using it
//!
//! ```no_run
//! use std::sync::Arc;
//! use hashwatt::mine::{Miner, MinerConfig, PoolConfig, WorkSource};
//! use hashwatt::search::{CpuEngine, Engine};
//! use hashwatt::sha256::CpuKernel;
//!
//! let engine: Arc<dyn Engine> = Arc::new(CpuEngine::new(CpuKernel::best(), None)?);
//! let pools = vec![PoolConfig::new("stratum+tcp://127.0.0.1:3333", "worker", "x")];
//! let (tx, rx) = std::sync::mpsc::channel();
//! let miner = Miner::start(MinerConfig::new(WorkSource::Pools(pools)), vec![engine], Some(tx))?;
//! let yielded_in = miner.pause(0)?; // engine 0 has stopped hashing when this returns
//! miner.resume(0)?;
//! let stats = miner.stats();
//! println!("{} accepted, {:.0} H/s", stats.shares.accepted, stats.hashrate());
//! let summary = miner.stop(); // every engine stopped within one batch
//! # drop(rx); Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Threads
//!
//! - One **pool thread** ([`pool`]) owns the connection: configure (BIP 310
//!   version rolling), subscribe, authorize, then reads jobs and difficulty,
//!   sends the shares the engines queue, counts the pool's answers, reconnects
//!   with capped exponential backoff, fails over to the next pool in order and
//!   returns to a higher-priority pool once it answers again. A pool silent
//!   for [`Timeouts::idle`], or sending anything malformed, is dropped (with a
//!   [`MineEvent::Disconnected`] saying why) and reconnected.
//! - One **engine thread** per engine. Engine `i` of `n` hashes *work units*
//!   `u = k·n + i` (`k = 0, 1, …`): unit `u` is extranonce2 = `u >> r` and,
//!   when the pool allows rolling `r` version bits, rolled bits = the low
//!   `r` bits of `u` spread over the mask. No two engines ever hash the same
//!   header. Each unit's 2^32 nonces are searched in chunks of about
//!   [`MinerConfig::chunk_time`] with a [`CancelToken`] that `pause`, `stop`
//!   and a `clean_jobs` notify fire. When a job arrives the pool thread
//!   already builds every engine's first header, so a switch costs the engine
//!   nothing.
//!
//! Every hit an engine reports is re-checked on the scalar path
//! ([`Job::verify`], i.e. [`Header::block_hash`] against the target) before it
//! is queued; only hashes at or under the share target (or the block target)
//! are submitted. A hit for a job a `clean_jobs` notify voided, or from an
//! earlier connection, is counted as stale and not sent.
//!
//! # Events
//!
//! With an event sender, the miner reports [`MineEvent`]s (connected,
//! disconnected with a reason, job, difficulty, share with its verdict,
//! message, block). They serialize as `{"event": "share", ...}` JSON objects,
//! which `hashwatt mine --json` prints one per line.

pub mod node;
pub mod pool;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::header::Header;
use crate::pow::Target;
use crate::search::{CancelToken, Engine, Job, NONCE_SPACE};
use crate::stratum::client::{PoolUrl, TlsOptions};
use crate::stratum::{Notify, Subscription, rolled_version};

/// The BIP 310 mask asked for in `mining.configure` (the 16 bits BIP 320 frees).
pub const VERSION_ROLLING_MASK: u32 = 0x1fff_e000;

/// Errors starting or controlling a miner.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MineError {
    /// No engine to mine with.
    #[error("no engine to mine with")]
    NoEngines,
    /// No pool given.
    #[error("no pool given")]
    NoPools,
    /// A pool URL that cannot be used.
    #[error(transparent)]
    Url(#[from] crate::stratum::client::ClientError),
    /// A payout address that cannot be decoded.
    #[error(transparent)]
    Address(#[from] crate::gbt::address::AddressError),
    /// A node URL that cannot be used.
    #[error(transparent)]
    Node(#[from] crate::gbt::rpc::RpcError),
    /// An engine index out of range.
    #[error("no engine {index}: the miner has {count}")]
    NoSuchEngine {
        /// The index asked for.
        index: usize,
        /// Engines the miner has.
        count: usize,
    },
    /// A thread could not be started.
    #[error("could not start a thread: {0}")]
    Thread(String),
    /// Resuming an engine that was released: it needs
    /// [`Miner::resume_with`] a new engine.
    #[error("engine {index} was released: resume it with a new engine")]
    Released {
        /// The index asked for.
        index: usize,
    },
}

/// One pool: URL, worker name and password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolConfig {
    /// `stratum+tcp://HOST:PORT` or `stratum+ssl://HOST:PORT`.
    pub url: String,
    /// Worker name for `mining.authorize` and every submit.
    pub user: String,
    /// Password for `mining.authorize`.
    pub password: String,
}

impl PoolConfig {
    /// A pool from its three strings.
    pub fn new(url: &str, user: &str, password: &str) -> PoolConfig {
        PoolConfig {
            url: url.to_string(),
            user: user.to_string(),
            password: password.to_string(),
        }
    }
}

/// Where the work comes from.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum WorkSource {
    /// Stratum V1 pools, in priority order (failover goes down the list,
    /// failback returns to the first that answers).
    Pools(Vec<PoolConfig>),
    /// Solo mining on a Bitcoin Core node (`getblocktemplate`, `submitblock`).
    Node(node::NodeConfig),
}

/// How long the miner waits for a pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP connect plus TLS handshake.
    pub connect: Duration,
    /// An answer to subscribe/authorize/configure.
    pub response: Duration,
    /// Silence after which a connected pool is dropped (pools send a job at
    /// least every minute or two).
    pub idle: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            response: Duration::from_secs(10),
            idle: Duration::from_secs(180),
        }
    }
}

/// Reconnect backoff: `initial`, doubled after every round of failed pools, at most `max`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The first wait.
    pub initial: Duration,
    /// The cap.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(60),
        }
    }
}

impl Backoff {
    /// The wait after `round` consecutive failed rounds (0 → `initial`).
    pub fn delay(&self, round: u32) -> Duration {
        let factor = 1u32.checked_shl(round.min(20)).unwrap_or(u32::MAX);
        self.initial.saturating_mul(factor).min(self.max)
    }
}

/// Everything a [`Miner`] needs besides its engines.
#[derive(Clone, Debug)]
pub struct MinerConfig {
    /// Pools (or later a node).
    pub source: WorkSource,
    /// TLS settings for `stratum+ssl://` pools.
    pub tls: TlsOptions,
    /// Time limits.
    pub timeouts: Timeouts,
    /// Reconnect backoff.
    pub backoff: Backoff,
    /// How often, while on a fallback pool, to try the higher-priority ones.
    pub failback_interval: Duration,
    /// Ask for BIP 310 version rolling.
    pub version_rolling: bool,
    /// About how long one engine search call lasts (shares are submitted at
    /// the end of each call; job switches without `clean_jobs` happen there).
    pub chunk_time: Duration,
}

impl MinerConfig {
    /// Defaults: 10 s connect/response timeouts, 180 s idle timeout, backoff
    /// 1 s to 60 s, failback tried every 60 s, version rolling on, 1 s chunks.
    pub fn new(source: WorkSource) -> MinerConfig {
        MinerConfig {
            source,
            tls: TlsOptions::default(),
            timeouts: Timeouts::default(),
            backoff: Backoff::default(),
            failback_interval: Duration::from_secs(60),
            version_rolling: true,
            chunk_time: Duration::from_secs(1),
        }
    }
}

/// What an engine thread is doing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EngineState {
    /// No job yet (not connected, or waiting for the first notify).
    Waiting,
    /// Hashing.
    Running,
    /// Paused by [`Miner::pause`].
    Paused,
    /// Stopped by [`Miner::stop`].
    Stopped,
    /// The engine failed; the text says why.
    Failed(String),
}

/// One engine's counters.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EngineStats {
    /// Backend name.
    pub name: String,
    /// Hashes done since start.
    pub hashes: u64,
    /// Hash rate of the last search call, hashes per second.
    pub hashrate: f64,
    /// Shares this engine found that passed the scalar re-check.
    pub shares_found: u64,
    /// State.
    pub state: EngineState,
}

/// Share accounting.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ShareStats {
    /// Shares the pool accepted.
    pub accepted: u64,
    /// Shares the pool rejected, by the reason it gave.
    pub rejected: BTreeMap<String, u64>,
    /// Stale shares: voided by a clean job or a reconnect before sending, or
    /// rejected by the pool as stale / job not found.
    pub stale: u64,
    /// Sum of the pool difficulty of accepted shares (the work credited).
    pub accepted_difficulty: f64,
    /// Shares sent and not answered yet.
    pub pending: u64,
    /// Shares that met the block (network) target.
    pub blocks: u64,
}

impl ShareStats {
    /// All rejected shares.
    pub fn rejected_total(&self) -> u64 {
        self.rejected.values().sum()
    }
}

/// A snapshot of the whole miner.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MineStats {
    /// Per engine, in the order given to [`Miner::start`].
    pub engines: Vec<EngineStats>,
    /// Share accounting.
    pub shares: ShareStats,
    /// The pool's current difficulty.
    pub pool_difficulty: Option<f64>,
    /// The connected pool's URL.
    pub pool: Option<String>,
    /// Network difficulty from the current job's nBits.
    pub network_difficulty: Option<f64>,
    /// The current job id.
    pub job_id: Option<String>,
    /// Connections made (the first included).
    pub connections: u64,
    /// Seconds since start.
    pub uptime_s: f64,
}

impl MineStats {
    /// Total hash rate of all engines (last search call of each).
    pub fn hashrate(&self) -> f64 {
        self.engines
            .iter()
            .filter(|e| e.state == EngineState::Running)
            .map(|e| e.hashrate)
            .sum()
    }

    /// Total hashes.
    pub fn hashes(&self) -> u64 {
        self.engines.iter().map(|e| e.hashes).sum()
    }
}

/// The final stats returned by [`Miner::stop`].
pub type MineSummary = MineStats;

/// What a share came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ShareStatus {
    /// Accepted by the pool.
    Accepted,
    /// Rejected by the pool.
    Rejected,
    /// Stale (not sent, or rejected as stale).
    Stale,
}

/// Something that happened, for logs and `--json`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum MineEvent {
    /// Subscribed and authorized.
    Connected {
        /// Pool index in the list.
        pool: usize,
        /// Its URL.
        url: String,
        /// extranonce1 (hex).
        extranonce1: String,
        /// extranonce2 size in bytes.
        extranonce2_size: usize,
        /// The version-rolling mask granted, if any (hex).
        version_mask: Option<String>,
    },
    /// The connection ended or failed; `reason` says why.
    Disconnected {
        /// Pool index.
        pool: usize,
        /// Its URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// A new job.
    Job {
        /// Pool index.
        pool: usize,
        /// Job id.
        job_id: String,
        /// Whether earlier jobs were voided.
        clean: bool,
        /// Pool difficulty for this job's shares.
        difficulty: f64,
        /// Network difficulty from nBits.
        network_difficulty: f64,
    },
    /// The pool set a new difficulty (applies from the next job).
    Difficulty {
        /// Pool index.
        pool: usize,
        /// The difficulty.
        difficulty: f64,
    },
    /// A share's verdict.
    Share {
        /// Engine index.
        engine: usize,
        /// Job id.
        job_id: String,
        /// The nonce (hex, as submitted).
        nonce: String,
        /// The hash (display order).
        hash: String,
        /// The hash's own share difficulty.
        share_difficulty: f64,
        /// The pool difficulty it was submitted at.
        pool_difficulty: f64,
        /// Accepted, rejected or stale.
        status: ShareStatus,
        /// The pool's reason for a rejection, or why it is stale.
        reason: Option<String>,
    },
    /// `client.show_message` from the pool.
    Message {
        /// Pool index.
        pool: usize,
        /// The text.
        text: String,
    },
    /// A hash met the network target.
    Block {
        /// The block hash.
        hash: String,
    },
    /// An engine failed and stopped.
    EngineFailed {
        /// Engine index.
        engine: usize,
        /// Why.
        reason: String,
    },
}

/// One job ready to hash, shared by the engines.
#[derive(Debug)]
pub(crate) struct Work {
    /// Increases with every new work; engines compare it.
    pub(crate) generation: u64,
    /// The connection this came from (shares from an older one are stale).
    pub(crate) session: u64,
    /// `generation` of the last clean job at or before this one.
    pub(crate) clean_generation: u64,
    pub(crate) job: Notify,
    pub(crate) sub: Subscription,
    pub(crate) mask: u32,
    pub(crate) difficulty: f64,
    /// The easier of the share and block targets: what engines search for.
    pub(crate) search_target: Target,
    pub(crate) share_target: Target,
    pub(crate) block_target: Option<Target>,
    /// Every engine's first unit, built before the work is published.
    pub(crate) first_units: Vec<Unit>,
}

/// One work unit: a header (nonce 0) and what identifies it in a submit.
#[derive(Clone, Debug)]
pub(crate) struct Unit {
    pub(crate) header: Header,
    pub(crate) extranonce2: Vec<u8>,
    /// Version bits under the mask (`Some` when rolling was negotiated).
    pub(crate) version_bits: Option<u32>,
}

/// Spreads the low bits of `value` over the set bits of `mask` (PDEP).
fn deposit_bits(mut value: u64, mask: u32) -> u32 {
    let mut out = 0u32;
    for bit in 0..32 {
        if mask & (1 << bit) != 0 {
            if value & 1 == 1 {
                out |= 1 << bit;
            }
            value >>= 1;
        }
    }
    out
}

impl Work {
    /// Builds the header of unit `u` (see the module docs).
    pub(crate) fn unit(job: &Notify, sub: &Subscription, mask: u32, u: u64) -> Unit {
        let r = mask.count_ones();
        let (en2_value, version_bits) = if mask != 0 {
            let low = if r >= 64 { u } else { u & ((1u64 << r) - 1) };
            (u >> r.min(63), Some(deposit_bits(low, mask)))
        } else {
            (u, None)
        };
        let size = sub.extranonce2_size;
        let mut extranonce2 = vec![0u8; size];
        let be = en2_value.to_be_bytes();
        let n = size.min(8);
        extranonce2[size - n..].copy_from_slice(&be[8 - n..]);
        let version = match version_bits {
            Some(bits) => rolled_version(job.version, mask, bits),
            None => job.version,
        };
        let header = job.header(&sub.extranonce1, &extranonce2, job.time, 0, version);
        Unit {
            header,
            extranonce2,
            version_bits,
        }
    }
}

/// A share found by an engine, on its way to the pool thread.
#[derive(Debug)]
pub(crate) struct FoundShare {
    pub(crate) engine: usize,
    pub(crate) work: Arc<Work>,
    pub(crate) extranonce2: Vec<u8>,
    pub(crate) version_bits: Option<u32>,
    pub(crate) nonce: u32,
    pub(crate) hash: crate::header::BlockHash,
}

#[derive(Debug)]
struct Ctl {
    pause: bool,
    state: EngineState,
}

struct Slot {
    /// `None` once released ([`Miner::release`]); the engine thread then
    /// stays paused until [`Miner::resume_with`].
    engine: Mutex<Option<Arc<dyn Engine>>>,
    name: Mutex<String>,
    ctl: Mutex<Ctl>,
    cv: Condvar,
    cancel: Mutex<CancelToken>,
    hashes: AtomicU64,
    hashrate_bits: AtomicU64,
    shares_found: AtomicU64,
}

/// State shared by the miner's threads.
pub(crate) struct Shared {
    stop: AtomicBool,
    /// Set after the engines have stopped: the pool thread sends their last
    /// shares, waits briefly for the answers, and closes.
    stop_pool: AtomicBool,
    work: Mutex<Option<Arc<Work>>>,
    work_cv: Condvar,
    slots: Vec<Slot>,
    pub(crate) counters: Mutex<Counters>,
    events: Option<Mutex<Sender<MineEvent>>>,
    started: Instant,
}

/// Mutable counters, guarded by one mutex.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) shares: ShareStats,
    pub(crate) pool_difficulty: Option<f64>,
    pub(crate) pool: Option<String>,
    pub(crate) connections: u64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    pub(crate) fn emit(&self, event: MineEvent) {
        if let Some(tx) = &self.events {
            let _ = lock(tx).send(event);
        }
    }

    pub(crate) fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    pub(crate) fn pool_stopping(&self) -> bool {
        self.stop_pool.load(Ordering::Relaxed)
    }

    pub(crate) fn counters(&self) -> MutexGuard<'_, Counters> {
        lock(&self.counters)
    }

    pub(crate) fn current_work(&self) -> Option<Arc<Work>> {
        lock(&self.work).clone()
    }

    /// Publishes new work (or none); a clean job or `None` cancels every engine's search.
    pub(crate) fn publish(&self, work: Option<Arc<Work>>) {
        let cancel = work
            .as_ref()
            .is_none_or(|w| w.clean_generation == w.generation);
        *lock(&self.work) = work;
        if cancel {
            for slot in &self.slots {
                lock(&slot.cancel).cancel();
            }
        }
        self.work_cv.notify_all();
    }

    pub(crate) fn engine_count(&self) -> usize {
        self.slots.len()
    }
}

/// A running miner. See the module docs.
pub struct Miner {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
    stopped: bool,
}

impl std::fmt::Debug for Miner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Miner")
            .field("engines", &self.shared.slots.len())
            .finish()
    }
}

impl Miner {
    /// Starts the pool thread and one thread per engine.
    ///
    /// # Errors
    /// [`MineError::NoEngines`], [`MineError::NoPools`], [`MineError::Url`]
    /// for a pool URL that cannot be parsed, [`MineError::Thread`].
    pub fn start(
        config: MinerConfig,
        engines: Vec<Arc<dyn Engine>>,
        events: Option<Sender<MineEvent>>,
    ) -> Result<Miner, MineError> {
        if engines.is_empty() {
            return Err(MineError::NoEngines);
        }
        match &config.source {
            WorkSource::Pools(pools) => {
                if pools.is_empty() {
                    return Err(MineError::NoPools);
                }
                for p in pools {
                    PoolUrl::parse(&p.url)?;
                }
            }
            WorkSource::Node(node) => {
                crate::gbt::address::script_pubkey(&node.payout_address)?;
                crate::gbt::rpc::NodeClient::new(
                    &node.url,
                    node.auth.clone(),
                    Duration::from_secs(1),
                )?;
            }
        }
        let slots = engines
            .into_iter()
            .map(|engine| Slot {
                name: Mutex::new(engine.name()),
                engine: Mutex::new(Some(engine)),
                ctl: Mutex::new(Ctl {
                    pause: false,
                    state: EngineState::Waiting,
                }),
                cv: Condvar::new(),
                cancel: Mutex::new(CancelToken::new()),
                hashes: AtomicU64::new(0),
                hashrate_bits: AtomicU64::new(0),
                shares_found: AtomicU64::new(0),
            })
            .collect();
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            stop_pool: AtomicBool::new(false),
            work: Mutex::new(None),
            work_cv: Condvar::new(),
            slots,
            counters: Mutex::new(Counters::default()),
            events: events.map(Mutex::new),
            started: Instant::now(),
        });
        let (share_tx, share_rx) = std::sync::mpsc::channel::<FoundShare>();
        let mut miner = Miner {
            shared: Arc::clone(&shared),
            threads: Vec::new(),
            stopped: false,
        };
        for i in 0..shared.slots.len() {
            let shared = Arc::clone(&shared);
            let tx = share_tx.clone();
            let chunk_time = config.chunk_time;
            let handle = std::thread::Builder::new()
                .name(format!("hashwatt-mine-{i}"))
                .spawn(move || engine_thread(&shared, i, &tx, chunk_time))
                .map_err(|e| MineError::Thread(e.to_string()));
            match handle {
                Ok(h) => miner.threads.push(h),
                Err(e) => {
                    miner.shutdown();
                    return Err(e);
                }
            }
        }
        drop(share_tx);
        let shared2 = Arc::clone(&shared);
        let handle = std::thread::Builder::new()
            .name("hashwatt-pool".into())
            .spawn(move || match &config.source {
                WorkSource::Pools(pools) => {
                    // Checked above.
                    let urls: Vec<PoolUrl> = pools
                        .iter()
                        .filter_map(|p| PoolUrl::parse(&p.url).ok())
                        .collect();
                    pool::run(&shared2, &config, pools, &urls, &share_rx);
                }
                WorkSource::Node(node) => {
                    let payout = crate::gbt::address::script_pubkey(&node.payout_address)
                        .map(|(script, _)| script)
                        .unwrap_or_default();
                    node::run(&shared2, &config, node, &payout, &share_rx);
                }
            })
            .map_err(|e| MineError::Thread(e.to_string()));
        match handle {
            Ok(h) => miner.threads.push(h),
            Err(e) => {
                miner.shutdown();
                return Err(e);
            }
        }
        Ok(miner)
    }

    fn slot(&self, i: usize) -> Result<&Slot, MineError> {
        self.shared.slots.get(i).ok_or(MineError::NoSuchEngine {
            index: i,
            count: self.shared.slots.len(),
        })
    }

    /// Number of engines.
    pub fn engines(&self) -> usize {
        self.shared.slots.len()
    }

    /// Pauses engine `i` and returns once it has stopped hashing (within one
    /// batch), with the time that took: the engine's yield latency.
    ///
    /// # Errors
    /// [`MineError::NoSuchEngine`].
    pub fn pause(&self, i: usize) -> Result<Duration, MineError> {
        let slot = self.slot(i)?;
        let t0 = Instant::now();
        let mut ctl = lock(&slot.ctl);
        ctl.pause = true;
        lock(&slot.cancel).cancel();
        self.shared.work_cv.notify_all();
        while matches!(ctl.state, EngineState::Running | EngineState::Waiting) {
            ctl = slot
                .cv
                .wait(ctl)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        Ok(t0.elapsed())
    }

    /// Lets engine `i` hash again.
    ///
    /// # Errors
    /// [`MineError::NoSuchEngine`], [`MineError::Released`] for an engine
    /// that was released (see [`Miner::resume_with`]).
    pub fn resume(&self, i: usize) -> Result<(), MineError> {
        let slot = self.slot(i)?;
        if lock(&slot.engine).is_none() {
            return Err(MineError::Released { index: i });
        }
        lock(&slot.ctl).pause = false;
        slot.cv.notify_all();
        Ok(())
    }

    /// Pauses engine `i` (see [`Miner::pause`]) and lets go of it, so that
    /// it is dropped, with its GPU memory, once the caller holds no other
    /// reference. Returns the pause's yield latency.
    ///
    /// # Errors
    /// [`MineError::NoSuchEngine`].
    pub fn release(&self, i: usize) -> Result<Duration, MineError> {
        let latency = self.pause(i)?;
        // Paused: the engine thread holds no reference between searches.
        lock(&self.slot(i)?.engine).take();
        Ok(latency)
    }

    /// Whether engine `i` is held (not [released](Miner::release)).
    ///
    /// # Errors
    /// [`MineError::NoSuchEngine`].
    pub fn has_engine(&self, i: usize) -> Result<bool, MineError> {
        Ok(lock(&self.slot(i)?.engine).is_some())
    }

    /// Puts `engine` in place of engine `i` (released or not) and lets it
    /// hash. It takes the same share of the nonce space as the one before.
    ///
    /// # Errors
    /// [`MineError::NoSuchEngine`].
    pub fn resume_with(&self, i: usize, engine: Arc<dyn Engine>) -> Result<(), MineError> {
        let slot = self.slot(i)?;
        self.pause(i)?;
        *lock(&slot.name) = engine.name();
        *lock(&slot.engine) = Some(engine);
        self.resume(i)
    }

    /// A snapshot of every counter.
    pub fn stats(&self) -> MineStats {
        let s = &self.shared;
        let engines = s
            .slots
            .iter()
            .map(|slot| EngineStats {
                name: lock(&slot.name).clone(),
                hashes: slot.hashes.load(Ordering::Relaxed),
                hashrate: f64::from_bits(slot.hashrate_bits.load(Ordering::Relaxed)),
                shares_found: slot.shares_found.load(Ordering::Relaxed),
                state: lock(&slot.ctl).state.clone(),
            })
            .collect();
        let work = s.current_work();
        let c = s.counters();
        MineStats {
            engines,
            shares: c.shares.clone(),
            pool_difficulty: c.pool_difficulty,
            pool: c.pool.clone(),
            network_difficulty: work.as_ref().and_then(|w| {
                Target::from_compact(w.job.bits)
                    .ok()
                    .map(|t| t.difficulty())
            }),
            job_id: work.as_ref().map(|w| w.job.job_id.clone()),
            connections: c.connections,
            uptime_s: s.started.elapsed().as_secs_f64(),
        }
    }

    /// Stops every engine (within one batch) and the pool connection, and
    /// returns the final counters.
    pub fn stop(mut self) -> MineSummary {
        self.shutdown();
        self.stats()
    }

    fn shutdown(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        self.shared.stop.store(true, Ordering::Relaxed);
        for slot in &self.shared.slots {
            lock(&slot.cancel).cancel();
            let _g = lock(&slot.ctl);
            slot.cv.notify_all();
        }
        self.shared.work_cv.notify_all();
        // Engines first (the pool thread is the last one started), so that
        // the shares of their last batch still reach the pool.
        let pool = self.threads.pop();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        self.shared.stop_pool.store(true, Ordering::Relaxed);
        if let Some(t) = pool {
            let _ = t.join();
        }
    }
}

impl Drop for Miner {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn set_state(slot: &Slot, state: EngineState) {
    let mut ctl = lock(&slot.ctl);
    ctl.state = state;
    slot.cv.notify_all();
}

/// Waits while paused; false when the miner stops.
fn wait_unpaused(shared: &Shared, slot: &Slot) -> bool {
    let mut ctl = lock(&slot.ctl);
    while ctl.pause && !shared.stopping() {
        if ctl.state != EngineState::Paused {
            ctl.state = EngineState::Paused;
            slot.cv.notify_all();
        }
        ctl = slot
            .cv
            .wait(ctl)
            .unwrap_or_else(std::sync::PoisonError::into_inner);
    }
    !shared.stopping()
}

/// Waits for work; `None` when paused or stopping.
fn wait_work(shared: &Shared, slot: &Slot) -> Option<Arc<Work>> {
    let mut work = lock(&shared.work);
    loop {
        if shared.stopping() || lock(&slot.ctl).pause {
            return None;
        }
        if let Some(w) = work.as_ref() {
            return Some(Arc::clone(w));
        }
        {
            let mut ctl = lock(&slot.ctl);
            if ctl.state != EngineState::Waiting {
                ctl.state = EngineState::Waiting;
                slot.cv.notify_all();
            }
        }
        work = shared
            .work_cv
            .wait_timeout(work, Duration::from_millis(200))
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .0;
    }
}

/// The most hits of one search call that become shares. Only a target so
/// easy that one hash in a few thousand meets it (regtest's `207fffff` meets
/// every other one) gets near it; the rest of such a call's hits are dropped
/// rather than flooding the pool or node.
pub const MAX_HITS_PER_CHUNK: usize = 64;

/// Smallest and first chunk sizes, in nonces.
const MIN_CHUNK: u64 = 1 << 16;
const FIRST_CHUNK: u64 = 1 << 20;

fn engine_thread(shared: &Shared, i: usize, shares: &Sender<FoundShare>, chunk_time: Duration) {
    let slot = &shared.slots[i];
    let n = shared.engine_count() as u64;
    let mut chunk = FIRST_CHUNK;
    // (work, unit index k, unit, next nonce)
    let mut current: Option<(Arc<Work>, u64, Unit, u64)> = None;
    loop {
        if !wait_unpaused(shared, slot) {
            break;
        }
        let Some(work) = wait_work(shared, slot) else {
            if shared.stopping() {
                break;
            }
            continue;
        };
        let same = current
            .as_ref()
            .is_some_and(|(w, ..)| w.generation == work.generation);
        if !same {
            let unit = work.first_units[i].clone();
            current = Some((work, 0, unit, 0));
        }
        let Some((work, k, unit, next)) = current.as_mut() else {
            continue;
        };
        if *next >= NONCE_SPACE {
            *k += 1;
            *unit = Work::unit(&work.job, &work.sub, work.mask, *k * n + i as u64);
            *next = 0;
        }
        let count = chunk.min(NONCE_SPACE - *next);
        let job = Job {
            header: unit.header,
            start: *next as u32,
            count,
            target: work.search_target,
        };
        let token = CancelToken::new();
        *lock(&slot.cancel) = token.clone();
        // A pause, stop or clean job between the checks above and storing
        // the token must still stop this search.
        let newest = shared.current_work();
        if lock(&slot.ctl).pause
            || shared.stopping()
            || newest.is_none_or(|w| w.clean_generation > work.generation)
        {
            continue;
        }
        let Some(engine) = lock(&slot.engine).clone() else {
            // Released (see `Miner::release`): wait, paused, for `resume_with`.
            lock(&slot.ctl).pause = true;
            continue;
        };
        set_state(slot, EngineState::Running);
        let outcome = match engine.search(&job, &token) {
            Ok(o) => o,
            Err(e) => {
                let reason = e.to_string();
                shared.emit(MineEvent::EngineFailed {
                    engine: i,
                    reason: reason.clone(),
                });
                set_state(slot, EngineState::Failed(reason));
                return;
            }
        };
        *next += count;
        let stats = outcome.stats;
        slot.hashes.fetch_add(stats.hashes, Ordering::Relaxed);
        if stats.hashes > 0 && stats.elapsed > Duration::ZERO {
            let rate = stats.hashrate();
            slot.hashrate_bits.store(rate.to_bits(), Ordering::Relaxed);
            if !stats.cancelled {
                let want = (rate * chunk_time.as_secs_f64()) as u64;
                chunk = want.clamp(MIN_CHUNK, NONCE_SPACE);
            }
        }
        for hit in outcome.hits.iter().take(MAX_HITS_PER_CHUNK) {
            // The scalar re-check: the header rebuilt and hashed by `Header::block_hash`.
            let Some(checked) = job.verify(hit.nonce) else {
                continue;
            };
            let share_ok = work.share_target.is_met_by(checked.hash);
            let block_ok = work.block_target.is_some_and(|t| t.is_met_by(checked.hash));
            if !share_ok && !block_ok {
                continue;
            }
            slot.shares_found.fetch_add(1, Ordering::Relaxed);
            let _ = shares.send(FoundShare {
                engine: i,
                work: Arc::clone(work),
                extranonce2: unit.extranonce2.clone(),
                version_bits: unit.version_bits,
                nonce: checked.nonce,
                hash: checked.hash,
            });
        }
    }
    set_state(slot, EngineState::Stopped);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deposit_spreads_low_bits_over_the_mask() {
        assert_eq!(deposit_bits(0, VERSION_ROLLING_MASK), 0);
        assert_eq!(deposit_bits(1, VERSION_ROLLING_MASK), 0x2000);
        assert_eq!(
            deposit_bits(0xffff, VERSION_ROLLING_MASK),
            VERSION_ROLLING_MASK
        );
        assert_eq!(deposit_bits(0b101, 0b1011_0000), 0b1001_0000);
    }

    #[test]
    fn backoff_doubles_to_its_cap() {
        let b = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
        };
        assert_eq!(b.delay(0), Duration::from_millis(100));
        assert_eq!(b.delay(2), Duration::from_millis(400));
        assert_eq!(b.delay(10), Duration::from_secs(1));
        assert_eq!(b.delay(u32::MAX), Duration::from_secs(1));
    }

    #[test]
    fn units_are_distinct_and_carry_their_version_bits() {
        let job = Notify {
            job_id: "j".into(),
            prev_blockhash: crate::header::BlockHash([7; 32]),
            coinb1: vec![1, 2, 3],
            coinb2: vec![4, 5],
            merkle_branch: vec![[9; 32]],
            version: 0x2000_0004,
            bits: crate::pow::CompactTarget::from_consensus(0x1d00ffff),
            time: 1000,
            clean_jobs: true,
        };
        let sub = Subscription {
            extranonce1: vec![0xaa; 4],
            extranonce2_size: 4,
        };
        let mut seen = std::collections::HashSet::new();
        for u in 0..(1 << 17) + 3 {
            let unit = Work::unit(&job, &sub, VERSION_ROLLING_MASK, u);
            let bits = unit.version_bits.unwrap();
            assert_eq!(bits & !VERSION_ROLLING_MASK, 0);
            assert_eq!(unit.header.version as u32, 0x2000_0004 | bits);
            if u % 4096 == 0 || u > 1 << 17 {
                assert!(seen.insert((unit.extranonce2.clone(), bits)));
            }
        }
        let plain = Work::unit(&job, &sub, 0, 0x0102_0304);
        assert_eq!(plain.extranonce2, vec![1, 2, 3, 4]);
        assert_eq!(plain.version_bits, None);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// Unit `u`'s extranonce2 is `u >> r` big-endian in exactly the
        /// negotiated size, its version bits are the low `r` bits of `u` under
        /// the mask (gathered back bit by bit), and the share it makes, sent as
        /// a `mining.submit` line and read back, rebuilds the unit's header.
        #[test]
        fn unit_extranonce2_and_version_bits_round_trip(
            u in proptest::prelude::any::<u64>(),
            size in 1..=crate::stratum::MAX_EXTRANONCE2_SIZE,
            mask in proptest::prelude::any::<u32>(),
        ) {
            let job = Notify {
                job_id: "j".into(),
                prev_blockhash: crate::header::BlockHash([3; 32]),
                coinb1: vec![1, 2],
                coinb2: vec![3],
                merkle_branch: vec![[5; 32], [6; 32]],
                version: 0x2000_0000,
                bits: crate::pow::CompactTarget::from_consensus(0x1703_4219),
                time: 7,
                clean_jobs: false,
            };
            let sub = Subscription { extranonce1: vec![0xab; 4], extranonce2_size: size };
            let unit = Work::unit(&job, &sub, mask, u);
            let r = mask.count_ones();
            let en2_value = if mask == 0 { u } else { u >> r.min(63) };
            proptest::prop_assert_eq!(unit.extranonce2.len(), size);
            let value = unit.extranonce2.iter().fold(0u128, |acc, &b| acc << 8 | u128::from(b));
            let kept = if size >= 8 { u128::from(en2_value) } else { u128::from(en2_value) & ((1u128 << (8 * size)) - 1) };
            proptest::prop_assert_eq!(value, kept);
            if mask == 0 {
                proptest::prop_assert_eq!(unit.version_bits, None);
            } else {
                let bits = unit.version_bits.unwrap_or_default();
                proptest::prop_assert_eq!(bits & !mask, 0);
                let mut gathered = 0u64;
                for (k, bit) in (0..32).filter(|b| mask >> b & 1 == 1).enumerate() {
                    gathered |= u64::from(bits >> bit & 1) << k;
                }
                let low = if r >= 64 { u } else { u & ((1u64 << r) - 1) };
                proptest::prop_assert_eq!(gathered, low);
            }
            let submit = crate::stratum::Submit {
                worker: "w".into(),
                job_id: "j".into(),
                extranonce2: unit.extranonce2.clone(),
                time: job.time,
                nonce: 0,
                version_bits: unit.version_bits,
            };
            let line = serde_json::json!({"id": 1, "method": "mining.submit", "params": submit.to_params()}).to_string();
            let Ok(crate::stratum::Message::Request { params, .. }) = crate::stratum::Message::parse(&line) else {
                return Err(proptest::test_runner::TestCaseError::fail("submit line does not parse"));
            };
            let back = crate::stratum::Submit::from_params(&params);
            proptest::prop_assert_eq!(back.as_ref(), Ok(&submit));
            proptest::prop_assert_eq!(back.and_then(|s| s.header(&job, &sub, mask)), Ok(unit.header));
        }
    }
}
