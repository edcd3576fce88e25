//! The idle-time agent: one long-running process per host that gives each
//! device's idle time to mining when the economics say so, and hands the
//! device back within one engine batch when AI work appears.
//!
//! Per device it keeps a state ([`State`]): **mining**, **paused** (a
//! trigger says AI work wants the device: `POST /pause`, `SIGUSR1`, a
//! `--busy-when` probe, or NVML compute processes on that GPU) or **idle**
//! (the decision says mining does not pay). Triggers win over the decision;
//! the decision ([`decide`]) uses [`crate::economics::evaluate`] on current
//! inputs with a minimum margin and a minimum dwell time.
//!
//! Every hash, share, joule, state change and decision goes into the books
//! ([`books`]), an append-only JSON-lines file whose last record after a
//! stop is `{"event":"stopped", "totals": ...}`. The HTTP endpoint serves
//! `/metrics` ([`metrics`], OpenMetrics), `/status`, `/pause`, `/resume`,
//! `/healthz` and `/readyz`.

pub mod books;
pub mod decide;
mod http;
pub mod metrics;
mod watch;
pub mod work;

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Value, json};

use crate::backend::{self, BackendChoice, EngineOptions};
use crate::economics::live::{self, LiveInputs, LiveSources, LiveValue};
use crate::economics::presets::network;
use crate::energy::{self, MeterKind, MeterOptions, PowerMeter, PowerOverride, Window};
use crate::search::{CancelToken, Engine};

use crate::mine::{MineEvent, Miner, ShareStatus};
use books::{Books, DeviceTotals, Totals, unix_now};
use decide::{Dwell, Input, Inputs, Policy, PowerPrice, Verdict};
use metrics::{DeviceLabel, Metrics, ShareLabels, energy_labels};
use work::AgentWork;

/// When the cited network defaults were true: 12 Jan 2026 00:00 UTC, the
/// date of [`network::SOURCE`].
const PRESET_AS_OF: f64 = 1_768_176_000.0;

/// Errors of the agent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AgentError {
    /// A `--device` that is not `cpu`, `gpu` or `gpu:N`.
    #[error("invalid --device {spec:?}: {reason}")]
    Device {
        /// What was given.
        spec: String,
        /// Why it is refused.
        reason: String,
    },
    /// The books file.
    #[error("books {}: {reason}", path.display())]
    Books {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The power schedule file.
    #[error("power schedule {file}{}: {reason}", if *line > 0 { format!(" line {line}") } else { String::new() })]
    Schedule {
        /// The file.
        file: String,
        /// The line (0: the whole file).
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// Inputs the economics model refuses.
    #[error("economics: {0}")]
    Economics(String),
    /// The HTTP endpoint.
    #[error("--listen {addr}: {reason}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why it cannot be used.
        reason: String,
    },
    /// A setting that cannot work.
    #[error("{0}")]
    Config(String),
    /// A device's engine or meter failed.
    #[error("device {device}: {reason}")]
    Engine {
        /// The device.
        device: String,
        /// What failed.
        reason: String,
    },
    /// No work.
    #[error("work: {0}")]
    Work(String),
}

/// A device the agent is given (`--device`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum DeviceSpec {
    /// The CPU, with its fastest kernel.
    Cpu,
    /// A GPU: the best adapter, or adapter `N` as `devices` lists them.
    Gpu(Option<usize>),
}

impl FromStr for DeviceSpec {
    type Err = AgentError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |reason: &str| AgentError::Device {
            spec: s.to_string(),
            reason: reason.to_string(),
        };
        match s {
            "cpu" => Ok(DeviceSpec::Cpu),
            "gpu" => Ok(DeviceSpec::Gpu(None)),
            _ => {
                let n = s
                    .strip_prefix("gpu:")
                    .ok_or_else(|| bad("expected cpu, gpu or gpu:N"))?;
                n.parse()
                    .map(|n| DeviceSpec::Gpu(Some(n)))
                    .map_err(|_| bad("N in gpu:N is an adapter index (see `hashwatt devices`)"))
            }
        }
    }
}

impl fmt::Display for DeviceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceSpec::Cpu => f.write_str("cpu"),
            DeviceSpec::Gpu(None) => f.write_str("gpu"),
            DeviceSpec::Gpu(Some(n)) => write!(f, "gpu:{n}"),
        }
    }
}

/// What a device is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Hashing.
    Mining,
    /// Handed back: a trigger says other work wants the device.
    Paused,
    /// Off the device by decision: mining does not pay.
    Idle,
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            State::Mining => "mining",
            State::Paused => "paused",
            State::Idle => "idle",
        })
    }
}

/// What can pause a device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// `POST /pause` or `SIGUSR1` (cleared by `/resume` or `SIGUSR2`).
    Manual,
    /// The `--busy-when` command said busy.
    Probe,
    /// NVML saw another compute process on this GPU.
    Nvml,
}

impl Trigger {
    fn label(self) -> &'static str {
        match self {
            Trigger::Manual => "manual",
            Trigger::Probe => "busy-when",
            Trigger::Nvml => "nvml",
        }
    }
}

/// The agent's settings.
#[derive(Clone, Debug)]
pub struct AgentConfig {
    /// Devices to mine on.
    pub devices: Vec<DeviceSpec>,
    /// CPU worker threads (`None`: one per core).
    pub threads: Option<usize>,
    /// GPU batch time, ms (`None`: the engine's default).
    pub batch_ms: Option<u32>,
    /// The books file.
    pub books: PathBuf,
    /// HTTP address.
    pub listen: SocketAddr,
    /// Bearer token for `/status`, `/pause`, `/resume`; required when
    /// `listen` is not a loopback address.
    pub token: Option<String>,
    /// Power price.
    pub power: PowerPrice,
    /// BTC price, USD (`None`: the cited default).
    pub btc_price: Option<f64>,
    /// Network difficulty (`None`: from the work's nBits).
    pub difficulty: Option<f64>,
    /// Margin and dwell rules.
    pub policy: Policy,
    /// Modeled mining power (replaces the meter).
    pub mining_watts: Option<PowerOverride>,
    /// How often to decide again.
    pub decide_every: Duration,
    /// How often to write a checkpoint record with the totals.
    pub checkpoint_every: Duration,
    /// Longest engine call between checks for new work and accounting.
    pub slice: Duration,
    /// `sh -c COMMAND`: exit status 0 means the device is busy.
    pub busy_when: Option<String>,
    /// How often to run the probe.
    pub busy_every: Duration,
    /// Keep the engine (GPU memory) while paused or idle.
    pub keep_gpu_memory: bool,
    /// Watch NVML for other compute processes on each NVIDIA GPU.
    pub watch_nvml: bool,
    /// With NVML: pause only while another process keeps at least this
    /// percentage of the SMs busy (`None`: while any other compute process
    /// runs there). Sampled every 250 ms, so the hand-back then starts up to
    /// a few hundred milliseconds after the other work does.
    pub nvml_min_sm_pct: Option<u32>,
    /// Live network inputs (`--live`): refreshed at start and every
    /// `decide_every`, off the control path.
    pub live: Option<LiveConfig>,
}

/// Where the agent's live inputs come from (`--live`).
#[derive(Clone, Debug)]
pub struct LiveConfig {
    /// The node and/or REST API to ask.
    pub sources: LiveSources,
    /// The live cache file (values when no source answers).
    pub cache: PathBuf,
}

/// A hook that sees every books record (the CLI prints them with `--json`).
pub type EventSink = Box<dyn Fn(&Value) + Send + Sync>;

/// One device's shared control block.
struct Slot {
    name: String,
    ctl: Mutex<Ctl>,
    cv: Condvar,
}

#[derive(Default)]
struct Ctl {
    manual: bool,
    probe: bool,
    nvml: bool,
    /// The decision says mine (`None`: not decided yet; mine to measure).
    mine: Option<bool>,
    stop: bool,
    state: Option<State>,
    since: f64,
    entered: Option<Instant>,
    /// The token of the engine call in flight, if any.
    run: Option<CancelToken>,
    /// When a pause was asked for and by whom, until the engine returns.
    pause_at: Option<(Instant, &'static str)>,
    /// The last hand-back latency, for the next state record.
    last_yield: Option<Duration>,
    totals: DeviceTotals,
    hashrate: f64,
    mined_seconds_measured: f64,
    hashes_measured: u64,
    joules_measured: f64,
    verdict: Option<Verdict>,
    dwell: Dwell,
    held: bool,
    ready: bool,
    error: Option<String>,
    backend: String,
    pci_bus_id: Option<String>,
}

impl Ctl {
    fn desired(&self) -> Option<State> {
        if self.stop {
            None
        } else if self.manual || self.probe || self.nvml {
            Some(State::Paused)
        } else if self.mine == Some(false) || self.error.is_some() {
            Some(State::Idle)
        } else {
            Some(State::Mining)
        }
    }

    fn paused_by(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        for (on, t) in [
            (self.manual, Trigger::Manual),
            (self.probe, Trigger::Probe),
            (self.nvml, Trigger::Nvml),
        ] {
            if on {
                v.push(t.label());
            }
        }
        v
    }

    /// Adds the time since the last accounting to the current state.
    fn account_time(&mut self, now: Instant) {
        if let (Some(state), Some(entered)) = (self.state, self.entered) {
            let s = now.saturating_duration_since(entered).as_secs_f64();
            match state {
                State::Mining => self.totals.seconds_mining += s,
                State::Paused => self.totals.seconds_paused += s,
                State::Idle => self.totals.seconds_idle += s,
            }
        }
        self.entered = Some(now);
    }
}

/// Current money rates for the books.
#[derive(Clone, Copy, Debug, Default)]
struct Rates {
    revenue_usd_per_hash: f64,
    cost_usd_per_joule: f64,
}

struct Shared {
    config: AgentConfig,
    slots: Vec<Slot>,
    books: Mutex<Books>,
    sink: Option<EventSink>,
    metrics: Metrics,
    work: AgentWork,
    /// Network difficulty from the work (pool job or fixed header).
    network: Mutex<Option<Input>>,
    rates: Mutex<Rates>,
    inputs: Mutex<Option<Inputs>>,
    /// The latest live inputs (`--live`), and whether they came after the
    /// last decision.
    live: Mutex<Option<LiveInputs>>,
    live_fresh: AtomicBool,
    stopping: AtomicBool,
    stop_token: CancelToken,
    started: f64,
    notes: Mutex<Vec<String>>,
    /// The pool miner (pool mode), started and released as devices need it.
    pool: Mutex<PoolInner>,
    /// Why and when (Unix seconds) a stop was asked for.
    stop_reason: Mutex<Option<(String, f64)>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A worker that panicked must not take the books down with it.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    /// A device's engine failed (to open, or while hashing): the device goes
    /// idle with the error in its status, the books say so, and waiters wake.
    fn device_failed(&self, slot: &Slot, error: &dyn std::fmt::Display) {
        let mut c = lock(&slot.ctl);
        c.error = Some(error.to_string());
        c.run = None;
        drop(c);
        self.record(
            "error",
            json!({"device": slot.name, "error": error.to_string()}),
        );
        slot.cv.notify_all();
    }

    fn record(&self, event: &str, fields: Value) {
        let mut books = lock(&self.books);
        let mut obj = serde_json::Map::new();
        obj.insert("time".into(), json!(unix_now()));
        obj.insert("event".into(), json!(event));
        if let Value::Object(map) = &fields {
            obj.extend(map.clone());
        }
        if let Err(e) = books.record(event, fields) {
            eprintln!("hashwatt agent: {e}");
        }
        drop(books);
        if let Some(sink) = &self.sink {
            sink(&Value::Object(obj));
        }
    }

    fn totals(&self) -> Totals {
        let mut t = Totals::default();
        for slot in &self.slots {
            let mut c = lock(&slot.ctl);
            c.account_time(Instant::now());
            t.devices.insert(slot.name.clone(), c.totals.clone());
        }
        t.sum();
        t
    }

    fn slot_index(&self, name: &str) -> Option<usize> {
        self.slots.iter().position(|s| s.name == name)
    }

    /// Sets or clears a trigger on some devices; a pause cancels the engine
    /// call in flight.
    fn set_trigger(&self, devices: &[usize], trigger: Trigger, on: bool) {
        for &i in devices {
            let slot = &self.slots[i];
            let mut c = lock(&slot.ctl);
            let flag = match trigger {
                Trigger::Manual => &mut c.manual,
                Trigger::Probe => &mut c.probe,
                Trigger::Nvml => &mut c.nvml,
            };
            if *flag == on {
                continue;
            }
            *flag = on;
            if on {
                c.last_yield = None;
                self.cancel_run(&mut c, trigger.label());
            }
            drop(c);
            self.record(
                "trigger",
                json!({"device": slot.name, "trigger": trigger.label(), "on": on}),
            );
            slot.cv.notify_all();
        }
    }

    fn cancel_run(&self, c: &mut Ctl, why: &'static str) {
        if let Some(run) = &c.run {
            if c.pause_at.is_none() {
                c.pause_at = Some((Instant::now(), why));
            }
            run.cancel();
        }
    }

    /// Waits until none of `devices` has an engine call in flight that should
    /// not be running, up to `limit`; returns each device's hand-back latency.
    fn wait_yield(&self, devices: &[usize], limit: Duration) -> Vec<(String, Option<Duration>)> {
        let deadline = Instant::now() + limit;
        devices
            .iter()
            .map(|&i| {
                let slot = &self.slots[i];
                let mut c = lock(&slot.ctl);
                loop {
                    // Settled: no engine call in flight and the state record
                    // written (or stopping).
                    let want = c.desired();
                    let settled = c.run.is_none() && (want.is_none() || c.state == want);
                    if settled || want == Some(State::Mining) {
                        break;
                    }
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    c = slot
                        .cv
                        .wait_timeout(c, left)
                        .map(|(g, _)| g)
                        .unwrap_or_else(|e| e.into_inner().0);
                }
                (slot.name.clone(), c.last_yield)
            })
            .collect()
    }

    fn current_inputs(&self, now: f64) -> Inputs {
        let cfg = &self.config;
        let live = lock(&self.live).clone().unwrap_or_default();
        let from_live = |v: &Option<LiveValue>| {
            v.as_ref().map(|v| {
                Input::new(
                    v.value,
                    live::describe(v, now.max(0.0) as u64),
                    v.as_of as f64,
                )
            })
        };
        // A flag wins, then the pool's nBits, then --live, then the default.
        let difficulty = match cfg.difficulty {
            Some(d) => Input::new(d, "--difficulty", self.started),
            None => match lock(&self.network).clone().or(from_live(&live.difficulty)) {
                Some(input) => input,
                None => Input::new(
                    network::DIFFICULTY,
                    format!("default: {}", network::SOURCE),
                    PRESET_AS_OF,
                ),
            },
        };
        let btc_price_usd = match cfg.btc_price {
            Some(p) => Input::new(p, "--btc-price", self.started),
            None => from_live(&live.btc_price_usd).unwrap_or_else(|| {
                Input::new(
                    network::BTC_PRICE_USD,
                    format!("default: {}", network::SOURCE),
                    PRESET_AS_OF,
                )
            }),
        };
        Inputs {
            difficulty,
            btc_price_usd,
            electricity_usd_per_kwh: cfg.power.at(now, self.started),
            fees_btc_per_block: from_live(&live.fees_btc_per_block),
            height: from_live(&live.height),
        }
    }

    /// Asks the live sources once (`--live`) and keeps what they gave for
    /// the next decision.
    fn refresh_live(&self, cfg: &LiveConfig) {
        let now = live::now();
        let got = live::refresh(&cfg.sources, &cfg.cache, now);
        if self.stopping.load(Ordering::SeqCst) {
            return;
        }
        let inputs: serde_json::Map<String, Value> = got
            .inputs
            .entries()
            .into_iter()
            .map(|(key, v)| {
                (
                    key.to_string(),
                    json!({"value": v.value, "source": live::describe(v, now), "as_of": v.as_of}),
                )
            })
            .collect();
        self.record(
            "live",
            json!({
                "used": got.used,
                "inputs": inputs,
                "errors": got.errors,
                "cache": cfg.cache.display().to_string(),
            }),
        );
        *lock(&self.live) = Some(got.inputs);
        self.live_fresh.store(true, Ordering::SeqCst);
    }

    /// Re-decides every device on current inputs.
    fn decide(&self) {
        let now = unix_now();
        let inputs = self.current_inputs(now);
        for (label, input) in [
            ("difficulty", Some(&inputs.difficulty)),
            ("btc_price_usd", Some(&inputs.btc_price_usd)),
            (
                "electricity_usd_per_kwh",
                Some(&inputs.electricity_usd_per_kwh),
            ),
            ("fees_btc_per_block", inputs.fees_btc_per_block.as_ref()),
            ("height", inputs.height.as_ref()),
        ]
        .into_iter()
        .filter_map(|(l, i)| i.map(|i| (l, i)))
        {
            self.metrics
                .inputs_as_of
                .get_or_create(&metrics::InputLabel {
                    input: label.into(),
                })
                .set(input.as_of);
        }
        // Per-hash and per-joule rates do not depend on the hash rate.
        match decide::verdict(&inputs, 1.0, 1.0) {
            Ok(v) => {
                *lock(&self.rates) = Rates {
                    revenue_usd_per_hash: v.revenue_usd_per_hash,
                    cost_usd_per_joule: v.cost_usd_per_joule,
                };
            }
            Err(e) => self.record("error", json!({"error": e.to_string()})),
        }
        for slot in &self.slots {
            let mut c = lock(&slot.ctl);
            if c.mined_seconds_measured < 0.5 || c.error.is_some() {
                continue; // not measured yet: keep mining to measure.
            }
            let hashrate = c.hashes_measured as f64 / c.mined_seconds_measured;
            let watts = c.joules_measured / c.mined_seconds_measured;
            let v = match decide::verdict(&inputs, hashrate, watts) {
                Ok(v) => v,
                Err(e) => {
                    drop(c);
                    self.record(
                        "error",
                        json!({"device": slot.name, "error": e.to_string()}),
                    );
                    continue;
                }
            };
            let (mine, held) =
                c.dwell
                    .decide(&self.config.policy, v.margin_usd_per_hour, Instant::now());
            let changed = c.mine != Some(mine);
            c.mine = Some(mine);
            c.held = held;
            self.metrics
                .margin
                .get_or_create(&DeviceLabel {
                    device: slot.name.clone(),
                })
                .set(v.margin_usd_per_hour);
            c.verdict = Some(v.clone());
            if !mine {
                self.cancel_run(&mut c, "decision");
            }
            drop(c);
            self.record(
                "decision",
                json!({
                    "device": slot.name,
                    "choice": if mine { "mine" } else { "idle" },
                    "changed": changed,
                    "held_by_dwell": held,
                    "verdict": v,
                    "inputs": inputs,
                    "policy": {
                        "min_margin_usd_per_hour": self.config.policy.min_margin_usd_per_hour,
                        "min_dwell_s": self.config.policy.min_dwell.as_secs_f64(),
                    },
                }),
            );
            slot.cv.notify_all();
        }
        *lock(&self.inputs) = Some(inputs);
    }

    fn status(&self) -> Value {
        let devices: Vec<Value> = self
            .slots
            .iter()
            .map(|slot| {
                let c = lock(&slot.ctl);
                json!({
                    "device": slot.name,
                    "state": c.state.unwrap_or(State::Idle),
                    "hashrate": if c.state == Some(State::Mining) { c.hashrate } else { 0.0 },
                    "shares": {
                        "accepted": c.totals.accepted,
                        "rejected": c.totals.rejected,
                        "stale": c.totals.stale,
                        "found": c.totals.found,
                    },
                    "since": c.since,
                    "paused_by": c.paused_by(),
                    "backend": c.backend,
                    "pci_bus_id": c.pci_bus_id,
                    "error": c.error,
                    "hashes": c.totals.hashes,
                    "last_yield_ms": c.last_yield.map(|d| d.as_secs_f64() * 1e3),
                })
            })
            .collect();
        let decisions: serde_json::Map<String, Value> = self
            .slots
            .iter()
            .map(|slot| {
                let c = lock(&slot.ctl);
                (
                    slot.name.clone(),
                    json!({
                        "choice": match c.mine { Some(true) => "mine", Some(false) => "idle", None => "measuring" },
                        "held_by_dwell": c.held,
                        "verdict": c.verdict,
                    }),
                )
            })
            .collect();
        json!({
            "devices": devices,
            "decision": {
                "inputs": *lock(&self.inputs),
                "devices": decisions,
                "policy": {
                    "min_margin_usd_per_hour": self.config.policy.min_margin_usd_per_hour,
                    "min_dwell_s": self.config.policy.min_dwell.as_secs_f64(),
                },
            },
            "work": self.work.describe(),
            "books": lock(&self.books).path().display().to_string(),
        })
    }

    fn ready(&self) -> bool {
        self.slots.iter().all(|s| {
            let c = lock(&s.ctl);
            c.ready && c.error.is_none()
        })
    }
}

/// A handle to a running agent: pause, resume, stop, status.
#[derive(Clone)]
pub struct Control {
    shared: Arc<Shared>,
}

impl Control {
    fn select(&self, device: Option<&str>) -> Result<Vec<usize>, AgentError> {
        match device {
            None => Ok((0..self.shared.slots.len()).collect()),
            Some(d) => self.shared.slot_index(d).map(|i| vec![i]).ok_or_else(|| {
                let known: Vec<_> = self.shared.slots.iter().map(|s| s.name.as_str()).collect();
                AgentError::Device {
                    spec: d.to_string(),
                    reason: format!("not one of this agent's devices ({})", known.join(", ")),
                }
            }),
        }
    }

    /// Pauses the device (all with `None`), waits until its engine has
    /// stopped hashing, and returns each device's hand-back latency.
    ///
    /// # Errors
    /// [`AgentError::Device`] for a device this agent does not have.
    pub fn pause(
        &self,
        device: Option<&str>,
    ) -> Result<Vec<(String, Option<Duration>)>, AgentError> {
        let ids = self.select(device)?;
        self.shared.set_trigger(&ids, Trigger::Manual, true);
        Ok(self.shared.wait_yield(&ids, Duration::from_secs(5)))
    }

    /// Clears a manual pause (other triggers may still hold the device).
    ///
    /// # Errors
    /// [`AgentError::Device`] for a device this agent does not have.
    pub fn resume(&self, device: Option<&str>) -> Result<Vec<String>, AgentError> {
        let ids = self.select(device)?;
        self.shared.set_trigger(&ids, Trigger::Manual, false);
        Ok(ids
            .iter()
            .map(|&i| self.shared.slots[i].name.clone())
            .collect())
    }

    /// Asks the agent to stop: engines stop within one batch, then the
    /// final record is written and [`Agent::run`] returns.
    pub fn stop(&self) {
        self.stop_for("requested");
    }

    /// [`Control::stop`], saying why in the final record (`SIGTERM`,
    /// `--duration`, ...).
    pub fn stop_for(&self, reason: &str) {
        lock(&self.shared.stop_reason).get_or_insert_with(|| (reason.to_string(), unix_now()));
        self.shared.stopping.store(true, Ordering::SeqCst);
        self.shared.stop_token.cancel();
        for slot in &self.shared.slots {
            let mut c = lock(&slot.ctl);
            c.stop = true;
            self.shared.cancel_run(&mut c, "stop");
            drop(c);
            slot.cv.notify_all();
        }
    }

    /// The `/status` document.
    pub fn status(&self) -> Value {
        self.shared.status()
    }

    /// The OpenMetrics text.
    ///
    /// # Errors
    /// A formatting error from the encoder.
    pub fn metrics(&self) -> Result<String, std::fmt::Error> {
        self.shared.metrics.encode()
    }

    /// Whether every device's engine is open and working.
    pub fn ready(&self) -> bool {
        self.shared.ready()
    }
}

/// The agent.
pub struct Agent {
    shared: Arc<Shared>,
    server: Arc<tiny_http::Server>,
}

impl Agent {
    /// Checks the settings, opens the books (reading back their totals) and
    /// binds the HTTP endpoint. Engines open when [`Agent::run`] starts.
    ///
    /// # Errors
    /// [`AgentError::Config`] for no device or a device given twice,
    /// [`AgentError::Listen`] for a non-loopback address without a token or
    /// an address that cannot be bound, [`AgentError::Books`] for a books
    /// file that cannot be used.
    pub fn new(
        config: AgentConfig,
        work: AgentWork,
        sink: Option<EventSink>,
    ) -> Result<Agent, AgentError> {
        if config.devices.is_empty() {
            return Err(AgentError::Config("no --device given".into()));
        }
        let mut names: Vec<String> = Vec::new();
        for d in &config.devices {
            let n = d.to_string();
            if names.contains(&n) {
                return Err(AgentError::Config(format!("--device {n} given twice")));
            }
            names.push(n);
        }
        if !config.listen.ip().is_loopback() && config.token.is_none() {
            return Err(AgentError::Listen {
                addr: config.listen,
                reason: "listening beyond loopback needs --token-file (bearer token for /status, /pause, /resume)".into(),
            });
        }
        let (books, restored) = Books::open(&config.books)?;
        let server = tiny_http::Server::http(config.listen).map_err(|e| AgentError::Listen {
            addr: config.listen,
            reason: e.to_string(),
        })?;
        let metrics = Metrics::new();
        let now = unix_now();
        let slots = names
            .iter()
            .map(|n| {
                let totals = restored.devices.get(n).cloned().unwrap_or_default();
                let measured = totals.joules_source.starts_with("measured");
                metrics.restore(n, &totals, measured);
                Slot {
                    name: n.clone(),
                    ctl: Mutex::new(Ctl {
                        totals,
                        since: now,
                        ..Ctl::default()
                    }),
                    cv: Condvar::new(),
                }
            })
            .collect();
        // A fixed header's nBits says nothing about today's network: its
        // decision uses --difficulty or the cited default.
        let network = None;
        let shared = Arc::new(Shared {
            config,
            slots,
            books: Mutex::new(books),
            sink,
            metrics,
            work,
            network: Mutex::new(network),
            rates: Mutex::new(Rates::default()),
            inputs: Mutex::new(None),
            live: Mutex::new(None),
            live_fresh: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            stop_token: CancelToken::new(),
            started: now,
            notes: Mutex::new(Vec::new()),
            stop_reason: Mutex::new(None),
            pool: Mutex::new(PoolInner::default()),
        });
        Ok(Agent {
            shared,
            server: Arc::new(server),
        })
    }

    /// The address the HTTP endpoint is bound to (useful with port 0).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.server.server_addr().to_ip()
    }

    /// A handle to pause, resume, stop and query the agent.
    pub fn control(&self) -> Control {
        Control {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Runs until [`Control::stop`]: one thread per device, the HTTP
    /// endpoint, the probe and NVML watchers; then writes the final
    /// `stopped` record and returns the totals.
    ///
    /// # Errors
    /// [`AgentError::Books`] when the final record cannot be written.
    pub fn run(self) -> Result<Totals, AgentError> {
        let shared = &self.shared;
        let restored = shared.totals();
        shared.record(
            "started",
            json!({
                "host": hostname(),
                "devices": shared.slots.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
                "work": shared.work.describe(),
                "listen": shared.config.listen.to_string(),
                "version": env!("CARGO_PKG_VERSION"),
                "restored_totals": restored,
            }),
        );
        shared.decide();
        let http = {
            let control = self.control();
            let server = Arc::clone(&self.server);
            thread::Builder::new()
                .name("agent-http".into())
                .spawn(move || http::serve(&server, &control))
                .map_err(|e| AgentError::Config(format!("cannot start the HTTP thread: {e}")))?
        };
        let (pool_mode, mut meters) = match &shared.work {
            AgentWork::Fixed(_) => (false, Vec::new()),
            AgentWork::Pools(config) => match start_miner(shared, config.clone()) {
                Ok((m, meters, events)) => {
                    let mut p = lock(&shared.pool);
                    p.miner = Some(m);
                    p.generation = 1;
                    p.started_paused = vec![false; shared.slots.len()];
                    p.events.push(events);
                    (true, meters)
                }
                Err(e) => {
                    shared.stopping.store(true, Ordering::SeqCst);
                    let _ = http.join();
                    shared.record("error", json!({"error": e.to_string()}));
                    return Err(e);
                }
            },
        };
        let mut workers = Vec::new();
        for i in 0..shared.slots.len() {
            let s = Arc::clone(shared);
            let meter = meters.get_mut(i).and_then(Option::take);
            let h = thread::Builder::new()
                .name(format!("agent-{}", shared.slots[i].name))
                .spawn(move || match meter {
                    Some(meter) if pool_mode => pool_device_loop(&s, i, meter),
                    _ => fixed_device_loop(&s, i),
                })
                .map_err(|e| AgentError::Config(format!("cannot start a device thread: {e}")))?;
            workers.push(h);
        }
        let mut watchers = Vec::new();
        if let Some(cmd) = shared.config.busy_when.clone() {
            let s = Arc::clone(shared);
            watchers.push(thread::spawn(move || watch::probe_loop(&s, &cmd)));
        }
        if shared.config.watch_nvml {
            let s = Arc::clone(shared);
            watchers.push(thread::spawn(move || watch::nvml_loop(&s)));
        }
        if let Some(cfg) = shared.config.live.clone() {
            // Off the control path: a slow source delays the next decision's
            // inputs, never a pause or a stop (the thread is not joined; it
            // records nothing once the agent is stopping).
            let s = Arc::clone(shared);
            drop(thread::spawn(move || {
                while !s.stopping.load(Ordering::SeqCst) {
                    s.refresh_live(&cfg);
                    let next = Instant::now() + s.config.decide_every;
                    while Instant::now() < next && !s.stopping.load(Ordering::SeqCst) {
                        thread::sleep(Duration::from_millis(50));
                    }
                }
            }));
        }

        let mut last_decide = Instant::now();
        let mut last_checkpoint = Instant::now();
        let mut decided_after_measuring = false;
        while !shared.stopping.load(Ordering::SeqCst) {
            thread::sleep(Duration::from_millis(100));
            let measured_all = shared
                .slots
                .iter()
                .all(|s| lock(&s.ctl).mined_seconds_measured >= 0.5);
            if last_decide.elapsed() >= shared.config.decide_every
                || (!decided_after_measuring && measured_all)
                || shared.live_fresh.swap(false, Ordering::SeqCst)
            {
                decided_after_measuring |= measured_all;
                shared.decide();
                last_decide = Instant::now();
            }
            if pool_mode && !shared.config.keep_gpu_memory {
                release_miner_if_all_off(shared);
            }
            if last_checkpoint.elapsed() >= shared.config.checkpoint_every {
                let totals = shared.totals();
                shared.record("checkpoint", json!({"totals": totals}));
                last_checkpoint = Instant::now();
            }
        }
        for w in workers {
            let _ = w.join();
        }
        // The device threads have paused every engine; dropping the miner
        // ends the pool connection, and with it the event streams.
        let (miner, events) = {
            let mut p = lock(&shared.pool);
            (p.miner.take(), std::mem::take(&mut p.events))
        };
        if let Some(miner) = miner {
            match Arc::try_unwrap(miner) {
                Ok(m) => drop(m.stop()),
                Err(m) => drop(m),
            }
        }
        for e in events {
            let _ = e.join();
        }
        for w in watchers {
            let _ = w.join();
        }
        let totals = shared.totals();
        let notes = lock(&shared.notes).clone();
        let (reason, asked) = lock(&shared.stop_reason).clone().unzip();
        let record = json!({
            "totals": totals,
            "stopped_by": reason,
            "stop_asked_at": asked,
            "notes": notes,
        });
        lock(&shared.books).record("stopped", record.clone())?;
        if let Some(sink) = &shared.sink {
            let mut line = json!({"time": unix_now(), "event": "stopped"});
            if let (Some(l), Value::Object(r)) = (line.as_object_mut(), record) {
                l.extend(r);
            }
            sink(&line);
        }
        self.server.unblock();
        let _ = http.join();
        Ok(totals)
    }
}

/// This host's name (Linux: the kernel's; else `HOSTNAME`), for the books.
fn hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
}

/// An opened device: its engine and the meter for its mining energy.
struct Rig {
    engine: Box<dyn Engine>,
    meter: Box<dyn PowerMeter>,
    measured: bool,
    utilization: f64,
}

fn open_rig(shared: &Shared, i: usize) -> Result<(Rig, String, Option<String>), AgentError> {
    let cfg = &shared.config;
    let name = &shared.slots[i].name;
    let fail = |reason: String| AgentError::Engine {
        device: name.clone(),
        reason,
    };
    // Both kinds open through `backend::open`, so a build without the `gpu`
    // feature refuses `--device gpu` with `BackendError::GpuNotBuilt`.
    let (choice, options) = match cfg.devices[i] {
        DeviceSpec::Cpu => (
            BackendChoice::Cpu,
            EngineOptions {
                threads: cfg.threads,
                ..EngineOptions::default()
            },
        ),
        DeviceSpec::Gpu(n) => (
            BackendChoice::Gpu,
            EngineOptions {
                adapter: n.map(|n| n.to_string()),
                batch_time: cfg.batch_ms.map(|ms| Duration::from_millis(u64::from(ms))),
                ..EngineOptions::default()
            },
        ),
    };
    let engine = backend::open(choice, &options)
        .map_err(|e| fail(e.to_string()))?
        .engine;
    let bus = engine.pci_bus_id();
    let logical = thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let device = backend::energy_device(engine.as_ref(), logical);
    let options = MeterOptions {
        cpu_watts: cfg.mining_watts,
        gpu_watts: cfg.mining_watts,
        ..MeterOptions::default()
    };
    let selected = energy::open_meter(MeterKind::Auto, &device, &options)
        .map_err(|e| fail(format!("{e} (or give --mining-watts WATTS to model it)")))?;
    if let Some(note) = selected.note {
        let note = format!("{name}: {note}");
        let mut notes = lock(&shared.notes);
        if !notes.contains(&note) {
            notes.push(note);
        }
    }
    let source = selected.meter.source();
    let utilization = device.utilization(engine.threads());
    let backend = engine.name();
    Ok((
        Rig {
            engine,
            measured: source.is_measured(),
            meter: selected.meter,
            utilization,
        },
        format!("{backend} ({}) energy {source}", device),
        bus,
    ))
}

/// One device's life: wait while paused or idle, mine in slices while
/// mining, account every slice.
fn fixed_device_loop(shared: &Arc<Shared>, i: usize) {
    let AgentWork::Fixed(work) = &shared.work else {
        return;
    };
    let slot = &shared.slots[i];
    let cfg = &shared.config;
    let mut rig: Option<Rig> = None;
    let mut per_slice: u64 = 1 << 16;
    loop {
        // Wait until the device should mine; record state changes.
        let token = {
            let mut c = lock(&slot.ctl);
            loop {
                match c.desired() {
                    None => {
                        c.account_time(Instant::now());
                        return;
                    }
                    Some(State::Mining) => break,
                    Some(s) => {
                        if c.state != Some(s) {
                            transition(shared, slot, &mut c, s);
                        }
                        if !cfg.keep_gpu_memory && rig.is_some() {
                            rig = None; // frees the engine's GPU buffers
                        }
                        c = slot
                            .cv
                            .wait_timeout(c, Duration::from_millis(500))
                            .map(|(g, _)| g)
                            .unwrap_or_else(|e| e.into_inner().0);
                    }
                }
            }
            if c.state != Some(State::Mining) {
                transition(shared, slot, &mut c, State::Mining);
            }
            let t = CancelToken::new();
            c.run = Some(t.clone());
            t
        };
        if rig.is_none() {
            match open_rig(shared, i) {
                Ok((r, backend, bus)) => {
                    let mut c = lock(&slot.ctl);
                    c.ready = true;
                    c.backend = backend.clone();
                    c.pci_bus_id.clone_from(&bus);
                    if c.totals.joules_source.is_empty() {
                        c.totals.joules_source =
                            if r.measured { "measured" } else { "modeled" }.into();
                    }
                    drop(c);
                    shared.record(
                        "engine",
                        json!({"device": slot.name, "backend": backend, "pci_bus_id": bus}),
                    );
                    rig = Some(r);
                }
                Err(e) => {
                    shared.device_failed(slot, &e);
                    continue;
                }
            }
        }
        let Some(r) = rig.as_mut() else { continue };
        // Mine slices until a pause, a decision or a stop cancels the token.
        while !token.is_cancelled() {
            let job = match work.next_job(i, per_slice) {
                Ok(j) => j,
                Err(e) => {
                    shared.record(
                        "error",
                        json!({"device": slot.name, "error": e.to_string()}),
                    );
                    thread::sleep(Duration::from_millis(200));
                    continue;
                }
            };
            let _ = r.meter.start();
            let t0 = Instant::now();
            let result = r
                .engine
                .search(&job, &token.child_with_deadline(t0 + cfg.slice));
            let returned = Instant::now();
            let elapsed = returned - t0;
            let joules = r
                .meter
                .stop(Window {
                    elapsed,
                    utilization: r.utilization,
                })
                .map_or(0.0, |j| j.0);
            let out = match result {
                Ok(out) => out,
                Err(e) => {
                    let mut c = lock(&slot.ctl);
                    c.error = Some(e.to_string());
                    drop(c);
                    shared.record(
                        "error",
                        json!({"device": slot.name, "error": e.to_string()}),
                    );
                    rig = None;
                    break;
                }
            };
            // Every hit is re-checked on the scalar path before it goes out.
            // No pool: a checked hit is counted as found.
            let results: Vec<_> = out
                .hits
                .iter()
                .filter_map(|hit| job.verify(hit.nonce))
                .map(|checked| (checked, "found"))
                .collect();
            let rates = *lock(&shared.rates);
            let mut c = lock(&slot.ctl);
            let t = &mut c.totals;
            t.hashes += out.stats.hashes;
            t.joules += joules;
            t.revenue_usd += out.stats.hashes as f64 * rates.revenue_usd_per_hash;
            t.power_cost_usd += joules * rates.cost_usd_per_joule;
            t.found += results.len() as u64;
            c.hashes_measured += out.stats.hashes;
            c.mined_seconds_measured += elapsed.as_secs_f64();
            c.joules_measured += joules;
            c.hashrate = out.stats.hashrate();
            let cancelled_by_pause = token.is_cancelled();
            if cancelled_by_pause && let Some((at, _)) = c.pause_at.take() {
                let latency = returned.saturating_duration_since(at);
                c.last_yield = Some(latency);
                shared
                    .metrics
                    .yield_latency
                    .get_or_create(&DeviceLabel {
                        device: slot.name.clone(),
                    })
                    .observe(latency.as_secs_f64());
            }
            if cancelled_by_pause {
                c.run = None;
            }
            drop(c);
            let d = DeviceLabel {
                device: slot.name.clone(),
            };
            let m = &shared.metrics;
            m.hashes.get_or_create(&d).inc_by(out.stats.hashes);
            m.joules
                .get_or_create(&energy_labels(&slot.name, r.measured))
                .inc_by(joules);
            m.revenue
                .get_or_create(&d)
                .inc_by(out.stats.hashes as f64 * rates.revenue_usd_per_hash);
            m.power_cost
                .get_or_create(&d)
                .inc_by(joules * rates.cost_usd_per_joule);
            m.hashrate.get_or_create(&d).set(out.stats.hashrate());
            m.watts.get_or_create(&d).set(if elapsed.is_zero() {
                0.0
            } else {
                joules / elapsed.as_secs_f64()
            });
            for (hit, res) in &results {
                m.shares
                    .get_or_create(&ShareLabels {
                        device: slot.name.clone(),
                        result: (*res).into(),
                    })
                    .inc();
                shared.record(
                    "share",
                    json!({"device": slot.name, "result": res, "nonce": hit.nonce, "hash": hit.hash.to_string()}),
                );
            }
            if cancelled_by_pause {
                slot.cv.notify_all();
                break;
            }
            // Size the next range to fill about 80 % of a slice.
            let rate = out.stats.hashrate();
            if out.stats.cancelled {
                per_slice = (out.stats.hashes / 2).max(1);
            } else if rate > 0.0 {
                let want = (rate * cfg.slice.as_secs_f64() * 0.8) as u64;
                per_slice = want.clamp(1, per_slice.saturating_mul(4));
            }
        }
        let mut c = lock(&slot.ctl);
        c.run = None;
        drop(c);
        slot.cv.notify_all();
        let d = DeviceLabel {
            device: slot.name.clone(),
        };
        shared.metrics.hashrate.get_or_create(&d).set(0.0);
        shared.metrics.watts.get_or_create(&d).set(0.0);
    }
}

fn transition(shared: &Shared, slot: &Slot, c: &mut Ctl, to: State) {
    let now = Instant::now();
    c.account_time(now);
    let from = c.state;
    c.state = Some(to);
    c.since = unix_now();
    shared.metrics.set_state(&slot.name, to);
    let reason = match to {
        State::Paused => c.paused_by().join("+"),
        State::Idle if c.error.is_some() => "error".to_string(),
        State::Idle => "decision".to_string(),
        State::Mining if c.mine.is_none() => "measuring".to_string(),
        State::Mining => "decision".to_string(),
    };
    let yield_ms = if to == State::Mining {
        None
    } else {
        c.last_yield.map(|d| d.as_secs_f64() * 1e3)
    };
    shared.record(
        "state",
        json!({"device": slot.name, "from": from, "to": to, "reason": reason, "yield_ms": yield_ms}),
    );
    slot.cv.notify_all();
}

/// A device's energy meter in pool mode (the engine lives in the miner).
struct Meter {
    meter: Box<dyn PowerMeter>,
    measured: bool,
    utilization: f64,
}

type Started = (Arc<Miner>, Vec<Option<Meter>>, thread::JoinHandle<()>);

/// Opens every device's engine and meter and starts the Stratum miner on
/// them, with a thread that books the miner's events.
fn start_miner(
    shared: &Arc<Shared>,
    config: crate::mine::MinerConfig,
) -> Result<Started, AgentError> {
    let mut engines: Vec<Arc<dyn Engine>> = Vec::new();
    let mut meters = Vec::new();
    for (i, slot) in shared.slots.iter().enumerate() {
        let (rig, backend, bus) = open_rig(shared, i)?;
        {
            let mut c = lock(&slot.ctl);
            c.ready = true;
            c.backend.clone_from(&backend);
            c.pci_bus_id.clone_from(&bus);
            if c.totals.joules_source.is_empty() {
                c.totals.joules_source = if rig.measured { "measured" } else { "modeled" }.into();
            }
        }
        shared.record(
            "engine",
            json!({"device": slot.name, "backend": backend, "pci_bus_id": bus}),
        );
        engines.push(Arc::from(rig.engine));
        meters.push(Some(Meter {
            meter: rig.meter,
            measured: rig.measured,
            utilization: rig.utilization,
        }));
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let miner =
        Miner::start(config, engines, Some(tx)).map_err(|e| AgentError::Work(e.to_string()))?;
    let s = Arc::clone(shared);
    let events = thread::Builder::new()
        .name("agent-pool-events".into())
        .spawn(move || events_loop(&s, &rx))
        .map_err(|e| AgentError::Config(format!("cannot start the event thread: {e}")))?;
    Ok((Arc::new(miner), meters, events))
}

/// Books the miner's events: share verdicts per device, the network
/// difficulty of each job, connections.
fn events_loop(shared: &Shared, rx: &std::sync::mpsc::Receiver<MineEvent>) {
    while let Ok(event) = rx.recv() {
        match &event {
            MineEvent::Share {
                engine,
                status,
                hash,
                reason,
                pool_difficulty,
                ..
            } => {
                let Some(slot) = shared.slots.get(*engine) else {
                    continue;
                };
                let label = match status {
                    ShareStatus::Accepted => "accepted",
                    ShareStatus::Rejected => "rejected",
                    ShareStatus::Stale => "stale",
                };
                {
                    let mut c = lock(&slot.ctl);
                    match status {
                        ShareStatus::Accepted => c.totals.accepted += 1,
                        ShareStatus::Rejected => c.totals.rejected += 1,
                        ShareStatus::Stale => c.totals.stale += 1,
                    }
                }
                shared
                    .metrics
                    .shares
                    .get_or_create(&ShareLabels {
                        device: slot.name.clone(),
                        result: label.into(),
                    })
                    .inc();
                shared.record(
                    "share",
                    json!({"device": slot.name, "result": label, "hash": hash, "reason": reason, "pool_difficulty": pool_difficulty}),
                );
            }
            MineEvent::Job {
                job_id,
                network_difficulty,
                ..
            } => {
                *lock(&shared.network) = Some(Input::new(
                    *network_difficulty,
                    format!("nBits of pool job {job_id}"),
                    unix_now(),
                ));
            }
            MineEvent::EngineFailed { engine, reason } => {
                if let Some(slot) = shared.slots.get(*engine) {
                    lock(&slot.ctl).error = Some(reason.clone());
                    slot.cv.notify_all();
                }
                shared.record("pool", serde_json::to_value(&event).unwrap_or(Value::Null));
            }
            _ => shared.record("pool", serde_json::to_value(&event).unwrap_or(Value::Null)),
        }
    }
}

/// The pool miner of the moment. Started with every engine; unless
/// `--keep-gpu-memory`, a device that pauses lets go of its engine (and its
/// GPU memory) and opens it again when it resumes, and the whole miner (with
/// its pool connection) is released when every device is off and started
/// again when a device should mine.
#[derive(Default)]
struct PoolInner {
    miner: Option<Arc<Miner>>,
    /// Increases with every start.
    generation: u64,
    /// Per device: paused right after this generation started.
    started_paused: Vec<bool>,
    /// Event threads of every miner started (each ends with its miner).
    events: Vec<thread::JoinHandle<()>>,
}

/// The current miner, its generation, and whether device `i` was paused
/// when it started.
fn current_miner(shared: &Shared, i: usize) -> (Option<Arc<Miner>>, u64, bool) {
    let p = lock(&shared.pool);
    (
        p.miner.clone(),
        p.generation,
        p.started_paused.get(i).copied().unwrap_or(false),
    )
}

/// Starts the miner again when it was released; devices that should not
/// mine are paused at once.
fn ensure_miner(shared: &Arc<Shared>) -> Result<(Arc<Miner>, u64), AgentError> {
    let AgentWork::Pools(config) = &shared.work else {
        return Err(AgentError::Work("no pool configured".into()));
    };
    let mut p = lock(&shared.pool);
    if let Some(m) = &p.miner {
        return Ok((Arc::clone(m), p.generation));
    }
    let (miner, _meters, events) = start_miner(shared, config.clone())?;
    let mut paused = vec![false; shared.slots.len()];
    for (j, slot) in shared.slots.iter().enumerate() {
        if lock(&slot.ctl).desired() != Some(State::Mining) {
            if shared.config.keep_gpu_memory {
                let _ = miner.pause(j);
            } else if miner.release(j).is_ok() {
                shared.record("engine_released", json!({"device": slot.name}));
            }
            paused[j] = true;
        }
    }
    p.miner = Some(Arc::clone(&miner));
    p.generation += 1;
    p.started_paused = paused;
    p.events.push(events);
    Ok((miner, p.generation))
}

/// Drops the miner (its engines and their GPU memory) once every device is
/// off and none has an engine call in flight.
fn release_miner_if_all_off(shared: &Shared) {
    let all_off = shared.slots.iter().all(|s| {
        let c = lock(&s.ctl);
        c.desired() != Some(State::Mining) && c.run.is_none()
    });
    if !all_off {
        return;
    }
    let miner = lock(&shared.pool).miner.take();
    if let Some(m) = miner {
        drop(m);
        shared.record("engines_released", json!({"reason": "every device is off"}));
    }
}

/// One device in pool mode: resume or pause its engine in the miner as the
/// state says, and account its hashes and energy every 250 ms.
fn pool_device_loop(shared: &Arc<Shared>, i: usize, mut m: Meter) {
    let slot = &shared.slots[i];
    let mut seen_generation = 0u64;
    let mut running = false;
    let mut last_hashes = 0u64;
    let mut window = Instant::now();
    let d = DeviceLabel {
        device: slot.name.clone(),
    };
    let account = |miner: &Miner,
                   m: &mut Meter,
                   window: &mut Instant,
                   last_hashes: &mut u64,
                   restart: bool| {
        let stats = miner.stats();
        let Some(e) = stats.engines.get(i) else {
            return;
        };
        let now = Instant::now();
        let elapsed = now.saturating_duration_since(*window);
        let joules = m
            .meter
            .stop(Window {
                elapsed,
                utilization: m.utilization,
            })
            .map_or(0.0, |j| j.0);
        if restart {
            let _ = m.meter.start();
        }
        *window = now;
        let hashes = e.hashes.saturating_sub(*last_hashes);
        *last_hashes = e.hashes;
        let rates = *lock(&shared.rates);
        let mut c = lock(&slot.ctl);
        c.totals.hashes += hashes;
        c.totals.joules += joules;
        c.totals.revenue_usd += hashes as f64 * rates.revenue_usd_per_hash;
        c.totals.power_cost_usd += joules * rates.cost_usd_per_joule;
        // Time without work (no pool job yet) says nothing about the rate.
        if hashes > 0 {
            c.hashes_measured += hashes;
            c.mined_seconds_measured += elapsed.as_secs_f64();
            c.joules_measured += joules;
        }
        c.hashrate = e.hashrate;
        drop(c);
        let mm = &shared.metrics;
        mm.hashes.get_or_create(&d).inc_by(hashes);
        mm.joules
            .get_or_create(&energy_labels(&slot.name, m.measured))
            .inc_by(joules);
        mm.revenue
            .get_or_create(&d)
            .inc_by(hashes as f64 * rates.revenue_usd_per_hash);
        mm.power_cost
            .get_or_create(&d)
            .inc_by(joules * rates.cost_usd_per_joule);
        mm.hashrate
            .get_or_create(&d)
            .set(if restart { e.hashrate } else { 0.0 });
        mm.watts
            .get_or_create(&d)
            .set(if restart && !elapsed.is_zero() {
                joules / elapsed.as_secs_f64()
            } else {
                0.0
            });
    };
    loop {
        let want = lock(&slot.ctl).desired();
        let (mut current, generation, started_paused) = current_miner(shared, i);
        if generation != seen_generation {
            // A new miner starts its engines hashing unless it paused ours.
            seen_generation = generation;
            running = current.is_some() && !started_paused;
            last_hashes = 0;
            window = Instant::now();
            let _ = m.meter.start();
        }
        if want == Some(State::Mining) {
            {
                let mut c = lock(&slot.ctl);
                if c.state != Some(State::Mining) {
                    transition(shared, slot, &mut c, State::Mining);
                }
                if c.run.is_none() {
                    c.run = Some(CancelToken::new());
                }
            }
            if current.is_none() {
                match ensure_miner(shared) {
                    Ok((miner, generation)) => {
                        if generation != seen_generation {
                            seen_generation = generation;
                            running = true;
                            last_hashes = 0;
                            window = Instant::now();
                            let _ = m.meter.start();
                        }
                        current = Some(miner);
                    }
                    Err(e) => {
                        shared.device_failed(slot, &e);
                        continue;
                    }
                }
            }
            let Some(miner) = current else { continue };
            if !running {
                if !miner.has_engine(i).unwrap_or(true) {
                    // Released on the last pause: open the device again.
                    let reopened = open_rig(shared, i).and_then(|(rig, _, _)| {
                        miner
                            .resume_with(i, Arc::from(rig.engine))
                            .map_err(|e| AgentError::Work(e.to_string()))
                    });
                    if let Err(e) = reopened {
                        shared.device_failed(slot, &e);
                        continue;
                    }
                    shared.record("engine_reopened", json!({"device": slot.name}));
                }
                let _ = miner.resume(i);
                running = true;
                last_hashes = miner.stats().engines.get(i).map_or(0, |e| e.hashes);
                window = Instant::now();
                let _ = m.meter.start();
            }
            {
                let c = lock(&slot.ctl);
                if c.desired() == Some(State::Mining) {
                    drop(
                        slot.cv
                            .wait_timeout(c, Duration::from_millis(250))
                            .unwrap_or_else(|e| e.into_inner()),
                    );
                }
            }
            account(&miner, &mut m, &mut window, &mut last_hashes, true);
            continue;
        }
        if running {
            if let Some(miner) = &current {
                let _ = miner.pause(i);
                let returned = Instant::now();
                account(miner, &mut m, &mut window, &mut last_hashes, false);
                if !shared.config.keep_gpu_memory && miner.release(i).is_ok() {
                    // Dropped with its GPU memory; opened again on resume.
                    shared.record("engine_released", json!({"device": slot.name}));
                }
                let mut c = lock(&slot.ctl);
                if let Some((at, _)) = c.pause_at.take() {
                    let latency = returned.saturating_duration_since(at);
                    c.last_yield = Some(latency);
                    shared
                        .metrics
                        .yield_latency
                        .get_or_create(&d)
                        .observe(latency.as_secs_f64());
                }
            }
            running = false;
        }
        drop(current);
        let mut c = lock(&slot.ctl);
        c.pause_at = None;
        if c.run.take().is_some() {
            drop(c);
            slot.cv.notify_all();
            c = lock(&slot.ctl);
        }
        match c.desired() {
            None => {
                c.account_time(Instant::now());
                return;
            }
            Some(State::Mining) => continue,
            Some(s) => {
                if c.state != Some(s) {
                    transition(shared, slot, &mut c, s);
                }
                drop(
                    slot.cv
                        .wait_timeout(c, Duration::from_millis(500))
                        .unwrap_or_else(|e| e.into_inner()),
                );
            }
        }
    }
}
