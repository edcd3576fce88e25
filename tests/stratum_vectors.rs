//! Every vector in `tests/data/stratum/examples.json` (real pool traffic,
//! copied from `../shared/testdata/stratum`), reproduced by the library and by
//! `hashwatt share` as users run it. The `sha2` crate re-hashes each header.

mod common;

use hashwatt::header::Header;
use hashwatt::stratum::{Message, Notify, Subscription, rebuild_share};
use serde_json::{Value, json};

fn examples() -> Vec<Value> {
    serde_json::from_str(include_str!("data/stratum/examples.json")).unwrap()
}

fn example(name: &str) -> Value {
    examples()
        .into_iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("no example {name}"))
}

fn close(a: f64, b: f64) -> bool {
    ((a - b) / b).abs() < 1e-12
}

/// The esp-miner job, given as fields, as the raw lines a pool and miner would send.
fn esp_lines(e: &Value) -> (String, String, String) {
    let f = &e["fields"];
    let notify = json!({"id": null, "method": "mining.notify", "params": [
        "esp", f["prevhash_stratum"], f["coinb1"], f["coinb2"], f["merkle_branch"],
        f["version"], f["nbits"], f["ntime"], true]});
    let submit = json!({"id": 4, "method": "mining.submit", "params": [
        "w", "esp", f["extranonce2"], f["ntime"], f["nonce"]]});
    (
        notify.to_string(),
        submit.to_string(),
        f["extranonce1"].as_str().unwrap().to_string(),
    )
}

/// The slush docs session: (notify line, submit line, extranonce1).
fn slush_lines(e: &Value) -> (String, String, String) {
    let msgs = e["messages"].as_array().unwrap();
    let idx = |k: &str| e["inputs"][k].as_u64().unwrap() as usize;
    let Message::Response { result, .. } =
        Message::parse(msgs[idx("subscribe_result_index")].as_str().unwrap()).unwrap()
    else {
        panic!("subscribe result is a response")
    };
    let sub = Subscription::from_result(&result).unwrap();
    assert_eq!(sub.extranonce2_size, 4);
    (
        msgs[idx("notify_index")].as_str().unwrap().to_string(),
        msgs[idx("submit_index")].as_str().unwrap().to_string(),
        hex::encode(sub.extranonce1),
    )
}

fn check_reproduced(e: &Value, notify: &str, submit: &str, en1: &str) {
    let r = &e["reproduced"];
    let share = rebuild_share(notify, submit, en1, 0).unwrap();
    assert_eq!(share.header.to_string(), r["header_hex"].as_str().unwrap());
    assert_eq!(share.hash.to_string(), r["hash"].as_str().unwrap());
    assert_eq!(
        common::oracle_hash(&share.header),
        share.hash,
        "sha2 oracle"
    );
    assert!(close(
        share.difficulty,
        r["share_difficulty"].as_f64().unwrap()
    ));
    assert_eq!(
        hex::encode(share.header.merkle_root),
        r["merkle_root_internal_order"].as_str().unwrap()
    );

    // Coinbase and merkle root, step by step.
    let Message::Request { params, .. } = Message::parse(notify).unwrap() else {
        panic!()
    };
    let job = Notify::from_params(&params).unwrap();
    let Message::Request { params, .. } = Message::parse(submit).unwrap() else {
        panic!()
    };
    let en2 = hex::decode(params[2].as_str().unwrap()).unwrap();
    let en1 = hex::decode(en1).unwrap();
    assert_eq!(
        hex::encode(job.coinbase(&en1, &en2)),
        r["coinbase_hex"].as_str().unwrap()
    );
    // The notify rebuilt from the parsed job is the same job.
    assert_eq!(
        Notify::from_params(job.to_params().as_array().unwrap()).unwrap(),
        job
    );

    // The binary prints the same.
    let out = common::hashwatt_command()
        .args([
            "share",
            "--notify",
            notify,
            "--submit",
            submit,
            "--extranonce1",
            &hex::encode(&en1),
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["header"], r["header_hex"]);
    assert_eq!(v["hash"], r["hash"]);
    assert!(close(
        v["difficulty"].as_f64().unwrap(),
        r["share_difficulty"].as_f64().unwrap()
    ));
}

#[test]
fn slush_docs_real_world_example_solves_testnet3_block_25096() {
    let e = example("slush_docs_real_world_example_testnet3");
    let (notify, submit, en1) = slush_lines(&e);
    check_reproduced(&e, &notify, &submit, &en1);
    let share = rebuild_share(&notify, &submit, &en1, 0).unwrap();
    // What the source itself states: the block hash, and a share worth at least difficulty 1.
    assert_eq!(
        share.hash.to_string(),
        e["expected"]["block_hash"].as_str().unwrap()
    );
    assert!(share.difficulty >= e["expected"]["min_share_difficulty"].as_f64().unwrap());
    assert!(share.meets_network_target);
    // It is the real testnet3 block 25096 in headers.tsv.
    let row = common::headers()
        .into_iter()
        .find(|r| r.network == "testnet3" && r.height == 25096)
        .unwrap();
    assert_eq!(share.header, row.header);
}

#[test]
fn esp_miner_mainnet_job_with_13_branches() {
    let e = example("esp_miner_nonce_diff_checking_2_mainnet");
    assert_eq!(e["fields"]["merkle_branch"].as_array().unwrap().len(), 13);
    let (notify, submit, en1) = esp_lines(&e);
    check_reproduced(&e, &notify, &submit, &en1);
    let share = rebuild_share(&notify, &submit, &en1, 0).unwrap();
    assert_eq!(
        hex::encode(share.header.merkle_root),
        e["expected"]["merkle_root_internal"].as_str().unwrap()
    );
    assert_eq!(
        share.difficulty.floor() as u64,
        e["expected"]["share_difficulty_int"].as_u64().unwrap()
    );
    assert!(!share.meets_network_target);
}

#[test]
fn esp_miner_parser_fixtures() {
    let e = example("esp_miner_parser_fixtures");
    let msgs: Vec<Message> = e["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| Message::parse(m.as_str().unwrap()).unwrap())
        .collect();
    let Message::Request { method, params, .. } = &msgs[0] else {
        panic!()
    };
    assert_eq!(method, "mining.notify");
    let job = Notify::from_params(params).unwrap();
    assert_eq!(job.job_id, "1d2e0c4d3d");
    assert_eq!(job.merkle_branch.len(), 12);
    assert_eq!(job.version, 0x2000_0004);
    assert_eq!(job.bits.to_consensus(), 0x1705_c739);
    assert_eq!(job.time, 0x6449_5522);
    assert!(!job.clean_jobs);
    // prevhash: the words byte-swapped give a hash whose display form ends in the leading zeros.
    assert!(
        job.prev_blockhash
            .to_string()
            .starts_with("0000000000000000")
    );
    let diffs: Vec<f64> = msgs[1..3]
        .iter()
        .map(|m| match m {
            Message::Request { params, .. } => params[0].as_f64().unwrap(),
            Message::Response { .. } => panic!(),
        })
        .collect();
    assert_eq!(diffs, [1638.0, 100.5]);
    let Message::Response { result, .. } = &msgs[3] else {
        panic!()
    };
    let sub = Subscription::from_result(result).unwrap();
    assert_eq!(
        (hex::encode(&sub.extranonce1).as_str(), sub.extranonce2_size),
        ("4de05269", 8)
    );
    let Message::Request { method, params, .. } = &msgs[4] else {
        panic!()
    };
    assert_eq!(method, "mining.set_version_mask");
    assert_eq!(
        hashwatt::stratum::parse_u32_be("mask", params[0].as_str().unwrap()).unwrap(),
        0x1fff_e000
    );
}

#[test]
fn version_rolled_share_is_rebuilt_with_the_mask() {
    // The slush job with rolled bits 0x00002000 under mask 1fffe000: the
    // header's version is 0x00002002 and the hash changes accordingly.
    let e = example("slush_docs_real_world_example_testnet3");
    let (notify, _, en1) = slush_lines(&e);
    let submit = r#"{"id":5,"method":"mining.submit","params":["w","bf","00000001","504e86ed","b2957c02","00002000"]}"#;
    let share = rebuild_share(&notify, submit, &en1, 0x1fff_e000).unwrap();
    assert_eq!(share.header.version, 0x0000_2002);
    let mut plain: Header = e["reproduced"]["header_hex"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    plain.version = 0x0000_2002;
    assert_eq!(share.header, plain);
    assert_eq!(share.hash, common::oracle_hash(&plain));
    // Bits outside the mask, or no mask at all, are refused.
    assert!(rebuild_share(&notify, submit, &en1, 0).is_err());
}

#[test]
fn share_command_bad_input_is_a_clean_error() {
    let e = example("slush_docs_real_world_example_testnet3");
    let (notify, submit, en1) = slush_lines(&e);
    let cases: [(&[&str], &str); 5] = [
        (
            &["--notify", "{", "--submit", &submit, "--extranonce1", &en1],
            "malformed JSON",
        ),
        (
            &[
                "--notify",
                &submit,
                "--submit",
                &submit,
                "--extranonce1",
                &en1,
            ],
            "not mining.notify",
        ),
        (
            &[
                "--notify",
                &notify,
                "--submit",
                &submit,
                "--extranonce1",
                "zz",
            ],
            "extranonce1",
        ),
        (
            &[
                "--notify",
                &notify.replace("\"00000002\"", "\"0002\""),
                "--submit",
                &submit,
                "--extranonce1",
                &en1,
            ],
            "version",
        ),
        (
            &[
                "--notify",
                &notify,
                "--submit",
                &submit,
                "--extranonce1",
                &en1,
                "--version-mask",
                "xyz",
            ],
            "--version-mask",
        ),
    ];
    for (args, needle) in cases {
        let out = common::hashwatt_command()
            .arg("share")
            .args(args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(err.contains(needle), "{args:?}: {needle:?} not in {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
}
