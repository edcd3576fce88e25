//! The SHA-256d nonce path shared by the lane-parallel kernels (AVX-512,
//! AVX2, NEON) and the GPU: one nonce per vector lane, the same rounds as
//! [`super::scalar::sha256d_h7`], with more of the constant work folded
//! (every per-job constant is a field of [`Folded`]).
//!
//! [`sha256d_h7_twin`] instantiates the round body on plain `u32`s with the
//! shader's primitives (flat-form Σ/σ, `(x & y) | (z & (x | y))` Maj): it is
//! the CPU twin that `shaders/sha256d.wgsl` mirrors round for round, with the
//! same constant names.
//!
//! Each backend file defines the primitive operations on its vector type
//! (`splat`, `add`, `ch`, `maj`, `big_sigma0`, `big_sigma1`, `sigma0`,
//! `sigma1`, each a `#[target_feature]` function) and expands
//! [`sha256d_h7_lanes!`] inside its own `#[target_feature]` function, so the
//! round code below is written once and reads like FIPS 180-4.
//!
//! What is folded, beyond the scalar path's tricks:
//! - round 3's `T2` (its `a`, `b`, `c` are per-job constants), so the state
//!   after round 3 is two additions of the nonce word;
//! - the zero and padding words in the first hash's schedule `W20..=W33`,
//!   and in the second hash's schedule `W16..=W31`;
//! - the second hash's round 0, whose state is the constant `H0`;
//! - after round 56 of the second hash only `e` is needed, so rounds
//!   57..=60 compute `T1` only (the compiler drops the unused `T2`s).

use super::scalar::{big_sigma0, big_sigma1, ch, maj, sigma0, sigma1};
use super::{BLOCK2_PAD, Folded, H0, HASH2_PAD, K};

/// `K[t] + W[t]` of the first hash's rounds 4..=15 (padding words).
pub(crate) const KW1: [u32; 16] = {
    let mut kw = [0u32; 16];
    let mut t = 4;
    while t < 16 {
        kw[t] = K[t].wrapping_add(BLOCK2_PAD[t - 4]);
        t += 1;
    }
    kw
};

/// `K[t] + W[t]` of the second hash's rounds 8..=15 (padding words).
pub(crate) const KW2: [u32; 16] = {
    let mut kw = [0u32; 16];
    let mut t = 8;
    while t < 16 {
        kw[t] = K[t].wrapping_add(HASH2_PAD[t - 8]);
        t += 1;
    }
    kw
};

/// Job-independent constants: parts of the second hash's schedule and its
/// round 0, and the padding part of the first hash's W30.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SecondConsts {
    /// σ0(W15) = σ0(640), part of first-hash W30 (`SSIG0_640` in the shader).
    pub w30_pad: u32,
    /// Round 0: `a = W0 + r0_a`, `e = W0 + r0_e`.
    pub r0_a: u32,
    /// See `r0_a`.
    pub r0_e: u32,
    /// σ1(W15) = σ1(256), part of W17.
    pub c17: u32,
    /// σ0(W8) = σ0(0x80000000), part of W23.
    pub c23: u32,
    /// σ0(W15) = σ0(256), part of W30.
    pub c30: u32,
}

impl SecondConsts {
    /// The constants (cheap; computed per scan call).
    #[inline]
    pub(crate) fn new() -> Self {
        let [a, b, c, d, e, f, g, h] = H0;
        let t1 = h
            .wrapping_add(big_sigma1(e))
            .wrapping_add(ch(e, f, g))
            .wrapping_add(K[0]);
        let t2 = big_sigma0(a).wrapping_add(maj(a, b, c));
        SecondConsts {
            w30_pad: sigma0(BLOCK2_PAD[11]),
            r0_a: t1.wrapping_add(t2),
            r0_e: t1.wrapping_add(d),
            c17: sigma1(HASH2_PAD[7]),
            c23: sigma0(HASH2_PAD[0]),
            c30: sigma0(HASH2_PAD[7]),
        }
    }
}

/// The one scan loop of every nonce kernel: `lanes` nonces per step from
/// `start`, `candidates(base)` returning the bitmask of lanes (bit `i` for
/// nonce `base + i`) whose hash's top word is at most the target. Lanes past
/// `count` (the tail of the last step) are computed and masked off here.
#[inline(always)]
pub(crate) fn scan_masked(
    lanes: u32,
    start: u32,
    count: u32,
    out: &mut Vec<u32>,
    mut candidates: impl FnMut(u32) -> u32,
) {
    debug_assert!((1..=32).contains(&lanes));
    let mut done = 0u32;
    while done < count {
        let base = start.wrapping_add(done);
        let left = count - done;
        let live = if left >= 32 {
            u32::MAX
        } else {
            (1u32 << left) - 1
        };
        let mut hits = candidates(base) & live;
        while hits != 0 {
            out.push(base.wrapping_add(hits.trailing_zeros()));
            hits &= hits - 1;
        }
        done = done.saturating_add(lanes);
    }
}

/// The scan loop of the interleaved kernels (SHA-NI, ARMv8 SHA-2): `h7` maps
/// `N` byte-swapped nonce words to their `H7`s; [`scan_masked`] masks the tail.
#[inline(always)]
pub(crate) fn scan_interleaved<const N: usize>(
    start: u32,
    count: u32,
    target_top: u32,
    out: &mut Vec<u32>,
    mut h7: impl FnMut([u32; N]) -> [u32; N],
) {
    scan_masked(N as u32, start, count, out, |base| {
        let n: [u32; N] = std::array::from_fn(|i| base.wrapping_add(i as u32).swap_bytes());
        h7(n).iter().enumerate().fold(0, |mask, (i, &h)| {
            mask | (u32::from(h.swap_bytes() <= target_top) << i)
        })
    });
}

/// Expands `{ body }` once per listed value of the constant `$t`.
macro_rules! unroll {
    ($t:ident in [$($i:literal),* $(,)?] $body:block) => {
        $( { const $t: usize = $i; $body } )*
    };
}
pub(crate) use unroll;

/// The round sequences of the SHA-instruction kernels (SHA-NI, ARMv8 SHA-2),
/// written once: for each listed `T`, rounds `T..T + 4` of all `N`
/// interleaved nonces on the state pair `($s0, $s1)`. `const $kw` takes
/// `K + W` from a folded table (constant message words); `schedule $m`
/// extends the rolling message window `$m[i][g % 4] = W[4g..4g + 4]` first;
/// `message $m` reads the window as it is (rounds 0..=15). Each kernel file
/// defines `v4`, `k4`, `add`, `rounds4` and `next_words` on its vector type.
macro_rules! sha_rounds {
    (const $kw:ident, $s0:ident, $s1:ident, [$($t:literal),* $(,)?]) => {
        unroll!(T in [$($t),*] {
            let wk = v4($kw[T], $kw[T + 1], $kw[T + 2], $kw[T + 3]);
            for i in 0..N {
                rounds4(&mut $s0[i], &mut $s1[i], wk);
            }
        });
    };
    (message $m:ident, $s0:ident, $s1:ident, [$($t:literal),* $(,)?]) => {
        unroll!(T in [$($t),*] {
            for i in 0..N {
                rounds4(&mut $s0[i], &mut $s1[i], add($m[i][T / 4], k4(T)));
            }
        });
    };
    (schedule $m:ident, $s0:ident, $s1:ident, [$($t:literal),* $(,)?]) => {
        unroll!(T in [$($t),*] {
            const G: usize = T / 4;
            for i in 0..N {
                let mi = &mut $m[i];
                mi[G % 4] = next_words(mi[G % 4], mi[(G + 1) % 4], mi[(G + 2) % 4], mi[(G + 3) % 4]);
                rounds4(&mut $s0[i], &mut $s1[i], add(mi[G % 4], k4(T)));
            }
        });
    };
}
pub(crate) use sha_rounds;

/// One SHA-256 round on `[a..h]` with `kw = K[t] + W[t]`, using the
/// primitives in scope at the expansion site.
macro_rules! round {
    ($s:ident, $kw:expr) => {{
        let [a, b, c, d, e, f, g, h] = $s;
        let t1 = add(add(h, $kw), add(big_sigma1(e), ch(e, f, g)));
        let t2 = add(big_sigma0(a), maj(a, b, c));
        $s = [add(t1, t2), a, b, c, add(d, t1), e, f, g];
    }};
}
pub(crate) use round;

/// `W[t] = σ1(W[t-2]) + W[t-7] + σ0(W[t-15]) + W[t-16]` on a 64-word array.
macro_rules! schedule {
    ($w:ident, $t:expr) => {
        $w[$t] = add(
            add(sigma1($w[$t - 2]), $w[$t - 7]),
            add(sigma0($w[$t - 15]), $w[$t - 16]),
        )
    };
}
pub(crate) use schedule;

/// The final `H7` of SHA-256d for one nonce per lane.
///
/// `$c` is a `&Folded`, `$c2` a `&SecondConsts`, `$n` the byte-swapped
/// nonce words (the message word `W3`). Expands to an expression of the
/// vector type; the primitives must be in scope.
macro_rules! sha256d_h7_lanes {
    ($c:expr, $c2:expr, $n:expr) => {{
        use $crate::sha256::K;
        #[allow(unused_imports)] // already in scope where expanded in this file
        use $crate::sha256::lanes::{KW1, KW2, round, schedule, unroll};
        let c: &$crate::sha256::Folded = $c;
        let c2: &$crate::sha256::lanes::SecondConsts = $c2;
        let n = $n;
        let p = &c.pre;

        // ---- First hash, second block, from round 3 (rounds 0..=2 were
        // done on the host): its new `a` and `e` are the nonce word plus
        // folded constants; the others shift.
        let s3 = p.state3;
        let mut s = [
            add(n, splat(c.a3)),
            splat(s3[0]),
            splat(s3[1]),
            splat(s3[2]),
            add(n, splat(c.e3)),
            splat(s3[4]),
            splat(s3[5]),
            splat(s3[6]),
        ];
        // Round 4: W4 is padding, K + W folded.
        round!(s, splat(KW1[4]));
        // Rounds 5..=15: padding words, K + W folded.
        unroll!(T in [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15] {
            round!(s, splat(KW1[T]));
        });
        // Schedule words that depend on the nonce; zero words dropped.
        let mut w = [splat(0); 64];
        w[16] = splat(p.w16);
        w[17] = splat(p.w17);
        w[18] = add(splat(p.w18_base), sigma0(n));
        w[19] = add(splat(p.w19_base), n);
        w[20] = add(sigma1(w[18]), splat($crate::sha256::BLOCK2_PAD[0]));
        w[21] = sigma1(w[19]);
        w[22] = add(sigma1(w[20]), splat($crate::sha256::BLOCK2_PAD[11]));
        round!(s, splat(c.kw16));
        round!(s, splat(c.kw17));
        unroll!(T in [18, 19, 20, 21, 22] {
            round!(s, add(splat(K[T]), w[T]));
        });
        unroll!(T in [23, 24, 25, 26, 27, 28, 29] {
            w[T] = add(sigma1(w[T - 2]), w[T - 7]);
            round!(s, add(splat(K[T]), w[T]));
        });
        w[30] = add(add(sigma1(w[28]), w[23]), splat(c2.w30_pad));
        round!(s, add(splat(K[30]), w[30]));
        w[31] = add(add(sigma1(w[29]), w[24]), splat(c.w31_base));
        round!(s, add(splat(K[31]), w[31]));
        w[32] = add(add(sigma1(w[30]), w[25]), splat(c.w32_base));
        round!(s, add(splat(K[32]), w[32]));
        w[33] = add(add(sigma1(w[31]), w[26]), add(sigma0(w[18]), splat(p.w17)));
        round!(s, add(splat(K[33]), w[33]));
        unroll!(T in [34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48,
                      49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63] {
            schedule!(w, T);
            round!(s, add(splat(K[T]), w[T]));
        });

        // ---- Second hash: W0..=W7 are the first hash, W8..=W15 padding ----
        let mut x = [splat(0); 64];
        unroll!(I in [0, 1, 2, 3, 4, 5, 6, 7] {
            x[I] = add(s[I], splat(p.midstate[I]));
        });
        let h0 = $crate::sha256::H0;
        let mut s = [
            add(x[0], splat(c2.r0_a)),
            splat(h0[0]),
            splat(h0[1]),
            splat(h0[2]),
            add(x[0], splat(c2.r0_e)),
            splat(h0[4]),
            splat(h0[5]),
            splat(h0[6]),
        ];
        unroll!(T in [1, 2, 3, 4, 5, 6, 7] {
            round!(s, add(splat(K[T]), x[T]));
        });
        unroll!(T in [8, 9, 10, 11, 12, 13, 14, 15] {
            round!(s, splat(KW2[T]));
        });
        x[16] = add(sigma0(x[1]), x[0]);
        round!(s, add(splat(K[16]), x[16]));
        x[17] = add(add(sigma0(x[2]), x[1]), splat(c2.c17));
        round!(s, add(splat(K[17]), x[17]));
        unroll!(T in [18, 19, 20, 21] {
            x[T] = add(add(sigma1(x[T - 2]), sigma0(x[T - 15])), x[T - 16]);
            round!(s, add(splat(K[T]), x[T]));
        });
        x[22] = add(
            add(sigma1(x[20]), sigma0(x[7])),
            add(x[6], splat($crate::sha256::HASH2_PAD[7])),
        );
        round!(s, add(splat(K[22]), x[22]));
        x[23] = add(add(sigma1(x[21]), x[16]), add(x[7], splat(c2.c23)));
        round!(s, add(splat(K[23]), x[23]));
        x[24] = add(add(sigma1(x[22]), x[17]), splat($crate::sha256::HASH2_PAD[0]));
        round!(s, add(splat(K[24]), x[24]));
        unroll!(T in [25, 26, 27, 28, 29] {
            x[T] = add(sigma1(x[T - 2]), x[T - 7]);
            round!(s, add(splat(K[T]), x[T]));
        });
        x[30] = add(add(sigma1(x[28]), x[23]), splat(c2.c30));
        round!(s, add(splat(K[30]), x[30]));
        x[31] = add(
            add(sigma1(x[29]), x[24]),
            add(sigma0(x[16]), splat($crate::sha256::HASH2_PAD[7])),
        );
        round!(s, add(splat(K[31]), x[31]));
        unroll!(T in [32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47,
                      48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59] {
            schedule!(x, T);
            round!(s, add(splat(K[T]), x[T]));
        });
        // Round 60 only needs its new `e`, which is `h` after round 63.
        schedule!(x, 60);
        let [_, _, _, d, e, f, g, h] = s;
        let t1 = add(add(h, add(splat(K[60]), x[60])), add(big_sigma1(e), ch(e, f, g)));
        add(splat(h0[7]), add(d, t1))
    }};
}
pub(crate) use sha256d_h7_lanes;

/// The lane kernel on one `u32` "lane", with the WGSL kernel's primitives:
/// the CPU twin of `sha256d_h7` in `shaders/sha256d.wgsl` (same folded
/// constants, same rounds). `n` is the byte-swapped nonce word; returns the
/// second hash's final `H7`.
pub fn sha256d_h7_twin(c: &Folded, n: u32) -> u32 {
    // The shader's functions, by the shader's definitions.
    #[inline(always)]
    fn splat(x: u32) -> u32 {
        x
    }
    #[inline(always)]
    fn add(x: u32, y: u32) -> u32 {
        x.wrapping_add(y)
    }
    #[inline(always)]
    fn ch(x: u32, y: u32, z: u32) -> u32 {
        z ^ (x & (y ^ z))
    }
    #[inline(always)]
    fn maj(x: u32, y: u32, z: u32) -> u32 {
        (x & y) | (z & (x | y))
    }
    #[inline(always)]
    fn big_sigma0(x: u32) -> u32 {
        x.rotate_right(2) ^ x.rotate_right(13) ^ x.rotate_right(22)
    }
    #[inline(always)]
    fn big_sigma1(x: u32) -> u32 {
        x.rotate_right(6) ^ x.rotate_right(11) ^ x.rotate_right(25)
    }
    #[inline(always)]
    fn sigma0(x: u32) -> u32 {
        x.rotate_right(7) ^ x.rotate_right(18) ^ (x >> 3)
    }
    #[inline(always)]
    fn sigma1(x: u32) -> u32 {
        x.rotate_right(17) ^ x.rotate_right(19) ^ (x >> 10)
    }
    sha256d_h7_lanes!(c, &SecondConsts::new(), n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sha256::{NoncePrecomp, scalar};
    use proptest::prelude::*;

    proptest! {
        /// The twin (the lane body on `u32`s, as the shader computes) agrees
        /// with the scalar kernel, which the tests check against `sha2`.
        #[test]
        fn twin_matches_the_scalar_kernel(
            header in proptest::collection::vec(any::<u8>(), 80),
            nonce in any::<u32>(),
        ) {
            let header: [u8; 80] = header.try_into().unwrap();
            let pre = NoncePrecomp::new(&header, 0);
            let folded = Folded::new(&pre);
            prop_assert_eq!(
                sha256d_h7_twin(&folded, nonce.swap_bytes()),
                scalar::sha256d_h7(&pre, nonce)
            );
        }
    }

    #[test]
    fn twin_finds_the_genesis_nonce() {
        // The genesis header's wire bytes (its nonce bytes are not read).
        let mut genesis = [0u8; 80];
        hex::decode_to_slice(
            "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c",
            &mut genesis,
        )
        .unwrap();
        let pre = NoncePrecomp::new(&genesis, 0);
        let folded = Folded::new(&pre);
        // The genesis hash 000000000019d668…: its top 32 bits are zero.
        assert_eq!(sha256d_h7_twin(&folded, 2_083_236_893u32.swap_bytes()), 0);
        assert_ne!(sha256d_h7_twin(&folded, 2_083_236_892u32.swap_bytes()), 0);
    }
}
