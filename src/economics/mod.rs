//! Economics: is a GPU's idle hour worth more mining SHA-256d or serving AI
//! inference?
//!
//! The models, each in its own file and each citing its constants:
//!
//! * [`mining`]: expected BTC and USD per day from a hash rate, the halving
//!   schedule (consensus-exact subsidy), difficulty, fees, pool fee, stale
//!   rate and uptime; hashprice; a multi-month horizon;
//! * [`power`]: watts × USD/kWh × PUE;
//! * [`inference`]: market rental, or roofline tokens/s × USD per Mtok ×
//!   utilization, calibrated against TensorRT-LLM's published throughput;
//! * [`decision`]: net USD/hour of mine, infer and idle, the winner, and the
//!   break-even BTC price, electricity price, token price and utilization;
//! * [`site`]: the same question per megawatt, with ASIC fleets;
//! * [`sensitivity`]: sweeps for the plots;
//! * [`presets`]: cited GPU, model, ASIC, network and price figures;
//! * [`live`]: difficulty, height, fees and BTC price from a node or a
//!   REST API, with a cache and offline fallback;
//! * [`inputs`]: every input's key, flag and rule, declared once;
//! * [`scenario`]: inputs with their provenance and the TOML file format;
//! * [`report`]: the `hashwatt.econ/1` JSON and Markdown reports;
//! * [`bench`](mod@bench): reading `hashwatt.bench/1` reports;
//! * [`session`]: running a mining engine in cancellable time slices.
//!
//! Every money figure is **modeled**; only the hash rate and (when a meter
//! was available) the watts of a bench report are **measured**, and reports
//! say which is which.
//!
//! # For schedulers
//!
//! [`evaluate`] turns a [`Scenario`] into a [`Decision`]; [`Decision::winner`]
//! says who gets the next slice of the GPU:
//!
//! ```
//! use hashwatt::economics::{evaluate, Scenario, Choice, units::*};
//! let mut s = Scenario::new(HashRate(5.0e9), Watts(700.0)); // your bench figures
//! s.utilization = Percent(40.0); // expected inference demand this hour
//! let d = evaluate(&s)?;
//! match d.winner {
//!     Choice::Infer => { /* hand the GPU to the inference server */ }
//!     Choice::Mine => { /* run a mining session in cancellable slices */ }
//!     Choice::Idle => { /* leave it idle or power it down */ }
//! }
//! assert_eq!(d.winner, Choice::Infer);
//! # Ok::<(), hashwatt::economics::EconError>(())
//! ```
//!
//! When mining wins, [`session::mine_in_slices`] runs any
//! [`Engine`](crate::search::Engine) in cancellable time slices and hands the
//! device back as soon as the scheduler cancels its token.
//! `examples/scheduler.rs` shows the whole loop.
//!
//! # What a GPU earns mining
//!
//! At January 2026 figures a GPU hashing SHA-256d at a few GH/s (measure
//! yours with `hashwatt bench`) has about 10⁻⁵ of one Antminer S21 XP's
//! 270 TH/s; its mining revenue is of the order of 0.01 % of its own
//! electricity bill. The Markdown report prints that ratio on its first
//! lines. The BTC price at which mining would merely beat idling is near
//! $1 billion; to beat inference, tens of billions.

pub mod bench;
pub mod decision;
mod error;
pub mod inference;
pub mod inputs;
pub mod live;
pub mod mining;
pub mod power;
pub mod presets;
pub mod report;
pub mod scenario;
pub mod sensitivity;
pub mod session;
pub mod site;

/// The crate's unit types, defined once in [`crate::units`].
pub use crate::units;

pub use decision::{BreakEvens, Choice, Decision, Nets, evaluate};
pub use error::{EconError, MAX_HORIZON_MONTHS, Result};
pub use scenario::Scenario;
