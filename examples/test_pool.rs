//! The Stratum V1 test pool as a program, for tests that need a pool process
//! (Slurm jobs, Prometheus scrapes) and for trying `hashwatt mine` by hand.
//!
//! `cargo run --release --example test_pool -- --port 0 [--difficulty D]
//! [--vardiff N] [--job-interval-ms MS] [--extranonce2-size N] [--verbose]`
//!
//! Prints `stratum+tcp://127.0.0.1:PORT` on the first line of stdout, then one
//! line per minute with the share counts; runs until killed.

#[path = "../tests/support/pool.rs"]
mod pool;

use std::io::Write;
use std::time::Duration;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut opts = pool::PoolOptions::default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match a.as_str() {
            "--port" => opts.port = value("--port")?.parse()?,
            "--difficulty" => opts.difficulty = value("--difficulty")?.parse()?,
            "--vardiff" => opts.vardiff_every = value("--vardiff")?.parse()?,
            "--job-interval-ms" => {
                opts.job_interval = Duration::from_millis(value("--job-interval-ms")?.parse()?);
            }
            "--extranonce2-size" => opts.extranonce2_size = value("--extranonce2-size")?.parse()?,
            "--verbose" => opts.verbose = true,
            other => return Err(format!("unknown argument {other:?}").into()),
        }
    }
    if !(opts.difficulty.is_finite() && opts.difficulty > 0.0) {
        return Err("--difficulty must be a number above 0".into());
    }
    if !(1..=16).contains(&opts.extranonce2_size) {
        return Err("--extranonce2-size must be in 1..=16".into());
    }
    let pool = pool::TestPool::start(opts)?;
    let mut out = std::io::stdout();
    writeln!(out, "{}", pool.url())?;
    out.flush()?;
    loop {
        std::thread::sleep(Duration::from_secs(60));
        let s = pool.stats();
        // A closed stdout does not stop the pool.
        let _ = writeln!(
            out,
            "connections {} accepted {} rejected {:?}",
            s.connections, s.accepted, s.rejected
        );
    }
}
