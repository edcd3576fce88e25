//! Platform facts that need no GPU: the CPU's model name and the SIMD/SHA
//! features this process can use. A leaf: engines, meters and reports read it
//! without loading any graphics driver.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// CPU features this process can use, detected at run time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct CpuFeatures {
    /// x86 AVX2.
    pub avx2: bool,
    /// x86 AVX-512 Foundation + VL.
    pub avx512: bool,
    /// x86 SHA extensions (SHA-NI).
    pub sha_ni: bool,
    /// AArch64 Advanced SIMD.
    pub neon: bool,
    /// AArch64 SHA-256 instructions (ARMv8 crypto extension).
    pub arm_sha2: bool,
}

impl CpuFeatures {
    /// The features of the running CPU, detected once per process.
    pub fn get() -> Self {
        static FEATURES: OnceLock<CpuFeatures> = OnceLock::new();
        *FEATURES.get_or_init(CpuFeatures::detect)
    }

    /// Detects the features of the running CPU.
    pub fn detect() -> Self {
        #[allow(unused_mut)]
        let mut f = CpuFeatures::default();
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        {
            f.avx2 = std::is_x86_feature_detected!("avx2");
            f.avx512 = std::is_x86_feature_detected!("avx512f")
                && std::is_x86_feature_detected!("avx512vl");
            f.sha_ni = std::is_x86_feature_detected!("sha")
                && std::is_x86_feature_detected!("sse4.1")
                && std::is_x86_feature_detected!("ssse3");
        }
        #[cfg(target_arch = "aarch64")]
        {
            f.neon = std::arch::is_aarch64_feature_detected!("neon");
            f.arm_sha2 = std::arch::is_aarch64_feature_detected!("sha2");
        }
        f
    }

    /// Names of the features found, for display.
    pub fn names(&self) -> Vec<&'static str> {
        [
            (self.avx512, "avx512"),
            (self.avx2, "avx2"),
            (self.sha_ni, "sha-ni"),
            (self.neon, "neon"),
            (self.arm_sha2, "arm-sha2"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect()
    }
}

/// The CPU's model name (`/proc/cpuinfo` on Linux), or the architecture name
/// where it cannot be read. Read once per process.
pub fn cpu_model() -> String {
    static MODEL: OnceLock<String> = OnceLock::new();
    MODEL
        .get_or_init(|| read_cpu_model().unwrap_or_else(|| std::env::consts::ARCH.to_string()))
        .clone()
}

/// Logical CPUs this process may use (1 when unknown).
pub fn logical_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The CPU model from `/proc/cpuinfo` (Linux), if readable.
fn read_cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .or_else(|| l.strip_prefix("Model"))
        })
        .and_then(|rest| rest.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
}

/// One GPU adapter as `hashwatt devices` and bench reports show it (plain
/// data: the `gpu` module fills it from wgpu).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GpuAdapterInfo {
    /// Position in the enumeration (what `--adapter INDEX` takes).
    pub index: usize,
    /// Adapter name, e.g. `NVIDIA H100 80GB HBM3` or `llvmpipe (LLVM 15.0.6, 256 bits)`.
    pub name: String,
    /// Graphics API: `vulkan`, `metal`, `dx12` or `gl`.
    pub backend: String,
    /// `DiscreteGpu`, `IntegratedGpu`, `VirtualGpu`, `Cpu` or `Other`.
    pub device_type: String,
    /// Driver name.
    pub driver: String,
    /// Driver version and details.
    pub driver_info: String,
    /// PCI vendor id (0x10de NVIDIA, 0x1002 AMD, 0x8086 Intel, 0x10005 Mesa).
    pub vendor: u32,
    /// Whether this is a software rasteriser (lavapipe, llvmpipe, WARP,
    /// SwiftShader): slower than hashwatt's CPU backends, so `auto` skips it.
    pub software: bool,
}
