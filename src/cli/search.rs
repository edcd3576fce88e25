//! `hashwatt search`: every nonce in a range whose hash meets a target.

use std::io::Write;

use anyhow::Context;
use hashwatt::backend::{self, BackendChoice, EngineOptions};
use hashwatt::pow::{CompactTarget, Target};
use hashwatt::search::{CancelToken, Job, NONCE_SPACE};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The 80-byte header as 160 hex digits, in wire order (its nonce is ignored).
    #[arg(long)]
    header: String,
    /// First nonce.
    #[arg(long, default_value_t = 0)]
    start: u32,
    /// Nonces to try [default: the rest of the nonce space].
    #[arg(long)]
    count: Option<u64>,
    /// Target as compact nBits (8 hex digits, e.g. 1d00ffff) [default: the header's].
    #[arg(long, group = "target_choice")]
    bits: Option<String>,
    /// Target as 64 hex digits, big-endian.
    #[arg(long, group = "target_choice")]
    target: Option<String>,
    /// Target as a pool share difficulty (1 = 0x00000000ffff0000...).
    #[arg(long, group = "target_choice", allow_negative_numbers = true)]
    difficulty: Option<f64>,
    /// Backend: auto, cpu, gpu or a kernel name (see `hashwatt devices`).
    #[arg(long, default_value = "auto")]
    backend: String,
    /// GPU adapter: an index or part of a name from `hashwatt devices` [default: the best].
    #[arg(long, value_name = "NAME|INDEX")]
    adapter: Option<String>,
    /// CPU worker threads [default: one per core].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=4096))]
    threads: Option<u32>,
    #[command(flatten)]
    gpu: super::gpu_flags::GpuFlags,
    /// Print one JSON line per hit, then a summary line.
    #[arg(long)]
    json: bool,
}

impl Args {
    fn target(&self, header_bits: CompactTarget) -> anyhow::Result<Target> {
        if let Some(bits) = &self.bits {
            let compact = CompactTarget::from_hex(bits)
                .with_context(|| format!("invalid --bits {}", super::quoted(bits)))?;
            return Target::from_compact(compact)
                .with_context(|| format!("invalid --bits {}", super::quoted(bits)));
        }
        if let Some(hex) = &self.target {
            return Target::from_be_hex(hex)
                .with_context(|| format!("invalid --target {}", super::quoted(hex)));
        }
        if let Some(d) = self.difficulty {
            return Target::from_difficulty(d).with_context(|| format!("invalid --difficulty {d}"));
        }
        Target::from_compact(header_bits).with_context(|| {
            format!("header's nBits {header_bits} (use --bits, --target or --difficulty)")
        })
    }
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let header = super::parse_header(&args.header)?;
    let target = args.target(header.bits)?;
    let count = args.count.unwrap_or(NONCE_SPACE - u64::from(args.start));
    let job = Job::new(header, args.start, count, target).context("invalid nonce range")?;
    let choice: BackendChoice = args.backend.parse()?;
    super::check_backend_options(choice, args.threads, args.adapter.as_deref())?;
    args.gpu.check(choice)?;
    let mut options = EngineOptions {
        threads: args.threads.map(|t| t as usize),
        adapter: args.adapter.clone(),
        ..EngineOptions::default()
    };
    args.gpu.apply(&mut options)?;
    let opened = backend::open(choice, &options)?;
    let unused = super::unused_threads_note(args.threads, opened.engine.as_ref());
    let unused_gpu = backend::unused_gpu_options_note(&options, opened.engine.as_ref());
    for note in opened.note.iter().chain(&unused).chain(&unused_gpu) {
        eprintln!("note: {note}");
    }
    let outcome = opened.engine.search(&job, &CancelToken::new())?;
    let stats = outcome.stats;

    let mut out = std::io::stdout().lock();
    if args.json {
        for hit in &outcome.hits {
            let line = serde_json::json!({
                "nonce": hit.nonce,
                "hash": hit.hash.to_string(),
                "header": header.with_nonce(hit.nonce).to_string(),
            });
            writeln!(out, "{line}")?;
        }
        let summary = serde_json::json!({ "summary": {
            "hashes": stats.hashes,
            "seconds": stats.elapsed.as_secs_f64(),
            "hashrate": stats.hashrate(),
            "hits": outcome.hits.len(),
            "backend": opened.engine.name(),
        }});
        writeln!(out, "{summary}")?;
    } else {
        writeln!(out, "{:>10}  {:<64}", "nonce", "hash")?;
        for hit in &outcome.hits {
            writeln!(out, "{:>10}  {}", hit.nonce, hit.hash)?;
        }
        writeln!(
            out,
            "{} hit(s) in {} nonces ({}..={}), {:.3} s, {:.2} MH/s on {} ({})",
            outcome.hits.len(),
            stats.hashes,
            job.start,
            u64::from(job.start) + job.count - 1,
            stats.elapsed.as_secs_f64(),
            stats.hashrate() / 1e6,
            opened.engine.name(),
            super::threads_label(opened.engine.threads()),
        )?;
    }
    Ok(())
}
