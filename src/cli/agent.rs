//! `hashwatt agent`: give this host's idle device time to mining, hand it
//! back on demand, keep books, export metrics.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::pool;
use anyhow::Context;
use hashwatt::agent::decide::{Policy, PowerPrice, PowerSchedule};
use hashwatt::agent::work::{AgentWork, FixedHeader};
use hashwatt::agent::{Agent, AgentConfig, DeviceSpec, EventSink, LiveConfig};
use hashwatt::economics::presets::power;
use hashwatt::economics::units::UsdPerKwh;
use hashwatt::energy::PowerOverride;
use hashwatt::mine::WorkSource;
use hashwatt::mine::node::NodeConfig;

use hashwatt::pow::Target;

use signal_hook::consts::{SIGINT, SIGTERM, SIGUSR1, SIGUSR2};
use signal_hook::iterator::Signals;

#[derive(clap::Args, Debug)]
#[command(group(
    clap::ArgGroup::new("work")
        .args(["pools", "header", "payout_address"])
        .required(true)
))]
#[command(group(clap::ArgGroup::new("node_use").args(["live", "payout_address"]).multiple(true)))]
#[command(group(clap::ArgGroup::new("node_given").args(["node"]).requires("node_use")))]
pub struct Args {
    /// A device to mine on: cpu, gpu (the best adapter) or gpu:N (adapter N
    /// from `hashwatt devices`); repeat for several.
    #[arg(long = "device", value_name = "cpu|gpu[:N]", required = true)]
    devices: Vec<DeviceSpec>,
    #[command(flatten)]
    pool: super::pool::PoolArgs,
    /// No pool: hash this fixed 80-byte header (160 hex digits) and count
    /// the hits at --share-difficulty without submitting them. For
    /// measuring the hand-back latency and trying the agent.
    #[arg(long, value_name = "HEX", conflicts_with = "PoolArgs")]
    header: Option<String>,
    /// Solo mine on the node given by --node (getblocktemplate, submitblock;
    /// no pool): a found block's reward goes to this bech32 or Base58 address.
    #[arg(
        long,
        value_name = "ADDR",
        requires = "node",
        conflicts_with = "PoolArgs"
    )]
    payout_address: Option<String>,
    /// Share difficulty of the hits counted with --header.
    #[arg(long, value_name = "D", requires = "header")]
    share_difficulty: Option<f64>,
    /// HTTP address for /metrics, /status, /pause, /resume, /healthz, /readyz.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:9477")]
    listen: SocketAddr,
    /// File holding the bearer token that /status, /pause and /resume
    /// require; needed when --listen is not a loopback address.
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// The books: append-only JSON lines; totals carry over between runs.
    #[arg(long, value_name = "FILE", default_value = "hashwatt-books.jsonl")]
    books: PathBuf,
    /// Print every books record as a JSON line on stdout.
    #[arg(long)]
    json: bool,
    /// Power price, USD per kWh [default: the cited US industrial average].
    #[arg(
        long,
        value_name = "USD_PER_KWH",
        conflicts_with = "power_schedule",
        allow_negative_numbers = true
    )]
    electricity: Option<f64>,
    /// Power price by hour of day (UTC): lines of `HOUR USD_PER_MWH`.
    #[arg(long, value_name = "FILE")]
    power_schedule: Option<PathBuf>,
    /// BTC price, USD [default: the cited January 2026 figure].
    #[arg(long, value_name = "USD", allow_negative_numbers = true)]
    btc_price: Option<f64>,
    /// Network difficulty [default: from the pool's nBits].
    #[arg(long, value_name = "D")]
    difficulty: Option<f64>,
    #[command(flatten)]
    live: super::live::LiveArgs,
    /// Mine only when mining beats staying off by at least this many $/h.
    #[arg(
        long,
        value_name = "USD_PER_HOUR",
        default_value_t = 0.0,
        allow_negative_numbers = true
    )]
    min_margin: f64,
    /// Hold a decided state at least this many seconds.
    #[arg(long, value_name = "S", default_value_t = 300.0)]
    min_dwell: f64,
    /// Decide again every this many seconds.
    #[arg(long, value_name = "S", default_value_t = 60.0)]
    decide_every: f64,
    /// Write a checkpoint record with the totals every this many seconds.
    #[arg(long, value_name = "S", default_value_t = 10.0)]
    checkpoint_every: f64,
    /// Model mining power as WATTS or IDLE:WATTS instead of reading a
    /// meter (NVML, RAPL) or the built-in model.
    #[arg(long, value_name = "WATTS")]
    mining_watts: Option<PowerOverride>,
    /// Pause every device while `sh -c COMMAND` exits with status 0.
    #[arg(long, value_name = "COMMAND")]
    busy_when: Option<String>,
    /// Run the --busy-when probe every this many seconds.
    #[arg(long, value_name = "S", default_value_t = 1.0, requires = "busy_when")]
    busy_every: f64,
    /// Keep the engines (and their GPU memory) while paused or idle, for a
    /// faster resume. Otherwise each device's engine is dropped on a pause
    /// and opened again on resume; with --pool the pool connection is also
    /// closed once every device is off.
    #[arg(long)]
    keep_gpu_memory: bool,
    /// Do not watch NVML for other compute processes on the GPUs.
    #[arg(long)]
    no_nvml: bool,
    /// Pause a GPU only while another process keeps at least PCT % of its SMs
    /// busy (NVML process utilization, sampled every 250 ms), so an idle
    /// inference server's GPU is lent [default: pause while any other compute
    /// process runs there].
    #[arg(long, value_name = "PCT", conflicts_with = "no_nvml",
          value_parser = clap::value_parser!(u32).range(1..=100))]
    nvml_busy_sm_pct: Option<u32>,
    /// CPU worker threads [default: one per core].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=4096))]
    threads: Option<u32>,
    /// GPU batch time in milliseconds [default: the adapter's, see `hashwatt devices`].
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    batch_ms: Option<u32>,
    /// Stop after this many seconds [default: until SIGTERM or Ctrl-C].
    #[arg(long, value_name = "S")]
    duration: Option<f64>,
}

fn non_negative(name: &str, v: Option<f64>) -> anyhow::Result<()> {
    if let Some(v) = v
        && !(v.is_finite() && v >= 0.0)
    {
        anyhow::bail!("{name} must be a number ≥ 0, got {v}");
    }
    Ok(())
}

fn work(args: &Args) -> anyhow::Result<AgentWork> {
    if let Some(hex) = &args.header {
        let header = super::parse_header(hex)?;
        let d = args.share_difficulty.unwrap_or(1e-3);
        let target = Target::from_difficulty(d)
            .map_err(|e| anyhow::anyhow!("invalid --share-difficulty {d}: {e}"))?;
        return Ok(AgentWork::Fixed(FixedHeader::new(
            header,
            target,
            args.devices.len(),
        )));
    }
    // The address is checked before the node's credentials.
    if let Some(address) = &args.payout_address {
        hashwatt::gbt::address::script_pubkey(address)?;
    }
    let source = match (&args.payout_address, args.live.node.node()?) {
        (Some(address), Some((url, auth))) => WorkSource::Node(NodeConfig::new(url, auth, address)),
        _ => args.pool.pools()?,
    };
    Ok(AgentWork::Pools(args.pool.miner_config(source)?))
}

/// `--live`: the sources and the cache.
fn live(args: &Args) -> anyhow::Result<Option<LiveConfig>> {
    Ok(args
        .live
        .sources()?
        .map(|(sources, cache)| LiveConfig { sources, cache }))
}

fn config(args: &Args) -> anyhow::Result<AgentConfig> {
    non_negative("--electricity", args.electricity)?;
    non_negative("--btc-price", args.btc_price)?;
    if let Some(d) = args.difficulty
        && !(d.is_finite() && d > 0.0)
    {
        anyhow::bail!("--difficulty must be a number above 0, got {d}");
    }
    if !args.min_margin.is_finite() {
        anyhow::bail!("--min-margin must be a number of $/h");
    }
    let has_cpu = args.devices.contains(&DeviceSpec::Cpu);
    let has_gpu = args.devices.iter().any(|d| matches!(d, DeviceSpec::Gpu(_)));
    if let Some(t) = args.threads
        && !has_cpu
    {
        anyhow::bail!("--threads {t} applies to --device cpu, which is not among the devices");
    }
    if let Some(ms) = args.batch_ms
        && !has_gpu
    {
        anyhow::bail!("--batch-ms {ms} applies to GPU devices, and none is given");
    }
    let power = match (&args.power_schedule, args.electricity) {
        (Some(path), _) => PowerPrice::Schedule(PowerSchedule::load(path)?),
        (None, Some(p)) => PowerPrice::Fixed {
            usd_per_kwh: UsdPerKwh(p),
            source: "--electricity".into(),
        },
        (None, None) => PowerPrice::Fixed {
            usd_per_kwh: UsdPerKwh(power::ELECTRICITY_USD_PER_KWH),
            source: format!("default: {}", power::ELECTRICITY_SOURCE),
        },
    };
    let token = args
        .token_file
        .as_ref()
        .map(|f| pool::read_secret(f, "--token-file"))
        .transpose()?;
    let min_dwell = Duration::try_from_secs_f64(args.min_dwell)
        .ok()
        .with_context(|| format!("--min-dwell must be seconds ≥ 0, got {}", args.min_dwell))?;
    Ok(AgentConfig {
        devices: args.devices.clone(),
        threads: args.threads.map(|t| t as usize),
        batch_ms: args.batch_ms,
        books: args.books.clone(),
        listen: args.listen,
        token,
        power,
        btc_price: args.btc_price,
        difficulty: args.difficulty,
        policy: Policy {
            min_margin_usd_per_hour: args.min_margin,
            min_dwell,
        },
        mining_watts: args.mining_watts,
        decide_every: pool::seconds("--decide-every", args.decide_every)?,
        checkpoint_every: pool::seconds("--checkpoint-every", args.checkpoint_every)?,
        slice: Duration::from_millis(500),
        busy_when: args.busy_when.clone(),
        busy_every: pool::seconds("--busy-every", args.busy_every)?,
        keep_gpu_memory: args.keep_gpu_memory,
        watch_nvml: !args.no_nvml,
        nvml_min_sm_pct: args.nvml_busy_sm_pct,
        live: live(args)?,
    })
}

/// One human line per record worth a human's attention.
fn human(v: &serde_json::Value) -> Option<String> {
    let event = v.get("event")?.as_str()?;
    let dev = v.get("device").and_then(|d| d.as_str()).unwrap_or("");
    match event {
        "started" => Some(format!(
            "agent started: devices {}, work: {}",
            v.get("devices")?,
            v.get("work")?.as_str()?
        )),
        "state" => Some(format!(
            "{dev}: {} -> {} ({}){}",
            v.get("from")?.as_str().unwrap_or("start"),
            v.get("to")?.as_str()?,
            v.get("reason")?.as_str()?,
            v.get("yield_ms")
                .and_then(serde_json::Value::as_f64)
                .map(|ms| format!(", handed back in {ms:.2} ms"))
                .unwrap_or_default()
        )),
        "decision" if v.get("changed")?.as_bool()? => Some(format!(
            "{dev}: decision {} (margin {:+.6} $/h)",
            v.get("choice")?.as_str()?,
            v.pointer("/verdict/margin_usd_per_hour")?.as_f64()?
        )),
        "engine" => Some(format!("{dev}: engine {}", v.get("backend")?.as_str()?)),
        "error" => Some(format!("{dev}: error: {}", v.get("error")?.as_str()?)),
        "stopped" => {
            let t = v.pointer("/totals/total")?;
            Some(format!(
                "agent stopped: {} hashes, shares {} accepted / {} rejected / {} stale / {} found, {:.1} J, \
                 modeled revenue ${:.8}, modeled power cost ${:.6}; {:.0} s mining, {:.0} s paused, {:.0} s idle",
                t.get("hashes")?,
                t.get("accepted")?,
                t.get("rejected")?,
                t.get("stale")?,
                t.get("found")?,
                t.get("joules")?.as_f64()?,
                t.get("revenue_usd")?.as_f64()?,
                t.get("power_cost_usd")?.as_f64()?,
                t.get("seconds_mining")?.as_f64()?,
                t.get("seconds_paused")?.as_f64()?,
                t.get("seconds_idle")?.as_f64()?,
            ))
        }
        _ => None,
    }
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let duration = args
        .duration
        .map(|d| pool::seconds("--duration", d))
        .transpose()?;
    let config = config(args)?;
    let work = work(args)?;
    let json = args.json;
    let sink: EventSink = Box::new(move |v| {
        let mut out = std::io::stdout().lock();
        // A closed stdout must not stop the agent: the books are the record.
        if json {
            let _ = writeln!(out, "{v}");
        } else if let Some(line) = human(v) {
            let _ = writeln!(out, "{line}");
        }
        let _ = out.flush();
    });
    let agent = Agent::new(config, work, Some(sink))?;
    let control = agent.control();
    let mut signals = Signals::new([SIGTERM, SIGINT, SIGUSR1, SIGUSR2])
        .context("cannot install the signal handlers")?;
    let handle = signals.handle();
    let signal_control = control.clone();
    let signal_thread = std::thread::spawn(move || {
        for sig in signals.forever() {
            match sig {
                SIGUSR1 => drop(signal_control.pause(None)),
                SIGUSR2 => drop(signal_control.resume(None)),
                _ => {
                    signal_control.stop_for(if sig == SIGINT { "SIGINT" } else { "SIGTERM" });
                    break;
                }
            }
        }
    });
    let timer = duration.map(|d| {
        let c = control.clone();
        std::thread::spawn(move || {
            let until = Instant::now() + d;
            while Instant::now() < until {
                std::thread::sleep(Duration::from_millis(50).min(until - Instant::now()));
            }
            c.stop_for("--duration");
        })
    });
    let result = agent.run();
    handle.close();
    let _ = signal_thread.join();
    drop(timer); // a --duration timer still sleeping ends with the process
    result?;
    Ok(())
}
