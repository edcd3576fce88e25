//! Cited presets: GPUs, models, ASICs, network and price defaults.
//!
//! Every number here comes from `docs/sources.md` (the project's table of
//! cited figures); each item names its source, the date the figure applies
//! to, and a grade: **P** primary (vendor or protocol document), **S**
//! secondary (reseller, press, third-party table), **D** derived by
//! arithmetic. Figures that are assumptions rather than citations say so.

use super::error::{EconError, Result};

/// GPU and ASIC figures live in the crate's one hardware table.
pub use crate::hardware::{ASICS, AsicSpec as AsicPreset, GPUS, GpuSpec as GpuPreset};

/// What one GPU-hour rents for on demand.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rental {
    /// Key of the GPU in [`GPUS`].
    pub gpu: &'static str,
    /// On-demand price per GPU-hour, USD.
    pub usd_per_hour: f64,
    /// Where the price comes from, and when it was read.
    pub source: &'static str,
}

/// On-demand rental prices, one per GPU of [`GPUS`] (`docs/sources.md`,
/// "Prices").
pub const RENTALS: &[Rental] = &[
    Rental {
        gpu: "h100-sxm",
        usd_per_hour: 2.69,
        source: "RunPod Community Cloud, read 2026-09-25 (runpod.io/pricing via silybench-data)",
    },
    Rental {
        gpu: "h100-pcie",
        usd_per_hour: 1.99,
        source: "RunPod Community Cloud, read 2026-09-25",
    },
    Rental {
        gpu: "h200",
        usd_per_hour: 3.59,
        source: "RunPod Community Cloud, read 2026-09-25",
    },
    Rental {
        gpu: "a100-80gb",
        usd_per_hour: 1.39,
        source: "RunPod Community Cloud (SXM), read 2026-09-25",
    },
    Rental {
        gpu: "l40s",
        usd_per_hour: 0.79,
        source: "RunPod Community Cloud, read 2026-09-25",
    },
    Rental {
        gpu: "rtx-4090",
        usd_per_hour: 0.34,
        source: "RunPod Community Cloud, read 2026-09-25",
    },
    Rental {
        gpu: "b200",
        usd_per_hour: 5.98,
        source: "RunPod Community Cloud, read 2026-09-25",
    },
    Rental {
        gpu: "mi300x",
        usd_per_hour: 1.71,
        source: "TensorWave on-demand, as listed by gpu.blog's MI300X marketplace page, 2025",
    },
];

/// The rental price of a GPU of [`GPUS`], by its key.
pub fn rental(gpu_key: &str) -> Option<&'static Rental> {
    RENTALS.iter().find(|r| r.gpu == gpu_key)
}

/// A decoder-only transformer's shape (Llama family), from which parameter
/// count and KV-cache size are derived.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelPreset {
    /// Preset key for `--model`.
    pub key: &'static str,
    /// Display name.
    pub name: &'static str,
    /// Transformer layers.
    pub layers: u32,
    /// Hidden (embedding) size.
    pub hidden: u32,
    /// MLP intermediate size.
    pub intermediate: u32,
    /// Query heads.
    pub heads: u32,
    /// Key/value heads (grouped-query attention).
    pub kv_heads: u32,
    /// Vocabulary size.
    pub vocab: u32,
    /// Default output-token price, USD per million tokens.
    pub usd_per_mtok: f64,
    /// Default input-token price, USD per million tokens.
    pub usd_per_mtok_input: f64,
    /// Where that price comes from.
    pub price_source: &'static str,
    /// Where the shape comes from.
    pub source: &'static str,
}

impl ModelPreset {
    /// Per-head dimension (`hidden / heads`).
    pub fn head_dim(&self) -> u32 {
        self.hidden / self.heads
    }

    /// Parameter count derived from the shape (**D**): untied input
    /// embedding and output head, Q/K/V/O projections, gated MLP (three
    /// matrices); norms are negligible and left out. Llama-3.1-8B → 8.03 B,
    /// 70B → 70.55 B, matching Meta's published sizes.
    pub fn params(&self) -> f64 {
        let h = f64::from(self.hidden);
        let kv = f64::from(self.kv_heads * self.head_dim());
        let attn = 2.0 * h * h + 2.0 * h * kv;
        let mlp = 3.0 * h * f64::from(self.intermediate);
        f64::from(self.layers) * (attn + mlp) + 2.0 * f64::from(self.vocab) * h
    }

    /// KV-cache elements per token: 2 (K and V) × layers × KV heads × head dim.
    pub fn kv_elements_per_token(&self) -> f64 {
        2.0 * f64::from(self.layers) * f64::from(self.kv_heads) * f64::from(self.head_dim())
    }
}

/// The model presets. Shapes: Meta's Llama 3.1 `config.json` as tabulated
/// in oumi-ai `configs/recipes/llama3_1/README.md` (read Nov 2026, **S**).
/// Prices: docs/sources.md §6 (Together AI Instruct Turbo, ~2024–2025, **S**).
pub const MODELS: &[ModelPreset] = &[
    ModelPreset {
        key: "llama-3.1-8b",
        name: "Llama-3.1-8B",
        layers: 32,
        hidden: 4096,
        intermediate: 14_336,
        heads: 32,
        kv_heads: 8,
        vocab: 128_256,
        usd_per_mtok: 0.18,
        usd_per_mtok_input: 0.18,
        price_source: "Together AI Llama-3.1-8B Instruct Turbo price (input and output), ~2024-2025 third-party tables (docs/sources.md)",
        source: "Meta Llama 3.1 config.json via oumi-ai recipes README",
    },
    ModelPreset {
        key: "llama-3.1-70b",
        name: "Llama-3.1-70B",
        layers: 80,
        hidden: 8192,
        intermediate: 28_672,
        heads: 64,
        kv_heads: 8,
        vocab: 128_256,
        usd_per_mtok: 0.88,
        usd_per_mtok_input: 0.88,
        price_source: "Together AI Llama-3.1/3.3-70B Instruct Turbo price (input and output), ~2024-2025 third-party tables (docs/sources.md)",
        source: "Meta Llama 3.1 config.json via oumi-ai recipes README",
    },
];

/// Network defaults: Luxor Hashrate Index roundup, 12 Jan 2026 (**P**,
/// docs/sources.md §2), the latest figures the project found.
pub mod network {
    /// Difficulty 148.26 T (after the −1.20 % adjustment of 8 Jan 2026).
    /// Source: hashrateindex.com roundup, 12 Jan 2026 **P**.
    pub const DIFFICULTY: f64 = 148.26e12;
    /// BTC price ≈ $91,132. Source: hashrateindex.com roundup, 12 Jan 2026 **P**.
    pub const BTC_PRICE_USD: f64 = 91_132.0;
    /// Fees ≈ 0.017 BTC per block: 17 BTC in the week to 12 Jan 2026
    /// (Luxor **P**) ÷ ~1,008 blocks (**D**).
    pub const FEES_BTC_PER_BLOCK: f64 = 0.017;
    /// Block height ≈ 931,000 in mid-January 2026 (**D**: height 840,000 on
    /// 20 Apr 2024 plus 632 days × 144 blocks). Only the subsidy depends on
    /// it, and it is 3.125 BTC for all heights 840,000–1,049,999.
    pub const HEIGHT: u32 = 931_000;
    /// Luxor's published gross hashprice for the same week, USD/PH/s/day,
    /// used to check the model. Source: hashrateindex.com, 12 Jan 2026 **P**.
    pub const PUBLISHED_HASHPRICE_USD: f64 = 39.53;
    /// A human-readable citation for the defaults above.
    pub const SOURCE: &str =
        "Luxor Hashrate Index roundup, 12 Jan 2026 (hashrateindex.com; docs/sources.md)";
}

/// Power defaults (docs/sources.md §7).
pub mod power {
    /// Industry-average PUE 1.56. Source: Uptime Institute 2024 survey **S/P**.
    pub const PUE: f64 = 1.56;
    /// Source of [`PUE`].
    pub const PUE_SOURCE: &str = "Uptime Institute industry average, 2024 survey (docs/sources.md)";
    /// Electricity $0.081/kWh: TeraWulf's energy cost in Q1 2025
    /// (TheMinerMag via tekmono.com **S**), a recent US data-center-scale rate.
    pub const ELECTRICITY_USD_PER_KWH: f64 = 0.081;
    /// Source of [`ELECTRICITY_USD_PER_KWH`].
    pub const ELECTRICITY_SOURCE: &str =
        "TeraWulf energy cost Q1 2025 (TheMinerMag via tekmono.com; docs/sources.md)";
    /// Idle draw as a fraction of max board power: the hardware table's
    /// estimate [`crate::hardware::GPU_IDLE_SHARE`]. Measure yours with
    /// `hashwatt bench` (its report's `joules − net_joules` is the idle
    /// baseline, which `econ --bench` uses when present).
    pub const IDLE_FRACTION_OF_MAX: f64 = crate::hardware::GPU_IDLE_SHARE;
}

/// Site-view figures (`docs/sources.md`, section 7).
pub mod site {
    /// Core Scientific–CoreWeave 200 MW 12-year lease, > $3.5 B ≈ $1.45 M per
    /// MW-year (derived: 3.5e9 / 12 / 200; CNBC via ForkLog, Jun 2024,
    /// secondary). The lower of the two public deals.
    pub const AI_LEASE_CORE_SCIENTIFIC_USD_PER_MW_YEAR: f64 = 1.45e6;
    /// TeraWulf–Fluidstack ~200 MW 10-year ~$3.7 B ≈ $1.85 M per MW-year
    /// (derived; CryptoSlate, Aug 2025, secondary).
    pub const AI_LEASE_TERAWULF_USD_PER_MW_YEAR: f64 = 1.85e6;
    /// Source of the default lease rate.
    pub const AI_LEASE_SOURCE: &str = "Core Scientific-CoreWeave lease, 200 MW for 12 years, \
        > $3.5 B = $1.45 M per MW-year (CNBC via ForkLog, Jun 2024; docs/sources.md); \
        TeraWulf-Fluidstack is $1.85 M";
    /// AI data-center build-out, USD per MW: the midpoint of $3–5 M/MW quoted
    /// by Sabre56's CEO (Cointelegraph, Sep 2024, secondary).
    pub const AI_FIT_OUT_USD_PER_MW: f64 = 4.0e6;
    /// Source of [`AI_FIT_OUT_USD_PER_MW`].
    pub const AI_FIT_OUT_SOURCE: &str = "midpoint of $3-5 M per MW AI data-center build-out \
        (Sabre56 CEO, Cointelegraph, Sep 2024; docs/sources.md)";
    /// Luxor: < 19 J/TH fleets earn $97/MWh gross (12 Jan 2026, primary).
    pub const LUXOR_SUB19_USD_PER_MWH: f64 = 97.0;
    /// Riot's net power cost 3.4 ¢/kWh in Q1 2025 (fintool.com call
    /// summary, secondary), a low-cost miner's rate.
    pub const RIOT_USD_PER_KWH: f64 = 0.034;
}

/// The TensorRT-LLM throughput figures the roofline is checked against
/// (docs/sources.md §5: NVIDIA/TensorRT-LLM `docs/source/performance/perf-overview.md`,
/// v1.0-era 2025, **P**). Total output tokens/s, FP8, offline max-throughput.
pub mod published {
    /// One published row: GPU preset key, model key, GPUs (tensor
    /// parallel), input and output lengths, tokens/s.
    pub type Row = (&'static str, &'static str, u32, u32, u32, f64);
    /// Rows: Llama-3.1-8B TP1 on H100 and H200, Llama-3.3-70B (same shape as
    /// 3.1-70B) TP1 on H200 and TP2 on H100 (total for both GPUs).
    pub const TRTLLM: &[Row] = &[
        ("h100-sxm", "llama-3.1-8b", 1, 128, 128, 28_312.0),
        ("h100-sxm", "llama-3.1-8b", 1, 128, 2048, 22_714.0),
        ("h100-sxm", "llama-3.1-8b", 1, 500, 2000, 17_660.0),
        ("h100-sxm", "llama-3.1-8b", 1, 1000, 1000, 15_220.0),
        ("h100-sxm", "llama-3.1-8b", 1, 2048, 2048, 9_305.0),
        ("h100-sxm", "llama-3.1-8b", 1, 2048, 128, 3_450.0),
        ("h200", "llama-3.1-8b", 1, 128, 128, 27_911.0),
        ("h200", "llama-3.1-8b", 1, 128, 2048, 26_221.0),
        ("h200", "llama-3.1-8b", 1, 500, 2000, 20_770.0),
        ("h200", "llama-3.1-8b", 1, 1000, 1000, 17_744.0),
        ("h200", "llama-3.1-8b", 1, 2048, 2048, 12_194.0),
        ("h200", "llama-3.1-8b", 1, 2048, 128, 3_538.0),
        ("h200", "llama-3.1-70b", 1, 128, 128, 3_803.0),
        ("h200", "llama-3.1-70b", 1, 128, 2048, 4_336.0),
        ("h200", "llama-3.1-70b", 1, 500, 2000, 3_666.0),
        ("h200", "llama-3.1-70b", 1, 1000, 1000, 2_909.0),
        ("h200", "llama-3.1-70b", 1, 2048, 2048, 2_003.0),
        ("h200", "llama-3.1-70b", 1, 2048, 128, 442.0),
        ("h100-sxm", "llama-3.1-70b", 2, 128, 128, 6_378.0),
        ("h100-sxm", "llama-3.1-70b", 2, 128, 2048, 6_651.0),
        ("h100-sxm", "llama-3.1-70b", 2, 500, 2000, 5_222.0),
        ("h100-sxm", "llama-3.1-70b", 2, 1000, 1000, 4_205.0),
        ("h100-sxm", "llama-3.1-70b", 2, 2048, 2048, 3_082.0),
        ("h100-sxm", "llama-3.1-70b", 2, 2048, 128, 762.0),
    ];
}

fn keys<T>(items: &[T], key: impl Fn(&T) -> &'static str) -> String {
    items.iter().map(key).collect::<Vec<_>>().join(", ")
}

fn normalize(name: &str) -> String {
    name.trim().to_ascii_lowercase().replace(['_', ' '], "-")
}

/// Looks up a GPU preset by key (case-insensitive; `_` and spaces read as `-`).
///
/// # Errors
/// [`EconError::UnknownGpu`] listing the known keys.
pub fn gpu(name: &str) -> Result<&'static GpuPreset> {
    crate::hardware::gpu(name).ok_or_else(|| EconError::UnknownGpu {
        name: name.to_owned(),
        known: keys(GPUS, |g| g.key),
    })
}

/// Looks up a model preset by key (case-insensitive).
///
/// # Errors
/// [`EconError::UnknownModel`] listing the known keys.
pub fn model(name: &str) -> Result<&'static ModelPreset> {
    let n = normalize(name);
    MODELS
        .iter()
        .find(|m| m.key == n)
        .ok_or_else(|| EconError::UnknownModel {
            name: name.to_owned(),
            known: keys(MODELS, |m| m.key),
        })
}

/// Looks up an ASIC preset by key (case-insensitive); `None` if unknown.
pub fn asic(name: &str) -> Option<&'static AsicPreset> {
    crate::hardware::asic(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_parameter_counts_match_meta() {
        let m8 = model("Llama-3.1-8B").unwrap_or_else(|e| panic!("{e}"));
        assert!((m8.params() / 1e9 - 8.03).abs() < 0.01, "{}", m8.params());
        assert_eq!(m8.head_dim(), 128);
        // 2 × 32 × 8 × 128 = 65,536 elements: 128 KiB/token at FP16.
        assert_eq!(m8.kv_elements_per_token(), 65_536.0);
        let m70 = model("llama_3.1_70b").unwrap_or_else(|e| panic!("{e}"));
        assert!(
            (m70.params() / 1e9 - 70.55).abs() < 0.01,
            "{}",
            m70.params()
        );
        assert_eq!(m70.kv_elements_per_token(), 163_840.0);
    }

    #[test]
    fn every_gpu_has_a_rental_price() {
        for g in GPUS {
            let r = rental(g.key).unwrap_or_else(|| panic!("no rental for {}", g.key));
            assert!(r.usd_per_hour > 0.0 && !r.source.is_empty());
        }
        assert!(asic("S21 XP").is_some());
        assert!(asic("s99").is_none());
    }

    #[test]
    fn unknown_presets_list_the_known_ones() {
        let e = gpu("h900").unwrap_err().to_string();
        assert!(
            e.contains("unknown GPU preset `h900`") && e.contains("h100-sxm"),
            "{e}"
        );
        let e = model("gpt-5").unwrap_err().to_string();
        assert!(e.contains("llama-3.1-8b"), "{e}");
        assert_eq!(
            gpu("H100 SXM").map(|g| g.board_watts.get()).ok(),
            Some(700.0)
        );
    }
}
