//! Streaming search: a long range searched in slices, each verified hit handed
//! to the caller as soon as its slice is done, only counts kept.
//!
//! An engine returns a slice's hits together, so memory is bounded by one
//! slice's hits: slices grow while they are fast and few hits arrive (up to
//! [`MAX_SLICE_HITS`] expected hits and [`SLICE_TIME`] of work) and shrink
//! when hits are dense, e.g. `--bits 207fffff` over the whole nonce space.

use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use super::{CancelToken, Engine, Hit, Job, SearchError};

/// First slice, in nonces.
pub const FIRST_SLICE: u64 = 1 << 20;

/// Target wall time of one slice: long enough that the per-search overhead
/// (a thread-pool dispatch, a GPU pipeline refill) is negligible, short enough
/// that hits appear promptly.
pub const SLICE_TIME: Duration = Duration::from_millis(250);

/// Most hits one slice is expected to hold (each is 36 bytes).
pub const MAX_SLICE_HITS: u64 = 1 << 16;

/// What a streamed search did.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StreamSummary {
    /// Nonces hashed.
    pub hashes: u64,
    /// Hits handed to the caller.
    pub hits: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// One past the last nonce of the contiguous part searched from the
    /// job's start (every hit below it was handed over).
    pub covered_end: u64,
    /// Whether it stopped early (cancelled, or the caller asked to stop).
    pub stopped: bool,
}

impl StreamSummary {
    /// Hashes per second (0 for an empty search).
    pub fn hashrate(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 { self.hashes as f64 / s } else { 0.0 }
    }
}

/// The next slice size after one of `nonces` that took `elapsed` and held
/// `hits`: aimed at [`SLICE_TIME`] and [`MAX_SLICE_HITS`], at most 4x up or
/// down per step, at least 2^14 nonces.
pub fn next_slice(nonces: u64, elapsed: Duration, hits: u64) -> u64 {
    let by_time = nonces as f64 * SLICE_TIME.as_secs_f64() / elapsed.as_secs_f64().max(1e-6);
    let by_hits = if hits > 0 {
        nonces as f64 * MAX_SLICE_HITS as f64 / hits as f64
    } else {
        f64::INFINITY
    };
    let ideal = by_time.min(by_hits);
    let low = (nonces / 4).max(1 << 14);
    let high = nonces.saturating_mul(4).max(low);
    (ideal as u64).clamp(low, high)
}

/// Searches `job` on `engine` slice by slice, calling `on_hit` for every
/// verified hit in nonce order. `on_hit` returns [`ControlFlow::Break`] to stop
/// (e.g. after `--max-hits`); `cancel` stops it too, after the engine's
/// current slice returns (engines stop within milliseconds).
///
/// # Errors
/// [`SearchError`] from the engine (a break from `on_hit` is not an error).
pub fn search_streaming(
    engine: &dyn Engine,
    job: &Job,
    cancel: &CancelToken,
    on_hit: &mut dyn FnMut(&Hit) -> ControlFlow<()>,
) -> Result<StreamSummary, SearchError> {
    let end = job.end()?;
    let started = Instant::now();
    let mut summary = StreamSummary {
        covered_end: u64::from(job.start),
        ..StreamSummary::default()
    };
    let mut next = u64::from(job.start);
    let mut size = FIRST_SLICE;
    while next < end {
        if cancel.is_cancelled() {
            summary.stopped = true;
            break;
        }
        let count = size.min(end - next);
        let slice = Job {
            start: next as u32,
            count,
            ..*job
        };
        let t = Instant::now();
        let outcome = engine.search(&slice, cancel)?;
        summary.hashes += outcome.stats.hashes;
        let complete = !outcome.stats.cancelled && outcome.stats.hashes == count;
        for hit in &outcome.hits {
            summary.hits += 1;
            if on_hit(hit).is_break() {
                summary.stopped = true;
                // Hits come in nonce order: everything up to this one is done.
                summary.covered_end = u64::from(hit.nonce) + 1;
                summary.elapsed = started.elapsed();
                return Ok(summary);
            }
        }
        if !complete {
            summary.stopped = true;
            break;
        }
        next += count;
        summary.covered_end = next;
        size = next_slice(count, t.elapsed(), outcome.hits.len() as u64);
    }
    summary.elapsed = started.elapsed();
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pow::Target;
    use crate::search::CpuEngine;
    use crate::sha256::CpuKernel;

    fn header() -> crate::header::Header {
        crate::header::Header::from_bytes(&[7u8; 80])
    }

    #[test]
    fn slices_adapt_to_time_and_hits() {
        // Fast and empty: grows at most 4x.
        assert_eq!(next_slice(1 << 20, Duration::from_millis(1), 0), 1 << 22);
        // Dense hits: shrinks towards MAX_SLICE_HITS per slice.
        assert_eq!(
            next_slice(1 << 20, Duration::from_millis(100), 1 << 19),
            1 << 18
        );
        // Slow: shrinks, never below 2^14.
        assert_eq!(next_slice(1 << 15, Duration::from_secs(100), 0), 1 << 14);
        // A tiny first slice (a short job) does not trip the bounds.
        assert_eq!(next_slice(10, Duration::from_secs(1), 0), 1 << 14);
    }

    #[test]
    fn every_hit_in_order_matches_one_search() {
        let engine = CpuEngine::new(CpuKernel::best(), Some(2)).unwrap();
        let target =
            Target::from_compact(crate::pow::CompactTarget::from_consensus(0x2000_ffff)).unwrap();
        let job = Job::new(header(), u32::MAX - 3_000_000, 3_000_001, target).unwrap();
        let whole = engine.search(&job, &CancelToken::new()).unwrap();
        let mut streamed = Vec::new();
        let summary = search_streaming(&engine, &job, &CancelToken::new(), &mut |h| {
            streamed.push(*h);
            ControlFlow::Continue(())
        })
        .unwrap();
        assert_eq!(streamed, whole.hits);
        assert!(!streamed.is_empty());
        assert_eq!(summary.hits, streamed.len() as u64);
        assert_eq!(summary.hashes, job.count);
        assert_eq!(summary.covered_end, 1 << 32);
        assert!(!summary.stopped);
    }

    #[test]
    fn break_stops_after_that_hit() {
        let engine = CpuEngine::new(CpuKernel::best(), Some(1)).unwrap();
        let job = Job::full_range(header(), Target::MAX);
        let mut seen = 0;
        let summary = search_streaming(&engine, &job, &CancelToken::new(), &mut |_| {
            seen += 1;
            if seen == 5 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .unwrap();
        assert_eq!((seen, summary.hits, summary.covered_end), (5, 5, 5));
        assert!(summary.stopped);
        // A cancelled token stops before any work.
        let token = CancelToken::new();
        token.cancel();
        let s =
            search_streaming(&engine, &job, &token, &mut |_| ControlFlow::Continue(())).unwrap();
        assert_eq!((s.hashes, s.covered_end, s.stopped), (0, 0, true));
    }
}
