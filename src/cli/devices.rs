//! `hashwatt devices`: what this machine can run.

use std::io::Write;

use hashwatt::report::machine::Machine;
use hashwatt::sha256::{CpuKernel, CpuKernelKind};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    hashwatt::backend::check_gpu_env()?;
    let machine = Machine::detect();
    let kernels: Vec<&str> = CpuKernel::available()
        .into_iter()
        .map(CpuKernel::name)
        .collect();
    let calibration = CpuKernel::calibration();
    let best = calibration.best.name();
    let engine_memory: Vec<Result<EngineProbe, String>> = machine
        .gpu_adapters
        .iter()
        .map(|a| engine_probe(a.index))
        .collect();
    let mut out = std::io::stdout().lock();
    if args.json {
        let value = serde_json::json!({
            "machine": machine,
            "cpu_backends": kernels,
            "cpu_best": best,
            "cpu_calibration": calibration.speeds,
            "gpu_engine_memory": machine.gpu_adapters.iter().zip(&engine_memory).map(|(a, m)| {
                match m {
                    Ok(probe) => serde_json::json!({
                        "adapter": a.index,
                        "device_memory_bytes": probe.memory,
                        "probe_nonces": PROBE_NONCES,
                        "stops_mid_batch": probe.stops_mid_batch,
                        "batch_ms": probe.batch_ms,
                    }),
                    Err(e) => serde_json::json!({ "adapter": a.index, "error": e }),
                }
            }).collect::<Vec<_>>(),
        });
        writeln!(out, "{value}")?;
    } else {
        writeln!(
            out,
            "CPU: {} ({} logical CPUs)",
            machine.cpu, machine.logical_cpus
        )?;
        writeln!(
            out,
            "  features: {}",
            if machine.cpu_features.is_empty() {
                "none".into()
            } else {
                machine.cpu_features.join(" ")
            }
        )?;
        writeln!(out, "  backends: {} (cpu = {best})", kernels.join(", "))?;
        writeln!(out, "  calibration (1 thread, a few ms each, best of 5):")?;
        for s in &calibration.speeds {
            let mark = if s.kernel == calibration.best {
                "  <- cpu"
            } else {
                ""
            };
            writeln!(
                out,
                "    {:<9} {:>8.2} MH/s{mark}",
                s.kernel.name(),
                s.hashrate / 1e6
            )?;
        }
        for &kind in CpuKernelKind::ALL {
            if CpuKernel::new(kind).is_none() {
                writeln!(
                    out,
                    "    {:<9} unavailable (needs {})",
                    kind.name(),
                    kind.required_features()
                )?;
            }
        }
        if machine.gpu_adapters.is_empty() {
            writeln!(out, "GPU adapters: none ({})", no_adapter_reason())?;
        } else {
            writeln!(out, "GPU adapters (backend gpu, --adapter NAME|INDEX):")?;
            for (a, memory) in machine.gpu_adapters.iter().zip(&engine_memory) {
                writeln!(
                    out,
                    "  {}: {} [{}, {}{}] driver: {} {}",
                    a.index,
                    a.name,
                    a.backend,
                    a.device_type,
                    if a.software { ", software" } else { "" },
                    a.driver,
                    a.driver_info
                )?;
                match memory {
                    Ok(probe) => {
                        match probe.memory {
                            Some(bytes) => writeln!(
                                out,
                                "     engine device memory: {} reserved (measured after a {PROBE_NONCES}-nonce search)",
                                mib(bytes)
                            )?,
                            None => writeln!(
                                out,
                                "     engine device memory: not reported by this wgpu backend"
                            )?,
                        }
                        writeln!(
                            out,
                            "     engine batches: {} ms; a cancel {}",
                            hashwatt::units::figure(Some(probe.batch_ms), 3),
                            if probe.stops_mid_batch {
                                "stops the batches in flight (stop flag)"
                            } else {
                                "waits for the batches in flight"
                            }
                        )?;
                    }
                    Err(e) => writeln!(out, "     engine: could not run: {e}")?,
                }
            }
        }
    }
    Ok(())
}

/// Nonces in the probe search before the engine's memory is read.
#[cfg(feature = "gpu")]
const PROBE_NONCES: u64 = hashwatt::gpu::engine::FOOTPRINT_PROBE_NONCES;
#[cfg(not(feature = "gpu"))]
const PROBE_NONCES: u64 = 0;

/// What the GPU engine on one adapter reports of itself.
struct EngineProbe {
    /// Device memory reserved, measured as `hashwatt bench` does (after a
    /// search); `None` where the wgpu backend does not report it.
    memory: Option<u64>,
    /// Whether a cancel stops the batches in flight.
    stops_mid_batch: bool,
    /// The default batch time on this adapter, in milliseconds.
    batch_ms: f64,
}

/// Opens the GPU engine on adapter `index` and probes it; an error says why
/// it could not run.
#[cfg(feature = "gpu")]
fn engine_probe(index: usize) -> Result<EngineProbe, String> {
    let options = hashwatt::gpu::GpuOptions {
        adapter: Some(index.to_string()),
        ..Default::default()
    };
    let engine = hashwatt::gpu::GpuEngine::open(&options).map_err(|e| e.to_string())?;
    Ok(EngineProbe {
        memory: engine.measured_device_memory().map_err(|e| e.to_string())?,
        stops_mid_batch: engine.stops_mid_batch(),
        batch_ms: engine.batch_time().as_secs_f64() * 1e3,
    })
}

#[cfg(not(feature = "gpu"))]
fn engine_probe(_index: usize) -> Result<EngineProbe, String> {
    Err(no_adapter_reason())
}

/// `bytes` in MiB, as BENCHMARKS.md gives device memory.
fn mib(bytes: u64) -> String {
    format!("{:.2} MiB", bytes as f64 / f64::from(1u32 << 20))
}

/// Why no adapter was found.
fn no_adapter_reason() -> String {
    #[cfg(feature = "gpu")]
    return hashwatt::gpu::adapter::no_adapter_reason();
    #[cfg(not(feature = "gpu"))]
    "this hashwatt was built without the gpu feature".to_string()
}
