//! `getblocktemplate` (BIP 22/23 with the segwit rule): templates, their
//! checks, and the job a miner builds from them.
//!
//! A [`BlockTemplate`] is checked against its own transactions
//! ([`BlockTemplate::check`]): every `txid` and `hash` (wtxid) is recomputed
//! from `data`, the fees must add up to `coinbasevalue` minus the subsidy,
//! and `default_witness_commitment` must equal the commitment recomputed from
//! the wtxids. [`TemplateJob`] turns it into what a Stratum pool would send:
//! the prevhash in notify word order and the merkle branch of the coinbase.
//! [`coinbase`] builds the coinbase (BIP 34 height, extranonce, payout,
//! witness commitment) and [`address`] decodes payout addresses.

pub mod address;
pub mod coinbase;
pub mod rpc;

use serde::Deserialize;

use crate::header::BlockHash;
use crate::pow::{CompactTarget, Target};
use crate::sha256::sha256d;
use crate::stratum::prevhash_to_stratum;

/// Errors in templates and their transactions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// The JSON is not a template.
    #[error("not a getblocktemplate result: {0}")]
    Json(String),
    /// A field with a bad value.
    #[error("{field}: {reason}")]
    Field {
        /// The field.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// A transaction that cannot be parsed.
    #[error("transaction {index}: {reason}")]
    Transaction {
        /// Its index in `transactions`.
        index: usize,
        /// What is wrong.
        reason: String,
    },
    /// A stated value that does not match the transactions.
    #[error(
        "{what} does not match the transactions: template says {stated}, recomputed {computed}"
    )]
    Mismatch {
        /// What.
        what: String,
        /// The template's value.
        stated: String,
        /// The value recomputed.
        computed: String,
    },
}

fn field(field: &str, reason: impl Into<String>) -> TemplateError {
    TemplateError::Field {
        field: field.to_string(),
        reason: reason.into(),
    }
}

/// One template transaction.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct TemplateTx {
    /// The serialized transaction (with witness), hex.
    pub data: String,
    /// txid, display order.
    pub txid: String,
    /// wtxid, display order.
    pub hash: String,
    /// Fee in satoshis.
    pub fee: u64,
    /// Weight units.
    #[serde(default)]
    pub weight: u64,
}

/// A `getblocktemplate` result (the fields a miner uses).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct BlockTemplate {
    /// Block version.
    pub version: u32,
    /// Previous block hash, display order.
    pub previousblockhash: String,
    /// Transactions to include, in order.
    pub transactions: Vec<TemplateTx>,
    /// Subsidy plus fees, satoshis.
    pub coinbasevalue: u64,
    /// nBits, hex.
    pub bits: String,
    /// Height of the block to mine.
    pub height: u64,
    /// Current time.
    pub curtime: u32,
    /// Earliest allowed time.
    #[serde(default)]
    pub mintime: u32,
    /// The witness commitment script, hex.
    #[serde(default)]
    pub default_witness_commitment: Option<String>,
    /// Long-poll id.
    #[serde(default)]
    pub longpollid: Option<String>,
    /// Rules in force.
    #[serde(default)]
    pub rules: Vec<String>,
}

/// A transaction's ids, recomputed from its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxIds {
    /// dSHA256 of the serialization without witness (internal order).
    pub txid: [u8; 32],
    /// dSHA256 of the full serialization (internal order).
    pub wtxid: [u8; 32],
}

/// Reads a Bitcoin compact size.
fn read_varint(b: &[u8], pos: &mut usize) -> Option<u64> {
    let first = *b.get(*pos)?;
    *pos += 1;
    let n = match first {
        0xfd => 2,
        0xfe => 4,
        0xff => 8,
        v => return Some(u64::from(v)),
    };
    let bytes = b.get(*pos..*pos + n)?;
    *pos += n;
    let mut v = [0u8; 8];
    v[..n].copy_from_slice(bytes);
    Some(u64::from_le_bytes(v))
}

fn skip(b: &[u8], pos: &mut usize, n: u64) -> Option<()> {
    let end = pos.checked_add(usize::try_from(n).ok()?)?;
    if end > b.len() {
        return None;
    }
    *pos = end;
    Some(())
}

/// The serialization without witness data (BIP 144), or `None` if `tx` does not parse.
pub fn strip_witness(tx: &[u8]) -> Option<Vec<u8>> {
    let mut pos = 4;
    if tx.len() < 10 {
        return None;
    }
    let segwit = tx[4] == 0 && tx[5] == 1;
    if segwit {
        pos += 2;
    }
    let body_start = pos;
    let inputs = read_varint(tx, &mut pos)?;
    for _ in 0..inputs {
        skip(tx, &mut pos, 36)?;
        let len = read_varint(tx, &mut pos)?;
        skip(tx, &mut pos, len.checked_add(4)?)?;
    }
    let outputs = read_varint(tx, &mut pos)?;
    for _ in 0..outputs {
        skip(tx, &mut pos, 8)?;
        let len = read_varint(tx, &mut pos)?;
        skip(tx, &mut pos, len)?;
    }
    let body_end = pos;
    if segwit {
        for _ in 0..inputs {
            let items = read_varint(tx, &mut pos)?;
            for _ in 0..items {
                let len = read_varint(tx, &mut pos)?;
                skip(tx, &mut pos, len)?;
            }
        }
    }
    if pos + 4 != tx.len() {
        return None;
    }
    let mut out = Vec::with_capacity(tx.len());
    out.extend_from_slice(&tx[..4]);
    out.extend_from_slice(&tx[body_start..body_end]);
    out.extend_from_slice(&tx[pos..]);
    Some(out)
}

/// Recomputes a transaction's txid and wtxid.
///
/// # Errors
/// A reason when the bytes are not a transaction.
pub fn tx_ids(tx: &[u8]) -> Result<TxIds, String> {
    let stripped = strip_witness(tx).ok_or("not a well-formed transaction")?;
    Ok(TxIds {
        txid: sha256d(&stripped),
        wtxid: sha256d(tx),
    })
}

fn display(h: &[u8; 32]) -> String {
    BlockHash(*h).to_string()
}

/// The merkle root of a list of hashes (internal order); the last is paired with itself on odd levels.
pub fn merkle_root_of(hashes: &[[u8; 32]]) -> [u8; 32] {
    if hashes.is_empty() {
        return [0; 32];
    }
    let mut level = hashes.to_vec();
    while level.len() > 1 {
        if level.len() % 2 == 1 {
            level.push(level[level.len() - 1]);
        }
        level = level
            .chunks(2)
            .map(|p| {
                let mut buf = [0u8; 64];
                buf[..32].copy_from_slice(&p[0]);
                buf[32..].copy_from_slice(&p[1]);
                sha256d(&buf)
            })
            .collect();
    }
    level[0]
}

/// The merkle branch of the coinbase (index 0) over `txids` (the other
/// transactions, internal order): the right-hand siblings on its path to the root.
pub fn coinbase_branch(txids: &[[u8; 32]]) -> Vec<[u8; 32]> {
    let mut branch = Vec::new();
    // Index 0 is the coinbase, whose hash is unknown here; it never enters a sibling.
    let mut level: Vec<[u8; 32]> = std::iter::once([0u8; 32])
        .chain(txids.iter().copied())
        .collect();
    while level.len() > 1 {
        branch.push(level[1]);
        if level.len() % 2 == 1 {
            level.push(level[level.len() - 1]);
        }
        let mut next = vec![[0u8; 32]];
        for p in level[2..].chunks(2) {
            let mut buf = [0u8; 64];
            buf[..32].copy_from_slice(&p[0]);
            buf[32..].copy_from_slice(&p[1]);
            next.push(sha256d(&buf));
        }
        level = next;
    }
    branch
}

/// The witness commitment script `6a24aa21a9ed ‖ dSHA256(witness root ‖ 32 zero bytes)`,
/// the coinbase's wtxid counted as zero.
pub fn witness_commitment(wtxids: &[[u8; 32]]) -> Vec<u8> {
    let all: Vec<[u8; 32]> = std::iter::once([0u8; 32])
        .chain(wtxids.iter().copied())
        .collect();
    let root = merkle_root_of(&all);
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(&root);
    let commitment = sha256d(&buf);
    // OP_RETURN, a 36-byte push, the commitment header aa21a9ed (BIP 141).
    let mut script = vec![0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed];
    script.extend_from_slice(&commitment);
    script
}

/// The block subsidy at `height` with halvings every `interval` blocks (Bitcoin Core `GetBlockSubsidy`).
pub fn subsidy(height: u64, interval: u64) -> u64 {
    let halvings = height / interval;
    if halvings >= 64 {
        0
    } else {
        (50 * 100_000_000u64) >> halvings
    }
}

/// Blocks between halvings on mainnet, testnet and signet.
pub const HALVING_INTERVAL: u64 = 210_000;
/// Blocks between halvings on regtest (Bitcoin Core `chainparams.cpp`).
pub const REGTEST_HALVING_INTERVAL: u64 = 150;
/// Regtest's nBits, which never changes there (`powLimit`, no retargeting).
pub const REGTEST_BITS: u32 = 0x207f_ffff;

/// A template checked against its transactions, as a miner's job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateJob {
    /// The template.
    pub template: BlockTemplate,
    /// Previous block hash (internal order).
    pub prev_blockhash: BlockHash,
    /// nBits.
    pub bits: CompactTarget,
    /// The block target.
    pub target: Target,
    /// txids of the transactions (internal order).
    pub txids: Vec<[u8; 32]>,
    /// wtxids (internal order).
    pub wtxids: Vec<[u8; 32]>,
    /// The raw transactions.
    pub txs: Vec<Vec<u8>>,
    /// The coinbase's merkle branch (internal order).
    pub merkle_branch: Vec<[u8; 32]>,
    /// The recomputed witness commitment script.
    pub witness_commitment: Vec<u8>,
    /// Sum of the transactions' fees.
    pub fees: u64,
    /// The block subsidy.
    pub subsidy: u64,
}

impl BlockTemplate {
    /// Parses a template from JSON: the bare result, a JSON-RPC response
    /// (`{"result": ...}`) or `{"gbt": ...}`.
    ///
    /// # Errors
    /// [`TemplateError::Json`].
    pub fn from_json(text: &str) -> Result<BlockTemplate, TemplateError> {
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| TemplateError::Json(e.to_string()))?;
        let inner = v
            .get("result")
            .filter(|r| r.is_object())
            .or_else(|| v.get("gbt"))
            .unwrap_or(&v);
        serde_json::from_value(inner.clone()).map_err(|e| TemplateError::Json(e.to_string()))
    }

    /// Checks the template against its transactions and builds the job.
    ///
    /// # Errors
    /// [`TemplateError::Mismatch`] when a txid, wtxid, the fees or
    /// `default_witness_commitment` disagree with the transactions;
    /// [`TemplateError::Field`] / [`TemplateError::Transaction`] for bad values.
    pub fn check(&self) -> Result<TemplateJob, TemplateError> {
        let prev_blockhash = BlockHash::from_display_hex(&self.previousblockhash)
            .map_err(|e| field("previousblockhash", e.to_string()))?;
        let bits = CompactTarget::from_hex(&self.bits).map_err(|e| field("bits", e.to_string()))?;
        let target = Target::from_compact(bits).map_err(|e| field("bits", e.to_string()))?;
        let mut txids = Vec::new();
        let mut wtxids = Vec::new();
        let mut txs = Vec::new();
        let mut fees = 0u64;
        for (index, tx) in self.transactions.iter().enumerate() {
            let data = hex::decode(&tx.data).map_err(|e| TemplateError::Transaction {
                index,
                reason: format!("data is not hex: {e}"),
            })?;
            let ids =
                tx_ids(&data).map_err(|reason| TemplateError::Transaction { index, reason })?;
            for (what, stated, computed) in [
                ("txid", &tx.txid, ids.txid),
                ("hash (wtxid)", &tx.hash, ids.wtxid),
            ] {
                if *stated != display(&computed) {
                    return Err(TemplateError::Mismatch {
                        what: format!("transaction {index} {what}"),
                        stated: stated.clone(),
                        computed: display(&computed),
                    });
                }
            }
            fees = fees
                .checked_add(tx.fee)
                .ok_or_else(|| field("fee", "sum overflows"))?;
            txids.push(ids.txid);
            wtxids.push(ids.wtxid);
            txs.push(data);
        }
        let interval = if bits.to_consensus() == REGTEST_BITS {
            REGTEST_HALVING_INTERVAL
        } else {
            HALVING_INTERVAL
        };
        let subsidy = subsidy(self.height, interval);
        if subsidy.checked_add(fees) != Some(self.coinbasevalue) {
            return Err(TemplateError::Mismatch {
                what: "fees".into(),
                stated: format!(
                    "coinbasevalue {} - subsidy {subsidy} = {}",
                    self.coinbasevalue,
                    self.coinbasevalue as i128 - subsidy as i128
                ),
                computed: format!("{fees} (sum of the transactions' fees)"),
            });
        }
        let witness_commitment = witness_commitment(&wtxids);
        if let Some(stated) = &self.default_witness_commitment
            && *stated != hex::encode(&witness_commitment)
        {
            return Err(TemplateError::Mismatch {
                what: "default_witness_commitment".into(),
                stated: stated.clone(),
                computed: hex::encode(&witness_commitment),
            });
        }
        Ok(TemplateJob {
            template: self.clone(),
            prev_blockhash,
            bits,
            target,
            merkle_branch: coinbase_branch(&txids),
            txids,
            wtxids,
            txs,
            witness_commitment,
            fees,
            subsidy,
        })
    }
}

impl TemplateJob {
    /// The summary `hashwatt template --json` prints.
    pub fn summary(&self) -> serde_json::Value {
        serde_json::json!({
            "height": self.template.height,
            "bits": format!("{:08x}", self.bits.to_consensus()),
            "version": format!("{:08x}", self.template.version),
            "prev_blockhash": self.prev_blockhash.to_string(),
            "stratum_prevhash": prevhash_to_stratum(&self.prev_blockhash),
            "merkle_branch": self.merkle_branch.iter().map(hex::encode).collect::<Vec<_>>(),
            "witness_commitment": hex::encode(&self.witness_commitment),
            "coinbase_value": self.template.coinbasevalue,
            "fees": self.fees,
            "subsidy": self.subsidy,
            "transactions": self.txs.len(),
        })
    }
}
