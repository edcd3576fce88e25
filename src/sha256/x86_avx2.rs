//! AVX2 nonce kernel: 8 nonces per 256-bit vector.
//!
//! AVX2 has no rotate, so each rotation is two shifts and an OR; the rest
//! is the shared lane path ([`super::lanes`]).

#[cfg(target_arch = "x86")]
use std::arch::x86::*;
#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

use super::lanes::{SecondConsts, scan_masked, sha256d_h7_lanes};
use super::{Folded, NoncePrecomp};

/// Nonces per vector.
pub(crate) const LANES: u32 = 8;

type V = __m256i;

#[target_feature(enable = "avx2")]
#[inline]
fn splat(x: u32) -> V {
    _mm256_set1_epi32(x as i32)
}

#[target_feature(enable = "avx2")]
#[inline]
fn add(a: V, b: V) -> V {
    _mm256_add_epi32(a, b)
}

#[target_feature(enable = "avx2")]
#[inline]
fn xor(a: V, b: V) -> V {
    _mm256_xor_si256(a, b)
}

/// `x` rotated right by `R` (`L` must be `32 - R`).
#[target_feature(enable = "avx2")]
#[inline]
fn rotr<const R: i32, const L: i32>(x: V) -> V {
    _mm256_or_si256(_mm256_srli_epi32::<R>(x), _mm256_slli_epi32::<L>(x))
}

#[target_feature(enable = "avx2")]
#[inline]
fn ch(x: V, y: V, z: V) -> V {
    xor(z, _mm256_and_si256(x, xor(y, z)))
}

/// `y ^ ((x ^ y) & (y ^ z))`: a round's `x ^ y` is the next round's `y ^ z`,
/// which the compiler reuses, so three operations per round instead of four.
#[target_feature(enable = "avx2")]
#[inline]
fn maj(x: V, y: V, z: V) -> V {
    xor(y, _mm256_and_si256(xor(x, y), xor(y, z)))
}

#[target_feature(enable = "avx2")]
#[inline]
fn big_sigma0(x: V) -> V {
    xor(xor(rotr::<2, 30>(x), rotr::<13, 19>(x)), rotr::<22, 10>(x))
}

#[target_feature(enable = "avx2")]
#[inline]
fn big_sigma1(x: V) -> V {
    xor(xor(rotr::<6, 26>(x), rotr::<11, 21>(x)), rotr::<25, 7>(x))
}

#[target_feature(enable = "avx2")]
#[inline]
fn sigma0(x: V) -> V {
    xor(
        xor(rotr::<7, 25>(x), rotr::<18, 14>(x)),
        _mm256_srli_epi32::<3>(x),
    )
}

#[target_feature(enable = "avx2")]
#[inline]
fn sigma1(x: V) -> V {
    xor(
        xor(rotr::<17, 15>(x), rotr::<19, 13>(x)),
        _mm256_srli_epi32::<10>(x),
    )
}

/// Byte-swaps each 32-bit lane.
#[target_feature(enable = "avx2")]
#[inline]
fn bswap(x: V) -> V {
    let order = _mm256_setr_epi8(
        3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12, 3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8,
        15, 14, 13, 12,
    );
    _mm256_shuffle_epi8(x, order)
}

/// `H7` of 8 nonces (as byte-swapped message words `n`).
#[target_feature(enable = "avx2")]
#[inline]
fn sha256d_h7(c: &Folded, c2: &SecondConsts, n: V) -> V {
    sha256d_h7_lanes!(c, c2, n)
}

/// The AVX2 nonce kernel (see [`super::CpuKernel::scan`]).
///
/// # Safety
/// The CPU must support AVX2 (`is_x86_feature_detected!("avx2")`).
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn scan(pre: &NoncePrecomp, start: u32, count: u32, out: &mut Vec<u32>) {
    let c = Folded::new(pre);
    let c2 = SecondConsts::new();
    let iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    let target = splat(pre.target_top);
    scan_masked(LANES, start, count, out, |base| {
        let nonces = add(splat(base), iota);
        let top = bswap(sha256d_h7(&c, &c2, bswap(nonces)));
        // Unsigned `top <= target` as `max(top, target) == target`.
        let le = _mm256_cmpeq_epi32(_mm256_max_epu32(top, target), target);
        _mm256_movemask_ps(_mm256_castsi256_ps(le)) as u32
    });
}
