//! Edge cases of the CPU engine: the end of the nonce space, impossible and
//! trivial targets, invalid ranges, thread counts and cancellation.

mod common;

use std::time::{Duration, Instant};

use hashwatt::pow::Target;
use hashwatt::search::{CancelToken, CpuEngine, Engine, Job, NONCE_SPACE, SearchError};
use hashwatt::sha256::CpuKernel;

fn engine(threads: usize) -> CpuEngine {
    CpuEngine::new(CpuKernel::scalar(), Some(threads)).unwrap()
}

#[test]
fn window_ending_at_u32_max() {
    let header = common::random_header(1);
    let job = Job::new(header, u32::MAX - 999, 1000, Target::MAX).unwrap();
    assert_eq!(job.end().unwrap(), NONCE_SPACE);
    let outcome = engine(2).search(&job, &CancelToken::new()).unwrap();
    assert_eq!(outcome.stats.hashes, 1000);
    let nonces: Vec<u32> = outcome.hits.iter().map(|h| h.nonce).collect();
    assert_eq!(nonces, (u32::MAX - 999..=u32::MAX).collect::<Vec<_>>());
    assert_eq!(
        outcome.hits.last().unwrap().hash,
        common::oracle_hash(&header.with_nonce(u32::MAX))
    );
}

#[test]
fn every_hash_meets_the_max_target() {
    let header = common::random_header(2);
    let job = Job::new(header, 12_345, 50_000, Target::MAX).unwrap();
    let outcome = engine(2).search(&job, &CancelToken::new()).unwrap();
    assert_eq!(outcome.hits.len(), 50_000);
    for (i, hit) in outcome.hits.iter().enumerate() {
        assert_eq!(hit.nonce, 12_345 + i as u32);
    }
    for hit in outcome.hits.iter().step_by(997) {
        assert_eq!(hit.hash, common::oracle_hash(&header.with_nonce(hit.nonce)));
    }
}

#[test]
fn no_hash_meets_a_target_of_one() {
    let header = common::random_header(3);
    let job = Job::new(header, 0, 200_000, hashwatt::bench::unreachable_target()).unwrap();
    let outcome = engine(2).search(&job, &CancelToken::new()).unwrap();
    assert!(outcome.hits.is_empty());
    assert_eq!(outcome.stats.hashes, 200_000);
}

#[test]
fn pool_difficulty_hits_match_the_oracle_exactly() {
    // A share difficulty of 2^-16 (target ~2^240) is met by about one nonce in
    // 65536, so a 2^20 window holds a dozen or so hits, most of them with a
    // top word below the target's (the early exit's candidate path).
    let header = common::random_header(4);
    let target = Target::from_difficulty(1.0 / 65_536.0).unwrap();
    let job = Job::new(header, 1_000_000, 1 << 20, target).unwrap();
    let outcome = engine(2).search(&job, &CancelToken::new()).unwrap();
    let expected: Vec<u32> = (1_000_000u32..1_000_000 + (1 << 20))
        .filter(|&n| target.is_met_by(common::oracle_hash(&header.with_nonce(n))))
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(
        outcome.hits.iter().map(|h| h.nonce).collect::<Vec<_>>(),
        expected
    );
}

#[test]
fn thread_counts_agree() {
    let header = common::random_header(5);
    let target = Target::from_difficulty(1.0 / 65_536.0).unwrap();
    let job = Job::new(header, 7, 2_000_001, target).unwrap();
    let one = engine(1).search(&job, &CancelToken::new()).unwrap();
    let two = engine(2).search(&job, &CancelToken::new()).unwrap();
    assert!(one.hits.len() > 10);
    assert_eq!(one.hits, two.hits);
    assert_eq!(engine(2).threads(), 2);
}

#[test]
fn invalid_ranges_are_errors() {
    let header = common::random_header(6);
    assert!(matches!(
        Job::new(header, 0, 0, Target::MAX),
        Err(SearchError::EmptyRange)
    ));
    assert!(matches!(
        Job::new(header, 1, NONCE_SPACE, Target::MAX),
        Err(SearchError::RangeOverflow { .. })
    ));
    assert!(matches!(
        Job::new(header, u32::MAX, 2, Target::MAX),
        Err(SearchError::RangeOverflow { .. })
    ));
    // An unchecked job is refused by the engine, not wrapped.
    let bad = Job {
        header,
        start: u32::MAX,
        count: 2,
        target: Target::MAX,
    };
    assert!(matches!(
        engine(1).search(&bad, &CancelToken::new()),
        Err(SearchError::RangeOverflow { .. })
    ));
    assert!(Job::new(header, 0, NONCE_SPACE, Target::MAX).is_ok());
}

#[test]
fn cancellation_stops_a_full_range_search_promptly() {
    let job = Job::full_range(
        common::random_header(7),
        hashwatt::bench::unreachable_target(),
    );
    let cancel = CancelToken::new();
    let canceller = {
        let cancel = cancel.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            let at = Instant::now();
            cancel.cancel();
            at
        })
    };
    let outcome = engine(2).search(&job, &cancel).unwrap();
    let returned = Instant::now();
    let cancelled_at = canceller.join().unwrap();
    assert!(outcome.stats.cancelled);
    assert!(outcome.stats.hashes > 0 && outcome.stats.hashes < NONCE_SPACE);
    // A full range takes over 10 minutes on this engine; stopping must take
    // well under a second (a chunk is about 10 ms).
    assert!(returned.duration_since(cancelled_at) < Duration::from_secs(1));
}

#[test]
fn deadline_token_cancels_itself() {
    let job = Job::full_range(
        common::random_header(8),
        hashwatt::bench::unreachable_target(),
    );
    let cancel = CancelToken::with_deadline(Instant::now() + Duration::from_millis(100));
    let outcome = engine(1).search(&job, &cancel).unwrap();
    assert!(outcome.stats.cancelled);
    assert!(cancel.is_cancelled());
}
