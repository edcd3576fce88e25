//! Property tests on the Stratum and `getblocktemplate` code: messages
//! round-trip through their JSON lines, the version-rolling mask is applied bit
//! by bit as BIP 310 says, and the merkle branch a job carries folds to the
//! textbook merkle root, computed here with the `sha2` crate alone.
//!
//! The same parsers are fuzzed coverage-guided by `fuzz/` (docs/fuzzing.md).
//! `PROPTEST_CASES` raises the case count.

use hashwatt::gbt::{coinbase_branch, merkle_root_of, strip_witness, tx_ids};
use hashwatt::header::{BlockHash, Header};
use hashwatt::pow::CompactTarget;
use hashwatt::stratum::{
    MAX_EXTRANONCE2_SIZE, Message, Notify, Submit, Subscription, merkle_root, rebuild_share,
    rolled_version,
};
use proptest::prelude::*;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

fn dsha(data: &[u8]) -> [u8; 32] {
    Sha256::digest(Sha256::digest(data)).into()
}

/// The merkle root as the Bitcoin white paper and Core build it: hash pairs
/// level by level, the last hash paired with itself on odd levels.
fn textbook_root(leaves: &[[u8; 32]]) -> [u8; 32] {
    let mut level = leaves.to_vec();
    while level.len() > 1 {
        let mut next = Vec::new();
        for i in (0..level.len()).step_by(2) {
            let right = level.get(i + 1).unwrap_or(&level[i]);
            next.push(dsha(&[level[i], *right].concat()));
        }
        level = next;
    }
    level[0]
}

fn notify() -> impl Strategy<Value = Notify> {
    (
        "[0-9a-zA-Z_.-]{1,128}",
        any::<[u8; 32]>(),
        prop::collection::vec(any::<u8>(), 0..200),
        prop::collection::vec(any::<u8>(), 0..200),
        prop::collection::vec(any::<[u8; 32]>(), 0..=32),
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
        any::<bool>(),
    )
        .prop_map(
            |(job_id, prev, coinb1, coinb2, merkle_branch, version, bits, time, clean_jobs)| {
                Notify {
                    job_id,
                    prev_blockhash: BlockHash(prev),
                    coinb1,
                    coinb2,
                    merkle_branch,
                    version,
                    bits: CompactTarget::from_consensus(bits),
                    time,
                    clean_jobs,
                }
            },
        )
}

fn submit() -> impl Strategy<Value = Submit> {
    (
        "[^\u{0}]{0,40}",
        "[0-9a-zA-Z]{1,20}",
        prop::collection::vec(any::<u8>(), 0..=MAX_EXTRANONCE2_SIZE),
        any::<u32>(),
        any::<u32>(),
        prop::option::of(any::<u32>()),
    )
        .prop_map(
            |(worker, job_id, extranonce2, time, nonce, version_bits)| Submit {
                worker,
                job_id,
                extranonce2,
                time,
                nonce,
                version_bits,
            },
        )
}

fn request_params(line: &str, want: &str) -> Vec<Value> {
    match Message::parse(line) {
        Ok(Message::Request { method, params, .. }) if method == want => params,
        other => panic!("{line} parsed as {other:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// A notify written as the pool's line reads back as the same job, also
    /// with upper-case hex.
    #[test]
    fn notify_round_trips(job in notify(), id in prop_oneof![Just(Value::Null), any::<u32>().prop_map(Value::from)]) {
        let line = json!({"id": id, "method": "mining.notify", "params": job.to_params()}).to_string();
        prop_assert_eq!(Notify::from_params(&request_params(&line, "mining.notify")), Ok(job.clone()));
        let upper = job.to_params().as_array().unwrap().iter().enumerate().map(|(i, v)| match (i, v) {
            (1..=3 | 5..=7, Value::String(s)) => Value::from(s.to_uppercase()),
            _ => v.clone(),
        }).collect::<Vec<_>>();
        prop_assert_eq!(Notify::from_params(&upper), Ok(job));
    }

    /// A submit (extranonce2 of every allowed size) round-trips through its line.
    #[test]
    fn submit_round_trips(s in submit(), id in any::<u64>()) {
        let line = json!({"id": id, "method": "mining.submit", "params": s.to_params()}).to_string();
        let back = Submit::from_params(&request_params(&line, "mining.submit"));
        prop_assert_eq!(back.as_ref(), Ok(&s));
        prop_assert_eq!(back.unwrap().extranonce2.len(), s.extranonce2.len());
    }

    /// Responses keep their id, result and error.
    #[test]
    fn response_round_trips(id in any::<u64>(), ok in any::<bool>(), code in any::<i32>(), text in ".{0,40}") {
        let (result, error) = if ok {
            (Value::Bool(true), Value::Null)
        } else {
            (Value::Null, json!([code, text, null]))
        };
        let line = json!({"id": id, "result": result, "error": error}).to_string();
        prop_assert_eq!(
            Message::parse(&line),
            Ok(Message::Response { id: id.into(), result, error })
        );
    }

    /// A subscribe result gives back its extranonce1 and extranonce2 size.
    #[test]
    fn subscription_round_trips(en1 in prop::collection::vec(any::<u8>(), 0..=32), size in 1..=MAX_EXTRANONCE2_SIZE) {
        let result = json!([[["mining.notify", "ae6812eb4cd7735a302a8a9dd95cf71f"]], hex::encode(&en1), size]);
        prop_assert_eq!(
            Subscription::from_result(&result),
            Ok(Subscription { extranonce1: en1, extranonce2_size: size })
        );
    }

    /// BIP 310: every header version bit under the mask comes from the rolled
    /// bits, every other from the job.
    #[test]
    fn version_rolling_bit_by_bit(job in any::<u32>(), mask in any::<u32>(), bits in any::<u32>()) {
        let v = rolled_version(job, mask, bits);
        for i in 0..32 {
            let from = if mask >> i & 1 == 1 { bits } else { job };
            prop_assert_eq!(v >> i & 1, from >> i & 1, "bit {}", i);
        }
    }

    /// A submit's version bits are applied under the negotiated mask, and
    /// bits outside it are refused.
    #[test]
    fn submit_header_applies_the_mask(
        job in notify(),
        en1 in prop::collection::vec(any::<u8>(), 0..=8),
        en2 in prop::collection::vec(any::<u8>(), 1..=8),
        mask in any::<u32>(),
        bits in any::<u32>(),
        nonce in any::<u32>(),
    ) {
        let sub = Subscription { extranonce1: en1.clone(), extranonce2_size: en2.len() };
        let s = Submit {
            worker: "w".into(), job_id: job.job_id.clone(), extranonce2: en2.clone(),
            time: job.time, nonce, version_bits: Some(bits),
        };
        let got = s.header(&job, &sub, mask);
        if bits & !mask != 0 {
            prop_assert!(got.is_err());
        } else {
            let h = got.unwrap();
            prop_assert_eq!(h.version as u32, (job.version & !mask) | bits);
            prop_assert_eq!(h, job.header(&en1, &en2, job.time, nonce, (job.version & !mask) | bits));
        }
    }

    /// The coinbase branch a template job carries, folded with the coinbase
    /// hash, is the textbook merkle root of all the block's transactions.
    #[test]
    fn merkle_branch_folds_to_the_textbook_root(
        coinbase in prop::collection::vec(any::<u8>(), 0..120),
        txids in prop::collection::vec(any::<[u8; 32]>(), 0..40),
    ) {
        let cb = dsha(&coinbase);
        let branch = coinbase_branch(&txids);
        let leaves: Vec<[u8; 32]> = std::iter::once(cb).chain(txids.iter().copied()).collect();
        let want = textbook_root(&leaves);
        prop_assert_eq!(merkle_root(cb, &branch), want);
        prop_assert_eq!(merkle_root_of(&leaves), want);
        // ceil(log2(n)) branches for n transactions.
        let n = leaves.len();
        prop_assert_eq!(branch.len(), (usize::BITS - (n - 1).leading_zeros()) as usize);
    }

    /// A notify's header is the textbook one: coinbase = coinb1‖en1‖en2‖coinb2,
    /// merkle root folded with sha2, fields in header order; `hashwatt share`'s
    /// rebuild from the two lines agrees and hashes it with sha2's dSHA256.
    #[test]
    fn notify_header_is_the_textbook_header(
        job in notify(),
        en1 in prop::collection::vec(any::<u8>(), 0..=8),
        en2 in prop::collection::vec(any::<u8>(), 1..=8),
        nonce in any::<u32>(),
    ) {
        let cb = dsha(&[&job.coinb1[..], &en1, &en2, &job.coinb2].concat());
        let mut root = cb;
        for b in &job.merkle_branch {
            root = dsha(&[root, *b].concat());
        }
        let h = job.header(&en1, &en2, job.time, nonce, job.version);
        prop_assert_eq!(h, Header {
            version: job.version as i32, prev_blockhash: job.prev_blockhash, merkle_root: root,
            time: job.time, bits: job.bits, nonce,
        });
        let notify_line = json!({"id": null, "method": "mining.notify", "params": job.to_params()}).to_string();
        let s = Submit { worker: "w".into(), job_id: job.job_id.clone(), extranonce2: en2, time: job.time, nonce, version_bits: None };
        let submit_line = json!({"id": 4, "method": "mining.submit", "params": s.to_params()}).to_string();
        let share = rebuild_share(&notify_line, &submit_line, &hex::encode(&en1), 0).unwrap();
        prop_assert_eq!(share.header, h);
        let mut want = dsha(&h.to_bytes());
        want.reverse();
        prop_assert_eq!(share.hash.to_string(), hex::encode(want));
    }
}

/// Found by the `gbt_template` fuzz target: a template transaction whose
/// script length is near `u64::MAX` overflowed `len + 4` (a panic with
/// overflow checks, a wrap to a tiny skip and a "valid" transaction without)
/// instead of being refused.
#[test]
fn script_length_near_u64_max_is_refused() {
    let mut tx = vec![1, 0, 0, 0, 1];
    tx.extend_from_slice(&[0; 36]);
    tx.push(0xff);
    tx.extend_from_slice(&(u64::MAX - 3).to_le_bytes());
    tx.push(0); // no outputs
    tx.extend_from_slice(&[0; 4]);
    assert_eq!(strip_witness(&tx), None);
    assert!(tx_ids(&tx).is_err());
}
