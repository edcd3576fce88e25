//! SHA-256d for block headers: the shared precomputation and the backend dispatcher.
//!
//! Every nonce kernel (the scalar one here, the SIMD ones beside it and the WGSL
//! shader in `shaders/sha256d.wgsl`) searches the same way:
//!
//! 1. **Midstate.** The first 64 header bytes do not depend on the nonce, so
//!    their compression is done once per job ([`NoncePrecomp::new`]).
//! 2. **Early rounds.** The second block's words 0..3 are the merkle-root tail,
//!    time and nBits; the nonce is word 3. Rounds 0..=2 are therefore done on
//!    the host, and round 3's `T1` without the nonce is precomputed too.
//! 3. **Constant schedule words.** Words 4..=15 are padding (`0x80000000`, zeros,
//!    bit length 640), so `K[t] + W[t]` is folded for those rounds, and the
//!    nonce-independent parts of W16..W19 are precomputed.
//! 4. **Second hash padding.** Its words 8..=15 are constant too, folded the same way.
//! 5. **Early exit.** Bitcoin compares the hash as a little-endian 256-bit
//!    number, so its top 32 bits are the byte-swapped last state word `H7`.
//!    `H7` is final after round 60 of the second hash, so rounds 61..=63 are
//!    skipped, and only nonces whose top word is at most the target's
//!    ([`NoncePrecomp::target_top`]) become *candidates*. The engine checks
//!    each candidate with the full scalar hash and 256-bit compare, so targets
//!    easier than 2^224 still find every hit.
//!
//! # Backends and dispatch
//!
//! One file per kernel: [`scalar`], `x86_avx512` (16 lanes, `vprord` and
//! `vpternlogd`), `x86_avx2` (8 lanes), `x86_sha` (SHA-NI, nonces
//! interleaved), `aarch64_neon` (4 lanes) and `aarch64_sha2` (ARMv8 SHA-2).
//! The lane kernels share one round body (`lanes.rs`). Kernels are
//! `#[target_feature] unsafe fn`s; this module is the only place that detects
//! CPU features ([`CpuFeatures`]) and calls them. A [`CpuKernel`] value exists
//! only for a kernel the running CPU supports, so [`CpuKernel::scan`] is safe.
//! [`CpuKernel::best`] picks the fastest by a short measurement at run time
//! ([`Calibration`]), not by a fixed order.

pub(crate) mod lanes;
pub(crate) mod precomp;
pub mod scalar;

#[cfg(target_arch = "aarch64")]
mod aarch64_neon;
#[cfg(target_arch = "aarch64")]
mod aarch64_sha2;
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
mod x86_avx2;
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
mod x86_avx512;
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
mod x86_sha;

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

pub use crate::platform::CpuFeatures;
pub(crate) use precomp::{BLOCK2_PAD, Folded, H0, HASH2_PAD, K, NoncePrecomp};
use std::time::{Duration, Instant};

/// SHA-256 of any byte string, twice (dSHA256: transaction ids, coinbase
/// hashes, merkle nodes), by the `sha2` crate. Headers have their own
/// [`sha256d_80`].
pub fn sha256d(data: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(Sha256::digest(data)).into()
}

/// SHA-256 of the 80-byte header, twice, in the order SHA-256 emits it.
///
/// The plain path (no nonce tricks), used for `block_hash()` and to re-check
/// every candidate a fast kernel reports.
pub fn sha256d_80(bytes: &[u8; 80]) -> [u8; 32] {
    let mut block1 = [0u32; 16];
    for (w, c) in block1.iter_mut().zip(bytes[..64].chunks_exact(4)) {
        *w = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
    }
    let mut block2 = [0u32; 16];
    for (w, c) in block2.iter_mut().zip(bytes[64..].chunks_exact(4)) {
        *w = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
    }
    block2[4..].copy_from_slice(&BLOCK2_PAD);
    let mut state = H0;
    scalar::compress(&mut state, &block1);
    scalar::compress(&mut state, &block2);
    let mut second = [0u32; 16];
    second[..8].copy_from_slice(&state);
    second[8..].copy_from_slice(&HASH2_PAD);
    let mut out_state = H0;
    scalar::compress(&mut out_state, &second);
    let mut out = [0u8; 32];
    for (c, w) in out.chunks_exact_mut(4).zip(out_state) {
        c.copy_from_slice(&w.to_be_bytes());
    }
    out
}

/// The CPU kernels this crate has, runnable or not on this CPU.
///
/// The name of a kernel, for `--backend` and reports. To run one, get a
/// [`CpuKernel`], which exists only for kernels this CPU supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum CpuKernelKind {
    /// Portable Rust, one nonce at a time.
    Scalar,
    /// x86 AVX2, 8 nonces per vector.
    Avx2,
    /// x86 AVX-512F, 16 nonces per vector.
    Avx512,
    /// x86 SHA extensions, several nonces interleaved.
    ShaNi,
    /// AArch64 NEON, 4 nonces per vector.
    Neon,
    /// AArch64 SHA-2 instructions, several nonces interleaved.
    ArmSha2,
}

impl CpuKernelKind {
    /// Every kernel kind, on every architecture.
    pub const ALL: &'static [CpuKernelKind] = &[
        CpuKernelKind::Scalar,
        CpuKernelKind::Avx2,
        CpuKernelKind::Avx512,
        CpuKernelKind::ShaNi,
        CpuKernelKind::Neon,
        CpuKernelKind::ArmSha2,
    ];

    /// The stable name used by `--backend`.
    pub fn name(self) -> &'static str {
        match self {
            CpuKernelKind::Scalar => "scalar",
            CpuKernelKind::Avx2 => "avx2",
            CpuKernelKind::Avx512 => "avx512",
            CpuKernelKind::ShaNi => "sha-ni",
            CpuKernelKind::Neon => "neon",
            CpuKernelKind::ArmSha2 => "arm-sha2",
        }
    }

    /// The CPU features the kernel needs, as `is_*_feature_detected!` names them.
    pub fn required_features(self) -> &'static str {
        match self {
            CpuKernelKind::Scalar => "none",
            CpuKernelKind::Avx2 => "x86 avx2",
            CpuKernelKind::Avx512 => "x86 avx512f",
            CpuKernelKind::ShaNi => "x86 sha + sse4.1 + ssse3",
            CpuKernelKind::Neon => "aarch64 neon",
            CpuKernelKind::ArmSha2 => "aarch64 neon + sha2",
        }
    }

    /// Nonces one kernel step hashes together.
    pub fn lanes(self) -> u32 {
        match self {
            CpuKernelKind::Scalar => 1,
            CpuKernelKind::Avx2 => 8,
            CpuKernelKind::Avx512 => 16,
            CpuKernelKind::ShaNi => x86_sha_interleave(),
            CpuKernelKind::Neon => 4,
            CpuKernelKind::ArmSha2 => arm_sha2_interleave(),
        }
    }

    /// Whether a CPU with `features` can run the kernel.
    pub fn is_supported_by(self, features: &CpuFeatures) -> bool {
        match self {
            CpuKernelKind::Scalar => true,
            CpuKernelKind::Avx2 => features.avx2,
            CpuKernelKind::Avx512 => features.avx512,
            CpuKernelKind::ShaNi => features.sha_ni,
            CpuKernelKind::Neon => features.neon,
            CpuKernelKind::ArmSha2 => features.neon && features.arm_sha2,
        }
    }
}

/// Nonces the SHA-NI kernel interleaves (4 where it is not built).
const fn x86_sha_interleave() -> u32 {
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    return x86_sha::INTERLEAVE as u32;
    #[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
    4
}

/// Nonces the ARMv8 SHA-2 kernel interleaves (2 where it is not built).
const fn arm_sha2_interleave() -> u32 {
    #[cfg(target_arch = "aarch64")]
    return aarch64_sha2::INTERLEAVE as u32;
    #[cfg(not(target_arch = "aarch64"))]
    2
}

impl fmt::Display for CpuKernelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is no CPU kernel's.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown CPU kernel {0:?}")]
pub struct UnknownKernel(pub String);

impl FromStr for CpuKernelKind {
    type Err = UnknownKernel;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CpuKernelKind::ALL
            .iter()
            .copied()
            .find(|k| k.name() == s)
            .ok_or_else(|| UnknownKernel(s.to_string()))
    }
}

/// A CPU kernel that this CPU can run: the dispatcher.
///
/// A value exists only for a kernel whose CPU features were detected at run
/// time ([`CpuKernel::new`] and the named constructors return `None`
/// otherwise), so [`CpuKernel::scan`] is safe to call: no safe code can run
/// an unsupported kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CpuKernel {
    kind: CpuKernelKind,
}

impl CpuKernel {
    /// The kernel of `kind`, if this CPU supports it.
    pub fn new(kind: CpuKernelKind) -> Option<Self> {
        let supported = kind.is_supported_by(&CpuFeatures::get())
            && match kind {
                CpuKernelKind::Avx2 | CpuKernelKind::Avx512 | CpuKernelKind::ShaNi => {
                    cfg!(any(target_arch = "x86", target_arch = "x86_64"))
                }
                CpuKernelKind::Neon | CpuKernelKind::ArmSha2 => cfg!(target_arch = "aarch64"),
                CpuKernelKind::Scalar => true,
            };
        supported.then_some(CpuKernel { kind })
    }

    /// The scalar kernel, available everywhere.
    pub fn scalar() -> Self {
        CpuKernel {
            kind: CpuKernelKind::Scalar,
        }
    }

    /// The AVX2 kernel, if this CPU has AVX2.
    pub fn avx2() -> Option<Self> {
        Self::new(CpuKernelKind::Avx2)
    }

    /// The AVX-512 kernel, if this CPU has AVX-512F.
    pub fn avx512() -> Option<Self> {
        Self::new(CpuKernelKind::Avx512)
    }

    /// The SHA-NI kernel, if this CPU has the SHA extensions.
    pub fn sha_ni() -> Option<Self> {
        Self::new(CpuKernelKind::ShaNi)
    }

    /// The NEON kernel, if this CPU has NEON.
    pub fn neon() -> Option<Self> {
        Self::new(CpuKernelKind::Neon)
    }

    /// The ARMv8 SHA-2 kernel, if this CPU has the SHA-2 instructions.
    pub fn arm_sha2() -> Option<Self> {
        Self::new(CpuKernelKind::ArmSha2)
    }

    /// Kernels this CPU can run, in [`CpuKernelKind::ALL`] order.
    pub fn available() -> Vec<CpuKernel> {
        CpuKernelKind::ALL
            .iter()
            .filter_map(|&k| Self::new(k))
            .collect()
    }

    /// The fastest kernel on this CPU, by [`CpuKernel::calibration`].
    pub fn best() -> CpuKernel {
        Self::calibration().best
    }

    /// A short single-thread measurement of every available kernel, done
    /// once per process (a few milliseconds per kernel) and cached.
    pub fn calibration() -> &'static Calibration {
        static CALIBRATION: OnceLock<Calibration> = OnceLock::new();
        CALIBRATION.get_or_init(Calibration::measure)
    }

    /// Which kernel this is.
    pub fn kind(self) -> CpuKernelKind {
        self.kind
    }

    /// The stable name used by `--backend`.
    pub fn name(self) -> &'static str {
        self.kind.name()
    }

    /// Nonces one kernel step hashes together.
    pub fn lanes(self) -> u32 {
        self.kind.lanes()
    }

    /// Runs the kernel: appends to `out` every nonce in `start..start + count`
    /// (as `u64`, at most `2^32`) whose hash's top 32 bits are at most
    /// `pre.target_top`, in increasing order.
    pub fn scan(self, pre: &NoncePrecomp, start: u32, count: u32, out: &mut Vec<u32>) {
        match self.kind {
            CpuKernelKind::Scalar => scalar::scan(pre, start, count, out),
            #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
            // SAFETY: a `CpuKernel` of this kind is only built by `CpuKernel::new`
            // after `CpuFeatures::detect` found avx2 (`is_x86_feature_detected!`).
            CpuKernelKind::Avx2 => unsafe { x86_avx2::scan(pre, start, count, out) },
            #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
            // SAFETY: built only after `CpuFeatures::detect` found avx512f.
            CpuKernelKind::Avx512 => unsafe { x86_avx512::scan(pre, start, count, out) },
            #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
            // SAFETY: built only after `CpuFeatures::detect` found sha, sse4.1 and ssse3.
            CpuKernelKind::ShaNi => unsafe {
                x86_sha::scan::<{ x86_sha::INTERLEAVE }>(pre, start, count, out)
            },
            #[cfg(target_arch = "aarch64")]
            // SAFETY: built only after `CpuFeatures::detect` found neon
            // (`is_aarch64_feature_detected!`).
            CpuKernelKind::Neon => unsafe { aarch64_neon::scan(pre, start, count, out) },
            #[cfg(target_arch = "aarch64")]
            // SAFETY: built only after `CpuFeatures::detect` found neon and sha2.
            CpuKernelKind::ArmSha2 => unsafe {
                aarch64_sha2::scan::<{ aarch64_sha2::INTERLEAVE }>(pre, start, count, out)
            },
            // Kinds of another architecture are never built by `CpuKernel::new`.
            #[allow(unreachable_patterns)]
            _ => scalar::scan(pre, start, count, out),
        }
    }
}

impl fmt::Display for CpuKernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One kernel's calibration figure.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct KernelSpeed {
    /// The kernel.
    #[serde(serialize_with = "serialize_kernel")]
    pub kernel: CpuKernel,
    /// Measured single-thread hashes per second (best of a few short runs).
    pub hashrate: f64,
}

fn serialize_kernel<S: serde::Serializer>(k: &CpuKernel, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(k.name())
}

/// The run-time measurement [`CpuKernel::best`] picks from.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Calibration {
    /// Every available kernel's speed, in [`CpuKernelKind::ALL`] order.
    pub speeds: Vec<KernelSpeed>,
    /// The fastest of them.
    #[serde(serialize_with = "serialize_kernel")]
    pub best: CpuKernel,
}

impl Calibration {
    /// Nonces per timed batch: about a millisecond on a SIMD kernel.
    const BATCH: u32 = 1 << 13;
    /// Rounds over all kernels; each kernel's best round counts, so a
    /// moment of contention from other processes is unlikely to decide.
    const ROUNDS: usize = 5;
    /// Time per kernel per round.
    const SLICE: Duration = Duration::from_millis(2);

    /// Measures every available kernel on a synthetic job.
    pub fn measure() -> Self {
        let kernels = CpuKernel::available();
        // A job whose target no hash meets: pure search speed.
        let pre = NoncePrecomp::new(&[0x5a; 80], 0);
        let mut best_rate = vec![0.0f64; kernels.len()];
        let mut out = Vec::new();
        let mut start = 0u32;
        for _ in 0..Self::ROUNDS {
            for (k, rate) in kernels.iter().zip(best_rate.iter_mut()) {
                let t0 = Instant::now();
                let mut hashes = 0u64;
                while t0.elapsed() < Self::SLICE {
                    k.scan(&pre, start, Self::BATCH, &mut out);
                    start = start.wrapping_add(Self::BATCH);
                    hashes += u64::from(Self::BATCH);
                    out.clear();
                }
                *rate = rate.max(hashes as f64 / t0.elapsed().as_secs_f64());
            }
        }
        let speeds: Vec<KernelSpeed> = kernels
            .iter()
            .zip(best_rate)
            .map(|(&kernel, hashrate)| KernelSpeed { kernel, hashrate })
            .collect();
        let best = speeds
            .iter()
            .max_by(|a, b| a.hashrate.total_cmp(&b.hashrate))
            .map_or(CpuKernel::scalar(), |s| s.kernel);
        Calibration { speeds, best }
    }
}
