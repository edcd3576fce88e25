//! "Bench this machine" as one library call: [`Plan::run`] opens every
//! backend asked for, one power meter per device they run on, takes each
//! device's idle power first, runs each backend (warmup, measured window,
//! cancel-latency probe) and assembles the [`BenchReport`].
//!
//! `hashwatt bench` only turns flags into a [`Plan`] and prints the report; a
//! scheduler linking the library runs the same plan.

use std::time::Duration;

use super::harness::{measure_idle_until, run_backend_until};
use super::{
    AsicReference, BenchConfig, BenchError, BenchReport, BenchSettings, CANCEL_SAMPLES,
    CancelLatency, IdleReport, Machine, Progress, SCHEMA, cancel_latency_samples,
};
use crate::backend::{self, BackendChoice, EngineOptions, Opened};
use crate::energy::{self, Device, MeterKind, MeterOptions, Selected};
use crate::search::CancelToken;
use crate::sha256::CpuKernel;

/// The least time the cancel-latency probe lets a search run before cancelling it.
pub const CANCEL_PROBE: Duration = Duration::from_millis(20);

/// The random extra run time of each cancel-latency probe: spans several GPU
/// batches (4 ms by default, 20 ms on a software adapter) and many CPU chunks, so the
/// [`CANCEL_SAMPLES`] cancels fall at random points of a batch.
pub const CANCEL_SPREAD: Duration = Duration::from_millis(40);

/// What to bench and how: the library's `hashwatt bench`.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The backends to run, in order (see [`Plan::every_backend`] for `all`).
    pub backends: Vec<BackendChoice>,
    /// Threads, adapter and batch time for opening them.
    pub engine: EngineOptions,
    /// The energy meter to use on each device.
    pub meter: MeterKind,
    /// The meters' options (power-model overrides, mock figures, RAPL root).
    pub meter_options: MeterOptions,
    /// Warmup, measured window and interval per backend.
    pub config: BenchConfig,
    /// Idle power measured per device first (zero: no idle figure unless the
    /// meter models it).
    pub idle: Duration,
    /// The least time the cancel-latency probe runs a search before
    /// cancelling it (plus a random part of [`CANCEL_SPREAD`], each of
    /// [`Plan::cancel_samples`] times).
    pub cancel_probe: Duration,
    /// Cancels timed per backend for the hand-back distribution (default
    /// [`CANCEL_SAMPLES`]; 0 skips the probe and leaves `cancel_latency` out).
    pub cancel_samples: usize,
    /// Stops the plan: the step in progress ends early keeping what it
    /// measured, and the backends not yet run are skipped (and named in a note).
    pub cancel: CancelToken,
}

impl Plan {
    /// A plan for `backends` with the CLI's defaults: `auto` meter, 3 s
    /// windows after 0.5 s warmup, 2 s idle.
    pub fn new(backends: Vec<BackendChoice>) -> Self {
        Plan {
            backends,
            engine: EngineOptions::default(),
            meter: MeterKind::Auto,
            meter_options: MeterOptions::default(),
            config: BenchConfig::default(),
            idle: Duration::from_secs(2),
            cancel_probe: CANCEL_PROBE,
            cancel_samples: CANCEL_SAMPLES,
            cancel: CancelToken::new(),
        }
    }

    /// Every backend this machine has: each CPU kernel it supports, and the
    /// GPU when wgpu finds an adapter or `explicit_adapter` asks for one (then
    /// opening it fails with the reason instead of dropping the request).
    pub fn every_backend(explicit_adapter: bool) -> Vec<BackendChoice> {
        let mut all: Vec<BackendChoice> = CpuKernel::available()
            .into_iter()
            .map(|k| BackendChoice::Kernel(k.kind()))
            .collect();
        if explicit_adapter || gpu_adapter_present() {
            all.push(BackendChoice::Gpu);
        }
        all
    }

    /// Runs the plan, reporting each step to `progress`.
    ///
    /// # Errors
    /// [`BenchError::PowerFigureUnused`] for a power-model figure that no
    /// meter or device of the plan would read; [`BenchError::Backend`] when a
    /// backend cannot be opened; [`BenchError::Energy`] when the meter asked
    /// for (other than `auto`, which falls back with a note) cannot measure a
    /// device; [`BenchError::Run`] and [`BenchError::CancelProbe`] when a run fails.
    pub fn run(&self, progress: &mut dyn FnMut(&Event)) -> Result<BenchReport, BenchError> {
        let figures = [
            ("--cpu-watts", self.meter_options.cpu_watts.is_some(), "CPU"),
            ("--gpu-watts", self.meter_options.gpu_watts.is_some(), "GPU"),
        ];
        // The power-model figures are read only by the `auto` and `modeled` meters.
        if !matches!(self.meter, MeterKind::Auto | MeterKind::Modeled)
            && let Some((flag, ..)) = figures.iter().find(|f| f.1)
        {
            return Err(BenchError::PowerFigureIgnored {
                flag,
                meter: self.meter,
            });
        }
        let machine = Machine::detect();
        let mut notes: Vec<String> = Vec::new();

        // Open every engine, and one meter per device they run on.
        let mut engines: Vec<(Opened, usize)> = Vec::new();
        let mut devices: Vec<(Device, Option<Selected>)> = Vec::new();
        for &choice in &self.backends {
            let opened = backend::open(choice, &self.engine)?;
            notes.extend(opened.note.clone());
            if choice == BackendChoice::Auto {
                notes.extend(backend::unused_threads_note(
                    &self.engine,
                    opened.engine.as_ref(),
                ));
                notes.extend(backend::unused_gpu_options_note(
                    &self.engine,
                    opened.engine.as_ref(),
                ));
            }
            let device = backend::energy_device(opened.engine.as_ref(), machine.logical_cpus);
            let slot = match devices.iter().position(|(d, _)| *d == device) {
                Some(i) => i,
                None => {
                    let selected =
                        match energy::open_meter(self.meter, &device, &self.meter_options) {
                            Ok(selected) => Some(selected),
                            // `auto` never fails the bench: without a sensor or a model
                            // the report says there is no energy figure, and why.
                            Err(err) if self.meter == MeterKind::Auto => {
                                notes.push(format!("no energy figure for {device}: {err}"));
                                None
                            }
                            Err(err) => return Err(err.into()),
                        };
                    notes.extend(selected.as_ref().and_then(|s| s.note.clone()));
                    devices.push((device, selected));
                    devices.len() - 1
                }
            };
            engines.push((opened, slot));
        }

        for (flag, given, kind) in figures {
            let runs = devices.iter().any(|(d, _)| match d {
                Device::Cpu { .. } => kind == "CPU",
                Device::Gpu { .. } => kind == "GPU",
            });
            if given && !runs {
                return Err(BenchError::PowerFigureUnused { flag, kind });
            }
        }

        // Idle power first, while nothing runs.
        let mut idles = Vec::new();
        let mut idle_reports = Vec::new();
        for (device, selected) in &mut devices {
            let idle = match selected {
                Some(s) => {
                    // Models know their idle power: nothing to wait for.
                    let waits = s.meter.idle_power().is_none() && !self.idle.is_zero();
                    progress(&Event::IdleStart {
                        device: device.to_string(),
                        total: self.idle,
                        waits,
                    });
                    let idle =
                        measure_idle_until(s.meter.as_mut(), self.idle, &self.cancel, &mut |p| {
                            progress(&Event::Progress(*p))
                        })?;
                    progress(&Event::StepEnd);
                    idle
                }
                None => None,
            };
            if let Some(i) = &idle {
                idle_reports.push(IdleReport {
                    device: device.to_string(),
                    watts: i.watts.0,
                    seconds: i.elapsed.as_secs_f64(),
                    source: i.source.to_string(),
                    measured: i.source.is_measured(),
                });
            }
            idles.push(idle);
        }

        let mut results = Vec::new();
        let mut skipped = Vec::new();
        for (opened, slot) in &engines {
            let engine = opened.engine.as_ref();
            if self.cancel.is_cancelled() {
                skipped.push(engine.name());
                continue;
            }
            let (device, selected) = &mut devices[*slot];
            progress(&Event::BackendStart {
                backend: engine.name(),
                warmup: self.config.warmup,
                total: self.config.warmup + self.config.seconds,
            });
            let meter = selected.as_mut().map(|s| s.meter.as_mut());
            let mut result = run_backend_until(
                engine,
                device,
                meter,
                idles[*slot].as_ref(),
                &self.config,
                &self.cancel,
                &mut |p| progress(&Event::Progress(*p)),
            )
            .map_err(|e| BenchError::Run {
                backend: engine.name(),
                source: Box::new(e),
            })?;
            if !self.cancel.is_cancelled() && self.cancel_samples > 0 {
                progress(&Event::CancelProbe);
                let samples = cancel_latency_samples(
                    engine,
                    self.cancel_samples,
                    self.cancel_probe,
                    CANCEL_SPREAD,
                )
                .map_err(|source| BenchError::CancelProbe {
                    backend: engine.name(),
                    source,
                })?;
                let latency = CancelLatency::of(&samples);
                result.cancel_latency_ms = latency.as_ref().map(|l| l.p50_ms);
                result.cancel_latency = latency;
            }
            result.device_memory_bytes = engine.device_memory_bytes();
            progress(&Event::StepEnd);
            results.push(result);
        }
        if self.cancel.is_cancelled() {
            let mut note = "bench cancelled: the last window ends where it was stopped".to_string();
            if !skipped.is_empty() {
                note.push_str(&format!("; not run: {}", skipped.join(", ")));
            }
            notes.push(note);
        }

        Ok(BenchReport {
            schema: SCHEMA.into(),
            machine,
            settings: BenchSettings {
                seconds: self.config.seconds.as_secs_f64(),
                warmup_seconds: self.config.warmup.as_secs_f64(),
                idle_seconds: self.idle.as_secs_f64(),
                meter: self.meter.to_string(),
            },
            idle: idle_reports,
            results,
            asic: AsicReference::default(),
            notes,
        })
    }
}

/// Whether wgpu finds any GPU adapter (false in a build without the GPU backend).
fn gpu_adapter_present() -> bool {
    #[cfg(feature = "gpu")]
    return !crate::gpu::adapter::adapters().is_empty();
    #[cfg(not(feature = "gpu"))]
    false
}

/// A step of a running [`Plan`], in the order they happen: for each device an
/// `IdleStart`, its `Progress`es and a `StepEnd`; then for each backend a
/// `BackendStart`, its `Progress`es, a `CancelProbe` and a `StepEnd`.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The idle power of `device` is being taken over `total`; `waits` is
    /// false when there is nothing to wait for (a model knows its idle power).
    IdleStart {
        /// The device.
        device: String,
        /// The planned idle time.
        total: Duration,
        /// Whether the step takes time.
        waits: bool,
    },
    /// A backend starts: `warmup`, then its measured window, `total` in all.
    BackendStart {
        /// The backend's name.
        backend: String,
        /// The unmeasured warmup (the window's progress starts after it).
        warmup: Duration,
        /// Warmup plus window.
        total: Duration,
    },
    /// Progress of the step in progress (its `done` counts from the phase's start).
    Progress(Progress),
    /// The backend's cancel latency is being probed.
    CancelProbe,
    /// The step in progress is over.
    StepEnd,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::Phase;
    use crate::energy::PowerOverride;
    use crate::sha256::CpuKernelKind;
    use crate::units::Watts;

    fn scalar_plan() -> Plan {
        Plan {
            engine: EngineOptions {
                threads: Some(1),
                ..EngineOptions::default()
            },
            meter: MeterKind::Mock,
            config: BenchConfig {
                seconds: Duration::from_millis(200),
                warmup: Duration::ZERO,
                interval: Duration::from_millis(100),
            },
            idle: Duration::from_secs(5),
            cancel_probe: Duration::from_millis(10),
            cancel_samples: 5,
            ..Plan::new(vec![BackendChoice::Kernel(CpuKernelKind::Scalar)])
        }
    }

    #[test]
    fn runs_idle_then_each_backend_and_assembles_the_report() {
        let mut events = Vec::new();
        let report = scalar_plan().run(&mut |e| events.push(e.clone())).unwrap();
        assert_eq!(report.schema, SCHEMA);
        assert_eq!(report.settings.meter, "mock");
        // The mock meter models its idle power: no waiting, no measuring.
        assert_eq!(report.idle.len(), 1);
        assert_eq!((report.idle[0].watts, report.idle[0].seconds), (20.0, 0.0));
        assert_eq!(report.results.len(), 1);
        let r = &report.results[0];
        assert_eq!((r.backend.as_str(), r.threads), ("scalar", 1));
        assert!(r.hashes > 0);
        let e = r.energy.as_ref().unwrap();
        assert!((e.watts - 100.0).abs() < 1e-9, "{}", e.watts);
        assert!(r.cancel_latency_ms.is_some());
        assert!(matches!(&events[0], Event::IdleStart { waits: false, .. }));
        assert_eq!(events[1], Event::StepEnd);
        assert!(matches!(&events[2], Event::BackendStart { backend, .. } if backend == "scalar"));
        let measured = events
            .iter()
            .filter(|e| matches!(e, Event::Progress(p) if p.phase == Phase::Measure))
            .count();
        assert_eq!(measured, 2);
        assert_eq!(events[events.len() - 2], Event::CancelProbe);
        assert_eq!(events[events.len() - 1], Event::StepEnd);
    }

    #[test]
    fn a_cancelled_plan_runs_nothing_and_says_so() {
        let plan = scalar_plan();
        plan.cancel.cancel();
        let report = plan.run(&mut |_| {}).unwrap();
        assert!(report.results.is_empty());
        assert!(
            report.notes.iter().any(|n| n.contains("not run: scalar")),
            "{:?}",
            report.notes
        );
    }

    #[test]
    fn power_figures_nothing_reads_are_errors() {
        let gpu_watts = Some(PowerOverride {
            idle: Watts(30.0),
            max: Watts(300.0),
        });
        let plan = Plan {
            meter_options: MeterOptions {
                gpu_watts,
                ..MeterOptions::default()
            },
            ..scalar_plan()
        };
        let err = plan.run(&mut |_| {}).unwrap_err();
        assert!(matches!(
            err,
            BenchError::PowerFigureIgnored {
                flag: "--gpu-watts",
                meter: MeterKind::Mock
            }
        ));
        let plan = Plan {
            meter: MeterKind::Auto,
            ..plan
        };
        let err = plan.run(&mut |_| {}).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--gpu-watts is not used: no GPU backend runs in this bench"
        );
    }
}
