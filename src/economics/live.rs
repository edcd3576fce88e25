//! Live network inputs: difficulty, height, fees per block and BTC price,
//! fetched from a Bitcoin Core node (JSON-RPC `getmininginfo`,
//! `getblockchaininfo`) and/or a mempool.space-compatible REST API
//! (`/blocks/tip/height`, `/v1/mining/hashrate/3d`,
//! `/v1/mining/reward-stats/144`, `/v1/prices`), with a cache file.
//!
//! [`refresh`] asks every configured source; what it gets is written to the
//! cache with its as-of time. What no source answered is taken from the
//! cache; what the cache lacks stays at the scenario's value (a flag, the
//! scenario file or the cited default). [`Scenario::apply_live`](crate::economics::Scenario::apply_live) puts the
//! values into a scenario, each with its provenance and age, so a scheduler
//! (the agent) can decide on current figures:
//!
//! ```no_run
//! use std::time::Duration;
//! use hashwatt::economics::live::{self, LiveSources, RestApi};
//! use hashwatt::economics::{Scenario, evaluate, units::*};
//!
//! let sources = LiveSources {
//!     node: None,
//!     rest: Some(RestApi::new(live::MEMPOOL_SPACE, Duration::from_secs(10))?),
//! };
//! let got = live::refresh(&sources, &live::default_cache_path(), live::now());
//! let mut s = Scenario::new(HashRate(5e9), Watts(700.0));
//! s.apply_live(&got.inputs, live::now())?;
//! let decision = evaluate(&s)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::inputs::key;
use crate::gbt::rpc::NodeClient;

/// The public mempool.space REST API's base URL.
pub const MEMPOOL_SPACE: &str = "https://mempool.space/api";

/// Blocks the fee average is taken over (one day at 144 blocks a day).
pub const FEE_WINDOW_BLOCKS: u32 = 144;

/// Cache file format tag.
pub const CACHE_SCHEMA: &str = "hashwatt.live-cache/1";

/// Errors of one live request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LiveError {
    /// The base URL is not `http://` or `https://`.
    #[error("invalid REST API URL {0:?}: expected http(s)://HOST[:PORT]/PATH")]
    Url(String),
    /// Transport failure or an HTTP error status.
    #[error("{endpoint}: {reason}")]
    Http {
        /// The endpoint.
        endpoint: String,
        /// Why.
        reason: String,
    },
    /// The response does not carry the expected field.
    #[error("{endpoint}: malformed response: {reason}")]
    Malformed {
        /// The endpoint.
        endpoint: String,
        /// What is wrong.
        reason: String,
    },
    /// A node RPC error.
    #[error("node {0}")]
    Node(#[from] crate::gbt::rpc::RpcError),
}

/// One live value: where it came from and as of when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveValue {
    /// The value.
    pub value: f64,
    /// The source and endpoint (`node getmininginfo`, `https://mempool.space/api/v1/prices`).
    pub origin: String,
    /// When the value was true (the price's own time) or fetched, Unix seconds.
    pub as_of: u64,
    /// True when read back from the cache file rather than fetched now.
    #[serde(skip)]
    pub from_cache: bool,
}

/// The live inputs; `None` where no source gave the value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveInputs {
    /// Network difficulty.
    pub difficulty: Option<LiveValue>,
    /// Chain tip height.
    pub height: Option<LiveValue>,
    /// Mean fees per block over the last [`FEE_WINDOW_BLOCKS`] blocks, BTC.
    pub fees_btc_per_block: Option<LiveValue>,
    /// BTC price, USD.
    pub btc_price_usd: Option<LiveValue>,
}

impl LiveInputs {
    /// `(scenario key, value)` for each value present.
    pub fn entries(&self) -> Vec<(&'static str, &LiveValue)> {
        [
            (key!(mining.difficulty), &self.difficulty),
            (key!(mining.height), &self.height),
            (key!(mining.fees_btc_per_block), &self.fees_btc_per_block),
            (key!(mining.btc_price_usd), &self.btc_price_usd),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k, v)))
        .collect()
    }

    fn slots(&mut self) -> [&mut Option<LiveValue>; 4] {
        [
            &mut self.difficulty,
            &mut self.height,
            &mut self.fees_btc_per_block,
            &mut self.btc_price_usd,
        ]
    }
}

/// A mempool.space-compatible REST API (mempool.space or a self-hosted
/// mempool instance).
#[derive(Debug, Clone)]
pub struct RestApi {
    base: String,
    agent: ureq::Agent,
}

impl RestApi {
    /// A client for `base` (e.g. [`MEMPOOL_SPACE`]), each request limited to `timeout`.
    ///
    /// # Errors
    /// [`LiveError::Url`].
    pub fn new(base: &str, timeout: Duration) -> Result<RestApi, LiveError> {
        let rest = base
            .strip_prefix("https://")
            .or_else(|| base.strip_prefix("http://"))
            .ok_or_else(|| LiveError::Url(base.to_string()))?;
        if rest.is_empty() || rest.starts_with('/') {
            return Err(LiveError::Url(base.to_string()));
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .build()
            .into();
        Ok(RestApi {
            base: base.trim_end_matches('/').to_string(),
            agent,
        })
    }

    /// The base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    fn get(&self, path: &str) -> Result<(String, String), LiveError> {
        let url = format!("{}{path}", self.base);
        let http = |reason: String| LiveError::Http {
            endpoint: url.clone(),
            reason,
        };
        let body = self
            .agent
            .get(&url)
            .call()
            .map_err(|e| http(e.to_string()))?
            .body_mut()
            .read_to_string()
            .map_err(|e| http(e.to_string()))?;
        Ok((url, body))
    }

    fn get_json(&self, path: &str) -> Result<(String, Value), LiveError> {
        let (url, body) = self.get(path)?;
        let v = serde_json::from_str(&body).map_err(|e| LiveError::Malformed {
            endpoint: url.clone(),
            reason: e.to_string(),
        })?;
        Ok((url, v))
    }

    /// `GET /blocks/tip/height`.
    ///
    /// # Errors
    /// [`LiveError`].
    pub fn tip_height(&self, now: u64) -> Result<LiveValue, LiveError> {
        let (url, body) = self.get("/blocks/tip/height")?;
        let h: u32 = body.trim().parse().map_err(|_| LiveError::Malformed {
            endpoint: url.clone(),
            reason: format!("expected a block height, got {:?}", clip(&body)),
        })?;
        Ok(fresh(f64::from(h), url, now))
    }

    /// `GET /v1/mining/hashrate/3d`: its `currentDifficulty`.
    ///
    /// # Errors
    /// [`LiveError`].
    pub fn difficulty(&self, now: u64) -> Result<LiveValue, LiveError> {
        let (url, v) = self.get_json("/v1/mining/hashrate/3d")?;
        let d = positive(&url, &v, "currentDifficulty")?;
        Ok(fresh(d, url, now))
    }

    /// `GET /v1/mining/reward-stats/N`: `totalFee` (satoshis, a decimal
    /// string) over `endBlock − startBlock + 1` blocks, in BTC per block.
    ///
    /// # Errors
    /// [`LiveError`].
    pub fn fees_btc_per_block(&self, blocks: u32, now: u64) -> Result<LiveValue, LiveError> {
        let (url, v) = self.get_json(&format!("/v1/mining/reward-stats/{blocks}"))?;
        let bad = |reason: String| LiveError::Malformed {
            endpoint: url.clone(),
            reason,
        };
        let fee_sat: f64 = match &v["totalFee"] {
            Value::String(s) => s.parse::<u64>().ok().map(|x| x as f64),
            Value::Number(n) => n.as_u64().map(|x| x as f64),
            _ => None,
        }
        .ok_or_else(|| {
            bad(format!(
                "`totalFee` is not a satoshi amount: {}",
                v["totalFee"]
            ))
        })?;
        let (Some(start), Some(end)) = (v["startBlock"].as_u64(), v["endBlock"].as_u64()) else {
            return Err(bad("no `startBlock`/`endBlock`".into()));
        };
        if end < start {
            return Err(bad(format!(
                "`endBlock` {end} is below `startBlock` {start}"
            )));
        }
        let n = (end - start + 1) as f64;
        Ok(fresh(fee_sat / 1e8 / n, url, now))
    }

    /// `GET /v1/prices`: `USD`, as of the response's `time`.
    ///
    /// # Errors
    /// [`LiveError`].
    pub fn btc_price_usd(&self) -> Result<LiveValue, LiveError> {
        let (url, v) = self.get_json("/v1/prices")?;
        let usd = positive(&url, &v, "USD")?;
        let time = v["time"].as_u64().ok_or_else(|| LiveError::Malformed {
            endpoint: url.clone(),
            reason: "no `time`".into(),
        })?;
        Ok(LiveValue {
            value: usd,
            origin: url,
            as_of: time,
            from_cache: false,
        })
    }
}

fn clip(s: &str) -> String {
    s.chars().take(60).collect()
}

fn fresh(value: f64, origin: String, now: u64) -> LiveValue {
    LiveValue {
        value,
        origin,
        as_of: now,
        from_cache: false,
    }
}

fn positive(endpoint: &str, v: &Value, field: &str) -> Result<f64, LiveError> {
    v[field]
        .as_f64()
        .filter(|x| x.is_finite() && *x > 0.0)
        .ok_or_else(|| LiveError::Malformed {
            endpoint: endpoint.to_string(),
            reason: format!("`{field}` is not a positive number: {}", v[field]),
        })
}

/// Difficulty and height from a node: `getmininginfo` (`difficulty`,
/// `blocks`), and `getblockchaininfo` when `getmininginfo` lacks them.
///
/// # Errors
/// [`LiveError`].
pub fn node_inputs(node: &NodeClient, now: u64) -> Result<LiveInputs, LiveError> {
    let mut out = LiveInputs::default();
    for method in ["getmininginfo", "getblockchaininfo"] {
        if out.difficulty.is_some() && out.height.is_some() {
            break;
        }
        let info = node.call(method, json!([]))?;
        let origin = format!("node {} {method}", node.url());
        let bad = |reason: String| LiveError::Malformed {
            endpoint: origin.clone(),
            reason,
        };
        if !info.is_object() {
            return Err(bad(format!(
                "expected an object, got {}",
                clip(&info.to_string())
            )));
        }
        if out.difficulty.is_none() {
            let d = positive(&origin, &info, "difficulty")?;
            out.difficulty = Some(fresh(d, origin.clone(), now));
        }
        if out.height.is_none() {
            let h = info["blocks"]
                .as_u64()
                .filter(|h| *h <= u64::from(u32::MAX))
                .ok_or_else(|| bad(format!("`blocks` is not a height: {}", info["blocks"])))?;
            out.height = Some(fresh(h as f64, origin.clone(), now));
        }
    }
    Ok(out)
}

/// Where live values may come from.
#[derive(Debug, Clone, Default)]
pub struct LiveSources {
    /// A Bitcoin Core node: difficulty and height (preferred over the REST API).
    pub node: Option<NodeClient>,
    /// A mempool.space-compatible REST API: height, difficulty, fees, price.
    pub rest: Option<RestApi>,
}

/// Which values a refresh used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Used {
    /// Every value was fetched now.
    Live,
    /// Some fetched now, the rest from the cache (and, where the cache
    /// lacks a value too, the scenario's).
    LiveAndCache,
    /// Some fetched now, no cache for the rest: the scenario's values.
    LiveAndDefaults,
    /// Nothing answered: every value from the cache.
    Cache,
    /// Nothing answered and no cache: the scenario's values (cited defaults
    /// unless a flag or the scenario file set them).
    Defaults,
}

/// The outcome of [`refresh`].
#[derive(Debug, Clone, PartialEq)]
pub struct Refreshed {
    /// The values to use.
    pub inputs: LiveInputs,
    /// Which kind of values they are.
    pub used: Used,
    /// One line per failed request or cache problem.
    pub errors: Vec<String>,
}

/// Fetches every value from every configured source (the node first for
/// difficulty and height), fills the gaps from the cache at `cache`, and
/// writes what it fetched to the cache. Never fails: failures are listed in
/// [`Refreshed::errors`].
pub fn refresh(sources: &LiveSources, cache: &Path, now: u64) -> Refreshed {
    let mut got = LiveInputs::default();
    let mut errors = Vec::new();
    if let Some(node) = &sources.node {
        match node_inputs(node, now) {
            Ok(v) => got = v,
            Err(e) => errors.push(e.to_string()),
        }
    }
    if let Some(api) = &sources.rest {
        let mut take = |slot: &mut Option<LiveValue>, r: Result<LiveValue, LiveError>| {
            if slot.is_none() {
                match r {
                    Ok(v) => *slot = Some(v),
                    Err(e) => errors.push(e.to_string()),
                }
            }
        };
        if got.height.is_none() {
            take(&mut got.height, api.tip_height(now));
        }
        if got.difficulty.is_none() {
            take(&mut got.difficulty, api.difficulty(now));
        }
        take(
            &mut got.fees_btc_per_block,
            api.fees_btc_per_block(FEE_WINDOW_BLOCKS, now),
        );
        take(&mut got.btc_price_usd, api.btc_price_usd());
    }
    let fetched = got.entries().len();
    let cached = match load_cache(cache) {
        Ok(c) => c,
        Err(e) => {
            errors.push(e);
            None
        }
    };
    if fetched > 0 {
        let mut to_save = got.clone();
        if let Some(old) = &cached {
            let mut old = old.clone();
            for (slot, prev) in to_save.slots().into_iter().zip(old.slots()) {
                if slot.is_none() {
                    *slot = prev.take();
                }
            }
        }
        if let Err(e) = save_cache(cache, &to_save) {
            errors.push(e);
        }
    }
    let mut inputs = got;
    if let Some(mut old) = cached {
        for (slot, prev) in inputs.slots().into_iter().zip(old.slots()) {
            if slot.is_none()
                && let Some(mut v) = prev.take()
            {
                v.from_cache = true;
                *slot = Some(v);
            }
        }
    }
    let total = inputs.entries().len();
    let used = match (fetched, total) {
        (0, 0) => Used::Defaults,
        (0, _) => Used::Cache,
        (4, _) => Used::Live,
        (f, t) if f == t => Used::LiveAndDefaults,
        _ => Used::LiveAndCache,
    };
    Refreshed {
        inputs,
        used,
        errors,
    }
}

/// What a report says about the live inputs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LiveReport {
    /// Which kind of values were used.
    pub used: Used,
    /// The cache file.
    pub cache: String,
    /// Each value used: scenario key, value, origin, as-of time and age.
    pub values: Vec<LiveReportValue>,
    /// Failed requests and cache problems.
    pub errors: Vec<String>,
}

/// One live value as reported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LiveReportValue {
    /// Scenario key (`mining.difficulty`).
    pub key: &'static str,
    /// The value.
    pub value: f64,
    /// Source and endpoint.
    pub origin: String,
    /// As of, Unix seconds.
    pub as_of: u64,
    /// As of, HTTP date.
    pub as_of_utc: String,
    /// Age at report time, seconds.
    pub age_s: u64,
    /// Read from the cache rather than fetched now.
    pub from_cache: bool,
    /// False when a flag set this input and the live value was not used.
    pub applied: bool,
}

impl LiveReport {
    /// The report of `r`, at `now`, reading cache `cache`; `applied` lists
    /// the keys [`crate::economics::Scenario::apply_live`] set.
    pub fn new(r: &Refreshed, cache: &Path, applied: &[&str], now: u64) -> LiveReport {
        LiveReport {
            used: r.used,
            cache: cache.display().to_string(),
            values: r
                .inputs
                .entries()
                .into_iter()
                .map(|(key, v)| LiveReportValue {
                    key,
                    value: v.value,
                    origin: v.origin.clone(),
                    as_of: v.as_of,
                    as_of_utc: utc(v.as_of),
                    age_s: now.saturating_sub(v.as_of),
                    from_cache: v.from_cache,
                    applied: applied.contains(&key),
                })
                .collect(),
            errors: r.errors.clone(),
        }
    }

    /// One Markdown paragraph: which source was used, how old, what failed.
    pub fn to_markdown(&self) -> String {
        let mut o = String::from(match self.used {
            Used::Live => "**Live network inputs:** fetched now.\n",
            Used::LiveAndCache => {
                "**Live network inputs:** partly fetched now, the rest from the live cache.\n"
            }
            Used::LiveAndDefaults => {
                "**Live network inputs:** partly fetched now; no cache for the rest, which keep \
                 the scenario's values (cited defaults unless set).\n"
            }
            Used::Cache => "**Live network inputs: offline**, every value from the live cache.\n",
            Used::Defaults => {
                "**Live network inputs: offline and no cache**: difficulty, height, fees and BTC \
                 price are the scenario's (cited defaults unless set).\n"
            }
        });
        for v in &self.values {
            o.push_str(&format!(
                "- `{}` = {} from {}{}, as of {} ({} old){}\n",
                v.key,
                v.value,
                if v.from_cache { "the cache: " } else { "" },
                v.origin,
                v.as_of_utc,
                age(v.age_s),
                if v.applied {
                    ""
                } else {
                    "; not used, a flag sets it"
                }
            ));
        }
        for e in &self.errors {
            o.push_str(&format!("- failed: {e}\n"));
        }
        o.push_str(&format!("- cache: {}\n", self.cache));
        o
    }
}

#[derive(Serialize, Deserialize)]
struct CacheFile {
    schema: String,
    #[serde(flatten)]
    inputs: LiveInputs,
}

/// Reads a cache file; `Ok(None)` when there is none.
///
/// # Errors
/// A line saying why an existing file cannot be used.
pub fn load_cache(path: &Path) -> Result<Option<LiveInputs>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("live cache {}: {e}", path.display())),
    };
    let f: CacheFile = serde_json::from_str(&text)
        .map_err(|e| format!("live cache {} ignored: {e}", path.display()))?;
    if f.schema != CACHE_SCHEMA {
        return Err(format!(
            "live cache {} ignored: schema {:?}, expected {CACHE_SCHEMA:?}",
            path.display(),
            f.schema
        ));
    }
    Ok(Some(f.inputs))
}

fn save_cache(path: &Path, inputs: &LiveInputs) -> Result<(), String> {
    let err = |e: std::io::Error| format!("cannot write live cache {}: {e}", path.display());
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let f = CacheFile {
        schema: CACHE_SCHEMA.into(),
        inputs: inputs.clone(),
    };
    let text = serde_json::to_string_pretty(&f).map_err(|e| e.to_string())?;
    // Write beside it and rename, so a crash never leaves half a cache.
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text).map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)
}

/// The cache's default place: `$XDG_CACHE_HOME/hashwatt/live.json`, else
/// `$HOME/.cache/hashwatt/live.json`, else `hashwatt-live.json` here.
pub fn default_cache_path() -> PathBuf {
    let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    if let Some(d) = var("XDG_CACHE_HOME") {
        return PathBuf::from(d).join("hashwatt").join("live.json");
    }
    if let Some(h) = var("HOME") {
        return PathBuf::from(h)
            .join(".cache")
            .join("hashwatt")
            .join("live.json");
    }
    PathBuf::from("hashwatt-live.json")
}

/// Now, Unix seconds.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `as_of` as an HTTP date (`Sat, 23 Dec 2023 13:40:11 GMT`).
pub fn utc(as_of: u64) -> String {
    httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(as_of))
}

/// An age in words: `42 s`, `17 min`, `5.2 h`, `3.1 days`.
pub fn age(seconds: u64) -> String {
    let s = seconds as f64;
    if seconds < 120 {
        format!("{seconds} s")
    } else if s < 2.0 * 3600.0 {
        format!("{:.0} min", s / 60.0)
    } else if s < 48.0 * 3600.0 {
        format!("{:.1} h", s / 3600.0)
    } else {
        format!("{:.1} days", s / 86_400.0)
    }
}

/// The provenance line of one value at time `now`.
pub fn describe(v: &LiveValue, now: u64) -> String {
    format!(
        "{}: {} as of {} ({} old)",
        if v.from_cache { "live cache" } else { "live" },
        v.origin,
        utc(v.as_of),
        age(now.saturating_sub(v.as_of))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_well() {
        assert_eq!(age(5), "5 s");
        assert_eq!(age(600), "10 min");
        assert_eq!(age(3 * 3600), "3.0 h");
        assert_eq!(age(3 * 86_400), "3.0 days");
        assert_eq!(utc(1_703_252_411), "Fri, 22 Dec 2023 13:40:11 GMT");
    }

    #[test]
    fn rest_urls_are_checked() {
        let t = Duration::from_secs(1);
        assert!(RestApi::new("mempool.space/api", t).is_err());
        assert!(RestApi::new("https://", t).is_err());
        assert_eq!(
            RestApi::new("https://mempool.space/api/", t)
                .unwrap()
                .base(),
            "https://mempool.space/api"
        );
    }
}
