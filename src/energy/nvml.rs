//! NVIDIA GPU energy through NVML (`nvml-wrapper`, which loads
//! `libnvidia-ml` at run time: no build-time CUDA dependency).
//!
//! One meter per GPU, found by the wgpu adapter's name. Where the GPU has the
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
    /// The meter of the first NVML device whose name matches `adapter`.
    ///
    /// # Errors
    /// [`EnergyError::NvmlUnavailable`] without NVML, [`EnergyError::NvmlNoMatch`]
    /// when no device matches, [`EnergyError::NvmlRead`] when it reads neither
    /// energy nor power.
    pub fn open(adapter: &str) -> Result<Self, EnergyError> {
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
        let mut names = Vec::new();
        for index in 0..count {
            let device = nvml
                .device_by_index(index)
                .map_err(|e| read_err("device handle", &index.to_string(), e))?;
            let name = device
                .name()
                .map_err(|e| read_err("device name", &index.to_string(), e))?;
            if names_match(adapter, &name) {
                let mode = if device.total_energy_consumption().is_ok() {
                    Mode::Counter { start_mj: None }
                } else {
                    device
                        .power_usage()
                        .map_err(|e| read_err("power usage", &name, e))?;
                    Mode::Sampled { sampler: None }
                };
                return Ok(NvmlMeter {
                    nvml: Arc::clone(&nvml),
                    index,
                    name,
                    mode,
                });
            }
            names.push(name);
        }
        Err(EnergyError::NvmlNoMatch {
            adapter: adapter.to_string(),
            found: if names.is_empty() {
                "none".into()
            } else {
                names.join(", ")
            },
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
    fn missing_driver_is_a_clear_error() {
        if let Err(err) = probe() {
            assert!(
                err.to_string().starts_with("NVML is not available: "),
                "{err}"
            );
            let err = NvmlMeter::open("NVIDIA H100 80GB HBM3").unwrap_err();
            assert!(matches!(err, EnergyError::NvmlUnavailable { .. }), "{err}");
        }
    }
}
