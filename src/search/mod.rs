//! Nonce search: jobs, hits, cancellation and the backend-neutral [`Engine`] trait.
//!
//! Every backend (the multi-core CPU engine here, the GPU engine in
//! [`crate::gpu`]) implements [`Engine`]: it takes a [`Job`] and a
//! [`CancelToken`] and returns every [`Hit`] in the job's range, sorted by
//! nonce, none missed and none twice, plus [`SearchStats`].

pub mod cpu;
pub mod stream;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::header::{BlockHash, Header};
use crate::pow::Target;
use crate::sha256::NoncePrecomp;

pub use cpu::CpuEngine;

/// Size of the nonce space: nonces are `u32`, so a range ends at most here.
pub const NONCE_SPACE: u64 = 1 << 32;

/// Errors from building or running a search.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SearchError {
    /// A job with no nonces.
    #[error("count must be at least 1")]
    EmptyRange,
    /// A job whose range runs past nonce `u32::MAX`.
    #[error("start {start} + count {count} = {} runs past the nonce space (2^32 = 4294967296)", *start as u64 + *count)]
    RangeOverflow {
        /// First nonce.
        start: u32,
        /// Number of nonces.
        count: u64,
    },
    /// A rayon thread pool could not be built.
    #[error("could not start {threads} worker threads: {reason}")]
    ThreadPool {
        /// Threads asked for.
        threads: usize,
        /// Why it failed.
        reason: String,
    },
    /// A backend-specific failure (GPU device lost, mapping failed, ...).
    ///
    /// `source` keeps the backend's own typed error (for the GPU,
    /// `gpu::GpuError`): match on it with [`SearchError::backend_error`].
    #[error("{backend} backend failed")]
    Backend {
        /// Backend name.
        backend: String,
        /// The backend's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
}

impl SearchError {
    /// A [`SearchError::Backend`] wrapping a backend's error (or a message).
    pub fn backend(
        backend: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        SearchError::Backend {
            backend: backend.into(),
            source: source.into(),
        }
    }

    /// The backend's typed error, if this is a [`SearchError::Backend`] whose
    /// source is an `E`: e.g. `err.backend_error::<GpuError>()` to tell a lost
    /// device from other failures.
    pub fn backend_error<E: std::error::Error + 'static>(&self) -> Option<&E> {
        match self {
            SearchError::Backend { source, .. } => source.downcast_ref::<E>(),
            _ => None,
        }
    }
}

/// A search job: nonces `start .. start + count` of `header` against `target`.
///
/// The header's own nonce field is ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Job {
    /// The header to vary.
    pub header: Header,
    /// First nonce to try.
    pub start: u32,
    /// Number of nonces to try, 1 ..= 2^32 - start.
    pub count: u64,
    /// A hash meets the job when it is at most this target.
    pub target: Target,
}

impl Job {
    /// A checked job.
    ///
    /// # Errors
    /// [`SearchError::EmptyRange`] for `count == 0`, [`SearchError::RangeOverflow`]
    /// when `start + count > 2^32`.
    pub fn new(header: Header, start: u32, count: u64, target: Target) -> Result<Job, SearchError> {
        let job = Job {
            header,
            start,
            count,
            target,
        };
        job.end()?;
        Ok(job)
    }

    /// A job over the whole nonce space.
    pub fn full_range(header: Header, target: Target) -> Job {
        Job {
            header,
            start: 0,
            count: NONCE_SPACE,
            target,
        }
    }

    /// One past the last nonce, as `u64` (at most 2^32).
    ///
    /// # Errors
    /// As [`Job::new`]; engines call this before searching.
    pub fn end(&self) -> Result<u64, SearchError> {
        if self.count == 0 {
            return Err(SearchError::EmptyRange);
        }
        let end = u64::from(self.start) + self.count;
        if end > NONCE_SPACE {
            return Err(SearchError::RangeOverflow {
                start: self.start,
                count: self.count,
            });
        }
        Ok(end)
    }

    /// The kernels' per-job precomputation: the header's wire bytes and the
    /// target's top word, the only things a nonce kernel reads.
    pub(crate) fn precomp(&self) -> NoncePrecomp {
        NoncePrecomp::new(&self.header.to_bytes(), self.target.top_word())
    }

    /// Re-checks a candidate nonce on the scalar path: `Some(hit)` if it really meets the target.
    pub fn verify(&self, nonce: u32) -> Option<Hit> {
        let hash = self.header.with_nonce(nonce).block_hash();
        self.target.is_met_by(hash).then_some(Hit { nonce, hash })
    }
}

/// A nonce whose header hash meets the job's target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Hit {
    /// The nonce.
    pub nonce: u32,
    /// The block hash with that nonce.
    pub hash: BlockHash,
}

/// What a search did.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SearchStats {
    /// Nonces hashed.
    pub hashes: u64,
    /// Wall time of the search.
    pub elapsed: Duration,
    /// Whether the search stopped early because it was cancelled.
    pub cancelled: bool,
}

impl SearchStats {
    /// Hashes per second (0 for an empty search).
    pub fn hashrate(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 { self.hashes as f64 / s } else { 0.0 }
    }
}

/// The result of a search.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SearchOutcome {
    /// Every hit found, sorted by nonce. After a cancellation, the hits of the
    /// part searched; no hit in that part is missing.
    pub hits: Vec<Hit>,
    /// Statistics.
    pub stats: SearchStats,
}

/// A cancellation handle shared between a search and whoever may stop it.
///
/// Cloning shares the flag. A token may also carry a deadline, after which it
/// reads as cancelled: that is how time-sliced runs and `bench` stop.
#[derive(Clone, Debug, Default)]
pub struct CancelToken {
    shared: Arc<Shared>,
    deadline: Option<Instant>,
}

/// What the clones of a token share: the flag, and the hooks an engine
/// registers to hear of [`CancelToken::cancel`] at once rather than at its
/// next check (the GPU engine raises its in-dispatch stop flag this way).
#[derive(Default)]
struct Shared {
    flag: AtomicBool,
    hooks: Mutex<Hooks>,
}

#[derive(Default)]
struct Hooks {
    next_id: u64,
    live: Vec<(u64, Arc<dyn Fn() + Send + Sync>)>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("flag", &self.flag)
            .finish_non_exhaustive()
    }
}

impl CancelToken {
    /// A token that is not cancelled and has no deadline.
    pub fn new() -> Self {
        Self::default()
    }

    /// A token that cancels itself at `deadline`.
    pub fn with_deadline(deadline: Instant) -> Self {
        CancelToken {
            shared: Arc::default(),
            deadline: Some(deadline),
        }
    }

    /// A token sharing this one's flag that also cancels at `deadline`.
    pub fn child_with_deadline(&self, deadline: Instant) -> Self {
        let deadline = Some(self.deadline.map_or(deadline, |d| d.min(deadline)));
        CancelToken {
            shared: Arc::clone(&self.shared),
            deadline,
        }
    }

    /// Asks every search holding this token (or a clone) to stop, and runs
    /// the hooks of the searches that asked to hear of it.
    pub fn cancel(&self) {
        self.shared.flag.store(true, Ordering::SeqCst);
        let hooks = match self.shared.hooks.lock() {
            Ok(hooks) => hooks,
            Err(poisoned) => poisoned.into_inner(),
        };
        for (_, hook) in &hooks.live {
            hook();
        }
    }

    /// Whether the search should stop.
    pub fn is_cancelled(&self) -> bool {
        self.shared.flag.load(Ordering::Relaxed)
            || self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// Runs `hook` when [`CancelToken::cancel`] is called on this token or a
    /// clone, until the returned guard is dropped; at once if the flag is
    /// already set. A hook runs on the cancelling thread and must be quick
    /// (it is called under a lock). Deadlines do not run hooks.
    ///
    /// An engine uses this to stop work it has handed to a device at once,
    /// rather than at its next check of [`CancelToken::is_cancelled`] (the GPU
    /// engine raises its in-dispatch stop flag this way).
    pub fn on_cancel(&self, hook: Arc<dyn Fn() + Send + Sync>) -> CancelHook<'_> {
        let mut hooks = match self.shared.hooks.lock() {
            Ok(hooks) => hooks,
            Err(poisoned) => poisoned.into_inner(),
        };
        let id = hooks.next_id;
        hooks.next_id += 1;
        if self.shared.flag.load(Ordering::SeqCst) {
            hook();
        }
        hooks.live.push((id, hook));
        CancelHook { token: self, id }
    }
}

/// Unregisters a hook of [`CancelToken::on_cancel`] when dropped.
#[must_use = "the hook is unregistered when this guard is dropped"]
pub struct CancelHook<'a> {
    token: &'a CancelToken,
    id: u64,
}

impl Drop for CancelHook<'_> {
    fn drop(&mut self) {
        let mut hooks = match self.token.shared.hooks.lock() {
            Ok(hooks) => hooks,
            Err(poisoned) => poisoned.into_inner(),
        };
        hooks.live.retain(|(id, _)| *id != self.id);
    }
}

/// What kind of processor an engine runs on: the one way to tell a GPU engine
/// from a CPU one (energy meters, notes), instead of comparing names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EngineKind {
    /// CPU cores (any CPU kernel).
    Cpu,
    /// A GPU adapter.
    Gpu,
}

/// A nonce-search backend.
pub trait Engine: Send + Sync {
    /// The stable backend name (`scalar`, `avx2`, `gpu`, ...).
    fn name(&self) -> String;

    /// Whether it runs on CPU cores or a GPU.
    fn kind(&self) -> EngineKind;

    /// Worker threads used (1 for a GPU engine).
    fn threads(&self) -> usize;

    /// The hardware it runs on: the CPU model, or the GPU adapter's name.
    /// Energy meters use it to pick the matching meter or model.
    fn device(&self) -> String;

    /// Searches `job`, stopping early when `cancel` fires.
    ///
    /// # Errors
    /// [`SearchError`] for an invalid range or a backend failure.
    fn search(&self, job: &Job, cancel: &CancelToken) -> Result<SearchOutcome, SearchError>;

    /// Device memory the engine's allocator has reserved, in bytes, where the
    /// backend reports it (GPU engines); `None` otherwise.
    fn device_memory_bytes(&self) -> Option<u64> {
        None
    }

    /// The PCI bus id of the device (`domain:bus:device.function`), where the
    /// backend reports it (GPU engines): how energy meters find the same device.
    fn pci_bus_id(&self) -> Option<String> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn counter() -> (Arc<AtomicUsize>, Arc<dyn Fn() + Send + Sync>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&calls);
        let hook = Arc::new(move || {
            seen.fetch_add(1, Ordering::SeqCst);
        });
        (calls, hook)
    }

    #[test]
    fn cancel_hooks_run_on_cancel_from_any_clone() {
        let token = CancelToken::new();
        let child = token.child_with_deadline(Instant::now() + Duration::from_secs(3600));
        let (calls, hook) = counter();
        let guard = child.on_cancel(hook);
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        token.clone().cancel();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        drop(guard);
        // Unregistered: a second cancel does not reach it.
        token.cancel();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn cancel_hooks_run_at_once_on_a_cancelled_token_and_not_on_deadlines() {
        let token = CancelToken::new();
        token.cancel();
        let (calls, hook) = counter();
        let _guard = token.on_cancel(hook);
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        let past = CancelToken::with_deadline(Instant::now());
        let (calls, hook) = counter();
        let _guard = past.on_cancel(hook);
        assert!(past.is_cancelled());
        assert_eq!(calls.load(Ordering::SeqCst), 0);
    }
}
