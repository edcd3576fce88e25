//! The GPU backend: a WGSL compute-shader nonce searcher on any adapter wgpu supports.
//!
//! - [`adapter`]: listing adapters, choosing one (`--adapter NAME|INDEX`), per-adapter tuning;
//! - `context`: one long-lived `GpuContext` per device (pipeline, bind groups and
//!   two sets of buffers built once and reused for every batch; its uniform
//!   block is [`crate::hazmat::GpuParams`]);
//! - [`engine`]: [`GpuEngine`], the [`crate::search::Engine`] that drives the context in
//!   timed, double-buffered batches and re-checks every candidate on the CPU.
//!
//! The kernel is `shaders/sha256d.wgsl`, the WGSL twin of
//! [`crate::sha256::scalar::sha256d_h7`] and [`crate::sha256::scalar::scan`].

pub mod adapter;
pub(crate) mod context;
pub mod engine;
mod stop;

use std::time::Duration;

pub use adapter::{GpuAdapterInfo, Tuning};
pub use engine::GpuEngine;

/// The WGSL source of the nonce kernel.
pub const SHADER: &str = include_str!("../../shaders/sha256d.wgsl");

/// The kernel's entry point.
pub const ENTRY_POINT: &str = "main";

/// Default wall time one batch should take on the GPU.
///
/// Where the kernel may not see the stop flag during a dispatch, a cancel
/// waits for the batches in flight (see [`GpuEngine`]): on average about one
/// batch and at worst about 1.5 batches plus the readback, so 4 ms keeps the
/// hand-back under 10 ms, the goal for a GPU shared with AI work, whether or
/// not the flag is seen. The per-submission overhead (tens of microseconds on
/// a GPU) stays around 1 %. `--gpu-batch-ms` changes it.
pub const DEFAULT_BATCH_TIME: Duration = Duration::from_millis(4);

/// Default batch time on a software adapter (lavapipe, llvmpipe) whose stop
/// flag is live: there a cancel ends the batches in flight within a
/// millisecond or two whatever their length, while every batch boundary
/// idles the CPUs that run the shader, so 4 ms batches ran 6–10 % slower
/// than 20 ms ones (BENCHMARKS.md, "In-dispatch stop").
pub const SOFTWARE_BATCH_TIME: Duration = Duration::from_millis(20);

/// Default capacity of the hit buffer, in candidate nonces.
///
/// A real target yields a candidate per 2^32 nonces; only targets easier than
/// about capacity / batch size overflow it, and such a batch is searched again
/// on the CPU, so no hit is lost. 2^16 nonces: 256 KiB, plus its readback copy.
pub const DEFAULT_HIT_CAPACITY: u32 = 1 << 16;

/// Errors from the GPU backend.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GpuError {
    /// wgpu found no adapter at all.
    #[error("no GPU adapter found ({reason})")]
    NoAdapter {
        /// What was searched.
        reason: String,
    },
    /// `WGPU_BACKEND` names a backend wgpu does not know.
    #[error(
        "WGPU_BACKEND={value:?} names unknown backend {unknown:?} \
         (expected a comma list of vulkan, metal, dx12, gl)"
    )]
    BackendEnv {
        /// The variable's value.
        value: String,
        /// The first unknown entry.
        unknown: String,
    },
    /// `--adapter` matched no adapter.
    #[error("no GPU adapter matches --adapter {spec:?} (adapters: {available})")]
    AdapterNotFound {
        /// What was asked for.
        spec: String,
        /// The adapters found, `index: name (backend)`.
        available: String,
    },
    /// The adapter refused to open a device.
    #[error("could not open a device on GPU adapter {adapter:?}: {reason}")]
    RequestDevice {
        /// Adapter name.
        adapter: String,
        /// wgpu's reason.
        reason: String,
    },
    /// A wgpu validation, out-of-memory or internal error caught by an error scope.
    #[error("GPU error while {during}: {reason}")]
    Validation {
        /// What the engine was doing.
        during: &'static str,
        /// wgpu's message.
        reason: String,
    },
    /// Mapping the readback buffer failed.
    #[error("reading GPU results back failed: {reason}")]
    Map {
        /// wgpu's reason.
        reason: String,
    },
    /// Waiting for the GPU failed (device lost, timeout).
    #[error("waiting for the GPU failed: {reason}")]
    Poll {
        /// wgpu's reason.
        reason: String,
    },
    /// The device was lost.
    #[error("GPU device lost: {reason}")]
    DeviceLost {
        /// The driver's reason.
        reason: String,
    },
    /// An option outside its range.
    #[error("invalid GPU option {name} = {value}: {expected}")]
    InvalidOption {
        /// Option name.
        name: &'static str,
        /// The value given.
        value: String,
        /// What is accepted.
        expected: String,
    },
    /// Searching an overflowed batch again on the CPU failed.
    #[error("re-searching an overflowed batch on the CPU failed: {reason}")]
    Rescan {
        /// Why.
        reason: String,
    },
    /// The engine's lock was poisoned by a panic in another search.
    #[error("GPU engine state is unusable after a panic in another thread")]
    Poisoned,
}

/// Options for opening a [`GpuEngine`].
#[derive(Clone, Debug, PartialEq)]
pub struct GpuOptions {
    /// Adapter to use: an index from `hashwatt devices` or a (case-insensitive)
    /// part of its name. `None`: the best adapter.
    pub adapter: Option<String>,
    /// Target GPU time per batch. `None`: [`SOFTWARE_BATCH_TIME`] on a
    /// software adapter with a live stop flag, [`DEFAULT_BATCH_TIME`]
    /// elsewhere ([`GpuEngine::batch_time`] says which).
    pub batch_time: Option<Duration>,
    /// Hit-buffer capacity in nonces (default [`DEFAULT_HIT_CAPACITY`]).
    pub hit_capacity: u32,
    /// Workgroup size override (default: per adapter, see [`Tuning::for_adapter`]).
    pub workgroup_size: Option<u32>,
    /// Nonces per invocation override (default: per adapter).
    pub nonces_per_invocation: Option<u32>,
    /// Build the shader with wgpu's runtime checks off
    /// (`create_shader_module_trusted` with [`wgpu::ShaderRuntimeChecks::unchecked`]).
    /// The kernel bounds its one dynamic store itself and has no unbounded loop,
    /// so this is sound; it lets the driver drop injected bounds and loop checks.
    pub trusted_shader: bool,
}

impl Default for GpuOptions {
    fn default() -> Self {
        GpuOptions {
            adapter: None,
            batch_time: None,
            hit_capacity: DEFAULT_HIT_CAPACITY,
            workgroup_size: None,
            nonces_per_invocation: None,
            trusted_shader: false,
        }
    }
}

impl GpuOptions {
    /// Checks the ranges of the numeric options.
    ///
    /// # Errors
    /// [`GpuError::InvalidOption`] naming the first bad value.
    pub fn validate(&self) -> Result<(), GpuError> {
        if let Some(time) = self.batch_time {
            let ms = time.as_secs_f64() * 1e3;
            if !(0.1..=10_000.0).contains(&ms) {
                return Err(GpuError::InvalidOption {
                    name: "batch_ms",
                    value: format!("{ms}"),
                    expected: "0.1 ..= 10000 milliseconds".into(),
                });
            }
        }
        if !(1..=1 << 24).contains(&self.hit_capacity) {
            return Err(GpuError::InvalidOption {
                name: "hit_capacity",
                value: self.hit_capacity.to_string(),
                expected: "1 ..= 16777216 nonces".into(),
            });
        }
        if let Some(n) = self.nonces_per_invocation
            && !(1..=256).contains(&n)
        {
            return Err(GpuError::InvalidOption {
                name: "nonces_per_invocation",
                value: n.to_string(),
                expected: "1 ..= 256".into(),
            });
        }
        if self.workgroup_size == Some(0) {
            return Err(GpuError::InvalidOption {
                name: "workgroup_size",
                value: "0".into(),
                expected: "1 ..= the adapter's max_compute_invocations_per_workgroup".into(),
            });
        }
        Ok(())
    }
}

impl From<GpuError> for crate::search::SearchError {
    fn from(e: GpuError) -> Self {
        crate::search::SearchError::backend("gpu", e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::SearchError;

    #[test]
    fn search_errors_keep_the_typed_gpu_error() {
        let err = SearchError::from(GpuError::DeviceLost {
            reason: "unplugged".into(),
        });
        assert!(matches!(
            err.backend_error::<GpuError>(),
            Some(GpuError::DeviceLost { reason }) if reason == "unplugged"
        ));
        assert_eq!(err.to_string(), "gpu backend failed");
        let source = std::error::Error::source(&err).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("GPU device lost: unplugged"));
        assert!(
            SearchError::EmptyRange
                .backend_error::<GpuError>()
                .is_none()
        );
    }
}
