//! `hashwatt bench`: hashes per second and per joule of each backend.

use hashwatt::units::figure;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use hashwatt::backend::{BackendChoice, EngineOptions};
use hashwatt::bench::{BenchConfig, BenchReport, BenchSettings, Event, Phase, Plan, Progress};
use hashwatt::energy::{self, MeterKind, MeterOptions, PowerOverride, Watts};
use hashwatt::report;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Backend to measure, or `all` for every backend this machine has.
    #[arg(long, default_value = "auto")]
    backend: String,
    /// Measured seconds per backend (split into ~1 s intervals).
    #[arg(long, default_value_t = 3.0, allow_negative_numbers = true)]
    seconds: f64,
    /// Unmeasured warmup seconds before each backend.
    #[arg(long, default_value_t = 0.5, allow_negative_numbers = true)]
    warmup: f64,
    /// Seconds of idle power measured first (skipped for modeled energy, which needs none; 0: no idle figure).
    #[arg(long, default_value_t = 2.0, allow_negative_numbers = true)]
    idle_seconds: f64,
    /// GPU adapter: an index or part of a name from `hashwatt devices` [default: the best].
    #[arg(long, value_name = "NAME|INDEX")]
    adapter: Option<String>,
    /// CPU worker threads [default: one per core].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=4096))]
    threads: Option<u32>,
    #[command(flatten)]
    gpu: super::gpu_flags::GpuFlags,
    /// Cancels timed per backend for the hand-back figures (p50/p99/max; 0 skips them).
    #[arg(long, value_name = "N", default_value_t = hashwatt::bench::CANCEL_SAMPLES as u32,
          value_parser = clap::value_parser!(u32).range(0..=100_000))]
    cancel_samples: u32,
    /// Energy meter: auto (NVML for GPUs, RAPL for CPUs, else modeled), nvml, rapl or modeled.
    #[arg(long, default_value = "auto", value_parser = parse_meter)]
    meter: MeterKind,
    /// GPU power for the model, `WATTS` or `IDLE:WATTS` (makes `auto` model the GPU).
    #[arg(long, value_name = "[IDLE:]WATTS", value_parser = parse_power)]
    gpu_watts: Option<PowerOverride>,
    /// Whole-CPU power for the model, `WATTS` or `IDLE:WATTS` (makes `auto` model the CPU).
    #[arg(long, value_name = "[IDLE:]WATTS", value_parser = parse_power)]
    cpu_watts: Option<PowerOverride>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Also write the JSON report to this file.
    #[arg(long, value_name = "FILE")]
    export_json: Option<PathBuf>,
    /// Also write a Markdown table to this file.
    #[arg(long, value_name = "FILE")]
    export_markdown: Option<PathBuf>,
    /// Also write a CSV file (one row per backend).
    #[arg(long, value_name = "FILE")]
    export_csv: Option<PathBuf>,
    /// Busy watts of the mock meter (`--meter mock`, for tests).
    #[arg(long, hide = true, default_value_t = 100.0)]
    mock_watts: f64,
    /// Idle watts of the mock meter.
    #[arg(long, hide = true, default_value_t = 20.0)]
    mock_idle_watts: f64,
    /// Powercap directory read by the RAPL meter (for tests).
    #[arg(long, hide = true, default_value = energy::rapl::POWERCAP_ROOT)]
    rapl_root: PathBuf,
}

fn parse_meter(s: &str) -> Result<MeterKind, String> {
    s.parse()
}

fn parse_power(s: &str) -> Result<PowerOverride, String> {
    s.parse()
}

fn seconds(name: &str, value: f64, allow_zero: bool) -> anyhow::Result<Duration> {
    let ok =
        value.is_finite() && value <= 86_400.0 && (value > 0.0 || (allow_zero && value == 0.0));
    if !ok {
        let range = if allow_zero {
            "[0, 86400]"
        } else {
            "(0, 86400]"
        };
        anyhow::bail!("invalid --{name} {value}: expected a number of seconds in {range}");
    }
    Ok(Duration::from_secs_f64(value))
}

fn watts(name: &str, value: f64) -> anyhow::Result<Watts> {
    if !(value.is_finite() && (0.0..=1e6).contains(&value)) {
        anyhow::bail!("invalid --{name} {value}: expected watts in [0, 1000000]");
    }
    Ok(Watts(value))
}

/// One progress bar on stderr, drawn only for a person watching.
fn bar(hidden: bool, prefix: String, total: Duration) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(
        Some(total.as_millis().max(1) as u64),
        if hidden {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        },
    );
    if let Ok(style) = ProgressStyle::with_template("{prefix:>12} [{bar:30}] {elapsed:>3} {msg}") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(prefix);
    bar
}

/// Draws the plan's events as one bar per step.
struct Bars {
    hidden: bool,
    bar: Option<ProgressBar>,
    /// Where the step's measured window starts on its bar (after the warmup).
    warmup: Duration,
}

impl Bars {
    fn on(&mut self, event: &Event) {
        match event {
            Event::IdleStart { total, waits, .. } => {
                self.warmup = Duration::ZERO;
                self.bar = Some(bar(self.hidden || !waits, "idle".into(), *total));
            }
            Event::BackendStart {
                backend,
                warmup,
                total,
            } => {
                self.warmup = *warmup;
                self.bar = Some(bar(self.hidden, backend.clone(), *total));
            }
            Event::Progress(p) => {
                if let Some(bar) = &self.bar {
                    let offset = if p.phase == Phase::Measure {
                        self.warmup
                    } else {
                        Duration::ZERO
                    };
                    show(bar, offset, p);
                }
            }
            Event::CancelProbe => {
                if let Some(bar) = &self.bar {
                    bar.set_message("cancel latency");
                }
            }
            Event::StepEnd => {
                if let Some(bar) = self.bar.take() {
                    bar.finish_and_clear();
                }
            }
            _ => {}
        }
    }
}

fn show(bar: &ProgressBar, offset: Duration, p: &Progress) {
    bar.set_position((offset + p.done.min(p.total)).as_millis() as u64);
    bar.set_message(match p.phase {
        Phase::Idle => "idle power".to_string(),
        Phase::Warmup => format!("warmup {:.2} MH/s", p.hashrate / 1e6),
        Phase::Measure => format!("{:.2} MH/s", p.hashrate / 1e6),
    });
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let config = BenchConfig {
        seconds: seconds("seconds", args.seconds, false)?,
        warmup: seconds("warmup", args.warmup, true)?,
        interval: Duration::from_secs(1),
    };
    let idle = seconds("idle-seconds", args.idle_seconds, true)?;
    let meter_options = MeterOptions {
        cpu_watts: args.cpu_watts,
        gpu_watts: args.gpu_watts,
        mock_watts: watts("mock-watts", args.mock_watts)?,
        mock_idle_watts: watts("mock-idle-watts", args.mock_idle_watts)?,
        rapl_root: args.rapl_root.clone(),
    };
    let backends = if args.backend == "all" {
        hashwatt::backend::check_gpu_env()?;
        // An explicit --adapter or GPU flag asks for the GPU row.
        Plan::every_backend(args.adapter.is_some() || args.gpu.any())
    } else {
        let choice: BackendChoice = args.backend.parse().context("invalid --backend")?;
        super::check_backend_options(choice, args.threads, args.adapter.as_deref())?;
        args.gpu.check(choice)?;
        vec![choice]
    };
    let mut engine = EngineOptions {
        threads: args.threads.map(|t| t as usize),
        adapter: args.adapter.clone(),
        ..EngineOptions::default()
    };
    args.gpu.apply(&mut engine)?;
    // Ctrl-C / SIGTERM: the window in progress ends as a partial one, the
    // rest is skipped, and the report is printed and exported as usual.
    let cancel = hashwatt::search::CancelToken::new();
    super::signals::cancel_on_signals(&cancel)?;
    let plan = Plan {
        engine,
        cancel,
        meter: args.meter,
        meter_options,
        config,
        idle,
        cancel_samples: args.cancel_samples as usize,
        ..Plan::new(backends)
    };
    let mut bars = Bars {
        hidden: args.json || !std::io::stderr().is_terminal(),
        bar: None,
        warmup: Duration::ZERO,
    };
    let mut report = plan.run(&mut |e| bars.on(e))?;
    // The settings as given (the plan holds them as durations).
    report.settings = BenchSettings {
        seconds: args.seconds,
        warmup_seconds: args.warmup,
        idle_seconds: args.idle_seconds,
        meter: args.meter.to_string(),
    };
    // Printed first: a failed export still leaves the report on stdout.
    let mut out = std::io::stdout().lock();
    if args.json {
        out.write_all(report::json::to_string(&report)?.as_bytes())?;
    } else {
        print_text(&mut out, &report)?;
    }
    out.flush()?;
    write_exports(args, &report)?;
    Ok(())
}

/// Renders a report in one export format.
type Render = fn(&BenchReport) -> anyhow::Result<String>;

fn write_exports(args: &Args, report: &BenchReport) -> anyhow::Result<()> {
    let exports: [(&Option<PathBuf>, &str, Render); 3] = [
        (&args.export_json, "export-json", |r| {
            Ok(report::json::to_string(r)?)
        }),
        (&args.export_markdown, "export-markdown", |r| {
            Ok(report::markdown::to_string(r))
        }),
        (&args.export_csv, "export-csv", |r| {
            Ok(report::csv::to_string(r))
        }),
    ];
    for (path, flag, render) in exports {
        if let Some(path) = path {
            report::atomic::write(path, render(report)?.as_bytes())
                .with_context(|| format!("cannot write --{flag} {}", path.display()))?;
        }
    }
    Ok(())
}

fn print_text(out: &mut impl Write, report: &BenchReport) -> anyhow::Result<()> {
    let m = &report.machine;
    writeln!(
        out,
        "{} ({} logical CPUs; {}), {}, hashwatt {} ({})",
        m.cpu,
        m.logical_cpus,
        m.cpu_features.join(" "),
        m.os,
        m.hashwatt_version,
        m.git_commit
    )?;
    for idle in &report.idle {
        writeln!(
            out,
            "idle power of {}: {:.2} W, {}",
            idle.device,
            idle.watts,
            if idle.measured {
                format!("measured over {:.1} s", idle.seconds)
            } else {
                "modeled".to_string()
            }
        )?;
    }
    writeln!(
        out,
        "{:<10} {:>7} {:>26} {:>8} {:>10} {:>10} {:>10} {:>9}  energy",
        "backend", "threads", "MH/s median [min, max]", "W", "H/J", "J/TH", "x ASIC", "cancel ms"
    )?;
    for r in &report.results {
        let rate = match &r.interval_hashrate {
            Some(h) => format!(
                "{:.2} [{:.2}, {:.2}]",
                h.median / 1e6,
                h.min / 1e6,
                h.max / 1e6
            ),
            None => format!("{:.2}", r.hashrate / 1e6),
        };
        let e = r.energy.as_ref();
        writeln!(
            out,
            "{:<10} {:>7} {:>26} {:>8} {:>10} {:>10} {:>10} {:>9}  {}",
            r.backend,
            r.threads,
            rate,
            figure(e.map(|e| e.watts), 3),
            figure(r.hashes_per_joule, 3),
            figure(r.joules_per_terahash, 3),
            figure(r.times_less_efficient_than_asic, 3),
            figure(r.cancel_latency_ms, 3),
            match e {
                Some(e) if e.measured => "measured",
                Some(_) => "modeled",
                None => "none",
            }
        )?;
    }
    for r in &report.results {
        if let (Some(x), Some(e)) = (r.times_less_efficient_than_asic, &r.energy) {
            writeln!(
                out,
                "{}: {:.0}x less energy-efficient than an ASIC ({}, {} J/TH), {}",
                r.backend,
                x,
                report.asic.model,
                report.asic.joules_per_terahash,
                if e.measured { "measured" } else { "modeled" }
            )?;
        }
    }
    let mut sources: Vec<&str> = report
        .results
        .iter()
        .filter_map(|r| r.energy.as_ref().map(|e| e.source.as_str()))
        .collect();
    sources.dedup();
    for s in sources {
        writeln!(out, "energy {s}")?;
    }
    writeln!(out, "ASIC: {}", report.asic.source)?;
    for note in &report.notes {
        writeln!(out, "note: {note}")?;
    }
    Ok(())
}
