//! Property tests: the nonce path against the `sha2` oracle, and target round trips.

mod common;

use hashwatt::header::Header;
use hashwatt::pow::{CompactTarget, Target};
use hashwatt::sha256::{NoncePrecomp, scalar};
use proptest::prelude::*;

fn header_strategy() -> impl Strategy<Value = Header> {
    prop::array::uniform32(any::<u8>()).prop_flat_map(|a| {
        (
            Just(a),
            prop::array::uniform32(any::<u8>()),
            prop::array::uniform16(any::<u8>()),
        )
            .prop_map(|(a, b, c)| {
                let mut bytes = [0u8; 80];
                bytes[..32].copy_from_slice(&a);
                bytes[32..64].copy_from_slice(&b);
                bytes[64..80].copy_from_slice(&c);
                Header::from_bytes(&bytes)
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn midstate_path_matches_sha2(header in header_strategy(), nonce in any::<u32>()) {
        let header = header.with_nonce(nonce);
        let oracle = common::oracle_hash(&header);
        prop_assert_eq!(header.block_hash(), oracle);
        // The nonce path's H7 is the oracle's last 4 bytes, big-endian.
        let pre = NoncePrecomp::new(&header.with_nonce(0).to_bytes(), Target::MAX.top_word());
        let h7 = u32::from_be_bytes(oracle.0[28..32].try_into().unwrap());
        prop_assert_eq!(scalar::sha256d_h7(&pre, nonce), h7);
    }

    #[test]
    fn scan_candidates_are_exactly_the_top_word_matches(
        header in header_strategy(),
        start in any::<u32>(),
        top in any::<u32>(),
    ) {
        let count = 64u32.min(u32::MAX - start + 1);
        let mut le = [0xffu8; 32];
        le[28..].copy_from_slice(&top.to_le_bytes());
        let target = Target::from_le_bytes(le);
        let pre = NoncePrecomp::new(&header.to_bytes(), target.top_word());
        let mut out = Vec::new();
        scalar::scan(&pre, start, count, &mut out);
        let expected: Vec<u32> = (0..count)
            .map(|i| start + i)
            .filter(|&n| target.is_met_by(common::oracle_hash(&header.with_nonce(n))))
            .collect();
        prop_assert_eq!(out, expected);
    }

    #[test]
    fn compact_round_trips(exponent in 3u32..=32, mantissa in 0x8000u32..0x80_0000) {
        let bits = CompactTarget::from_consensus(exponent << 24 | mantissa);
        let target = Target::from_compact(bits).unwrap();
        prop_assert_eq!(target.to_compact_lossy(), bits);
        prop_assert_eq!(Target::from_be_hex(&target.to_string()).unwrap(), target);
    }

    #[test]
    fn difficulty_round_trips(d in 1e-4f64..1e15) {
        let t = Target::from_difficulty(d).unwrap();
        let back = t.difficulty();
        prop_assert!((back - d).abs() / d < 1e-9, "{d} -> {back}");
    }
}
