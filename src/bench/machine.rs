//! A description of the machine a bench report was measured on: the CPU
//! (from [`crate::platform`]) and the GPU adapters wgpu finds.

use serde::{Deserialize, Serialize};

use crate::platform::{self, CpuFeatures, GpuAdapterInfo};

/// The machine a report comes from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    /// CPU model name.
    pub cpu: String,
    /// SIMD and SHA features hashwatt can use.
    pub cpu_features: Vec<String>,
    /// Logical CPUs.
    pub logical_cpus: usize,
    /// Operating system and architecture.
    pub os: String,
    /// hashwatt version.
    pub hashwatt_version: String,
    /// Git commit hashwatt was built from (`git rev-parse --short HEAD` at
    /// build time, or `HASHWATT_GIT_COMMIT`; "unknown" outside a checkout).
    #[serde(default)]
    pub git_commit: String,
    /// GPU adapters wgpu found (software ones included, marked as such).
    #[serde(default)]
    pub gpu_adapters: Vec<GpuAdapterInfo>,
}

impl Machine {
    /// Describes the running machine.
    pub fn detect() -> Self {
        Machine {
            cpu: platform::cpu_model(),
            cpu_features: CpuFeatures::detect()
                .names()
                .into_iter()
                .map(String::from)
                .collect(),
            logical_cpus: platform::logical_cpus(),
            os: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
            hashwatt_version: env!("CARGO_PKG_VERSION").to_string(),
            git_commit: GIT_COMMIT.to_string(),
            gpu_adapters: gpu_adapters(),
        }
    }
}

/// The commit this build comes from, embedded by `build.rs`.
pub const GIT_COMMIT: &str = env!("HASHWATT_GIT_COMMIT");

/// The adapters wgpu finds (none in a build without the `gpu` feature).
fn gpu_adapters() -> Vec<GpuAdapterInfo> {
    #[cfg(feature = "gpu")]
    return crate::gpu::adapter::adapters().to_vec();
    #[cfg(not(feature = "gpu"))]
    Vec::new()
}
