//! Where the agent's work comes from and where its hits go.

use std::sync::Mutex;

use crate::header::Header;
use crate::mine::{MinerConfig, WorkSource};
use crate::pow::Target;
use crate::search::{Job, NONCE_SPACE};

use super::AgentError;

/// Where the agent's work comes from.
#[derive(Debug)]
pub enum AgentWork {
    /// Stratum V1 pools (or a node), mined through [`crate::mine::Miner`].
    Pools(MinerConfig),
    /// A fixed header, no pool ([`FixedHeader`]).
    Fixed(FixedHeader),
}

impl AgentWork {
    /// What the work is, for books and status: pool URLs and worker names,
    /// never a password.
    pub fn describe(&self) -> String {
        match self {
            AgentWork::Pools(config) => match &config.source {
                WorkSource::Pools(pools) => {
                    let list: Vec<String> = pools
                        .iter()
                        .map(|p| format!("{} (worker {})", p.url, p.user))
                        .collect();
                    format!("stratum pools: {}", list.join(", "))
                }
                WorkSource::Node(node) => format!(
                    "node {} (getblocktemplate, payout {})",
                    node.url, node.payout_address
                ),
            },
            AgentWork::Fixed(f) => f.describe(),
        }
    }
}

#[derive(Debug)]
/// A fixed header searched over and over, each device in its own nonce
/// space (its `time` field offset by the device index, advanced by the
/// number of devices each time the nonces run out). Nothing is submitted:
/// hits are counted as found. For measuring hand-back latency and trying
/// the agent without a pool.
pub struct FixedHeader {
    header: Header,
    share_target: Target,
    devices: u32,
    cursors: Mutex<Vec<(u32, u64)>>,
}

impl FixedHeader {
    /// Work on `header` with shares at `share_target`, for `devices` devices.
    pub fn new(header: Header, share_target: Target, devices: usize) -> FixedHeader {
        let n = u32::try_from(devices.max(1)).unwrap_or(u32::MAX);
        FixedHeader {
            header,
            share_target,
            devices: n,
            cursors: Mutex::new((0..n).map(|i| (i, 0)).collect()),
        }
    }
}

impl FixedHeader {
    /// What the work is.
    pub fn describe(&self) -> String {
        format!(
            "fixed header {} (no pool: hits are counted, not submitted)",
            self.header.block_hash()
        )
    }

    /// The next job of about `count` nonces for device `device`, from that
    /// device's own nonce space.
    ///
    /// # Errors
    /// [`AgentError::Work`] for a device index out of range.
    pub fn next_job(&self, device: usize, count: u64) -> Result<Job, AgentError> {
        let mut cursors = self
            .cursors
            .lock()
            .map_err(|_| AgentError::Work("work cursor lock poisoned".into()))?;
        let slot = cursors
            .get_mut(device)
            .ok_or_else(|| AgentError::Work(format!("no device {device}")))?;
        if slot.1 >= NONCE_SPACE {
            slot.0 = slot.0.wrapping_add(self.devices);
            slot.1 = 0;
        }
        let count = count.clamp(1, NONCE_SPACE - slot.1);
        let mut header = self.header;
        header.time = header.time.wrapping_add(slot.0);
        // `slot.1 < 2^32` here.
        let start = u32::try_from(slot.1).unwrap_or(u32::MAX);
        let job = Job::new(header, start, count, self.share_target)
            .map_err(|e| AgentError::Work(e.to_string()))?;
        slot.1 += count;
        Ok(job)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GENESIS: &str = "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c";

    #[test]
    fn devices_get_disjoint_nonce_spaces_and_wrap_into_a_new_time() {
        let h: Header = GENESIS.parse().unwrap_or_else(|e| panic!("{e:?}"));
        let t = Target::from_compact(h.bits).unwrap_or_else(|e| panic!("{e:?}"));
        let w = FixedHeader::new(h, t, 2);
        let a = w.next_job(0, 1000).unwrap_or_else(|e| panic!("{e}"));
        let b = w.next_job(1, 1000).unwrap_or_else(|e| panic!("{e}"));
        assert_ne!(a.header.time, b.header.time);
        let a2 = w.next_job(0, NONCE_SPACE).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(a2.start, 1000);
        assert_eq!(a2.count, NONCE_SPACE - 1000);
        let a3 = w.next_job(0, 10).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((a3.start, a3.header.time), (0, h.time + 2));
        assert!(w.next_job(2, 1).is_err());
    }
}
