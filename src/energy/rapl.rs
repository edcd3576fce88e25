//! CPU package energy from Linux powercap RAPL (`/sys/class/powercap/intel-rapl:N`).
//!
//! Each package domain exposes `energy_uj`, a counter in microjoules that
//! wraps at `max_energy_range_uj` (Linux `Documentation/power/powercap/powercap.rst`).
//! AMD CPUs use the same `intel-rapl` zone names. Package domains
//! (`intel-rapl:N` whose `name` starts with `package`) and DRAM domains
//! (`name` `dram`, usually the sub-zone `intel-rapl:N:M`) are read and summed:
//! the other sub-zones (cores, uncore) are parts of a package, and `psys`
//! overlaps it. DRAM is outside the package, so it adds to it. Since Linux 5.10 (commit 949dd0104c49, for
//! CVE-2020-8694) `energy_uj` is readable by root only.

use std::io;
use std::path::{Path, PathBuf};

use super::{EnergyError, EnergySource, Joules, PowerMeter, Window};

/// Where Linux exposes powercap zones.
pub const POWERCAP_ROOT: &str = "/sys/class/powercap";

#[derive(Clone, Debug, PartialEq)]
struct Domain {
    name: String,
    energy_path: PathBuf,
    max_range_uj: u64,
    last_uj: u64,
}

/// A meter summing the energy counters of every CPU package.
#[derive(Clone, Debug, PartialEq)]
pub struct RaplMeter {
    domains: Vec<Domain>,
    accumulated_uj: u128,
    open: bool,
}

impl RaplMeter {
    /// Finds the package domains under `root` (normally [`POWERCAP_ROOT`]) and
    /// checks that their counters can be read.
    ///
    /// # Errors
    /// [`EnergyError::RaplUnavailable`] when `root` or package domains are
    /// missing, [`EnergyError::RaplUnreadable`] when a counter cannot be read
    /// (for instance as a non-root user).
    pub fn open(root: &Path) -> Result<Self, EnergyError> {
        let unavailable = |reason: String| EnergyError::RaplUnavailable {
            root: root.to_path_buf(),
            reason,
        };
        let entries = std::fs::read_dir(root).map_err(|e| {
            unavailable(if e.kind() == io::ErrorKind::NotFound {
                "no powercap directory (no RAPL driver, or a VM that does not expose it)".into()
            } else {
                e.to_string()
            })
        })?;
        let mut zones: Vec<((u32, Option<u32>), PathBuf)> = entries
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let file_name = entry.file_name();
                let index = file_name.to_str()?.strip_prefix("intel-rapl:")?;
                // `intel-rapl:0` (a package, psys) or `intel-rapl:0:1` (its core,
                // uncore or DRAM sub-zone).
                let (zone, sub) = match index.split_once(':') {
                    Some((z, s)) => (z.parse().ok()?, Some(s.parse().ok()?)),
                    None => (index.parse().ok()?, None),
                };
                Some(((zone, sub), entry.path()))
            })
            .collect();
        zones.sort();
        let mut domains = Vec::new();
        for ((_, sub), dir) in zones {
            let name = read_text(&dir.join("name"))?;
            // Packages (top level), and DRAM wherever it sits: core and uncore
            // are parts of a package, psys overlaps it.
            let wanted = (sub.is_none() && name.starts_with("package")) || name == "dram";
            if !wanted {
                continue;
            }
            let max_range_uj = read_u64(&dir.join("max_energy_range_uj"))?;
            let energy_path = dir.join("energy_uj");
            let last_uj = read_u64(&energy_path)?;
            domains.push(Domain {
                name,
                energy_path,
                max_range_uj,
                last_uj,
            });
        }
        if !domains.iter().any(|d| d.name.starts_with("package")) {
            return Err(unavailable("no intel-rapl:N package domain".into()));
        }
        Ok(RaplMeter {
            domains,
            accumulated_uj: 0,
            open: false,
        })
    }

    /// Names of the domains read (`package-0`, `dram`, ...).
    pub fn domains(&self) -> Vec<&str> {
        self.domains.iter().map(|d| d.name.as_str()).collect()
    }

    /// The current value of every package counter, microjoules, in [`RaplMeter::domains`] order.
    ///
    /// # Errors
    /// [`EnergyError::RaplUnreadable`] when a counter cannot be read.
    pub fn read_counters(&self) -> Result<Vec<u64>, EnergyError> {
        self.domains
            .iter()
            .map(|d| read_u64(&d.energy_path))
            .collect()
    }

    /// The energy between two sets of readings from [`RaplMeter::read_counters`]
    /// (at most one wrap per counter in between).
    pub fn energy_between(&self, before: &[u64], after: &[u64]) -> Joules {
        let uj: u128 = self
            .domains
            .iter()
            .zip(before.iter().zip(after))
            .map(|(d, (&b, &a))| u128::from(counter_delta(b, a, d.max_range_uj)))
            .sum();
        Joules(uj as f64 * 1e-6)
    }

    /// Reads every counter and adds what each advanced since the last read.
    fn accumulate(&mut self) -> Result<(), EnergyError> {
        for d in &mut self.domains {
            let now = read_u64(&d.energy_path)?;
            self.accumulated_uj += u128::from(counter_delta(d.last_uj, now, d.max_range_uj));
            d.last_uj = now;
        }
        Ok(())
    }
}

/// Microjoules between two readings of a counter that wraps to 0 after
/// `max_range` (at most one wrap between the readings).
pub fn counter_delta(before: u64, after: u64, max_range: u64) -> u64 {
    if after >= before {
        after - before
    } else {
        max_range.saturating_sub(before) + after
    }
}

impl PowerMeter for RaplMeter {
    fn source(&self) -> EnergySource {
        EnergySource::Measured {
            source: format!(
                "RAPL {} energy ({})",
                if self.domains.iter().any(|d| d.name == "dram") {
                    "package and DRAM"
                } else {
                    "package"
                },
                self.domains().join(" + ")
            ),
        }
    }

    fn start(&mut self) -> Result<(), EnergyError> {
        for d in &mut self.domains {
            d.last_uj = read_u64(&d.energy_path)?;
        }
        self.accumulated_uj = 0;
        self.open = true;
        Ok(())
    }

    fn sample(&mut self) -> Result<(), EnergyError> {
        if self.open {
            self.accumulate()?;
        }
        Ok(())
    }

    fn stop(&mut self, _window: Window) -> Result<Joules, EnergyError> {
        if !self.open {
            return Err(EnergyError::NotStarted);
        }
        self.accumulate()?;
        self.open = false;
        Ok(Joules(self.accumulated_uj as f64 * 1e-6))
    }
}

fn read_text(path: &Path) -> Result<String, EnergyError> {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .map_err(|e| unreadable(path, &e))
}

fn read_u64(path: &Path) -> Result<u64, EnergyError> {
    let text = read_text(path)?;
    text.parse().map_err(|_| EnergyError::RaplUnreadable {
        path: path.to_path_buf(),
        reason: format!("expected a counter in microjoules, found {text:?}"),
    })
}

/// The error for a file that cannot be read, with the usual cause spelled out.
pub fn unreadable(path: &Path, err: &io::Error) -> EnergyError {
    let reason = if err.kind() == io::ErrorKind::PermissionDenied {
        format!(
            "{err}: RAPL counters are readable by root only since Linux 5.10 (CVE-2020-8694); \
             run as root, or grant read access to {}",
            path.display()
        )
    } else {
        err.to_string()
    };
    EnergyError::RaplUnreadable {
        path: path.to_path_buf(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delta_handles_one_wrap() {
        assert_eq!(counter_delta(100, 350, 1000), 250);
        assert_eq!(counter_delta(900, 50, 1000), 150);
        assert_eq!(counter_delta(7, 7, 1000), 0);
    }

    #[test]
    fn permission_denied_explains_root_only() {
        let err = unreadable(
            Path::new("/sys/class/powercap/intel-rapl:0/energy_uj"),
            &io::Error::from(io::ErrorKind::PermissionDenied),
        );
        let text = err.to_string();
        assert!(
            text.starts_with("cannot read /sys/class/powercap/intel-rapl:0/energy_uj: "),
            "{text}"
        );
        assert!(text.contains("root only since Linux 5.10"), "{text}");
    }
}
