//! `hashwatt bench`: hashes per second of each backend.

use std::io::Write;
use std::time::Duration;

use hashwatt::backend::{self, BackendChoice, EngineOptions};
use hashwatt::bench::{self, BenchResult};
use hashwatt::report::machine::Machine;
use hashwatt::sha256::CpuKernel;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Backend to measure, or `all` for every backend this machine has.
    #[arg(long, default_value = "auto")]
    backend: String,
    /// Seconds to run each backend.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// GPU adapter: an index or part of a name from `hashwatt devices` [default: the best].
    #[arg(long, value_name = "NAME|INDEX")]
    adapter: Option<String>,
    /// CPU worker threads [default: one per core].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=4096))]
    threads: Option<u32>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    if !(args.seconds.is_finite() && args.seconds > 0.0 && args.seconds <= 86_400.0) {
        anyhow::bail!(
            "invalid --seconds {}: expected a number of seconds in (0, 86400]",
            args.seconds
        );
    }
    let choices: Vec<BackendChoice> = if args.backend == "all" {
        let mut all: Vec<BackendChoice> = CpuKernel::available()
            .into_iter()
            .map(BackendChoice::Kernel)
            .collect();
        if !hashwatt::gpu::adapter::adapters().is_empty() {
            all.push(BackendChoice::Gpu);
        }
        all
    } else {
        vec![args.backend.parse()?]
    };
    let options = EngineOptions {
        threads: args.threads.map(|t| t as usize),
        adapter: args.adapter.clone(),
        ..EngineOptions::default()
    };
    let mut results: Vec<BenchResult> = Vec::new();
    for choice in choices {
        let opened = backend::open(choice, &options)?;
        if let Some(note) = &opened.note {
            eprintln!("note: {note}");
        }
        if !args.json {
            eprintln!(
                "measuring {} ({} threads) for {} s ...",
                opened.engine.name(),
                opened.engine.threads(),
                args.seconds
            );
        }
        results.push(bench::run(
            opened.engine.as_ref(),
            Duration::from_secs_f64(args.seconds),
        )?);
    }

    let machine = Machine::detect();
    let mut out = std::io::stdout().lock();
    if args.json {
        let report =
            serde_json::json!({ "schema": bench::SCHEMA, "machine": machine, "results": results });
        writeln!(out, "{report}")?;
    } else {
        writeln!(
            out,
            "{} ({} logical CPUs; {})",
            machine.cpu,
            machine.logical_cpus,
            machine.cpu_features.join(" ")
        )?;
        writeln!(
            out,
            "{:<10} {:>7} {:>14} {:>8} {:>12}",
            "backend", "threads", "hashes", "seconds", "MH/s"
        )?;
        for r in &results {
            writeln!(
                out,
                "{:<10} {:>7} {:>14} {:>8.2} {:>12.2}",
                r.backend,
                r.threads,
                r.hashes,
                r.seconds,
                r.hashrate / 1e6
            )?;
        }
    }
    Ok(())
}
