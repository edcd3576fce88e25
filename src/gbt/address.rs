//! Payout addresses → output scripts, decoded with the `bech32` (BIP 173/350)
//! and `bs58` (Base58Check) crates.

use bech32::Fe32;

/// The network an address belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressNetwork {
    /// `bc1…`, `1…`, `3…`.
    Mainnet,
    /// `tb1…`, `m…`/`n…`, `2…` (testnet3, testnet4, signet).
    Testnet,
    /// `bcrt1…` (Base58 regtest addresses are the testnet ones).
    Regtest,
}

impl AddressNetwork {
    /// The address network for a Bitcoin Core chain name (`getblockchaininfo`'s `chain`).
    pub fn of_chain(chain: &str) -> Option<AddressNetwork> {
        match chain {
            "main" => Some(AddressNetwork::Mainnet),
            "test" | "testnet4" | "signet" => Some(AddressNetwork::Testnet),
            "regtest" => Some(AddressNetwork::Regtest),
            _ => None,
        }
    }

    /// Whether an address of this network can be paid on `chain`
    /// (regtest also takes testnet Base58 addresses, which share their prefixes).
    pub fn fits(self, chain: AddressNetwork, base58: bool) -> bool {
        self == chain
            || (base58 && self == AddressNetwork::Testnet && chain == AddressNetwork::Regtest)
    }
}

/// Errors decoding an address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid payout address {address:?}: {reason}")]
pub struct AddressError {
    /// The address.
    pub address: String,
    /// Why.
    pub reason: String,
}

/// The output script (scriptPubKey) an address stands for, and its network.
///
/// # Errors
/// [`AddressError`] for a bad checksum, unknown prefix or version, or a
/// program of the wrong length.
pub fn script_pubkey(address: &str) -> Result<(Vec<u8>, AddressNetwork), AddressError> {
    let err = |reason: String| AddressError {
        address: address.to_string(),
        reason,
    };
    let lower = address.to_ascii_lowercase();
    for (hrp, net) in [
        ("bcrt", AddressNetwork::Regtest),
        ("bc", AddressNetwork::Mainnet),
        ("tb", AddressNetwork::Testnet),
    ] {
        if lower.starts_with(&format!("{hrp}1")) {
            let (got, version, program) =
                bech32::segwit::decode(address).map_err(|e| err(e.to_string()))?;
            if !got.as_str().eq_ignore_ascii_case(hrp) {
                return Err(err(format!("unexpected prefix {got}")));
            }
            let v = version.to_u8();
            if v == 0 && program.len() != 20 && program.len() != 32 {
                return Err(err(format!(
                    "witness v0 program of {} bytes",
                    program.len()
                )));
            }
            let mut script = vec![if version == Fe32::Q { 0 } else { 0x50 + v }];
            script.push(program.len() as u8);
            script.extend_from_slice(&program);
            return Ok((script, net));
        }
    }
    let bytes = bs58::decode(address)
        .with_check(None)
        .into_vec()
        .map_err(|e| err(e.to_string()))?;
    if bytes.len() != 21 {
        return Err(err(format!(
            "{} bytes after Base58Check, expected 21",
            bytes.len()
        )));
    }
    let hash = &bytes[1..];
    let (script, net) = match bytes[0] {
        0x00 => (p2pkh(hash), AddressNetwork::Mainnet),
        0x05 => (p2sh(hash), AddressNetwork::Mainnet),
        0x6f => (p2pkh(hash), AddressNetwork::Testnet),
        0xc4 => (p2sh(hash), AddressNetwork::Testnet),
        v => return Err(err(format!("unknown Base58 version byte {v:#04x}"))),
    };
    Ok((script, net))
}

fn p2pkh(hash: &[u8]) -> Vec<u8> {
    let mut s = vec![0x76, 0xa9, 0x14];
    s.extend_from_slice(hash);
    s.extend_from_slice(&[0x88, 0xac]);
    s
}

fn p2sh(hash: &[u8]) -> Vec<u8> {
    let mut s = vec![0xa9, 0x14];
    s.extend_from_slice(hash);
    s.push(0x87);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bip173_bip350_and_base58_vectors() {
        // BIP 173 and BIP 350 test vectors; Base58 ones from the Bitcoin wiki.
        let cases = [
            (
                "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",
                "0014751e76e8199196d454941c45d1b3a323f1433bd6",
                AddressNetwork::Mainnet,
            ),
            (
                "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
                "00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262",
                AddressNetwork::Testnet,
            ),
            (
                "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
                "512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
                AddressNetwork::Mainnet,
            ),
            (
                "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
                "76a91477bff20c60e522dfaa3350c39b030a5d004e839a88ac",
                AddressNetwork::Mainnet,
            ),
            (
                "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
                "a914b472a266d0bd89c13706a4132ccfb16f7c3b9fcb87",
                AddressNetwork::Mainnet,
            ),
        ];
        for (addr, script, net) in cases {
            let (s, n) = script_pubkey(addr).unwrap();
            assert_eq!((hex::encode(s).as_str(), n), (script, net), "{addr}");
        }
        for bad in [
            "",
            "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",
            "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3",
            "hello",
        ] {
            assert!(script_pubkey(bad).is_err(), "{bad}");
        }
    }
}
