//! Every CPU kernel on its own, against the scalar path and the `sha2` oracle.
//!
//! Every check runs once per kernel kind, as its own test named
//! `<kernel>::<check>` (e.g. `avx2::every_lane_tail_length`). The harness is
//! `libtest-mimic`, so a kernel this CPU lacks is decided at run time: its
//! tests are listed as ignored (the reason, e.g. "CPU lacks aarch64 neon", is
//! printed on stderr), never as passed. When the environment variable
//! `HASHWATT_REQUIRE_KERNELS` names the kernel (comma-separated, e.g.
//! `avx2,avx512,sha-ni`) its tests are not ignored and fail; so do ignored
//! tests run with `--include-ignored`.

mod common;

use std::collections::BTreeSet;

use libtest_mimic::{Arguments, Failed, Trial};

use hashwatt::hazmat::NoncePrecomp;
use hashwatt::header::Header;
use hashwatt::pow::Target;
use hashwatt::search::{CancelToken, CpuEngine, Engine, Job};
use hashwatt::sha256::{CpuKernel, CpuKernelKind};

/// Kernels named by `HASHWATT_REQUIRE_KERNELS`.
fn required() -> Vec<CpuKernelKind> {
    let Ok(list) = std::env::var("HASHWATT_REQUIRE_KERNELS") else {
        return Vec::new();
    };
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<CpuKernelKind>()
                .unwrap_or_else(|e| panic!("HASHWATT_REQUIRE_KERNELS: {e}"))
        })
        .collect()
}

/// Candidates in `start..start + count` by the oracle.
fn oracle_candidates(header: &Header, start: u32, count: u32, target_top: u32) -> Vec<u32> {
    (u64::from(start)..u64::from(start) + u64::from(count))
        .map(|n| n as u32)
        .filter(|&n| common::oracle_top(header, n) <= target_top)
        .collect()
}

/// A target whose top word is `top` and whose other bits are all ones.
fn target_with_top(top: u32) -> Target {
    let mut b = [0xff; 32];
    b[28..].copy_from_slice(&top.to_le_bytes());
    Target::from_le_bytes(b)
}

fn scan(kernel: CpuKernel, pre: &NoncePrecomp, start: u32, count: u32) -> Vec<u32> {
    let mut out = Vec::new();
    kernel.scan(pre, start, count, &mut out);
    out
}

/// Checks one window: the kernel's candidates equal the scalar kernel's and the oracle's.
fn check_window(kernel: CpuKernel, header: &Header, target: &Target, start: u32, count: u32) {
    let pre = NoncePrecomp::new(&header.to_bytes(), target.top_word());
    let got = scan(kernel, &pre, start, count);
    let scalar = scan(CpuKernel::scalar(), &pre, start, count);
    let oracle = oracle_candidates(header, start, count, target.top_word());
    assert_eq!(
        got, oracle,
        "{kernel}: candidates differ from the sha2 oracle (start {start}, count {count}, header {header})"
    );
    assert_eq!(scalar, oracle, "scalar differs from the sha2 oracle");
}

/// The real headers of `tests/data/headers.tsv`.
fn real_headers() -> Vec<(u64, Header)> {
    common::headers()
        .into_iter()
        .map(|row| (row.height, row.header))
        .collect()
}

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next_u32(&mut self) -> u32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) as u32
    }

    fn header(&mut self) -> Header {
        let mut b = [0u8; Header::SIZE];
        for chunk in b.chunks_exact_mut(4) {
            chunk.copy_from_slice(&self.next_u32().to_le_bytes());
        }
        Header::from_bytes(&b)
    }
}

fn required_kernels_are_present() {
    let present: Vec<CpuKernelKind> = CpuKernel::available().iter().map(|k| k.kind()).collect();
    for kind in required() {
        assert!(
            present.contains(&kind),
            "required kernel {kind} is unavailable: CPU lacks {}",
            kind.required_features()
        );
    }
    assert!(present.contains(&CpuKernelKind::Scalar));
}

fn real_headers_window_around_the_real_nonce(kernel: CpuKernel) {
    let headers = real_headers();
    for (height, header) in &headers {
        let nonce = header.nonce;
        let target = Target::from_compact(header.bits).unwrap();
        // The nonce field is zeroed: the kernel must not read it.
        let zeroed = header.with_nonce(0);
        let start = nonce.saturating_sub(97).min(u32::MAX - 200);
        check_window(kernel, &zeroed, &target, start, 201);
        let pre = NoncePrecomp::new(&zeroed.to_bytes(), target.top_word());
        let got = scan(kernel, &pre, start, 201);
        assert!(
            got.contains(&nonce),
            "{kernel}: block {height}'s nonce {nonce} not found"
        );
    }
}

fn real_headers_through_the_engine(kernel: CpuKernel) {
    let headers = real_headers();
    let engine = CpuEngine::new(kernel, Some(2)).unwrap();
    for (height, header) in &headers {
        let target = Target::from_compact(header.bits).unwrap();
        let start = header.nonce.saturating_sub(5_000);
        let count = 10_001u64.min((1u64 << 32) - u64::from(start));
        let job = Job::new(header.with_nonce(0), start, count, target).unwrap();
        let outcome = engine.search(&job, &CancelToken::new()).unwrap();
        let expected: Vec<u32> = (u64::from(start)..u64::from(start) + count)
            .map(|n| n as u32)
            .filter(|&n| target.is_met_by(header.with_nonce(n).block_hash()))
            .collect();
        let got: Vec<u32> = outcome.hits.iter().map(|h| h.nonce).collect();
        assert_eq!(got, expected, "{kernel}: block {height}");
        assert!(got.contains(&header.nonce), "{kernel}: block {height}");
        assert_eq!(outcome.stats.hashes, count);
    }
}

fn random_headers_against_the_oracle(kernel: CpuKernel) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let cases: Vec<(Header, u32, u32)> = (0..24)
        .map(|_| {
            // One candidate in 64 on average: several per vector now and then.
            (
                rng.header(),
                rng.next_u32(),
                rng.next_u32() >> 26 << 26 | 0x03ff_ffff,
            )
        })
        .collect();
    for &(header, start, top) in &cases {
        let start = start.min(u32::MAX - 700);
        check_window(kernel, &header, &target_with_top(top), start, 701);
    }
}

fn every_lane_tail_length(kernel: CpuKernel) {
    let header = Rng(7).header();
    let max = kernel.lanes().max(16) * 2;
    for count in 0..=max {
        let start = 1_000_001 + 2 * count;
        // Every hash meets: the output is exactly the range.
        let pre = NoncePrecomp::new(&header.to_bytes(), Target::MAX.top_word());
        let got = scan(kernel, &pre, start, count);
        let all: Vec<u32> = (start..start + count).collect();
        assert_eq!(got, all, "{kernel}: count {count}");
        // About half meet: the tail's own lanes are compared, not assumed.
        check_window(kernel, &header, &target_with_top(0x7fff_ffff), start, count);
    }
}

fn window_ending_at_u32_max(kernel: CpuKernel) {
    let header = Rng(11).header();
    for count in [1u32, 15, 16, 17, 33, 100] {
        let start = u32::MAX - (count - 1);
        let pre = NoncePrecomp::new(&header.to_bytes(), Target::MAX.top_word());
        let got = scan(kernel, &pre, start, count);
        let all: Vec<u32> = (start..=u32::MAX).collect();
        assert_eq!(got, all, "{kernel}: count {count} must not wrap to nonce 0");
        check_window(kernel, &header, &target_with_top(0x7fff_ffff), start, count);
    }
    // Through the engine, with a real job ending at the last nonce.
    let engine = CpuEngine::new(kernel, Some(2)).unwrap();
    let job = Job::new(header, u32::MAX - 99, 100, Target::MAX).unwrap();
    let outcome = engine.search(&job, &CancelToken::new()).unwrap();
    assert_eq!(outcome.hits.len(), 100, "{kernel}");
    assert_eq!(outcome.hits.last().map(|h| h.nonce), Some(u32::MAX));
}

fn target_no_hash_meets(kernel: CpuKernel) {
    let header = Rng(13).header();
    let zero = Target::from_le_bytes([0; 32]);
    let pre = NoncePrecomp::new(&header.to_bytes(), zero.top_word());
    let got = scan(kernel, &pre, 123_457, 20_000);
    let oracle = oracle_candidates(&header, 123_457, 20_000, 0);
    assert_eq!(got, oracle, "{kernel}");
    let engine = CpuEngine::new(kernel, Some(2)).unwrap();
    let job = Job::new(header, 123_457, 20_000, zero).unwrap();
    let outcome = engine.search(&job, &CancelToken::new()).unwrap();
    assert!(outcome.hits.is_empty(), "{kernel}: a hit for target 0");
}

fn target_every_hash_meets(kernel: CpuKernel) {
    let header = Rng(17).header();
    let engine = CpuEngine::new(kernel, Some(2)).unwrap();
    let job = Job::new(header, 77, 5_000, Target::MAX).unwrap();
    let outcome = engine.search(&job, &CancelToken::new()).unwrap();
    let nonces: Vec<u32> = outcome.hits.iter().map(|h| h.nonce).collect();
    assert_eq!(nonces, (77..5_077).collect::<Vec<u32>>(), "{kernel}");
    for hit in &outcome.hits {
        assert_eq!(hit.hash, header.with_nonce(hit.nonce).block_hash());
    }
}

fn several_hits_in_one_vector(kernel: CpuKernel) {
    // Regtest genesis: nBits 207fffff, about half of all nonces meet it.
    let headers = real_headers();
    let (_, regtest) = headers
        .iter()
        .find(|(_, h)| h.bits.to_consensus() == 0x207f_ffff)
        .expect("regtest genesis row");
    let target = Target::from_compact(regtest.bits).unwrap();
    check_window(kernel, regtest, &target, 5, 1_000);
    let pre = NoncePrecomp::new(&regtest.to_bytes(), target.top_word());
    let got: BTreeSet<u32> = scan(kernel, &pre, 0, 16).into_iter().collect();
    assert!(
        got.len() >= 2,
        "{kernel}: expected several hits in 16 nonces"
    );
    // Exact hits through the engine: full 256-bit compare by the oracle.
    let engine = CpuEngine::new(kernel, Some(2)).unwrap();
    let job = Job::new(*regtest, 1_000, 4_000, target).unwrap();
    let outcome = engine.search(&job, &CancelToken::new()).unwrap();
    let expected: Vec<u32> = (1_000u32..5_000)
        .filter(|&n| {
            let mut hash = common::oracle_hash(&regtest.with_nonce(n)).0;
            hash.reverse();
            hash <= target.to_be_bytes()
        })
        .collect();
    let got: Vec<u32> = outcome.hits.iter().map(|h| h.nonce).collect();
    assert_eq!(got, expected, "{kernel}");
}

fn calibration_measures_every_available_kernel() {
    let cal = CpuKernel::calibration();
    let measured: Vec<CpuKernel> = cal.speeds.iter().map(|s| s.kernel).collect();
    assert_eq!(measured, CpuKernel::available());
    assert!(cal.speeds.iter().all(|s| s.hashrate > 0.0));
    let fastest = cal
        .speeds
        .iter()
        .max_by(|a, b| a.hashrate.total_cmp(&b.hashrate))
        .unwrap();
    assert_eq!(CpuKernel::best(), fastest.kernel);
}

fn forcing_a_kernel_the_cpu_lacks_is_a_clear_error() {
    use hashwatt::backend::{self, BackendChoice, EngineOptions};
    for &kind in CpuKernelKind::ALL {
        let choice: BackendChoice = kind.name().parse().unwrap();
        let opened = backend::open(choice, &EngineOptions::default());
        match (CpuKernel::new(kind), opened) {
            (Some(_), Ok(o)) => assert_eq!(o.engine.name(), kind.name()),
            (None, Err(e)) => {
                let msg = e.to_string();
                assert!(msg.contains(kind.name()), "{msg}");
                assert!(msg.contains(kind.required_features()), "{msg}");
            }
            (Some(_), Err(e)) => panic!("{kind} is supported but failed to open: {e}"),
            (None, Ok(_)) => panic!("{kind} is unsupported but opened"),
        }
    }
}

/// A check run once per kernel kind.
type KernelCheck = fn(CpuKernel);

/// The checks run once per kernel kind, by name.
const KERNEL_CHECKS: &[(&str, KernelCheck)] = &[
    (
        "real_headers_window_around_the_real_nonce",
        real_headers_window_around_the_real_nonce,
    ),
    (
        "real_headers_through_the_engine",
        real_headers_through_the_engine,
    ),
    (
        "random_headers_against_the_oracle",
        random_headers_against_the_oracle,
    ),
    ("every_lane_tail_length", every_lane_tail_length),
    ("window_ending_at_u32_max", window_ending_at_u32_max),
    ("target_no_hash_meets", target_no_hash_meets),
    ("target_every_hash_meets", target_every_hash_meets),
    ("several_hits_in_one_vector", several_hits_in_one_vector),
];

/// The checks that are not about one kernel.
const OTHER_CHECKS: &[(&str, fn())] = &[
    ("required_kernels_are_present", required_kernels_are_present),
    (
        "calibration_measures_every_available_kernel",
        calibration_measures_every_available_kernel,
    ),
    (
        "forcing_a_kernel_the_cpu_lacks_is_a_clear_error",
        forcing_a_kernel_the_cpu_lacks_is_a_clear_error,
    ),
];

fn main() {
    let args = Arguments::from_args();
    let required = required();
    let mut trials: Vec<Trial> = OTHER_CHECKS
        .iter()
        .map(|&(name, check)| {
            Trial::test(name, move || {
                check();
                Ok(())
            })
        })
        .collect();
    for &kind in CpuKernelKind::ALL {
        let kernel = CpuKernel::new(kind);
        let ignored = kernel.is_none() && !required.contains(&kind);
        if ignored {
            eprintln!(
                "ignored {kind}::*: CPU lacks {} (require it with HASHWATT_REQUIRE_KERNELS={kind})",
                kind.required_features()
            );
        }
        for &(name, check) in KERNEL_CHECKS {
            let trial = Trial::test(format!("{kind}::{name}"), move || match kernel {
                Some(kernel) => {
                    check(kernel);
                    Ok(())
                }
                None => Err(Failed::from(format!(
                    "kernel {kind} is unavailable: CPU lacks {}",
                    kind.required_features()
                ))),
            });
            trials.push(trial.with_ignored_flag(ignored));
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
