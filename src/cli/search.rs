//! `hashwatt search`: every nonce in a range whose hash meets a target.

use std::io::Write;
use std::ops::ControlFlow;

use anyhow::Context;
use hashwatt::backend::{self, BackendChoice, EngineOptions};
use hashwatt::pow::{CompactTarget, Target};
use hashwatt::search::stream::search_streaming;
use hashwatt::search::{CancelToken, Hit, Job, NONCE_SPACE};

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
    /// Stop after this many hits [default: every hit in the range].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    max_hits: Option<u64>,
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
    // Hits are printed as each slice of the range is verified; only counts
    // are kept, so memory stays flat over the whole nonce space.
    let cancel = CancelToken::new();
    super::signals::cancel_on_signals(&cancel)?;
    let mut out = std::io::stdout().lock();
    if !args.json {
        writeln!(out, "{:>10}  {:<64}", "nonce", "hash")?;
    }
    let mut write_error = None;
    let mut hits = 0u64;
    let mut on_hit = |hit: &Hit| {
        let written = if args.json {
            let line = serde_json::json!({
                "nonce": hit.nonce,
                "hash": hit.hash.to_string(),
                "header": header.with_nonce(hit.nonce).to_string(),
            });
            writeln!(out, "{line}")
        } else {
            writeln!(out, "{:>10}  {}", hit.nonce, hit.hash)
        };
        if let Err(e) = written.and_then(|()| out.flush()) {
            write_error = Some(e);
            return ControlFlow::Break(());
        }
        hits += 1;
        match args.max_hits {
            Some(max) if hits >= max => ControlFlow::Break(()),
            _ => ControlFlow::Continue(()),
        }
    };
    let summary = search_streaming(opened.engine.as_ref(), &job, &cancel, &mut on_hit)?;
    if let Some(e) = write_error {
        return Err(e.into());
    }
    let stop = if let Some(code) = super::signal_exit_code() {
        Some(format!(
            "stopped by {} (exit {code})",
            super::signals::name()
        ))
    } else if summary.stopped {
        args.max_hits
            .map(|n| format!("stopped after --max-hits {n}"))
    } else {
        None
    };
    let covered = summary.covered_end.saturating_sub(u64::from(job.start));
    let mut out = std::io::stdout().lock();
    if args.json {
        let value = serde_json::json!({ "summary": {
            "hashes": summary.hashes,
            "seconds": summary.elapsed.as_secs_f64(),
            "hashrate": summary.hashrate(),
            "hits": summary.hits,
            "backend": opened.engine.name(),
            "start": job.start,
            "covered_end": summary.covered_end,
            "complete": !summary.stopped,
            "stopped": stop,
        }});
        writeln!(out, "{value}")?;
    } else {
        let range = if covered == 0 {
            "none of the range fully searched".to_string()
        } else {
            format!("{}..={} searched", job.start, summary.covered_end - 1)
        };
        writeln!(
            out,
            "{} hit(s) in {} nonces ({range}{}), {:.3} s, {:.2} MH/s on {} ({})",
            summary.hits,
            summary.hashes,
            if summary.stopped {
                format!(
                    " of {}..={}",
                    job.start,
                    u64::from(job.start) + job.count - 1
                )
            } else {
                String::new()
            },
            summary.elapsed.as_secs_f64(),
            summary.hashrate() / 1e6,
            opened.engine.name(),
            super::threads_label(opened.engine.threads()),
        )?;
        if let Some(stop) = stop {
            writeln!(out, "{stop}")?;
        }
    }
    Ok(())
}
