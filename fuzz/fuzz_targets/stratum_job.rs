//! notify → job → header: an arbitrary job sent as a `mining.notify` line,
//! read back, and turned into the header for an extranonce pair, ntime,
//! nonce and rolled version; the header must be the one built directly from
//! its parts (coinbase, merkle fold, version formula).
#![no_main]

use hashwatt::header::{BlockHash, Header};
use hashwatt::pow::CompactTarget;
use hashwatt::sha256::sha256d;
use hashwatt::stratum::{Message, Notify, Submit, Subscription, merkle_root, rolled_version};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    job_id: String,
    prev: [u8; 32],
    coinb1: Vec<u8>,
    coinb2: Vec<u8>,
    branches: Vec<[u8; 32]>,
    version: u32,
    bits: u32,
    time: u32,
    clean: bool,
    extranonce1: Vec<u8>,
    extranonce2: Vec<u8>,
    nonce: u32,
    mask: u32,
    version_bits: u32,
}

fuzz_target!(|input: Input| {
    let job = Notify {
        job_id: input.job_id.clone(),
        prev_blockhash: BlockHash(input.prev),
        coinb1: input.coinb1.clone(),
        coinb2: input.coinb2.clone(),
        merkle_branch: input.branches.clone(),
        version: input.version,
        bits: CompactTarget::from_consensus(input.bits),
        time: input.time,
        clean_jobs: input.clean,
    };
    let line =
        serde_json::json!({"id": null, "method": "mining.notify", "params": job.to_params()})
            .to_string();
    let Ok(Message::Request { params, .. }) = Message::parse(&line) else {
        panic!("a serialized notify does not parse back");
    };
    let Ok(read) = Notify::from_params(&params) else {
        // Refused only for what the reader bounds: job id, branch count, coinbase size.
        assert!(
            input.job_id.is_empty()
                || input.job_id.len() > 128
                || input.branches.len() > hashwatt::stratum::MAX_MERKLE_BRANCHES
                || input.coinb1.len() > 100_000
                || input.coinb2.len() > 100_000
        );
        return;
    };
    assert_eq!(read, job);

    let version = rolled_version(input.version, input.mask, input.version_bits);
    let header = read.header(
        &input.extranonce1,
        &input.extranonce2,
        input.time,
        input.nonce,
        version,
    );
    let mut coinbase = input.coinb1.clone();
    coinbase.extend_from_slice(&input.extranonce1);
    coinbase.extend_from_slice(&input.extranonce2);
    coinbase.extend_from_slice(&input.coinb2);
    let expected = Header {
        version: ((input.version & !input.mask) | (input.version_bits & input.mask)) as i32,
        prev_blockhash: BlockHash(input.prev),
        merkle_root: merkle_root(sha256d(&coinbase), &input.branches),
        time: input.time,
        bits: CompactTarget::from_consensus(input.bits),
        nonce: input.nonce,
    };
    assert_eq!(header, expected);

    // The same share as a submit, rebuilt the way the pool side checks it.
    if (1..=hashwatt::stratum::MAX_EXTRANONCE2_SIZE).contains(&input.extranonce2.len())
        && input.extranonce1.len() <= hashwatt::stratum::MAX_EXTRANONCE1_SIZE
    {
        let submit = Submit {
            worker: "w".into(),
            job_id: input.job_id.clone(),
            extranonce2: input.extranonce2.clone(),
            time: input.time,
            nonce: input.nonce,
            version_bits: Some(version & input.mask),
        };
        let sub = Subscription {
            extranonce1: input.extranonce1.clone(),
            extranonce2_size: input.extranonce2.len(),
        };
        assert_eq!(submit.header(&read, &sub, input.mask), Ok(expected));
    }
});
