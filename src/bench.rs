//! The benchmark harness: hashes per second of an engine over a fixed time.
//!
//! The job is synthetic (a fixed header, varied in its time field when the
//! nonce space runs out) with a target of 1, which no hash meets in practice,
//! so the figure is pure search speed.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::header::Header;
use crate::pow::Target;
use crate::search::{CancelToken, Engine, Job, SearchError};

/// The JSON schema name of a bench report.
pub const SCHEMA: &str = "hashwatt.bench/1";

/// One backend's measured speed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchResult {
    /// Backend name.
    pub backend: String,
    /// Worker threads.
    pub threads: usize,
    /// Nonces hashed.
    pub hashes: u64,
    /// Wall time, seconds.
    pub seconds: f64,
    /// Hashes per second.
    pub hashrate: f64,
}

/// A target no hash meets in practice (value 1).
pub fn unreachable_target() -> Target {
    let mut b = [0u8; 32];
    b[0] = 1;
    Target::from_le_bytes(b)
}

/// The synthetic header benchmarks hash: the genesis block's.
pub fn synthetic_header() -> Header {
    Header::from_bytes(&GENESIS_HEADER)
}

const GENESIS_HEADER: [u8; 80] = {
    let mut h = [0u8; 80];
    let tail: [u8; 48] = [
        0x3b, 0xa3, 0xed, 0xfd, 0x7a, 0x7b, 0x12, 0xb2, 0x7a, 0xc7, 0x2c, 0x3e, 0x67, 0x76, 0x8f,
        0x61, 0x7f, 0xc8, 0x1b, 0xc3, 0x88, 0x8a, 0x51, 0x32, 0x3a, 0x9f, 0xb8, 0xaa, 0x4b, 0x1e,
        0x5e, 0x4a, 0x29, 0xab, 0x5f, 0x49, 0xff, 0xff, 0x00, 0x1d, 0x1d, 0xac, 0x2b, 0x7c, 0, 0,
        0, 0,
    ];
    h[0] = 1;
    let mut i = 0;
    while i < 44 {
        h[36 + i] = tail[i];
        i += 1;
    }
    h
};

/// Runs `engine` on the synthetic job for `duration` (at least one batch).
///
/// # Errors
/// Any [`SearchError`] from the engine.
pub fn run(engine: &dyn Engine, duration: Duration) -> Result<BenchResult, SearchError> {
    let started = Instant::now();
    let cancel = CancelToken::with_deadline(started + duration);
    let mut header = synthetic_header();
    let target = unreachable_target();
    let mut hashes = 0;
    loop {
        let outcome = engine.search(&Job::full_range(header, target), &cancel)?;
        hashes += outcome.stats.hashes;
        if cancel.is_cancelled() {
            break;
        }
        header.time = header.time.wrapping_add(1);
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok(BenchResult {
        backend: engine.name(),
        threads: engine.threads(),
        hashes,
        seconds,
        hashrate: hashes as f64 / seconds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_header_is_genesis() {
        assert_eq!(
            synthetic_header()
                .with_nonce(2083236893)
                .block_hash()
                .to_string(),
            "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
        );
    }
}
