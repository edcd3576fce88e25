//! The 80-byte Bitcoin block header (the hash type lives in [`crate::hash`]).
//!
//! Names follow rust-bitcoin (`Header`, `BlockHash`, `block_hash()`), so readers
//! who know that crate can read this one. A header is hashed in *wire order*:
//! every integer little-endian, the two 32-byte hashes as stored (not as
//! displayed). Explorers print hashes byte-reversed; [`BlockHash`]'s `Display`
//! does the same.

use std::fmt;
use std::str::FromStr;

pub use crate::hash::BlockHash;
pub use crate::hex::HexError;
use crate::hex::decode_hex;
use crate::pow::CompactTarget;
use crate::sha256;

/// An 80-byte Bitcoin block header.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Header {
    /// Block version (BIP9 bits and version rolling live here).
    pub version: i32,
    /// Hash of the previous block, internal byte order.
    pub prev_blockhash: BlockHash,
    /// Merkle root of the block's transactions, internal byte order.
    pub merkle_root: [u8; 32],
    /// Block time, seconds since the Unix epoch.
    pub time: u32,
    /// The proof-of-work target in compact form (nBits).
    pub bits: CompactTarget,
    /// The nonce: the `u32` whose little-endian bytes are header bytes 76..80.
    pub nonce: u32,
}

impl Header {
    /// Serialized size in bytes.
    pub const SIZE: usize = 80;

    /// Serializes the header in wire order.
    pub fn to_bytes(&self) -> [u8; 80] {
        let mut out = [0u8; 80];
        out[0..4].copy_from_slice(&self.version.to_le_bytes());
        out[4..36].copy_from_slice(&self.prev_blockhash.0);
        out[36..68].copy_from_slice(&self.merkle_root);
        out[68..72].copy_from_slice(&self.time.to_le_bytes());
        out[72..76].copy_from_slice(&self.bits.to_consensus().to_le_bytes());
        out[76..80].copy_from_slice(&self.nonce.to_le_bytes());
        out
    }

    /// Parses a header from its 80 wire-order bytes.
    pub fn from_bytes(b: &[u8; 80]) -> Self {
        let word = |i: usize| [b[i], b[i + 1], b[i + 2], b[i + 3]];
        let mut prev = [0u8; 32];
        prev.copy_from_slice(&b[4..36]);
        let mut merkle_root = [0u8; 32];
        merkle_root.copy_from_slice(&b[36..68]);
        Header {
            version: i32::from_le_bytes(word(0)),
            prev_blockhash: BlockHash(prev),
            merkle_root,
            time: u32::from_le_bytes(word(68)),
            bits: CompactTarget::from_consensus(u32::from_le_bytes(word(72))),
            nonce: u32::from_le_bytes(word(76)),
        }
    }

    /// The same header with another nonce.
    pub fn with_nonce(mut self, nonce: u32) -> Self {
        self.nonce = nonce;
        self
    }

    /// The block hash: SHA-256 applied twice to the 80 wire-order bytes.
    pub fn block_hash(&self) -> BlockHash {
        BlockHash(sha256::sha256d_80(&self.to_bytes()))
    }
}

impl FromStr for Header {
    type Err = HexError;

    /// Parses 160 hex digits in wire order (an optional `0x` prefix is allowed).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Header::from_bytes(&decode_hex::<80>("header", s)?))
    }
}

impl fmt::Display for Header {
    /// Prints 160 hex digits in wire order.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.to_bytes() {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GENESIS: &str = "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c";

    #[test]
    fn header_takes_0x_like_target_and_bits() {
        let plain: Header = GENESIS.parse().unwrap();
        assert_eq!(format!("0x{GENESIS}").parse::<Header>().unwrap(), plain);
        assert_eq!(format!(" 0X{GENESIS} ").parse::<Header>().unwrap(), plain);
        assert!(format!("0x0x{GENESIS}").parse::<Header>().is_err());
    }

    #[test]
    fn genesis_fields_and_round_trip() {
        let h: Header = GENESIS.parse().unwrap();
        assert_eq!(h.version, 1);
        assert_eq!(h.prev_blockhash, BlockHash::ALL_ZEROS);
        assert_eq!(h.time, 1231006505);
        assert_eq!(h.bits.to_consensus(), 0x1d00ffff);
        assert_eq!(h.nonce, 2083236893);
        assert_eq!(h.to_string(), GENESIS);
        assert_eq!(
            h.block_hash().to_string(),
            "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
        );
    }

    #[test]
    fn bad_hex_is_named() {
        let short = "00".repeat(79);
        assert!(matches!(
            short.parse::<Header>(),
            Err(HexError::Length { got: 158, .. })
        ));
        let mut bad = GENESIS.to_string();
        bad.replace_range(10..11, "g");
        assert!(matches!(
            bad.parse::<Header>(),
            Err(HexError::Character {
                found: 'g',
                position: 10,
                ..
            })
        ));
    }

    #[test]
    fn display_hash_round_trips() {
        let s = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f";
        let h = BlockHash::from_display_hex(s).unwrap();
        assert_eq!(h.0[31], 0);
        assert_eq!(h.0[0], 0x6f);
        assert_eq!(h.to_string(), s);
    }
}
