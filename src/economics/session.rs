//! Running a mining session in cancellable time slices, for schedulers.
//!
//! A scheduler that lends a GPU to mining must get it back quickly when AI
//! work arrives. [`mine_in_slices`] runs any [`Engine`] over a [`Job`]'s
//! nonce range one slice at a time; each slice is a child of the caller's
//! [`CancelToken`] with its own deadline, so a `cancel()` from the scheduler
//! stops the engine at its next cancellation check (the engine's batch: about
//! 2 ms of work per CPU chunk, one dispatch on a GPU), and the session never
//! runs more than one slice past a deadline on the parent token.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use hashwatt::economics::session::{mine_in_slices, StopReason};
//! use hashwatt::header::Header;
//! use hashwatt::pow::Target;
//! use hashwatt::search::{CancelToken, CpuEngine, Job};
//! use hashwatt::sha256::CpuKernel;
//!
//! let header: Header = "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c".parse()?;
//! let job = Job::new(header, 2_083_000_000, 1_000_000, Target::from_compact(header.bits)?)?;
//! let engine = CpuEngine::new(CpuKernel::scalar(), Some(1))?;
//! // The scheduler's token: it would call `stop.cancel()` when AI work arrives.
//! let stop = CancelToken::with_deadline(Instant::now() + Duration::from_secs(30));
//! let report = mine_in_slices(&engine, &job, Duration::from_secs(1), &stop, |_| {})?;
//! assert_eq!(report.stopped_by, StopReason::RangeDone);
//! assert_eq!(report.hits[0].nonce, 2_083_236_893); // the genesis nonce
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::time::{Duration, Instant};

use crate::search::{CancelToken, Engine, Hit, Job, SearchError, SearchOutcome};

/// Nonces in the first slice, before the engine's rate is known: small
/// enough that even one scalar core finishes it well inside a slice.
const FIRST_SLICE_NONCES: u64 = 1 << 16;

/// Fraction of a slice each range is sized to fill, so that ranges usually
/// finish before the slice's deadline and no nonce is skipped.
const FILL: f64 = 0.8;

/// Largest growth of the range from one slice to the next.
const MAX_GROWTH: u64 = 4;

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The caller's token was cancelled or reached its deadline.
    Cancelled,
    /// The job's whole nonce range was handed out.
    RangeDone,
}

/// What a session did.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionReport {
    /// Slices run.
    pub slices: u32,
    /// Nonces hashed.
    pub hashes: u64,
    /// Every hit found in the parts searched, sorted by nonce.
    pub hits: Vec<Hit>,
    /// Wall time of the session.
    pub elapsed: Duration,
    /// Why it ended.
    pub stopped_by: StopReason,
}

impl SessionReport {
    /// Average hashes per second over the session.
    pub fn hashrate(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 { self.hashes as f64 / s } else { 0.0 }
    }
}

/// Mines `job` in slices of about `slice` each until `stop` fires or the
/// range is done, calling `on_slice` after every slice (to log, or to meter
/// energy).
///
/// Each slice hands the engine the next part of the range, sized from the
/// rate measured so far to fill about 80 % of a slice (starting at 65,536
/// nonces and growing at most 4× per slice), so ranges normally finish
/// before the slice's deadline. If a deadline does end a range first, the
/// nonces it did not reach are skipped (the next slice starts after that
/// range) and the next range is shrunk. Every hit in the parts searched is
/// reported.
///
/// # Errors
/// The engine's [`SearchError`]; a zero `slice` is treated as 1 ms.
pub fn mine_in_slices(
    engine: &dyn Engine,
    job: &Job,
    slice: Duration,
    stop: &CancelToken,
    mut on_slice: impl FnMut(&SearchOutcome),
) -> Result<SessionReport, SearchError> {
    let end = job.end()?;
    let slice = slice.max(Duration::from_millis(1));
    let started = Instant::now();
    let mut next = u64::from(job.start);
    let mut per_slice = FIRST_SLICE_NONCES;
    let (mut slices, mut hashes, mut hits) = (0u32, 0u64, Vec::new());
    let stopped_by = loop {
        if stop.is_cancelled() {
            break StopReason::Cancelled;
        }
        if next >= end {
            break StopReason::RangeDone;
        }
        let count = per_slice.clamp(1, end - next);
        // `next < end ≤ 2^32`, so it fits a nonce.
        let start = u32::try_from(next).map_err(|_| SearchError::RangeOverflow {
            start: u32::MAX,
            count,
        })?;
        let part = Job::new(job.header, start, count, job.target)?;
        let token = stop.child_with_deadline(Instant::now() + slice);
        let out = engine.search(&part, &token)?;
        slices += 1;
        hashes += out.stats.hashes;
        hits.extend_from_slice(&out.hits);
        on_slice(&out);
        next += count;
        let rate = out.stats.hashrate();
        if out.stats.cancelled {
            // The slice's deadline (or the caller) ended it first: shrink to
            // what it managed.
            per_slice = (out.stats.hashes / 2).max(1);
        } else if rate > 0.0 {
            let target = (rate * slice.as_secs_f64() * FILL) as u64;
            per_slice = target.clamp(1, per_slice.saturating_mul(MAX_GROWTH));
        }
    };
    hits.sort();
    hits.dedup();
    Ok(SessionReport {
        slices,
        hashes,
        hits,
        elapsed: started.elapsed(),
        stopped_by,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::Header;
    use crate::pow::Target;
    use crate::search::CpuEngine;
    use crate::sha256::CpuKernel;

    const GENESIS: &str = "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c";

    fn engine() -> CpuEngine {
        CpuEngine::new(CpuKernel::scalar(), Some(1)).unwrap_or_else(|e| panic!("{e}"))
    }

    fn header() -> Header {
        GENESIS.parse().unwrap_or_else(|e| panic!("{e:?}"))
    }

    #[test]
    fn a_cancel_stops_the_session_within_about_one_slice() {
        let h = header();
        let target = Target::from_difficulty(1e-3).unwrap_or_else(|e| panic!("{e:?}"));
        let job = Job::full_range(h, target);
        let stop = CancelToken::new();
        let canceller = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(300));
                let at = Instant::now();
                stop.cancel();
                at
            })
        };
        let slice = Duration::from_millis(50);
        let mut seen = 0;
        let r = mine_in_slices(&engine(), &job, slice, &stop, |_| seen += 1)
            .unwrap_or_else(|e| panic!("{e}"));
        let returned = Instant::now();
        let at = canceller.join().unwrap_or_else(|_| panic!("canceller"));
        assert_eq!(r.stopped_by, StopReason::Cancelled);
        assert!(r.slices >= 2, "{} slices", r.slices);
        assert_eq!(seen, r.slices);
        assert!(r.hashes > 0);
        // The engine checks the token every 16,384 nonces (~2 ms): allow a
        // generous margin for a loaded CI machine, still well under a second.
        let latency = returned.saturating_duration_since(at);
        assert!(latency < Duration::from_millis(500), "{latency:?}");
        for hit in &r.hits {
            assert!(target.is_met_by(h.with_nonce(hit.nonce).block_hash()));
        }
    }

    #[test]
    fn a_short_range_finishes_and_finds_the_genesis_nonce() {
        let h = header();
        let target = Target::from_compact(h.bits).unwrap_or_else(|e| panic!("{e:?}"));
        let job = Job::new(h, 2_083_236_000, 5_000, target).unwrap_or_else(|e| panic!("{e}"));
        let r = mine_in_slices(
            &engine(),
            &job,
            Duration::from_secs(5),
            &CancelToken::new(),
            |_| {},
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.stopped_by, StopReason::RangeDone);
        assert_eq!((r.hashes, r.slices), (5_000, 1));
        assert_eq!(r.hits.len(), 1);
        assert_eq!(r.hits[0].nonce, 2_083_236_893);
    }

    #[test]
    fn ranges_grow_from_the_first_slice_and_cover_the_job_without_gaps() {
        let h = header();
        // Every nonce meets Target::MAX: the hits count every nonce searched.
        let job = Job::new(h, 1_000, 400_000, Target::MAX).unwrap_or_else(|e| panic!("{e}"));
        let mut sizes = Vec::new();
        let r = mine_in_slices(
            &engine(),
            &job,
            Duration::from_secs(2),
            &CancelToken::new(),
            |o| sizes.push(o.stats.hashes),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.stopped_by, StopReason::RangeDone);
        assert_eq!(sizes[0], 65_536);
        assert!(sizes.len() >= 2 && sizes[1] <= 4 * 65_536, "{sizes:?}");
        assert_eq!(r.hashes, 400_000);
        assert_eq!(r.hits.len(), 400_000);
        assert_eq!(r.hits.first().map(|h| h.nonce), Some(1_000));
        assert_eq!(r.hits.last().map(|h| h.nonce), Some(400_999));
    }

    #[test]
    fn an_already_cancelled_token_runs_nothing() {
        let h = header();
        let job = Job::full_range(h, Target::MAX);
        let stop = CancelToken::new();
        stop.cancel();
        let r = mine_in_slices(&engine(), &job, Duration::ZERO, &stop, |_| {})
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (r.slices, r.hashes, r.stopped_by),
            (0, 0, StopReason::Cancelled)
        );
    }
}
