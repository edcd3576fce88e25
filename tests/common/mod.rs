//! Shared test helpers: the real headers in `tests/data/headers.tsv` and the `sha2` oracle.
#![allow(dead_code)]

use hashwatt::header::{BlockHash, Header};
use sha2::{Digest, Sha256};

/// The genesis block's header (160 hex digits, wire order).
pub const GENESIS: &str = "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c";

/// The genesis block's hash, as explorers display it.
pub const GENESIS_HASH: &str = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f";

/// One row of `tests/data/headers.tsv`.
#[derive(Debug, Clone)]
pub struct Row {
    pub height: u64,
    pub header: Header,
    pub hash: BlockHash,
    pub network: String,
}

/// Every row of `tests/data/headers.tsv` (25 real headers).
pub fn headers() -> Vec<Row> {
    let text = include_str!("../data/headers.tsv");
    let rows: Vec<Row> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            Row {
                height: cols[0].parse().unwrap(),
                header: cols[1].parse().unwrap(),
                hash: BlockHash::from_display_hex(cols[2]).unwrap(),
                network: cols[3].to_string(),
            }
        })
        .collect();
    assert_eq!(rows.len(), 25, "headers.tsv should hold 25 rows");
    rows
}

/// SHA-256d by the `sha2` crate, the independent oracle.
pub fn oracle_hash(header: &Header) -> BlockHash {
    let first = Sha256::digest(header.to_bytes());
    let second = Sha256::digest(first);
    BlockHash(second.into())
}

/// dSHA256 of any bytes by the `sha2` crate (txids, coinbases, merkle nodes),
/// the independent oracle for the library's `sha256::sha256d`.
pub fn dsha(data: &[u8]) -> Vec<u8> {
    Sha256::digest(Sha256::digest(data)).to_vec()
}

/// The top 32 bits of the oracle's hash of `header` with `nonce`, as
/// Bitcoin's little-endian 256-bit number reads them.
pub fn oracle_top(header: &Header, nonce: u32) -> u32 {
    let hash = oracle_hash(&header.with_nonce(nonce)).0;
    u32::from_le_bytes([hash[28], hash[29], hash[30], hash[31]])
}

/// A deterministic pseudo-random header (splitmix64 over `seed`).
pub fn random_header(seed: u64) -> Header {
    let mut state = seed;
    let mut bytes = [0u8; 80];
    for chunk in bytes.chunks_mut(8) {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        chunk.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes()[..chunk.len()]);
    }
    Header::from_bytes(&bytes)
}

/// The `hashwatt` binary, to run as users do.
///
/// `NODEVICE_SELECT=1` turns off Mesa's Vulkan device-select layer, which on a
/// headless host prints `error: XDG_RUNTIME_DIR is invalid or not set` to the
/// stderr of every Vulkan program; the tests read hashwatt's own stderr.
pub fn hashwatt_command() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_hashwatt"));
    cmd.env("NODEVICE_SELECT", "1");
    cmd
}

/// Runs the `hashwatt` binary with `args` and collects its output.
pub fn hashwatt(args: &[&str]) -> std::process::Output {
    hashwatt_command()
        .args(args)
        .output()
        .expect("the hashwatt binary runs")
}
