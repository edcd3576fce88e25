//! `getblocktemplate` vectors from `tests/data/gbt/` (real Bitcoin Core
//! templates, copied from `../shared/testdata/gbt`): `hashwatt template`
//! reproduces the job ckpool built from one, recomputes every txid, wtxid,
//! fee total and witness commitment, and fails clearly on a tampered template.
//! The merkle branch is checked against a merkle root computed with `sha2`.

mod common;

use std::path::PathBuf;

use serde_json::Value;

use common::dsha;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/gbt")
        .join(name)
}

fn template_json(path: &std::path::Path) -> Result<Value, String> {
    let out = common::hashwatt_command()
        .args(["template", "--json", "--gbt"])
        .arg(path)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!err.contains("panicked"), "{err}");
    if out.status.success() {
        Ok(serde_json::from_slice(&out.stdout).unwrap())
    } else {
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        Err(err)
    }
}

/// Merkle root with sha2, the plain textbook way.
fn oracle_root(mut level: Vec<Vec<u8>>) -> Vec<u8> {
    while level.len() > 1 {
        if level.len() % 2 == 1 {
            level.push(level.last().unwrap().clone());
        }
        level = level
            .chunks(2)
            .map(|p| dsha(&[p[0].clone(), p[1].clone()].concat()))
            .collect();
    }
    level.remove(0)
}

fn rev(hex_display: &str) -> Vec<u8> {
    let mut b = hex::decode(hex_display).unwrap();
    b.reverse();
    b
}

#[test]
fn ckpool_regtest_job_is_reproduced() {
    let path = data("p2poolv2_regtest_ckpool_one-txn.json");
    let v = template_json(&path).unwrap();
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let notify = &file["notify"]["params"];
    assert_eq!(v["stratum_prevhash"], notify[1]);
    assert_eq!(v["merkle_branch"], notify[4]);
    assert_eq!(v["version"], notify[5]);
    assert_eq!(v["bits"], notify[6]);
    assert_eq!(v["height"], 505);
    assert_eq!(v["prev_blockhash"], file["gbt"]["previousblockhash"]);
    // ckpool's coinbase carries the same witness commitment script.
    let wc = v["witness_commitment"].as_str().unwrap();
    assert!(notify[3].as_str().unwrap().contains(wc));
    assert_eq!(wc, file["gbt"]["default_witness_commitment"]);
    // Regtest halves every 150 blocks: 505 / 150 = 3 halvings.
    assert_eq!(
        v["coinbase_value"].as_u64().unwrap() - v["fees"].as_u64().unwrap(),
        50_0000_0000 >> 3
    );
}

#[test]
fn testnet3_template_values() {
    let path = data("public_pool_testnet3_gbt_h2442185.json");
    let v = template_json(&path).unwrap();
    let gbt: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(v["height"], 2_442_185);
    assert_eq!(v["bits"], "192495f8");
    assert_eq!(v["prev_blockhash"], gbt["previousblockhash"]);
    assert_eq!(
        v["stratum_prevhash"],
        "171592f223740e92d223f6e68bff25279af7ac4f2246451e0000000200000000"
    );
    assert_eq!(v["witness_commitment"], gbt["default_witness_commitment"]);
    let fees: u64 = gbt["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["fee"].as_u64().unwrap())
        .sum();
    assert_eq!(v["fees"], fees);
    assert_eq!(v["coinbase_value"], gbt["coinbasevalue"]);
    // The branch folds any coinbase hash into the textbook merkle root.
    let coinbase_hash = dsha(b"any coinbase");
    let txids: Vec<Vec<u8>> = gbt["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| rev(t["txid"].as_str().unwrap()))
        .collect();
    let expected = oracle_root(
        std::iter::once(coinbase_hash.clone())
            .chain(txids)
            .collect(),
    );
    let folded = v["merkle_branch"]
        .as_array()
        .unwrap()
        .iter()
        .fold(coinbase_hash, |acc, b| {
            dsha(&[acc, hex::decode(b.as_str().unwrap()).unwrap()].concat())
        });
    assert_eq!(folded, expected);
    // Text output too.
    let out = common::hashwatt_command()
        .args(["template", "--gbt"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("subsidy 2441406 + fees 24311"));
}

/// A change made to a good template.
type Tamper = Box<dyn Fn(&mut Value)>;

#[test]
fn tampered_templates_fail_clearly() {
    let path = data("public_pool_testnet3_gbt_h2442185.json");
    let good: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, Tamper)> = vec![
        (
            "transaction 1 txid does not match",
            Box::new(|v| v["transactions"][1]["txid"] = "00".repeat(32).into()),
        ),
        (
            "transaction 2 hash (wtxid) does not match",
            Box::new(|v| v["transactions"][2]["hash"] = "11".repeat(32).into()),
        ),
        (
            "fees does not match",
            Box::new(|v| v["transactions"][0]["fee"] = 14301.into()),
        ),
        (
            "default_witness_commitment does not match",
            Box::new(|v| {
                v["default_witness_commitment"] = format!("6a24aa21a9ed{}", "22".repeat(32)).into();
            }),
        ),
        (
            "transaction 3: not a well-formed transaction",
            Box::new(|v| {
                let d = v["transactions"][3]["data"].as_str().unwrap().to_string();
                v["transactions"][3]["data"] = d[..d.len() - 10].into();
            }),
        ),
        (
            "not a getblocktemplate result",
            Box::new(|v| *v = serde_json::json!({"height": 1})),
        ),
    ];
    for (i, (needle, tamper)) in cases.iter().enumerate() {
        let mut v = good.clone();
        tamper(&mut v);
        let p = dir.path().join(format!("t{i}.json"));
        std::fs::write(&p, v.to_string()).unwrap();
        let err = template_json(&p).unwrap_err();
        assert!(err.contains(needle), "{needle:?} not in {err}");
    }
    let err = template_json(&dir.path().join("missing.json")).unwrap_err();
    assert!(err.contains("cannot read --gbt"), "{err}");
}
