//! Mining through Stratum vs `hashwatt bench` on the same engine.
//!
//! Alternates, on one engine: the bench harness's measurement
//! (`hashwatt::bench::harness::run_backend` with the CLI's 0.5 s warmup, what
//! `hashwatt bench` reports) and a
//! [`Miner`] fed by the test pool (`tests/support/pool.rs`) with a new job
//! every second, a clean job every other second and about ten shares a second
//! (vardiff off, difficulty sized from the bench rate). The mining rate counts
//! every nonce hashed between two chunk boundaries over the wall time between
//! them, so job switches, stalls and share handling all count against it.
//!
//! `cargo bench --bench mine -- [--backend B] [--threads N] [--seconds S] [--rounds R]`
//! (defaults: cpu, 1 thread, 8 s, 3 rounds). The goal: ratio ≥ 0.97.

#[path = "../tests/support/pool.rs"]
mod pool;

use std::sync::Arc;
use std::time::{Duration, Instant};

use hashwatt::backend::{self, BackendChoice, EngineOptions};
use hashwatt::bench::harness::{self, BenchConfig};
use hashwatt::energy::Device;
use hashwatt::mine::{Miner, MinerConfig, PoolConfig, WorkSource};
use hashwatt::search::Engine;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut choice = "cpu".to_string();
    let mut threads = Some(1usize);
    let mut seconds = 8.0f64;
    let mut rounds = 3usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--backend" => choice = args.next().ok_or("--backend needs a value")?,
            "--threads" => threads = Some(args.next().ok_or("--threads needs a value")?.parse()?),
            "--seconds" => seconds = args.next().ok_or("--seconds needs a value")?.parse()?,
            "--rounds" => rounds = args.next().ok_or("--rounds needs a value")?.parse()?,
            // cargo bench passes --bench; criterion-style filters are not used here.
            _ => {}
        }
    }
    let choice: BackendChoice = choice.parse()?;
    if choice == BackendChoice::Gpu {
        threads = None;
    }
    let options = EngineOptions {
        threads,
        ..EngineOptions::default()
    };
    let engine: Arc<dyn Engine> = Arc::from(backend::open(choice, &options)?.engine);
    let dur = Duration::from_secs_f64(seconds);
    println!(
        "engine {} ({} threads) on {}",
        engine.name(),
        engine.threads(),
        engine.device()
    );
    println!("round  bench MH/s  stratum MH/s  ratio  shares accepted");
    let mut ratios = Vec::new();
    for round in 1..=rounds {
        let bench = bench_rate(engine.as_ref(), dur)?;
        let (mined, accepted) = mine(Arc::clone(&engine), dur, bench)?;
        let ratio = mined / bench;
        ratios.push(ratio);
        println!(
            "{round:>5}  {:>10.3}  {:>12.3}  {ratio:.4}  {accepted}",
            bench / 1e6,
            mined / 1e6
        );
    }
    ratios.sort_by(f64::total_cmp);
    println!(
        "median ratio {:.4} over {rounds} rounds",
        ratios[ratios.len() / 2]
    );
    Ok(())
}

/// `hashwatt bench`'s measurement (its harness, its default 0.5 s warmup), hashrate only.
fn bench_rate(engine: &dyn Engine, dur: Duration) -> Result<f64, Box<dyn std::error::Error>> {
    let config = BenchConfig {
        seconds: dur,
        warmup: Duration::from_millis(500),
        interval: Duration::from_secs(1),
    };
    let device = Device::Cpu {
        model: engine.device(),
        logical_cpus: 1,
    };
    Ok(harness::run_backend(engine, &device, None, None, &config, &mut |_| {})?.hashrate)
}

/// Mines for `dur` from a chunk boundary to a chunk boundary; returns (H/s, shares accepted).
fn mine(
    engine: Arc<dyn Engine>,
    dur: Duration,
    bench_rate: f64,
) -> Result<(f64, u64), Box<dyn std::error::Error>> {
    let difficulty = (bench_rate / 10.0 / 4_294_967_296.0).max(1e-6);
    let p = pool::TestPool::start(pool::PoolOptions {
        difficulty,
        job_interval: Duration::from_secs(1),
        ..pool::PoolOptions::default()
    })?;
    let config = MinerConfig::new(WorkSource::Pools(vec![PoolConfig::new(
        &p.url(),
        "bench",
        "x",
    )]));
    let miner = Miner::start(config, vec![engine], None)?;
    let boundary = |after: u64| -> (Instant, u64) {
        loop {
            let h = miner.stats().hashes();
            if h > after {
                return (Instant::now(), h);
            }
            std::thread::sleep(Duration::from_micros(200));
        }
    };
    // The first chunk after the first job: the miner is connected and hashing.
    let (_, h) = boundary(0);
    let (t0, h0) = boundary(h);
    let mut clean_at = Instant::now() + Duration::from_secs(2);
    while t0.elapsed() < dur {
        if Instant::now() >= clean_at {
            p.inject(pool::Fault::CleanJob);
            clean_at += Duration::from_secs(2);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let (t1, h1) = boundary(miner.stats().hashes());
    let accepted = miner.stop().shares.accepted;
    Ok(((h1 - h0) as f64 / (t1 - t0).as_secs_f64(), accepted))
}
