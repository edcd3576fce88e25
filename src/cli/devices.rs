//! `hashwatt devices`: what this machine can run.

use std::io::Write;

use hashwatt::gpu::adapter;
use hashwatt::report::machine::Machine;
use hashwatt::sha256::CpuKernel;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let machine = Machine::detect();
    let kernels: Vec<&str> = CpuKernel::available()
        .into_iter()
        .map(CpuKernel::name)
        .collect();
    let best = CpuKernel::best().name();
    let mut out = std::io::stdout().lock();
    if args.json {
        let value =
            serde_json::json!({ "machine": machine, "cpu_backends": kernels, "cpu_best": best });
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
        if machine.gpu_adapters.is_empty() {
            writeln!(out, "GPU adapters: none ({})", adapter::no_adapter_reason())?;
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
