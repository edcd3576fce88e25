//! The coinbase a solo miner builds from a template, split around its
//! extranonce like a Stratum job (`coinb1 ‖ extranonce ‖ coinb2`).
//!
//! Shape (legacy serialization, which the txid and merkle root use):
//! version 1, one input (null outpoint, scriptSig = BIP 34 height push ‖
//! extranonce ‖ tag, sequence `ffffffff`), the payout output with the whole
//! `coinbasevalue`, then the witness commitment output (value 0) when the
//! template has segwit transactions, locktime 0. In the block the coinbase
//! carries the 32-byte zero witness reserved value (BIP 141).

/// Bytes of extranonce in the scriptSig.
pub const EXTRANONCE_SIZE: usize = 8;

/// The tag after the extranonce.
pub const TAG: &[u8] = b"/hashwatt/";

/// A coinbase split around its extranonce.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoinbaseParts {
    /// Before the extranonce.
    pub coinb1: Vec<u8>,
    /// After the extranonce.
    pub coinb2: Vec<u8>,
}

/// The BIP 34 height push as Bitcoin Core writes `CScript() << height`.
pub fn height_push(height: u64) -> Vec<u8> {
    if height == 0 {
        return vec![0x00];
    }
    if height <= 16 {
        return vec![0x50 + height as u8];
    }
    let mut n = Vec::new();
    let mut v = height;
    while v > 0 {
        n.push((v & 0xff) as u8);
        v >>= 8;
    }
    if n.last().is_some_and(|b| b & 0x80 != 0) {
        n.push(0);
    }
    let mut out = vec![n.len() as u8];
    out.extend_from_slice(&n);
    out
}

/// Appends `n` as Bitcoin's CompactSize (`varint`) count: one byte below
/// 0xfd, else 0xfd + u16 or 0xfe + u32, little-endian. The one writer for
/// script lengths, output counts and a block's transaction count.
pub fn varint(n: usize, out: &mut Vec<u8>) {
    match n {
        0..0xfd => out.push(n as u8),
        0xfd..=0xffff => {
            out.push(0xfd);
            out.extend_from_slice(&(n as u16).to_le_bytes());
        }
        _ => {
            out.push(0xfe);
            out.extend_from_slice(&(n as u32).to_le_bytes());
        }
    }
}

/// Builds the coinbase parts.
pub fn build(
    height: u64,
    value: u64,
    payout_script: &[u8],
    witness_commitment: Option<&[u8]>,
) -> CoinbaseParts {
    let push = height_push(height);
    let script_len = push.len() + EXTRANONCE_SIZE + TAG.len();
    let mut coinb1 = Vec::new();
    coinb1.extend_from_slice(&1u32.to_le_bytes());
    coinb1.push(1);
    coinb1.extend_from_slice(&[0u8; 32]);
    coinb1.extend_from_slice(&u32::MAX.to_le_bytes());
    varint(script_len, &mut coinb1);
    coinb1.extend_from_slice(&push);
    let mut coinb2 = TAG.to_vec();
    coinb2.extend_from_slice(&u32::MAX.to_le_bytes());
    let outputs = 1 + usize::from(witness_commitment.is_some());
    varint(outputs, &mut coinb2);
    coinb2.extend_from_slice(&value.to_le_bytes());
    varint(payout_script.len(), &mut coinb2);
    coinb2.extend_from_slice(payout_script);
    if let Some(c) = witness_commitment {
        coinb2.extend_from_slice(&0u64.to_le_bytes());
        varint(c.len(), &mut coinb2);
        coinb2.extend_from_slice(c);
    }
    coinb2.extend_from_slice(&0u32.to_le_bytes());
    CoinbaseParts { coinb1, coinb2 }
}

/// The coinbase as it goes into a block: with the BIP 141 witness (one
/// 32-byte zero item) when `segwit`, else the legacy serialization.
pub fn with_witness(legacy: &[u8], segwit: bool) -> Vec<u8> {
    if !segwit || legacy.len() < 8 {
        return legacy.to_vec();
    }
    let mut out = Vec::with_capacity(legacy.len() + 36);
    out.extend_from_slice(&legacy[..4]);
    out.extend_from_slice(&[0x00, 0x01]);
    out.extend_from_slice(&legacy[4..legacy.len() - 4]);
    out.extend_from_slice(&[0x01, 0x20]);
    out.extend_from_slice(&[0u8; 32]);
    out.extend_from_slice(&legacy[legacy.len() - 4..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn height_pushes_as_bitcoin_core_writes_them() {
        assert_eq!(height_push(505), vec![0x02, 0xf9, 0x01]); // ckpool regtest job, coinb1
        assert_eq!(height_push(2_442_185), vec![0x03, 0xc9, 0x43, 0x25]);
        assert_eq!(height_push(128), vec![0x02, 0x80, 0x00]);
        assert_eq!(height_push(16), vec![0x60]);
    }

    #[test]
    fn witness_coinbase_parses_and_keeps_its_txid() {
        let parts = build(
            505,
            625_002_820,
            &[0x51],
            Some(&[0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed]),
        );
        let mut legacy = parts.coinb1.clone();
        legacy.extend_from_slice(&[7; EXTRANONCE_SIZE]);
        legacy.extend_from_slice(&parts.coinb2);
        let full = with_witness(&legacy, true);
        assert_eq!(super::super::strip_witness(&full), Some(legacy.clone()));
        assert_eq!(super::super::strip_witness(&legacy), Some(legacy));
    }
}
