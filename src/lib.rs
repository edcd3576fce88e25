//! hashwatt: should this GPU's idle time go to SHA-256d mining or to AI inference?
//!
//! The crate measures a SHA-256d nonce search on every backend a machine has
//! and turns hashes per joule into money. Its layers:
//!
//! - [`header`] and [`pow`]: block headers, hashes and targets (rust-bitcoin's names);
//! - [`sha256`]: SHA-256d kernels (one file per backend) and the run-time dispatcher;
//! - [`search`]: jobs, hits, cancellation and the backend-neutral [`search::Engine`];
//! - [`gpu`]: the WGSL compute-shader engine (wgpu) and adapter choice;
//! - [`backend`]: `--backend` names and opening engines;
//! - [`bench`](mod@bench): the benchmark harness;
//! - [`energy`]: power meters (NVML, RAPL, modeled) and energy units;
//! - [`economics`]: mining revenue vs modeled inference value, break-evens, site view, scheduler API;
//! - [`report`]: machine descriptions and report outputs.
//! - [`stratum`]: Stratum V1 messages, jobs and the pool connection;
//! - [`gbt`]: `getblocktemplate` templates, their checks, coinbase and payout addresses;
//! - [`mine`]: the long-running [`mine::Miner`] (pools → engines → shares);
//! - [`agent`]: the idle-time agent (books, HTTP control, Prometheus metrics).
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

pub mod agent;
pub mod backend;
pub mod bench;
pub mod economics;
pub mod energy;
pub mod gbt;
pub mod gpu;
pub mod header;
pub mod mine;
pub mod pow;
pub mod report;
pub mod search;
pub mod sha256;
pub mod stratum;
