//! The constants and the per-job precomputation every nonce kernel shares
//! (public only through [`crate::hazmat`]).

use super::scalar;

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

/// Every per-job constant the lane kernels, the SHA-instruction kernels and
/// the GPU kernel fold, computed once on the host: [`NoncePrecomp`] plus the
/// words only the unrolled kernels use.
///
/// One definition for all of them: the GPU uniform embeds it, and `struct
/// Params` in `shaders/sha256d.wgsl` mirrors its field names (checked by
/// `tests/gpu_shader.rs`). `Pod`, 16-byte multiple, for the uniform buffer.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Folded {
    /// The shared precomputation (midstate, state after round 2, W16..W19 parts).
    pub pre: NoncePrecomp,
    /// Nonce-independent part of first-hash W31: σ0(W16) + W15.
    pub w31_base: u32,
    /// Nonce-independent part of first-hash W32: σ0(W17) + W16.
    pub w32_base: u32,
    /// `K[16] + W16`.
    pub kw16: u32,
    /// `K[17] + W17`.
    pub kw17: u32,
    /// Round 3's new `a` minus the nonce word: `t1_base3 + Σ0(a) + Maj(a, b, c)`
    /// (its `a`, `b`, `c` are per-job constants, so all of `T2` folds).
    pub a3: u32,
    /// Round 3's new `e` minus the nonce word: `t1_base3 + d`.
    pub e3: u32,
    /// Padding to a multiple of 16 bytes.
    pub pad: [u32; 2],
}

impl Folded {
    /// Folds the per-job constants of `pre`.
    #[inline]
    pub fn new(pre: &NoncePrecomp) -> Self {
        let [a, b, c, d, ..] = pre.state3;
        let t2 = scalar::big_sigma0(a).wrapping_add(scalar::maj(a, b, c));
        Folded {
            pre: *pre,
            w31_base: scalar::sigma0(pre.w16).wrapping_add(BLOCK2_PAD[11]),
            w32_base: scalar::sigma0(pre.w17).wrapping_add(pre.w16),
            kw16: K[16].wrapping_add(pre.w16),
            kw17: K[17].wrapping_add(pre.w17),
            a3: pre.t1_base3.wrapping_add(t2),
            e3: pre.t1_base3.wrapping_add(d),
            pad: [0; 2],
        }
    }
}
