//! `--payout-address`: Bech32/Bech32m and Base58Check addresses to output scripts.
#![no_main]

use hashwatt::gbt::address::{AddressNetwork, script_pubkey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok((script, net)) = script_pubkey(text) {
            // P2PKH, P2SH or a witness program (version 0..=16, 2..=40 bytes).
            let witness = matches!(script[0], 0x00 | 0x51..=0x60)
                && script.len() >= 4
                && usize::from(script[1]) == script.len() - 2;
            let p2pkh = script.len() == 25 && script[..3] == [0x76, 0xa9, 0x14];
            let p2sh = script.len() == 23 && script[..2] == [0xa9, 0x14];
            assert!(witness || p2pkh || p2sh, "{text:?} -> {script:02x?}");
            let _ = net.fits(AddressNetwork::Regtest, true);
        }
        let _ = AddressNetwork::of_chain(text);
    }
});
