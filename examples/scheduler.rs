//! A scheduler deciding who gets the next 10 minutes of an idle GPU, and
//! acting on it.
//!
//! 1. It measures the best available mining engine for half a second (a
//!    real measurement, as `hashwatt bench` would) and builds a scenario
//!    from that hash rate and cited defaults.
//! 2. It evaluates two situations with `economics::evaluate`:
//!    * a daytime slot with AI demand at $0.081/kWh (inference wins, and the
//!      report shows mining would not even pay for its power);
//!    * an overnight slot on stranded power ($0/kWh, GPU already on) with no
//!      AI demand, where mining's tiny revenue is the only revenue.
//! 3. Where mining wins, it mines a real Stratum V1 job: a `mine::Miner`
//!    takes work from the test pool (`tests/support/pool.rs`, started on a
//!    loopback port) and submits shares the pool validates, until the
//!    simulated AI job arrives; then `Miner::pause` takes the engine back
//!    and the example reports how fast it stopped.
//!
//! Runs in well under 10 seconds:
//! `cargo run --release --example scheduler`.

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use hashwatt::backend::{self, BackendChoice, EngineOptions};
use hashwatt::economics::power::IdleMode;
use hashwatt::economics::units::{HashRate, Percent, UsdPerKwh, Watts};
use hashwatt::economics::{Choice, Scenario, evaluate};
use hashwatt::header::Header;
use hashwatt::mine::{MineEvent, Miner, MinerConfig, PoolConfig, WorkSource};
use hashwatt::pow::Target;
use hashwatt::search::{CancelToken, Engine, Job};

/// `println!` that ignores a closed stdout (`| head`) instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// The slot the scheduler is deciding about.
const SLOT: Duration = Duration::from_secs(600);
/// When the simulated AI job arrives in this demo (instead of after minutes).
const AI_ARRIVES_AFTER: Duration = Duration::from_secs(2);
/// Share difficulty for the demo job, so that some shares are found.
const SHARE_DIFFICULTY: f64 = 1e-3;
/// Board power assumed for this device while mining. On a real GPU this
/// comes from `hashwatt bench --json` (NVML energy counter).
const MINING_WATTS: f64 = 700.0;

/// Mainnet block 1 header (hex, 80 bytes); the demo only varies its nonce.
const HEADER_HEX: &str = "010000006fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000982051fd1e4ba744bbbe680e1fee14677ba1a3c3540bf7b1cdb606e857233e0e61bc6649ffff001d01e36299";

#[path = "../tests/support/pool.rs"]
mod pool;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let opened = backend::open(BackendChoice::Auto, &EngineOptions::default())?;
    let engine: Arc<dyn Engine> = Arc::from(opened.engine);
    if let Some(note) = opened.note {
        say!("note: {note}");
    }
    let header: Header = HEADER_HEX.parse()?;
    let target = Target::from_difficulty(SHARE_DIFFICULTY)?;

    // 1. Measure this engine briefly.
    let calib = CancelToken::with_deadline(Instant::now() + Duration::from_millis(500));
    let out = engine.search(&Job::new(header, 0, 1 << 31, target)?, &calib)?;
    let hashrate = out.stats.hashrate();
    say!(
        "engine {} on {}: measured {:.3} MH/s over {:.2} s",
        engine.name(),
        engine.device(),
        hashrate / 1e6,
        out.stats.elapsed.as_secs_f64()
    );

    // 2a. Daytime: AI demand, normal power price.
    let mut day = Scenario::new(HashRate(hashrate), Watts(MINING_WATTS));
    day.utilization = Percent(50.0);
    let d = evaluate(&day)?;
    say!(
        "\ndaytime slot: mine {:+.6} $/h, infer {:+.4} $/h, idle {:+.4} $/h -> {}",
        d.net_usd_per_hour.mine.get(),
        d.net_usd_per_hour.infer.get(),
        d.net_usd_per_hour.idle.get(),
        d.winner
    );
    say!(
        "  mining revenue covers {:.2e} of its own power cost (at an assumed, modeled {MINING_WATTS} W)",
        d.mining_revenue_to_power_cost
    );
    act(d.winner, &engine)?;

    // 2b. Overnight: stranded power, no AI demand, GPU kept on.
    let mut night = day.clone();
    night.utilization = Percent(0.0);
    night.power.electricity = UsdPerKwh(0.0);
    night.power.idle_mode = IdleMode::On;
    let n = evaluate(&night)?;
    say!(
        "\novernight slot on stranded power: mine {:+.2e} $/h, infer {:+.4} $/h, idle {:+.4} $/h -> {}",
        n.net_usd_per_hour.mine.get(),
        n.net_usd_per_hour.infer.get(),
        n.net_usd_per_hour.idle.get(),
        n.winner
    );
    act(n.winner, &engine)?;
    Ok(())
}

fn act(choice: Choice, engine: &Arc<dyn Engine>) -> Result<(), Box<dyn std::error::Error>> {
    match choice {
        Choice::Infer => say!(
            "  -> hand the next {} s to the inference server",
            SLOT.as_secs()
        ),
        Choice::Idle => say!("  -> leave the GPU idle for {} s", SLOT.as_secs()),
        Choice::Mine => mine_until_ai_arrives(engine)?,
    }
    Ok(())
}

/// Mines a real Stratum job until the simulated AI job arrives: a [`Miner`]
/// takes work from the test pool (`tests/support/pool.rs`, started here on a
/// free loopback port), submits shares the pool validates, and is paused the
/// moment the AI job arrives; `pause` returns once the engine has stopped.
fn mine_until_ai_arrives(engine: &Arc<dyn Engine>) -> Result<(), Box<dyn std::error::Error>> {
    let pool = pool::TestPool::start(pool::PoolOptions {
        difficulty: SHARE_DIFFICULTY,
        job_interval: Duration::from_secs(1),
        ..pool::PoolOptions::default()
    })?;
    let config = MinerConfig::new(WorkSource::Pools(vec![PoolConfig::new(
        &pool.url(),
        "scheduler.gpu0",
        "x",
    )]));
    let (tx, rx) = std::sync::mpsc::channel();
    let miner = Miner::start(config, vec![Arc::clone(engine)], Some(tx))?;
    let started = Instant::now();
    thread::sleep(AI_ARRIVES_AFTER.min(SLOT));
    // The AI job arrives: take the engine back.
    let handed_back = miner.pause(0)?;
    let stats = miner.stats();
    let summary = miner.stop();
    let jobs = rx
        .try_iter()
        .filter(|e| matches!(e, MineEvent::Job { .. }))
        .count();
    let pool_stats = pool.stats();
    say!(
        "  -> mined for {} (job {}, {jobs} job(s) received): {:.1} M hashes in {:.2} s, {} shares accepted by the pool \
         at difficulty {}, {} rejected",
        pool.url(),
        stats.job_id.as_deref().unwrap_or("none"),
        summary.hashes() as f64 / 1e6,
        started.elapsed().as_secs_f64(),
        pool_stats.accepted,
        SHARE_DIFFICULTY,
        summary.shares.rejected_total(),
    );
    say!(
        "  -> AI work arrived; engine handed back {:.1} ms later (paused within one batch)",
        handed_back.as_secs_f64() * 1e3
    );
    Ok(())
}
