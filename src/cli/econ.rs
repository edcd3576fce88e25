//! `hashwatt econ`: mine, infer or idle? Net USD per hour, break-evens, site
//! view per MW, sensitivity plots.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use hashwatt::economics::bench::BenchReport;
use hashwatt::economics::inputs::InputFlags;
use hashwatt::economics::report::EconReport;
use hashwatt::economics::scenario::{BenchInput, Method, ScenarioFile};
use hashwatt::economics::units::{HashRate, Watts};
use hashwatt::economics::{Scenario, evaluate, sensitivity};
use hashwatt::report::plot;

#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("live_node").args(["node"]).requires("live")))]
pub struct Args {
    /// Scenario file (TOML); flags override it.
    #[arg(long, value_name = "FILE.toml")]
    scenario: Option<PathBuf>,
    /// Bench report (`hashwatt bench --json`): hash rate and watts come from it.
    #[arg(long, value_name = "REPORT.json")]
    bench: Option<PathBuf>,
    /// Which backend's result to use from the bench report [default: gpu, else the fastest].
    #[arg(long, value_name = "NAME")]
    bench_backend: Option<String>,
    #[command(flatten)]
    inputs: InputFlags,
    /// Print the report as JSON (`hashwatt.econ/2`).
    #[arg(long)]
    json: bool,
    /// Also write the Markdown report to this file.
    #[arg(long, value_name = "F")]
    export_markdown: Option<PathBuf>,
    /// Also write every input (value, unit, source, assumption) and the site options as CSV.
    #[arg(long, value_name = "F")]
    export_csv: Option<PathBuf>,
    /// Write sensitivity charts (SVG) into this directory.
    #[arg(long, value_name = "DIR")]
    plot: Option<PathBuf>,
    #[command(flatten)]
    live: super::live::LiveArgs,
}

/// `--live`: refreshes the live inputs from `sources` and applies them to `scenario`.
fn apply_live(
    sources: &hashwatt::economics::live::LiveSources,
    cache: &std::path::Path,
    scenario: &mut Scenario,
) -> anyhow::Result<hashwatt::economics::live::LiveReport> {
    use hashwatt::economics::live::{self, LiveReport};
    let now = live::now();
    let got = live::refresh(sources, cache, now);
    let applied = scenario
        .apply_live(&got.inputs, now)
        .context("live network inputs")?;
    for e in &got.errors {
        eprintln!("warning: live: {e}");
    }
    Ok(LiveReport::new(&got, cache, &applied, now))
}

impl Args {
    /// The flags as a scenario layer; a rental price alone selects the
    /// rental method.
    fn as_layer(&self) -> ScenarioFile {
        let mut layer = self.inputs.layer();
        let inference = &mut layer.inference;
        if inference.method.is_none() && inference.rental_usd_per_hour.is_some() {
            inference.method = Some(Method::Rental);
        }
        layer
    }
}

fn bench_input(args: &Args) -> anyhow::Result<Option<BenchInput>> {
    let Some(path) = &args.bench else {
        return Ok(None);
    };
    let report = BenchReport::load(path)?;
    let r = report.select(args.bench_backend.as_deref(), path)?;
    if let Some(adapter) = r.software_adapter() {
        anyhow::bail!(
            "--bench {}: the gpu result ran on a software adapter ({adapter}), so its rate is \
             the host CPU's, not a hardware GPU's; bench on the GPU itself, or state a rate \
             with --hashrate",
            path.display()
        );
    }
    Ok(Some(BenchInput {
        path: path.clone(),
        backend: r.backend.clone(),
        hashrate: HashRate(r.hashrate),
        watts: r.watts().map(Watts),
        idle_watts: r.idle_watts().map(Watts),
        watts_measured: r.energy_measured(),
        meter: r.energy_source().to_owned(),
    }))
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    if args.bench_backend.is_some() && args.bench.is_none() {
        anyhow::bail!(
            "--bench-backend picks a result from a bench report: add --bench REPORT.json"
        );
    }
    let file = args
        .scenario
        .as_ref()
        .map(|p| hashwatt::economics::scenario::ScenarioFile::load(p).map(|f| (f, p.clone())))
        .transpose()?;
    let bench = bench_input(args)?;
    let flags = args.as_layer();
    let mut scenario = Scenario::resolve(
        file.as_ref().map(|(f, p)| (f, p.as_path())),
        bench.as_ref(),
        Some(&flags),
    )?;
    scenario.check_used(file.as_ref().map(|(f, p)| (f, p.as_path())), &flags)?;
    let live = match args.live.sources()? {
        Some((sources, cache)) => Some(apply_live(&sources, &cache, &mut scenario)?),
        None => None,
    };
    let decision = evaluate(&scenario)?;
    let sweeps = sensitivity::default_sweeps(&scenario)?;
    if let Some(dir) = &args.plot {
        let mut files = plot::write_all(&sweeps, dir)?;
        let site_svg = dir.join("site_power_price.svg");
        plot::write_site_sweep(
            &hashwatt::economics::site::price_sweep(&scenario)?,
            &site_svg,
        )?;
        files.push(site_svg);
        let ratio_svg = dir.join("revenue_to_power.svg");
        plot::write_revenue_ratios(&sensitivity::revenue_to_power(&scenario)?, &ratio_svg)?;
        files.push(ratio_svg);
        for f in files {
            eprintln!("wrote {}", f.display());
        }
    }
    let site = hashwatt::economics::site::evaluate(&scenario)?;
    let mut report = EconReport::new(&scenario, &decision, site, sweeps);
    report.live = live;
    let markdown = report.to_markdown(&scenario);
    if let Some(path) = &args.export_markdown {
        hashwatt::report::atomic::write(path, markdown.as_bytes())
            .with_context(|| format!("cannot write --export-markdown {}", path.display()))?;
    }
    if let Some(path) = &args.export_csv {
        std::fs::write(path, hashwatt::report::csv::econ(&report))
            .with_context(|| format!("cannot write --export-csv {}", path.display()))?;
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", report.to_json()?)?;
    } else {
        write!(out, "{markdown}")?;
    }
    Ok(())
}
