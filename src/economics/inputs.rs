//! Every economics input, declared once.
//!
//! One table (the `inputs!` invocation below) names each input of a
//! scenario: its key (`mining.pool_fee_pct`, the section and field of the
//! TOML file), its type, its validation [`Rule`] and, when it has one, its
//! command-line flag (`--pool-fee`) with its help line. The table expands
//! into:
//!
//! * the scenario file's section structs ([`MiningSection`],
//!   [`PowerSection`], [`InferenceSection`], [`SiteSection`],
//!   [`GpuSection`]), each field documented by the table's line;
//! * [`INPUTS`], the descriptor of every key: the resolver reads the flag
//!   that set a key from it, and validation ([`check_all`]) each key's rule,
//!   applied to the `(key, value)` lists that reports also echo
//!   ([`crate::economics::Scenario::values`]);
//! * [`ScenarioFile::set_keys`], the keys a layer sets, which
//!   [`crate::economics::Scenario::check_used`] holds against the resolved
//!   scenario so that no input is silently dropped;
//! * with the `cli` feature, `InputFlags`: the `clap` arguments of every
//!   flagged input and their copy into a [`ScenarioFile`] layer.
//!
//! Each input's default and its citation live where it is resolved
//! (`Resolver::resolve` in [`crate::economics::scenario`]), since most
//! depend on other inputs (the GPU preset, the PUE, the method); the
//! resolver reads it through `input!(section.field)` and the echo lists name
//! it through `key!(section.field)`, both checked against the table's
//! sections when the crate builds.

use super::error::{self, Result};
use super::inference::Precision;
use super::power::IdleMode;
use super::scenario::{CustomAsic, Method, ScenarioFile};
use serde::{Deserialize, Serialize};

/// What a numeric input must be; the check's error names the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Not a number (a name, a choice, a list) or any value of its type.
    Any,
    /// A finite number of either sign.
    Finite,
    /// A finite number ≥ 0.
    NonNegative,
    /// A finite number > 0.
    Positive,
    /// A percentage, 0–100.
    Percent,
    /// At least 1 (a PUE).
    AtLeastOne,
    /// A projection length, at most [`error::MAX_HORIZON_MONTHS`].
    Horizon,
}

impl Rule {
    /// Checks `value` of input `key` against this rule.
    ///
    /// # Errors
    /// [`super::EconError::InvalidInput`] naming `key`.
    pub fn check(self, key: &str, value: f64) -> Result<()> {
        match self {
            Rule::Any => Ok(()),
            Rule::Finite => error::finite(key, value).map(drop),
            Rule::NonNegative => error::non_negative(key, value).map(drop),
            Rule::Positive => error::positive(key, value).map(drop),
            Rule::Percent => error::percent(key, value).map(drop),
            Rule::AtLeastOne => error::at_least_one(key, value).map(drop),
            // Horizons are whole months (`u32`); the cast is exact.
            Rule::Horizon => error::horizon_months(key, value as u32).map(drop),
        }
    }
}

/// One input of the scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Input {
    /// `section.field`, as in the scenario file and in reports.
    pub key: &'static str,
    /// The `hashwatt econ` flag that sets it (`None`: scenario file only).
    pub flag: Option<&'static str>,
    /// What its value must be.
    pub rule: Rule,
}

/// The site view's NPV horizon: the mining horizon, else 60 months.
pub const SITE_HORIZON_MONTHS: &str = "site.horizon_months";

/// The GPU rental price the site view uses: the rental method's price, else
/// the GPU preset's cited rental.
pub const SITE_RENTAL_USD_PER_HOUR: &str = "site.rental_usd_per_hour";

/// Inputs the resolver derives from others (no file key or flag of
/// their own) but reports echo and validation checks.
pub const DERIVED: &[Input] = &[
    Input {
        key: SITE_HORIZON_MONTHS,
        flag: None,
        rule: Rule::Any,
    },
    Input {
        key: SITE_RENTAL_USD_PER_HOUR,
        flag: None,
        rule: Rule::NonNegative,
    },
];

/// The input with this key.
pub fn find(key: &str) -> Option<&'static Input> {
    INPUTS.iter().chain(DERIVED).find(|i| i.key == key)
}

/// The flag that sets input `key`, if it has one.
pub fn flag_of(key: &str) -> Option<&'static str> {
    find(key).and_then(|i| i.flag)
}

/// A resolved input's value, as reports echo it and validation checks it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A number.
    Number(f64),
    /// A whole number (a height, a count, months).
    Whole(u32),
    /// Anything else: a name, a choice, a list, an unset option.
    Other(serde_json::Value),
}

impl Value {
    /// Any serializable value, echoed as JSON and not checked.
    pub fn of(v: impl Serialize) -> Self {
        Value::Other(serde_json::to_value(v).unwrap_or_default())
    }

    /// The value as reports print it.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Number(x) => serde_json::json!(x),
            Value::Whole(n) => serde_json::json!(n),
            Value::Other(v) => v.clone(),
        }
    }

    /// Checks it against the [`Rule`] of input `key` (none for a key
    /// outside [`INPUTS`] and [`DERIVED`]).
    ///
    /// # Errors
    /// [`super::EconError::InvalidInput`] naming `key`.
    pub fn check(&self, key: &str) -> Result<()> {
        let rule = find(key).map_or(Rule::Any, |i| i.rule);
        match *self {
            Value::Number(x) => rule.check(key, x),
            Value::Whole(n) => rule.check(key, f64::from(n)),
            Value::Other(_) => Ok(()),
        }
    }
}

impl From<f64> for Value {
    fn from(x: f64) -> Self {
        Value::Number(x)
    }
}

impl From<u32> for Value {
    fn from(n: u32) -> Self {
        Value::Whole(n)
    }
}

impl From<Option<f64>> for Value {
    fn from(x: Option<f64>) -> Self {
        x.map_or(Value::Other(serde_json::Value::Null), Value::Number)
    }
}

impl From<Option<u32>> for Value {
    fn from(n: Option<u32>) -> Self {
        n.map_or(Value::Other(serde_json::Value::Null), Value::Whole)
    }
}

/// Checks each `(key, value)` against its key's [`Rule`], in order.
///
/// # Errors
/// [`super::EconError::InvalidInput`] for the first bad value.
pub fn check_all(values: &[(&str, Value)]) -> Result<()> {
    values.iter().try_for_each(|(k, v)| v.check(k))
}

/// The key of input `section.field`, checked when it builds against the
/// scenario file's sections: a misspelt key is a compile error, not an
/// input that is silently never echoed or checked.
macro_rules! key {
    ($section:ident . $field:ident) => {{
        let _field = |f: &$crate::economics::scenario::ScenarioFile| f.$section.$field.is_some();
        concat!(stringify!($section), ".", stringify!($field))
    }};
}
pub(crate) use key;

/// Declares the inputs: `[section] Struct { field: Type, Rule, (clap args); }`
/// where the clap args are `long = "flag", ...` for an input with a flag
/// and `skip` for one that only a scenario file sets.
macro_rules! inputs {
    ($(
        $(#[doc = $sdoc:literal])*
        [$section:ident] $Section:ident {
            $(
                $(#[doc = $doc:literal])*
                $field:ident: $ty:ty, $rule:ident, ($($arg:tt)*);
            )*
        }
    )*) => {
        $(
            $(#[doc = $sdoc])*
            #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
            #[serde(deny_unknown_fields)]
            pub struct $Section {
                $( $(#[doc = $doc])* pub $field: Option<$ty>, )*
            }
        )*

        /// Every input, in scenario-file order.
        pub const INPUTS: &[Input] = &[
            $($(
                Input {
                    key: concat!(stringify!($section), ".", stringify!($field)),
                    flag: inputs!(@flag $($arg)*),
                    rule: Rule::$rule,
                },
            )*)*
        ];

        impl ScenarioFile {
            /// The keys of the inputs this layer sets, in [`INPUTS`] order.
            pub fn set_keys(&self) -> Vec<&'static str> {
                let mut keys = Vec::new();
                $($(
                    if self.$section.$field.is_some() {
                        keys.push(concat!(stringify!($section), ".", stringify!($field)));
                    }
                )*)*
                keys
            }
        }

        /// The `hashwatt econ` flags of every input (`cli` feature).
        #[cfg(feature = "cli")]
        #[derive(clap::Args, Debug, Clone, Default)]
        pub struct InputFlags {
            $($(
                $(#[doc = $doc])*
                #[arg($($arg)*)]
                pub $field: Option<$ty>,
            )*)*
        }

        #[cfg(feature = "cli")]
        impl InputFlags {
            /// The flags as a scenario layer.
            pub fn layer(&self) -> ScenarioFile {
                ScenarioFile {
                    $( $section: $Section { $( $field: self.$field.clone(), )* }, )*
                    ..Default::default()
                }
            }
        }

        /// A value of each input's type, as TOML and as a flag argument.
        #[cfg(test)]
        const SAMPLES: &[(&str, &str, &str)] = &[
            $($(
                (
                    concat!(stringify!($section), ".", stringify!($field)),
                    <$ty as tests::Sample>::TOML,
                    <$ty as tests::Sample>::ARG,
                ),
            )*)*
        ];
    };
    (@flag long = $flag:literal $($rest:tt)*) => { Some(concat!("--", $flag)) };
    (@flag skip) => { None };
}

inputs! {
    /// `[mining]` table.
    [mining] MiningSection {
        /// Hash rate, H/s (overrides the bench report).
        hashrate_h_per_s: f64, NonNegative,
            (long = "hashrate", value_name = "H_PER_S", allow_negative_numbers = true);
        /// Network difficulty.
        difficulty: f64, Positive,
            (long = "difficulty", value_name = "D", allow_negative_numbers = true);
        /// Block height (sets the subsidy).
        height: u32, Any, (long = "height", value_name = "H");
        /// BTC price, USD.
        btc_price_usd: f64, NonNegative,
            (long = "btc-price", value_name = "USD", allow_negative_numbers = true);
        /// Transaction fees per block, BTC.
        fees_btc_per_block: f64, NonNegative,
            (long = "fees-btc", value_name = "F", allow_negative_numbers = true);
        /// Pool fee, percent.
        pool_fee_pct: f64, Percent,
            (long = "pool-fee", value_name = "PCT", allow_negative_numbers = true);
        /// Stale share rate, percent.
        stale_pct: f64, Percent,
            (long = "stale", value_name = "PCT", allow_negative_numbers = true);
        /// Mining uptime, percent.
        uptime_pct: f64, Percent,
            (long = "uptime", value_name = "PCT", allow_negative_numbers = true);
        /// Project mining over this many months.
        horizon_months: u32, Horizon, (long = "horizon-months", value_name = "N");
        /// Difficulty growth per month for the horizon, percent.
        difficulty_growth_pct_per_month: f64, Finite,
            (long = "difficulty-growth", value_name = "PCT", allow_negative_numbers = true);
        /// BTC price change per month for the horizon, percent.
        btc_price_change_pct_per_month: f64, Finite,
            (long = "btc-price-change", value_name = "PCT", allow_negative_numbers = true);
    }

    /// `[power]` table.
    [power] PowerSection {
        /// Electricity price, USD/kWh.
        electricity_usd_per_kwh: f64, NonNegative,
            (long = "electricity", value_name = "USD_PER_KWH", allow_negative_numbers = true);
        /// Power usage effectiveness (facility power / IT power, >= 1).
        pue: f64, AtLeastOne,
            (long = "pue", value_name = "X", allow_negative_numbers = true);
        /// Watts while mining (overrides the bench report).
        mining_watts: f64, NonNegative,
            (long = "watts", value_name = "W", allow_negative_numbers = true);
        /// Watts while serving inference [default: GPU max power].
        inference_watts: f64, NonNegative,
            (long = "inference-watts", value_name = "W", allow_negative_numbers = true);
        /// Watts while on and idle [default: bench idle baseline, else 10% of max power].
        idle_watts: f64, NonNegative,
            (long = "idle-watts", value_name = "W", allow_negative_numbers = true);
        /// What idling means: `on` (draws idle watts) or `powered-down` (draws nothing).
        idle_mode: IdleMode, Any, (long = "idle-mode", value_name = "MODE");
    }

    /// `[inference]` table.
    [inference] InferenceSection {
        /// Inference valuation: `tokens` (roofline) or `rental` [default: tokens, or rental when --rental-usd-per-hour is given].
        method: Method, Any, (long = "method", value_name = "METHOD");
        /// GPU preset: h100-sxm, h100-pcie, h200, a100-80gb, l40s, rtx-4090, b200, mi300x.
        gpu: String, Any, (long = "gpu", value_name = "PRESET");
        /// Model preset: llama-3.1-8b, llama-3.1-70b.
        model: String, Any, (long = "model", value_name = "PRESET");
        /// Weight precision: fp16, fp8, int4.
        precision: Precision, Any, (long = "precision", value_name = "P");
        /// Price per million output tokens, USD [default: the model preset's].
        usd_per_mtok: f64, NonNegative,
            (long = "usd-per-mtok", value_name = "P", allow_negative_numbers = true);
        /// Price per million input (prompt) tokens, USD [default: the model preset's].
        usd_per_mtok_input: f64, NonNegative,
            (long = "usd-per-mtok-input", value_name = "P", allow_negative_numbers = true);
        /// Rental price per GPU-hour, USD (selects the rental method).
        rental_usd_per_hour: f64, NonNegative,
            (long = "rental-usd-per-hour", value_name = "R", allow_negative_numbers = true);
        /// Share of the hour inference is paid for, percent.
        utilization_pct: f64, Percent,
            (long = "utilization", value_name = "PCT", allow_negative_numbers = true);
        /// Input (prompt) tokens per request for the roofline [default: 1000].
        input_tokens: u32, Any, (long = "input-tokens", value_name = "N");
        /// Output tokens per request for the roofline [default: 1000].
        output_tokens: u32, Positive, (long = "output-tokens", value_name = "N");
        /// Concurrent sequences per replica [default: the largest that fits, at most 2048].
        batch: u32, Positive, (skip);
        /// GPUs serving one model replica (tensor parallel), for models too big for one GPU.
        gpus_per_replica: u32, Positive, (long = "gpus-per-replica", value_name = "N");
        /// Share of peak memory bandwidth the decode step reaches, 0–1.
        bandwidth_efficiency: f64, Positive, (skip);
        /// Share of peak tensor FLOPS the prefill step reaches, 0–1.
        compute_efficiency: f64, Positive, (skip);
        /// Bytes per KV-cache element [default: from the precision].
        kv_bytes_per_element: f64, Positive, (skip);
    }

    /// `[site]` table.
    [site] SiteSection {
        /// Site size, MW of facility power.
        power_mw: f64, Positive,
            (long = "site-mw", value_name = "MW", allow_negative_numbers = true);
        /// Site power price, USD/MWh [default: electricity x 1000].
        power_usd_per_mwh: f64, NonNegative,
            (long = "site-power", value_name = "USD_PER_MWH", allow_negative_numbers = true);
        /// Paid per MWh not drawn when curtailing, USD [default: 0].
        curtail_usd_per_mwh: f64, NonNegative,
            (long = "curtail-usd-per-mwh", value_name = "USD_PER_MWH", allow_negative_numbers = true);
        /// Discount rate for NPV, percent per year [default: 10].
        discount_rate_pct: f64, NonNegative,
            (long = "discount-rate", value_name = "PCT", allow_negative_numbers = true);
        /// ASIC preset for the site view (repeatable): s21-xp, s21, s21-pro, s21-xp-hyd, s23-hyd, m60s.
        asics: Vec<String>, Any, (long = "asic", value_name = "PRESET");
        /// Custom ASICs (`[[site.custom_asics]]`, name and J/TH).
        custom_asics: Vec<CustomAsic>, Any, (skip);
        /// PUE of the mining facility [default: --pue].
        mining_pue: f64, AtLeastOne,
            (long = "mining-pue", value_name = "X", allow_negative_numbers = true);
        /// PUE of the AI hall [default: --pue].
        ai_pue: f64, AtLeastOne,
            (long = "ai-pue", value_name = "X", allow_negative_numbers = true);
        /// ASIC price, USD per TH/s [default: $20, Luxor ASIC Price Index].
        asic_capex_usd_per_th: f64, NonNegative,
            (long = "asic-capex-usd-per-th", value_name = "USD", allow_negative_numbers = true);
        /// AI lease income, USD per MW of IT load per year [default: $1.45M, Core Scientific-CoreWeave].
        lease_usd_per_mw_year: f64, NonNegative,
            (long = "lease-usd-per-mw-year", value_name = "USD", allow_negative_numbers = true);
        /// AI hall fit-out capex, USD per MW [default: $4M, midpoint of $3-5M].
        lease_capex_usd_per_mw: f64, NonNegative,
            (long = "lease-capex-usd-per-mw", value_name = "USD", allow_negative_numbers = true);
        /// The AI tenant pays for its own power (`true` or `false`) [default: false].
        tenant_pays_power: bool, Any,
            (long = "tenant-pays-power", value_name = "BOOL", num_args = 0..=1,
             default_missing_value = "true");
        /// GPU server wall power per GPU, W [default: DGX figure for H100/H200].
        server_watts_per_gpu: f64, Positive,
            (long = "server-watts-per-gpu", value_name = "W", allow_negative_numbers = true);
        /// GPU server price per GPU it holds, USD [default: DGX H100 price / 8 for H100].
        gpu_server_capex_usd: f64, NonNegative,
            (long = "gpu-server-capex-usd", value_name = "USD", allow_negative_numbers = true);
        /// GPU server service life, months [default: 48].
        server_life_months: u32, Any, (long = "server-life-months", value_name = "N");
        /// Marketplace fee on GPU rental revenue, percent [default: 0].
        marketplace_fee_pct: f64, Percent,
            (long = "marketplace-fee", value_name = "PCT", allow_negative_numbers = true);
    }

    /// `[gpu]` table: a custom GPU, given as figures that replace the chosen
    /// preset's (`inference.gpu`) one by one.
    [gpu] GpuSection {
        /// Custom GPU: memory, GB (replaces the --gpu preset's figure).
        memory_gb: f64, Positive,
            (long = "gpu-memory-gb", value_name = "GB", allow_negative_numbers = true);
        /// Custom GPU: memory bandwidth, TB/s.
        bandwidth_tb_s: f64, Positive,
            (long = "gpu-bandwidth-tb-s", value_name = "TB_PER_S", allow_negative_numbers = true);
        /// Custom GPU: dense FP16/BF16 tensor TFLOPS.
        fp16_tflops: f64, Positive,
            (long = "gpu-fp16-tflops", value_name = "TFLOPS", allow_negative_numbers = true);
        /// Custom GPU: dense FP8 tensor TFLOPS (0: no FP8).
        fp8_tflops: f64, NonNegative,
            (long = "gpu-fp8-tflops", value_name = "TFLOPS", allow_negative_numbers = true);
        /// Custom GPU: board power, W.
        board_watts: f64, Positive,
            (long = "gpu-board-watts", value_name = "W", allow_negative_numbers = true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::path::Path;

    /// A valid value of an input type, as TOML and as a flag argument.
    pub(super) trait Sample {
        const TOML: &'static str;
        const ARG: &'static str;
    }
    macro_rules! sample {
        ($($ty:ty => $toml:literal, $arg:literal;)*) => {
            $(impl Sample for $ty {
                const TOML: &'static str = $toml;
                const ARG: &'static str = $arg;
            })*
        };
    }
    sample! {
        f64 => "1.5", "1.5";
        u32 => "7", "7";
        bool => "true", "true";
        String => "\"h100-sxm\"", "h100-sxm";
        IdleMode => "\"powered-down\"", "powered-down";
        Method => "\"rental\"", "rental";
        Precision => "\"fp16\"", "fp16";
        Vec<String> => "[\"s21\"]", "s21";
        Vec<CustomAsic> => "[{ name = \"x\", j_per_th = 20.0 }]", "";
    }

    #[test]
    fn keys_and_flags_are_unique() {
        let keys: BTreeSet<_> = INPUTS.iter().chain(DERIVED).map(|i| i.key).collect();
        assert_eq!(
            keys.len(),
            INPUTS.len() + DERIVED.len(),
            "an input key is declared twice"
        );
        let flags: Vec<_> = INPUTS.iter().filter_map(|i| i.flag).collect();
        let unique: BTreeSet<_> = flags.iter().collect();
        assert_eq!(unique.len(), flags.len(), "two inputs share a flag");
        for i in INPUTS.iter().chain(DERIVED) {
            assert_eq!(find(i.key), Some(i));
            assert_eq!(flag_of(i.key), i.flag);
        }
        assert_eq!(flag_of("mining.pool_fee_pct"), Some("--pool-fee"));
        assert_eq!(SAMPLES.len(), INPUTS.len());
    }

    #[test]
    fn every_key_round_trips_through_a_scenario_file() {
        for &(key, toml, _) in SAMPLES {
            let (section, field) = key.split_once('.').unwrap_or_default();
            let text = format!("[{section}]\n{field} = {toml}\n");
            let file = ScenarioFile::from_toml(&text, Path::new("t.toml"))
                .unwrap_or_else(|e| panic!("{key}: {e}"));
            assert_eq!(file.set_keys(), vec![key], "{text}");
        }
    }

    #[cfg(feature = "cli")]
    #[test]
    fn every_flag_maps_to_its_key() {
        use clap::{Args, Parser};
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            inputs: InputFlags,
        }
        // Every flag clap knows is an input's flag ...
        let cmd = InputFlags::augment_args(clap::Command::new("econ"));
        let longs: Vec<String> = cmd
            .get_arguments()
            .filter_map(|a| a.get_long())
            .map(|l| format!("--{l}"))
            .collect();
        let table: Vec<String> = INPUTS
            .iter()
            .filter_map(|i| i.flag)
            .map(str::to_owned)
            .collect();
        assert_eq!(longs, table);
        // ... and sets exactly that input's key.
        for &(key, _, arg) in SAMPLES {
            let Some(flag) = flag_of(key) else { continue };
            let cli = Cli::try_parse_from(["econ", flag, arg])
                .unwrap_or_else(|e| panic!("{flag} {arg}: {e}"));
            assert_eq!(cli.inputs.layer().set_keys(), vec![key], "{flag}");
        }
        let none = Cli::try_parse_from(["econ"]).unwrap_or_else(|e| panic!("{e}"));
        assert!(none.inputs.layer().set_keys().is_empty());
    }

    /// A value set in a scenario file and the same value set by its flag
    /// resolve alike: same inputs (or the same error), sourced from the file
    /// and from that flag.
    #[cfg(feature = "cli")]
    #[test]
    fn file_and_flag_resolve_alike() {
        use crate::economics::scenario::{Scenario, SourceKind};
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            inputs: InputFlags,
        }
        let path = Path::new("t.toml");
        let parse = |text: &str| {
            ScenarioFile::from_toml(text, path).unwrap_or_else(|e| panic!("{text}: {e}"))
        };
        let base = parse("[mining]\nhashrate_h_per_s = 1e9\n");
        let mut resolved = 0;
        for &(key, toml, arg) in SAMPLES {
            let Some(flag) = flag_of(key) else { continue };
            let (section, field) = key.split_once('.').unwrap_or_default();
            let text = if key == "mining.hashrate_h_per_s" {
                format!("[mining]\n{field} = {toml}\n")
            } else if section == "mining" {
                format!("[mining]\nhashrate_h_per_s = 1e9\n{field} = {toml}\n")
            } else {
                format!("[mining]\nhashrate_h_per_s = 1e9\n[{section}]\n{field} = {toml}\n")
            };
            let file = parse(&text);
            let by_file = Scenario::resolve(Some((&file, path)), None, None);
            let cli = Cli::try_parse_from(["econ", flag, arg])
                .unwrap_or_else(|e| panic!("{flag} {arg}: {e}"));
            let layer = cli.inputs.layer();
            let by_flag = Scenario::resolve(Some((&base, path)), None, Some(&layer));
            match (by_file, by_flag) {
                (Ok(f), Ok(g)) => {
                    assert_eq!(f.input_values(), g.input_values(), "{key}");
                    if f.sources.contains_key(key) {
                        assert_eq!(f.source_of(key).kind, SourceKind::Scenario, "{key}");
                        let src = g.source_of(key);
                        assert_eq!((src.kind, src.detail.as_str()), (SourceKind::Flag, flag));
                        resolved += 1;
                    }
                }
                (Err(e), Err(d)) => assert_eq!(e.to_string(), d.to_string(), "{key}"),
                (f, g) => panic!("{key}: file {:?}, flag {:?}", f.err(), g.err()),
            }
        }
        // Most flagged inputs resolve from the sample value (the rest are
        // refused alike, or not read under the default method).
        assert!(resolved >= 40, "only {resolved} inputs resolved");
    }
}
