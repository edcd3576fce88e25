//! SHA-NI nonce kernel: the x86 SHA extensions, several nonces interleaved.
//!
//! `sha256rnds2` does two rounds on the state held as `ABEF`/`CDGH` and has
//! a latency of several cycles, so one nonce alone would leave the SHA unit
//! idle; [`scan`] runs `N` independent nonces side by side to fill it.
//!
//! The tricks of the scalar path carry over: the state after round 3 is
//! built from per-job constants plus the nonce; rounds 4..=15 use constant
//! `K + W` vectors; the second hash starts from constant padding words and
//! stops after round 61's `sha256rnds2`, whose output `F` is round 60's `e`,
//! which would be `H` after round 63.

#[cfg(target_arch = "x86")]
use std::arch::x86::*;
#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

use super::lanes::{KW1, KW2, scan_interleaved, sha_rounds, unroll};
use super::{BLOCK2_PAD, Folded, H0, HASH2_PAD, K, NoncePrecomp};

/// Nonces interleaved by the kernel the dispatcher runs. Measured on an AMD
/// EPYC (Zen 4) host, single thread: 2 nonces 28.1-28.8 MH/s, 3 29.1-29.9,
/// 4 29.6-30.6, 8 no better; see `docs/bench-cpu.md`.
pub(crate) const INTERLEAVE: usize = 4;

type V = __m128i;

/// Four words as a vector, lane 0 first.
#[target_feature(enable = "sse2")]
#[inline]
fn v4(w0: u32, w1: u32, w2: u32, w3: u32) -> V {
    _mm_set_epi32(w3 as i32, w2 as i32, w1 as i32, w0 as i32)
}

/// Lane-wise wrapping addition.
#[target_feature(enable = "sse2")]
#[inline]
fn add(a: V, b: V) -> V {
    _mm_add_epi32(a, b)
}

/// `K[t..t + 4]` as a vector.
#[target_feature(enable = "sse2")]
#[inline]
fn k4(t: usize) -> V {
    v4(K[t], K[t + 1], K[t + 2], K[t + 3])
}

/// Eight words `a..h` as the `(ABEF, CDGH)` pair `sha256rnds2` works on.
#[target_feature(enable = "sse2")]
#[inline]
fn abef_cdgh(s: [u32; 8]) -> (V, V) {
    let [a, b, c, d, e, f, g, h] = s;
    (v4(f, e, b, a), v4(h, g, d, c))
}

/// Four rounds: `wk` holds `K[t] + W[t]` for `t..t + 4`.
#[target_feature(enable = "sha,sse2")]
#[inline]
fn rounds4(abef: &mut V, cdgh: &mut V, wk: V) {
    *cdgh = _mm_sha256rnds2_epu32(*cdgh, *abef, wk);
    *abef = _mm_sha256rnds2_epu32(*abef, *cdgh, _mm_shuffle_epi32::<0x0E>(wk));
}

/// `W[t..t + 4]` from the four previous message vectors.
#[target_feature(enable = "sha,ssse3")]
#[inline]
fn next_words(w16: V, w12: V, w8: V, w4: V) -> V {
    let partial = _mm_add_epi32(_mm_sha256msg1_epu32(w16, w12), _mm_alignr_epi8::<4>(w4, w8));
    _mm_sha256msg2_epu32(partial, w4)
}

/// Per-job vectors of the SHA-NI kernel.
struct ShaConsts {
    /// State after round 3 without the nonce (it is added to `A` and `E`).
    abef3: V,
    cdgh3: V,
    /// Lanes `A` and `E` of `ABEF`, where round 3 adds the nonce word.
    ae_mask: V,
    /// Message words 0..=3 of the first hash with word 3 (the nonce) zero.
    m0: V,
    mid_abef: V,
    mid_cdgh: V,
}

impl ShaConsts {
    #[target_feature(enable = "sse2")]
    fn new(c: &Folded) -> Self {
        let s = c.pre.state3;
        let (abef3, cdgh3) = abef_cdgh([c.a3, s[0], s[1], s[2], c.e3, s[4], s[5], s[6]]);
        let (mid_abef, mid_cdgh) = abef_cdgh(c.pre.midstate);
        ShaConsts {
            abef3,
            cdgh3,
            ae_mask: v4(0, u32::MAX, 0, u32::MAX),
            m0: v4(c.pre.w[0], c.pre.w[1], c.pre.w[2], 0),
            mid_abef,
            mid_cdgh,
        }
    }
}

/// `H7` of SHA-256d for `N` nonces `n` (byte-swapped message words), side by side.
///
/// Not inlined: inlined into the scan loop, the register allocator spilled
/// the interleaved states and the kernel ran at 18 MH/s instead of 29-30
/// (same host as above).
#[target_feature(enable = "sha,sse4.1")]
#[inline(never)]
fn sha256d_h7<const N: usize>(c: &ShaConsts, n: [u32; N]) -> [u32; N] {
    // ---- First hash, second block, from round 4 ----
    let mut abef = [c.abef3; N];
    let mut cdgh = [c.cdgh3; N];
    // Message vectors, a rolling window of four: m[i][g % 4] is W[4g..4g + 4].
    let mut m = [[_mm_setzero_si128(); 4]; N];
    for i in 0..N {
        let nv = _mm_set1_epi32(n[i] as i32);
        abef[i] = _mm_add_epi32(abef[i], _mm_and_si128(nv, c.ae_mask));
        m[i][0] = _mm_insert_epi32::<3>(c.m0, n[i] as i32);
        m[i][1] = v4(BLOCK2_PAD[0], BLOCK2_PAD[1], BLOCK2_PAD[2], BLOCK2_PAD[3]);
        m[i][2] = v4(BLOCK2_PAD[4], BLOCK2_PAD[5], BLOCK2_PAD[6], BLOCK2_PAD[7]);
        m[i][3] = v4(BLOCK2_PAD[8], BLOCK2_PAD[9], BLOCK2_PAD[10], BLOCK2_PAD[11]);
    }
    sha_rounds!(const KW1, abef, cdgh, [4, 8, 12]);
    sha_rounds!(schedule m, abef, cdgh, [16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60]);

    // ---- Second hash: W0..=W7 are the first hash, W8..=W15 padding ----
    let (h0_abef, h0_cdgh) = abef_cdgh(H0);
    let mut x = [[_mm_setzero_si128(); 4]; N];
    for i in 0..N {
        let abef1 = _mm_add_epi32(abef[i], c.mid_abef);
        let cdgh1 = _mm_add_epi32(cdgh[i], c.mid_cdgh);
        // Lanes [F, E, B, A] and [H, G, D, C] to [A, B, C, D] and [E, F, G, H].
        let ab_ef = _mm_shuffle_epi32::<0x1B>(abef1);
        let cd_gh = _mm_shuffle_epi32::<0x1B>(cdgh1);
        x[i][0] = _mm_unpacklo_epi64(ab_ef, cd_gh);
        x[i][1] = _mm_unpackhi_epi64(ab_ef, cd_gh);
        x[i][2] = v4(HASH2_PAD[0], HASH2_PAD[1], HASH2_PAD[2], HASH2_PAD[3]);
        x[i][3] = v4(HASH2_PAD[4], HASH2_PAD[5], HASH2_PAD[6], HASH2_PAD[7]);
        abef[i] = h0_abef;
        cdgh[i] = h0_cdgh;
    }
    sha_rounds!(message x, abef, cdgh, [0, 4]);
    sha_rounds!(const KW2, abef, cdgh, [8, 12]);
    sha_rounds!(schedule x, abef, cdgh, [16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56]);
    // Rounds 60 and 61: the new `F` is round 60's `e`, the final `H`.
    let mut h7 = [0u32; N];
    for i in 0..N {
        let xi = &x[i];
        let w60 = next_words(xi[3], xi[0], xi[1], xi[2]);
        let wk = _mm_add_epi32(w60, k4(60));
        let abef62 = _mm_sha256rnds2_epu32(cdgh[i], abef[i], wk);
        h7[i] = H0[7].wrapping_add(_mm_cvtsi128_si32(abef62) as u32);
    }
    h7
}

/// The SHA-NI nonce kernel with `N` nonces interleaved (see [`super::CpuKernel::scan`]).
///
/// # Safety
/// The CPU must support SHA, SSE4.1 and SSSE3 (`is_x86_feature_detected!`
/// for `"sha"`, `"sse4.1"`, `"ssse3"`).
#[target_feature(enable = "sha,sse4.1")]
pub(crate) unsafe fn scan<const N: usize>(
    pre: &NoncePrecomp,
    start: u32,
    count: u32,
    out: &mut Vec<u32>,
) {
    let c = ShaConsts::new(&Folded::new(pre));
    scan_interleaved::<N>(start, count, pre.target_top, out, |n| {
        sha256d_h7::<N>(&c, n)
    });
}
