//! The agent's hand-back latency, as a distribution: runs the agent on one
//! device (hashing a fixed header), then pauses and resumes it N times
//! through its control API, and reports p50, p90, p99 and max of the time
//! from the pause request until the engine stopped hashing.
//!
//! `cargo run --release --example yield_latency -- [cpu|gpu|gpu:N] [N] [BATCH_MS]`
//! (defaults: cpu, 200 pauses, the GPU engine's own batch time).
//!
//! Each cycle mines for a random 20–80 ms before the pause, so the request
//! lands anywhere in a batch.

use std::time::Duration;

use hashwatt::agent::decide::{Policy, PowerPrice};
use hashwatt::agent::work::{AgentWork, FixedHeader};
use hashwatt::agent::{Agent, AgentConfig, DeviceSpec};
use hashwatt::economics::units::UsdPerKwh;
use hashwatt::header::Header;
use hashwatt::pow::Target;

const HEADER: &str = "010000006fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000982051fd1e4ba744bbbe680e1fee14677ba1a3c3540bf7b1cdb606e857233e0e61bc6649ffff001d01e36299";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let device: DeviceSpec = args.next().as_deref().unwrap_or("cpu").parse()?;
    let n: usize = args.next().map_or(Ok(200), |s| s.parse())?;
    let batch_ms: Option<u32> = args.next().map(|s| s.parse()).transpose()?;
    let dir = std::env::temp_dir().join(format!("hashwatt-yield-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let header: Header = HEADER.parse()?;
    let config = AgentConfig {
        devices: vec![device.clone()],
        threads: None,
        batch_ms,
        books: dir.join("books.jsonl"),
        listen: "127.0.0.1:0".parse()?,
        token: None,
        power: PowerPrice::Fixed {
            usd_per_kwh: UsdPerKwh(0.0),
            source: "yield_latency example".into(),
        },
        btc_price: None,
        difficulty: None,
        policy: Policy {
            min_margin_usd_per_hour: f64::NEG_INFINITY,
            min_dwell: Duration::ZERO,
        },
        mining_watts: Some("100".parse()?),
        decide_every: Duration::from_secs(3600),
        checkpoint_every: Duration::from_secs(3600),
        slice: Duration::from_millis(500),
        busy_when: None,
        busy_every: Duration::from_secs(1),
        keep_gpu_memory: true,
        watch_nvml: false,
        nvml_min_sm_pct: None,
        live: None,
    };
    let work = AgentWork::Fixed(FixedHeader::new(header, Target::from_difficulty(1.0)?, 1));
    let agent = Agent::new(config, work, None)?;
    let control = agent.control();
    let runner = std::thread::spawn(move || agent.run());
    while !control.ready() {
        std::thread::sleep(Duration::from_millis(20));
    }
    // Warm up: let the engine reach its full rate.
    std::thread::sleep(Duration::from_millis(500));
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        std::thread::sleep(Duration::from_millis(20 + rng % 61));
        let done = control.pause(None)?;
        if let Some(Some(d)) = done.first().map(|(_, d)| *d) {
            samples.push(d.as_secs_f64() * 1e3);
        }
        control.resume(None)?;
    }
    let status = control.status();
    control.stop();
    let _ = runner.join();
    let _ = std::fs::remove_dir_all(&dir);
    samples.sort_by(f64::total_cmp);
    let pct = |p: f64| samples[((samples.len() as f64 - 1.0) * p).round() as usize];
    if samples.is_empty() {
        return Err("no pause caught the engine hashing".into());
    }
    println!(
        "device {device} backend {}: {} pauses, yield latency ms: p50 {:.3}, p90 {:.3}, p99 {:.3}, max {:.3}",
        status["devices"][0]["backend"].as_str().unwrap_or("?"),
        samples.len(),
        pct(0.5),
        pct(0.9),
        pct(0.99),
        samples[samples.len() - 1]
    );
    Ok(())
}
