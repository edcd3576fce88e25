//! AVX-512 nonce kernel: 16 nonces per 512-bit vector.
//!
//! Rotations are single `vprord` instructions, and `vpternlogd` computes
//! `Ch` (truth table `0xCA`), `Maj` (`0xE8`) and the three-way XOR of each
//! Σ/σ function in one instruction. The final compare is a mask register.

#[cfg(target_arch = "x86")]
use std::arch::x86::*;
#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

use super::lanes::{SecondConsts, scan_masked, sha256d_h7_lanes};
use super::{Folded, NoncePrecomp};

/// Nonces per vector.
pub(crate) const LANES: u32 = 16;

type V = __m512i;

#[target_feature(enable = "avx512f")]
#[inline]
fn splat(x: u32) -> V {
    _mm512_set1_epi32(x as i32)
}

#[target_feature(enable = "avx512f")]
#[inline]
fn add(a: V, b: V) -> V {
    _mm512_add_epi32(a, b)
}

/// `a ^ b ^ c` in one `vpternlogd`.
#[target_feature(enable = "avx512f")]
#[inline]
fn xor3(a: V, b: V, c: V) -> V {
    _mm512_ternarylogic_epi32::<0x96>(a, b, c)
}

#[target_feature(enable = "avx512f")]
#[inline]
fn ch(x: V, y: V, z: V) -> V {
    _mm512_ternarylogic_epi32::<0xCA>(x, y, z)
}

#[target_feature(enable = "avx512f")]
#[inline]
fn maj(x: V, y: V, z: V) -> V {
    _mm512_ternarylogic_epi32::<0xE8>(x, y, z)
}

#[target_feature(enable = "avx512f")]
#[inline]
fn big_sigma0(x: V) -> V {
    xor3(
        _mm512_ror_epi32::<2>(x),
        _mm512_ror_epi32::<13>(x),
        _mm512_ror_epi32::<22>(x),
    )
}

#[target_feature(enable = "avx512f")]
#[inline]
fn big_sigma1(x: V) -> V {
    xor3(
        _mm512_ror_epi32::<6>(x),
        _mm512_ror_epi32::<11>(x),
        _mm512_ror_epi32::<25>(x),
    )
}

#[target_feature(enable = "avx512f")]
#[inline]
fn sigma0(x: V) -> V {
    xor3(
        _mm512_ror_epi32::<7>(x),
        _mm512_ror_epi32::<18>(x),
        _mm512_srli_epi32::<3>(x),
    )
}

#[target_feature(enable = "avx512f")]
#[inline]
fn sigma1(x: V) -> V {
    xor3(
        _mm512_ror_epi32::<17>(x),
        _mm512_ror_epi32::<19>(x),
        _mm512_srli_epi32::<10>(x),
    )
}

/// Byte-swaps each 32-bit lane (`vpshufb` needs AVX-512BW, so use rotates:
/// `bswap(x) = ror8(x) & 0xff00ff00 | rol8(x) & 0x00ff00ff`).
#[target_feature(enable = "avx512f")]
#[inline]
fn bswap(x: V) -> V {
    _mm512_ternarylogic_epi32::<0xCA>(
        splat(0xff00_ff00),
        _mm512_ror_epi32::<8>(x),
        _mm512_rol_epi32::<8>(x),
    )
}

/// `H7` of 16 nonces (as byte-swapped message words `n`).
#[target_feature(enable = "avx512f")]
#[inline]
fn sha256d_h7(c: &Folded, c2: &SecondConsts, n: V) -> V {
    sha256d_h7_lanes!(c, c2, n)
}

/// The AVX-512 nonce kernel (see [`super::CpuKernel::scan`]).
///
/// # Safety
/// The CPU must support AVX-512F (`is_x86_feature_detected!("avx512f")`).
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn scan(pre: &NoncePrecomp, start: u32, count: u32, out: &mut Vec<u32>) {
    let c = Folded::new(pre);
    let c2 = SecondConsts::new();
    let iota = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    let target = splat(pre.target_top);
    scan_masked(LANES, start, count, out, |base| {
        let nonces = add(splat(base), iota);
        let h7 = sha256d_h7(&c, &c2, bswap(nonces));
        u32::from(_mm512_cmple_epu32_mask(bswap(h7), target))
    });
}
