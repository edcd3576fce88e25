//! NVIDIA GPU energy through NVML (`nvml-wrapper`, which loads
//! `libnvidia-ml` at run time: no build-time CUDA dependency).
//!
//! One meter per GPU, found by the wgpu adapter's PCI bus id (by its name only
//! when the adapter reports no bus id and one NVML device alone has that name). Where the GPU has the
//! total-energy counter (`nvmlDeviceGetTotalEnergyConsumption`, millijoules,
//! Volta and newer) the meter reads it at both ends of the window; otherwise a
//! sampler thread reads the power (`nvmlDeviceGetPowerUsage`, milliwatts)
//! every [`SAMPLE_PERIOD`] and integrates it (trapezoids).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nvml_wrapper::Nvml;

use super::{EnergyError, EnergySource, Joules, PowerMeter, Window};

/// How often the fallback sampler reads the power. NVML refreshes power every
/// 1/6 s to 1 s depending on the product (pytorch.org, `torch.cuda.power_draw`
/// documentation, secondary), so faster sampling would only repeat readings.
pub const SAMPLE_PERIOD: Duration = Duration::from_millis(50);

/// Loads and initialises NVML.
///
/// # Errors
/// [`EnergyError::NvmlUnavailable`] when the driver library is missing or
/// refuses to start.
pub fn probe() -> Result<Arc<Nvml>, EnergyError> {
    Nvml::init()
        .map(Arc::new)
        .map_err(|e| EnergyError::NvmlUnavailable {
            reason: match e {
                nvml_wrapper::error::NvmlError::LibloadingError(inner) => {
                    format!("the NVIDIA driver library (libnvidia-ml) could not be loaded: {inner}")
                }
                other => other.to_string(),
            },
        })
}

/// Whether two GPU names denote the same product: equal ignoring case and
/// spacing, or one containing the other (wgpu and NVML may differ in prefixes).
pub fn names_match(adapter: &str, nvml_name: &str) -> bool {
    let norm = |s: &str| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    let (a, n) = (norm(adapter), norm(nvml_name));
    !a.is_empty() && !n.is_empty() && (a == n || a.contains(&n) || n.contains(&a))
}

/// A PCI bus id as `(domain, bus, device, function)`: wgpu writes
/// `0000:65:00.0`, NVML `00000000:65:00.0`; a missing domain is 0.
pub fn parse_pci_bus_id(id: &str) -> Option<(u32, u32, u32, u32)> {
    let id = id.trim();
    let (rest, function) = id.rsplit_once('.')?;
    let mut parts = rest.rsplit(':');
    let device = parts.next()?;
    let bus = parts.next()?;
    let domain = parts.next().unwrap_or("0");
    if parts.next().is_some() {
        return None;
    }
    let hex = |s: &str| {
        (!s.is_empty() && s.len() <= 8)
            .then(|| u32::from_str_radix(s, 16).ok())
            .flatten()
    };
    Some((hex(domain)?, hex(bus)?, hex(device)?, hex(function)?))
}

/// Which of the NVML devices `found` (`(name, bus id)`, in NVML order) is the
/// adapter: the one at `pci_bus_id`; without a bus id, the only one named
/// like `adapter`.
///
/// # Errors
/// [`EnergyError::NvmlNoMatch`] saying why none (or several) matched.
pub fn choose(
    adapter: &str,
    pci_bus_id: Option<&str>,
    found: &[(String, String)],
) -> Result<usize, EnergyError> {
    let no_match = |why: String| EnergyError::NvmlNoMatch {
        adapter: match pci_bus_id {
            Some(bus) => format!("{adapter} (PCI {bus})"),
            None => adapter.to_string(),
        },
        why,
        found: if found.is_empty() {
            "none".into()
        } else {
            found
                .iter()
                .map(|(n, b)| format!("{n} ({b})"))
                .collect::<Vec<_>>()
                .join(", ")
        },
    };
    if let Some(bus) = pci_bus_id {
        let want = parse_pci_bus_id(bus)
            .ok_or_else(|| no_match(format!("unreadable adapter PCI bus id {bus:?}")))?;
        return found
            .iter()
            .position(|(_, b)| parse_pci_bus_id(b) == Some(want))
            .ok_or_else(|| no_match("no NVML device at that PCI bus id".into()));
    }
    let named: Vec<usize> = (0..found.len())
        .filter(|&i| names_match(adapter, &found[i].0))
        .collect();
    match named.as_slice() {
        [one] => Ok(*one),
        [] => Err(no_match("no NVML device has that name".into())),
        _ => Err(no_match(format!(
            "{} NVML devices have that name and the adapter reports no PCI bus id \
             (use the Vulkan backend, which reports it, or --gpu-watts)",
            named.len()
        ))),
    }
}

#[derive(Debug)]
enum Mode {
    Counter { start_mj: Option<u64> },
    Sampled { sampler: Option<Sampler> },
}

#[derive(Debug)]
struct Sampler {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<Result<Joules, EnergyError>>,
}

/// Measures one NVIDIA GPU.
#[derive(Debug)]
pub struct NvmlMeter {
    nvml: Arc<Nvml>,
    index: u32,
    name: String,
    mode: Mode,
}

impl NvmlMeter {
    /// The meter of the NVML device at the PCI bus id `pci_bus_id` (the wgpu
    /// adapter's), or without a bus id the one NVML device named like `adapter`.
    ///
    /// # Errors
    /// [`EnergyError::NvmlUnavailable`] without NVML, [`EnergyError::NvmlNoMatch`]
    /// when no device (or, by name, more than one) matches, [`EnergyError::NvmlRead`]
    /// when it reads neither energy nor power.
    pub fn open(adapter: &str, pci_bus_id: Option<&str>) -> Result<Self, EnergyError> {
        let nvml = probe()?;
        let read_err = |query: &'static str, device: &str, e: nvml_wrapper::error::NvmlError| {
            EnergyError::NvmlRead {
                query,
                device: device.to_string(),
                reason: e.to_string(),
            }
        };
        let count = nvml
            .device_count()
            .map_err(|e| read_err("device count", "all", e))?;
        let mut found = Vec::new();
        for index in 0..count {
            let device = nvml
                .device_by_index(index)
                .map_err(|e| read_err("device handle", &index.to_string(), e))?;
            let name = device
                .name()
                .map_err(|e| read_err("device name", &index.to_string(), e))?;
            let bus = device
                .pci_info()
                .map_err(|e| read_err("PCI info", &name, e))?
                .bus_id;
            found.push((name, bus));
        }
        let index = choose(adapter, pci_bus_id, &found)?;
        let name = found[index].0.clone();
        let index = index as u32;
        let device = nvml
            .device_by_index(index)
            .map_err(|e| read_err("device handle", &name, e))?;
        let mode = if device.total_energy_consumption().is_ok() {
            Mode::Counter { start_mj: None }
        } else {
            device
                .power_usage()
                .map_err(|e| read_err("power usage", &name, e))?;
            Mode::Sampled { sampler: None }
        };
        Ok(NvmlMeter {
            nvml: Arc::clone(&nvml),
            index,
            name,
            mode,
        })
    }

    fn energy_mj(&self) -> Result<u64, EnergyError> {
        let device = self
            .nvml
            .device_by_index(self.index)
            .and_then(|d| d.total_energy_consumption());
        device.map_err(|e| EnergyError::NvmlRead {
            query: "total energy consumption",
            device: self.name.clone(),
            reason: e.to_string(),
        })
    }
}

fn sample_power(nvml: &Nvml, index: u32, stop: &AtomicBool) -> Result<Joules, EnergyError> {
    let device = nvml
        .device_by_index(index)
        .map_err(|e| EnergyError::NvmlRead {
            query: "device handle",
            device: index.to_string(),
            reason: e.to_string(),
        })?;
    let read = || {
        device
            .power_usage()
            .map(|mw| (Instant::now(), f64::from(mw) * 1e-3))
            .map_err(|e| EnergyError::NvmlRead {
                query: "power usage",
                device: index.to_string(),
                reason: e.to_string(),
            })
    };
    let mut last = read()?;
    let mut joules = 0.0;
    loop {
        let done = stop.load(Ordering::Relaxed);
        if !done {
            std::thread::sleep(SAMPLE_PERIOD);
        }
        let now = read()?;
        joules += 0.5 * (last.1 + now.1) * (now.0 - last.0).as_secs_f64();
        last = now;
        if done {
            return Ok(Joules(joules));
        }
    }
}

impl PowerMeter for NvmlMeter {
    fn source(&self) -> EnergySource {
        let how = match self.mode {
            Mode::Counter { .. } => "total-energy counter",
            Mode::Sampled { .. } => "power samples every 50 ms, integrated",
        };
        EnergySource::Measured {
            source: format!("NVML {how} ({}, GPU {})", self.name, self.index),
        }
    }

    fn start(&mut self) -> Result<(), EnergyError> {
        match &self.mode {
            Mode::Counter { .. } => {
                let mj = self.energy_mj()?;
                self.mode = Mode::Counter { start_mj: Some(mj) };
            }
            Mode::Sampled { .. } => {
                let stop = Arc::new(AtomicBool::new(false));
                let (nvml, index, flag) = (Arc::clone(&self.nvml), self.index, Arc::clone(&stop));
                let handle = std::thread::Builder::new()
                    .name("hashwatt-nvml".into())
                    .spawn(move || sample_power(&nvml, index, &flag))
                    .map_err(|e| EnergyError::NvmlRead {
                        query: "sampler thread",
                        device: self.name.clone(),
                        reason: e.to_string(),
                    })?;
                self.mode = Mode::Sampled {
                    sampler: Some(Sampler { stop, handle }),
                };
            }
        }
        Ok(())
    }

    fn stop(&mut self, _window: Window) -> Result<Joules, EnergyError> {
        match &mut self.mode {
            Mode::Counter { start_mj } => {
                let start = start_mj.take().ok_or(EnergyError::NotStarted)?;
                let end = self.energy_mj()?;
                Ok(Joules::from_milli(end.saturating_sub(start)))
            }
            Mode::Sampled { sampler } => {
                let Sampler { stop, handle } = sampler.take().ok_or(EnergyError::NotStarted)?;
                stop.store(true, Ordering::Relaxed);
                handle.join().unwrap_or_else(|_| {
                    Err(EnergyError::NvmlRead {
                        query: "sampler thread",
                        device: self.name.clone(),
                        reason: "the sampler thread panicked".into(),
                    })
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adapter_and_nvml_names_match() {
        assert!(names_match(
            "NVIDIA H100 80GB HBM3",
            "NVIDIA H100 80GB HBM3"
        ));
        assert!(names_match(
            "NVIDIA  GeForce RTX 4090",
            "nvidia geforce rtx 4090"
        ));
        assert!(names_match("GeForce RTX 4090", "NVIDIA GeForce RTX 4090"));
        assert!(!names_match("NVIDIA H100 PCIe", "NVIDIA H200"));
        assert!(!names_match("", "NVIDIA H200"));
    }

    #[test]
    fn pci_bus_ids_parse_in_both_spellings() {
        assert_eq!(parse_pci_bus_id("0000:65:00.0"), Some((0, 0x65, 0, 0)));
        assert_eq!(parse_pci_bus_id("00000000:65:00.0"), Some((0, 0x65, 0, 0)));
        assert_eq!(parse_pci_bus_id("65:1f.3"), Some((0, 0x65, 0x1f, 3)));
        for bad in [
            "",
            "65",
            "0000:65:00",
            "x:65:00.0",
            "1:2:3:4.0",
            "0000:65:00.g",
        ] {
            assert_eq!(parse_pci_bus_id(bad), None, "{bad}");
        }
    }

    #[test]
    fn eight_same_gpus_are_told_apart_by_bus_id() {
        // An 8x H100 host: NVML order and bus ids as nvidia-smi shows them.
        let found: Vec<(String, String)> = [0x18, 0x2a, 0x3a, 0x5d, 0x9a, 0xab, 0xba, 0xdb]
            .iter()
            .map(|b| {
                (
                    "NVIDIA H100 80GB HBM3".to_string(),
                    format!("00000000:{b:02X}:00.0"),
                )
            })
            .collect();
        let h100 = "NVIDIA H100 80GB HBM3";
        // wgpu's adapter 3 is at 5d: NVML device 3, not device 0.
        assert_eq!(choose(h100, Some("0000:5d:00.0"), &found).unwrap(), 3);
        assert_eq!(choose(h100, Some("0000:db:00.0"), &found).unwrap(), 7);
        let err = choose(h100, Some("0000:01:00.0"), &found).unwrap_err();
        assert!(
            err.to_string()
                .contains("no NVML device at that PCI bus id"),
            "{err}"
        );
        // Without a bus id the name is ambiguous: refused, not GPU 0.
        let err = choose(h100, None, &found).unwrap_err();
        assert!(
            err.to_string().contains("8 NVML devices have that name"),
            "{err}"
        );
        // One GPU of that name: the name is enough.
        assert_eq!(choose(h100, None, &found[..1]).unwrap(), 0);
        assert!(choose("NVIDIA H200", None, &found).is_err());
    }

    #[test]
    fn missing_driver_is_a_clear_error() {
        if let Err(err) = probe() {
            assert!(
                err.to_string().starts_with("NVML is not available: "),
                "{err}"
            );
            let err = NvmlMeter::open("NVIDIA H100 80GB HBM3", None).unwrap_err();
            assert!(matches!(err, EnergyError::NvmlUnavailable { .. }), "{err}");
        }
    }
}
