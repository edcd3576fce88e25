//! GPU adapters: listing them, choosing one, and tuning the kernel for it.
//!
//! The wgpu instance honours the usual environment variables (`WGPU_BACKEND`,
//! e.g. `vulkan`), so `hashwatt devices` and the engine see the same list in
//! the same order; `--adapter 1` means the row `1` of `hashwatt devices`.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::GpuError;

pub use crate::platform::GpuAdapterInfo;

impl GpuAdapterInfo {
    /// Describes `info` found at `index`.
    pub fn new(index: usize, info: &wgpu::AdapterInfo) -> Self {
        GpuAdapterInfo {
            index,
            name: info.name.clone(),
            backend: info.backend.to_str().to_string(),
            device_type: format!("{:?}", info.device_type),
            driver: info.driver.clone(),
            driver_info: info.driver_info.clone(),
            vendor: info.vendor,
            software: is_software(info),
        }
    }
}

/// Whether an adapter is a CPU (software) implementation.
pub fn is_software(info: &wgpu::AdapterInfo) -> bool {
    let name = info.name.to_ascii_lowercase();
    info.device_type == wgpu::DeviceType::Cpu
        || [
            "llvmpipe",
            "lavapipe",
            "softpipe",
            "swiftshader",
            "microsoft basic render",
        ]
        .iter()
        .any(|s| name.contains(s))
}

/// Preference order: discrete, integrated, virtual, other, software; then
/// Vulkan, Metal, DX12, GL. Lower is better.
fn rank(info: &wgpu::AdapterInfo) -> (u8, u8) {
    let device = match info.device_type {
        _ if is_software(info) => 4,
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        _ => 3,
    };
    let backend = match info.backend {
        wgpu::Backend::Vulkan => 0,
        wgpu::Backend::Metal => 1,
        wgpu::Backend::Dx12 => 2,
        _ => 3,
    };
    (device, backend)
}

/// The backends wgpu is asked for: `WGPU_BACKEND` if set, else all.
pub fn backends() -> wgpu::Backends {
    wgpu::Backends::from_env().unwrap_or(wgpu::Backends::all())
}

/// Checks `WGPU_BACKEND`: wgpu drops names it does not know (leaving no
/// backend at all for a typo), so hashwatt refuses them instead.
///
/// # Errors
/// [`GpuError::BackendEnv`] naming the unknown entry.
pub fn check_env() -> Result<(), GpuError> {
    let Some(value) = std::env::var_os("WGPU_BACKEND") else {
        return Ok(());
    };
    let value = value.to_string_lossy().into_owned();
    const KNOWN: &[&str] = &[
        "vulkan", "vk", "dx12", "d3d12", "metal", "mtl", "opengl", "gles", "gl",
    ];
    let unknown = value
        .split(',')
        .map(|b| b.trim().to_lowercase())
        .find(|b| !KNOWN.contains(&b.as_str()));
    match unknown {
        Some(name) => Err(GpuError::BackendEnv {
            value: value.chars().take(80).collect(),
            unknown: name.chars().take(40).collect(),
        }),
        None => Ok(()),
    }
}

/// A wgpu instance configured from the environment.
pub fn instance() -> wgpu::Instance {
    let desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
    wgpu::Instance::new(desc)
}

/// Every adapter wgpu finds, in enumeration order.
pub fn enumerate(instance: &wgpu::Instance) -> Vec<wgpu::Adapter> {
    pollster::block_on(instance.enumerate_adapters(backends()))
}

/// Descriptions of every adapter, enumerated once per process and cached
/// (enumeration starts every graphics driver, which takes a moment).
pub fn adapters() -> &'static [GpuAdapterInfo] {
    static ADAPTERS: OnceLock<Vec<GpuAdapterInfo>> = OnceLock::new();
    ADAPTERS.get_or_init(|| {
        enumerate(&instance())
            .iter()
            .enumerate()
            .map(|(i, a)| GpuAdapterInfo::new(i, &a.get_info()))
            .collect()
    })
}

/// Why no adapter was found, for messages.
pub fn no_adapter_reason() -> String {
    let backends = backends();
    let names: Vec<&str> = [
        (wgpu::Backends::VULKAN, "vulkan"),
        (wgpu::Backends::METAL, "metal"),
        (wgpu::Backends::DX12, "dx12"),
        (wgpu::Backends::GL, "gl"),
    ]
    .into_iter()
    .filter_map(|(b, n)| backends.contains(b).then_some(n))
    .collect();
    let hint = if std::env::var_os("WGPU_BACKEND").is_some() {
        " (limited by WGPU_BACKEND)"
    } else {
        ""
    };
    format!(
        "wgpu enumerated no adapter for backends {}{hint}",
        names.join(", ")
    )
}

/// Picks an adapter from `adapters` (in enumeration order).
///
/// `spec`: `None` for the best (discrete before integrated before software,
/// Vulkan first); all digits for an index; otherwise a case-insensitive part of
/// the name, the best-ranked match winning (the same device may be listed under
/// Vulkan and GL).
///
/// # Errors
/// [`GpuError::NoAdapter`] for an empty list, [`GpuError::AdapterNotFound`]
/// when `spec` matches nothing.
pub fn select(adapters: &[wgpu::Adapter], spec: Option<&str>) -> Result<wgpu::Adapter, GpuError> {
    if adapters.is_empty() {
        return Err(GpuError::NoAdapter {
            reason: no_adapter_reason(),
        });
    }
    let infos: Vec<wgpu::AdapterInfo> = adapters.iter().map(|a| a.get_info()).collect();
    let best_of =
        |indices: &mut dyn Iterator<Item = usize>| indices.min_by_key(|&i| (rank(&infos[i]), i));
    let chosen = match spec.map(str::trim) {
        None | Some("") => best_of(&mut (0..adapters.len())),
        Some(s) if s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse::<usize>().ok().filter(|&i| i < adapters.len())
        }
        Some(s) => {
            let needle = s.to_ascii_lowercase();
            best_of(
                &mut (0..adapters.len())
                    .filter(|&i| infos[i].name.to_ascii_lowercase().contains(&needle)),
            )
        }
    };
    chosen
        .map(|i| adapters[i].clone())
        .ok_or_else(|| GpuError::AdapterNotFound {
            spec: spec.unwrap_or_default().to_string(),
            available: infos
                .iter()
                .enumerate()
                .map(|(i, a)| format!("{i}: {} ({})", a.name, a.backend.to_str()))
                .collect::<Vec<_>>()
                .join("; "),
        })
}

/// The best hardware (non-software) adapter, if any.
pub fn best_hardware(adapters: &[wgpu::Adapter]) -> Option<wgpu::Adapter> {
    adapters
        .iter()
        .enumerate()
        .filter(|(_, a)| !is_software(&a.get_info()))
        .min_by_key(|(i, a)| (rank(&a.get_info()), *i))
        .map(|(_, a)| a.clone())
}

/// The kernel's `override` constants for one adapter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tuning {
    /// Invocations per workgroup (`WORKGROUP_SIZE`).
    pub workgroup_size: u32,
    /// Nonces each invocation hashes (`NONCES_PER_INVOCATION`).
    pub nonces_per_invocation: u32,
    /// Whether each workgroup claims its nonces as one chunk
    /// (`CLAIM_BY_WORKGROUP`: one atomic per workgroup, for GPUs) rather than
    /// each invocation claiming its own (software adapters, where the
    /// workgroup barrier costs more than the atomics).
    pub claim_by_workgroup: bool,
}

impl Tuning {
    /// Defaults for an adapter, clamped to the device's limits.
    ///
    /// Hardware GPUs: 256 invocations (8 warps of 32, 4 wavefronts of 64) and
    /// 4 nonces each. The kernel is pure 32-bit integer work with no shared
    /// memory, so a workgroup only needs enough warps to hide ALU latency; this
    /// is a reasoned starting point, not yet measured on a data-centre GPU
    /// (`benches/gpu.rs` compares the alternatives).
    /// Software adapters (lavapipe runs each workgroup as SIMD loops on one CPU
    /// thread, so per-workgroup overhead matters): 256 invocations, 16 nonces,
    /// the fastest of the `benches/gpu.rs` variants on lavapipe here.
    /// Claims: per workgroup on GPUs, per invocation on software adapters
    /// (see [`Tuning::claim_by_workgroup`]; BENCHMARKS.md, "In-dispatch stop").
    pub fn for_adapter(info: &wgpu::AdapterInfo, limits: &wgpu::Limits) -> Tuning {
        let software = is_software(info);
        Tuning {
            workgroup_size: 256,
            nonces_per_invocation: if software { 16 } else { 4 },
            claim_by_workgroup: !software,
        }
        .clamped(limits)
    }

    /// Keeps the workgroup within the device's limits.
    pub fn clamped(self, limits: &wgpu::Limits) -> Tuning {
        let max = limits
            .max_compute_workgroup_size_x
            .min(limits.max_compute_invocations_per_workgroup)
            .max(1);
        Tuning {
            workgroup_size: self.workgroup_size.clamp(1, max),
            nonces_per_invocation: self.nonces_per_invocation.max(1),
            ..self
        }
    }

    /// Nonces one workgroup covers.
    pub fn nonces_per_workgroup(&self) -> u64 {
        u64::from(self.workgroup_size) * u64::from(self.nonces_per_invocation)
    }

    /// Nonces one claim of the kernel's chunk counter covers: a workgroup's
    /// or an invocation's.
    pub fn nonces_per_claim(&self) -> u64 {
        if self.claim_by_workgroup {
            self.nonces_per_workgroup()
        } else {
            u64::from(self.nonces_per_invocation)
        }
    }
}
