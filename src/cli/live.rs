//! `--live` and its sources, shared by `econ` (one refresh) and `agent` (a
//! refresh at start and every decision interval).

use std::path::PathBuf;
use std::time::Duration;

use hashwatt::economics::live::{self, LiveSources, RestApi};
use hashwatt::gbt::rpc::{NodeAuth, NodeClient};

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
    /// Bitcoin Core node for --live (difficulty and height): http://HOST:PORT.
    #[arg(long, value_name = "URL", requires = "live")]
    node: Option<String>,
    /// Node RPC user (with --rpc-password).
    #[arg(long, requires_all = ["node", "rpc_password"], conflicts_with = "rpc_cookie")]
    rpc_user: Option<String>,
    /// Node RPC password. Never logged, shown or booked.
    #[arg(long, requires = "rpc_user")]
    rpc_password: Option<String>,
    /// Node RPC cookie file (DATADIR/.cookie) instead of user/password.
    #[arg(long, value_name = "FILE", requires = "node")]
    rpc_cookie: Option<PathBuf>,
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
        let node = match &self.node {
            None => None,
            Some(url) => {
                let auth = match (&self.rpc_user, &self.rpc_password, &self.rpc_cookie) {
                    (Some(user), Some(password), None) => NodeAuth::UserPass {
                        user: user.clone(),
                        password: password.clone(),
                    },
                    (None, None, Some(cookie)) => NodeAuth::Cookie(cookie.clone()),
                    _ => anyhow::bail!(
                        "--node needs --rpc-user and --rpc-password, or --rpc-cookie FILE"
                    ),
                };
                Some(NodeClient::new(url, auth, timeout)?)
            }
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
