//! Backend names (`--backend`) and opening the engine behind each.
//!
//! Names are a stable contract: `auto`, `cpu` (the best CPU kernel), each CPU
//! kernel by name (`scalar`, ...), and `gpu`.
//!
//! `auto` takes the best hardware GPU adapter when there is one and otherwise
//! the best CPU kernel, saying why in [`Opened::note`]; it never picks a
//! software adapter (lavapipe, llvmpipe), which is slower than the CPU kernels.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

#[cfg(feature = "gpu")]
use crate::gpu::{GpuEngine, GpuError, GpuOptions, adapter};
use crate::search::{CpuEngine, Engine, EngineKind, SearchError};
use crate::sha256::{CpuFeatures, CpuKernel, CpuKernelKind};

/// Errors from choosing or opening a backend.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackendError {
    /// A name that is not a backend.
    #[error("unknown backend {name:?} (expected one of: {expected})")]
    Unknown {
        /// What was given.
        name: String,
        /// The names accepted.
        expected: String,
    },
    /// A CPU kernel this CPU cannot run.
    #[error(
        "backend {name:?} needs CPU features this machine lacks: it needs {needs}, found: {found}"
    )]
    Unsupported {
        /// The backend.
        name: String,
        /// The features it needs.
        needs: String,
        /// The features the CPU has.
        found: String,
    },
    /// The engine could not start.
    #[error(transparent)]
    Search(#[from] SearchError),
    /// The GPU backend could not start.
    #[cfg(feature = "gpu")]
    #[error("backend gpu: {0}")]
    Gpu(GpuError),
    /// The GPU backend was asked for in a build without the `gpu` feature.
    #[error("backend gpu: this hashwatt was built without the gpu feature")]
    GpuNotBuilt,
}

// Not `#[from]`: that would also make the GPU error the `source`, and `{:#}`
// would print its message twice.
#[cfg(feature = "gpu")]
impl From<GpuError> for BackendError {
    fn from(e: GpuError) -> Self {
        BackendError::Gpu(e)
    }
}

/// What `--backend` asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BackendChoice {
    /// The fastest backend available.
    Auto,
    /// The fastest CPU kernel.
    Cpu,
    /// One CPU kernel (checked against the CPU when opened).
    Kernel(CpuKernelKind),
    /// The GPU compute-shader engine.
    Gpu,
}

impl BackendChoice {
    /// Every accepted name, for help and error texts.
    pub fn names() -> Vec<&'static str> {
        let mut names = vec!["auto", "cpu"];
        names.extend(CpuKernelKind::ALL.iter().map(|k| k.name()));
        names.push("gpu");
        names
    }
}

impl FromStr for BackendChoice {
    type Err = BackendError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(BackendChoice::Auto),
            "cpu" => Ok(BackendChoice::Cpu),
            "gpu" => Ok(BackendChoice::Gpu),
            _ => s
                .parse::<CpuKernelKind>()
                .map(BackendChoice::Kernel)
                .map_err(|_| BackendError::Unknown {
                    // Cut a huge value: the message names it, not echoes it.
                    name: if s.chars().count() > 40 {
                        format!("{}…", s.chars().take(40).collect::<String>())
                    } else {
                        s.to_string()
                    },
                    expected: BackendChoice::names().join(", "),
                }),
        }
    }
}

impl fmt::Display for BackendChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BackendChoice::Auto => f.write_str("auto"),
            BackendChoice::Cpu => f.write_str("cpu"),
            BackendChoice::Kernel(k) => f.write_str(k.name()),
            BackendChoice::Gpu => f.write_str("gpu"),
        }
    }
}

/// Options for opening an engine.
#[derive(Clone, Debug, Default)]
pub struct EngineOptions {
    /// CPU worker threads (`None`: one per core).
    pub threads: Option<usize>,
    /// GPU adapter, `--adapter NAME|INDEX` (`None`: the best one).
    pub adapter: Option<String>,
    /// GPU batch time (`None`: the adapter's default, [`crate::gpu::GpuOptions::batch_time`]).
    pub batch_time: Option<Duration>,
    /// GPU workgroup size (`None`: per adapter, [`crate::gpu::Tuning::for_adapter`]).
    pub workgroup_size: Option<u32>,
    /// GPU nonces per invocation (`None`: per adapter).
    pub nonces_per_invocation: Option<u32>,
    /// Build the GPU shader without wgpu's runtime checks
    /// ([`GpuOptions::trusted_shader`]).
    pub trusted_shader: bool,
}

#[cfg(feature = "gpu")]
impl EngineOptions {
    /// The GPU engine options these stand for.
    pub fn gpu_options(&self) -> GpuOptions {
        let defaults = GpuOptions::default();
        GpuOptions {
            adapter: self.adapter.clone(),
            batch_time: self.batch_time,
            workgroup_size: self.workgroup_size,
            nonces_per_invocation: self.nonces_per_invocation,
            trusted_shader: self.trusted_shader,
            ..defaults
        }
    }
}

/// An opened engine and, when the choice was not taken literally, why.
pub struct Opened {
    /// The engine.
    pub engine: Box<dyn Engine>,
    /// A note for the user, e.g. that `auto` fell back to the CPU.
    pub note: Option<String>,
}

/// The note for CPU threads asked of `auto` when `auto` picked the GPU, which
/// sizes its batches by time and so does not use them.
pub fn unused_threads_note(options: &EngineOptions, engine: &dyn Engine) -> Option<String> {
    let t = options.threads?;
    (engine.kind() == EngineKind::Gpu).then(|| {
        format!("--threads {t} not used: auto picked the GPU, which sizes its batches by time")
    })
}

/// The device `engine` runs on, for its power meter: a GPU engine on the GPU
/// named by [`Engine::device`] (with its PCI bus id), every other on the CPU.
pub fn energy_device(engine: &dyn Engine, logical_cpus: usize) -> crate::energy::Device {
    if engine.kind() == EngineKind::Gpu {
        crate::energy::Device::Gpu {
            adapter: engine.device(),
            pci_bus_id: engine.pci_bus_id(),
        }
    } else {
        crate::energy::Device::Cpu {
            model: engine.device(),
            logical_cpus,
        }
    }
}

/// Checks the GPU backend's environment (`WGPU_BACKEND`, see
/// `gpu::adapter::check_env`); nothing to check in a build without it.
///
/// # Errors
/// [`BackendError::Gpu`] for an unknown `WGPU_BACKEND` entry.
pub fn check_gpu_env() -> Result<(), BackendError> {
    #[cfg(feature = "gpu")]
    crate::gpu::adapter::check_env()?;
    Ok(())
}

/// The note for GPU tuning asked of `auto` when `auto` picked a CPU kernel,
/// which does not use it.
pub fn unused_gpu_options_note(options: &EngineOptions, engine: &dyn Engine) -> Option<String> {
    let given: Vec<&str> = [
        ("--gpu-batch-ms", options.batch_time.is_some()),
        ("--workgroup-size", options.workgroup_size.is_some()),
        (
            "--nonces-per-invocation",
            options.nonces_per_invocation.is_some(),
        ),
        ("--trusted-shader", options.trusted_shader),
    ]
    .into_iter()
    .filter_map(|(flag, set)| set.then_some(flag))
    .collect();
    (!given.is_empty() && engine.kind() != EngineKind::Gpu).then(|| {
        format!(
            "{} not used: auto picked CPU backend {}",
            given.join(", "),
            engine.name()
        )
    })
}

/// Opens the engine for `choice`.
///
/// # Errors
/// [`BackendError::Unsupported`] for a CPU kernel this CPU lacks,
/// [`BackendError::Gpu`] for `gpu` without a usable adapter (or an `--adapter`
/// that matches none), or an engine start failure.
pub fn open(choice: BackendChoice, options: &EngineOptions) -> Result<Opened, BackendError> {
    let kernel = match choice {
        #[cfg(feature = "gpu")]
        BackendChoice::Gpu => {
            let engine = GpuEngine::open(&options.gpu_options())?;
            return Ok(Opened {
                engine: Box::new(engine),
                note: None,
            });
        }
        #[cfg(not(feature = "gpu"))]
        BackendChoice::Gpu => return Err(BackendError::GpuNotBuilt),
        BackendChoice::Auto => return open_auto(options),
        BackendChoice::Cpu => CpuKernel::best(),
        BackendChoice::Kernel(kind) => CpuKernel::new(kind).ok_or_else(|| {
            let found = CpuFeatures::get().names();
            BackendError::Unsupported {
                name: kind.name().to_string(),
                needs: kind.required_features().to_string(),
                found: if found.is_empty() {
                    "none".to_string()
                } else {
                    found.join(", ")
                },
            }
        })?,
    };
    let engine = CpuEngine::new(kernel, options.threads)?;
    Ok(Opened {
        engine: Box::new(engine),
        note: None,
    })
}

/// `auto` in a build without the GPU backend: the best CPU kernel (an
/// `--adapter` asks for the GPU, which this build lacks).
#[cfg(not(feature = "gpu"))]
fn open_auto(options: &EngineOptions) -> Result<Opened, BackendError> {
    if options.adapter.is_some() {
        return Err(BackendError::GpuNotBuilt);
    }
    let cpu = CpuKernel::best();
    cpu_with_note(
        cpu,
        options,
        format!("built without the gpu feature: using CPU backend {cpu}"),
    )
}

/// `auto`: the named or best hardware GPU adapter, else the best CPU kernel.
#[cfg(feature = "gpu")]
fn open_auto(options: &EngineOptions) -> Result<Opened, BackendError> {
    let gpu_options = options.gpu_options();
    if options.adapter.is_some() {
        // An explicit adapter is taken as asked, software or not.
        let engine = GpuEngine::open(&gpu_options)?;
        return Ok(Opened {
            engine: Box::new(engine),
            note: None,
        });
    }
    check_gpu_env()?;
    let cpu = CpuKernel::best();
    let instance = adapter::instance();
    let adapters = adapter::enumerate(&instance);
    let reason = if let Some(hw) = adapter::best_hardware(&adapters) {
        let name = hw.get_info().name;
        match GpuEngine::with_adapter(&hw, &gpu_options) {
            Ok(engine) => {
                return Ok(Opened {
                    engine: Box::new(engine),
                    note: None,
                });
            }
            Err(e) => format!("GPU adapter {name:?} could not be used ({e})"),
        }
    } else if adapters.is_empty() {
        format!("no GPU adapter found ({})", adapter::no_adapter_reason())
    } else {
        let names: Vec<String> = adapters
            .iter()
            .map(|a| {
                let info = a.get_info();
                format!("{}, device type {:?}", info.name, info.device_type)
            })
            .collect();
        return cpu_with_note(
            cpu,
            options,
            format!(
                "only a software adapter ({}) found: using CPU backend {cpu}, which is faster",
                names.join("; ")
            ),
        );
    };
    cpu_with_note(cpu, options, format!("{reason}: using CPU backend {cpu}"))
}

fn cpu_with_note(
    kernel: CpuKernel,
    options: &EngineOptions,
    note: String,
) -> Result<Opened, BackendError> {
    let engine = CpuEngine::new(kernel, options.threads)?;
    Ok(Opened {
        engine: Box::new(engine),
        note: Some(note),
    })
}
