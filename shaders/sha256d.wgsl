// SHA-256d nonce search: the WGSL twin of `lanes::sha256d_h7_twin`
// (src/sha256/lanes.rs: the CPU lane kernels' round body on plain u32s, with
// this file's primitives and the same `Folded` constants, round for round),
// scanned like `lanes::scan_masked`. Each invocation hashes NONCES_PER_INVOCATION consecutive
// nonces of the batch and appends every *candidate* (a nonce whose hash has top
// 32 bits <= target_top) to a fixed-capacity hit buffer. The host re-checks each
// candidate with the full hash and 256-bit compare (`Job::verify`), and searches
// a batch again on the CPU when more candidates arrived than the buffer holds.
//
// Tricks, each marked where it is used below:
//  [midstate]   The first 64 header bytes do not depend on the nonce: their
//               compression is done once per job on the host (`p.midstate_*`).
//  [rounds0-2]  Second-block words 0..2 (merkle tail, time, nBits) are fixed and
//               the nonce is word 3, so rounds 0..2 run on the host (`p.state3_*`)
//               and round 3's new `a` and `e` are the nonce word plus `p.a3`, `p.e3`.
//  [schedule]   W16, W17 and the nonce-independent parts of W18, W19, W31, W32
//               come from the host; zero padding words drop out of W20..W31.
//  [K+W]        Where a message word is constant padding, K[t] + W[t] is one
//               literal: rounds 4..15 of the first hash, 8..15 of the second.
//  [hash2-r0]   The second hash starts from the constant H0, so its round 0 is
//               `a = W0 + const`, `e = W0 + const`.
//  [early-exit] Bitcoin compares the hash as a little-endian 256-bit number, so
//               the top 32 bits are the byte-swapped last state word H7. H7 is
//               final after round 60 (rounds 61..63 only shift it), so rounds
//               61..63 are skipped and round 60 computes only its new `e`. Only
//               candidates go to the host; easier targets than 2^224 still work
//               because every nonce whose top word is <= target_top is kept.
//  [rotate]     WGSL has no rotate builtin: `(x >> n) | (x << (32 - n))` with a
//               constant n. Drivers should fuse it into one funnel shift (SHF.R
//               on NVIDIA, V_ALIGNBIT on AMD); check the SASS/ISA when tuning.
//  [rename]     Rounds rename the eight working variables instead of moving
//               them: each `step` writes only the two that change (d and h).
//  [multi]      Several nonces per invocation (override NONCES_PER_INVOCATION)
//               amortise the per-invocation setup; workgroup size is an override
//               too. Both are set per adapter through
//               `PipelineCompilationOptions::constants`.
//  [stop]       A cancel need not wait for the batches in flight: each
//               workgroup (or invocation) reads the host's stop flag before it
//               claims a chunk of the batch.

// Workgroup size (set per adapter by the host).
override WORKGROUP_SIZE: u32 = 256u;
// [multi] Nonces each invocation hashes (set per adapter by the host).
override NONCES_PER_INVOCATION: u32 = 4u;
// [stop] Whether a workgroup claims its chunk as a whole (GPUs: one atomic per
// workgroup) or each invocation claims its own (software adapters, where the
// workgroup barrier costs more than the atomics). Set by the host.
override CLAIM_BY_WORKGROUP: bool = true;

// Mirrors `GpuParams` in src/gpu/context.rs: `Folded` (src/sha256/precomp.rs,
// which embeds `NoncePrecomp`) under the same field names, then the batch.
// Uniform arrays need a 16-byte stride, so the 8-word states are two vec4s.
struct Params {
    midstate_lo: vec4<u32>,  // [midstate] H0..H3 after header bytes 0..64
    midstate_hi: vec4<u32>,  // [midstate] H4..H7
    state3_lo: vec4<u32>,    // [rounds0-2] a, b, c, d after round 2
    state3_hi: vec4<u32>,    // [rounds0-2] e, f, g, h after round 2
    w0: u32,                 // second-block words 0..2 (used by the host only)
    w1: u32,
    w2: u32,
    t1_base3: u32,           // round 3's T1 without the nonce (folded into a3, e3)
    w16: u32,                // [schedule] W16
    w17: u32,                // [schedule] W17
    w18_base: u32,           // [schedule] W18 - σ0(nonce word)
    w19_base: u32,           // [schedule] W19 - nonce word
    target_top: u32,         // [early-exit] the target's top 32 bits
    pad0: u32,
    pad1: u32,
    pad2: u32,
    w31_base: u32,           // [schedule] σ0(W16) + W15
    w32_base: u32,           // [schedule] σ0(W17) + W16
    kw16: u32,               // [K+W] K[16] + W16
    kw17: u32,               // [K+W] K[17] + W17
    a3: u32,                 // [rounds0-2] round 3's new a minus the nonce word
    e3: u32,                 // [rounds0-2] round 3's new e minus the nonce word
    pad3: u32,
    pad4: u32,
    base: u32,               // first nonce of this batch
    count: u32,              // nonces in this batch
    pad5: u32,
    pad6: u32,
}

// Candidate nonces: an atomic counter and a fixed-capacity array. The counter
// keeps counting past the capacity, so the host sees the overflow. `claimed`
// counts the chunks of the batch taken (see [stop]).
struct Hits {
    count: atomic<u32>,
    claimed: atomic<u32>,
    nonces: array<u32>,
}

// [stop] Set by the host when the search is cancelled (src/gpu/stop.rs).
struct Control {
    stop: atomic<u32>,
}

// [stop] The chunk a workgroup claimed, or STOPPED (CLAIM_BY_WORKGROUP).
var<workgroup> chunk: u32;
const STOPPED: u32 = 0xffffffffu;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> hits: Hits;
@group(0) @binding(2) var<storage, read_write> control: Control;

// Folded constants: wrapping u32 values of the expressions named, re-derived
// from K, H0 and the padding words by tests/gpu_shader.rs.
// SSIG0_640 = σ0(640), SSIG0_256 = σ0(256), SSIG1_256 = σ1(256),
// SSIG0_PAD = σ0(0x80000000); H2_R0_A / H2_R0_E = the second hash's round-0
// `a` and `e` minus W0 (T1 + T2 and H0[3] + T1 with W0 = 0).
const SSIG0_640: u32 = 0x00a00055u;
const SSIG0_256: u32 = 0x00400022u;
const SSIG1_256: u32 = 0x00a00000u;
const SSIG0_PAD: u32 = 0x11002000u;
const H2_R0_A: u32 = 0xfc08884du;
const H2_R0_E: u32 = 0x98c7e2a2u;

// [rotate] Right rotation by a constant; drivers should emit a funnel shift.
fn rotr(x: u32, n: u32) -> u32 {
    return (x >> n) | (x << (32u - n));
}

fn bsig0(x: u32) -> u32 {
    return rotr(x, 2u) ^ rotr(x, 13u) ^ rotr(x, 22u);
}

fn bsig1(x: u32) -> u32 {
    return rotr(x, 6u) ^ rotr(x, 11u) ^ rotr(x, 25u);
}

fn ssig0(x: u32) -> u32 {
    return rotr(x, 7u) ^ rotr(x, 18u) ^ (x >> 3u);
}

fn ssig1(x: u32) -> u32 {
    return rotr(x, 17u) ^ rotr(x, 19u) ^ (x >> 10u);
}

fn ch(x: u32, y: u32, z: u32) -> u32 {
    return z ^ (x & (y ^ z));
}

fn maj(x: u32, y: u32, z: u32) -> u32 {
    return (x & y) | (z & (x | y));
}

fn bswap(x: u32) -> u32 {
    return (x << 24u) | ((x & 0xff00u) << 8u) | ((x >> 8u) & 0xff00u) | (x >> 24u);
}

// [rename] One SHA-256 round with `kw = K[t] + W[t]`: writes the new `e` into
// `d` and the new `a` into `h`; the caller rotates the names for the next round.
fn step(a: u32, b: u32, c: u32, d: ptr<function, u32>, e: u32, f: u32, g: u32, h: ptr<function, u32>, kw: u32) {
    let t1 = *h + bsig1(e) + ch(e, f, g) + kw;
    *d = *d + t1;
    *h = t1 + bsig0(a) + maj(a, b, c);
}

// The final state word H7 of SHA-256d for message word `n` (the byte-swapped
// nonce), as `scalar::sha256d_h7`.
fn sha256d_h7(n: u32) -> u32 {
    // ---- First hash, second block. ----
    // [rounds0-2] Round 3 from the host's state after round 2: the new `a`
    // (named h here) and `e` (named d) are the nonce word plus folded
    // constants; the other six shift.
    var h = n + p.a3;
    var a = p.state3_lo.x;
    var b = p.state3_lo.y;
    var c = p.state3_lo.z;
    var d = n + p.e3;
    var e = p.state3_hi.x;
    var f = p.state3_hi.y;
    var g = p.state3_hi.z;
    // [K+W] Rounds 4..15: W4 = 0x80000000, W5..W14 = 0, W15 = 640.
    // [schedule] W16..W32 use host parts and drop the zero padding words.
    step(h, a, b, &c, d, e, f, &g, 0xb956c25bu);  // K[4] + W4 (0x80000000 padding), folded
    step(g, h, a, &b, c, d, e, &f, 0x59f111f1u);  // K[5], W5 = 0
    step(f, g, h, &a, b, c, d, &e, 0x923f82a4u);  // K[6], W6 = 0
    step(e, f, g, &h, a, b, c, &d, 0xab1c5ed5u);  // K[7], W7 = 0
    step(d, e, f, &g, h, a, b, &c, 0xd807aa98u);  // K[8], W8 = 0
    step(c, d, e, &f, g, h, a, &b, 0x12835b01u);  // K[9], W9 = 0
    step(b, c, d, &e, f, g, h, &a, 0x243185beu);  // K[10], W10 = 0
    step(a, b, c, &d, e, f, g, &h, 0x550c7dc3u);  // K[11], W11 = 0
    step(h, a, b, &c, d, e, f, &g, 0x72be5d74u);  // K[12], W12 = 0
    step(g, h, a, &b, c, d, e, &f, 0x80deb1feu);  // K[13], W13 = 0
    step(f, g, h, &a, b, c, d, &e, 0x9bdc06a7u);  // K[14], W14 = 0
    step(e, f, g, &h, a, b, c, &d, 0xc19bf3f4u);  // K[15] + W15 (bit length 640), folded
    let w16 = p.w16;
    let w17 = p.w17;
    step(d, e, f, &g, h, a, b, &c, p.kw16);  // K[16] + W16, host-side
    step(c, d, e, &f, g, h, a, &b, p.kw17);  // K[17] + W17, host-side
    let w18 = p.w18_base + ssig0(n);
    step(b, c, d, &e, f, g, h, &a, 0x0fc19dc6u + w18);
    let w19 = p.w19_base + n;
    step(a, b, c, &d, e, f, g, &h, 0x240ca1ccu + w19);
    let w20 = ssig1(w18) + 0x80000000u;
    step(h, a, b, &c, d, e, f, &g, 0x2de92c6fu + w20);
    let w21 = ssig1(w19);
    step(g, h, a, &b, c, d, e, &f, 0x4a7484aau + w21);
    let w22 = ssig1(w20) + 640u;
    step(f, g, h, &a, b, c, d, &e, 0x5cb0a9dcu + w22);
    let w23 = ssig1(w21) + w16;
    step(e, f, g, &h, a, b, c, &d, 0x76f988dau + w23);
    let w24 = ssig1(w22) + w17;
    step(d, e, f, &g, h, a, b, &c, 0x983e5152u + w24);
    let w25 = ssig1(w23) + w18;
    step(c, d, e, &f, g, h, a, &b, 0xa831c66du + w25);
    let w26 = ssig1(w24) + w19;
    step(b, c, d, &e, f, g, h, &a, 0xb00327c8u + w26);
    let w27 = ssig1(w25) + w20;
    step(a, b, c, &d, e, f, g, &h, 0xbf597fc7u + w27);
    let w28 = ssig1(w26) + w21;
    step(h, a, b, &c, d, e, f, &g, 0xc6e00bf3u + w28);
    let w29 = ssig1(w27) + w22;
    step(g, h, a, &b, c, d, e, &f, 0xd5a79147u + w29);
    let w30 = ssig1(w28) + w23 + SSIG0_640;
    step(f, g, h, &a, b, c, d, &e, 0x06ca6351u + w30);
    let w31 = ssig1(w29) + w24 + p.w31_base;
    step(e, f, g, &h, a, b, c, &d, 0x14292967u + w31);
    let w32 = ssig1(w30) + w25 + p.w32_base;
    step(d, e, f, &g, h, a, b, &c, 0x27b70a85u + w32);
    let w33 = ssig1(w31) + w26 + ssig0(w18) + w17;
    step(c, d, e, &f, g, h, a, &b, 0x2e1b2138u + w33);
    let w34 = ssig1(w32) + w27 + ssig0(w19) + w18;
    step(b, c, d, &e, f, g, h, &a, 0x4d2c6dfcu + w34);
    let w35 = ssig1(w33) + w28 + ssig0(w20) + w19;
    step(a, b, c, &d, e, f, g, &h, 0x53380d13u + w35);
    let w36 = ssig1(w34) + w29 + ssig0(w21) + w20;
    step(h, a, b, &c, d, e, f, &g, 0x650a7354u + w36);
    let w37 = ssig1(w35) + w30 + ssig0(w22) + w21;
    step(g, h, a, &b, c, d, e, &f, 0x766a0abbu + w37);
    let w38 = ssig1(w36) + w31 + ssig0(w23) + w22;
    step(f, g, h, &a, b, c, d, &e, 0x81c2c92eu + w38);
    let w39 = ssig1(w37) + w32 + ssig0(w24) + w23;
    step(e, f, g, &h, a, b, c, &d, 0x92722c85u + w39);
    let w40 = ssig1(w38) + w33 + ssig0(w25) + w24;
    step(d, e, f, &g, h, a, b, &c, 0xa2bfe8a1u + w40);
    let w41 = ssig1(w39) + w34 + ssig0(w26) + w25;
    step(c, d, e, &f, g, h, a, &b, 0xa81a664bu + w41);
    let w42 = ssig1(w40) + w35 + ssig0(w27) + w26;
    step(b, c, d, &e, f, g, h, &a, 0xc24b8b70u + w42);
    let w43 = ssig1(w41) + w36 + ssig0(w28) + w27;
    step(a, b, c, &d, e, f, g, &h, 0xc76c51a3u + w43);
    let w44 = ssig1(w42) + w37 + ssig0(w29) + w28;
    step(h, a, b, &c, d, e, f, &g, 0xd192e819u + w44);
    let w45 = ssig1(w43) + w38 + ssig0(w30) + w29;
    step(g, h, a, &b, c, d, e, &f, 0xd6990624u + w45);
    let w46 = ssig1(w44) + w39 + ssig0(w31) + w30;
    step(f, g, h, &a, b, c, d, &e, 0xf40e3585u + w46);
    let w47 = ssig1(w45) + w40 + ssig0(w32) + w31;
    step(e, f, g, &h, a, b, c, &d, 0x106aa070u + w47);
    let w48 = ssig1(w46) + w41 + ssig0(w33) + w32;
    step(d, e, f, &g, h, a, b, &c, 0x19a4c116u + w48);
    let w49 = ssig1(w47) + w42 + ssig0(w34) + w33;
    step(c, d, e, &f, g, h, a, &b, 0x1e376c08u + w49);
    let w50 = ssig1(w48) + w43 + ssig0(w35) + w34;
    step(b, c, d, &e, f, g, h, &a, 0x2748774cu + w50);
    let w51 = ssig1(w49) + w44 + ssig0(w36) + w35;
    step(a, b, c, &d, e, f, g, &h, 0x34b0bcb5u + w51);
    let w52 = ssig1(w50) + w45 + ssig0(w37) + w36;
    step(h, a, b, &c, d, e, f, &g, 0x391c0cb3u + w52);
    let w53 = ssig1(w51) + w46 + ssig0(w38) + w37;
    step(g, h, a, &b, c, d, e, &f, 0x4ed8aa4au + w53);
    let w54 = ssig1(w52) + w47 + ssig0(w39) + w38;
    step(f, g, h, &a, b, c, d, &e, 0x5b9cca4fu + w54);
    let w55 = ssig1(w53) + w48 + ssig0(w40) + w39;
    step(e, f, g, &h, a, b, c, &d, 0x682e6ff3u + w55);
    let w56 = ssig1(w54) + w49 + ssig0(w41) + w40;
    step(d, e, f, &g, h, a, b, &c, 0x748f82eeu + w56);
    let w57 = ssig1(w55) + w50 + ssig0(w42) + w41;
    step(c, d, e, &f, g, h, a, &b, 0x78a5636fu + w57);
    let w58 = ssig1(w56) + w51 + ssig0(w43) + w42;
    step(b, c, d, &e, f, g, h, &a, 0x84c87814u + w58);
    let w59 = ssig1(w57) + w52 + ssig0(w44) + w43;
    step(a, b, c, &d, e, f, g, &h, 0x8cc70208u + w59);
    let w60 = ssig1(w58) + w53 + ssig0(w45) + w44;
    step(h, a, b, &c, d, e, f, &g, 0x90befffau + w60);
    let w61 = ssig1(w59) + w54 + ssig0(w46) + w45;
    step(g, h, a, &b, c, d, e, &f, 0xa4506cebu + w61);
    let w62 = ssig1(w60) + w55 + ssig0(w47) + w46;
    step(f, g, h, &a, b, c, d, &e, 0xbef9a3f7u + w62);
    let w63 = ssig1(w61) + w56 + ssig0(w48) + w47;
    step(e, f, g, &h, a, b, c, &d, 0xc67178f2u + w63);
    // Feed-forward: add the midstate ([midstate]).
    let x0 = p.midstate_lo.x + d;
    let x1 = p.midstate_lo.y + e;
    let x2 = p.midstate_lo.z + f;
    let x3 = p.midstate_lo.w + g;
    let x4 = p.midstate_hi.x + h;
    let x5 = p.midstate_hi.y + a;
    let x6 = p.midstate_hi.z + b;
    let x7 = p.midstate_hi.w + c;

    // ---- Second hash: message x0..x7, then padding 0x80000000, 0 x6, 256. ----
    // [hash2-r0] Round 0 from the constant H0.
    a = x0 + H2_R0_A;
    b = 0x6a09e667u;
    c = 0xbb67ae85u;
    d = 0x3c6ef372u;
    e = x0 + H2_R0_E;
    f = 0x510e527fu;
    g = 0x9b05688cu;
    h = 0x1f83d9abu;
    // [K+W] Rounds 8..15 fold the padding; [schedule] W16..W31 drop its zeros.
    step(a, b, c, &d, e, f, g, &h, 0x71374491u + x1);
    step(h, a, b, &c, d, e, f, &g, 0xb5c0fbcfu + x2);
    step(g, h, a, &b, c, d, e, &f, 0xe9b5dba5u + x3);
    step(f, g, h, &a, b, c, d, &e, 0x3956c25bu + x4);
    step(e, f, g, &h, a, b, c, &d, 0x59f111f1u + x5);
    step(d, e, f, &g, h, a, b, &c, 0x923f82a4u + x6);
    step(c, d, e, &f, g, h, a, &b, 0xab1c5ed5u + x7);
    step(b, c, d, &e, f, g, h, &a, 0x5807aa98u);  // K[8] + W8 (0x80000000 padding), folded (wraps)
    step(a, b, c, &d, e, f, g, &h, 0x12835b01u);  // K[9], W9 = 0
    step(h, a, b, &c, d, e, f, &g, 0x243185beu);  // K[10], W10 = 0
    step(g, h, a, &b, c, d, e, &f, 0x550c7dc3u);  // K[11], W11 = 0
    step(f, g, h, &a, b, c, d, &e, 0x72be5d74u);  // K[12], W12 = 0
    step(e, f, g, &h, a, b, c, &d, 0x80deb1feu);  // K[13], W13 = 0
    step(d, e, f, &g, h, a, b, &c, 0x9bdc06a7u);  // K[14], W14 = 0
    step(c, d, e, &f, g, h, a, &b, 0xc19bf274u);  // K[15] + W15 (bit length 256), folded
    let x16 = ssig0(x1) + x0;
    step(b, c, d, &e, f, g, h, &a, 0xe49b69c1u + x16);
    let x17 = ssig0(x2) + x1 + SSIG1_256;
    step(a, b, c, &d, e, f, g, &h, 0xefbe4786u + x17);
    let x18 = ssig1(x16) + ssig0(x3) + x2;
    step(h, a, b, &c, d, e, f, &g, 0x0fc19dc6u + x18);
    let x19 = ssig1(x17) + ssig0(x4) + x3;
    step(g, h, a, &b, c, d, e, &f, 0x240ca1ccu + x19);
    let x20 = ssig1(x18) + ssig0(x5) + x4;
    step(f, g, h, &a, b, c, d, &e, 0x2de92c6fu + x20);
    let x21 = ssig1(x19) + ssig0(x6) + x5;
    step(e, f, g, &h, a, b, c, &d, 0x4a7484aau + x21);
    let x22 = ssig1(x20) + 256u + ssig0(x7) + x6;
    step(d, e, f, &g, h, a, b, &c, 0x5cb0a9dcu + x22);
    let x23 = ssig1(x21) + x16 + SSIG0_PAD + x7;
    step(c, d, e, &f, g, h, a, &b, 0x76f988dau + x23);
    let x24 = ssig1(x22) + x17 + 0x80000000u;
    step(b, c, d, &e, f, g, h, &a, 0x983e5152u + x24);
    let x25 = ssig1(x23) + x18;
    step(a, b, c, &d, e, f, g, &h, 0xa831c66du + x25);
    let x26 = ssig1(x24) + x19;
    step(h, a, b, &c, d, e, f, &g, 0xb00327c8u + x26);
    let x27 = ssig1(x25) + x20;
    step(g, h, a, &b, c, d, e, &f, 0xbf597fc7u + x27);
    let x28 = ssig1(x26) + x21;
    step(f, g, h, &a, b, c, d, &e, 0xc6e00bf3u + x28);
    let x29 = ssig1(x27) + x22;
    step(e, f, g, &h, a, b, c, &d, 0xd5a79147u + x29);
    let x30 = ssig1(x28) + x23 + SSIG0_256;
    step(d, e, f, &g, h, a, b, &c, 0x06ca6351u + x30);
    let x31 = ssig1(x29) + x24 + ssig0(x16) + 256u;
    step(c, d, e, &f, g, h, a, &b, 0x14292967u + x31);
    let x32 = ssig1(x30) + x25 + ssig0(x17) + x16;
    step(b, c, d, &e, f, g, h, &a, 0x27b70a85u + x32);
    let x33 = ssig1(x31) + x26 + ssig0(x18) + x17;
    step(a, b, c, &d, e, f, g, &h, 0x2e1b2138u + x33);
    let x34 = ssig1(x32) + x27 + ssig0(x19) + x18;
    step(h, a, b, &c, d, e, f, &g, 0x4d2c6dfcu + x34);
    let x35 = ssig1(x33) + x28 + ssig0(x20) + x19;
    step(g, h, a, &b, c, d, e, &f, 0x53380d13u + x35);
    let x36 = ssig1(x34) + x29 + ssig0(x21) + x20;
    step(f, g, h, &a, b, c, d, &e, 0x650a7354u + x36);
    let x37 = ssig1(x35) + x30 + ssig0(x22) + x21;
    step(e, f, g, &h, a, b, c, &d, 0x766a0abbu + x37);
    let x38 = ssig1(x36) + x31 + ssig0(x23) + x22;
    step(d, e, f, &g, h, a, b, &c, 0x81c2c92eu + x38);
    let x39 = ssig1(x37) + x32 + ssig0(x24) + x23;
    step(c, d, e, &f, g, h, a, &b, 0x92722c85u + x39);
    let x40 = ssig1(x38) + x33 + ssig0(x25) + x24;
    step(b, c, d, &e, f, g, h, &a, 0xa2bfe8a1u + x40);
    let x41 = ssig1(x39) + x34 + ssig0(x26) + x25;
    step(a, b, c, &d, e, f, g, &h, 0xa81a664bu + x41);
    let x42 = ssig1(x40) + x35 + ssig0(x27) + x26;
    step(h, a, b, &c, d, e, f, &g, 0xc24b8b70u + x42);
    let x43 = ssig1(x41) + x36 + ssig0(x28) + x27;
    step(g, h, a, &b, c, d, e, &f, 0xc76c51a3u + x43);
    let x44 = ssig1(x42) + x37 + ssig0(x29) + x28;
    step(f, g, h, &a, b, c, d, &e, 0xd192e819u + x44);
    let x45 = ssig1(x43) + x38 + ssig0(x30) + x29;
    step(e, f, g, &h, a, b, c, &d, 0xd6990624u + x45);
    let x46 = ssig1(x44) + x39 + ssig0(x31) + x30;
    step(d, e, f, &g, h, a, b, &c, 0xf40e3585u + x46);
    let x47 = ssig1(x45) + x40 + ssig0(x32) + x31;
    step(c, d, e, &f, g, h, a, &b, 0x106aa070u + x47);
    let x48 = ssig1(x46) + x41 + ssig0(x33) + x32;
    step(b, c, d, &e, f, g, h, &a, 0x19a4c116u + x48);
    let x49 = ssig1(x47) + x42 + ssig0(x34) + x33;
    step(a, b, c, &d, e, f, g, &h, 0x1e376c08u + x49);
    let x50 = ssig1(x48) + x43 + ssig0(x35) + x34;
    step(h, a, b, &c, d, e, f, &g, 0x2748774cu + x50);
    let x51 = ssig1(x49) + x44 + ssig0(x36) + x35;
    step(g, h, a, &b, c, d, e, &f, 0x34b0bcb5u + x51);
    let x52 = ssig1(x50) + x45 + ssig0(x37) + x36;
    step(f, g, h, &a, b, c, d, &e, 0x391c0cb3u + x52);
    let x53 = ssig1(x51) + x46 + ssig0(x38) + x37;
    step(e, f, g, &h, a, b, c, &d, 0x4ed8aa4au + x53);
    let x54 = ssig1(x52) + x47 + ssig0(x39) + x38;
    step(d, e, f, &g, h, a, b, &c, 0x5b9cca4fu + x54);
    let x55 = ssig1(x53) + x48 + ssig0(x40) + x39;
    step(c, d, e, &f, g, h, a, &b, 0x682e6ff3u + x55);
    let x56 = ssig1(x54) + x49 + ssig0(x41) + x40;
    step(b, c, d, &e, f, g, h, &a, 0x748f82eeu + x56);
    let x57 = ssig1(x55) + x50 + ssig0(x42) + x41;
    step(a, b, c, &d, e, f, g, &h, 0x78a5636fu + x57);
    let x58 = ssig1(x56) + x51 + ssig0(x43) + x42;
    step(h, a, b, &c, d, e, f, &g, 0x84c87814u + x58);
    let x59 = ssig1(x57) + x52 + ssig0(x44) + x43;
    step(g, h, a, &b, c, d, e, &f, 0x8cc70208u + x59);
    // [early-exit] Round 60: only its new `e` matters; after rounds 61..63 it
    // is `h`, so H7 = H0[7] + d + T1. Rounds 61..63 are skipped.
    let x60 = ssig1(x58) + x53 + ssig0(x45) + x44;
    let t1_60 = e + bsig1(b) + ch(b, c, d) + 0x90befffau + x60;  // K[60] + W60
    return 0x5be0cd19u + a + t1_60;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) local: u32) {
    // [stop] The batch is cut into chunks taken in order through one counter,
    // each only while the stop flag is clear, instead of being assigned by
    // workgroup id. A claimed chunk is always searched in full, so after a
    // stop the searched part of the batch is exactly its first `claimed`
    // chunks.
    var first: u32;
    if CLAIM_BY_WORKGROUP {
        // One claim per workgroup, shared through workgroup memory.
        if local == 0u {
            var claimed = STOPPED;
            if atomicLoad(&control.stop) == 0u {
                claimed = atomicAdd(&hits.claimed, 1u);
            }
            chunk = claimed;
        }
        let c = workgroupUniformLoad(&chunk);
        if c == STOPPED {
            return;
        }
        first = (c * WORKGROUP_SIZE + local) * NONCES_PER_INVOCATION;
    } else {
        // One claim per invocation, with no barrier.
        if atomicLoad(&control.stop) != 0u {
            return;
        }
        first = atomicAdd(&hits.claimed, 1u) * NONCES_PER_INVOCATION;
    }
    // The host keeps `count` well below 2^32 and dispatches fewer than a grid
    // row of spare workgroups, so `first` cannot wrap.
    // [multi] Several consecutive nonces per invocation.
    for (var i = 0u; i < NONCES_PER_INVOCATION; i++) {
        let offset = first + i;
        if offset >= p.count {
            return;
        }
        let nonce = p.base + offset;
        // The nonce's little-endian bytes are read big-endian by SHA-256.
        let h7 = sha256d_h7(bswap(nonce));
        // [early-exit] Candidate test on the hash's top 32 bits only.
        if bswap(h7) <= p.target_top {
            let slot = atomicAdd(&hits.count, 1u);
            if slot < arrayLength(&hits.nonces) {
                hits.nonces[slot] = nonce;
            }
        }
    }
}
