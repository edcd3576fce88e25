//! ARMv8 SHA-2 nonce kernel: the crypto extension's `sha256h`/`sha256h2`
//! (four rounds per pair) with several nonces interleaved.
//!
//! The state is held as `ABCD`/`EFGH` vectors. The state after round 3 is
//! per-job constants plus the nonce in lane 0 of each; rounds 4..=15 use
//! constant `K + W` vectors; the second hash starts from constant padding
//! words, and its `H7` is lane 3 of `EFGH` after round 63, which is round
//! 60's `e` (the last `sha256h`, for `ABCD`, is dead and dropped).

use std::arch::aarch64::*;

use super::lanes::{KW1, KW2, scan_interleaved, sha_rounds, unroll};
use super::{BLOCK2_PAD, Folded, H0, HASH2_PAD, K, NoncePrecomp};

/// Nonces interleaved by the kernel the dispatcher runs.
pub(crate) const INTERLEAVE: usize = 2;

type V = uint32x4_t;

/// Four words as a vector, lane 0 first.
#[target_feature(enable = "neon")]
#[inline]
fn v4(w0: u32, w1: u32, w2: u32, w3: u32) -> V {
    let lo = u64::from(w0) | (u64::from(w1) << 32);
    let hi = u64::from(w2) | (u64::from(w3) << 32);
    vcombine_u32(vcreate_u32(lo), vcreate_u32(hi))
}

/// Lane-wise wrapping addition.
#[target_feature(enable = "neon")]
#[inline]
fn add(a: V, b: V) -> V {
    vaddq_u32(a, b)
}

/// `K[t..t + 4]` as a vector.
#[target_feature(enable = "neon")]
#[inline]
fn k4(t: usize) -> V {
    v4(K[t], K[t + 1], K[t + 2], K[t + 3])
}

/// Four rounds: `wk` holds `K[t] + W[t]` for `t..t + 4`.
#[target_feature(enable = "neon,sha2")]
#[inline]
fn rounds4(abcd: &mut V, efgh: &mut V, wk: V) {
    let abcd0 = *abcd;
    *abcd = vsha256hq_u32(abcd0, *efgh, wk);
    *efgh = vsha256h2q_u32(*efgh, abcd0, wk);
}

/// `W[t..t + 4]` from the four previous message vectors.
#[target_feature(enable = "neon,sha2")]
#[inline]
fn next_words(w16: V, w12: V, w8: V, w4: V) -> V {
    vsha256su1q_u32(vsha256su0q_u32(w16, w12), w8, w4)
}

/// Per-job vectors of the ARM SHA-2 kernel.
struct Sha2Consts {
    /// State after round 3 without the nonce (added to lane 0 of each).
    abcd3: V,
    efgh3: V,
    /// Message words 0..=3 of the first hash with word 3 (the nonce) zero.
    m0: V,
    mid_abcd: V,
    mid_efgh: V,
}

impl Sha2Consts {
    #[target_feature(enable = "neon")]
    fn new(c: &Folded) -> Self {
        let s = c.pre.state3;
        let m = c.pre.midstate;
        Sha2Consts {
            abcd3: v4(c.a3, s[0], s[1], s[2]),
            efgh3: v4(c.e3, s[4], s[5], s[6]),
            m0: v4(c.pre.w[0], c.pre.w[1], c.pre.w[2], 0),
            mid_abcd: v4(m[0], m[1], m[2], m[3]),
            mid_efgh: v4(m[4], m[5], m[6], m[7]),
        }
    }
}

/// `H7` of SHA-256d for `N` nonces `n` (byte-swapped message words), side by side.
#[target_feature(enable = "neon,sha2")]
#[inline]
fn sha256d_h7<const N: usize>(c: &Sha2Consts, n: [u32; N]) -> [u32; N] {
    // ---- First hash, second block, from round 4 ----
    let mut abcd = [c.abcd3; N];
    let mut efgh = [c.efgh3; N];
    let zero = vdupq_n_u32(0);
    // Message vectors, a rolling window of four: m[i][g % 4] is W[4g..4g + 4].
    let mut m = [[zero; 4]; N];
    for i in 0..N {
        let nv = vsetq_lane_u32::<0>(n[i], zero);
        abcd[i] = vaddq_u32(abcd[i], nv);
        efgh[i] = vaddq_u32(efgh[i], nv);
        m[i][0] = vsetq_lane_u32::<3>(n[i], c.m0);
        m[i][1] = v4(BLOCK2_PAD[0], BLOCK2_PAD[1], BLOCK2_PAD[2], BLOCK2_PAD[3]);
        m[i][2] = v4(BLOCK2_PAD[4], BLOCK2_PAD[5], BLOCK2_PAD[6], BLOCK2_PAD[7]);
        m[i][3] = v4(BLOCK2_PAD[8], BLOCK2_PAD[9], BLOCK2_PAD[10], BLOCK2_PAD[11]);
    }
    sha_rounds!(const KW1, abcd, efgh, [4, 8, 12]);
    sha_rounds!(schedule m, abcd, efgh, [16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60]);

    // ---- Second hash: W0..=W7 are the first hash, W8..=W15 padding ----
    let h0_abcd = v4(H0[0], H0[1], H0[2], H0[3]);
    let h0_efgh = v4(H0[4], H0[5], H0[6], H0[7]);
    let mut x = [[zero; 4]; N];
    for i in 0..N {
        x[i][0] = vaddq_u32(abcd[i], c.mid_abcd);
        x[i][1] = vaddq_u32(efgh[i], c.mid_efgh);
        x[i][2] = v4(HASH2_PAD[0], HASH2_PAD[1], HASH2_PAD[2], HASH2_PAD[3]);
        x[i][3] = v4(HASH2_PAD[4], HASH2_PAD[5], HASH2_PAD[6], HASH2_PAD[7]);
        abcd[i] = h0_abcd;
        efgh[i] = h0_efgh;
    }
    sha_rounds!(message x, abcd, efgh, [0, 4]);
    sha_rounds!(const KW2, abcd, efgh, [8, 12]);
    sha_rounds!(schedule x, abcd, efgh, [16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60]);
    // After round 63, `h` (lane 3 of EFGH) is round 60's `e`.
    let mut h7 = [0u32; N];
    for i in 0..N {
        h7[i] = H0[7].wrapping_add(vgetq_lane_u32::<3>(efgh[i]));
    }
    h7
}

/// The ARM SHA-2 nonce kernel with `N` nonces interleaved (see [`super::CpuKernel::scan`]).
///
/// # Safety
/// The CPU must support NEON and the SHA-2 instructions
/// (`is_aarch64_feature_detected!` for `"neon"` and `"sha2"`).
#[target_feature(enable = "neon,sha2")]
pub(crate) unsafe fn scan<const N: usize>(
    pre: &NoncePrecomp,
    start: u32,
    count: u32,
    out: &mut Vec<u32>,
) {
    let c = Sha2Consts::new(&Folded::new(pre));
    scan_interleaved::<N>(start, count, pre.target_top, out, |n| {
        sha256d_h7::<N>(&c, n)
    });
}
