//! The scalar nonce path against two ways of using the `sha2` crate.
//!
//! - `scalar`: hashwatt's kernel (midstate, precomputed rounds, early exit);
//! - `sha2-naive`: `Sha256::digest` twice over the 80 bytes per nonce;
//! - `sha2-midstate`: `sha2::block_api::compress256` from a midstate, then the
//!   tail block and the second hash, per nonce (no early exit).
//!
//! Each iteration hashes `BATCH` nonces; throughput is in nonces per second.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hashwatt::bench::{synthetic_header, unreachable_target};
use hashwatt::sha256::{H0, NoncePrecomp, scalar};
use sha2::{Digest, Sha256};

const BATCH: u32 = 4096;

fn sha256d(c: &mut Criterion) {
    let header = synthetic_header();
    let target = unreachable_target();
    let mut group = c.benchmark_group("sha256d");
    group.throughput(Throughput::Elements(u64::from(BATCH)));

    let pre = NoncePrecomp::new(&header.to_bytes(), target.top_word());
    let mut out = Vec::new();
    group.bench_function(BenchmarkId::new("scalar", BATCH), |b| {
        b.iter(|| {
            out.clear();
            scalar::scan(black_box(&pre), black_box(0), BATCH, &mut out);
            black_box(out.len())
        })
    });

    group.bench_function(BenchmarkId::new("sha2-naive", BATCH), |b| {
        b.iter(|| {
            let mut bytes = header.to_bytes();
            let mut acc = 0u8;
            for nonce in 0..BATCH {
                bytes[76..80].copy_from_slice(&nonce.to_le_bytes());
                acc ^= Sha256::digest(Sha256::digest(black_box(&bytes)))[31];
            }
            acc
        })
    });

    let bytes = header.to_bytes();
    let mut midstate = H0;
    let mut first = [0u8; 64];
    first.copy_from_slice(&bytes[..64]);
    sha2::block_api::compress256(&mut midstate, &[first]);
    group.bench_function(BenchmarkId::new("sha2-midstate", BATCH), |b| {
        b.iter(|| {
            let mut tail = [0u8; 64];
            tail[..16].copy_from_slice(&bytes[64..80]);
            tail[16] = 0x80;
            tail[62..].copy_from_slice(&640u16.to_be_bytes());
            let mut second = [0u8; 64];
            second[32] = 0x80;
            second[62..].copy_from_slice(&256u16.to_be_bytes());
            let mut acc = 0u32;
            for nonce in 0..BATCH {
                tail[12..16].copy_from_slice(&nonce.to_le_bytes());
                let mut s = midstate;
                sha2::block_api::compress256(&mut s, &[tail]);
                for (chunk, w) in second[..32].chunks_exact_mut(4).zip(s) {
                    chunk.copy_from_slice(&w.to_be_bytes());
                }
                let mut h = H0;
                sha2::block_api::compress256(&mut h, black_box(&[second]));
                acc ^= h[7];
            }
            acc
        })
    });
    group.finish();
}

criterion_group!(benches, sha256d);
criterion_main!(benches);
