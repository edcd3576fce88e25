//! NEON nonce kernel: 4 nonces per 128-bit vector (AArch64 Advanced SIMD).
//!
//! A rotation is a shift plus a shift-left-and-insert (`ushr` + `sli`),
//! `Ch` and `Maj` are bit selects (`bsl`); the rest is the shared lane path
//! ([`super::lanes`]).

use std::arch::aarch64::*;

use super::lanes::{SecondConsts, scan_masked, sha256d_h7_lanes};
use super::{Folded, NoncePrecomp};

/// Nonces per vector.
pub(crate) const LANES: u32 = 4;

type V = uint32x4_t;

#[target_feature(enable = "neon")]
#[inline]
fn splat(x: u32) -> V {
    vdupq_n_u32(x)
}

#[target_feature(enable = "neon")]
#[inline]
fn add(a: V, b: V) -> V {
    vaddq_u32(a, b)
}

#[target_feature(enable = "neon")]
#[inline]
fn xor(a: V, b: V) -> V {
    veorq_u32(a, b)
}

/// `x` rotated right by `R` (`L` must be `32 - R`).
#[target_feature(enable = "neon")]
#[inline]
fn rotr<const R: i32, const L: i32>(x: V) -> V {
    vsliq_n_u32::<L>(vshrq_n_u32::<R>(x), x)
}

#[target_feature(enable = "neon")]
#[inline]
fn ch(x: V, y: V, z: V) -> V {
    vbslq_u32(x, y, z)
}

/// Where `x` and `y` differ the majority is `z`, elsewhere it is `y`.
#[target_feature(enable = "neon")]
#[inline]
fn maj(x: V, y: V, z: V) -> V {
    vbslq_u32(veorq_u32(x, y), z, y)
}

#[target_feature(enable = "neon")]
#[inline]
fn big_sigma0(x: V) -> V {
    xor(xor(rotr::<2, 30>(x), rotr::<13, 19>(x)), rotr::<22, 10>(x))
}

#[target_feature(enable = "neon")]
#[inline]
fn big_sigma1(x: V) -> V {
    xor(xor(rotr::<6, 26>(x), rotr::<11, 21>(x)), rotr::<25, 7>(x))
}

#[target_feature(enable = "neon")]
#[inline]
fn sigma0(x: V) -> V {
    xor(
        xor(rotr::<7, 25>(x), rotr::<18, 14>(x)),
        vshrq_n_u32::<3>(x),
    )
}

#[target_feature(enable = "neon")]
#[inline]
fn sigma1(x: V) -> V {
    xor(
        xor(rotr::<17, 15>(x), rotr::<19, 13>(x)),
        vshrq_n_u32::<10>(x),
    )
}

/// Byte-swaps each 32-bit lane.
#[target_feature(enable = "neon")]
#[inline]
fn bswap(x: V) -> V {
    vreinterpretq_u32_u8(vrev32q_u8(vreinterpretq_u8_u32(x)))
}

/// `H7` of 4 nonces (as byte-swapped message words `n`).
#[target_feature(enable = "neon")]
#[inline]
fn sha256d_h7(c: &Folded, c2: &SecondConsts, n: V) -> V {
    sha256d_h7_lanes!(c, c2, n)
}

/// The NEON nonce kernel (see [`super::CpuKernel::scan`]).
///
/// # Safety
/// The CPU must support NEON (`is_aarch64_feature_detected!("neon")`).
#[target_feature(enable = "neon")]
pub(crate) unsafe fn scan(pre: &NoncePrecomp, start: u32, count: u32, out: &mut Vec<u32>) {
    let c = Folded::new(pre);
    let c2 = SecondConsts::new();
    let iota = vcombine_u32(vcreate_u32(1 << 32), vcreate_u32(2 | (3 << 32)));
    let bits = vcombine_u32(vcreate_u32(1 | (2 << 32)), vcreate_u32(4 | (8 << 32)));
    let target = splat(pre.target_top);
    scan_masked(LANES, start, count, out, |base| {
        let nonces = add(splat(base), iota);
        let top = bswap(sha256d_h7(&c, &c2, bswap(nonces)));
        let le = vcleq_u32(top, target);
        vaddvq_u32(vandq_u32(le, bits))
    });
}
