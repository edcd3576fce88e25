//! Scenarios: every input of the decision, where each came from, and the
//! TOML file format that sets them.
//!
//! A [`Scenario`] is resolved from layers, later ones winning: cited defaults
//! ([`crate::economics::presets`]) → a scenario file → a bench report (hash
//! rate and watts) → command-line flags. Each resolved input records its
//! [`Source`], and reports echo them.
//!
//! The file format has four optional tables; unknown keys are errors:
//!
//! ```toml
//! name = "H100 idle hour"
//! [mining]
//! hashrate_h_per_s = 5.0e9
//! difficulty = 148.26e12
//! btc_price_usd = 91132
//! [power]
//! electricity_usd_per_kwh = 0.081
//! pue = 1.56
//! idle_mode = "on"            # or "powered-down"
//! [inference]
//! method = "tokens"           # or "rental"
//! gpu = "h100-sxm"
//! model = "llama-3.1-8b"
//! precision = "fp8"
//! usd_per_mtok = 0.18
//! utilization_pct = 60
//! [site]
//! power_usd_per_mwh = 34
//! asics = ["s21-xp", "s21"]
//! ```
//!
//! ```
//! use hashwatt::economics::scenario::ScenarioFile;
//! let bad = ScenarioFile::from_toml("[mining]\nbtc_pric = 1\n", "x.toml".as_ref());
//! let msg = bad.unwrap_err().to_string();
//! assert!(msg.contains("unknown field `btc_pric`"), "{msg}");
//! ```

use super::error::{EconError, Result};
use super::inference::{InferenceValue, Precision, RooflineInputs};
use super::inputs::{self, Value, key};
pub use super::inputs::{GpuSection, InferenceSection, MiningSection, PowerSection, SiteSection};
use super::mining::{Horizon, MiningInputs};
use super::power::IdleMode;
use super::presets::{self, network};
use super::site::{SiteAsic, SiteInputs};
use super::units::{
    Btc, Difficulty, HashRate, Percent, Usd, UsdPerHour, UsdPerKwh, UsdPerMtok, UsdPerMwh, Watts,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where an input value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// A cited default from [`presets`].
    Default,
    /// A GPU / model / ASIC preset's cited spec.
    Preset,
    /// A scenario file.
    Scenario,
    /// A bench report.
    Bench,
    /// A command-line flag.
    Flag,
    /// An explicit, uncited assumption (labelled as such).
    Assumption,
    /// Set by a library caller.
    Api,
    /// Fetched from a node or REST API, or read from the live cache
    /// ([`super::live`]); the detail says which, as of when and how old.
    Live,
}

impl SourceKind {
    /// The words reports print for this kind.
    pub fn label(self) -> &'static str {
        match self {
            SourceKind::Default => "cited default",
            SourceKind::Preset => "hardware preset",
            SourceKind::Scenario => "scenario file",
            SourceKind::Bench => "bench report",
            SourceKind::Flag => "flag",
            SourceKind::Assumption => "assumption",
            SourceKind::Api => "library caller",
            SourceKind::Live => "live network data",
        }
    }
}

/// Provenance of one input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Source {
    /// Kind of source.
    pub kind: SourceKind,
    /// Citation, file name or flag.
    pub detail: String,
    /// True only for figures measured on the machine (bench hash rate,
    /// metered watts); everything else is modeled or an input.
    pub measured: bool,
}

impl Source {
    fn new(kind: SourceKind, detail: impl Into<String>) -> Self {
        Source {
            kind,
            detail: detail.into(),
            measured: false,
        }
    }

    /// A source for values set through the library API.
    pub fn api() -> Self {
        Source::new(SourceKind::Api, "set by the library caller")
    }
}

/// How inference value is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Roofline tokens/s × price per Mtok.
    Tokens,
    /// Market rental per GPU-hour.
    Rental,
}

impl std::str::FromStr for Method {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "tokens" => Ok(Method::Tokens),
            "rental" => Ok(Method::Rental),
            _ => Err(format!("expected `tokens` or `rental`, got `{s}`")),
        }
    }
}

/// A custom ASIC in `[[site.custom_asics]]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomAsic {
    /// Display name (its key is the name in kebab case).
    pub name: String,
    /// Efficiency, J/TH.
    pub j_per_th: f64,
}

/// A scenario file (every field optional).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// Scenario name.
    pub name: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Date the inputs apply to.
    pub date: Option<String>,
    /// Mining inputs.
    #[serde(default)]
    pub mining: MiningSection,
    /// Power inputs.
    #[serde(default)]
    pub power: PowerSection,
    /// Inference inputs.
    #[serde(default)]
    pub inference: InferenceSection,
    /// Site-view inputs.
    #[serde(default)]
    pub site: SiteSection,
    /// Custom GPU figures.
    #[serde(default)]
    pub gpu: GpuSection,
    /// The comment lines written just above each `section.key`: a file's
    /// citations and ASSUMPTION labels, which reports carry as the source.
    #[serde(skip)]
    pub comments: BTreeMap<String, String>,
}

/// The comment lines just above each `section.key` of a TOML text, joined.
fn key_comments(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Ok(doc) = text.parse::<toml_edit::DocumentMut>() else {
        return out;
    };
    for (section, item) in doc.as_table().iter() {
        let Some(table) = item.as_table() else {
            continue;
        };
        for (name, _) in table.iter() {
            let prefix = table
                .key(name)
                .and_then(|k| k.leaf_decor().prefix())
                .and_then(|p| p.as_str())
                .unwrap_or("");
            let comment = prefix
                .lines()
                .filter_map(|l| l.trim().strip_prefix('#'))
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            if !comment.is_empty() {
                out.insert(format!("{section}.{name}"), comment);
            }
        }
    }
    out
}

impl ScenarioFile {
    /// Parses TOML text; `path` is only used in messages.
    ///
    /// # Errors
    /// [`EconError::ParseScenario`] with a one-line message giving the line,
    /// for bad TOML, a mistyped value or an unknown key.
    pub fn from_toml(text: &str, path: &Path) -> Result<Self> {
        let mut file: Self = toml::from_str(text).map_err(|e| {
            let message = e.message().trim().replace('\n', " ");
            let location = e
                .span()
                .map(|s| {
                    let line = text[..s.start.min(text.len())].matches('\n').count() + 1;
                    let snippet = text.lines().nth(line - 1).unwrap_or("").trim();
                    format!("line {line} (`{snippet}`): ")
                })
                .unwrap_or_default();
            EconError::ParseScenario {
                path: path.to_owned(),
                message: format!("{location}{message}"),
            }
        })?;
        file.comments = key_comments(text);
        Ok(file)
    }

    /// Reads and parses a scenario file.
    ///
    /// # Errors
    /// [`EconError::ReadScenario`] or [`EconError::ParseScenario`].
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| EconError::ReadScenario {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text, path)
    }
}

/// Hash rate and watts taken from a bench report.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchInput {
    /// Report path.
    pub path: PathBuf,
    /// Backend used.
    pub backend: String,
    /// Measured hash rate.
    pub hashrate: HashRate,
    /// Average watts while hashing, if the report has them.
    pub watts: Option<Watts>,
    /// Idle baseline watts, if the report has them.
    pub idle_watts: Option<Watts>,
    /// Whether the watts were measured by a meter.
    pub watts_measured: bool,
    /// Meter description.
    pub meter: String,
}

/// Power inputs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PowerInputs {
    /// Electricity price.
    pub electricity: UsdPerKwh,
    /// Power usage effectiveness (≥ 1).
    pub pue: f64,
    /// Board power while mining.
    pub mining_watts: Watts,
    /// Board power while serving inference.
    pub inference_watts: Watts,
    /// Board power while on and idle.
    pub idle_watts: Watts,
    /// Whether the idle option keeps the GPU on.
    pub idle_mode: IdleMode,
}

/// A fully resolved scenario: the input of [`crate::economics::evaluate`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scenario {
    /// Name for reports.
    pub name: String,
    /// Date the inputs apply to, as the scenario file gives it.
    pub date: Option<String>,
    /// Mining model inputs.
    pub mining: MiningInputs,
    /// Optional multi-month projection (`months = 0` disables it).
    pub horizon: Horizon,
    /// Power inputs.
    pub power: PowerInputs,
    /// Inference valuation.
    pub inference: InferenceValue,
    /// Share of the hour inference is paid for.
    pub utilization: Percent,
    /// Site view inputs.
    pub site: SiteInputs,
    /// Provenance per input key (`mining.difficulty` → source). Keys
    /// missing here are reported as set by the library caller.
    #[serde(skip)]
    pub sources: BTreeMap<String, Source>,
}

impl Scenario {
    /// A scenario for a GPU with the given (ideally measured) hash rate and
    /// mining power, with every other input at its cited default: January
    /// 2026 network figures, H100 SXM serving Llama-3.1-8B FP8 at $0.18/Mtok
    /// at 100 % utilization, $0.081/kWh, PUE 1.56.
    ///
    /// ```
    /// use hashwatt::economics::{evaluate, scenario::Scenario, units::*, Choice};
    /// let s = Scenario::new(HashRate(5e9), Watts(700.0));
    /// let d = evaluate(&s)?;
    /// assert_eq!(d.winner, Choice::Infer);
    /// # Ok::<(), hashwatt::economics::EconError>(())
    /// ```
    pub fn new(hashrate: HashRate, mining_watts: Watts) -> Self {
        let layer = ScenarioFile {
            mining: MiningSection {
                hashrate_h_per_s: Some(hashrate.get()),
                ..Default::default()
            },
            power: PowerSection {
                mining_watts: Some(mining_watts.get()),
                ..Default::default()
            },
            ..Default::default()
        };
        let mut s = match Resolver::new(Some((&layer, Source::api())), None, None).resolve() {
            Ok(s) => s,
            // The cited defaults always resolve; only an invalid hash rate or
            // watts from the caller fails validation. Keep those values so
            // that `evaluate` reports the offending field.
            Err(_) => return Self::fallback(hashrate, mining_watts),
        };
        s.name = "library scenario".into();
        s
    }

    fn fallback(hashrate: HashRate, mining_watts: Watts) -> Self {
        let gpu = presets::GPUS[0];
        let model = presets::MODELS[0];
        Scenario {
            name: "library scenario".into(),
            date: None,
            mining: MiningInputs {
                hashrate,
                difficulty: Difficulty(network::DIFFICULTY),
                height: network::HEIGHT,
                fees_per_block: Btc(network::FEES_BTC_PER_BLOCK),
                pool_fee: Percent(0.0),
                stale: Percent(0.0),
                uptime: Percent(100.0),
                btc_price: Usd(network::BTC_PRICE_USD),
            },
            horizon: Horizon {
                months: 0,
                difficulty_growth_pct_per_month: 0.0,
                btc_price_change_pct_per_month: 0.0,
            },
            power: PowerInputs {
                electricity: UsdPerKwh(presets::power::ELECTRICITY_USD_PER_KWH),
                pue: presets::power::PUE,
                mining_watts,
                inference_watts: Watts(gpu.board_watts.get()),
                idle_watts: Watts(gpu.idle_watts().get()),
                idle_mode: IdleMode::On,
            },
            inference: InferenceValue::Tokens {
                roofline: RooflineInputs::new(gpu, model, Precision::Fp8),
                usd_per_mtok: UsdPerMtok(model.usd_per_mtok),
                usd_per_mtok_input: UsdPerMtok(model.usd_per_mtok_input),
            },
            utilization: Percent(100.0),
            site: SiteInputs::defaults(&gpu, presets::power::PUE),
            sources: BTreeMap::new(),
        }
    }

    /// Resolves a scenario from an optional file, an optional bench report
    /// and optional flag overrides (a [`ScenarioFile`] built from flags;
    /// each key's flag, for its provenance, is the one in
    /// [`super::inputs::INPUTS`]).
    ///
    /// # Errors
    /// A missing hash rate, an unknown preset, or any invalid input.
    pub fn resolve(
        file: Option<(&ScenarioFile, &Path)>,
        bench: Option<&BenchInput>,
        flags: Option<&ScenarioFile>,
    ) -> Result<Self> {
        let file_layer = file.map(|(f, p)| {
            (
                f,
                Source::new(SourceKind::Scenario, p.display().to_string()),
            )
        });
        let mut r = Resolver::new(file_layer, bench, flags);
        r.resolve()
    }

    /// Puts live network values ([`super::live::refresh`]) into the
    /// scenario: difficulty, height, fees per block and BTC price, each with
    /// its origin, as-of time and age at `now` as provenance. A value set by
    /// a flag is kept (the user's word wins); a live value replaces the
    /// scenario file's and the cited default. Returns the keys it set.
    ///
    /// # Errors
    /// [`EconError::InvalidInput`] when a value is out of range (a height
    /// beyond `u32`, a non-positive difficulty or price, negative fees);
    /// the scenario is left unchanged then.
    pub fn apply_live(
        &mut self,
        live: &super::live::LiveInputs,
        now: u64,
    ) -> Result<Vec<&'static str>> {
        let mut next = self.clone();
        let mut set = Vec::new();
        for (key, v) in live.entries() {
            if next.source_of(key).kind == SourceKind::Flag {
                continue;
            }
            match key {
                "mining.difficulty" => next.mining.difficulty = Difficulty(v.value),
                "mining.height" => {
                    next.mining.height = u32::try_from(v.value as u64)
                        .ok()
                        .filter(|_| v.value.fract() == 0.0 && v.value >= 0.0)
                        .ok_or_else(|| EconError::InvalidInput {
                            field: key!(mining.height).into(),
                            reason: "must be a block height (a whole number up to 4294967295)",
                            value: format!("{} (live)", v.value),
                        })?;
                }
                "mining.fees_btc_per_block" => next.mining.fees_per_block = Btc(v.value),
                "mining.btc_price_usd" => next.mining.btc_price = Usd(v.value),
                _ => continue,
            }
            next.sources.insert(
                key.to_owned(),
                Source::new(SourceKind::Live, super::live::describe(v, now)),
            );
            set.push(key);
        }
        next.validate()?;
        *self = next;
        Ok(set)
    }

    /// Why input `key` is not used by this scenario, if it is not: roofline
    /// inputs under the rental method, the rental price under the tokens
    /// method, GPU server inputs when the GPU options are left out of the
    /// site view.
    pub fn unused_reason(&self, key: &str) -> Option<&'static str> {
        if !self.sources.contains_key(key) {
            return Some(match &self.inference {
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
            key!(site.server_watts_per_gpu),
            key!(site.server_life_months),
            key!(site.marketplace_fee_pct),
        ];
        (self.site.gpu_server_capex_usd.is_none() && server.contains(&key)).then_some(
            "the site view leaves gpu-cloud and gpu-mining out without a GPU server price; \
             set --gpu-server-capex-usd",
        )
    }

    /// Refuses inputs, set by `flags` or by a scenario `file`, that this
    /// scenario (resolved from them) does not use, so nothing a user gives
    /// is silently dropped.
    ///
    /// # Errors
    /// [`EconError::NotUsed`] for the first unused input, named by its flag
    /// or by the file and key.
    pub fn check_used(
        &self,
        file: Option<(&ScenarioFile, &Path)>,
        flags: &ScenarioFile,
    ) -> Result<()> {
        let flag_keys = flags.set_keys();
        for &key in &flag_keys {
            if let Some(reason) = self.unused_reason(key) {
                let flag = inputs::flag_of(key).unwrap_or("a flag");
                return Err(EconError::NotUsed {
                    input: flag.to_owned(),
                    reason,
                });
            }
        }
        let Some((file, path)) = file else {
            return Ok(());
        };
        // A flag that switches the method or the horizon may leave the file's
        // inputs for the other setting unread: that is what overriding means.
        let overridden = |key: &str| {
            let decider = if key.starts_with("inference.") {
                key!(inference.method)
            } else {
                key!(mining.horizon_months)
            };
            flag_keys.contains(&decider)
        };
        for key in file.set_keys() {
            if overridden(key) {
                continue;
            }
            if let Some(reason) = self.unused_reason(key) {
                return Err(EconError::NotUsed {
                    input: format!("scenario {}: `{key}`", path.display()),
                    reason,
                });
            }
        }
        Ok(())
    }

    /// The provenance of input `key`.
    pub fn source_of(&self, key: &str) -> Source {
        self.sources.get(key).cloned().unwrap_or_else(Source::api)
    }

    /// Checks every input; the error names the field.
    ///
    /// # Errors
    /// [`EconError::InvalidInput`] for the first bad field.
    pub fn validate(&self) -> Result<()> {
        inputs::check_all(&self.values())?;
        if let InferenceValue::Tokens { roofline, .. } = &self.inference {
            super::inference::roofline(roofline)?;
        }
        self.site.validate()
    }

    /// Every input as `(key, value)`, in report order.
    pub fn input_values(&self) -> Vec<(&'static str, serde_json::Value)> {
        self.values()
            .into_iter()
            .map(|(k, v)| (k, v.to_json()))
            .collect()
    }

    /// Every input as `(key, value)`: what reports echo and what
    /// [`Self::validate`] checks, each by its key's [`inputs::Rule`].
    pub fn values(&self) -> Vec<(&'static str, Value)> {
        let mut v = self.mining.values().to_vec();
        let (p, h) = (&self.power, &self.horizon);
        v.extend([
            (
                key!(power.electricity_usd_per_kwh),
                p.electricity.get().into(),
            ),
            (key!(power.pue), p.pue.into()),
            (key!(power.mining_watts), p.mining_watts.get().into()),
            (key!(power.inference_watts), p.inference_watts.get().into()),
            (key!(power.idle_watts), p.idle_watts.get().into()),
            (key!(power.idle_mode), Value::of(p.idle_mode)),
            (
                key!(inference.utilization_pct),
                self.utilization.get().into(),
            ),
            (key!(mining.horizon_months), h.months.into()),
            (
                key!(mining.difficulty_growth_pct_per_month),
                h.difficulty_growth_pct_per_month.into(),
            ),
            (
                key!(mining.btc_price_change_pct_per_month),
                h.btc_price_change_pct_per_month.into(),
            ),
        ]);
        match &self.inference {
            InferenceValue::Rental { usd_per_hour } => v.extend([
                (key!(inference.method), Value::of(Method::Rental)),
                (
                    key!(inference.rental_usd_per_hour),
                    usd_per_hour.get().into(),
                ),
            ]),
            InferenceValue::Tokens {
                roofline: r,
                usd_per_mtok,
                usd_per_mtok_input,
            } => {
                v.extend([
                    (key!(inference.method), Value::of(Method::Tokens)),
                    (key!(inference.usd_per_mtok), usd_per_mtok.get().into()),
                    (
                        key!(inference.usd_per_mtok_input),
                        usd_per_mtok_input.get().into(),
                    ),
                    (key!(inference.gpu), Value::of(r.gpu.key)),
                    (key!(inference.model), Value::of(r.model.key)),
                    (key!(inference.precision), Value::of(r.precision)),
                    (
                        key!(inference.bandwidth_efficiency),
                        r.bandwidth_efficiency.into(),
                    ),
                    (
                        key!(inference.compute_efficiency),
                        r.compute_efficiency.into(),
                    ),
                    (
                        key!(inference.kv_bytes_per_element),
                        r.kv_bytes_per_element.into(),
                    ),
                    (key!(inference.gpus_per_replica), r.gpus_per_replica.into()),
                    (key!(inference.input_tokens), r.input_tokens.into()),
                    (key!(inference.output_tokens), r.output_tokens.into()),
                    (key!(inference.batch), r.batch.into()),
                ]);
                v.extend(gpu_values(&r.gpu));
            }
        }
        let power_price = self.power.electricity.per_mwh();
        v.extend(self.site.values(power_price));
        v
    }
}

/// A GPU's figures under their `[gpu]` keys.
fn gpu_values(gpu: &crate::hardware::GpuSpec) -> [(&'static str, Value); 5] {
    [
        (key!(gpu.memory_gb), gpu.memory_gb.into()),
        (key!(gpu.bandwidth_tb_s), gpu.bandwidth_tb_s.into()),
        (key!(gpu.fp16_tflops), gpu.fp16_tflops.into()),
        (key!(gpu.board_watts), gpu.board_watts.get().into()),
        (key!(gpu.fp8_tflops), gpu.fp8_tflops.unwrap_or(0.0).into()),
    ]
}

/// An input's key and its getter on a layer.
type Field<G> = (&'static str, G);

/// The [`Field`] at `section.field`: the key is the path, so it cannot drift
/// from the field it reads.
macro_rules! input {
    ($section:ident . $field:ident) => {
        (
            concat!(stringify!($section), ".", stringify!($field)),
            |f: &ScenarioFile| Option::clone(&f.$section.$field),
        )
    };
}

/// Layered lookup: flags > bench > file > defaults.
struct Resolver<'a> {
    file: Option<(&'a ScenarioFile, Source)>,
    bench: Option<&'a BenchInput>,
    flags: Option<&'a ScenarioFile>,
    sources: BTreeMap<String, Source>,
}

impl<'a> Resolver<'a> {
    fn new(
        file: Option<(&'a ScenarioFile, Source)>,
        bench: Option<&'a BenchInput>,
        flags: Option<&'a ScenarioFile>,
    ) -> Self {
        Resolver {
            file,
            bench,
            flags,
            sources: BTreeMap::new(),
        }
    }

    /// Picks `key` from flags, then `bench`, then the file, else `default`.
    fn pick<T>(
        &mut self,
        (key, get): Field<impl Fn(&ScenarioFile) -> Option<T>>,
        bench: Option<(T, Source)>,
        default: Option<(T, Source)>,
    ) -> Option<T> {
        let found = if let Some(v) = self.flags.and_then(|f| {
            get(f).map(|v| {
                let flag = super::inputs::flag_of(key).unwrap_or("command line");
                (v, Source::new(SourceKind::Flag, flag))
            })
        }) {
            Some(v)
        } else if let Some(b) = bench {
            Some(b)
        } else if let Some((f, src)) = &self.file {
            get(f)
                .map(|v| {
                    let mut src = src.clone();
                    if let Some(c) = f.comments.get(key) {
                        src.detail = format!("{}: {c}", src.detail);
                    }
                    (v, src)
                })
                .or(default)
        } else {
            default
        };
        found.map(|(v, s)| {
            self.sources.insert(key.to_owned(), s);
            v
        })
    }

    fn cited(detail: &str) -> Source {
        Source::new(SourceKind::Default, detail)
    }

    fn resolve(&mut self) -> Result<Scenario> {
        let net = network::SOURCE;
        let neutral = "neutral default (no pool fee / stale / downtime assumed; set yours)";
        let bench = self.bench;

        // Mining.
        let bench_hash = bench.map(|b| {
            (
                b.hashrate.get(),
                Source {
                    kind: SourceKind::Bench,
                    detail: format!("{} (backend {})", b.path.display(), b.backend),
                    measured: true,
                },
            )
        });
        let hashrate = self
            .pick(input!(mining.hashrate_h_per_s), bench_hash, None)
            .ok_or(EconError::Missing {
                field: key!(mining.hashrate_h_per_s),
                hint: "pass --bench REPORT.json or --hashrate, or set it in the scenario file",
            })?;
        let difficulty = self.num(input!(mining.difficulty), network::DIFFICULTY, net);
        let height = self
            .pick(
                input!(mining.height),
                None,
                Some((
                    network::HEIGHT,
                    Self::cited("derived: height 840,000 on 20 Apr 2024 + 144/day to 12 Jan 2026"),
                )),
            )
            .unwrap_or(network::HEIGHT);
        let btc_price = self.num(input!(mining.btc_price_usd), network::BTC_PRICE_USD, net);
        let fees = self.num(
            input!(mining.fees_btc_per_block),
            network::FEES_BTC_PER_BLOCK,
            "derived: 17 BTC of fees in the week to 12 Jan 2026 (Luxor) / ~1,008 blocks",
        );
        let pool_fee = self.num(input!(mining.pool_fee_pct), 0.0, neutral);
        let stale = self.num(input!(mining.stale_pct), 0.0, neutral);
        let uptime = self.num(input!(mining.uptime_pct), 100.0, neutral);
        let months = self
            .pick(
                input!(mining.horizon_months),
                None,
                Some((0, Self::cited("no projection unless asked"))),
            )
            .unwrap_or(0);
        let dg = self.num(
            input!(mining.difficulty_growth_pct_per_month),
            0.0,
            "flat unless set",
        );
        let pg = self.num(
            input!(mining.btc_price_change_pct_per_month),
            0.0,
            "flat unless set",
        );

        // Inference presets (needed for power defaults).
        let gpu_key = self
            .pick(
                input!(inference.gpu),
                None,
                Some((
                    "h100-sxm".to_owned(),
                    Self::cited("H100 SXM: the GPU the project measures"),
                )),
            )
            .unwrap_or_else(|| "h100-sxm".into());
        let mut gpu = *presets::gpu(&gpu_key)?;
        let spec = |what: &str| format!("{} {what} ({})", gpu.name, gpu.source);
        gpu.memory_gb = self.num(input!(gpu.memory_gb), gpu.memory_gb, &spec("memory"));
        gpu.bandwidth_tb_s = self.num(
            input!(gpu.bandwidth_tb_s),
            gpu.bandwidth_tb_s,
            &spec("memory bandwidth"),
        );
        gpu.fp16_tflops = self.num(
            input!(gpu.fp16_tflops),
            gpu.fp16_tflops,
            &spec("dense FP16 TFLOPS"),
        );
        let fp8 = self.num(
            input!(gpu.fp8_tflops),
            gpu.fp8_tflops.unwrap_or(0.0),
            &spec("dense FP8 TFLOPS (0: none)"),
        );
        gpu.board_watts = Watts(self.num(
            input!(gpu.board_watts),
            gpu.board_watts.get(),
            &spec("board power"),
        ));
        // Checked as given (a negative FP8 figure is an error, not "none").
        gpu.fp8_tflops = Some(fp8);
        inputs::check_all(&gpu_values(&gpu))?;
        gpu.fp8_tflops = (fp8 > 0.0).then_some(fp8);
        let preset_src = |what: &str| {
            Source::new(
                SourceKind::Preset,
                format!("{} {what}: {}", gpu.name, gpu.source),
            )
        };

        // Power.
        let electricity = self.num(
            input!(power.electricity_usd_per_kwh),
            presets::power::ELECTRICITY_USD_PER_KWH,
            presets::power::ELECTRICITY_SOURCE,
        );
        let pue = self.num(
            input!(power.pue),
            presets::power::PUE,
            presets::power::PUE_SOURCE,
        );
        let bench_watts = bench.and_then(|b| {
            b.watts.map(|w| {
                (
                    w.get(),
                    Source {
                        kind: SourceKind::Bench,
                        detail: format!(
                            "{} ({}, {})",
                            b.path.display(),
                            b.meter,
                            if b.watts_measured {
                                "measured"
                            } else {
                                "modeled by the bench"
                            }
                        ),
                        measured: b.watts_measured,
                    },
                )
            })
        });
        let mining_watts = self
            .pick(
                input!(power.mining_watts),
                bench_watts,
                Some((
                    gpu.board_watts.get(),
                    preset_src("max board power (modeled: assumes mining at full power)"),
                )),
            )
            .unwrap_or(gpu.board_watts.get());
        let inference_watts = self
            .pick(
                input!(power.inference_watts),
                None,
                Some((
                    gpu.board_watts.get(),
                    preset_src("max board power (modeled)"),
                )),
            )
            .unwrap_or(gpu.board_watts.get());
        let bench_idle = bench.and_then(|b| {
            b.idle_watts.map(|w| {
                (
                    w.get(),
                    Source {
                        kind: SourceKind::Bench,
                        detail: format!("{} idle baseline ({})", b.path.display(), b.meter),
                        measured: b.watts_measured,
                    },
                )
            })
        });
        let idle_default = gpu.idle_watts().get();
        let idle_watts = self
            .pick(
                input!(power.idle_watts),
                bench_idle,
                Some((
                    idle_default,
                    Source::new(
                        SourceKind::Assumption,
                        "ASSUMPTION (uncited): 10% of max board power; measure with hashwatt bench",
                    ),
                )),
            )
            .unwrap_or(idle_default);
        let idle_mode = self
            .pick(
                input!(power.idle_mode),
                None,
                Some((IdleMode::On, Self::cited("GPU left on"))),
            )
            .unwrap_or_default();

        // Inference value.
        let method = self
            .pick(
                input!(inference.method),
                None,
                Some((Method::Tokens, Self::cited("roofline tokens"))),
            )
            .unwrap_or(Method::Tokens);
        let utilization = self.num(
            input!(inference.utilization_pct),
            100.0,
            "upper bound: every second of the hour is paid for (set yours)",
        );
        let inference = match method {
            Method::Rental => {
                let rental = presets::rental(gpu.key).ok_or(EconError::Missing {
                    field: key!(inference.rental_usd_per_hour),
                    hint: "no rental price is known for this GPU; set it in the scenario or with \
                           --rental-usd-per-hour",
                })?;
                let r = self.num(
                    input!(inference.rental_usd_per_hour),
                    rental.usd_per_hour,
                    rental.source,
                );
                InferenceValue::Rental {
                    usd_per_hour: UsdPerHour(r),
                }
            }
            Method::Tokens => {
                let model_key = self
                    .pick(
                        input!(inference.model),
                        None,
                        Some((
                            "llama-3.1-8b".to_owned(),
                            Self::cited("the model TensorRT-LLM publishes for 1 GPU"),
                        )),
                    )
                    .unwrap_or_else(|| "llama-3.1-8b".into());
                let model = *presets::model(&model_key)?;
                let default_precision = if gpu.fp8_tflops.is_some() {
                    Precision::Fp8
                } else {
                    Precision::Fp16
                };
                let precision = self
                    .pick(
                        input!(inference.precision),
                        None,
                        Some((
                            default_precision,
                            Self::cited("FP8 where the GPU has it, else FP16"),
                        )),
                    )
                    .unwrap_or(default_precision);
                let price = self.num(
                    input!(inference.usd_per_mtok),
                    model.usd_per_mtok,
                    model.price_source,
                );
                let price_input = self.num(
                    input!(inference.usd_per_mtok_input),
                    model.usd_per_mtok_input,
                    model.price_source,
                );
                let mut ri = RooflineInputs::new(gpu, model, precision);
                let tp = "TensorRT-LLM ISL/OSL 1000/1000 (perf-overview.md, docs/sources.md)";
                ri.input_tokens = self
                    .pick(
                        input!(inference.input_tokens),
                        None,
                        Some((1000, Self::cited(tp))),
                    )
                    .unwrap_or(1000);
                ri.output_tokens = self
                    .pick(
                        input!(inference.output_tokens),
                        None,
                        Some((1000, Self::cited(tp))),
                    )
                    .unwrap_or(1000);
                ri.batch = self.pick(input!(inference.batch), None, None);
                if ri.batch.is_none() {
                    self.sources.insert(
                        key!(inference.batch).into(),
                        Self::cited("largest batch that fits (capped at 2048)"),
                    );
                }
                ri.gpus_per_replica = self
                    .pick(
                        input!(inference.gpus_per_replica),
                        None,
                        Some((1, Self::cited("one GPU"))),
                    )
                    .unwrap_or(1);
                let cal = "calibrated to TensorRT-LLM 1000/1000 Llama-3.1-8B H100/H200 (see economics::inference)";
                ri.bandwidth_efficiency = self.num(
                    input!(inference.bandwidth_efficiency),
                    super::inference::BANDWIDTH_EFFICIENCY,
                    cal,
                );
                ri.compute_efficiency = self.num(
                    input!(inference.compute_efficiency),
                    super::inference::COMPUTE_EFFICIENCY,
                    cal,
                );
                ri.kv_bytes_per_element = self.num(
                    input!(inference.kv_bytes_per_element),
                    precision.kv_bytes_per_element(),
                    "from the precision (FP8 KV for FP8, else 16-bit)",
                );
                InferenceValue::Tokens {
                    roofline: ri,
                    usd_per_mtok: UsdPerMtok(price),
                    usd_per_mtok_input: UsdPerMtok(price_input),
                }
            }
        };

        // Site.
        let rental_for_site = match &inference {
            InferenceValue::Rental { usd_per_hour } => (
                usd_per_hour.get(),
                self.sources
                    .get(key!(inference.rental_usd_per_hour))
                    .cloned()
                    .unwrap_or_else(Source::api),
            ),
            InferenceValue::Tokens { .. } => match presets::rental(gpu.key) {
                Some(r) => (r.usd_per_hour, Self::cited(r.source)),
                None => (0.0, Self::cited("no rental price known for this GPU")),
            },
        };
        self.sources
            .insert(inputs::SITE_RENTAL_USD_PER_HOUR.into(), rental_for_site.1);
        let site_price = self.pick(input!(site.power_usd_per_mwh), None, None);
        let rank = |k: Option<SourceKind>| match k {
            Some(SourceKind::Flag) => 3,
            Some(SourceKind::Bench) => 2,
            Some(SourceKind::Scenario) => 1,
            _ => 0,
        };
        let e_rank = rank(
            self.sources
                .get(key!(power.electricity_usd_per_kwh))
                .map(|s| s.kind),
        );
        let s_rank = rank(
            self.sources
                .get(key!(site.power_usd_per_mwh))
                .map(|s| s.kind),
        );
        let power_price = match site_price {
            Some(p) if s_rank >= e_rank => Some(UsdPerMwh(p)),
            _ => {
                self.sources.insert(
                    key!(site.power_usd_per_mwh).into(),
                    Self::cited(&format!(
                        "the electricity price x 1000 (power.electricity_usd_per_kwh = {electricity}{})",
                        if site_price.is_some() {
                            ", set at a higher layer than the site price"
                        } else {
                            ""
                        }
                    )),
                );
                None
            }
        };
        let power_mw = self.num(input!(site.power_mw), 1.0, "one megawatt");
        let curtail = self.num(
            input!(site.curtail_usd_per_mwh),
            0.0,
            "stay off: no demand-response payment or sell-back assumed",
        );
        let discount = self.assumed(
            input!(site.discount_rate_pct),
            10.0,
            "ASSUMPTION: 10 % a year cost of capital; set yours",
        );
        let site_horizon = if months > 0 {
            months
        } else {
            self.sources.insert(
                inputs::SITE_HORIZON_MONTHS.into(),
                Source::new(
                    SourceKind::Assumption,
                    "ASSUMPTION: 60 months (set --horizon-months)",
                ),
            );
            60
        };
        if months > 0 {
            let src = self.sources.get(key!(mining.horizon_months)).cloned();
            if let Some(src) = src {
                self.sources.insert(inputs::SITE_HORIZON_MONTHS.into(), src);
            }
        }
        let pue_src = "the scenario's PUE (power.pue)";
        let mining_pue = self.num(input!(site.mining_pue), pue, pue_src);
        let ai_pue = self.num(input!(site.ai_pue), pue, pue_src);
        let per_th = crate::hardware::ASIC_USD_PER_TH;
        let asic_capex = self.num(
            input!(site.asic_capex_usd_per_th),
            per_th.value,
            per_th.source,
        );
        let lease = self.num(
            input!(site.lease_usd_per_mw_year),
            presets::site::AI_LEASE_CORE_SCIENTIFIC_USD_PER_MW_YEAR,
            presets::site::AI_LEASE_SOURCE,
        );
        let lease_capex = self.num(
            input!(site.lease_capex_usd_per_mw),
            presets::site::AI_FIT_OUT_USD_PER_MW,
            presets::site::AI_FIT_OUT_SOURCE,
        );
        let tenant_pays = self
            .pick(
                input!(site.tenant_pays_power),
                None,
                Some((
                    false,
                    Source::new(
                        SourceKind::Assumption,
                        "ASSUMPTION: the host pays the AI hall's power (the conservative case)",
                    ),
                )),
            )
            .unwrap_or(false);
        let (sw, sw_src, sw_assumed) = gpu.server_watts();
        let server_watts = self
            .pick(
                input!(site.server_watts_per_gpu),
                None,
                Some((
                    sw.get(),
                    Source::new(
                        if sw_assumed {
                            SourceKind::Assumption
                        } else {
                            SourceKind::Preset
                        },
                        format!("{}: {sw_src}", gpu.name),
                    ),
                )),
            )
            .unwrap_or(sw.get());
        let server_capex = self.pick(
            input!(site.gpu_server_capex_usd),
            None,
            gpu.server_capex_usd_per_gpu.map(|c| {
                (
                    c.value,
                    Source::new(SourceKind::Preset, format!("{}: {}", gpu.name, c.source)),
                )
            }),
        );
        let life = self
            .pick(
                input!(site.server_life_months),
                None,
                Some((
                    48,
                    Self::cited(
                        "derived: 25-35 % residual value after 36 months (GPU TCO analysis page, \
                         low confidence) is a straight line to zero in about 48 months",
                    ),
                )),
            )
            .unwrap_or(48);
        let fee = self.num(
            input!(site.marketplace_fee_pct),
            0.0,
            "neutral default: rented directly, no marketplace fee (set yours)",
        );
        let asic_keys = self
            .pick(
                input!(site.asics),
                None,
                Some((
                    vec!["s21-xp".to_owned(), "s21".to_owned()],
                    Self::cited("Antminer S21 XP and S21 (hardware table, docs/sources.md)"),
                )),
            )
            .unwrap_or_default();
        let mut asics = Vec::new();
        for k in &asic_keys {
            let a = presets::asic(k).ok_or_else(|| EconError::InvalidInput {
                field: key!(site.asics).into(),
                reason: "unknown ASIC preset (known: s21-xp, s21, s21-pro, s21-xp-hyd, s23-hyd, m60s)",
                value: k.clone(),
            })?;
            asics.push(SiteAsic {
                key: a.key.to_owned(),
                name: a.name.to_owned(),
                th_per_s: Some(a.th_per_s),
                j_per_th: a.j_per_th,
                source: a.source.to_owned(),
            });
        }
        let custom = self
            .pick(input!(site.custom_asics), None, None)
            .unwrap_or_default();
        for c in custom {
            let key = c.name.trim().to_ascii_lowercase().replace([' ', '_'], "-");
            asics.push(SiteAsic {
                key,
                name: c.name,
                th_per_s: None,
                j_per_th: c.j_per_th,
                source: "custom ASIC (scenario file)".into(),
            });
        }

        let name = self
            .flags
            .and_then(|f| f.name.clone())
            .or_else(|| self.file.as_ref().and_then(|(f, _)| f.name.clone()))
            .unwrap_or_else(|| "hashwatt scenario".into());

        let date = self
            .flags
            .and_then(|f| f.date.clone())
            .or_else(|| self.file.as_ref().and_then(|(f, _)| f.date.clone()));
        let scenario = Scenario {
            name,
            date,
            mining: MiningInputs {
                hashrate: HashRate(hashrate),
                difficulty: Difficulty(difficulty),
                height,
                fees_per_block: Btc(fees),
                pool_fee: Percent(pool_fee),
                stale: Percent(stale),
                uptime: Percent(uptime),
                btc_price: Usd(btc_price),
            },
            horizon: Horizon {
                months,
                difficulty_growth_pct_per_month: dg,
                btc_price_change_pct_per_month: pg,
            },
            power: PowerInputs {
                electricity: UsdPerKwh(electricity),
                pue,
                mining_watts: Watts(mining_watts),
                inference_watts: Watts(inference_watts),
                idle_watts: Watts(idle_watts),
                idle_mode,
            },
            inference,
            utilization: Percent(utilization),
            site: SiteInputs {
                power_mw,
                power_price,
                curtail_price: UsdPerMwh(curtail),
                horizon_months: site_horizon,
                discount_rate: Percent(discount),
                asics,
                mining_pue,
                ai_pue,
                asic_capex_usd_per_th: asic_capex,
                lease_usd_per_mw_year: lease,
                lease_capex_usd_per_mw: lease_capex,
                tenant_pays_power: tenant_pays,
                server_watts_per_gpu: Watts(server_watts),
                gpu_server_capex_usd: server_capex,
                server_life_months: life,
                marketplace_fee: Percent(fee),
                rental_usd_per_hour: rental_for_site.0,
            },
            sources: std::mem::take(&mut self.sources),
        };
        scenario.validate()?;
        Ok(scenario)
    }

    /// Like [`Self::num`], with a default that is an assumption, not a citation.
    fn assumed(
        &mut self,
        input: Field<impl Fn(&ScenarioFile) -> Option<f64>>,
        default: f64,
        why: &str,
    ) -> f64 {
        self.pick(
            input,
            None,
            Some((default, Source::new(SourceKind::Assumption, why))),
        )
        .unwrap_or(default)
    }

    fn num(
        &mut self,
        input: Field<impl Fn(&ScenarioFile) -> Option<f64>>,
        default: f64,
        cite: &str,
    ) -> f64 {
        self.pick(input, None, Some((default, Self::cited(cite))))
            .unwrap_or(default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn parse(text: &str) -> Result<ScenarioFile> {
        ScenarioFile::from_toml(text, Path::new("t.toml"))
    }

    fn resolve(text: &str) -> Result<Scenario> {
        let f = parse(text)?;
        Scenario::resolve(Some((&f, Path::new("t.toml"))), None, None)
    }

    #[test]
    fn unknown_keys_are_one_line_errors_with_the_line() {
        let e = parse("name = \"x\"\n[power]\npue = 1.2\nwats = 3\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("scenario t.toml: line 4 (`wats = 3`): unknown field `wats`"),
            "{e}"
        );
        assert!(!e.contains('\n'));
        let e = parse("[minning]\n").unwrap_err().to_string();
        assert!(e.contains("unknown field `minning`"), "{e}");
        let e = parse("[mining]\nheight = -5\n").unwrap_err().to_string();
        assert!(e.contains("line 2"), "{e}");
        let e = parse("[power]\nidle_mode = \"sleep\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown variant `sleep`"), "{e}");
    }

    #[test]
    fn bad_values_name_the_field() {
        let cases = [
            (
                "[mining]\nhashrate_h_per_s = 1e9\ndifficulty = 0\n",
                "mining.difficulty",
            ),
            (
                "[mining]\nhashrate_h_per_s = 1e9\nbtc_price_usd = -1\n",
                "mining.btc_price_usd",
            ),
            (
                "[mining]\nhashrate_h_per_s = 1e9\npool_fee_pct = 150\n",
                "mining.pool_fee_pct",
            ),
            (
                "[mining]\nhashrate_h_per_s = nan\n",
                "mining.hashrate_h_per_s",
            ),
            (
                "[mining]\nhashrate_h_per_s = 1e9\n[power]\npue = 0.5\n",
                "power.pue",
            ),
            (
                "[mining]\nhashrate_h_per_s = 1e9\n[inference]\nutilization_pct = -1\n",
                "inference.utilization_pct",
            ),
            (
                "[mining]\nhashrate_h_per_s = 1e9\n[inference]\nusd_per_mtok = -0.1\n",
                "inference.usd_per_mtok",
            ),
            (
                "[mining]\nhashrate_h_per_s = 1e9\n[site]\nasics = [\"s99\"]\n",
                "site.asics",
            ),
            (
                "[mining]\nhashrate_h_per_s = 1e9\n[power]\nelectricity_usd_per_kwh = -0.01\n",
                "power.electricity_usd_per_kwh",
            ),
            ("[mining]\ndifficulty = 1e12\n", "mining.hashrate_h_per_s"),
        ];
        for (text, field) in cases {
            let e = resolve(text).unwrap_err().to_string();
            assert!(e.contains(&format!("`{field}`")), "{field}: {e}");
        }
        let e = resolve("[mining]\nhashrate_h_per_s = 1e9\n[inference]\ngpu = \"a100-80gb\"\nprecision = \"fp8\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("fp8 is not supported by NVIDIA A100"), "{e}");
    }

    #[test]
    fn layers_and_sources() {
        let f = parse("[mining]\nhashrate_h_per_s = 1e9\nbtc_price_usd = 50000\n[power]\nmining_watts = 650\n")
            .unwrap_or_else(|e| panic!("{e}"));
        let flags = ScenarioFile {
            mining: MiningSection {
                btc_price_usd: Some(60_000.0),
                ..Default::default()
            },
            ..Default::default()
        };
        let bench = BenchInput {
            path: "b.json".into(),
            backend: "gpu".into(),
            hashrate: HashRate(2e9),
            watts: Some(Watts(300.0)),
            idle_watts: Some(Watts(60.0)),
            watts_measured: true,
            meter: "nvml:H100".into(),
        };
        let s = Scenario::resolve(Some((&f, Path::new("t.toml"))), Some(&bench), Some(&flags))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.mining.btc_price.get(), 60_000.0);
        assert_eq!(s.source_of("mining.btc_price_usd").kind, SourceKind::Flag);
        assert_eq!(s.source_of("mining.btc_price_usd").detail, "--btc-price");
        // Bench beats the file for hash rate and watts.
        assert_eq!(s.mining.hashrate.get(), 2e9);
        assert_eq!(s.power.mining_watts.get(), 300.0);
        assert!(s.source_of("power.mining_watts").measured);
        assert_eq!(s.power.idle_watts.get(), 60.0);
        // Defaults are cited.
        assert_eq!(s.mining.difficulty.get(), network::DIFFICULTY);
        assert!(s.source_of("mining.difficulty").detail.contains("Luxor"));
        assert_eq!(s.source_of("power.pue").kind, SourceKind::Default);
        // Without a bench, watts come from the file, then the preset (modeled).
        let s = resolve("[mining]\nhashrate_h_per_s = 1e9\n").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.power.mining_watts.get(), 700.0);
        let src = s.source_of("power.mining_watts");
        assert_eq!(src.kind, SourceKind::Preset);
        assert!(!src.measured && src.detail.contains("modeled"));
        assert_eq!(s.source_of("power.idle_watts").kind, SourceKind::Assumption);
    }

    #[test]
    fn every_input_is_echoed_and_checked_under_its_key() {
        let tokens = Scenario::new(HashRate(1e9), Watts(500.0));
        let rental =
            resolve("[mining]\nhashrate_h_per_s = 1e9\n[inference]\nmethod = \"rental\"\n")
                .unwrap_or_else(|e| panic!("{e}"));
        let echoed: BTreeSet<&str> = [tokens, rental]
            .iter()
            .flat_map(|s| s.values())
            .map(|(k, _)| k)
            .collect();
        for k in &echoed {
            assert!(inputs::find(k).is_some(), "{k} is echoed but not declared");
        }
        for i in inputs::INPUTS.iter().chain(inputs::DERIVED) {
            // Custom ASICs are echoed as entries of `site.asics`.
            if i.key != "site.custom_asics" {
                assert!(echoed.contains(i.key), "{} is never echoed", i.key);
            }
        }
    }

    #[test]
    fn library_default_scenario_resolves() {
        let s = Scenario::new(HashRate(1e9), Watts(500.0));
        assert_eq!(s.power.mining_watts.get(), 500.0);
        assert!(s.validate().is_ok());
        assert!(
            s.input_values()
                .iter()
                .any(|(k, _)| *k == "inference.model")
        );
    }
}
