//! The `econ` and `compare` commands as users run them.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    common::hashwatt_command()
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn data(name: &str) -> PathBuf {
    root().join("tests/data/econ").join(name)
}

fn scenario(name: &str) -> PathBuf {
    root().join("scenarios").join(name)
}

fn run(args: &[&str]) -> Output {
    bin()
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run hashwatt: {e}"))
}

fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "hashwatt {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn json(args: &[&str]) -> serde_json::Value {
    let text = ok(args);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Fails with exit code 1 and a single-line error naming `needle`.
fn fails_naming(args: &[&str], needle: &str) {
    let out = run(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "{args:?}: not one line: {err}"
    );
    assert!(err.contains(needle), "{args:?}: {err:?} lacks {needle:?}");
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap_or_else(|| panic!("non-UTF-8 path"))
}

#[test]
fn shipped_scenarios_run_and_say_plainly_that_mining_does_not_pay() {
    let h100 = scenario("h100-idle.toml");
    let md = ok(&["econ", "--scenario", s(&h100)]);
    assert!(md.contains("**Winner: infer**"), "{md}");
    assert!(
        md.contains("mining does not pay for its electricity"),
        "{md}"
    );
    assert!(md.contains("power costs 10928x what mining earns"), "{md}");
    let site = scenario("site-1mw.toml");
    let md = ok(&["econ", "--scenario", s(&site)]);
    assert!(
        md.contains("`asic:s23-hyd` Antminer S23 Hydro (9.5 J/TH)"),
        "{md}"
    );
    assert!(md.contains("Scenario date: 2026-01-12."), "{md}");
    // The scenario's comments travel with its values as their sources.
    assert!(md.contains("Riot Platforms net power cost"), "{md}");
}

/// The shipped site scenario, at its cited inputs, ranks leasing to an AI
/// tenant above ASIC mining above curtailing (the public ordering), with the
/// JSON contract of issue 12.
#[test]
fn shipped_site_scenario_ranks_ai_lease_over_asics_over_curtail() {
    let v = json(&[
        "econ",
        "--scenario",
        s(&scenario("site-1mw.toml")),
        "--json",
    ]);
    let site = &v["site"];
    for k in [
        "power_mw",
        "power_usd_per_mwh",
        "horizon_months",
        "discount_rate_pct",
        "winner",
    ] {
        assert!(!site[k].is_null(), "site.{k}");
    }
    assert_eq!(site["power_usd_per_mwh"], 34.0);
    assert_eq!(site["horizon_months"], 120);
    let options = site["options"].as_array().cloned().unwrap_or_default();
    let npv = |id: &str| {
        options
            .iter()
            .find(|o| o["id"] == id)
            .and_then(|o| o["npv_usd_per_mw"].as_f64())
            .unwrap_or_else(|| panic!("no option {id}: {site}"))
    };
    let best_asic = options
        .iter()
        .filter(|o| o["id"].as_str().is_some_and(|id| id.starts_with("asic:")))
        .filter_map(|o| o["npv_usd_per_mw"].as_f64())
        .fold(f64::NEG_INFINITY, f64::max);
    assert!(npv("ai-lease") > best_asic, "{site}");
    assert!(best_asic > npv("curtail"), "{site}");
    for o in &options {
        for k in [
            "id",
            "name",
            "units",
            "revenue_usd_per_mw_year",
            "opex_usd_per_mw_year",
            "net_usd_per_mw_year",
            "capex_usd_per_mw",
            "npv_usd_per_mw",
            "payback_years",
        ] {
            assert!(o.get(k).is_some(), "{k} in {o}");
        }
    }
    // Ranked by NPV, winner first.
    let npvs: Vec<f64> = options
        .iter()
        .filter_map(|o| o["npv_usd_per_mw"].as_f64())
        .collect();
    assert!(npvs.windows(2).all(|w| w[0] >= w[1]), "{npvs:?}");
    assert_eq!(site["winner"], options[0]["id"]);
    // 1 MW / PUE 1.1 / 1,275 W per GPU in a DGX H100 = 713 GPUs.
    let cloud = options
        .iter()
        .find(|o| o["id"] == "gpu-cloud")
        .unwrap_or_else(|| panic!("no gpu-cloud"));
    assert_eq!(cloud["units"].as_f64().map(f64::floor), Some(713.0));
}

/// `--electricity` sets the site's power price even when the scenario file
/// gives one: the flag is the later layer.
#[test]
fn electricity_flag_sets_the_site_power_price() {
    let site = scenario("site-1mw.toml");
    let v = json(&[
        "econ",
        "--scenario",
        s(&site),
        "--electricity",
        "0.15",
        "--json",
    ]);
    assert_eq!(v["site"]["power_usd_per_mwh"], 150.0);
    let v = json(&[
        "econ",
        "--scenario",
        s(&site),
        "--electricity",
        "0.15",
        "--site-power",
        "20",
        "--json",
    ]);
    assert_eq!(v["site"]["power_usd_per_mwh"], 20.0);
    assert_eq!(
        v["inputs"]["site.power_usd_per_mwh"]["source"]["kind"],
        "flag"
    );
}

/// Every input in the CSV export carries its unit, source and assumption
/// flag; the site options follow, keyed by option id.
#[test]
fn export_csv_carries_provenance() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let csv = dir.path().join("econ.csv");
    ok(&[
        "econ",
        "--scenario",
        s(&scenario("site-1mw.toml")),
        "--export-csv",
        s(&csv),
    ]);
    let text = std::fs::read_to_string(&csv).unwrap_or_else(|e| panic!("{e}"));
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("section,key,value,unit,source_kind,source,measured,assumption")
    );
    assert!(text.contains("scenario,date,2026-01-12,"), "{text}");
    let pool = text
        .lines()
        .find(|l| l.starts_with("input,mining.pool_fee_pct,"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        pool.starts_with("input,mining.pool_fee_pct,2.0,%,scenario file,"),
        "{pool}"
    );
    assert!(pool.ends_with(",false,true"), "{pool}");
    let price = text
        .lines()
        .find(|l| l.starts_with("input,power.electricity_usd_per_kwh,"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(price.contains("Riot Platforms"), "{price}");
    assert!(price.ends_with(",false,false"), "{price}");
    assert!(text.contains("site,ai-lease.npv_usd_per_mw,"), "{text}");
}

#[test]
fn json_report_has_stable_fields_hand_checked() {
    let v = json(&[
        "econ",
        "--scenario",
        s(&scenario("h100-idle.toml")),
        "--json",
    ]);
    assert_eq!(v["schema"], "hashwatt.econ/2");
    assert_eq!(v["decision"]["winner"], "infer");
    assert_eq!(v["mining"]["subsidy_btc"], 3.125);
    let hp = v["mining"]["hashprice_usd_per_ph_day"]
        .as_f64()
        .unwrap_or(0.0);
    assert!((hp - 38.851).abs() < 0.01, "{hp}");
    // 700 W × $0.081/kWh × PUE 1.56.
    let p = v["power"]["usd_per_hour"].as_f64().unwrap_or(0.0);
    assert!((p - 0.088_452).abs() < 1e-9, "{p}");
    let tps = v["inference"]["tokens_per_second"].as_f64().unwrap_or(0.0);
    assert!((tps / 15_220.0 - 1.0).abs() < 0.25, "{tps}");
    for k in [
        "btc_per_day",
        "usd_per_day",
        "usd_per_hour",
        "hashprice_usd_per_ph_day",
    ] {
        assert!(v["mining"][k].is_number(), "mining.{k}");
    }
    for k in ["mine", "infer", "idle"] {
        assert!(v["decision"]["net_usd_per_hour"][k].is_number(), "net.{k}");
    }
    assert!(
        v["decision"]["breakeven_btc_price_usd"]
            .as_f64()
            .unwrap_or(0.0)
            > 1e9
    );
    // No electricity price makes the GPU miner beat inference: null.
    assert!(v["decision"]["breakeven_electricity_usd_per_kwh"].is_null());
    let src = &v["inputs"]["mining.difficulty"]["source"];
    assert_eq!(src["kind"], "scenario");
    // The file's path, then the comment above the key: its citation.
    let detail = src["detail"].as_str().unwrap_or("");
    assert!(
        detail.contains("h100-idle.toml: Luxor Hashrate Index roundup, 12 Jan 2026"),
        "{detail}"
    );
}

#[test]
fn flags_override_the_scenario_and_say_so() {
    let v = json(&[
        "econ",
        "--scenario",
        s(&scenario("h100-idle.toml")),
        "--btc-price",
        "182264",
        "--json",
    ]);
    assert_eq!(v["inputs"]["mining.btc_price_usd"]["value"], 182_264.0);
    assert_eq!(
        v["inputs"]["mining.btc_price_usd"]["source"]["kind"],
        "flag"
    );
    assert_eq!(
        v["inputs"]["mining.btc_price_usd"]["source"]["detail"],
        "--btc-price"
    );
    // Doubling the price doubles the hashprice: 2 × 38.851.
    let hp = v["mining"]["hashprice_usd_per_ph_day"]
        .as_f64()
        .unwrap_or(0.0);
    assert!((hp - 77.702).abs() < 0.02, "{hp}");
}

#[test]
fn bench_report_with_energy_gives_measured_hashrate_watts_and_idle() {
    let v = json(&[
        "econ",
        "--bench",
        s(&data("bench-gpu-energy-synthetic.json")),
        "--json",
    ]);
    assert_eq!(v["mining"]["hashrate_h_per_s"], 4.8e9);
    assert_eq!(v["mining"]["hashrate_measured"], true);
    assert_eq!(v["power"]["mining_watts"], 300.0);
    assert_eq!(v["power"]["mining_watts_measured"], true);
    // (3000 J − 2400 J) / 10 s = 60 W idle baseline.
    assert_eq!(v["inputs"]["power.idle_watts"]["value"], 60.0);
    // 300 W × 0.081 × 1.56 = $0.037908/h.
    let p = v["power"]["usd_per_hour"].as_f64().unwrap_or(0.0);
    assert!((p - 0.037_908).abs() < 1e-9, "{p}");
    // --bench-backend picks another result; it has no energy, so watts
    // fall back to the GPU preset, labelled modeled.
    let v = json(&[
        "econ",
        "--bench",
        s(&data("bench-gpu-energy-synthetic.json")),
        "--bench-backend",
        "scalar",
        "--json",
    ]);
    assert_eq!(v["mining"]["hashrate_h_per_s"], 1.6e7);
    assert_eq!(v["power"]["mining_watts"], 700.0);
    assert_eq!(v["power"]["mining_watts_measured"], false);
    assert_eq!(v["power"]["basis"], "modeled watts x price x PUE");
}

#[test]
fn old_bench_report_without_energy_uses_watts_flag() {
    let v = json(&[
        "econ",
        "--bench",
        s(&data("bench-cpu-1thread.json")),
        "--watts",
        "65",
        "--json",
    ]);
    assert_eq!(v["mining"]["hashrate_measured"], true);
    assert_eq!(v["power"]["mining_watts"], 65.0);
    assert_eq!(v["inputs"]["power.mining_watts"]["source"]["kind"], "flag");
}

#[test]
fn bad_input_is_one_line_naming_the_field() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[mining]\nhashrate_h_per_s = 1e9\nbtc_pric = 5\n")
        .unwrap_or_else(|e| panic!("{e}"));
    fails_naming(&["econ", "--scenario", s(&bad)], "unknown field `btc_pric`");
    fails_naming(
        &["econ", "--scenario", "/nonexistent.toml"],
        "cannot read scenario",
    );
    let h = ["econ", "--hashrate", "1e9"];
    let with = |extra: &[&'static str]| -> Vec<&str> {
        h.iter().copied().chain(extra.iter().copied()).collect()
    };
    fails_naming(
        &with(&["--btc-price", "-5"]),
        "`mining.btc_price_usd`: must not be negative",
    );
    fails_naming(
        &with(&["--difficulty", "0"]),
        "`mining.difficulty`: must be greater than zero",
    );
    fails_naming(
        &with(&["--pool-fee", "101"]),
        "`mining.pool_fee_pct`: must be a percentage",
    );
    fails_naming(
        &with(&["--utilization", "-1"]),
        "`inference.utilization_pct`",
    );
    fails_naming(
        &with(&["--electricity", "NaN"]),
        "`power.electricity_usd_per_kwh`: must be a finite number",
    );
    fails_naming(&with(&["--pue", "0.8"]), "`power.pue`");
    fails_naming(&with(&["--gpu", "h900"]), "unknown GPU preset `h900`");
    fails_naming(&["econ"], "`mining.hashrate_h_per_s` is not set");
    fails_naming(
        &["econ", "--bench", s(&data("econ-h100-idle.json"))],
        "expected `hashwatt.bench/1`",
    );
}

#[test]
fn plot_and_markdown_export_write_files() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let plots = dir.path().join("plots");
    let md = dir.path().join("report.md");
    ok(&[
        "econ",
        "--scenario",
        s(&scenario("h100-idle.toml")),
        "--plot",
        s(&plots),
        "--export-markdown",
        s(&md),
    ]);
    for name in ["btc_price", "electricity", "difficulty", "utilization"] {
        let svg = std::fs::read_to_string(plots.join(format!("{name}.svg")))
            .unwrap_or_else(|e| panic!("{name}.svg: {e}"));
        assert!(
            svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
            "{name}"
        );
        for series in ["mine", "infer", "idle"] {
            assert!(
                svg.lines().any(|l| l.trim() == series),
                "{name} lacks {series}"
            );
        }
    }
    let text = std::fs::read_to_string(&md).unwrap_or_else(|e| panic!("{e}"));
    assert!(text.starts_with("# hashwatt econ: H100 SXM idle hour"));
    // The site chart: one line per option, currency ticks, break-even dots.
    let site = std::fs::read_to_string(plots.join("site_power_price.svg"))
        .unwrap_or_else(|e| panic!("site_power_price.svg: {e}"));
    for id in ["ai-lease", "asic:s21-xp", "curtail"] {
        assert!(
            site.lines().any(|l| l.trim() == id),
            "site chart lacks {id}"
        );
    }
    assert!(
        site.contains("$1M") || site.contains("$2M"),
        "no currency ticks"
    );
    assert!(site.contains("<circle"), "no break-even markers");
    let ratios = std::fs::read_to_string(plots.join("revenue_to_power.svg"))
        .unwrap_or_else(|e| panic!("revenue_to_power.svg: {e}"));
    assert!(ratios.contains("h100-sxm mining"), "{ratios}");
    assert!(ratios.contains("mi300x rental"), "{ratios}");
}

/// `compare` lines two sites' options up by option id.
#[test]
fn compare_keys_site_options_by_id() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let site = scenario("site-1mw.toml");
    let (a, b) = (dir.path().join("a.json"), dir.path().join("b.json"));
    for (path, price) in [(&a, "34"), (&b, "60")] {
        let out = ok(&[
            "econ",
            "--scenario",
            s(&site),
            "--site-power",
            price,
            "--json",
        ]);
        std::fs::write(path, out).unwrap_or_else(|e| panic!("{e}"));
    }
    let md = ok(&["compare", s(&a), s(&b)]);
    assert!(md.contains("site.options[ai-lease].npv_usd_per_mw"), "{md}");
    assert!(
        md.contains("site.options[asic:s21-xp].opex_usd_per_mw_year"),
        "{md}"
    );
    assert!(!md.contains("site.options[0]"), "{md}");
}

#[test]
fn compare_two_saved_econ_reports() {
    let a = data("econ-h100-idle.json");
    let b = data("econ-h200-idle.json");
    let md = ok(&["compare", s(&a), s(&b)]);
    // H200 vs H100 roofline: 19,050 vs 14,394 tok/s = +32.34 %.
    let line = md
        .lines()
        .find(|l| l.starts_with("| `inference.tokens_per_second` |"))
        .unwrap_or_else(|| panic!("no tokens row: {md}"));
    assert!(
        line.contains("| 14394 | 19050 |") && line.contains("+32.34 %"),
        "{line}"
    );
    let v = json(&["compare", s(&a), s(&b), "--json"]);
    assert_eq!(v["schema"], "hashwatt.compare/1");
    assert_eq!(v["compared_schema"], "hashwatt.econ/1");
    let rows = v["rows"].as_array().cloned().unwrap_or_default();
    let row = rows
        .iter()
        .find(|r| r["field"] == "decision.net_usd_per_hour.mine")
        .unwrap_or_else(|| panic!("no mine row"));
    assert_eq!(row["diffs"][0]["absolute"], 0.0);
}

#[test]
fn compare_two_saved_bench_reports_and_reject_mixed() {
    let a = data("bench-cpu-1thread.json");
    let b = data("bench-cpu-2threads.json");
    let v = json(&["compare", s(&a), s(&b), "--json"]);
    let rows = v["rows"].as_array().cloned().unwrap_or_default();
    let row = rows
        .iter()
        .find(|r| r["field"] == "results[scalar].hashrate")
        .unwrap_or_else(|| panic!("no hashrate row: {v}"));
    let (x, y) = (
        row["values"][0].as_f64().unwrap_or(0.0),
        row["values"][1].as_f64().unwrap_or(0.0),
    );
    let pct = row["diffs"][0]["percent"].as_f64().unwrap_or(f64::NAN);
    assert!((pct - (y - x) / x * 100.0).abs() < 1e-9);
    fails_naming(
        &["compare", s(&a), s(&data("econ-h100-idle.json"))],
        "all reports must have the same schema",
    );
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let odd = dir.path().join("odd.json");
    std::fs::write(&odd, r#"{"schema":"someone.else/2"}"#).unwrap_or_else(|e| panic!("{e}"));
    fails_naming(
        &["compare", s(&a), s(&odd)],
        "unknown schema `someone.else/2`",
    );
    let out = run(&["compare", s(&a)]);
    assert!(!out.status.success());
}

#[test]
fn huge_horizon_is_a_clear_error() {
    for months in ["4294967295", "1201"] {
        let out = common::hashwatt_command()
            .args([
                "econ",
                "--scenario",
                "scenarios/h100-idle.toml",
                "--horizon-months",
                months,
            ])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{months}: {err}");
        assert!(
            err.contains("mining.horizon_months") && err.contains("at most 1200 months"),
            "{months}: {err}"
        );
    }
}

#[test]
fn horizon_flags_project_month_by_month() {
    let v = json(&[
        "econ",
        "--scenario",
        s(&scenario("h100-idle.toml")),
        "--horizon-months",
        "3",
        "--difficulty-growth",
        "5",
        "--json",
    ]);
    let h = v["horizon"].as_array().cloned().unwrap_or_default();
    assert_eq!(h.len(), 3);
    let d0 = h[0]["difficulty"].as_f64().unwrap_or(0.0);
    let d2 = h[2]["difficulty"].as_f64().unwrap_or(0.0);
    assert!((d2 / d0 - 1.05_f64.powi(2)).abs() < 1e-9);
    assert!(h[2]["btc"].as_f64() < h[0]["btc"].as_f64());
    // Power dominates: the cumulative net after 3 months is about
    // −3 × 30.44 days × 24 h × $0.088452/h.
    let cum = h[2]["cumulative_net_usd"].as_f64().unwrap_or(0.0);
    assert!(
        (cum + 3.0 * 30.4375 * 24.0 * 0.088_452).abs() < 0.05,
        "{cum}"
    );
    let md = ok(&[
        "econ",
        "--scenario",
        s(&scenario("h100-idle.toml")),
        "--horizon-months",
        "2",
    ]);
    assert!(md.contains("## Mining horizon (modeled)"));
}

#[test]
fn seventy_b_on_two_h100s_is_valued_per_gpu() {
    let base = [
        "econ",
        "--hashrate",
        "5e9",
        "--gpu",
        "h100-sxm",
        "--model",
        "llama-3.1-70b",
    ];
    // FP16 weights (141 GB) do not fit one 80 GB GPU.
    let mut fp16 = base.to_vec();
    fp16.extend(["--precision", "fp16"]);
    fails_naming(&fp16, "do not fit in 1 x NVIDIA H100 SXM");
    // FP8 (70.6 GB) fits, leaving KV room for only 25 sequences of 2,000 tokens.
    let mut one = base.to_vec();
    one.push("--json");
    let v = json(&one);
    assert_eq!(v["inference"]["roofline"]["batch"], 25);
    let mut args = base.to_vec();
    args.extend(["--gpus-per-replica", "2", "--json"]);
    let v = json(&args);
    let per_gpu = v["inference"]["tokens_per_second"].as_f64().unwrap_or(0.0);
    let replica = v["inference"]["roofline"]["replica_tokens_per_second"]
        .as_f64()
        .unwrap_or(0.0);
    assert!((replica - 2.0 * per_gpu).abs() < 1e-6);
    // TensorRT-LLM: 4,205 tok/s for Llama-3.3-70B on 2 x H100 at 1000/1000.
    assert!((replica / 4205.0 - 1.0).abs() < 0.25, "{replica}");
    assert_eq!(
        v["inputs"]["inference.gpus_per_replica"]["source"]["detail"],
        "--gpus-per-replica"
    );
}

#[test]
fn current_bench_format_with_modeled_energy_is_labelled_modeled() {
    let v = json(&[
        "econ",
        "--bench",
        s(&data("bench-cpu-modeled-energy.json")),
        "--json",
    ]);
    assert_eq!(v["mining"]["hashrate_measured"], true);
    assert_eq!(v["power"]["mining_watts"], 3.75);
    assert_eq!(v["power"]["mining_watts_measured"], false);
    assert_eq!(v["power"]["basis"], "modeled watts x price x PUE");
    assert_eq!(v["inputs"]["power.idle_watts"]["value"], 1.125);
    let detail = v["inputs"]["power.mining_watts"]["source"]["detail"]
        .as_str()
        .unwrap_or("");
    assert!(detail.contains("modeled by the bench"), "{detail}");
}

/// A report written by `hashwatt bench` itself (not a fixture) reads back in
/// `econ --bench`: the bench writer and the economics reader agree on the
/// schema, and the mock meter's modeled watts stay labelled modeled.
#[test]
fn econ_reads_a_report_that_bench_just_wrote() {
    let dir = std::env::temp_dir().join(format!("hashwatt-econ-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let report = dir.join("bench.json");
    let text = ok(&[
        "bench",
        "--backend",
        "scalar",
        "--threads",
        "1",
        "--seconds",
        "0.3",
        "--warmup",
        "0",
        "--idle-seconds",
        "0.1",
        "--meter",
        "mock",
        "--mock-watts",
        "10",
        "--mock-idle-watts",
        "4",
        "--json",
    ]);
    std::fs::write(&report, &text).unwrap_or_else(|e| panic!("{e}"));
    let bench: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("bench JSON: {e}"));
    let hashrate = bench["results"][0]["hashrate"].as_f64().unwrap_or(0.0);
    assert!(hashrate > 0.0, "{bench}");

    let v = json(&["econ", "--bench", s(&report), "--json"]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(v["mining"]["hashrate_h_per_s"].as_f64(), Some(hashrate));
    assert_eq!(v["mining"]["hashrate_measured"], true);
    assert_eq!(v["power"]["mining_watts"], 10.0);
    assert_eq!(v["power"]["mining_watts_measured"], false);
    assert_eq!(v["inputs"]["power.idle_watts"]["value"], 4.0);
    assert_eq!(v["inputs"]["power.idle_watts"]["source"]["measured"], false);
}

/// Inputs the chosen method or horizon would not read are refused with the
/// reason, from flags and from scenario files; a flag that switches the
/// method may leave the file's other inputs unread (that is overriding).
#[test]
fn unused_inputs_are_refused_not_dropped() {
    let cases: [(&[&str], &str); 5] = [
        (
            &["--method", "tokens", "--rental-usd-per-hour", "2"],
            "--rental-usd-per-hour is not used: with --method tokens",
        ),
        (
            &["--rental-usd-per-hour", "2", "--usd-per-mtok", "0.1"],
            "--usd-per-mtok is not used: with --method rental",
        ),
        (
            &["--rental-usd-per-hour", "2", "--model", "llama-3.1-70b"],
            "--model is not used",
        ),
        (
            &["--gpu", "l40s", "--marketplace-fee", "10"],
            "--marketplace-fee is not used: the site view leaves gpu-cloud and gpu-mining out",
        ),
        (
            &["--bench-backend", "gpu"],
            "--bench-backend picks a result from a bench report",
        ),
    ];
    for (extra, needle) in cases {
        let mut args = vec!["econ", "--hashrate", "1e9"];
        args.extend_from_slice(extra);
        fails_naming(&args, needle);
    }
    // The same from a scenario file.
    let dir = std::env::temp_dir().join(format!("hashwatt-unused-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let file = dir.join("rental.toml");
    std::fs::write(
        &file,
        "[mining]\nhashrate_h_per_s = 1e9\n[inference]\nmethod = \"rental\"\n\
         rental_usd_per_hour = 2.0\nusd_per_mtok = 0.2\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    fails_naming(
        &["econ", "--scenario", s(&file)],
        "`inference.usd_per_mtok` is not used: with --method rental",
    );
    // Switching the method by flag reads the file's token price, and leaves
    // its rental price unread without complaint.
    let v = json(&[
        "econ",
        "--scenario",
        s(&file),
        "--method",
        "tokens",
        "--json",
    ]);
    assert_eq!(v["inference"]["method"], "tokens");
    assert_eq!(v["inputs"]["inference.usd_per_mtok"]["value"], 0.2);
    // With a horizon, the growth rates are used.
    let v = json(&[
        "econ",
        "--hashrate",
        "1e9",
        "--difficulty-growth",
        "3",
        "--horizon-months",
        "6",
        "--json",
    ]);
    assert_eq!(
        v["inputs"]["mining.difficulty_growth_pct_per_month"]["value"],
        3.0
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A `gpu` result measured on a software adapter (llvmpipe) is the host
/// CPU's rate; economics refuses to value it as a hardware GPU's.
#[test]
fn bench_on_a_software_adapter_is_refused() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let report = dir.path().join("lavapipe.json");
    std::fs::write(
        &report,
        r#"{"schema":"hashwatt.bench/1","machine":{},"results":[{"backend":"gpu","device":"llvmpipe (LLVM 20.1.2, 256 bits)","hashrate":3.9e7}]}"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    fails_naming(
        &["econ", "--bench", s(&report)],
        "ran on a software adapter (llvmpipe (LLVM 20.1.2, 256 bits))",
    );
}

/// At a power price of $0 the report says power is free, not that the
/// miner draws no power.
#[test]
fn free_power_is_not_no_power() {
    let md = ok(&["econ", "--hashrate", "5e9", "--electricity", "0"]);
    assert!(
        md.contains("Power costs nothing in this scenario: mining draws 700 W"),
        "{md}"
    );
    assert!(!md.contains("draws no power"), "{md}");
}

/// Input and output tokens are both billed, and the token value of a GPU-hour
/// is set beside what that GPU rents for.
#[test]
fn tokens_bill_input_and_output_and_meet_the_rental_market() {
    let v = json(&[
        "econ",
        "--hashrate",
        "5e9",
        "--input-tokens",
        "2048",
        "--output-tokens",
        "128",
        "--usd-per-mtok",
        "0.18",
        "--usd-per-mtok-input",
        "0.05",
        "--json",
    ]);
    let i = &v["inference"];
    let out_tps = i["tokens_per_second"].as_f64().unwrap_or(0.0);
    let in_tps = i["input_tokens_per_second"].as_f64().unwrap_or(0.0);
    assert!((in_tps / out_tps - 16.0).abs() < 1e-9, "{i}");
    let full = i["full_usd_per_hour"].as_f64().unwrap_or(0.0);
    let by_hand = out_tps * 3600.0 * 0.18 / 1e6 + in_tps * 3600.0 * 0.05 / 1e6;
    assert!(
        (full - by_hand).abs() < 1e-9 * by_hand,
        "{full} vs {by_hand}"
    );
    assert_eq!(i["rental_usd_per_hour"], 2.69);
    assert_eq!(i["tokens_exceed_rental"], full > 2.69);
    assert_eq!(
        v["inputs"]["inference.usd_per_mtok_input"]["source"]["kind"],
        "flag"
    );
    // At the cited $0.18/M both ways, an H100 hour of tokens is "worth" far
    // more than it rents for, and the report says so.
    let md = ok(&["econ", "--hashrate", "5e9"]);
    assert!(
        md.contains("are worth more than the same GPU rents for ($2.69 per hour"),
        "{md}"
    );
}

/// The MI300X preset, and a custom GPU given by its figures (flags or a
/// `[gpu]` table), each figure echoed with its source.
#[test]
fn mi300x_preset_and_custom_gpu_figures() {
    let mi = json(&["econ", "--hashrate", "5e9", "--gpu", "mi300x", "--json"]);
    assert_eq!(mi["inputs"]["gpu.memory_gb"]["value"], 192.0);
    assert_eq!(mi["inputs"]["gpu.board_watts"]["value"], 750.0);
    assert_eq!(mi["inputs"]["gpu.board_watts"]["source"]["kind"], "default");
    // The same figures typed in on top of the H100 preset give the same roofline.
    let custom = json(&[
        "econ",
        "--hashrate",
        "5e9",
        "--gpu-memory-gb",
        "192",
        "--gpu-bandwidth-tb-s",
        "5.3",
        "--gpu-fp16-tflops",
        "1307.4",
        "--gpu-fp8-tflops",
        "2614.9",
        "--gpu-board-watts",
        "750",
        "--json",
    ]);
    assert_eq!(
        custom["inference"]["tokens_per_second"],
        mi["inference"]["tokens_per_second"]
    );
    assert_eq!(custom["inputs"]["gpu.memory_gb"]["source"]["kind"], "flag");
    assert_eq!(
        custom["power"]["inference_usd_per_hour"],
        mi["power"]["inference_usd_per_hour"]
    );
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let file = dir.path().join("custom.toml");
    std::fs::write(
        &file,
        "[mining]\nhashrate_h_per_s = 5e9\n[gpu]\n# A vendor sheet for a future part.\nmemory_gb = 288\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let v = json(&["econ", "--scenario", s(&file), "--json"]);
    assert_eq!(v["inputs"]["gpu.memory_gb"]["value"], 288.0);
    let detail = v["inputs"]["gpu.memory_gb"]["source"]["detail"]
        .as_str()
        .unwrap_or("");
    assert!(
        detail.ends_with("custom.toml: A vendor sheet for a future part."),
        "{detail}"
    );
    fails_naming(
        &["econ", "--hashrate", "5e9", "--gpu-memory-gb", "0"],
        "`gpu.memory_gb`",
    );
}
