//! Portable scalar SHA-256: the reference compression and the nonce kernel.
//!
//! The nonce kernel is the CPU twin of `shaders/sha256d.wgsl` and of the SIMD
//! kernels: same precomputation ([`NoncePrecomp`]), same round order, same
//! early exit. Functions are named after FIPS 180-4 section 4.1.2.

use super::{BLOCK2_PAD, H0, HASH2_PAD, K, NoncePrecomp};

/// `Ch(x, y, z)`: for each bit, `y` where `x` is set, else `z`.
#[inline(always)]
pub fn ch(x: u32, y: u32, z: u32) -> u32 {
    z ^ (x & (y ^ z))
}

/// `Maj(x, y, z)`: the bitwise majority, `y` where `x` and `y` agree, else `z`.
///
/// Written `y ^ ((x ^ y) & (y ^ z))` because in consecutive rounds one
/// round's `a ^ b` is the next round's `b ^ c`: the compiler computes it once,
/// leaving three operations per round instead of four.
#[inline(always)]
pub fn maj(x: u32, y: u32, z: u32) -> u32 {
    y ^ ((x ^ y) & (y ^ z))
}

// The Σ and σ functions are written nested, `ROTR^c(ROTR^b(ROTR^a(x) ^ x) ^ x)`,
// the same function as FIPS 180-4's sum of rotations (rotations compose by
// adding their counts). On x86 without BMI2's `rorx`, `ror` overwrites its
// operand, so the flat form needs a copy of `x` for each rotation and the nested
// form one. With `Maj` below, this took the nonce kernel from 5,972 to 4,856
// instructions per nonce and from 2.75 to 3.2 MH/s on Zen 4 (BENCHMARKS.md). The
// SIMD and GPU kernels keep the flat form, where a three-input XOR is one
// instruction.

/// `Σ0(x) = ROTR²(x) ^ ROTR¹³(x) ^ ROTR²²(x)`.
#[inline(always)]
pub fn big_sigma0(x: u32) -> u32 {
    ((x.rotate_right(9) ^ x).rotate_right(11) ^ x).rotate_right(2)
}

/// `Σ1(x) = ROTR⁶(x) ^ ROTR¹¹(x) ^ ROTR²⁵(x)`.
#[inline(always)]
pub fn big_sigma1(x: u32) -> u32 {
    ((x.rotate_right(14) ^ x).rotate_right(5) ^ x).rotate_right(6)
}

/// `σ0(x) = ROTR⁷(x) ^ ROTR¹⁸(x) ^ SHR³(x)`.
#[inline(always)]
pub fn sigma0(x: u32) -> u32 {
    (x.rotate_right(11) ^ x).rotate_right(7) ^ (x >> 3)
}

/// `σ1(x) = ROTR¹⁷(x) ^ ROTR¹⁹(x) ^ SHR¹⁰(x)`.
#[inline(always)]
pub fn sigma1(x: u32) -> u32 {
    (x.rotate_right(2) ^ x).rotate_right(17) ^ (x >> 10)
}

/// One round on working variables `s = [a..h]`, with `kw = K[t] + W[t]`.
#[inline(always)]
pub fn round(s: &mut [u32; 8], kw: u32) {
    let [a, b, c, d, e, f, g, h] = *s;
    let t1 = h
        .wrapping_add(big_sigma1(e))
        .wrapping_add(ch(e, f, g))
        .wrapping_add(kw);
    let t2 = big_sigma0(a).wrapping_add(maj(a, b, c));
    *s = [t1.wrapping_add(t2), a, b, c, d.wrapping_add(t1), e, f, g];
}

/// `W[t]` for `t >= 16` from the four earlier words it depends on.
#[inline(always)]
fn schedule(w2: u32, w7: u32, w15: u32, w16: u32) -> u32 {
    sigma1(w2)
        .wrapping_add(w7)
        .wrapping_add(sigma0(w15))
        .wrapping_add(w16)
}

/// The SHA-256 compression function on one 16-word block.
pub fn compress(state: &mut [u32; 8], block: &[u32; 16]) {
    let mut w = [0u32; 64];
    w[..16].copy_from_slice(block);
    for t in 16..64 {
        w[t] = schedule(w[t - 2], w[t - 7], w[t - 15], w[t - 16]);
    }
    let mut s = *state;
    for t in 0..64 {
        round(&mut s, K[t].wrapping_add(w[t]));
    }
    for (x, y) in state.iter_mut().zip(s) {
        *x = x.wrapping_add(y);
    }
}

/// One round with rotating variable names (no moves): `d += T1; h = T1 + T2`.
macro_rules! rnd {
    ($a:ident, $b:ident, $c:ident, $d:ident, $e:ident, $f:ident, $g:ident, $h:ident, $kw:expr) => {
        let t1 = $h
            .wrapping_add(big_sigma1($e))
            .wrapping_add(ch($e, $f, $g))
            .wrapping_add($kw);
        $d = $d.wrapping_add(t1);
        $h = t1
            .wrapping_add(big_sigma0($a))
            .wrapping_add(maj($a, $b, $c));
    };
}

/// The `e` half of a round (`d += T1`), for the last rounds whose new `a` is never used.
macro_rules! rnd_e {
    ($d:ident, $e:ident, $f:ident, $g:ident, $h:ident, $kw:expr) => {
        $d = $d.wrapping_add(
            $h.wrapping_add(big_sigma1($e))
                .wrapping_add(ch($e, $f, $g))
                .wrapping_add($kw),
        );
    };
}

/// `K[t] + W[t]`, extending the schedule in `w` first when `t >= 16`.
/// `t` is a constant after expansion, so padding words fold away.
macro_rules! kw {
    ($w:ident, $t:expr) => {{
        let t = $t;
        if t >= 16 {
            $w[t] = schedule($w[t - 2], $w[t - 7], $w[t - 15], $w[t - 16]);
        }
        K[t].wrapping_add($w[t])
    }};
}

/// Eight rounds starting at `$t` (a multiple of 8), names rotating back to the start.
macro_rules! rounds8 {
    ($w:ident, $t:expr, $a:ident, $b:ident, $c:ident, $d:ident, $e:ident, $f:ident, $g:ident, $h:ident) => {
        rnd!($a, $b, $c, $d, $e, $f, $g, $h, kw!($w, $t));
        rnd!($h, $a, $b, $c, $d, $e, $f, $g, kw!($w, $t + 1));
        rnd!($g, $h, $a, $b, $c, $d, $e, $f, kw!($w, $t + 2));
        rnd!($f, $g, $h, $a, $b, $c, $d, $e, kw!($w, $t + 3));
        rnd!($e, $f, $g, $h, $a, $b, $c, $d, kw!($w, $t + 4));
        rnd!($d, $e, $f, $g, $h, $a, $b, $c, kw!($w, $t + 5));
        rnd!($c, $d, $e, $f, $g, $h, $a, $b, kw!($w, $t + 6));
        rnd!($b, $c, $d, $e, $f, $g, $h, $a, kw!($w, $t + 7));
    };
}

/// The state word `H7` of SHA-256d for one nonce, with every shortcut.
///
/// Returns the final `H7` of the second hash; the hash's top 32 bits (as a
/// little-endian number) are `H7.swap_bytes()`.
#[inline(always)]
pub fn sha256d_h7(pre: &NoncePrecomp, nonce: u32) -> u32 {
    // First hash, second block. The nonce's little-endian bytes are read
    // big-endian by SHA-256, so the message word is the byte-swapped nonce.
    let n = nonce.swap_bytes();
    let mut w = [0u32; 64];
    w[..3].copy_from_slice(&pre.w);
    w[3] = n;
    w[4..16].copy_from_slice(&BLOCK2_PAD);
    // Nonce-independent parts of W16..W19 come from the host.
    w[16] = pre.w16;
    w[17] = pre.w17;
    w[18] = pre.w18_base.wrapping_add(sigma0(n));
    w[19] = pre.w19_base.wrapping_add(n);

    // Rounds 0..=2 were done on the host. Names are chosen so that round 8
    // starts with (a, b, ..., h) in place.
    // Round 3: T1 without the nonce word was precomputed (it holds the old `h`).
    let [mut f, mut g, mut h, mut a, mut b, mut c, mut d, _] = pre.state3;
    let t1 = pre.t1_base3.wrapping_add(n);
    a = a.wrapping_add(t1);
    let mut e = t1.wrapping_add(big_sigma0(f)).wrapping_add(maj(f, g, h));
    // Rounds 4..=15: W is padding, so K + W is a constant.
    rnd!(e, f, g, h, a, b, c, d, kw!(w, 4));
    rnd!(d, e, f, g, h, a, b, c, kw!(w, 5));
    rnd!(c, d, e, f, g, h, a, b, kw!(w, 6));
    rnd!(b, c, d, e, f, g, h, a, kw!(w, 7));
    rounds8!(w, 8, a, b, c, d, e, f, g, h);
    // Rounds 16..=19 use the host's W16..W19 (the `t >= 16` branch would
    // recompute them, so these four are spelled out).
    rnd!(a, b, c, d, e, f, g, h, K[16].wrapping_add(w[16]));
    rnd!(h, a, b, c, d, e, f, g, K[17].wrapping_add(w[17]));
    rnd!(g, h, a, b, c, d, e, f, K[18].wrapping_add(w[18]));
    rnd!(f, g, h, a, b, c, d, e, K[19].wrapping_add(w[19]));
    rnd!(e, f, g, h, a, b, c, d, kw!(w, 20));
    rnd!(d, e, f, g, h, a, b, c, kw!(w, 21));
    rnd!(c, d, e, f, g, h, a, b, kw!(w, 22));
    rnd!(b, c, d, e, f, g, h, a, kw!(w, 23));
    rounds8!(w, 24, a, b, c, d, e, f, g, h);
    rounds8!(w, 32, a, b, c, d, e, f, g, h);
    rounds8!(w, 40, a, b, c, d, e, f, g, h);
    rounds8!(w, 48, a, b, c, d, e, f, g, h);
    rounds8!(w, 56, a, b, c, d, e, f, g, h);
    let m = &pre.midstate;
    let mut x = [0u32; 64];
    x[0] = m[0].wrapping_add(a);
    x[1] = m[1].wrapping_add(b);
    x[2] = m[2].wrapping_add(c);
    x[3] = m[3].wrapping_add(d);
    x[4] = m[4].wrapping_add(e);
    x[5] = m[5].wrapping_add(f);
    x[6] = m[6].wrapping_add(g);
    x[7] = m[7].wrapping_add(h);

    // Second hash: words 8..=15 are constant padding, folded into K + W.
    x[8..16].copy_from_slice(&HASH2_PAD);
    let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = H0;
    rounds8!(x, 0, a, b, c, d, e, f, g, h);
    rounds8!(x, 8, a, b, c, d, e, f, g, h);
    rounds8!(x, 16, a, b, c, d, e, f, g, h);
    rounds8!(x, 24, a, b, c, d, e, f, g, h);
    rounds8!(x, 32, a, b, c, d, e, f, g, h);
    rounds8!(x, 40, a, b, c, d, e, f, g, h);
    rounds8!(x, 48, a, b, c, d, e, f, g, h);
    rnd!(a, b, c, d, e, f, g, h, kw!(x, 56));
    // H7 = H0[7] + (the `e` made in round 60). That `e` is round 59's `d`
    // plus T1, and so on back: rounds 57..=60 need only their `e` half, and
    // rounds 61..=63 are skipped.
    rnd_e!(c, d, e, f, g, kw!(x, 57));
    rnd_e!(b, c, d, e, f, kw!(x, 58));
    rnd_e!(a, b, c, d, e, kw!(x, 59));
    rnd_e!(h, a, b, c, d, kw!(x, 60));
    H0[7].wrapping_add(h)
}

/// The scalar nonce kernel (see [`super::CpuKernel::scan`]): one lane of the
/// shared masked scan loop.
pub fn scan(pre: &NoncePrecomp, start: u32, count: u32, out: &mut Vec<u32>) {
    debug_assert!(u64::from(start) + u64::from(count) <= 1 << 32);
    super::lanes::scan_masked(1, start, count, out, |nonce| {
        u32::from(sha256d_h7(pre, nonce).swap_bytes() <= pre.target_top)
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The nested Σ/σ forms equal FIPS 180-4's sums of rotations.
        #[test]
        fn nested_sigmas_match_fips(x in any::<u32>()) {
            let r = |n| x.rotate_right(n);
            prop_assert_eq!(big_sigma0(x), r(2) ^ r(13) ^ r(22));
            prop_assert_eq!(big_sigma1(x), r(6) ^ r(11) ^ r(25));
            prop_assert_eq!(sigma0(x), r(7) ^ r(18) ^ (x >> 3));
            prop_assert_eq!(sigma1(x), r(17) ^ r(19) ^ (x >> 10));
        }

        /// The XOR form of the majority equals FIPS 180-4's `Maj`.
        #[test]
        fn xor_maj_matches_fips(a in any::<u32>(), b in any::<u32>(), c in any::<u32>()) {
            prop_assert_eq!(b ^ ((a ^ b) & (b ^ c)), (a & b) ^ (a & c) ^ (b & c));
            prop_assert_eq!(maj(a, b, c), (a & b) ^ (a & c) ^ (b & c));
        }
    }
}
