//! `hashwatt mine`: mine for Stratum V1 pools until Ctrl-C, SIGTERM or `--duration`.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

use hashwatt::backend::{self, BackendChoice, EngineOptions};
use hashwatt::mine::node::NodeConfig;
use hashwatt::mine::{MineEvent, MineStats, Miner, ShareStatus, WorkSource};
use hashwatt::search::{CancelToken, Engine};

#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("work").args(["pools", "node"]).required(true)))]
#[command(group(
    clap::ArgGroup::new("solo")
        .args(["node"])
        .requires("payout_address")
        .conflicts_with("PoolArgs")
))]
pub struct Args {
    #[command(flatten)]
    pool: super::pool::PoolArgs,
    #[command(flatten)]
    node: super::node::NodeArgs,
    /// Where a solo-mined block's reward goes (bech32 or Base58 address).
    #[arg(long, value_name = "ADDR", requires = "node")]
    payout_address: Option<String>,
    /// Backend: auto, cpu, gpu or a kernel name; repeat to mine on several
    /// engines at once (each gets its own nonce space).
    #[arg(long = "backend", default_value = "auto")]
    backends: Vec<String>,
    /// GPU adapter: an index or part of a name from `hashwatt devices`.
    #[arg(long, value_name = "NAME|INDEX")]
    adapter: Option<String>,
    /// CPU worker threads [default: one per core].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=4096))]
    threads: Option<u32>,
    /// Stop after this many seconds [default: until Ctrl-C or SIGTERM].
    #[arg(long, value_name = "S")]
    duration: Option<f64>,
    /// Print one JSON object per event and a final summary, one per line.
    #[arg(long)]
    json: bool,
}

fn open_engines(args: &Args) -> anyhow::Result<Vec<Arc<dyn Engine>>> {
    let options = EngineOptions {
        threads: args.threads.map(|t| t as usize),
        adapter: args.adapter.clone(),
        ..EngineOptions::default()
    };
    let mut engines: Vec<Arc<dyn Engine>> = Vec::new();
    for name in &args.backends {
        let choice: BackendChoice = name.parse()?;
        let threads = if args.backends.len() == 1 {
            args.threads
        } else {
            None
        };
        super::check_backend_options(choice, threads, args.adapter.as_deref())?;
        let opened = backend::open(choice, &options)?;
        if let Some(note) = &opened.note {
            eprintln!("note: {note}");
        }
        engines.push(Arc::from(opened.engine));
    }
    Ok(engines)
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let duration = args
        .duration
        .map(|d| super::pool::seconds("--duration", d))
        .transpose()?;
    // The address is checked before the node's credentials.
    if let Some(address) = &args.payout_address {
        hashwatt::gbt::address::script_pubkey(address)?;
    }
    let source = if let Some((url, auth)) = args.node.node()? {
        let address = args.payout_address.as_deref().unwrap_or_default();
        WorkSource::Node(NodeConfig::new(url, auth, address))
    } else {
        args.pool.pools()?
    };
    let config = args.pool.miner_config(source)?;
    let engines = open_engines(args)?;

    let stop = CancelToken::new();
    super::signals::cancel_on_signals(&stop)?;

    let (tx, rx) = std::sync::mpsc::channel();
    let miner = Miner::start(config, engines, Some(tx))?;
    let started = Instant::now();
    let tty = !args.json && std::io::stderr().is_terminal();
    let mut last_status = Instant::now();
    let mut out = std::io::stdout().lock();
    loop {
        if stop.is_cancelled() || duration.is_some_and(|d| started.elapsed() >= d) {
            break;
        }
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(event) => {
                if args.json {
                    writeln!(out, "{}", serde_json::to_string(&event)?)?;
                    out.flush()?;
                } else {
                    if tty {
                        eprint!("\r\x1b[2K");
                    }
                    if let Some(line) = describe(&event) {
                        eprintln!("{line}");
                    }
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if tty && last_status.elapsed() >= Duration::from_millis(500) {
            last_status = Instant::now();
            eprint!("\r\x1b[2K{}", status_line(&miner.stats()));
        }
    }
    let summary = miner.stop();
    // Events sent before the stop.
    while let Ok(event) = rx.try_recv() {
        if args.json {
            writeln!(out, "{}", serde_json::to_string(&event)?)?;
        } else if let Some(line) = describe(&event) {
            eprintln!("{line}");
        }
    }
    if tty {
        eprint!("\r\x1b[2K");
    }
    if args.json {
        let mut v = serde_json::to_value(&summary)?;
        if let serde_json::Value::Object(o) = &mut v {
            o.insert("event".into(), "summary".into());
            o.insert(
                "hashrate".into(),
                (summary.hashes() as f64 / summary.uptime_s.max(1e-9)).into(),
            );
        }
        writeln!(out, "{v}")?;
    } else {
        print_summary(&mut out, &summary)?;
    }
    Ok(())
}

fn status_line(s: &MineStats) -> String {
    let up = s.uptime_s as u64;
    format!(
        "{:.2} MH/s | accepted {} rejected {} stale {} | diff {} | {} | up {:02}:{:02}:{:02}",
        s.hashrate() / 1e6,
        s.shares.accepted,
        s.shares.rejected_total(),
        s.shares.stale,
        s.pool_difficulty
            .map_or_else(|| "-".into(), |d| format!("{d}")),
        s.pool.as_deref().unwrap_or("not connected"),
        up / 3600,
        up / 60 % 60,
        up % 60
    )
}

fn describe(e: &MineEvent) -> Option<String> {
    Some(match e {
        MineEvent::Connected {
            url, version_mask, ..
        } => format!(
            "connected to {url}{}",
            version_mask
                .as_ref()
                .map_or_else(String::new, |m| format!(" (version rolling, mask {m})"))
        ),
        MineEvent::Disconnected { url, reason, .. } => format!("disconnected from {url}: {reason}"),
        MineEvent::Difficulty { difficulty, .. } => format!("pool difficulty {difficulty}"),
        MineEvent::Share {
            engine,
            status,
            reason,
            share_difficulty,
            ..
        } => match status {
            ShareStatus::Accepted => {
                format!("share accepted (engine {engine}, difficulty {share_difficulty:.4})")
            }
            ShareStatus::Rejected | ShareStatus::Stale => format!(
                "share {} (engine {engine}): {}",
                if *status == ShareStatus::Stale {
                    "stale"
                } else {
                    "rejected"
                },
                reason.as_deref().unwrap_or("no reason given")
            ),
        },
        MineEvent::Message { text, .. } => format!("pool says: {text}"),
        MineEvent::Block { hash } => format!("BLOCK found: {hash}"),
        MineEvent::EngineFailed { engine, reason } => format!("engine {engine} failed: {reason}"),
        _ => return None,
    })
}

fn print_summary(out: &mut impl Write, s: &MineStats) -> anyhow::Result<()> {
    writeln!(
        out,
        "mined {:.1} s: {} hashes ({:.2} MH/s average)",
        s.uptime_s,
        s.hashes(),
        s.hashes() as f64 / s.uptime_s.max(1e-9) / 1e6
    )?;
    for (i, e) in s.engines.iter().enumerate() {
        writeln!(
            out,
            "  engine {i} ({}): {} hashes, {} shares found",
            e.name, e.hashes, e.shares_found
        )?;
    }
    writeln!(
        out,
        "shares: {} accepted (difficulty {}), {} rejected, {} stale",
        s.shares.accepted,
        s.shares.accepted_difficulty,
        s.shares.rejected_total(),
        s.shares.stale
    )?;
    for (reason, n) in &s.shares.rejected {
        writeln!(out, "  rejected {n}: {reason}")?;
    }
    writeln!(out, "connections: {}", s.connections)?;
    Ok(())
}
