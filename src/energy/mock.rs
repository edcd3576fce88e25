//! A meter with fixed power, so whole reports can be checked exactly
//! (`hashwatt bench --meter mock`, a hidden value for tests).

use super::{EnergyError, EnergySource, Joules, PowerMeter, Watts, Window};

/// Draws `idle` watts in idle windows and `busy` watts in any busy window.
#[derive(Clone, Debug, PartialEq)]
pub struct MockMeter {
    idle: Watts,
    busy: Watts,
    open: bool,
}

impl MockMeter {
    /// A meter reporting `idle` watts at utilization 0 and `busy` watts otherwise.
    pub fn new(idle: Watts, busy: Watts) -> Self {
        MockMeter {
            idle,
            busy,
            open: false,
        }
    }
}

impl PowerMeter for MockMeter {
    fn source(&self) -> EnergySource {
        EnergySource::Modeled {
            basis: format!(
                "mock meter, fixed {} busy and {} idle (for tests)",
                self.busy, self.idle
            ),
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
        let watts = if window.utilization > 0.0 {
            self.busy
        } else {
            self.idle
        };
        Ok(watts.over(window.elapsed))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn fixed_watts_times_window() {
        let mut m = MockMeter::new(Watts(20.0), Watts(100.0));
        m.start().unwrap();
        let busy = Window {
            elapsed: Duration::from_millis(1500),
            utilization: 0.5,
        };
        assert_eq!(m.stop(busy).unwrap(), Joules(150.0));
        m.start().unwrap();
        let idle = Window {
            utilization: 0.0,
            ..busy
        };
        assert_eq!(m.stop(idle).unwrap(), Joules(30.0));
        assert!(!m.source().is_measured());
        assert_eq!(m.idle_power(), Some(Watts(20.0)));
    }
}
