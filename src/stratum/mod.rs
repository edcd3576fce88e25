//! Stratum V1: messages, jobs and the headers built from them.
//!
//! A pool hands out work as `mining.notify` ([`Notify`]). With the
//! connection's `extranonce1` and an `extranonce2` the miner picks, a job
//! becomes an 80-byte [`Header`]:
//!
//! - coinbase = `coinb1 ‖ extranonce1 ‖ extranonce2 ‖ coinb2`;
//! - merkle root = dSHA256(coinbase), folded with each branch in order
//!   (`root = dSHA256(root ‖ branch)`, branches in internal byte order);
//! - prevhash: the notify carries eight 4-byte words, each byte-swapped
//!   relative to the header's wire order ([`prevhash_from_stratum`]);
//! - version, nbits and ntime are big-endian hex in messages, little-endian in
//!   the header; with BIP 310 version rolling the header's version is
//!   `(job_version & !mask) | (rolled_bits & mask)`.
//!
//! [`Notify::header`] builds one header; [`Submit`] is a share as sent back
//! ([`Submit::header`] rebuilds what it claims, [`rebuild_share`] from raw lines).
//! [`client`] speaks the protocol over TCP or TLS.

pub mod client;

use serde_json::Value;

use crate::header::{BlockHash, Header};
use crate::pow::{CompactTarget, Target, TargetError};
use crate::sha256::sha256d;

/// The largest extranonce2 size accepted from a pool, in bytes.
pub const MAX_EXTRANONCE2_SIZE: usize = 16;
/// The largest extranonce1 accepted from a pool, in bytes.
pub const MAX_EXTRANONCE1_SIZE: usize = 32;
/// The most merkle branches a job may carry (2^32 transactions would need 32).
pub const MAX_MERKLE_BRANCHES: usize = 32;

/// Errors in Stratum messages and jobs.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum StratumError {
    /// The line is not JSON.
    #[error("malformed JSON: {0}")]
    Json(String),
    /// A JSON value of the wrong shape.
    #[error("{what}: {reason}")]
    Shape {
        /// The message or field.
        what: String,
        /// What was wrong.
        reason: String,
    },
    /// A hex field that is not hex or has the wrong length.
    #[error("{what}: {reason}")]
    Hex {
        /// The field.
        what: String,
        /// What was wrong.
        reason: String,
    },
    /// A difficulty that is not a finite number above zero, or absurdly high.
    #[error("absurd difficulty {0}")]
    Difficulty(f64),
    /// A target that cannot be built.
    #[error(transparent)]
    Target(#[from] TargetError),
}

fn shape(what: impl Into<String>, reason: impl Into<String>) -> StratumError {
    StratumError::Shape {
        what: what.into(),
        reason: reason.into(),
    }
}

/// Decodes hex of any even length (at most `max` bytes).
///
/// # Errors
/// [`StratumError::Hex`] for odd length, non-hex characters or more than `max` bytes.
pub fn decode_hex(what: &str, s: &str, max: usize) -> Result<Vec<u8>, StratumError> {
    if s.len() > max * 2 {
        return Err(StratumError::Hex {
            what: what.to_string(),
            reason: format!("{} hex digits, at most {} allowed", s.len(), max * 2),
        });
    }
    hex::decode(s).map_err(|e| StratumError::Hex {
        what: what.to_string(),
        reason: format!("{e} in {s:?}"),
    })
}

/// Decodes exactly `N` bytes of hex.
fn decode_fixed<const N: usize>(what: &str, s: &str) -> Result<[u8; N], StratumError> {
    let v = decode_hex(what, s, N)?;
    v.try_into().map_err(|v: Vec<u8>| StratumError::Hex {
        what: what.to_string(),
        reason: format!("{} hex digits, expected {}", v.len() * 2, N * 2),
    })
}

/// A big-endian `u32` from 8 hex digits (version, nbits, ntime, nonce in messages).
///
/// # Errors
/// [`StratumError::Hex`] unless `s` is exactly 8 hex digits.
pub fn parse_u32_be(what: &str, s: &str) -> Result<u32, StratumError> {
    Ok(u32::from_be_bytes(decode_fixed::<4>(what, s)?))
}

/// The notify's prevhash (eight byte-swapped words) as the header's `prev_blockhash`.
///
/// # Errors
/// [`StratumError::Hex`] unless `s` is 64 hex digits.
pub fn prevhash_from_stratum(s: &str) -> Result<BlockHash, StratumError> {
    let mut b = decode_fixed::<32>("prevhash", s)?;
    for word in b.chunks_mut(4) {
        word.reverse();
    }
    Ok(BlockHash(b))
}

/// The header's `prev_blockhash` as a `mining.notify` carries it.
pub fn prevhash_to_stratum(prev: &BlockHash) -> String {
    let mut b = prev.0;
    for word in b.chunks_mut(4) {
        word.reverse();
    }
    hex::encode(b)
}

/// Folds a coinbase hash with the merkle branches into the merkle root (internal byte order).
pub fn merkle_root(coinbase_hash: [u8; 32], branches: &[[u8; 32]]) -> [u8; 32] {
    let mut root = coinbase_hash;
    let mut buf = [0u8; 64];
    for branch in branches {
        buf[..32].copy_from_slice(&root);
        buf[32..].copy_from_slice(branch);
        root = sha256d(&buf);
    }
    root
}

/// The share difficulty of a hash: how many difficulty-1 targets it beats
/// (`0x00000000ffff0000… / hash`).
pub fn share_difficulty(hash: BlockHash) -> f64 {
    let value = Target::from_le_bytes(hash.0);
    if value == Target::from_le_bytes([0; 32]) {
        return f64::INFINITY;
    }
    value.difficulty()
}

/// Checks a pool difficulty: finite, above zero and not beyond 2^64
/// (no pool asks for more; a larger value is a broken pool).
///
/// # Errors
/// [`StratumError::Difficulty`].
pub fn check_difficulty(d: f64) -> Result<f64, StratumError> {
    if d.is_finite()
        && d > 0.0
        && d <= 18_446_744_073_709_551_616.0
        && Target::from_difficulty(d).is_ok()
    {
        Ok(d)
    } else {
        Err(StratumError::Difficulty(d))
    }
}

/// One JSON-RPC line from either side.
#[derive(Clone, Debug, PartialEq)]
pub enum Message {
    /// A request or notification: `{"id", "method", "params"}`.
    Request {
        /// The id (`null` for a notification).
        id: Value,
        /// The method name.
        method: String,
        /// The parameters (an array; `null` becomes `[]`).
        params: Vec<Value>,
    },
    /// A response: `{"id", "result", "error"}`.
    Response {
        /// The id of the request answered.
        id: Value,
        /// The result (`null` on error).
        result: Value,
        /// The error (`null` on success).
        error: Value,
    },
}

impl Message {
    /// Parses one line.
    ///
    /// # Errors
    /// [`StratumError::Json`] for bad JSON, [`StratumError::Shape`] for an
    /// object that is neither a request nor a response.
    pub fn parse(line: &str) -> Result<Message, StratumError> {
        let v: Value = serde_json::from_str(line).map_err(|e| StratumError::Json(e.to_string()))?;
        let Value::Object(mut o) = v else {
            return Err(shape("message", "not a JSON object"));
        };
        let id = o.remove("id").unwrap_or(Value::Null);
        match o.remove("method") {
            Some(Value::String(method)) => {
                let params = match o.remove("params") {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::Array(a)) => a,
                    Some(_) => return Err(shape(method, "params is not an array")),
                };
                Ok(Message::Request { id, method, params })
            }
            Some(_) => Err(shape("message", "method is not a string")),
            None => {
                if !o.contains_key("result") && !o.contains_key("error") {
                    return Err(shape("message", "neither a method nor a result"));
                }
                Ok(Message::Response {
                    id,
                    result: o.remove("result").unwrap_or(Value::Null),
                    error: o.remove("error").unwrap_or(Value::Null),
                })
            }
        }
    }
}

fn param<'a>(params: &'a [Value], i: usize, what: &str) -> Result<&'a Value, StratumError> {
    params
        .get(i)
        .ok_or_else(|| shape(what, format!("missing parameter {i}")))
}

fn param_str<'a>(params: &'a [Value], i: usize, what: &str) -> Result<&'a str, StratumError> {
    param(params, i, what)?
        .as_str()
        .ok_or_else(|| shape(what, format!("parameter {i} is not a string")))
}

/// The `mining.subscribe` result: `[subscriptions, extranonce1, extranonce2_size]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscription {
    /// The connection's extranonce1.
    pub extranonce1: Vec<u8>,
    /// Bytes of extranonce2 the miner fills in.
    pub extranonce2_size: usize,
}

impl Subscription {
    /// Reads a subscribe result (or `mining.set_extranonce` params, which have
    /// the same last two fields).
    ///
    /// # Errors
    /// [`StratumError`] for a missing or malformed extranonce1 or size.
    pub fn from_fields(en1: &Value, size: &Value) -> Result<Subscription, StratumError> {
        let en1 = en1
            .as_str()
            .ok_or_else(|| shape("extranonce1", "not a string"))?;
        let extranonce1 = decode_hex("extranonce1", en1, MAX_EXTRANONCE1_SIZE)?;
        let size = size
            .as_u64()
            .ok_or_else(|| shape("extranonce2_size", "not a whole number"))?;
        if size == 0 || size as usize > MAX_EXTRANONCE2_SIZE {
            return Err(shape(
                "extranonce2_size",
                format!("{size} is outside 1..={MAX_EXTRANONCE2_SIZE}"),
            ));
        }
        Ok(Subscription {
            extranonce1,
            extranonce2_size: size as usize,
        })
    }

    /// Reads the result of `mining.subscribe`.
    ///
    /// # Errors
    /// As [`Subscription::from_fields`]; also a result that is not a 3-element array.
    pub fn from_result(result: &Value) -> Result<Subscription, StratumError> {
        let a = result
            .as_array()
            .ok_or_else(|| shape("subscribe result", "not an array"))?;
        if a.len() < 3 {
            return Err(shape("subscribe result", "fewer than 3 elements"));
        }
        Subscription::from_fields(&a[1], &a[2])
    }
}

/// A `mining.notify` job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notify {
    /// The pool's job id, echoed in submits.
    pub job_id: String,
    /// The previous block hash, as the header stores it.
    pub prev_blockhash: BlockHash,
    /// Coinbase part before the extranonces.
    pub coinb1: Vec<u8>,
    /// Coinbase part after the extranonces.
    pub coinb2: Vec<u8>,
    /// Merkle branches, internal byte order.
    pub merkle_branch: Vec<[u8; 32]>,
    /// Block version.
    pub version: u32,
    /// nBits.
    pub bits: CompactTarget,
    /// ntime.
    pub time: u32,
    /// Whether earlier jobs are void.
    pub clean_jobs: bool,
}

impl Notify {
    /// Reads `mining.notify` params.
    ///
    /// # Errors
    /// [`StratumError`] for a missing field, wrong-length hex or too many branches.
    pub fn from_params(p: &[Value]) -> Result<Notify, StratumError> {
        const W: &str = "mining.notify";
        if p.len() < 9 {
            return Err(shape(W, format!("{} parameters, expected 9", p.len())));
        }
        let job_id = match param(p, 0, W)? {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return Err(shape(W, "job id is not a string")),
        };
        if job_id.is_empty() || job_id.len() > 128 {
            return Err(shape(W, "job id is empty or longer than 128 characters"));
        }
        let branches = param(p, 4, W)?
            .as_array()
            .ok_or_else(|| shape(W, "merkle branch is not an array"))?;
        if branches.len() > MAX_MERKLE_BRANCHES {
            return Err(shape(
                W,
                format!(
                    "{} merkle branches, at most {MAX_MERKLE_BRANCHES}",
                    branches.len()
                ),
            ));
        }
        let merkle_branch = branches
            .iter()
            .map(|b| {
                let s = b
                    .as_str()
                    .ok_or_else(|| shape(W, "merkle branch entry is not a string"))?;
                decode_fixed::<32>("merkle branch", s)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let clean_jobs = param(p, 8, W)?
            .as_bool()
            .ok_or_else(|| shape(W, "clean_jobs is not a boolean"))?;
        Ok(Notify {
            job_id,
            prev_blockhash: prevhash_from_stratum(param_str(p, 1, W)?)?,
            coinb1: decode_hex("coinb1", param_str(p, 2, W)?, 100_000)?,
            coinb2: decode_hex("coinb2", param_str(p, 3, W)?, 100_000)?,
            merkle_branch,
            version: parse_u32_be("version", param_str(p, 5, W)?)?,
            bits: CompactTarget::from_consensus(parse_u32_be("nbits", param_str(p, 6, W)?)?),
            time: parse_u32_be("ntime", param_str(p, 7, W)?)?,
            clean_jobs,
        })
    }

    /// The notify params as a pool sends them.
    pub fn to_params(&self) -> Value {
        Value::Array(vec![
            self.job_id.clone().into(),
            prevhash_to_stratum(&self.prev_blockhash).into(),
            hex::encode(&self.coinb1).into(),
            hex::encode(&self.coinb2).into(),
            Value::Array(
                self.merkle_branch
                    .iter()
                    .map(|b| hex::encode(b).into())
                    .collect(),
            ),
            format!("{:08x}", self.version).into(),
            format!("{:08x}", self.bits.to_consensus()).into(),
            format!("{:08x}", self.time).into(),
            self.clean_jobs.into(),
        ])
    }

    /// The coinbase transaction for one extranonce pair.
    pub fn coinbase(&self, extranonce1: &[u8], extranonce2: &[u8]) -> Vec<u8> {
        let mut cb = Vec::with_capacity(
            self.coinb1.len() + extranonce1.len() + extranonce2.len() + self.coinb2.len(),
        );
        cb.extend_from_slice(&self.coinb1);
        cb.extend_from_slice(extranonce1);
        cb.extend_from_slice(extranonce2);
        cb.extend_from_slice(&self.coinb2);
        cb
    }

    /// The merkle root (internal byte order) for one extranonce pair.
    pub fn merkle_root(&self, extranonce1: &[u8], extranonce2: &[u8]) -> [u8; 32] {
        merkle_root(
            sha256d(&self.coinbase(extranonce1, extranonce2)),
            &self.merkle_branch,
        )
    }

    /// The header for one extranonce pair, ntime, nonce and rolled version.
    ///
    /// `version` is the full version to put in the header (see [`rolled_version`]).
    pub fn header(
        &self,
        extranonce1: &[u8],
        extranonce2: &[u8],
        time: u32,
        nonce: u32,
        version: u32,
    ) -> Header {
        Header {
            version: version as i32,
            prev_blockhash: self.prev_blockhash,
            merkle_root: self.merkle_root(extranonce1, extranonce2),
            time,
            bits: self.bits,
            nonce,
        }
    }
}

/// The header version with BIP 310 rolled bits: `(job & !mask) | (bits & mask)`.
pub fn rolled_version(job_version: u32, mask: u32, bits: u32) -> u32 {
    (job_version & !mask) | (bits & mask)
}

/// A `mining.submit`: `[worker, job_id, extranonce2, ntime, nonce(, version_bits)]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Submit {
    /// Worker name.
    pub worker: String,
    /// The job id.
    pub job_id: String,
    /// extranonce2.
    pub extranonce2: Vec<u8>,
    /// ntime.
    pub time: u32,
    /// The nonce.
    pub nonce: u32,
    /// BIP 310 version bits, as sent: the header version's bits under the mask.
    pub version_bits: Option<u32>,
}

impl Submit {
    /// Reads `mining.submit` params.
    ///
    /// # Errors
    /// [`StratumError`] for missing or malformed fields.
    pub fn from_params(p: &[Value]) -> Result<Submit, StratumError> {
        const W: &str = "mining.submit";
        if p.len() < 5 {
            return Err(shape(W, format!("{} parameters, expected 5 or 6", p.len())));
        }
        let version_bits = match p.get(5) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(parse_u32_be("version bits", s)?),
            Some(_) => return Err(shape(W, "version bits is not a string")),
        };
        Ok(Submit {
            worker: param_str(p, 0, W)?.to_string(),
            job_id: param_str(p, 1, W)?.to_string(),
            extranonce2: decode_hex("extranonce2", param_str(p, 2, W)?, MAX_EXTRANONCE2_SIZE)?,
            time: parse_u32_be("ntime", param_str(p, 3, W)?)?,
            nonce: parse_u32_be("nonce", param_str(p, 4, W)?)?,
            version_bits,
        })
    }

    /// The params as a miner sends them.
    pub fn to_params(&self) -> Value {
        let mut v = vec![
            Value::from(self.worker.clone()),
            self.job_id.clone().into(),
            hex::encode(&self.extranonce2).into(),
            format!("{:08x}", self.time).into(),
            format!("{:08x}", self.nonce).into(),
        ];
        if let Some(bits) = self.version_bits {
            v.push(format!("{bits:08x}").into());
        }
        Value::Array(v)
    }

    /// Rebuilds the header this share claims, from its job.
    ///
    /// `mask` is the negotiated version-rolling mask (0 when none); bits sent
    /// outside it are an error.
    ///
    /// # Errors
    /// [`StratumError::Shape`] for version bits outside the mask or an
    /// extranonce2 of the wrong size.
    pub fn header(
        &self,
        job: &Notify,
        sub: &Subscription,
        mask: u32,
    ) -> Result<Header, StratumError> {
        if self.extranonce2.len() != sub.extranonce2_size {
            return Err(shape(
                "extranonce2",
                format!(
                    "{} bytes, the pool asked for {}",
                    self.extranonce2.len(),
                    sub.extranonce2_size
                ),
            ));
        }
        let version = match self.version_bits {
            None => job.version,
            Some(bits) if bits & !mask != 0 => {
                return Err(shape(
                    "version bits",
                    format!("{bits:08x} outside the negotiated mask {mask:08x}"),
                ));
            }
            Some(bits) => rolled_version(job.version, mask, bits),
        };
        Ok(job.header(
            &sub.extranonce1,
            &self.extranonce2,
            self.time,
            self.nonce,
            version,
        ))
    }
}

/// What one share is worth and whether it is a block.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ShareCheck {
    /// The header.
    pub header: Header,
    /// Its hash.
    pub hash: BlockHash,
    /// Its share difficulty.
    pub difficulty: f64,
    /// Whether it meets the header's own nBits target.
    pub meets_network_target: bool,
}

impl ShareCheck {
    /// Hashes a header on the scalar path and rates it.
    pub fn of(header: Header) -> ShareCheck {
        let hash = header.block_hash();
        ShareCheck {
            header,
            hash,
            difficulty: share_difficulty(hash),
            meets_network_target: Target::from_compact(header.bits)
                .is_ok_and(|t| t.is_met_by(hash)),
        }
    }
}

/// Rebuilds a share from raw lines as logged: the `mining.notify`, the
/// `mining.submit`, the connection's extranonce1 and the version-rolling mask
/// (0 for none). The extranonce2 size is the submitted extranonce2's.
///
/// # Errors
/// [`StratumError`] when a line is not the message it should be, or a field is malformed.
pub fn rebuild_share(
    notify_line: &str,
    submit_line: &str,
    extranonce1: &str,
    mask: u32,
) -> Result<ShareCheck, StratumError> {
    let params = |line: &str, want: &str| -> Result<Vec<Value>, StratumError> {
        match Message::parse(line)? {
            Message::Request { method, params, .. } if method == want => Ok(params),
            Message::Request { method, .. } => Err(shape(
                want,
                format!("the line is a {method:?} message, not {want}"),
            )),
            Message::Response { .. } => Err(shape(want, "the line is a response, not a request")),
        }
    };
    let job = Notify::from_params(&params(notify_line, "mining.notify")?)?;
    let submit = Submit::from_params(&params(submit_line, "mining.submit")?)?;
    if submit.job_id != job.job_id {
        return Err(shape(
            "mining.submit",
            format!(
                "job id {:?} is not the notify's {:?}",
                submit.job_id, job.job_id
            ),
        ));
    }
    let sub = Subscription {
        extranonce1: decode_hex("extranonce1", extranonce1, MAX_EXTRANONCE1_SIZE)?,
        extranonce2_size: submit.extranonce2.len(),
    };
    Ok(ShareCheck::of(submit.header(&job, &sub, mask)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prevhash_word_swap_round_trips() {
        let s = "4d16b6f85af6e2198f44ae2a6de67f78487ae5611b77c6c0440b921e00000000";
        let prev = prevhash_from_stratum(s).unwrap();
        assert_eq!(hex::encode(&prev.0[..4]), "f8b6164d");
        assert_eq!(prevhash_to_stratum(&prev), s);
    }

    #[test]
    fn messages_of_each_kind() {
        let m = Message::parse(r#"{"id":null,"method":"mining.set_difficulty","params":[1638]}"#)
            .unwrap();
        assert!(
            matches!(m, Message::Request { ref method, .. } if method == "mining.set_difficulty")
        );
        let m = Message::parse(r#"{"id":2,"result":true,"error":null}"#).unwrap();
        assert!(matches!(m, Message::Response { ref result, .. } if *result == Value::Bool(true)));
        for bad in [
            "",
            "{",
            "[1,2]",
            r#"{"id":1}"#,
            r#"{"method":5}"#,
            r#"{"method":"x","params":5}"#,
        ] {
            assert!(Message::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn absurd_difficulties_are_refused() {
        for d in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e30] {
            assert!(check_difficulty(d).is_err(), "{d}");
        }
        assert_eq!(check_difficulty(1638.0), Ok(1638.0));
        assert_eq!(check_difficulty(0.001), Ok(0.001));
    }

    #[test]
    fn rolled_version_keeps_bits_outside_the_mask() {
        assert_eq!(
            rolled_version(0x2000_0004, 0x1fff_e000, 0x0000_2000),
            0x2000_2004
        );
        assert_eq!(
            rolled_version(0x2000_0004, 0x1fff_e000, 0xffff_ffff),
            0x3fff_e004
        );
    }
}
