//! Shared test helpers: the real headers in `tests/data/headers.tsv` and the `sha2` oracle.
#![allow(dead_code)]

use hashwatt::header::{BlockHash, Header};
use sha2::{Digest, Sha256};

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
