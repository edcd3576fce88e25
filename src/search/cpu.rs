//! The multi-core CPU engine: a rayon pool running one [`CpuKernel`] on every core.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use rayon::prelude::*;

use super::{CancelToken, Engine, EngineKind, Hit, Job, SearchError, SearchOutcome, SearchStats};
use crate::sha256::CpuKernel;

/// Nonces per work item. Cancellation is checked between items, so this bounds
/// the time to stop (about 7 ms on one scalar core, under 1 ms with a SIMD
/// kernel) while keeping the per-item overhead (a few microseconds) under 1%.
/// A multiple of every kernel's lane count, so only a job's last item has a
/// lane tail, which the kernels mask themselves.
pub const CHUNK: u32 = 1 << 14;
const _: () = assert!(
    CHUNK.is_multiple_of(16),
    "CHUNK must be a multiple of every kernel's lanes"
);

/// Searches a nonce range with a CPU kernel on a rayon thread pool.
#[derive(Debug)]
pub struct CpuEngine {
    kernel: CpuKernel,
    pool: rayon::ThreadPool,
}

impl CpuEngine {
    /// An engine running `kernel` on `threads` workers (`None`: one per core).
    ///
    /// # Errors
    /// [`SearchError::ThreadPool`] if the threads cannot be started.
    pub fn new(kernel: CpuKernel, threads: Option<usize>) -> Result<Self, SearchError> {
        let threads = threads.unwrap_or_else(crate::platform::logical_cpus);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("hashwatt-cpu-{i}"))
            .build()
            .map_err(|e| SearchError::ThreadPool {
                threads,
                reason: e.to_string(),
            })?;
        Ok(CpuEngine { kernel, pool })
    }

    /// The kernel this engine runs.
    pub fn kernel(&self) -> CpuKernel {
        self.kernel
    }
}

impl Engine for CpuEngine {
    fn name(&self) -> String {
        self.kernel.name().to_string()
    }

    fn kind(&self) -> EngineKind {
        EngineKind::Cpu
    }

    fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }

    fn device(&self) -> String {
        crate::platform::cpu_model()
    }

    fn search(&self, job: &Job, cancel: &CancelToken) -> Result<SearchOutcome, SearchError> {
        let end = job.end()?;
        let started = Instant::now();
        let pre = job.precomp();
        let chunks = (end - u64::from(job.start)).div_ceil(u64::from(CHUNK));
        let hashes = AtomicU64::new(0);
        let kernel = self.kernel;

        let mut hits: Vec<Hit> = self.pool.install(|| {
            (0..chunks)
                .into_par_iter()
                .map_init(Vec::new, |candidates, i| {
                    if cancel.is_cancelled() {
                        return Vec::new();
                    }
                    let lo = u64::from(job.start) + i * u64::from(CHUNK);
                    let n = (end - lo).min(u64::from(CHUNK)) as u32;
                    candidates.clear();
                    kernel.scan(&pre, lo as u32, n, candidates);
                    hashes.fetch_add(u64::from(n), Ordering::Relaxed);
                    // Every candidate is re-checked with the full scalar hash.
                    candidates
                        .iter()
                        .filter_map(|&nonce| job.verify(nonce))
                        .collect::<Vec<_>>()
                })
                .flatten()
                .collect()
        });
        hits.sort_unstable_by_key(|h| h.nonce);
        let hashes = hashes.into_inner();
        Ok(SearchOutcome {
            hits,
            stats: SearchStats {
                hashes,
                elapsed: started.elapsed(),
                cancelled: hashes < end - u64::from(job.start),
            },
        })
    }
}
