//! The NVML meter in a build without the `nvml` feature: the same names, and
//! every way in says that this build has no NVML, so `--meter auto` falls
//! back to the power model with that note and `--meter nvml` fails clearly.

use super::{EnergyError, EnergySource, Joules, PowerMeter, Window};

/// Why there is no NVML in this build.
const NOT_BUILT: &str = "this hashwatt was built without the nvml feature";

/// Always [`EnergyError::NvmlUnavailable`]: this build has no NVML.
///
/// # Errors
/// Always.
pub fn probe() -> Result<(), EnergyError> {
    Err(EnergyError::NvmlUnavailable {
        reason: NOT_BUILT.into(),
    })
}

/// An NVIDIA GPU meter; none can be opened in this build.
#[derive(Debug)]
pub enum NvmlMeter {}

impl NvmlMeter {
    /// Always [`EnergyError::NvmlUnavailable`]: this build has no NVML.
    ///
    /// # Errors
    /// Always.
    pub fn open(_adapter: &str, _pci_bus_id: Option<&str>) -> Result<Self, EnergyError> {
        Err(EnergyError::NvmlUnavailable {
            reason: NOT_BUILT.into(),
        })
    }
}

impl PowerMeter for NvmlMeter {
    fn source(&self) -> EnergySource {
        match *self {}
    }

    fn start(&mut self) -> Result<(), EnergyError> {
        match *self {}
    }

    fn stop(&mut self, _window: Window) -> Result<Joules, EnergyError> {
        match *self {}
    }
}
