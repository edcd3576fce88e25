//! The miner's node thread: solo mining from Bitcoin Core's `getblocktemplate`.
//!
//! Each template is checked ([`crate::gbt::BlockTemplate::check`]) and
//! turned into a Stratum-shaped job: the coinbase (BIP 34 height, 8-byte
//! extranonce, payout to the configured address, the witness commitment) is
//! split around its extranonce, so the engines and their work units are the
//! same as for a pool. The share target is the block target; every hit is a
//! block and goes to `submitblock`. A long-poll thread waits for the next
//! template (`longpollid`); without one the template is refreshed every
//! [`NodeConfig::poll_interval`].

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use super::{FoundShare, MineEvent, MinerConfig, ShareStatus, Shared, VERSION_ROLLING_MASK, Work};
use crate::gbt::coinbase::{self, EXTRANONCE_SIZE};
use crate::gbt::rpc::{NodeAuth, NodeClient, RpcError};
use crate::gbt::{BlockTemplate, TemplateJob};
use crate::stratum::{Notify, Subscription, rolled_version, share_difficulty};

/// A Bitcoin Core node to mine on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeConfig {
    /// `http://HOST:PORT` of its RPC server.
    pub url: String,
    /// Credentials.
    pub auth: NodeAuth,
    /// Where the block reward goes.
    pub payout_address: String,
    /// Template refresh when long polling is not available.
    pub poll_interval: Duration,
}

impl NodeConfig {
    /// A node with user/password and a 30 s refresh.
    pub fn new(url: &str, auth: NodeAuth, payout_address: &str) -> NodeConfig {
        NodeConfig {
            url: url.to_string(),
            auth,
            payout_address: payout_address.to_string(),
            poll_interval: Duration::from_secs(30),
        }
    }

    /// The cookie file in a data directory (`DATADIR/.cookie`).
    pub fn cookie(datadir: &std::path::Path) -> NodeAuth {
        NodeAuth::Cookie(PathBuf::from(datadir).join(".cookie"))
    }
}

/// Builds a block: header, transaction count, coinbase (with witness), transactions.
fn block_bytes(job: &TemplateJob, work: &Work, share: &FoundShare) -> Vec<u8> {
    let version = match share.version_bits {
        Some(bits) => rolled_version(work.job.version, work.mask, bits),
        None => work.job.version,
    };
    let header = work
        .job
        .header(&[], &share.extranonce2, work.job.time, share.nonce, version);
    let legacy = work.job.coinbase(&[], &share.extranonce2);
    let segwit = job.template.default_witness_commitment.is_some();
    let mut block = header.to_bytes().to_vec();
    coinbase::varint(job.txs.len() + 1, &mut block);
    block.extend_from_slice(&coinbase::with_witness(&legacy, segwit));
    for tx in &job.txs {
        block.extend_from_slice(tx);
    }
    block
}

/// The job for a checked template.
fn work_for(
    job: &TemplateJob,
    payout: &[u8],
    config: &MinerConfig,
    engines: usize,
    generation: u64,
    clean_generation: u64,
) -> Work {
    let t = &job.template;
    let commitment = t
        .default_witness_commitment
        .as_ref()
        .map(|_| job.witness_commitment.as_slice());
    let parts = coinbase::build(t.height, t.coinbasevalue, payout, commitment);
    let notify = Notify {
        job_id: format!("{}-{generation}", t.height),
        prev_blockhash: job.prev_blockhash,
        coinb1: parts.coinb1,
        coinb2: parts.coinb2,
        merkle_branch: job.merkle_branch.clone(),
        version: t.version,
        bits: job.bits,
        time: t.curtime.max(t.mintime),
        clean_jobs: true,
    };
    let sub = Subscription {
        extranonce1: Vec::new(),
        extranonce2_size: EXTRANONCE_SIZE,
    };
    let mask = if config.version_rolling {
        VERSION_ROLLING_MASK
    } else {
        0
    };
    let first_units = (0..engines)
        .map(|i| Work::unit(&notify, &sub, mask, i as u64))
        .collect();
    Work {
        generation,
        session: 1,
        clean_generation,
        job: notify,
        sub,
        mask,
        difficulty: job.target.difficulty(),
        search_target: job.target,
        share_target: job.target,
        block_target: Some(job.target),
        first_units,
    }
}

/// Waits for templates: long polls when the node gives a `longpollid`, else
/// sleeps `poll_interval`. Sends each one (or the error) to the node thread.
fn longpoll(
    shared: &Shared,
    client: &NodeClient,
    first: Option<String>,
    poll: Duration,
    tx: &Sender<Result<BlockTemplate, RpcError>>,
) {
    let mut id = first;
    while !shared.pool_stopping() {
        let result = match &id {
            Some(lp) => client.get_block_template(Some(lp)),
            None => {
                let until = Instant::now() + poll;
                while Instant::now() < until {
                    if shared.pool_stopping() {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                client.get_block_template(None)
            }
        };
        if let Ok(t) = &result {
            id.clone_from(&t.longpollid);
        } else {
            // Do not spin on a failing node.
            std::thread::sleep(Duration::from_millis(200));
        }
        if tx.send(result).is_err() {
            return;
        }
    }
}

/// The node thread's main loop.
pub(crate) fn run(
    shared: &Arc<Shared>,
    config: &MinerConfig,
    node: &NodeConfig,
    payout: &[u8],
    shares: &Receiver<FoundShare>,
) {
    let timeout = config.timeouts.response.max(Duration::from_secs(1));
    let client = match NodeClient::new(&node.url, node.auth.clone(), timeout) {
        Ok(c) => c,
        Err(e) => {
            shared.emit(MineEvent::Disconnected {
                pool: 0,
                url: node.url.clone(),
                reason: e.to_string(),
            });
            return;
        }
    };
    // The payout address must belong to the node's chain.
    let (_, net) = match crate::gbt::address::script_pubkey(&node.payout_address) {
        Ok(x) => x,
        Err(e) => {
            shared.emit(MineEvent::Disconnected {
                pool: 0,
                url: node.url.clone(),
                reason: e.to_string(),
            });
            return;
        }
    };
    let lower = node.payout_address.to_ascii_lowercase();
    let base58 = !["bcrt1", "bc1", "tb1"].iter().any(|p| lower.starts_with(p));
    let mut chain_checked = false;
    // Long polls may block for minutes: their own client, no timeout below an hour.
    let lp_client = NodeClient::new(&node.url, node.auth.clone(), Duration::from_secs(3600)).ok();
    let mut link = Link {
        shared,
        config,
        node,
        payout,
        current: None,
        generation: 0,
        connected: false,
        rounds: 0,
    };
    let (tx, rx) = std::sync::mpsc::channel::<Result<BlockTemplate, RpcError>>();
    let mut poller_started = false;
    let mut need_template = true;
    let mut solved: Option<u64> = None;
    while !shared.pool_stopping() {
        if !chain_checked {
            match client.chain() {
                Ok(chain) => {
                    let node_net = chain
                        .as_deref()
                        .and_then(crate::gbt::address::AddressNetwork::of_chain);
                    if let Some(node_net) = node_net
                        && !net.fits(node_net, base58)
                    {
                        link.lost(format!(
                            "payout address {} is a {net:?} address but the node is on {}",
                            node.payout_address,
                            chain.unwrap_or_default()
                        ));
                        if !link.back_off() {
                            break;
                        }
                        continue;
                    }
                    chain_checked = true;
                }
                Err(e) => {
                    link.lost(format!("getblockchaininfo: {e}"));
                    if !link.back_off() {
                        break;
                    }
                    continue;
                }
            }
        }
        if need_template {
            if let Err(e) = link.take(client.get_block_template(None)) {
                link.lost(e);
                if !link.back_off() {
                    break;
                }
                continue;
            }
            link.rounds = 0;
            need_template = false;
            if !poller_started
                && let (Some(lp), Some((job, _))) = (lp_client.clone(), link.current.as_ref())
            {
                poller_started = true;
                let first = job.template.longpollid.clone();
                let tx = tx.clone();
                let sh = Arc::clone(shared);
                let poll = node.poll_interval;
                // Detached: a long poll cannot be interrupted; it ends with its HTTP call.
                let _ = std::thread::Builder::new()
                    .name("hashwatt-longpoll".into())
                    .spawn(move || longpoll(&sh, &lp, first, poll, &tx));
            }
        }
        match rx.recv_timeout(Duration::from_millis(20)) {
            Ok(got) => {
                if let Err(e) = link.take(got) {
                    link.lost(e);
                    need_template = true;
                }
            }
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {}
        }
        while let Ok(share) = shares.try_recv() {
            let Some((job, work)) = link.current.as_ref() else {
                continue;
            };
            // A block is only valid with its own template's transactions: a
            // hit on a replaced template is stale.
            if share.work.generation != work.generation || solved == Some(work.generation) {
                shared.counters().shares.stale += 1;
                continue;
            }
            let block = block_bytes(job, &share.work, &share);
            let hash = share.hash.to_string();
            shared.counters().shares.blocks += 1;
            shared.emit(MineEvent::Block { hash: hash.clone() });
            let verdict = client.submit_block(&block);
            let (status, reason) = match verdict {
                Ok(None) => (ShareStatus::Accepted, None),
                Ok(Some(r)) => (ShareStatus::Rejected, Some(r)),
                Err(e) => (
                    ShareStatus::Rejected,
                    Some(format!("submitblock failed: {e}")),
                ),
            };
            {
                let mut c = shared.counters();
                match status {
                    ShareStatus::Accepted => {
                        c.shares.accepted += 1;
                        c.shares.accepted_difficulty += share.work.difficulty;
                    }
                    _ => {
                        *c.shares
                            .rejected
                            .entry(reason.clone().unwrap_or_default())
                            .or_default() += 1
                    }
                }
            }
            shared.emit(MineEvent::Share {
                engine: share.engine,
                job_id: share.work.job.job_id.clone(),
                nonce: format!("{:08x}", share.nonce),
                hash,
                share_difficulty: share_difficulty(share.hash),
                pool_difficulty: share.work.difficulty,
                status,
                reason,
            });
            if status == ShareStatus::Accepted {
                // One block per template: further hits on it are stale.
                solved = Some(work.generation);
            }
            // The tip moved (or should have): ask for a new template now.
            need_template = true;
        }
    }
}

/// The node thread's view of its node: the current template and whether the
/// node is reachable.
struct Link<'a> {
    shared: &'a Shared,
    config: &'a MinerConfig,
    node: &'a NodeConfig,
    payout: &'a [u8],
    current: Option<(TemplateJob, Arc<Work>)>,
    /// Counts the templates published (each one is a clean job).
    generation: u64,
    connected: bool,
    /// Failed rounds in a row, for the backoff.
    rounds: u32,
}

impl Link<'_> {
    /// Checks a template and, when it is new, publishes its work.
    fn take(&mut self, got: Result<BlockTemplate, RpcError>) -> Result<(), String> {
        let (shared, node) = (self.shared, self.node);
        let template = got.map_err(|e| format!("getblocktemplate: {e}"))?;
        let job = template.check().map_err(|e| format!("bad template: {e}"))?;
        if let Some((old, _)) = self.current.as_ref()
            && old.template == job.template
        {
            return Ok(());
        }
        self.generation += 1;
        let work = Arc::new(work_for(
            &job,
            self.payout,
            self.config,
            shared.engine_count(),
            self.generation,
            self.generation,
        ));
        if !self.connected {
            self.connected = true;
            shared.counters().connections += 1;
            shared.counters().pool = Some(node.url.clone());
            shared.emit(MineEvent::Connected {
                pool: 0,
                url: node.url.clone(),
                extranonce1: String::new(),
                extranonce2_size: EXTRANONCE_SIZE,
                version_mask: (work.mask != 0).then(|| format!("{:08x}", work.mask)),
            });
        }
        shared.counters().pool_difficulty = Some(work.difficulty);
        shared.publish(Some(Arc::clone(&work)));
        shared.emit(MineEvent::Job {
            pool: 0,
            job_id: work.job.job_id.clone(),
            clean: true,
            difficulty: work.difficulty,
            network_difficulty: work.difficulty,
        });
        self.current = Some((job, work));
        Ok(())
    }

    /// The node failed (`reason`): say so, and withdraw the work once it had
    /// been reachable.
    fn lost(&mut self, reason: String) {
        self.shared.emit(MineEvent::Disconnected {
            pool: 0,
            url: self.node.url.clone(),
            reason,
        });
        if self.connected {
            self.connected = false;
            self.shared.publish(None);
        }
    }

    /// Waits out the backoff of the current failed round; `false` when the
    /// miner is stopping.
    fn back_off(&mut self) -> bool {
        let go_on = super::pool::sleep(self.shared, self.config.backoff.delay(self.rounds));
        self.rounds = self.rounds.saturating_add(1);
        go_on
    }
}
