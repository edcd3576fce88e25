//! The modeled meter: power = idle + utilization × (max − idle), from a table
//! of cited figures or from `--cpu-watts` / `--gpu-watts`.
//!
//! Every figure this meter gives is an estimate and is labeled
//! [`EnergySource::Modeled`] with its basis.

use std::fmt;
use std::str::FromStr;

use super::cpu_tdp::{CpuId, CpuPower};
use super::{Device, EnergyError, EnergySource, Joules, MeterOptions, PowerMeter, Watts, Window};

/// The power figures of one kind of device.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PowerModel {
    /// Display name.
    pub name: &'static str,
    /// Lowercase substrings that must all occur in the device name.
    pub matches: &'static [&'static str],
    /// Lowercase substrings that must not occur in it.
    pub excludes: &'static [&'static str],
    /// Power at full load (TDP or board power): of the whole device, or of
    /// one logical CPU when `per_logical_cpu`.
    pub max: Watts,
    /// Power when idle, same unit as `max`.
    pub idle: Watts,
    /// Whether the figures are per logical CPU (CPU models: a cloud VM sees a
    /// share of a package) rather than per device.
    pub per_logical_cpu: bool,
    /// Where the figures come from.
    pub source: &'static str,
}

/// GPU idle power as a share of board power (an estimate), from the hardware table.
pub use crate::hardware::GPU_IDLE_SHARE;

/// CPU package idle power as a share of TDP, an estimate: AnandTech measured
/// ~65 W package idle on EPYC Rome (EPYC 7742, 225 W TDP: 29 %) and ~100 W on
/// Milan (75F3, 280 W: 36 %), "AMD EPYC Milan review", page 5 (anandtech.com/show/16529).
pub const CPU_IDLE_SHARE: f64 = 0.30;

impl PowerModel {
    /// The model of a GPU in the hardware table: board power at full load,
    /// [`GPU_IDLE_SHARE`] of it at idle.
    pub fn of_gpu(g: &crate::hardware::GpuSpec) -> PowerModel {
        PowerModel {
            name: g.name,
            matches: g.adapter_matches,
            excludes: g.adapter_excludes,
            max: g.board_watts,
            idle: g.idle_watts(),
            per_logical_cpu: false,
            source: g.source,
        }
    }
}

impl PowerModel {
    /// The model for a GPU adapter name, if any, from the hardware table
    /// ([`crate::hardware::GPUS`]); CPUs use [`super::cpu_tdp`].
    pub fn lookup(device_name: &str) -> Option<PowerModel> {
        crate::hardware::gpu_for_adapter(device_name).map(PowerModel::of_gpu)
    }
}

/// `--cpu-watts` / `--gpu-watts`: `WATTS` (full-load power, idle 0 W) or
/// `IDLE:WATTS`, for the whole device.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PowerOverride {
    /// Power when idle.
    pub idle: Watts,
    /// Power at full load.
    pub max: Watts,
}

impl FromStr for PowerOverride {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |why: &str| {
            format!("invalid power {s:?}: {why} (expected WATTS or IDLE:WATTS, e.g. 350 or 35:350)")
        };
        let num = |t: &str| -> Result<f64, String> {
            let v: f64 = t.trim().parse().map_err(|_| bad("not a number"))?;
            if (0.0..=1e6).contains(&v) {
                Ok(v)
            } else {
                Err(bad("watts must be in 0 ..= 1000000"))
            }
        };
        let (idle, max) = match s.split_once(':') {
            Some((i, m)) => (num(i)?, num(m)?),
            None => (0.0, num(s)?),
        };
        if max <= 0.0 {
            return Err(bad("full-load watts must be above 0"));
        }
        if idle > max {
            return Err(bad("idle watts exceed full-load watts"));
        }
        Ok(PowerOverride {
            idle: Watts(idle),
            max: Watts(max),
        })
    }
}

impl fmt::Display for PowerOverride {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.idle.0, self.max.0)
    }
}

/// A meter that computes energy from a power model.
#[derive(Clone, Debug, PartialEq)]
pub struct ModeledMeter {
    idle: Watts,
    max: Watts,
    basis: String,
    open: bool,
}

impl ModeledMeter {
    /// A model with explicit figures for the whole device.
    pub fn new(idle: Watts, max: Watts, basis: impl Into<String>) -> Self {
        ModeledMeter {
            idle,
            max,
            basis: basis.into(),
            open: false,
        }
    }

    /// The model for `device`: the override if given, else the table entry;
    /// every CPU has one ([`super::cpu_tdp`], scaled by the machine's logical CPUs,
    /// with this machine's `/proc/cpuinfo` identity).
    ///
    /// # Errors
    /// [`EnergyError::NoModel`] for a GPU with neither.
    pub fn for_device(device: &Device, options: &MeterOptions) -> Result<Self, EnergyError> {
        if let (
            Device::Cpu {
                model,
                logical_cpus,
            },
            None,
        ) = (device, options.cpu_watts)
        {
            return Ok(Self::for_cpu(model, CpuId::detect(), *logical_cpus));
        }
        let (name, given, flag, cpus) = match device {
            Device::Cpu {
                model,
                logical_cpus,
            } => (
                model,
                options.cpu_watts,
                "--cpu-watts",
                (*logical_cpus).max(1),
            ),
            Device::Gpu { adapter, .. } => (adapter, options.gpu_watts, "--gpu-watts", 1),
        };
        if let Some(o) = given {
            return Ok(ModeledMeter::new(
                o.idle,
                o.max,
                format!(
                    "{flag} {o}: {} idle, {} at full load for {device} (user figures)",
                    o.idle, o.max
                ),
            ));
        }
        let model = PowerModel::lookup(name).ok_or_else(|| EnergyError::NoModel {
            device: name.clone(),
            flag,
        })?;
        let scale = if model.per_logical_cpu {
            cpus as f64
        } else {
            1.0
        };
        let (idle, max) = (Watts(model.idle.0 * scale), Watts(model.max.0 * scale));
        let basis = if model.per_logical_cpu {
            format!(
                "{} estimate, {cpus} logical CPUs × {:.3} W = {max} at full load, idle {idle} \
                 ({:.0} % of TDP); {}",
                model.name,
                model.max.0,
                CPU_IDLE_SHARE * 100.0,
                model.source
            )
        } else {
            format!(
                "{} estimate, {max} at full load, idle {idle} ({:.0} % of max, estimate); {}",
                model.name,
                GPU_IDLE_SHARE * 100.0,
                model.source
            )
        };
        Ok(ModeledMeter::new(idle, max, basis))
    }

    /// The CPU power model for a CPU named `name` with identity `id` and
    /// `logical_cpus` logical CPUs: [`CpuPower::lookup`]'s watts per logical
    /// CPU times the logical CPUs, idle [`CPU_IDLE_SHARE`] of that.
    pub fn for_cpu(name: &str, id: Option<CpuId>, logical_cpus: usize) -> Self {
        let power = CpuPower::lookup(name, id);
        let cpus = logical_cpus.max(1);
        let max = Watts(power.watts_per_logical_cpu() * cpus as f64);
        let idle = Watts(max.0 * CPU_IDLE_SHARE);
        let basis = format!(
            "CPU power model for {name}, {cpus} logical CPUs × {:.3} W = {max} at full load, \
             idle {idle} ({:.0} % of TDP, estimate); {}",
            power.watts_per_logical_cpu(),
            CPU_IDLE_SHARE * 100.0,
            power.basis()
        );
        ModeledMeter::new(idle, max, basis)
    }

    /// The modeled power at a utilization (0 ..= 1).
    pub fn power(&self, utilization: f64) -> Watts {
        let u = utilization.clamp(0.0, 1.0);
        Watts(self.idle.0 + u * (self.max.0 - self.idle.0))
    }
}

impl PowerMeter for ModeledMeter {
    fn source(&self) -> EnergySource {
        EnergySource::Modeled {
            basis: self.basis.clone(),
        }
    }

    fn idle_power(&self) -> Option<Watts> {
        Some(self.idle)
    }

    fn start(&mut self) -> Result<(), EnergyError> {
        self.open = true;
        Ok(())
    }

    fn stop(&mut self, window: Window) -> Result<Joules, EnergyError> {
        if !std::mem::take(&mut self.open) {
            return Err(EnergyError::NotStarted);
        }
        Ok(self.power(window.utilization).over(window.elapsed))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn adapter_names_find_their_model() {
        let cases = [
            ("NVIDIA H100 80GB HBM3", "NVIDIA H100 SXM", 700.0),
            ("NVIDIA H100 PCIe", "NVIDIA H100 PCIe", 350.0),
            ("NVIDIA H200", "NVIDIA H200 SXM", 700.0),
            ("NVIDIA A100-SXM4-80GB", "NVIDIA A100 80GB SXM", 400.0),
            ("NVIDIA L40S", "NVIDIA L40S", 350.0),
            ("NVIDIA GeForce RTX 4090", "NVIDIA GeForce RTX 4090", 450.0),
            ("AMD Instinct MI300X", "AMD Instinct MI300X", 750.0),
        ];
        for (adapter, name, max) in cases {
            let m = PowerModel::lookup(adapter).unwrap();
            assert_eq!((m.name, m.max.0), (name, max), "{adapter}");
            assert_eq!(m.idle.0, max * GPU_IDLE_SHARE);
        }
        assert!(PowerModel::lookup("llvmpipe (LLVM 20.1.2, 256 bits)").is_none());
        assert!(PowerModel::lookup("NVIDIA A100-PCIE-40GB").is_none());
    }

    #[test]
    fn cpu_model_scales_with_logical_cpus_and_utilization() {
        let genoa = CpuId::X86 {
            amd: true,
            family: 0x19,
            model: 0x11,
        };
        let mut m = ModeledMeter::for_cpu("AMD EPYC", Some(genoa), 2);
        assert_eq!(m.power(1.0), Watts(3.75));
        assert_eq!(m.power(0.0), Watts(3.75 * 0.3));
        assert!((m.power(0.5).0 - (1.125 + 0.5 * 2.625)).abs() < 1e-12);
        m.start().unwrap();
        let j = m
            .stop(Window {
                elapsed: Duration::from_secs(2),
                utilization: 1.0,
            })
            .unwrap();
        assert_eq!(j, Joules(7.5));
        let basis = m.source().to_string();
        assert!(
            basis.starts_with("modeled: CPU power model for AMD EPYC, 2 logical CPUs"),
            "{basis}"
        );
        assert!(
            basis.contains("Genoa") && basis.contains("EPYC 9654"),
            "{basis}"
        );
        assert!(matches!(
            m.stop(Window {
                elapsed: Duration::from_secs(1),
                utilization: 1.0
            }),
            Err(EnergyError::NotStarted)
        ));
    }

    #[test]
    fn every_cpu_gets_a_model() {
        // No identity, no known name: the per-logical-CPU default, and it says so.
        let device = Device::Cpu {
            model: "Intel(R) Xeon(R) CPU @ 2.20GHz".into(),
            logical_cpus: 4,
        };
        let m = ModeledMeter::for_cpu("Intel(R) Xeon(R) CPU @ 2.20GHz", None, 4);
        assert_eq!(m.power(1.0), Watts(16.0));
        assert!(m.source().to_string().contains("not in the TDP table"));
        // Through the device: a model always exists for a CPU.
        assert!(ModeledMeter::for_device(&device, &MeterOptions::default()).is_ok());
    }

    #[test]
    fn unknown_device_asks_for_the_flag_and_override_wins() {
        let device = Device::Gpu {
            adapter: "llvmpipe".into(),
            pci_bus_id: None,
        };
        let err = ModeledMeter::for_device(&device, &MeterOptions::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no power model for \"llvmpipe\"; pass --gpu-watts [IDLE:]WATTS to model it"
        );
        let options = MeterOptions {
            gpu_watts: Some("30:300".parse().unwrap()),
            ..MeterOptions::default()
        };
        let m = ModeledMeter::for_device(&device, &options).unwrap();
        assert_eq!((m.power(0.0), m.power(1.0)), (Watts(30.0), Watts(300.0)));
        assert!(m.source().to_string().contains("user figures"));
    }

    #[test]
    fn overrides_parse_and_reject_bad_values() {
        assert_eq!(
            "350".parse::<PowerOverride>().unwrap(),
            PowerOverride {
                idle: Watts(0.0),
                max: Watts(350.0)
            }
        );
        assert_eq!(
            " 35 : 350 ".parse::<PowerOverride>().unwrap().idle,
            Watts(35.0)
        );
        for bad in ["", "abc", "-5", "0", "400:300", "nan", "inf", "1:2:3"] {
            let err = bad.parse::<PowerOverride>().unwrap_err();
            assert!(err.contains(&format!("{bad:?}")), "{err}");
        }
    }
}
