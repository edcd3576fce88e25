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

/// `Maj(x, y, z)`: the bitwise majority.
#[inline(always)]
pub fn maj(x: u32, y: u32, z: u32) -> u32 {
    (x & y) | (z & (x | y))
}

/// `Σ0(x)`.
#[inline(always)]
pub fn big_sigma0(x: u32) -> u32 {
    x.rotate_right(2) ^ x.rotate_right(13) ^ x.rotate_right(22)
}

/// `Σ1(x)`.
#[inline(always)]
pub fn big_sigma1(x: u32) -> u32 {
    x.rotate_right(6) ^ x.rotate_right(11) ^ x.rotate_right(25)
}

/// `σ0(x)`.
#[inline(always)]
pub fn sigma0(x: u32) -> u32 {
    x.rotate_right(7) ^ x.rotate_right(18) ^ (x >> 3)
}

/// `σ1(x)`.
#[inline(always)]
pub fn sigma1(x: u32) -> u32 {
    x.rotate_right(17) ^ x.rotate_right(19) ^ (x >> 10)
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
    w[16] = pre.w16;
    w[17] = pre.w17;
    w[18] = pre.w18_base.wrapping_add(sigma0(n));
    w[19] = pre.w19_base.wrapping_add(n);
    for t in 20..64 {
        w[t] = schedule(w[t - 2], w[t - 7], w[t - 15], w[t - 16]);
    }

    // Rounds 0..=2 were done on the host; round 3 adds the nonce to a
    // precomputed T1.
    let [a, b, c, d, e, f, g, _] = pre.state3;
    let t1 = pre.t1_base3.wrapping_add(n);
    let t2 = big_sigma0(a).wrapping_add(maj(a, b, c));
    let mut s = [t1.wrapping_add(t2), a, b, c, d.wrapping_add(t1), e, f, g];
    for t in 4..64 {
        round(&mut s, K[t].wrapping_add(w[t]));
    }
    let mut h1 = [0u32; 8];
    for i in 0..8 {
        h1[i] = pre.midstate[i].wrapping_add(s[i]);
    }

    // Second hash: words 8..=15 are constant padding.
    w[..8].copy_from_slice(&h1);
    w[8..16].copy_from_slice(&HASH2_PAD);
    for t in 16..61 {
        w[t] = schedule(w[t - 2], w[t - 7], w[t - 15], w[t - 16]);
    }
    let mut s = H0;
    for t in 0..60 {
        round(&mut s, K[t].wrapping_add(w[t]));
    }
    // Round 60 only needs its new `e`, which becomes `h` after rounds 61..=63.
    let [_, _, _, d, e, f, g, h] = s;
    let t1 = h
        .wrapping_add(big_sigma1(e))
        .wrapping_add(ch(e, f, g))
        .wrapping_add(K[60].wrapping_add(w[60]));
    H0[7].wrapping_add(d.wrapping_add(t1))
}

/// The scalar nonce kernel (see [`super::NonceKernel`]).
pub fn scan(pre: &NoncePrecomp, start: u32, count: u32, out: &mut Vec<u32>) {
    let end = u64::from(start) + u64::from(count);
    debug_assert!(end <= 1 << 32);
    for nonce in u64::from(start)..end {
        let nonce = nonce as u32;
        if sha256d_h7(pre, nonce).swap_bytes() <= pre.target_top {
            out.push(nonce);
        }
    }
}
