//! Running engines and meters: idle power, warmup, time-sliced measurement,
//! cancel latency.

use std::time::{Duration, Instant};

use super::{
    AsicReference, BenchResult, EnergyReport, IntervalHashrate, synthetic_header,
    unreachable_target,
};
use crate::backend::BackendError;
use crate::energy::{Device, EnergyError, EnergySource, MeterKind, PowerMeter, Window};
use crate::search::{CancelToken, Engine, Job, SearchError};
use crate::units::Watts;

/// Errors from a bench run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BenchError {
    /// The engine failed.
    #[error(transparent)]
    Search(#[from] SearchError),
    /// The meter failed, or the meter asked for cannot measure a device.
    #[error(transparent)]
    Energy(#[from] EnergyError),
    /// A backend of a [`Plan`](super::plan::Plan) could not be opened.
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// A backend's run failed.
    #[error("benchmarking backend {backend}")]
    Run {
        /// The backend.
        backend: String,
        /// What failed.
        #[source]
        source: Box<BenchError>,
    },
    /// A backend's cancel-latency probe failed.
    #[error("measuring the cancel latency of {backend}")]
    CancelProbe {
        /// The backend.
        backend: String,
        /// What failed.
        #[source]
        source: SearchError,
    },
    /// A power-model figure given to a meter that does not read it.
    #[error(
        "{flag} sets the power model's figures, which --meter {meter} does not use \
         (use --meter modeled, or auto)"
    )]
    PowerFigureIgnored {
        /// The figure (`--cpu-watts`, `--gpu-watts`).
        flag: &'static str,
        /// The meter asked for.
        meter: MeterKind,
    },
    /// A power-model figure for a kind of device no backend of the plan runs on.
    #[error("{flag} is not used: no {kind} backend runs in this bench")]
    PowerFigureUnused {
        /// The figure (`--cpu-watts`, `--gpu-watts`).
        flag: &'static str,
        /// `CPU` or `GPU`.
        kind: &'static str,
    },
}

/// How long to run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BenchConfig {
    /// The measured window per backend.
    pub seconds: Duration,
    /// Unmeasured run before it (clocks, caches, thread pools).
    pub warmup: Duration,
    /// Target length of one interval; the window is split into equal intervals
    /// of about this length (at least one).
    pub interval: Duration,
}

impl Default for BenchConfig {
    fn default() -> Self {
        BenchConfig {
            seconds: Duration::from_secs(3),
            warmup: Duration::from_millis(500),
            interval: Duration::from_secs(1),
        }
    }
}

/// A device's idle power.
#[derive(Clone, Debug, PartialEq)]
pub struct Idle {
    /// Average power while idle.
    pub watts: Watts,
    /// Length of the measurement (zero for a model).
    pub elapsed: Duration,
    /// Its provenance.
    pub source: EnergySource,
}

/// Which part of a run is going on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Idle power measurement.
    Idle,
    /// Warmup, not measured.
    Warmup,
    /// The measured window.
    Measure,
}

/// Progress of a phase, reported after each interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Progress {
    /// The phase.
    pub phase: Phase,
    /// Time spent in it.
    pub done: Duration,
    /// Its planned length.
    pub total: Duration,
    /// Hashes per second of the last interval (0 when idle).
    pub hashrate: f64,
}

/// The idle power of the device `meter` measures: the meter's own figure if
/// it has one (models), else a measurement over `duration` (`None` for a zero duration).
///
/// # Errors
/// [`EnergyError`] when the meter cannot be read.
pub fn measure_idle(
    meter: &mut dyn PowerMeter,
    duration: Duration,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Option<Idle>, EnergyError> {
    measure_idle_until(meter, duration, &CancelToken::new(), progress)
}

/// [`measure_idle`] that also stops early (keeping the part measured) when
/// `cancel` fires.
pub(crate) fn measure_idle_until(
    meter: &mut dyn PowerMeter,
    duration: Duration,
    cancel: &CancelToken,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Option<Idle>, EnergyError> {
    if let Some(watts) = meter.idle_power() {
        return Ok(Some(Idle {
            watts,
            elapsed: Duration::ZERO,
            source: meter.source(),
        }));
    }
    if duration.is_zero() {
        return Ok(None);
    }
    let started = Instant::now();
    meter.start()?;
    loop {
        let done = started.elapsed();
        progress(&Progress {
            phase: Phase::Idle,
            done,
            total: duration,
            hashrate: 0.0,
        });
        if done >= duration || cancel.is_cancelled() {
            break;
        }
        std::thread::sleep((duration - done).min(Duration::from_millis(250)));
        meter.sample()?;
    }
    let elapsed = started.elapsed();
    let joules = meter.stop(Window {
        elapsed,
        utilization: 0.0,
    })?;
    Ok(joules.per(elapsed).map(|watts| Idle {
        watts,
        elapsed,
        source: meter.source(),
    }))
}

/// Runs the synthetic job on `engine` until `deadline`, changing the header
/// whenever a full nonce range is done. Returns the hashes done.
fn hash_until(
    engine: &dyn Engine,
    header: &mut crate::header::Header,
    deadline: Instant,
    cancel: &CancelToken,
) -> Result<u64, SearchError> {
    let token = cancel.child_with_deadline(deadline);
    let target = unreachable_target();
    let mut hashes = 0;
    loop {
        let outcome = engine.search(&Job::full_range(*header, target), &token)?;
        hashes += outcome.stats.hashes;
        header.time = header.time.wrapping_add(1);
        if token.is_cancelled() {
            return Ok(hashes);
        }
    }
}

/// Runs `engine` for `total` in equal intervals (fewer when `cancel` fires);
/// returns (hashes, per-interval rates, elapsed).
#[allow(clippy::too_many_arguments)]
fn run_phase<'m>(
    engine: &dyn Engine,
    header: &mut crate::header::Header,
    cancel: &CancelToken,
    phase: Phase,
    total: Duration,
    interval: Duration,
    mut meter: Option<&mut (dyn PowerMeter + 'm)>,
    progress: &mut dyn FnMut(&Progress),
) -> Result<(u64, Vec<f64>, Duration), BenchError> {
    let n = (total.as_secs_f64() / interval.as_secs_f64().max(1e-3))
        .round()
        .max(1.0) as u32;
    let slice = total / n;
    let started = Instant::now();
    let mut hashes = 0;
    let mut rates = Vec::with_capacity(n as usize);
    let mut slice_start = started;
    for i in 1..=n {
        let h = hash_until(engine, header, started + slice * i, cancel)?;
        let now = Instant::now();
        let rate = h as f64 / (now - slice_start).as_secs_f64().max(1e-9);
        slice_start = now;
        hashes += h;
        rates.push(rate);
        if let Some(m) = meter.as_deref_mut() {
            m.sample()?;
        }
        progress(&Progress {
            phase,
            done: now - started,
            total,
            hashrate: rate,
        });
        if cancel.is_cancelled() {
            break;
        }
    }
    Ok((hashes, rates, started.elapsed()))
}

/// Warms `engine` up, then measures its hashrate and, with a meter, its
/// energy over `config.seconds`; fills every field of [`BenchResult`] except
/// `cancel_latency_ms` (see [`cancel_latency`]).
///
/// # Errors
/// [`BenchError`] when the engine or the meter fails.
pub fn run_backend(
    engine: &dyn Engine,
    device: &Device,
    meter: Option<&mut (dyn PowerMeter + '_)>,
    idle: Option<&Idle>,
    config: &BenchConfig,
    progress: &mut dyn FnMut(&Progress),
) -> Result<BenchResult, BenchError> {
    run_backend_until(
        engine,
        device,
        meter,
        idle,
        config,
        &CancelToken::new(),
        progress,
    )
}

/// [`run_backend`] that stops early when `cancel` fires: the window then
/// ends at the slice in progress, and the result covers the part measured.
pub(crate) fn run_backend_until(
    engine: &dyn Engine,
    device: &Device,
    mut meter: Option<&mut (dyn PowerMeter + '_)>,
    idle: Option<&Idle>,
    config: &BenchConfig,
    cancel: &CancelToken,
    progress: &mut dyn FnMut(&Progress),
) -> Result<BenchResult, BenchError> {
    let mut header = synthetic_header();
    if !config.warmup.is_zero() {
        run_phase(
            engine,
            &mut header,
            cancel,
            Phase::Warmup,
            config.warmup,
            config.interval,
            None,
            progress,
        )?;
    }
    if let Some(m) = meter.as_deref_mut() {
        m.start()?;
    }
    let (hashes, rates, elapsed) = run_phase(
        engine,
        &mut header,
        cancel,
        Phase::Measure,
        config.seconds,
        config.interval,
        meter.as_deref_mut(),
        progress,
    )?;
    let seconds = elapsed.as_secs_f64();
    let mut result = BenchResult {
        warmup_seconds: config.warmup.as_secs_f64(),
        interval_hashrate: IntervalHashrate::of(&rates),
        ..BenchResult::timing(
            engine.name(),
            engine.threads(),
            hashes,
            seconds,
            engine.device(),
        )
    };
    if let Some(m) = meter {
        let joules = m.stop(Window {
            elapsed,
            utilization: device.utilization(engine.threads()),
        })?;
        let source = m.source();
        let idle_watts = idle.map(|i| i.watts.0);
        let energy = EnergyReport {
            joules: joules.0,
            watts: joules.0 / seconds,
            net_joules: idle_watts.map(|w| joules.0 - w * seconds),
            idle_watts,
            source: source.to_string(),
            measured: source.is_measured(),
        };
        fill_efficiency(&mut result, energy, &AsicReference::default());
    }
    Ok(result)
}

/// Sets the energy of `result` and the figures derived from it.
pub fn fill_efficiency(result: &mut BenchResult, energy: EnergyReport, asic: &AsicReference) {
    let per_joule = |j: f64| (j > 0.0).then(|| result.hashes as f64 / j);
    let per_th = |j: f64| (result.hashes > 0 && j > 0.0).then(|| j * 1e12 / result.hashes as f64);
    result.hashes_per_joule = per_joule(energy.joules);
    result.joules_per_terahash = per_th(energy.joules);
    result.net_hashes_per_joule = energy.net_joules.and_then(per_joule);
    result.net_joules_per_terahash = energy.net_joules.and_then(per_th);
    result.times_less_efficient_than_asic = result
        .joules_per_terahash
        .map(|jth| jth / asic.joules_per_terahash);
    result.energy = Some(energy);
}

/// How long `engine` takes to stop: starts a full-range search on another
/// thread, cancels it after `run_for`, and times `cancel()` to `search` returning.
///
/// # Errors
/// [`SearchError`] when the search fails.
pub fn cancel_latency(engine: &dyn Engine, run_for: Duration) -> Result<Duration, SearchError> {
    let token = CancelToken::new();
    let job = Job::full_range(synthetic_header(), unreachable_target());
    std::thread::scope(|scope| {
        let searcher = scope.spawn(|| {
            let outcome = engine.search(&job, &token);
            (outcome, Instant::now())
        });
        std::thread::sleep(run_for);
        let cancelled_at = Instant::now();
        token.cancel();
        let (outcome, returned_at) = searcher
            .join()
            .map_err(|_| SearchError::backend(engine.name(), "the search thread panicked"))?;
        outcome?;
        Ok(returned_at.saturating_duration_since(cancelled_at))
    })
}

/// Cancels measured per backend by `hashwatt bench` by default: 100, so the
/// nearest-rank p99 is the second-largest sample rather than the largest
/// (one preempted sample on a busy host shows in `max`, not in `p99`).
pub const CANCEL_SAMPLES: usize = 100;

/// The cancel latency of `engine` at `samples` random points: each search runs
/// for `min_run` plus a uniformly random part of `spread` (so the cancel falls
/// anywhere in a batch or chunk) before it is cancelled.
///
/// # Errors
/// [`SearchError`] when a search fails.
pub fn cancel_latency_samples(
    engine: &dyn Engine,
    samples: usize,
    min_run: Duration,
    spread: Duration,
) -> Result<Vec<Duration>, SearchError> {
    // splitmix64 seeded from the clock: a different set of points each run.
    let mut state = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0x9e37_79b9, |d| d.as_nanos() as u64);
    let mut next = move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    (0..samples)
        .map(|_| {
            let share = (next() >> 11) as f64 / (1u64 << 53) as f64;
            cancel_latency(engine, min_run + spread.mul_f64(share))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::energy::MockMeter;
    use crate::search::CpuEngine;
    use crate::sha256::CpuKernel;
    use crate::units::Joules;

    #[test]
    fn efficiency_arithmetic() {
        let mut r = run_stub(2_000_000_000, 2.0);
        let energy = EnergyReport {
            joules: 200.0,
            watts: 100.0,
            net_joules: Some(160.0),
            idle_watts: Some(20.0),
            source: "modeled: x".into(),
            measured: false,
        };
        fill_efficiency(&mut r, energy, &AsicReference::default());
        assert_eq!(r.hashes_per_joule, Some(1e7));
        // 200 J for 2e9 hashes = 0.002 TH: 1e5 J/TH.
        assert_eq!(r.joules_per_terahash, Some(1e5));
        assert_eq!(r.net_hashes_per_joule, Some(1.25e7));
        assert_eq!(r.net_joules_per_terahash, Some(8e4));
        assert_eq!(r.times_less_efficient_than_asic, Some(1e5 / 13.5));
    }

    fn run_stub(hashes: u64, seconds: f64) -> BenchResult {
        BenchResult::timing("scalar".into(), 1, hashes, seconds, "cpu".into())
    }

    #[test]
    fn idle_with_zero_seconds_and_no_model_is_unknown() {
        struct Counter;
        impl PowerMeter for Counter {
            fn source(&self) -> EnergySource {
                EnergySource::Measured { source: "c".into() }
            }
            fn start(&mut self) -> Result<(), EnergyError> {
                Ok(())
            }
            fn stop(&mut self, w: Window) -> Result<Joules, EnergyError> {
                Ok(Watts(7.0).over(w.elapsed))
            }
        }
        assert_eq!(
            measure_idle(&mut Counter, Duration::ZERO, &mut |_| {}).unwrap(),
            None
        );
        let idle = measure_idle(&mut Counter, Duration::from_millis(30), &mut |_| {})
            .unwrap()
            .unwrap();
        assert!((idle.watts.0 - 7.0).abs() < 1e-9);
        assert!(idle.elapsed >= Duration::from_millis(30));
        let mut mock = MockMeter::new(Watts(3.0), Watts(9.0));
        let idle = measure_idle(&mut mock, Duration::from_secs(100), &mut |_| {})
            .unwrap()
            .unwrap();
        assert_eq!((idle.watts, idle.elapsed), (Watts(3.0), Duration::ZERO));
    }

    #[test]
    fn sliced_run_with_mock_meter() {
        let engine = CpuEngine::new(CpuKernel::scalar(), Some(1)).unwrap();
        let device = Device::Cpu {
            model: "test".into(),
            logical_cpus: 2,
        };
        let mut meter = MockMeter::new(Watts(20.0), Watts(100.0));
        let idle = Idle {
            watts: Watts(20.0),
            elapsed: Duration::ZERO,
            source: meter.source(),
        };
        let config = BenchConfig {
            seconds: Duration::from_millis(300),
            warmup: Duration::ZERO,
            interval: Duration::from_millis(100),
        };
        let mut phases = Vec::new();
        let r = run_backend(
            &engine,
            &device,
            Some(&mut meter),
            Some(&idle),
            &config,
            &mut |p| phases.push(p.phase),
        )
        .unwrap();
        assert_eq!(phases, vec![Phase::Measure; 3]);
        assert_eq!(r.interval_hashrate.unwrap().intervals, 3);
        assert!(r.hashes > 0 && r.seconds >= 0.3);
        let e = r.energy.unwrap();
        assert!((e.watts - 100.0).abs() < 1e-9, "{}", e.watts);
        assert_eq!(e.joules, 100.0 * r.seconds);
        assert_eq!(e.net_joules, Some(e.joules - 20.0 * r.seconds));
        assert!(!e.measured);
    }

    #[test]
    fn cancel_latency_distribution_has_every_sample() {
        let engine = CpuEngine::new(CpuKernel::scalar(), Some(1)).unwrap();
        let samples = cancel_latency_samples(
            &engine,
            20,
            Duration::from_millis(2),
            Duration::from_millis(5),
        )
        .unwrap();
        assert_eq!(samples.len(), 20);
        let d = crate::bench::CancelLatency::of(&samples).unwrap();
        assert_eq!(d.samples, 20);
        assert!(d.p50_ms <= d.p99_ms && d.p99_ms <= d.max_ms, "{d:?}");
        assert!(d.max_ms < 1000.0, "{d:?}");
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let ms = |v: &[u64]| {
            v.iter()
                .map(|&m| Duration::from_millis(m))
                .collect::<Vec<_>>()
        };
        let d = crate::bench::CancelLatency::of(&ms(&[5, 1, 4, 2, 3])).unwrap();
        assert_eq!(
            (d.p50_ms, d.p99_ms, d.max_ms, d.mean_ms),
            (3.0, 5.0, 5.0, 3.0)
        );
        let hundred: Vec<u64> = (1..=100).collect();
        let d = crate::bench::CancelLatency::of(&ms(&hundred)).unwrap();
        assert_eq!((d.p50_ms, d.p99_ms, d.max_ms), (50.0, 99.0, 100.0));
        assert!(crate::bench::CancelLatency::of(&[]).is_none());
    }

    #[test]
    fn cancel_latency_is_short_for_the_cpu_engine() {
        let engine = CpuEngine::new(CpuKernel::scalar(), Some(1)).unwrap();
        let latency = cancel_latency(&engine, Duration::from_millis(20)).unwrap();
        // One chunk of 2^14 nonces on one scalar core: milliseconds, not seconds.
        assert!(latency < Duration::from_secs(1), "{latency:?}");
    }
}
