//! Energy meters: how many joules a time window of hashing cost, and where
//! that figure comes from.
//!
//! A [`PowerMeter`] measures one device over a window opened with
//! [`PowerMeter::start`] and closed with [`PowerMeter::stop`]. Every result
//! carries its provenance, an [`EnergySource`]: `Measured` with the sensor
//! that produced it, or `Modeled` with the basis of the estimate.
//!
//! - [`nvml`]: NVIDIA GPUs through NVML (total-energy counter, else sampled power);
//! - [`rapl`]: CPU packages through Linux powercap (`intel-rapl`, also used by AMD);
//! - [`modeled`]: idle + utilization × (TDP − idle) from a table of cited figures;
//! - [`mock`]: fixed watts, for deterministic reports in tests.
//!
//! [`open_meter`] picks one for a device according to `--meter`.

pub mod cpu_tdp;
pub mod mock;
pub mod modeled;
#[cfg(feature = "nvml")]
pub mod nvml;
#[cfg(not(feature = "nvml"))]
#[path = "nvml_not_built.rs"]
pub mod nvml;
pub mod rapl;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

pub use mock::MockMeter;
pub use modeled::{ModeledMeter, PowerModel, PowerOverride};
pub use nvml::NvmlMeter;
pub use rapl::RaplMeter;

/// The crate's energy units, defined once in [`crate::units`].
pub use crate::units::{Joules, Watts};

/// Where an energy figure comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EnergySource {
    /// Read from a sensor or energy counter.
    Measured {
        /// The sensor, e.g. `NVML total-energy counter (NVIDIA H100 80GB HBM3)`.
        source: String,
    },
    /// Estimated from a power model, not measured.
    Modeled {
        /// What the estimate rests on.
        basis: String,
    },
}

impl EnergySource {
    /// Whether the figure was measured.
    pub fn is_measured(&self) -> bool {
        matches!(self, EnergySource::Measured { .. })
    }
}

impl fmt::Display for EnergySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnergySource::Measured { source } => write!(f, "measured: {source}"),
            EnergySource::Modeled { basis } => write!(f, "modeled: {basis}"),
        }
    }
}

/// What the device did during a window: the model and mock meters need it,
/// the measuring meters ignore it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Window {
    /// Length of the window, timed by the caller.
    pub elapsed: Duration,
    /// Share of the device kept busy, 0 (idle) ..= 1 (every core or the whole GPU).
    pub utilization: f64,
}

/// Errors from opening or reading a meter.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnergyError {
    /// The NVML library could not be loaded or initialised.
    #[error("NVML is not available: {reason}")]
    NvmlUnavailable {
        /// Why.
        reason: String,
    },
    /// No NVML device is the adapter to measure (by PCI bus id, or by name
    /// when the adapter reports no bus id and exactly one device has its name).
    #[error("no NVML device matches GPU adapter {adapter:?}: {why} (NVML devices: {found})")]
    NvmlNoMatch {
        /// The wgpu adapter's name and PCI bus id.
        adapter: String,
        /// Why none matched.
        why: String,
        /// The NVML devices, `name (bus id)`.
        found: String,
    },
    /// An NVML query failed.
    #[error("NVML {query} failed on {device:?}: {reason}")]
    NvmlRead {
        /// The query.
        query: &'static str,
        /// The device.
        device: String,
        /// The NVML error.
        reason: String,
    },
    /// No usable RAPL package domain.
    #[error("RAPL is not available under {}: {reason}", root.display())]
    RaplUnavailable {
        /// The powercap root searched.
        root: PathBuf,
        /// Why.
        reason: String,
    },
    /// A RAPL file could not be read or parsed.
    #[error("cannot read {}: {reason}", path.display())]
    RaplUnreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The modeled meter has no figures for this device.
    #[error("no power model for {device:?}; pass {flag} [IDLE:]WATTS to model it")]
    NoModel {
        /// The device name.
        device: String,
        /// The flag that supplies the figures (`--cpu-watts` or `--gpu-watts`).
        flag: &'static str,
    },
    /// The meter asked for cannot measure this kind of device.
    #[error("--meter {meter} cannot measure {device}: {reason}")]
    WrongDevice {
        /// The meter.
        meter: MeterKind,
        /// The device.
        device: String,
        /// Why.
        reason: &'static str,
    },
    /// A meter was stopped without being started.
    #[error("meter stopped without a window started")]
    NotStarted,
}

/// Measures the energy a device uses over a time window.
pub trait PowerMeter: Send {
    /// Where this meter's figures come from.
    fn source(&self) -> EnergySource;

    /// The power the device draws when idle, if known without measuring
    /// (models and mocks); `None` for meters that must measure it.
    fn idle_power(&self) -> Option<Watts> {
        None
    }

    /// Opens a window.
    ///
    /// # Errors
    /// [`EnergyError`] when the sensor cannot be read.
    fn start(&mut self) -> Result<(), EnergyError>;

    /// Reads the sensor inside an open window. Counters that wrap (RAPL) use
    /// it to count every wrap; calling it about once a second is enough.
    ///
    /// # Errors
    /// [`EnergyError`] when the sensor cannot be read.
    fn sample(&mut self) -> Result<(), EnergyError> {
        Ok(())
    }

    /// Closes the window and returns the energy used in it.
    ///
    /// # Errors
    /// [`EnergyError`] when the sensor cannot be read or no window was open.
    fn stop(&mut self, window: Window) -> Result<Joules, EnergyError>;
}

/// What `--meter` asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MeterKind {
    /// NVML for NVIDIA GPUs, RAPL for CPUs, else the model.
    Auto,
    /// NVML only.
    Nvml,
    /// RAPL only.
    Rapl,
    /// The power model only.
    Modeled,
    /// Fixed watts, for tests.
    Mock,
}

impl MeterKind {
    /// The names `--meter` accepts (the hidden `mock` left out).
    pub const NAMES: &'static [&'static str] = &["auto", "nvml", "rapl", "modeled"];
}

impl FromStr for MeterKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(MeterKind::Auto),
            "nvml" => Ok(MeterKind::Nvml),
            "rapl" => Ok(MeterKind::Rapl),
            "modeled" => Ok(MeterKind::Modeled),
            "mock" => Ok(MeterKind::Mock),
            _ => Err(format!(
                "unknown meter {s:?} (expected one of: {})",
                MeterKind::NAMES.join(", ")
            )),
        }
    }
}

impl fmt::Display for MeterKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MeterKind::Auto => "auto",
            MeterKind::Nvml => "nvml",
            MeterKind::Rapl => "rapl",
            MeterKind::Modeled => "modeled",
            MeterKind::Mock => "mock",
        })
    }
}

/// The device an engine runs on, as far as energy is concerned.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Device {
    /// The host CPU (all of its logical CPUs).
    Cpu {
        /// CPU model name.
        model: String,
        /// Logical CPUs of the machine.
        logical_cpus: usize,
    },
    /// A GPU.
    Gpu {
        /// The adapter's name as wgpu reports it.
        adapter: String,
        /// Its PCI bus id (`domain:bus:device.function`), when the backend
        /// reports it: how NVML finds the same GPU among several of one model.
        pci_bus_id: Option<String>,
    },
}

impl Device {
    /// The share of the device an engine with `threads` workers keeps busy:
    /// threads / logical CPUs for the CPU, 1 for a GPU.
    pub fn utilization(&self, threads: usize) -> f64 {
        match self {
            Device::Cpu { logical_cpus, .. } => {
                (threads as f64 / (*logical_cpus).max(1) as f64).clamp(0.0, 1.0)
            }
            Device::Gpu { .. } => 1.0,
        }
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Device::Cpu {
                model,
                logical_cpus,
            } => write!(f, "CPU {model} ({logical_cpus} logical CPUs)"),
            Device::Gpu {
                adapter,
                pci_bus_id: Some(bus),
            } => write!(f, "GPU {adapter} (PCI {bus})"),
            Device::Gpu { adapter, .. } => write!(f, "GPU {adapter}"),
        }
    }
}

/// Settings for [`open_meter`].
#[derive(Clone, Debug)]
pub struct MeterOptions {
    /// `--cpu-watts`: replaces the CPU model's figures (and, with `auto`, RAPL).
    pub cpu_watts: Option<PowerOverride>,
    /// `--gpu-watts`: replaces the GPU model's figures (and, with `auto`, NVML).
    pub gpu_watts: Option<PowerOverride>,
    /// The mock meter's power when busy.
    pub mock_watts: Watts,
    /// The mock meter's power when idle.
    pub mock_idle_watts: Watts,
    /// The powercap directory (`/sys/class/powercap`; tests point it elsewhere).
    pub rapl_root: PathBuf,
}

impl Default for MeterOptions {
    fn default() -> Self {
        MeterOptions {
            cpu_watts: None,
            gpu_watts: None,
            mock_watts: Watts(100.0),
            mock_idle_watts: Watts(20.0),
            rapl_root: PathBuf::from(rapl::POWERCAP_ROOT),
        }
    }
}

/// A meter chosen for a device, and why it is not the one asked for.
pub struct Selected {
    /// The meter.
    pub meter: Box<dyn PowerMeter>,
    /// With `auto`: why a sensor was not used (e.g. NVML missing), so the
    /// fallback to the model is visible.
    pub note: Option<String>,
}

impl fmt::Debug for Selected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Selected")
            .field("source", &self.meter.source())
            .field("note", &self.note)
            .finish()
    }
}

/// Opens the meter `kind` for `device`.
///
/// `auto` prefers a sensor (NVML for a GPU, RAPL for the CPU) and falls back
/// to the model with a note saying why; a `--cpu-watts`/`--gpu-watts`
/// override makes `auto` use the model with those figures.
///
/// # Errors
/// [`EnergyError`] when the meter asked for cannot measure the device.
pub fn open_meter(
    kind: MeterKind,
    device: &Device,
    options: &MeterOptions,
) -> Result<Selected, EnergyError> {
    let plain = |meter: Box<dyn PowerMeter>| Selected { meter, note: None };
    match (kind, device) {
        (MeterKind::Mock, _) => Ok(plain(Box::new(MockMeter::new(
            options.mock_idle_watts,
            options.mock_watts,
        )))),
        (MeterKind::Modeled, _) => Ok(plain(Box::new(ModeledMeter::for_device(device, options)?))),
        (
            MeterKind::Nvml,
            Device::Gpu {
                adapter,
                pci_bus_id,
            },
        ) => Ok(plain(Box::new(NvmlMeter::open(
            adapter,
            pci_bus_id.as_deref(),
        )?))),
        (MeterKind::Nvml, Device::Cpu { .. }) => {
            // Say first whether NVML is there at all: that is the usual problem.
            nvml::probe()?;
            Err(EnergyError::WrongDevice {
                meter: kind,
                device: device.to_string(),
                reason: "NVML measures NVIDIA GPUs only (use --meter rapl or modeled for CPU backends)",
            })
        }
        (MeterKind::Rapl, Device::Cpu { .. }) => {
            Ok(plain(Box::new(RaplMeter::open(&options.rapl_root)?)))
        }
        (MeterKind::Rapl, Device::Gpu { .. }) => Err(EnergyError::WrongDevice {
            meter: kind,
            device: device.to_string(),
            reason: "RAPL measures CPU packages only (use --meter nvml or modeled for the GPU)",
        }),
        (MeterKind::Auto, Device::Cpu { .. }) if options.cpu_watts.is_some() => {
            Ok(plain(Box::new(ModeledMeter::for_device(device, options)?)))
        }
        (MeterKind::Auto, Device::Gpu { .. }) if options.gpu_watts.is_some() => {
            Ok(plain(Box::new(ModeledMeter::for_device(device, options)?)))
        }
        (MeterKind::Auto, Device::Cpu { .. }) => match RaplMeter::open(&options.rapl_root) {
            Ok(meter) => Ok(plain(Box::new(meter))),
            Err(err) => fall_back(device, options, err),
        },
        (
            MeterKind::Auto,
            Device::Gpu {
                adapter,
                pci_bus_id,
            },
        ) => match NvmlMeter::open(adapter, pci_bus_id.as_deref()) {
            Ok(meter) => Ok(plain(Box::new(meter))),
            Err(err) => fall_back(device, options, err),
        },
    }
}

fn fall_back(
    device: &Device,
    options: &MeterOptions,
    why: EnergyError,
) -> Result<Selected, EnergyError> {
    let meter = ModeledMeter::for_device(device, options)?;
    Ok(Selected {
        meter: Box::new(meter),
        note: Some(format!(
            "{why}; energy for {device} is modeled, not measured"
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_labels_say_measured_or_modeled() {
        let m = EnergySource::Measured {
            source: "RAPL".into(),
        };
        let e = EnergySource::Modeled {
            basis: "table".into(),
        };
        assert!(m.is_measured() && !e.is_measured());
        assert_eq!(m.to_string(), "measured: RAPL");
        assert_eq!(e.to_string(), "modeled: table");
    }

    #[test]
    fn meter_names_round_trip() {
        for name in MeterKind::NAMES.iter().chain(&["mock"]) {
            assert_eq!(name.parse::<MeterKind>().unwrap().to_string(), *name);
        }
        let err = "watts".parse::<MeterKind>().unwrap_err();
        assert!(
            err.contains("\"watts\"") && err.contains("modeled"),
            "{err}"
        );
    }

    #[test]
    fn cpu_utilization_is_threads_over_logical_cpus() {
        let cpu = Device::Cpu {
            model: "x".into(),
            logical_cpus: 4,
        };
        assert_eq!(cpu.utilization(1), 0.25);
        assert_eq!(cpu.utilization(8), 1.0);
        let gpu = Device::Gpu {
            adapter: "g".into(),
            pci_bus_id: None,
        };
        assert_eq!(gpu.utilization(1), 1.0);
    }

    #[test]
    fn rapl_on_a_gpu_is_refused() {
        let gpu = Device::Gpu {
            adapter: "NVIDIA H100 80GB HBM3".into(),
            pci_bus_id: None,
        };
        let err = open_meter(MeterKind::Rapl, &gpu, &MeterOptions::default()).unwrap_err();
        assert!(matches!(err, EnergyError::WrongDevice { .. }), "{err}");
    }

    #[test]
    fn auto_without_rapl_falls_back_to_the_model_and_says_so() {
        let cpu = Device::Cpu {
            model: "AMD EPYC 9654 96-Core Processor".into(),
            logical_cpus: 2,
        };
        let options = MeterOptions {
            rapl_root: PathBuf::from("/nonexistent/powercap"),
            ..MeterOptions::default()
        };
        let selected = open_meter(MeterKind::Auto, &cpu, &options).unwrap();
        assert!(!selected.meter.source().is_measured());
        let note = selected.note.unwrap();
        assert!(
            note.contains("RAPL is not available") && note.contains("modeled, not measured"),
            "{note}"
        );
    }

    #[test]
    fn auto_on_a_gpu_without_nvml_falls_back_to_the_model() {
        let gpu = Device::Gpu {
            adapter: "NVIDIA H100 80GB HBM3".into(),
            pci_bus_id: None,
        };
        let selected = open_meter(MeterKind::Auto, &gpu, &MeterOptions::default()).unwrap();
        if nvml::probe().is_err() {
            // This machine: no libnvidia-ml.
            assert!(!selected.meter.source().is_measured());
            let note = selected.note.unwrap();
            assert!(note.starts_with("NVML is not available"), "{note}");
            assert!(note.contains("modeled, not measured"), "{note}");
            let err = open_meter(MeterKind::Nvml, &gpu, &MeterOptions::default()).unwrap_err();
            assert!(matches!(err, EnergyError::NvmlUnavailable { .. }), "{err}");
        } else {
            // A host with NVML: either an H100 of that name is measured, or the
            // note says why the model was used.
            assert!(selected.meter.source().is_measured() || selected.note.is_some());
        }
    }
}
