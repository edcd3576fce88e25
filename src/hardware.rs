//! The one cited table of hardware figures: GPUs (board and server power,
//! memory, bandwidth, tensor throughput) and Bitcoin ASICs (hash rate, wall
//! power, efficiency, price per TH).
//!
//! The power model ([`crate::energy::modeled`]) reads its GPU rows from here
//! and the money model ([`crate::economics::presets`]) its GPU and ASIC
//! presets; nothing else restates these figures. Every figure names its
//! public source; the sources, with the figures, are collected in the
//! repository's `docs/sources.md`. Figures that are estimates rather than
//! citations say so in their own doc comment and in their `source` text.

use crate::units::{HashRate, Watts};

/// A single figure with where it comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cited {
    /// The value, in the unit the field it sits in names.
    pub value: f64,
    /// Public source (or the arithmetic that derives it from one).
    pub source: &'static str,
}

/// A SHA-256d rate for a GPU, with what it rests on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sha256dRate {
    /// Hashes per second.
    pub rate: HashRate,
    /// Whether it was measured (`false`: modeled estimate).
    pub measured: bool,
    /// How it was obtained.
    pub basis: &'static str,
}

/// A GPU's spec-sheet figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GpuSpec {
    /// Key for `--gpu` (lower-case, dash-separated).
    pub key: &'static str,
    /// Display name.
    pub name: &'static str,
    /// Lower-case substrings that must all occur in a wgpu/NVML adapter name
    /// for the adapter to be this GPU.
    pub adapter_matches: &'static [&'static str],
    /// Lower-case substrings that must not occur in it.
    pub adapter_excludes: &'static [&'static str],
    /// Memory capacity in GB (10^9 bytes).
    pub memory_gb: f64,
    /// Peak memory bandwidth in TB/s.
    pub bandwidth_tb_s: f64,
    /// Dense BF16/FP16 tensor TFLOPS (half the vendor's "with sparsity" figure).
    pub fp16_tflops: f64,
    /// Dense FP8 tensor TFLOPS, `None` where the GPU has no FP8 (A100).
    pub fp8_tflops: Option<f64>,
    /// Maximum board power (TDP / TGP).
    pub board_watts: Watts,
    /// Wall power of a whole server divided by its GPUs (host CPUs, memory,
    /// NICs, switches and fans included), where a system figure is published.
    pub server_watts_per_gpu: Option<Cited>,
    /// Purchase price of a whole server divided by its GPUs, USD, where one is
    /// published.
    pub server_capex_usd_per_gpu: Option<Cited>,
    /// SHA-256d rate, where one is known.
    pub sha256d: Option<Sha256dRate>,
    /// Where the spec-sheet figures come from.
    pub source: &'static str,
}

/// GPU idle power as a share of board power, an **estimate**: spec sheets
/// give no idle figure. Basis: `nvidia-smi` readings of idle H200 boards
/// (700 W), 73.65 W average (conservemode.com RunPod case study) and 80.3 W
/// (api.serialalice.pt), i.e. 10.5–11.5 % (both secondary sources).
pub const GPU_IDLE_SHARE: f64 = 0.10;

/// Server wall power per GPU over board power when a GPU has no published
/// system figure: 1,275 W / 700 W from the DGX H100 (10.2 kW for 8 GPUs), an
/// **assumption** that other 8-GPU servers carry the same overhead.
pub const SERVER_OVERHEAD_RATIO: f64 = 10_200.0 / 8.0 / 700.0;

const DGX_H100_WATTS_PER_GPU: Cited = Cited {
    value: 10_200.0 / 8.0,
    source: "DGX H100/H200 maximum system input 10.2 kW for 8 GPUs (NVIDIA DGX user guide \
             figures as quoted by supercluster.blog and unanswered.io)",
};

const DGX_H100_CAPEX_PER_GPU: Cited = Cited {
    value: 270_000.0 / 8.0,
    source: "DGX H100 sale price about $270,000 for 8 GPUs (SemiAnalysis estimate cited by \
             Epoch AI's training-cost notebook; list price about $199,000), 2023",
};

/// The H100 SXM's SHA-256d rate: a **modeled estimate**, not a measurement.
/// 132 SMs × 64 INT32 lanes × about 1.98 GHz = 16.7 T integer ops/s, over
/// about 3,700 ops per midstate double hash, is about 4.5 GH/s; the project
/// uses 5 GH/s. `hashwatt bench` on the GPU replaces it with a measured rate.
pub const H100_SXM_SHA256D_ESTIMATE: Sha256dRate = Sha256dRate {
    rate: HashRate(5.0e9),
    measured: false,
    basis: "modeled estimate: 132 SMs x 64 INT32 lanes x ~1.98 GHz over ~3,700 integer ops \
            per midstate double hash; replace with a `hashwatt bench` report",
};

/// The GPUs. Spec figures: vendor datasheets as reproduced by the sources
/// named in each row (`docs/sources.md`, "GPU spec sheets").
pub const GPUS: &[GpuSpec] = &[
    GpuSpec {
        key: "h100-sxm",
        name: "NVIDIA H100 SXM",
        adapter_matches: &["h100"],
        adapter_excludes: &["pcie", "nvl"],
        memory_gb: 80.0,
        bandwidth_tb_s: 3.35,
        fp16_tflops: 989.0,
        fp8_tflops: Some(1979.0),
        board_watts: Watts(700.0),
        server_watts_per_gpu: Some(DGX_H100_WATTS_PER_GPU),
        server_capex_usd_per_gpu: Some(DGX_H100_CAPEX_PER_GPU),
        sha256d: Some(H100_SXM_SHA256D_ESTIMATE),
        source: "NVIDIA H100 datasheet as reproduced by hpctech.co.jp and glennklockwood.com",
    },
    GpuSpec {
        key: "h100-pcie",
        name: "NVIDIA H100 PCIe",
        adapter_matches: &["h100", "pcie"],
        adapter_excludes: &[],
        memory_gb: 80.0,
        bandwidth_tb_s: 2.0,
        fp16_tflops: 756.0,
        fp8_tflops: Some(1513.0),
        board_watts: Watts(350.0),
        server_watts_per_gpu: None,
        server_capex_usd_per_gpu: None,
        sha256d: None,
        source: "NVIDIA H100 PCIe product brief PB-11133-001_v02, Nov 2022",
    },
    GpuSpec {
        key: "h200",
        name: "NVIDIA H200 SXM",
        adapter_matches: &["h200"],
        adapter_excludes: &[],
        memory_gb: 141.0,
        bandwidth_tb_s: 4.8,
        fp16_tflops: 989.0,
        fp8_tflops: Some(1979.0),
        board_watts: Watts(700.0),
        server_watts_per_gpu: Some(DGX_H100_WATTS_PER_GPU),
        server_capex_usd_per_gpu: None,
        sha256d: None,
        source: "NVIDIA SC23 figures (13 Nov 2023) via lzwjava.github.io, geektopia.es",
    },
    GpuSpec {
        key: "a100-80gb",
        name: "NVIDIA A100 80GB SXM",
        adapter_matches: &["a100"],
        adapter_excludes: &["pcie"],
        memory_gb: 80.0,
        bandwidth_tb_s: 2.039,
        fp16_tflops: 312.0,
        fp8_tflops: None,
        board_watts: Watts(400.0),
        server_watts_per_gpu: None,
        server_capex_usd_per_gpu: None,
        sha256d: None,
        source: "NVIDIA A100 datasheet via glennklockwood.com, thundercompute.com",
    },
    GpuSpec {
        key: "l40s",
        name: "NVIDIA L40S",
        adapter_matches: &["l40s"],
        adapter_excludes: &[],
        memory_gb: 48.0,
        bandwidth_tb_s: 0.864,
        fp16_tflops: 362.0,
        fp8_tflops: Some(733.0),
        board_watts: Watts(350.0),
        server_watts_per_gpu: None,
        server_capex_usd_per_gpu: None,
        sha256d: None,
        source: "NVIDIA L40S datasheet table (mullet.se, omegaco.ae)",
    },
    GpuSpec {
        key: "rtx-4090",
        name: "NVIDIA GeForce RTX 4090",
        adapter_matches: &["4090"],
        adapter_excludes: &[],
        memory_gb: 24.0,
        bandwidth_tb_s: 1.008,
        // FP16 with FP32 accumulate; 330 with FP16 accumulate.
        fp16_tflops: 165.0,
        // waredb.com figure; 660 is also quoted (unconfirmed).
        fp8_tflops: Some(330.0),
        board_watts: Watts(450.0),
        server_watts_per_gpu: None,
        server_capex_usd_per_gpu: None,
        sha256d: None,
        source: "waredb.com, techgoing.com",
    },
    GpuSpec {
        key: "b200",
        name: "NVIDIA B200 (HGX, 1 kW)",
        adapter_matches: &["b200"],
        adapter_excludes: &[],
        memory_gb: 180.0,
        bandwidth_tb_s: 8.0,
        fp16_tflops: 2250.0,
        fp8_tflops: Some(4500.0),
        board_watts: Watts(1000.0),
        server_watts_per_gpu: None,
        server_capex_usd_per_gpu: None,
        sha256d: None,
        source: "glennklockwood.com/garden/processors/B200; docs.vultr.com",
    },
    GpuSpec {
        key: "mi300x",
        name: "AMD Instinct MI300X",
        adapter_matches: &["mi300x"],
        adapter_excludes: &[],
        memory_gb: 192.0,
        bandwidth_tb_s: 5.3,
        fp16_tflops: 1307.4,
        fp8_tflops: Some(2614.9),
        board_watts: Watts(750.0),
        server_watts_per_gpu: None,
        server_capex_usd_per_gpu: None,
        sha256d: None,
        source: "AMD Instinct MI300X data sheet figures (192 GB HBM3, 5.3 TB/s, ~1.3 PF FP16 and \
                 ~2.6 PF FP8 dense, 750 W OAM) as reproduced by jaredwatkins.com (MI300 series) \
                 and awesomeagents.ai",
    },
];

impl GpuSpec {
    /// Idle power: [`GPU_IDLE_SHARE`] of board power (an estimate).
    pub fn idle_watts(&self) -> Watts {
        Watts(self.board_watts.get() * GPU_IDLE_SHARE)
    }

    /// Server wall power per GPU and where it comes from: the published
    /// system figure, else board power × [`SERVER_OVERHEAD_RATIO`] (an
    /// assumption, flagged by `assumption: true`).
    pub fn server_watts(&self) -> (Watts, &'static str, bool) {
        match self.server_watts_per_gpu {
            Some(c) => (Watts(c.value), c.source, false),
            None => (
                Watts(self.board_watts.get() * SERVER_OVERHEAD_RATIO),
                "ASSUMPTION: board power x 1.82, the DGX H100's system-to-board ratio \
                 (10.2 kW / 8 GPUs / 700 W); no published system figure for this GPU",
                true,
            ),
        }
    }

    /// Whether a wgpu/NVML adapter name names this GPU.
    pub fn matches_adapter(&self, adapter: &str) -> bool {
        let name = adapter.to_lowercase();
        self.adapter_matches.iter().all(|s| name.contains(s))
            && !self.adapter_excludes.iter().any(|s| name.contains(s))
    }
}

/// A Bitcoin ASIC miner's figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AsicSpec {
    /// Key for `--asic` and `asic:<key>` option ids.
    pub key: &'static str,
    /// Display name.
    pub name: &'static str,
    /// Hash rate, TH/s.
    pub th_per_s: f64,
    /// Power at the wall.
    pub wall_watts: Watts,
    /// Efficiency at the wall, joules per terahash.
    pub j_per_th: f64,
    /// Source and date.
    pub source: &'static str,
}

/// Antminer S21 XP: 270 TH/s at 3,645 W, 13.5 J/TH (±5 %, at the wall,
/// 25 °C), 2024. The reference ASIC every bench result is compared with.
pub const S21_XP: AsicSpec = AsicSpec {
    key: "s21-xp",
    name: "Antminer S21 XP",
    th_per_s: 270.0,
    wall_watts: Watts(3645.0),
    j_per_th: 13.5,
    source: "btcminermarketplace.com spec list and public miner tables, 2024",
};

/// The ASICs (vendor pages not retrieved: every row rests on secondary
/// sources, see `docs/sources.md`, "ASIC efficiency").
pub const ASICS: &[AsicSpec] = &[
    S21_XP,
    AsicSpec {
        key: "s21",
        name: "Antminer S21",
        th_per_s: 200.0,
        wall_watts: Watts(3500.0),
        j_per_th: 17.5,
        source: "viabtc.com WDMS 2023 recap, Sep 2023",
    },
    AsicSpec {
        key: "s21-pro",
        name: "Antminer S21 Pro",
        th_per_s: 234.0,
        wall_watts: Watts(3510.0),
        j_per_th: 15.0,
        source: "reseller spec (Uminers), Jul 2024",
    },
    AsicSpec {
        key: "s21-xp-hyd",
        name: "Antminer S21 XP Hydro",
        th_per_s: 473.0,
        wall_watts: Watts(5676.0),
        j_per_th: 12.0,
        source: "public miner tables, 2024",
    },
    AsicSpec {
        key: "s23-hyd",
        name: "Antminer S23 Hydro",
        th_per_s: 580.0,
        wall_watts: Watts(5510.0),
        j_per_th: 9.5,
        source: "salmoncrypto.com (bitcoin.com), ships early 2026",
    },
    AsicSpec {
        key: "m60s",
        name: "Whatsminer M60S",
        th_per_s: 182.0,
        wall_watts: Watts(3185.0),
        j_per_th: 17.5,
        source: "CoinDesk reprint (tech4u.app), Oct 2023; watts derived from 182 TH/s x 17.5 J/TH",
    },
];

/// ASIC purchase price per TH/s, USD: the most efficient tier (< 25 J/TH) of
/// Luxor's ASIC Price Index, about $20/TH in July 2023 (down from $60/TH in
/// July 2022). An old figure: override it with `--asic-capex-usd-per-th`.
pub const ASIC_USD_PER_TH: Cited = Cited {
    value: 20.0,
    source: "Luxor Hashrate Index ASIC Price Index, < 25 J/TH tier, via CoinDesk, 26 Jul 2023",
};

fn normalize(name: &str) -> String {
    name.trim().to_ascii_lowercase().replace(['_', ' '], "-")
}

/// The GPU with this key (case-insensitive; `_` and spaces read as `-`).
pub fn gpu(key: &str) -> Option<&'static GpuSpec> {
    let k = normalize(key);
    GPUS.iter().find(|g| g.key == k)
}

/// The GPU a wgpu/NVML adapter name names, if the table has it.
pub fn gpu_for_adapter(adapter: &str) -> Option<&'static GpuSpec> {
    GPUS.iter().find(|g| g.matches_adapter(adapter))
}

/// The ASIC with this key (case-insensitive; `_` and spaces read as `-`).
pub fn asic(key: &str) -> Option<&'static AsicSpec> {
    let k = normalize(key);
    ASICS.iter().find(|a| a.key == k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asic_watts_over_rate_is_the_stated_efficiency() {
        for a in ASICS {
            let j = a.wall_watts.get() / a.th_per_s;
            assert!((j / a.j_per_th - 1.0).abs() < 0.03, "{}: {j}", a.name);
        }
        assert_eq!(asic("S21 XP"), Some(&S21_XP));
        assert!(asic("s99").is_none());
    }

    #[test]
    fn keys_are_unique_and_normalized() {
        for (i, g) in GPUS.iter().enumerate() {
            assert_eq!(normalize(g.key), g.key);
            assert!(GPUS[..i].iter().all(|o| o.key != g.key), "{}", g.key);
            assert_eq!(gpu(&g.key.to_uppercase()), Some(g));
        }
        for (i, a) in ASICS.iter().enumerate() {
            assert!(ASICS[..i].iter().all(|o| o.key != a.key), "{}", a.key);
        }
    }

    #[test]
    fn adapter_names_find_their_gpu() {
        let cases = [
            ("NVIDIA H100 80GB HBM3", "h100-sxm"),
            ("NVIDIA H100 PCIe", "h100-pcie"),
            ("NVIDIA H200", "h200"),
            ("NVIDIA A100-SXM4-80GB", "a100-80gb"),
            ("NVIDIA L40S", "l40s"),
            ("NVIDIA GeForce RTX 4090", "rtx-4090"),
            ("NVIDIA B200", "b200"),
            ("AMD Instinct MI300X", "mi300x"),
        ];
        for (adapter, key) in cases {
            assert_eq!(
                gpu_for_adapter(adapter).map(|g| g.key),
                Some(key),
                "{adapter}"
            );
        }
        assert!(gpu_for_adapter("llvmpipe (LLVM 20.1.2, 256 bits)").is_none());
        assert!(gpu_for_adapter("NVIDIA A100-PCIE-40GB").is_none());
        assert!(gpu_for_adapter("NVIDIA H100 NVL").is_none());
    }

    #[test]
    fn server_power_is_cited_or_flagged() {
        let h100 = gpu("h100-sxm").unwrap();
        assert_eq!(h100.server_watts().0, Watts(1275.0));
        assert!(!h100.server_watts().2);
        // 1 MW at PUE 1.1 holds about 713 H100s in DGX systems (issue 12).
        assert_eq!((1e6 / 1.1 / h100.server_watts().0.get()).floor(), 713.0);
        let l40s = gpu("l40s").unwrap();
        let (w, why, assumption) = l40s.server_watts();
        assert!(assumption && why.starts_with("ASSUMPTION"));
        assert!((w.get() - 350.0 * 1275.0 / 700.0).abs() < 1e-9);
        assert_eq!(h100.idle_watts(), Watts(70.0));
    }
}
