//! [`GpuEngine`]: timed, double-buffered batches on a `GpuContext` (the crate-private device, pipeline and buffers).
//!
//! A search cuts the job into batches sized so that each takes about
//! [`GpuOptions::batch_time`] on the GPU, measured from the completion times of
//! earlier batches (the size carries over from one search to the next).
//!
//! Double buffering: batch N + 1 is submitted before batch N is read, so the
//! GPU does not wait on the host. It is submitted when [`QUEUE_AHEAD`] (half)
//! of batch N is left (an estimate from the measured rate; the wait is a timed
//! `device.poll`): half a batch covers the host's wake-up and submission
//! (tens of microseconds on a GPU, far more on a software adapter sharing the
//! CPUs) even when one batch runs much faster than the rate estimate, while
//! keeping the queued work to one batch.
//!
//! Cancellation: nothing new is queued once the token fires, and the batches
//! in flight are read, so no hit in the searched part is missing. Where the
//! stop flag is live (Vulkan, see `stop.rs`), [`CancelToken::cancel`] also
//! raises it at once: the kernel's workgroups claim the batch's nonces in
//! order through a counter and stop claiming, so the running batch ends after
//! the work already claimed and the queued one does nothing. The readback
//! says how much was claimed, so the search reports exactly the prefix it
//! covered. Elsewhere (and for a token's deadline) the batches in flight run
//! to their end: a cancel in the first half of a batch returns when that
//! batch ends, one in the second half also waits for the queued batch, so
//! about one batch time on average and 1.5 at worst plus the readback.
//! `hashwatt bench` measures the distribution (`cancel_latency`: p50, p99,
//! max).
//!
//! On a software adapter (lavapipe, llvmpipe) every workgroup is one task on a
//! pool of one thread per CPU, so batch sizes are whole multiples of that many
//! workgroups: an odd 39th workgroup would leave one of two CPUs idle at the
//! end of every batch.
//!
//! Every candidate is re-checked with [`Job::verify`]. A batch whose hit buffer
//! overflowed is searched again by a [`CpuEngine`] on every core with the best
//! CPU kernel, under the same cancel token (a cancel during that re-scan
//! counts only the nonces it covered).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::adapter::{self, Tuning};
use super::context::{GpuContext, GpuParams, MAX_BATCH, Pending, SLOTS};
use super::{GpuError, GpuOptions};
use crate::search::CpuEngine;
use crate::search::{
    CancelToken, Engine, EngineKind, Hit, Job, SearchError, SearchOutcome, SearchStats,
};
use crate::sha256::CpuKernel;

/// The allocator's block sizes: the engine's buffers take about 1 MiB at the
/// default hit capacity (two slots of a 160-byte uniform, a 256 KiB hit
/// buffer and its 256 KiB readback copy), so it asks
/// for the smallest blocks wgpu allows (4 MiB device, 4 MiB host) instead of
/// `Performance`'s 128 MiB device blocks on a GPU shared with AI work.
pub const MEMORY_HINTS: wgpu::MemoryHints = wgpu::MemoryHints::Manual {
    suballocated_device_memory_block_size: 4 << 20..8 << 20,
};

/// Nonces in the probe search of [`GpuEngine::measured_device_memory`].
pub const FOOTPRINT_PROBE_NONCES: u64 = 1 << 16;

/// Workgroups in the first batch an engine runs, before any timing is known.
const FIRST_BATCH_WORKGROUPS: u64 = 64;

/// The share of the running batch's expected time left when the next batch is
/// queued (see the module docs): smaller saves hand-back time, larger guards
/// against the GPU running dry when a batch is faster than its estimate.
pub const QUEUE_AHEAD: f64 = 0.5;

/// The GPU nonce-search engine (backend name `gpu`).
#[derive(Debug)]
pub struct GpuEngine {
    ctx: Mutex<GpuContext>,
    info: wgpu::AdapterInfo,
    batch_time: Duration,
    /// Every batch but a search's last is a multiple of this many nonces:
    /// whole workgroups, and on a software adapter whole rounds of its thread
    /// pool (see the module docs).
    batch_step: u64,
    /// Current batch size in nonces, adapted from measured batch times.
    batch_nonces: AtomicU64,
    /// Last measured rate in nonces per second (`f64` bits; 0: not yet measured).
    rate: AtomicU64,
    /// Whether the context's stop flag is live (fixed when it is built).
    stops_mid_batch: bool,
    /// Set by the device-lost callback when this engine owns the device.
    lost: Arc<Mutex<Option<String>>>,
    /// The CPU engine that searches a batch again when its hit buffer
    /// overflowed, started on first use.
    overflow: OnceLock<CpuEngine>,
}

impl GpuEngine {
    /// The device memory this engine's allocator has reserved once it has
    /// searched, in bytes: runs one small search ([`FOOTPRINT_PROBE_NONCES`]
    /// nonces of an all-zero header against target 0, which no hash meets) so
    /// the pipeline, every buffer slot and the readback have been used, then
    /// reads wgpu's allocator report — the figure `hashwatt bench` records as
    /// `device_memory_bytes` after its run. `Ok(None)` where the wgpu backend
    /// gives no allocator report.
    ///
    /// # Errors
    /// [`SearchError`] when the probe search fails (e.g. a lost device).
    pub fn measured_device_memory(&self) -> Result<Option<u64>, SearchError> {
        let header = crate::header::Header::from_bytes(&[0; crate::header::Header::SIZE]);
        let target = crate::pow::Target::from_le_bytes([0; 32]);
        let job = Job::new(header, 0, FOOTPRINT_PROBE_NONCES, target)?;
        self.search(&job, &CancelToken::new())?;
        Ok(self.device_memory_bytes())
    }

    /// Opens the adapter named by `options.adapter` (the best one if `None`).
    ///
    /// # Errors
    /// [`GpuError::NoAdapter`], [`GpuError::AdapterNotFound`],
    /// [`GpuError::RequestDevice`], or a pipeline build error.
    pub fn open(options: &GpuOptions) -> Result<GpuEngine, GpuError> {
        options.validate()?;
        adapter::check_env()?;
        let instance = adapter::instance();
        let adapters = adapter::enumerate(&instance);
        let chosen = adapter::select(&adapters, options.adapter.as_deref())?;
        Self::with_adapter(&chosen, options)
    }

    /// Opens a device on `adapter`.
    ///
    /// # Errors
    /// [`GpuError::RequestDevice`] or a pipeline build error.
    pub fn with_adapter(
        adapter: &wgpu::Adapter,
        options: &GpuOptions,
    ) -> Result<GpuEngine, GpuError> {
        options.validate()?;
        let info = adapter.get_info();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("hashwatt"),
            required_features: wgpu::Features::empty(),
            required_limits: adapter.limits(),
            memory_hints: MEMORY_HINTS,
            ..Default::default()
        }))
        .map_err(|e| GpuError::RequestDevice {
            adapter: info.name.clone(),
            reason: e.to_string(),
        })?;
        // Errors outside an error scope would panic in wgpu's default handler;
        // every call here is scoped, and this records anything that escapes.
        let lost: Arc<Mutex<Option<String>>> = Arc::default();
        let sink = Arc::clone(&lost);
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            if let Ok(mut slot) = sink.lock() {
                slot.get_or_insert_with(|| e.to_string());
            }
        }));
        let sink = Arc::clone(&lost);
        device.set_device_lost_callback(move |reason, message| {
            if let Ok(mut slot) = sink.lock() {
                slot.get_or_insert_with(|| format!("{reason:?}: {message}"));
            }
        });
        let mut engine = Self::from_device(&device, &queue, info, options)?;
        engine.lost = lost;
        Ok(engine)
    }

    /// Builds an engine on an existing device and queue: the seam tests use
    /// to inject an adapter. `info` describes the adapter (for tuning and
    /// [`Engine::device`]). The caller's uncaptured-error handler is left alone;
    /// the engine scopes all its own calls.
    ///
    /// # Errors
    /// [`GpuError::InvalidOption`] or a pipeline build error.
    pub fn from_device(
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        info: wgpu::AdapterInfo,
        options: &GpuOptions,
    ) -> Result<GpuEngine, GpuError> {
        options.validate()?;
        let limits = device.limits();
        let max_workgroup = limits
            .max_compute_workgroup_size_x
            .min(limits.max_compute_invocations_per_workgroup);
        if let Some(n) = options.workgroup_size
            && n > max_workgroup
        {
            return Err(GpuError::InvalidOption {
                name: "workgroup_size",
                value: n.to_string(),
                expected: format!("1 ..= {max_workgroup} on {}", info.name),
            });
        }
        let default = Tuning::for_adapter(&info, &limits);
        let tuning = Tuning {
            workgroup_size: options.workgroup_size.unwrap_or(default.workgroup_size),
            nonces_per_invocation: options
                .nonces_per_invocation
                .unwrap_or(default.nonces_per_invocation),
            ..default
        };
        let ctx = GpuContext::new(
            device,
            queue,
            tuning,
            options.hit_capacity,
            options.trusted_shader,
        )?;
        let batch_step = ctx.tuning().nonces_per_workgroup() * workgroups_per_round(&info);
        let stops_mid_batch = ctx.stop().is_live();
        let batch_time =
            options
                .batch_time
                .unwrap_or(if adapter::is_software(&info) && stops_mid_batch {
                    super::SOFTWARE_BATCH_TIME
                } else {
                    super::DEFAULT_BATCH_TIME
                });
        let first = (ctx.tuning().nonces_per_workgroup() * FIRST_BATCH_WORKGROUPS)
            .next_multiple_of(batch_step);
        Ok(GpuEngine {
            ctx: Mutex::new(ctx),
            info,
            batch_time,
            stops_mid_batch,
            batch_step,
            batch_nonces: AtomicU64::new(first),
            rate: AtomicU64::new(0),
            lost: Arc::default(),
            overflow: OnceLock::new(),
        })
    }

    /// The adapter this engine runs on.
    pub fn adapter_info(&self) -> &wgpu::AdapterInfo {
        &self.info
    }

    /// The kernel tuning in use.
    ///
    /// # Errors
    /// [`GpuError::Poisoned`] if a search panicked while holding the context.
    pub fn tuning(&self) -> Result<Tuning, GpuError> {
        Ok(self.ctx.lock().map_err(|_| GpuError::Poisoned)?.tuning())
    }

    /// The target GPU time per batch: the option, or the adapter's default
    /// (see [`GpuOptions::batch_time`]).
    pub fn batch_time(&self) -> Duration {
        self.batch_time
    }

    /// The granularity of batch sizes in nonces: whole workgroups, and on a
    /// software adapter whole rounds of its thread pool (see the module docs).
    pub fn batch_step(&self) -> u64 {
        self.batch_step
    }

    /// Whether a cancel stops the batches in flight from inside the kernel
    /// (the Vulkan stop flag), so the hand-back does not wait for them to end.
    pub fn stops_mid_batch(&self) -> bool {
        self.stops_mid_batch
    }

    /// The current batch size in nonces (adapted to [`GpuOptions::batch_time`]).
    pub fn batch_nonces(&self) -> u64 {
        self.batch_nonces.load(Ordering::Relaxed)
    }

    /// The CPU engine for overflowed batches (started on first use).
    fn overflow_engine(&self) -> Result<&CpuEngine, GpuError> {
        if let Some(engine) = self.overflow.get() {
            return Ok(engine);
        }
        let engine = CpuEngine::new(CpuKernel::best(), None).map_err(|e| GpuError::Rescan {
            reason: e.to_string(),
        })?;
        Ok(self.overflow.get_or_init(|| engine))
    }

    fn check_lost(&self) -> Result<(), GpuError> {
        match self.lost.lock() {
            Ok(slot) => match slot.as_ref() {
                Some(reason) => Err(GpuError::DeviceLost {
                    reason: reason.clone(),
                }),
                None => Ok(()),
            },
            Err(_) => Err(GpuError::Poisoned),
        }
    }

    /// Records a measured batch (`nonces` in `elapsed`) and returns the new
    /// batch size (see [`next_batch`]).
    fn adapt(&self, current: u64, nonces: u64, elapsed: Duration) -> u64 {
        let rate = nonces as f64 / elapsed.as_secs_f64().max(1e-6);
        self.rate.store(rate.to_bits(), Ordering::Relaxed);
        next_batch(rate, self.batch_time, current, self.batch_step)
    }

    /// Expected GPU time for `nonces`, once a rate has been measured.
    fn expected(&self, nonces: u32) -> Option<Duration> {
        let rate = f64::from_bits(self.rate.load(Ordering::Relaxed));
        (rate > 0.0).then(|| Duration::from_secs_f64(f64::from(nonces) / rate))
    }

    /// Searches `job`, whose range ends before `end` (checked by the caller).
    fn run(&self, job: &Job, end: u64, cancel: &CancelToken) -> Result<SearchOutcome, GpuError> {
        let started = Instant::now();
        let ctx = self.ctx.lock().map_err(|_| GpuError::Poisoned)?;
        self.check_lost()?;
        let pre = job.precomp();
        // No batch of an earlier search is in flight: clear the stop flag,
        // and raise it the moment this search is cancelled.
        let stop = ctx.stop().clone();
        stop.set(false);
        let _hook = cancel.on_cancel(Arc::new(move || stop.set(true)));
        let nonces_per_claim = ctx.tuning().nonces_per_claim();

        let mut search = Search {
            ctx: &ctx,
            params: GpuParams::new(&pre),
            in_flight: VecDeque::with_capacity(SLOTS),
            next: u64::from(job.start),
            end,
            seq: 0,
        };
        let mut hits: Vec<Hit> = Vec::new();
        let mut hashes = 0u64;
        let mut last_done: Option<Instant> = None;

        let result = (|| -> Result<(), GpuError> {
            loop {
                if search.in_flight.is_empty() {
                    if search.next >= end || cancel.is_cancelled() {
                        return Ok(());
                    }
                    search.submit(self.batch_nonces())?;
                }
                // Double buffering: queue the next batch before reading this
                // one, so the GPU never waits on the host. It is queued when
                // QUEUE_AHEAD of the running batch is left, so that a
                // cancellation in the first half stops after the running
                // batch alone (see the module docs).
                if search.in_flight.len() < SLOTS && search.next < end && !cancel.is_cancelled() {
                    let head = &search.in_flight[0];
                    let ran_from = last_done.map_or(head.submitted, |t| t.max(head.submitted));
                    if let Some(expected) = self.expected(head.n) {
                        let queue_at = ran_from + expected.mul_f64(1.0 - QUEUE_AHEAD);
                        let now = Instant::now();
                        if queue_at > now {
                            ctx.wait(&head.pending, queue_at - now)?;
                        }
                    }
                    if !cancel.is_cancelled() {
                        search.submit(self.batch_nonces())?;
                    }
                }
                let Some(batch) = search.in_flight.pop_front() else {
                    return Ok(());
                };
                let readback = ctx.collect(batch.pending)?;
                let done = Instant::now();
                self.check_lost()?;

                // The GPU ran this batch from when the previous one finished
                // (or from its submission, if the queue was idle).
                let ran_from = last_done.map_or(batch.submitted, |t| t.max(batch.submitted));
                last_done = Some(done);
                // The part searched: all of it, or the chunks claimed before
                // the kernel saw the stop flag.
                let covered =
                    (u64::from(readback.claimed) * nonces_per_claim).min(u64::from(batch.n));
                let size = self.batch_nonces();
                if covered == u64::from(batch.n) && covered * 2 >= size {
                    let ran = done.saturating_duration_since(ran_from);
                    let adapted = self.adapt(size, covered, ran);
                    self.batch_nonces.store(adapted, Ordering::Relaxed);
                }

                let range = batch.lo..batch.lo + covered;
                if covered == 0 {
                    continue;
                }
                if readback.overflowed() {
                    // More candidates than the buffer holds: search this batch
                    // again with the CPU engine (every core, best kernel),
                    // which honours the cancel token too.
                    let rescan = Job {
                        start: batch.lo as u32,
                        count: covered,
                        ..*job
                    };
                    let outcome = self
                        .overflow_engine()?
                        .search(&rescan, cancel)
                        .map_err(|e| GpuError::Rescan {
                            reason: e.to_string(),
                        })?;
                    hits.extend(outcome.hits);
                    hashes += outcome.stats.hashes;
                } else {
                    hits.extend(
                        readback
                            .nonces
                            .iter()
                            .filter(|&&n| range.contains(&u64::from(n)))
                            .filter_map(|&n| job.verify(n)),
                    );
                    hashes += covered;
                }
            }
        })();
        if let Err(e) = result {
            // Leave no readback buffer mapped or pending for the next search.
            for batch in search.in_flight.drain(..) {
                let _ = ctx.collect(batch.pending);
            }
            return Err(e);
        }
        hits.sort_unstable_by_key(|h| h.nonce);
        hits.dedup_by_key(|h| h.nonce);
        Ok(SearchOutcome {
            hits,
            stats: SearchStats {
                hashes,
                elapsed: started.elapsed(),
                cancelled: hashes < job.count,
            },
        })
    }
}

/// The batch size that takes `batch_time` at `rate` nonces per second, moving
/// at most 4x from `current`, a whole multiple of `step` (at least one) and
/// within [`MAX_BATCH`].
fn next_batch(rate: f64, batch_time: Duration, current: u64, step: u64) -> u64 {
    let step = step.max(1);
    let ideal = rate * batch_time.as_secs_f64();
    let next = (ideal as u64).clamp(current / 4, current.saturating_mul(4));
    (next / step)
        .max(1)
        .saturating_mul(step)
        .min((MAX_BATCH / step).max(1) * step)
        .min(MAX_BATCH)
}

/// Workgroups the adapter runs at once, as far as batch sizing needs to know:
/// a software adapter runs one per CPU thread, a GPU so many that a batch's
/// last partial wave is noise.
fn workgroups_per_round(info: &wgpu::AdapterInfo) -> u64 {
    if adapter::is_software(info) {
        std::thread::available_parallelism().map_or(1, |n| n.get() as u64)
    } else {
        1
    }
}

/// A batch on the GPU.
struct Batch {
    lo: u64,
    n: u32,
    submitted: Instant,
    pending: Pending,
}

/// The submission side of one search.
struct Search<'a> {
    ctx: &'a GpuContext,
    params: GpuParams,
    in_flight: VecDeque<Batch>,
    next: u64,
    end: u64,
    seq: usize,
}

impl Search<'_> {
    /// Queues the next batch of up to `size` nonces.
    fn submit(&mut self, size: u64) -> Result<(), GpuError> {
        let n = size.min(self.end - self.next).min(MAX_BATCH) as u32;
        self.params.base = self.next as u32;
        self.params.count = n;
        let pending = self.ctx.submit(self.seq, &self.params)?;
        self.seq = self.seq.wrapping_add(1);
        self.in_flight.push_back(Batch {
            lo: self.next,
            n,
            submitted: Instant::now(),
            pending,
        });
        self.next += u64::from(n);
        Ok(())
    }
}

impl Engine for GpuEngine {
    fn name(&self) -> String {
        "gpu".to_string()
    }

    fn kind(&self) -> EngineKind {
        EngineKind::Gpu
    }

    fn threads(&self) -> usize {
        1
    }

    fn device(&self) -> String {
        self.info.name.clone()
    }

    fn search(&self, job: &Job, cancel: &CancelToken) -> Result<SearchOutcome, SearchError> {
        let end = job.end()?;
        Ok(self.run(job, end, cancel)?)
    }

    fn pci_bus_id(&self) -> Option<String> {
        let id = self.info.device_pci_bus_id.trim();
        (!id.is_empty()).then(|| id.to_string())
    }

    fn device_memory_bytes(&self) -> Option<u64> {
        let ctx = self.ctx.lock().ok()?;
        ctx.device()
            .generate_allocator_report()
            .map(|r| r.total_reserved_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn batches_take_the_batch_time_in_whole_steps() {
        // 40 MH/s for 4 ms is 160,000 nonces; steps of 8,192 (4,096-nonce
        // workgroups on two threads) round that down to 19 steps.
        assert_eq!(next_batch(40e6, 4 * MS, 155_648, 8_192), 155_648);
        assert_eq!(next_batch(40e6, 4 * MS, 155_648, 8_192) % 8_192, 0);
        // One whole step at least, however slow the batch was.
        assert_eq!(next_batch(1.0, 4 * MS, 8_192, 8_192), 8_192);
        assert_eq!(next_batch(0.0, 4 * MS, 100, 0), 25);
    }

    #[test]
    fn batches_move_at_most_fourfold() {
        assert_eq!(next_batch(1e12, 4 * MS, 1_000, 10), 4_000);
        assert_eq!(next_batch(1.0, 4 * MS, 1_000_000, 10), 250_000);
    }

    #[test]
    fn batches_stay_within_the_kernel_limit() {
        let huge = next_batch(1e15, 20 * MS, MAX_BATCH, 3 * 1024);
        assert!(huge <= MAX_BATCH && huge.is_multiple_of(3 * 1024), "{huge}");
        // A step larger than the limit gives the limit (a partial workgroup).
        assert_eq!(
            next_batch(1e15, 20 * MS, MAX_BATCH, MAX_BATCH * 2),
            MAX_BATCH
        );
    }
}
