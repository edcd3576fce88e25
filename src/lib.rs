//! hashwatt: should this GPU's idle time go to SHA-256d mining or to AI inference?
//!
//! The crate measures a SHA-256d nonce search on every backend a machine has
//! and turns hashes per joule into money.
//!
//! **Start here:** [`prelude`] holds what a scheduler needs (open a backend,
//! build a [`Job`](search::Job), search it with a [`CancelToken`](search::CancelToken),
//! bench the machine with [`bench::Plan`]). Kernel internals are in [`hazmat`].
//! Features (all on by default): `cli` (the binary), `gpu` (wgpu), `nvml`, `plot`;
//! the library builds with none of them.
//!
//! Its layers, each using only those listed before it (`tests/architecture.rs`):
//!
//! - leaves under everything: [`hex`] (hex text), [`hash`] (the hash type) and
//!   [`platform`] (CPU model and features, no GPU needed);
//! - [`units`] and [`hardware`]: unit newtypes and the one cited table of GPU and ASIC figures;
//! - [`sha256`]: SHA-256d kernels (one file per backend) and the run-time dispatcher;
//! - [`header`] and [`pow`]: block headers, hashes and targets (rust-bitcoin's names);
//! - [`search`]: jobs, hits, cancellation and the backend-neutral [`search::Engine`];
//! - [`stratum`]: Stratum V1 messages, jobs and the pool connection;
//! - [`gpu`]: the WGSL compute-shader engine (wgpu) and adapter choice;
//! - [`energy`]: power meters (NVML, RAPL, modeled);
//! - [`gbt`]: `getblocktemplate` templates, their checks, coinbase and payout addresses;
//! - [`backend`]: `--backend` names and opening engines;
//! - [`mine`]: the long-running [`mine::Miner`] (pools → engines → shares);
//! - [`bench`](mod@bench): the benchmark harness and [`bench::Plan`];
//! - [`economics`]: mining revenue vs modeled inference value, break-evens, site view, scheduler API;
//! - [`agent`]: the idle-time agent (books, HTTP control, Prometheus metrics);
//! - [`report`]: machine descriptions and report outputs (also of the agent's books).
//!
//! ```
//! use hashwatt::header::Header;
//! use hashwatt::pow::Target;
//! use hashwatt::search::{CancelToken, CpuEngine, Engine, Job};
//! use hashwatt::sha256::CpuKernel;
//!
//! // The genesis block, searched in a window around its nonce.
//! let header: Header = "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c".parse()?;
//! let target = Target::from_compact(header.bits)?;
//! let job = Job::new(header, 2_083_236_000, 2_000, target)?;
//! let engine = CpuEngine::new(CpuKernel::scalar(), Some(1))?;
//! let outcome = engine.search(&job, &CancelToken::new())?;
//! assert_eq!(outcome.hits[0].nonce, 2_083_236_893);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]
#![warn(unreachable_pub)]

pub mod agent;
pub mod backend;
pub mod bench;
pub mod economics;
pub mod energy;
pub mod gbt;
#[cfg(feature = "gpu")]
pub mod gpu;
pub mod hardware;
pub mod hash;
pub mod header;
pub mod hex;
pub mod mine;
pub mod platform;
pub mod pow;
pub mod report;
pub mod search;
pub mod sha256;
pub mod stratum;
pub mod units;

/// The README's Rust examples, run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// The few types a scheduler needs first: open a backend, build a job, search
/// it in cancellable slices, bench the machine.
///
/// ```
/// use hashwatt::prelude::*;
///
/// let opened = open(BackendChoice::Cpu, &EngineOptions { threads: Some(1), ..Default::default() })?;
/// let header: Header = "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c".parse()?;
/// let job = Job::new(header, 2_083_236_000, 2_000, Target::from_compact(header.bits)?)?;
/// let outcome = opened.engine.search(&job, &CancelToken::new())?;
/// assert_eq!(outcome.hits[0].hash.to_string(), "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub mod prelude {
    pub use crate::backend::{BackendChoice, EngineOptions, Opened, open};
    pub use crate::bench::{BenchReport, Plan};
    pub use crate::hash::BlockHash;
    pub use crate::header::Header;
    pub use crate::pow::{CompactTarget, Target};
    pub use crate::search::{
        CancelToken, Engine, EngineKind, Hit, Job, SearchError, SearchOutcome, SearchStats,
    };
    pub use crate::units::{Joules, Watts};
}

/// Kernel internals, public for the crate's own tests and benchmarks and for
/// readers who want to drive a kernel by hand: the FIPS 180-4 constants, the
/// per-job precomputation the CPU kernels and the GPU uniform share, and the
/// GPU's uniform block. No stability promise: these change with the kernels.
pub mod hazmat {
    #[cfg(feature = "gpu")]
    pub use crate::gpu::context::GpuParams;
    pub use crate::sha256::lanes::sha256d_h7_twin;
    pub use crate::sha256::precomp::{BLOCK2_PAD, Folded, H0, HASH2_PAD, K, NoncePrecomp};
}
