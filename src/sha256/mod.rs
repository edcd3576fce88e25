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
use std::time::{Duration, Instant};

/// SHA-256 round constants (FIPS 180-4, section 4.2.2).
pub const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/// SHA-256 initial hash value (FIPS 180-4, section 5.3.3).
pub const H0: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// Message words 4..=15 of the header's second block: padding and the bit length (640).
pub const BLOCK2_PAD: [u32; 12] = [0x8000_0000, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 640];

/// Message words 8..=15 of the second hash: padding and the bit length (256).
pub const HASH2_PAD: [u32; 8] = [0x8000_0000, 0, 0, 0, 0, 0, 0, 256];

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

/// Everything a nonce kernel needs, computed once per job on the host.
///
/// The layout is mirrored by the GPU's uniform buffer, so keep it `Pod`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct NoncePrecomp {
    /// State after compressing header bytes 0..64 (the midstate).
    pub midstate: [u32; 8],
    /// Working variables `a..h` after rounds 0..=2 of the second block.
    pub state3: [u32; 8],
    /// Second-block words 0..=2: merkle-root tail, time, nBits (big-endian reads).
    pub w: [u32; 3],
    /// Round 3's `T1` without the nonce word: `h + Σ1(e) + Ch(e,f,g) + K[3]`.
    pub t1_base3: u32,
    /// W16 = σ0(W1) + W0 (σ1(W14) and W9 are zero).
    pub w16: u32,
    /// W17 = σ1(W15) + σ0(W2) + W1 (W10 is zero).
    pub w17: u32,
    /// Nonce-independent part of W18: σ1(W16) + W2 (add σ0(nonce word)).
    pub w18_base: u32,
    /// Nonce-independent part of W19: σ1(W17) + σ0(W4) (add the nonce word).
    pub w19_base: u32,
    /// The target's top 32 bits: a nonce is a candidate when `bswap(H7) <= target_top`.
    pub target_top: u32,
    /// Padding to a multiple of 16 bytes (for GPU uniform layout).
    pub pad: [u32; 3],
}

impl NoncePrecomp {
    /// Precomputes the nonce-independent work for an 80-byte header in wire
    /// order (its nonce bytes 76..80 are ignored) and the target's top 32 bits
    /// (`Target::top_word`): bytes and words, as `sha2::compress256` takes.
    pub fn new(header: &[u8; 80], target_top: u32) -> Self {
        let bytes = header;
        let word =
            |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        let mut block1 = [0u32; 16];
        for (i, w) in block1.iter_mut().enumerate() {
            *w = word(4 * i);
        }
        let mut midstate = H0;
        scalar::compress(&mut midstate, &block1);
        let w = [word(64), word(68), word(72)];

        let mut s = midstate;
        for (t, &wt) in w.iter().enumerate() {
            scalar::round(&mut s, K[t].wrapping_add(wt));
        }
        let [_, _, _, _, e, f, g, h] = s;
        let t1_base3 = h
            .wrapping_add(scalar::big_sigma1(e))
            .wrapping_add(scalar::ch(e, f, g))
            .wrapping_add(K[3]);
        let w16 = scalar::sigma0(w[1]).wrapping_add(w[0]);
        let w17 = scalar::sigma1(BLOCK2_PAD[11])
            .wrapping_add(scalar::sigma0(w[2]))
            .wrapping_add(w[1]);
        NoncePrecomp {
            midstate,
            state3: s,
            w,
            t1_base3,
            w16,
            w17,
            w18_base: scalar::sigma1(w16).wrapping_add(w[2]),
            w19_base: scalar::sigma1(w17).wrapping_add(scalar::sigma0(BLOCK2_PAD[0])),
            target_top,
            pad: [0; 3],
        }
    }
}

/// A CPU nonce kernel: appends to `out` every nonce in `start..start + count`
/// (as `u64`, at most `2^32`) whose hash's top 32 bits are at most
/// `pre.target_top`, in increasing order.
pub type NonceKernel = fn(pre: &NoncePrecomp, start: u32, count: u32, out: &mut Vec<u32>);

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

    /// Runs the kernel: appends candidate nonces in `start..start + count` to
    /// `out`, in increasing order (see [`NonceKernel`]).
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
