//! `--live` and its sources, shared by `econ` (one refresh) and `agent` (a
//! refresh at start and every decision interval).

use std::path::PathBuf;
use std::time::Duration;

use hashwatt::economics::live::{self, LiveSources, RestApi};
use hashwatt::gbt::rpc::NodeClient;

/// The live network inputs' flags.
#[derive(clap::Args, Debug)]
pub(crate) struct LiveArgs {
    /// Fetch difficulty, height, fees and BTC price (the REST API, and the node with --node): `econ` once, `agent`
    /// at start and every --decide-every. Offline, the live cache, then the cited defaults. Flags win over live
    /// values (and, in `agent`, the pool's nBits for difficulty).
    #[arg(long)]
    pub(crate) live: bool,
    /// mempool.space-compatible REST API for --live.
    #[arg(long, value_name = "URL", requires = "live", default_value = live::MEMPOOL_SPACE)]
    live_api: String,
    /// Live cache file [default: $XDG_CACHE_HOME/hashwatt/live.json or ~/.cache/hashwatt/live.json].
    #[arg(long, value_name = "FILE", requires = "live")]
    live_cache: Option<PathBuf>,
    /// Seconds each live request may take.
    #[arg(long, value_name = "S", requires = "live", default_value_t = 10.0)]
    live_timeout: f64,
    #[command(flatten)]
    pub(crate) node: super::node::NodeArgs,
}

impl LiveArgs {
    /// The sources to ask and the cache file, or `None` without `--live`.
    ///
    /// # Errors
    /// A timeout out of range, node credentials missing, or a bad URL.
    pub(crate) fn sources(&self) -> anyhow::Result<Option<(LiveSources, PathBuf)>> {
        if !self.live {
            return Ok(None);
        }
        if !(self.live_timeout.is_finite()
            && self.live_timeout > 0.0
            && self.live_timeout <= 3600.0)
        {
            anyhow::bail!(
                "--live-timeout must be a number of seconds in (0, 3600], got {}",
                self.live_timeout
            );
        }
        let timeout = Duration::from_secs_f64(self.live_timeout);
        let node = match self.node.node()? {
            None => None,
            Some((url, auth)) => Some(NodeClient::new(url, auth, timeout)?),
        };
        let sources = LiveSources {
            node,
            rest: Some(RestApi::new(&self.live_api, timeout)?),
        };
        let cache = self
            .live_cache
            .clone()
            .unwrap_or_else(live::default_cache_path);
        Ok(Some((sources, cache)))
    }
}
