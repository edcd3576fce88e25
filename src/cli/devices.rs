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
    let mut out = std::io::stdout().lock();
    if args.json {
        let value = serde_json::json!({
            "machine": machine,
            "cpu_backends": kernels,
            "cpu_best": best,
            "cpu_calibration": calibration.speeds,
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
            for a in &machine.gpu_adapters {
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
            }
        }
    }
    Ok(())
}

/// Why no adapter was found.
fn no_adapter_reason() -> String {
    #[cfg(feature = "gpu")]
    return hashwatt::gpu::adapter::no_adapter_reason();
    #[cfg(not(feature = "gpu"))]
    "this hashwatt was built without the gpu feature".to_string()
}
