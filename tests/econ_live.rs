//! `econ --live` as users run it, against a loopback server (tiny_http) that
//! replays real recorded responses (`tests/data/live/`, sources in its
//! README): a Bitcoin Core node's `getmininginfo`/`getblockchaininfo` and
//! mempool.space's REST API. Covers a node that is down, a malformed
//! response, the cache when everything is down, and the cited defaults when
//! there is no cache either.

mod common;
#[path = "support/live.rs"]
mod live;

use std::path::{Path, PathBuf};

use live::*;
use serde_json::Value;

fn econ(extra: &[&str], cache: &Path) -> (Value, String) {
    let mut args: Vec<String> = [
        "econ",
        "--hashrate",
        "5e9",
        "--watts",
        "700",
        "--live",
        "--live-timeout",
        "5",
        "--live-cache",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(cache.display().to_string());
    args.extend(extra.iter().map(|s| s.to_string()));
    let mut json_args = args.clone();
    json_args.push("--json".into());
    let out = common::hashwatt_command()
        .args(&json_args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "hashwatt {json_args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let md = common::hashwatt_command().args(&args).output().unwrap();
    assert!(md.status.success());
    (report, String::from_utf8_lossy(&md.stdout).into_owned())
}

fn input(r: &Value, key: &str) -> (f64, String, String) {
    let i = &r["inputs"][key];
    (
        i["value"].as_f64().unwrap(),
        i["source"]["kind"].as_str().unwrap().to_string(),
        i["source"]["detail"].as_str().unwrap().to_string(),
    )
}

fn cache_in(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("sub").join("live.json")
}

// Hand figures from the recordings: 1,311,748,254 sat of fees over blocks
// 736,556..=736,655 (100 blocks) is 0.13117482540 BTC a block.
const FEES: f64 = 1_311_748_254.0 / 1e8 / 100.0;

#[test]
fn node_and_rest_then_cache_then_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let cache = cache_in(&dir);
    {
        let srv = Replay::start(Fault::None);
        let api = format!("{}/api", srv.url);
        let node_args = [
            "--live-api",
            api.as_str(),
            "--node",
            srv.url.as_str(),
            "--rpc-user",
            USER,
            "--rpc-password",
            PASSWORD,
        ];
        let (r, md) = econ(&node_args, &cache);
        assert_eq!(r["live"]["used"], "live", "{:#}", r["live"]);
        assert!(r["live"]["errors"].as_array().unwrap().is_empty());
        // Difficulty and height from the node (preferred over the REST API).
        let (d, kind, detail) = input(&r, "mining.difficulty");
        assert_eq!(d, 141_668_107_417_558.2);
        assert_eq!(kind, "live");
        assert!(detail.contains("getmininginfo"), "{detail}");
        assert_eq!(input(&r, "mining.height").0, 933_586.0);
        // Price with its own time (22 Dec 2023), fees from reward-stats.
        let (p, _, detail) = input(&r, "mining.btc_price_usd");
        assert_eq!(p, 43_753.0);
        assert!(
            detail.contains("/api/v1/prices") && detail.contains("22 Dec 2023 13:40:11"),
            "{detail}"
        );
        assert!((input(&r, "mining.fees_btc_per_block").0 - FEES).abs() < 1e-12);
        // The model used them: reward = subsidy at 933,586 (3.125) + fees.
        assert!(
            (r["mining"]["reward_per_block_btc"].as_f64().unwrap() - (3.125 + FEES)).abs() < 1e-9
        );
        assert!(md.contains("**Live network inputs:** fetched now."), "{md}");
        assert!(cache.exists());

        // A flag still wins over the live value, and the report says so.
        let mut with_flag = node_args.to_vec();
        with_flag.extend(["--btc-price", "50000"]);
        let (r, md) = econ(&with_flag, &cache);
        let (p, kind, _) = input(&r, "mining.btc_price_usd");
        assert_eq!((p, kind.as_str()), (50_000.0, "flag"));
        let price = r["live"]["values"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["key"] == "mining.btc_price_usd")
            .unwrap();
        assert_eq!(price["applied"], false);
        assert!(md.contains("not used, a flag sets it"), "{md}");
    }

    // Everything down: every value from the cache, with its age.
    let dead = dead_url();
    let dead_api = format!("{dead}/api");
    let (r, md) = econ(
        &[
            "--live-api",
            &dead_api,
            "--node",
            &dead,
            "--rpc-user",
            USER,
            "--rpc-password",
            PASSWORD,
        ],
        &cache,
    );
    assert_eq!(r["live"]["used"], "cache");
    assert_eq!(input(&r, "mining.difficulty").0, 141_668_107_417_558.2);
    assert_eq!(input(&r, "mining.btc_price_usd").0, 43_753.0);
    assert!(input(&r, "mining.difficulty").2.starts_with("live cache:"));
    assert!(r["live"]["errors"].as_array().unwrap().len() >= 2);
    assert!(md.contains("offline"), "{md}");
    // The price is as old as its own time says (years, not seconds).
    assert!(md.contains("days old"), "{md}");

    // No cache either: the cited defaults, labelled as such.
    let empty = dir.path().join("none.json");
    let (r, md) = econ(&["--live-api", &dead_api], &empty);
    assert_eq!(r["live"]["used"], "defaults");
    let (d, kind, _) = input(&r, "mining.difficulty");
    assert_eq!((d, kind.as_str()), (148.26e12, "default"));
    assert!(md.contains("offline and no cache"), "{md}");
    assert!(!empty.exists(), "nothing fetched, nothing cached");
}

#[test]
fn node_down_falls_back_to_the_rest_api() {
    let dir = tempfile::tempdir().unwrap();
    let srv = Replay::start(Fault::None);
    let api = format!("{}/api", srv.url);
    let dead = dead_url();
    let (r, _) = econ(
        &[
            "--live-api",
            &api,
            "--node",
            &dead,
            "--rpc-user",
            USER,
            "--rpc-password",
            PASSWORD,
        ],
        &cache_in(&dir),
    );
    assert_eq!(r["live"]["used"], "live");
    let errors = r["live"]["errors"].to_string();
    assert!(errors.contains("node"), "{errors}");
    // mempool.space's recorded figures (May 2022).
    let (d, _, detail) = input(&r, "mining.difficulty");
    assert_eq!(d, 31_251_101_365_711.12);
    assert!(detail.contains("/api/v1/mining/hashrate/3d"), "{detail}");
    assert_eq!(input(&r, "mining.height").0, 698_767.0);
}

#[test]
fn malformed_responses_are_reported_and_not_used() {
    let dir = tempfile::tempdir().unwrap();
    let srv = Replay::start(Fault::MalformedPrice);
    let api = format!("{}/api", srv.url);
    let (r, md) = econ(&["--live-api", &api], &cache_in(&dir));
    assert_eq!(r["live"]["used"], "live-and-defaults");
    assert!(md.contains("partly fetched now; no cache"), "{md}");
    let errors = r["live"]["errors"].to_string();
    assert!(
        errors.contains("/api/v1/prices: malformed response"),
        "{errors}"
    );
    let (p, kind, _) = input(&r, "mining.btc_price_usd");
    assert_eq!((p, kind.as_str()), (91_132.0, "default"));
    assert!(md.contains("failed:"), "{md}");
    // The rest is live.
    assert_eq!(input(&r, "mining.height").0, 698_767.0);

    let srv = Replay::start(Fault::MalformedNode);
    let api = format!("{}/api", srv.url);
    let (r, _) = econ(
        &[
            "--live-api",
            &api,
            "--node",
            &srv.url,
            "--rpc-user",
            USER,
            "--rpc-password",
            PASSWORD,
        ],
        &cache_in(&dir),
    );
    let errors = r["live"]["errors"].to_string();
    assert!(
        errors.contains("getmininginfo: malformed response"),
        "{errors}"
    );
    // The REST API stands in for the node.
    assert_eq!(input(&r, "mining.difficulty").0, 31_251_101_365_711.12);
}

#[test]
fn the_recordings_agree_with_the_consensus_subsidy() {
    // reward-stats: totalReward − totalFee is 100 blocks' subsidy at
    // heights 736,556..=736,655 (6.25 BTC each, after the 2020 halving).
    let v: Value = serde_json::from_str(&recorded("mempool_reward_stats_100.json")).unwrap();
    let n = |k: &str| v[k].as_str().unwrap().parse::<u64>().unwrap();
    let subsidy: u64 = (736_556..=736_655)
        .map(hashwatt::economics::mining::subsidy_sats)
        .sum();
    assert_eq!(n("totalReward") - n("totalFee"), subsidy);
    // getmininginfo's difficulty is its compact target's (bits 1701fca1).
    let m: Value = serde_json::from_str(&recorded("node_getmininginfo.json")).unwrap();
    let bits =
        hashwatt::pow::CompactTarget::from_hex(m["result"]["bits"].as_str().unwrap()).unwrap();
    let target = hashwatt::pow::Target::from_compact(bits).unwrap();
    let d = m["result"]["difficulty"].as_f64().unwrap();
    assert!(
        (target.difficulty() / d - 1.0).abs() < 1e-9,
        "{} vs {d}",
        target.difficulty()
    );
}

#[test]
fn bad_live_flags_are_refused() {
    let out = common::hashwatt(&["econ", "--hashrate", "5e9", "--live-api", "x"]);
    assert!(!out.status.success());
    let out = common::hashwatt(&[
        "econ",
        "--hashrate",
        "5e9",
        "--live",
        "--live-api",
        "mempool.space",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("invalid REST API URL"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
