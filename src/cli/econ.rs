//! `hashwatt econ`: mine, infer or idle? Net USD per hour, break-evens, site
//! view per MW, sensitivity plots.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use hashwatt::economics::bench::BenchReport;
use hashwatt::economics::inference::InferenceValue;
use hashwatt::economics::inference::Precision;
use hashwatt::economics::power::IdleMode;
use hashwatt::economics::report::EconReport;
use hashwatt::economics::scenario::{
    BenchInput, InferenceSection, Method, MiningSection, PowerSection, ScenarioFile,
};
use hashwatt::economics::units::{HashRate, Watts};
use hashwatt::economics::{Scenario, evaluate, sensitivity};
use hashwatt::report::plot;

#[derive(clap::Args, Debug)]
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
    /// Block height (sets the subsidy).
    #[arg(long, value_name = "H")]
    height: Option<u32>,
    /// Network difficulty.
    #[arg(long, value_name = "D", allow_negative_numbers = true)]
    difficulty: Option<f64>,
    /// BTC price, USD.
    #[arg(long, value_name = "USD", allow_negative_numbers = true)]
    btc_price: Option<f64>,
    /// Transaction fees per block, BTC.
    #[arg(long, value_name = "F", allow_negative_numbers = true)]
    fees_btc: Option<f64>,
    /// Pool fee, percent.
    #[arg(long, value_name = "PCT", allow_negative_numbers = true)]
    pool_fee: Option<f64>,
    /// Stale share rate, percent.
    #[arg(long, value_name = "PCT", allow_negative_numbers = true)]
    stale: Option<f64>,
    /// Mining uptime, percent.
    #[arg(long, value_name = "PCT", allow_negative_numbers = true)]
    uptime: Option<f64>,
    /// Hash rate, H/s (overrides the bench report).
    #[arg(long, value_name = "H_PER_S", allow_negative_numbers = true)]
    hashrate: Option<f64>,
    /// Watts while mining (overrides the bench report).
    #[arg(long, value_name = "W", allow_negative_numbers = true)]
    watts: Option<f64>,
    /// Watts while serving inference [default: GPU max power].
    #[arg(long, value_name = "W", allow_negative_numbers = true)]
    inference_watts: Option<f64>,
    /// Watts while on and idle [default: bench idle baseline, else 10% of max power].
    #[arg(long, value_name = "W", allow_negative_numbers = true)]
    idle_watts: Option<f64>,
    /// What idling means: `on` (draws idle watts) or `powered-down` (draws nothing).
    #[arg(long, value_name = "MODE", value_parser = parse_idle_mode)]
    idle_mode: Option<IdleMode>,
    /// Electricity price, USD/kWh.
    #[arg(long, value_name = "USD_PER_KWH", allow_negative_numbers = true)]
    electricity: Option<f64>,
    /// Power usage effectiveness (facility power / IT power, >= 1).
    #[arg(long, value_name = "X", allow_negative_numbers = true)]
    pue: Option<f64>,
    /// GPU preset: h100-sxm, h100-pcie, h200, a100-80gb, l40s, rtx-4090, b200, mi300x.
    #[arg(long, value_name = "PRESET")]
    gpu: Option<String>,
    /// Custom GPU: memory, GB (replaces the --gpu preset's figure).
    #[arg(long, value_name = "GB", allow_negative_numbers = true)]
    gpu_memory_gb: Option<f64>,
    /// Custom GPU: memory bandwidth, TB/s.
    #[arg(long, value_name = "TB_PER_S", allow_negative_numbers = true)]
    gpu_bandwidth_tb_s: Option<f64>,
    /// Custom GPU: dense FP16/BF16 tensor TFLOPS.
    #[arg(long, value_name = "TFLOPS", allow_negative_numbers = true)]
    gpu_fp16_tflops: Option<f64>,
    /// Custom GPU: dense FP8 tensor TFLOPS (0: no FP8).
    #[arg(long, value_name = "TFLOPS", allow_negative_numbers = true)]
    gpu_fp8_tflops: Option<f64>,
    /// Custom GPU: board power, W.
    #[arg(long, value_name = "W", allow_negative_numbers = true)]
    gpu_board_watts: Option<f64>,
    /// Model preset: llama-3.1-8b, llama-3.1-70b.
    #[arg(long, value_name = "PRESET")]
    model: Option<String>,
    /// Weight precision: fp16, fp8, int4.
    #[arg(long, value_name = "P")]
    precision: Option<Precision>,
    /// GPUs serving one model replica (tensor parallel), for models too big for one GPU.
    #[arg(long, value_name = "N")]
    gpus_per_replica: Option<u32>,
    /// Input (prompt) tokens per request for the roofline [default: 1000].
    #[arg(long, value_name = "N")]
    input_tokens: Option<u32>,
    /// Output tokens per request for the roofline [default: 1000].
    #[arg(long, value_name = "N")]
    output_tokens: Option<u32>,
    /// Inference valuation: `tokens` (roofline) or `rental` [default: tokens, or rental when --rental-usd-per-hour is given].
    #[arg(long, value_name = "METHOD", value_parser = parse_method)]
    method: Option<Method>,
    /// Price per million output tokens, USD [default: the model preset's].
    #[arg(long, value_name = "P", allow_negative_numbers = true)]
    usd_per_mtok: Option<f64>,
    /// Price per million input (prompt) tokens, USD [default: the model preset's].
    #[arg(long, value_name = "P", allow_negative_numbers = true)]
    usd_per_mtok_input: Option<f64>,
    /// Rental price per GPU-hour, USD (selects the rental method).
    #[arg(long, value_name = "R", allow_negative_numbers = true)]
    rental_usd_per_hour: Option<f64>,
    /// Share of the hour inference is paid for, percent.
    #[arg(long, value_name = "PCT", allow_negative_numbers = true)]
    utilization: Option<f64>,
    /// Project mining over this many months.
    #[arg(long, value_name = "N")]
    horizon_months: Option<u32>,
    /// Difficulty growth per month for the horizon, percent.
    #[arg(long, value_name = "PCT", allow_negative_numbers = true)]
    difficulty_growth: Option<f64>,
    /// BTC price change per month for the horizon, percent.
    #[arg(long, value_name = "PCT", allow_negative_numbers = true)]
    btc_price_change: Option<f64>,
    /// Site power price, USD/MWh [default: electricity x 1000].
    #[arg(long, value_name = "USD_PER_MWH", allow_negative_numbers = true)]
    site_power: Option<f64>,
    /// Site size, MW of facility power.
    #[arg(long, value_name = "MW", allow_negative_numbers = true)]
    site_mw: Option<f64>,
    /// AI lease income, USD per MW of IT load per year [default: $1.45M, Core Scientific-CoreWeave].
    #[arg(long, value_name = "USD", allow_negative_numbers = true)]
    lease_usd_per_mw_year: Option<f64>,
    /// AI hall fit-out capex, USD per MW [default: $4M, midpoint of $3-5M].
    #[arg(long, value_name = "USD", allow_negative_numbers = true)]
    lease_capex_usd_per_mw: Option<f64>,
    /// The AI tenant pays for its own power (`true` or `false`) [default: false].
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    tenant_pays_power: Option<bool>,
    /// Discount rate for NPV, percent per year [default: 10].
    #[arg(long, value_name = "PCT", allow_negative_numbers = true)]
    discount_rate: Option<f64>,
    /// ASIC preset for the site view (repeatable): s21-xp, s21, s21-pro, s21-xp-hyd, s23-hyd, m60s.
    #[arg(long, value_name = "PRESET")]
    asic: Vec<String>,
    /// PUE of the mining facility [default: --pue].
    #[arg(long, value_name = "X", allow_negative_numbers = true)]
    mining_pue: Option<f64>,
    /// PUE of the AI hall [default: --pue].
    #[arg(long, value_name = "X", allow_negative_numbers = true)]
    ai_pue: Option<f64>,
    /// GPU server wall power per GPU, W [default: DGX figure for H100/H200].
    #[arg(long, value_name = "W", allow_negative_numbers = true)]
    server_watts_per_gpu: Option<f64>,
    /// GPU server price per GPU it holds, USD [default: DGX H100 price / 8 for H100].
    #[arg(long, value_name = "USD", allow_negative_numbers = true)]
    gpu_server_capex_usd: Option<f64>,
    /// GPU server service life, months [default: 48].
    #[arg(long, value_name = "N")]
    server_life_months: Option<u32>,
    /// ASIC price, USD per TH/s [default: $20, Luxor ASIC Price Index].
    #[arg(long, value_name = "USD", allow_negative_numbers = true)]
    asic_capex_usd_per_th: Option<f64>,
    /// Marketplace fee on GPU rental revenue, percent [default: 0].
    #[arg(long, value_name = "PCT", allow_negative_numbers = true)]
    marketplace_fee: Option<f64>,
    /// Paid per MWh not drawn when curtailing, USD [default: 0].
    #[arg(long, value_name = "USD_PER_MWH", allow_negative_numbers = true)]
    curtail_usd_per_mwh: Option<f64>,
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

fn parse_idle_mode(s: &str) -> Result<IdleMode, String> {
    match s {
        "on" => Ok(IdleMode::On),
        "powered-down" | "off" => Ok(IdleMode::PoweredDown),
        _ => Err(format!("expected `on` or `powered-down`, got `{s}`")),
    }
}

fn parse_method(s: &str) -> Result<Method, String> {
    match s {
        "tokens" => Ok(Method::Tokens),
        "rental" => Ok(Method::Rental),
        _ => Err(format!("expected `tokens` or `rental`, got `{s}`")),
    }
}

impl Args {
    /// The flags as a scenario layer, with the flag that set each key.
    fn as_layer(&self) -> (ScenarioFile, BTreeMap<&'static str, &'static str>) {
        let names = BTreeMap::from([
            ("mining.hashrate_h_per_s", "--hashrate"),
            ("mining.difficulty", "--difficulty"),
            ("mining.height", "--height"),
            ("mining.btc_price_usd", "--btc-price"),
            ("mining.fees_btc_per_block", "--fees-btc"),
            ("mining.pool_fee_pct", "--pool-fee"),
            ("mining.stale_pct", "--stale"),
            ("mining.uptime_pct", "--uptime"),
            ("mining.horizon_months", "--horizon-months"),
            (
                "mining.difficulty_growth_pct_per_month",
                "--difficulty-growth",
            ),
            (
                "mining.btc_price_change_pct_per_month",
                "--btc-price-change",
            ),
            ("power.mining_watts", "--watts"),
            ("power.inference_watts", "--inference-watts"),
            ("power.idle_watts", "--idle-watts"),
            ("power.idle_mode", "--idle-mode"),
            ("power.electricity_usd_per_kwh", "--electricity"),
            ("power.pue", "--pue"),
            ("inference.gpu", "--gpu"),
            ("inference.model", "--model"),
            ("inference.precision", "--precision"),
            ("inference.method", "--method"),
            ("inference.gpus_per_replica", "--gpus-per-replica"),
            ("inference.input_tokens", "--input-tokens"),
            ("inference.output_tokens", "--output-tokens"),
            ("inference.usd_per_mtok", "--usd-per-mtok"),
            ("inference.usd_per_mtok_input", "--usd-per-mtok-input"),
            ("inference.rental_usd_per_hour", "--rental-usd-per-hour"),
            ("inference.utilization_pct", "--utilization"),
            ("site.power_usd_per_mwh", "--site-power"),
            ("site.power_mw", "--site-mw"),
            ("gpu.memory_gb", "--gpu-memory-gb"),
            ("gpu.bandwidth_tb_s", "--gpu-bandwidth-tb-s"),
            ("gpu.fp16_tflops", "--gpu-fp16-tflops"),
            ("gpu.fp8_tflops", "--gpu-fp8-tflops"),
            ("gpu.board_watts", "--gpu-board-watts"),
            ("site.lease_usd_per_mw_year", "--lease-usd-per-mw-year"),
            ("site.lease_capex_usd_per_mw", "--lease-capex-usd-per-mw"),
            ("site.tenant_pays_power", "--tenant-pays-power"),
            ("site.discount_rate_pct", "--discount-rate"),
            ("site.asics", "--asic"),
            ("site.mining_pue", "--mining-pue"),
            ("site.ai_pue", "--ai-pue"),
            ("site.server_watts_per_gpu", "--server-watts-per-gpu"),
            ("site.gpu_server_capex_usd", "--gpu-server-capex-usd"),
            ("site.server_life_months", "--server-life-months"),
            ("site.asic_capex_usd_per_th", "--asic-capex-usd-per-th"),
            ("site.marketplace_fee_pct", "--marketplace-fee"),
            ("site.curtail_usd_per_mwh", "--curtail-usd-per-mwh"),
        ]);
        let method = self
            .method
            .or(self.rental_usd_per_hour.map(|_| Method::Rental));
        let layer = ScenarioFile {
            mining: MiningSection {
                hashrate_h_per_s: self.hashrate,
                difficulty: self.difficulty,
                height: self.height,
                btc_price_usd: self.btc_price,
                fees_btc_per_block: self.fees_btc,
                pool_fee_pct: self.pool_fee,
                stale_pct: self.stale,
                uptime_pct: self.uptime,
                horizon_months: self.horizon_months,
                difficulty_growth_pct_per_month: self.difficulty_growth,
                btc_price_change_pct_per_month: self.btc_price_change,
            },
            power: PowerSection {
                electricity_usd_per_kwh: self.electricity,
                pue: self.pue,
                mining_watts: self.watts,
                inference_watts: self.inference_watts,
                idle_watts: self.idle_watts,
                idle_mode: self.idle_mode,
            },
            inference: InferenceSection {
                method,
                gpu: self.gpu.clone(),
                model: self.model.clone(),
                precision: self.precision,
                usd_per_mtok: self.usd_per_mtok,
                usd_per_mtok_input: self.usd_per_mtok_input,
                rental_usd_per_hour: self.rental_usd_per_hour,
                utilization_pct: self.utilization,
                gpus_per_replica: self.gpus_per_replica,
                input_tokens: self.input_tokens,
                output_tokens: self.output_tokens,
                ..Default::default()
            },
            gpu: hashwatt::economics::scenario::GpuSection {
                memory_gb: self.gpu_memory_gb,
                bandwidth_tb_s: self.gpu_bandwidth_tb_s,
                fp16_tflops: self.gpu_fp16_tflops,
                fp8_tflops: self.gpu_fp8_tflops,
                board_watts: self.gpu_board_watts,
            },
            site: hashwatt::economics::scenario::SiteSection {
                power_usd_per_mwh: self.site_power,
                power_mw: self.site_mw,
                curtail_usd_per_mwh: self.curtail_usd_per_mwh,
                discount_rate_pct: self.discount_rate,
                asics: (!self.asic.is_empty()).then(|| self.asic.clone()),
                custom_asics: None,
                mining_pue: self.mining_pue,
                ai_pue: self.ai_pue,
                asic_capex_usd_per_th: self.asic_capex_usd_per_th,
                lease_usd_per_mw_year: self.lease_usd_per_mw_year,
                lease_capex_usd_per_mw: self.lease_capex_usd_per_mw,
                tenant_pays_power: self.tenant_pays_power,
                server_watts_per_gpu: self.server_watts_per_gpu,
                gpu_server_capex_usd: self.gpu_server_capex_usd,
                server_life_months: self.server_life_months,
                marketplace_fee_pct: self.marketplace_fee,
            },
            ..Default::default()
        };
        (layer, names)
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

/// Why input `key` of `scenario` is not used, if it is not: roofline inputs
/// under the rental method, the rental price under the tokens method, GPU
/// server inputs when the GPU options are left out of the site view.
fn unused_reason(key: &str, scenario: &Scenario) -> Option<&'static str> {
    if !scenario.sources.contains_key(key) {
        return Some(match &scenario.inference {
            InferenceValue::Rental { .. } if key.starts_with("inference.") => {
                "with --method rental the inference value is the rental price per GPU-hour, \
                 so roofline inputs and the token price are not used"
            }
            InferenceValue::Tokens { .. } if key.starts_with("inference.") => {
                "with --method tokens the inference value comes from the roofline and the \
                 token price, not from a rental price"
            }
            _ => "nothing in this scenario reads it",
        });
    }
    let server = [
        "site.server_watts_per_gpu",
        "site.server_life_months",
        "site.marketplace_fee_pct",
    ];
    (scenario.site.gpu_server_capex_usd.is_none() && server.contains(&key)).then_some(
        "the site view leaves gpu-cloud and gpu-mining out without a GPU server price; \
         set --gpu-server-capex-usd",
    )
}

/// The `section.field` keys that `layer` sets.
fn set_keys(layer: &ScenarioFile) -> anyhow::Result<Vec<String>> {
    let value = serde_json::to_value(layer).context("scenario layer as JSON")?;
    let mut keys = Vec::new();
    for (section, fields) in value.as_object().into_iter().flatten() {
        for (field, v) in fields.as_object().into_iter().flatten() {
            if !v.is_null() {
                keys.push(format!("{section}.{field}"));
            }
        }
    }
    Ok(keys)
}

/// Refuses inputs, from flags or from the scenario file, that the resolved
/// scenario would not use, so nothing a user gives is silently dropped.
fn check_inputs_used(
    file: Option<(&ScenarioFile, &std::path::Path)>,
    flags: &ScenarioFile,
    names: &BTreeMap<&'static str, &'static str>,
    scenario: &Scenario,
) -> anyhow::Result<()> {
    for key in set_keys(flags)? {
        if let Some(why) = unused_reason(&key, scenario) {
            let flag = names.get(key.as_str()).copied().unwrap_or("a flag");
            anyhow::bail!("{flag} is not used: {why}");
        }
    }
    if let Some((file, path)) = file {
        // A flag that switches the method or the horizon may leave the file's
        // inputs for the other setting unread: that is what overriding means.
        let flag_keys = set_keys(flags)?;
        let overridden = |key: &str| {
            let decider = if key.starts_with("inference.") {
                "inference.method"
            } else {
                "mining.horizon_months"
            };
            flag_keys.iter().any(|k| k == decider)
        };
        for key in set_keys(file)? {
            if overridden(&key) {
                continue;
            }
            if let Some(why) = unused_reason(&key, scenario) {
                anyhow::bail!("scenario {}: `{key}` is not used: {why}", path.display());
            }
        }
    }
    Ok(())
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
    let (flags, names) = args.as_layer();
    let mut scenario = Scenario::resolve(
        file.as_ref().map(|(f, p)| (f, p.as_path())),
        bench.as_ref(),
        Some((&flags, &names)),
    )?;
    check_inputs_used(
        file.as_ref().map(|(f, p)| (f, p.as_path())),
        &flags,
        &names,
        &scenario,
    )?;
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
