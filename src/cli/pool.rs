//! The Stratum pool flags shared by `mine` and `agent`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use hashwatt::mine::{MinerConfig, PoolConfig, WorkSource};
use hashwatt::stratum::client::PoolUrl;

/// `--pool`, `--user`, `--password[-file]`, `--ca-cert`, `--no-version-rolling`,
/// `--idle-timeout`, `--max-backoff`. Clap groups them as `PoolArgs`: the
/// flag that replaces the pools (`mine --node`, `agent --header`) conflicts
/// with that group, so no pool flag is silently dropped.
#[derive(clap::Args, Debug)]
pub(crate) struct PoolArgs {
    /// Stratum pool URL, stratum+tcp://HOST:PORT or stratum+ssl://HOST:PORT;
    /// repeat for failover pools, in priority order.
    #[arg(long = "pool", value_name = "URL")]
    pub(crate) pools: Vec<String>,
    /// Worker name (for every pool; required with --pool).
    #[arg(long)]
    user: Option<String>,
    /// Worker password [default: x]. Never logged, shown or booked.
    #[arg(long, conflicts_with = "password_file")]
    password: Option<String>,
    /// File holding the worker password (first line).
    #[arg(long, value_name = "FILE")]
    password_file: Option<PathBuf>,
    /// Extra trusted CA certificate (PEM) for stratum+ssl pools.
    #[arg(long, value_name = "FILE")]
    ca_cert: Option<PathBuf>,
    /// Do not ask the pool for BIP 310 version rolling.
    #[arg(long)]
    no_version_rolling: bool,
    /// Drop a pool that sends nothing for this many seconds [default: 180].
    #[arg(long, value_name = "S")]
    idle_timeout: Option<f64>,
    /// Longest wait between reconnect rounds, in seconds [default: 60].
    #[arg(long, value_name = "S")]
    max_backoff: Option<f64>,
}

impl PoolArgs {
    /// The miner's configuration for `source` with these flags' TLS, version
    /// rolling, timeout and backoff settings.
    pub(crate) fn miner_config(&self, source: WorkSource) -> anyhow::Result<MinerConfig> {
        let mut config = MinerConfig::new(source);
        config.tls.ca_file = self.ca_cert.clone();
        if let Some(path) = &self.ca_cert {
            config
                .tls
                .client_config()
                .with_context(|| format!("--ca-cert {}", path.display()))?;
        }
        config.version_rolling = !self.no_version_rolling;
        if let Some(s) = self.idle_timeout {
            config.timeouts.idle = seconds("--idle-timeout", s)?;
        }
        if let Some(s) = self.max_backoff {
            config.backoff.max = seconds("--max-backoff", s)?;
        }
        Ok(config)
    }

    /// The pools, in priority order, each checked and given the worker's name
    /// and password.
    pub(crate) fn pools(&self) -> anyhow::Result<WorkSource> {
        for url in &self.pools {
            PoolUrl::parse(url)?;
        }
        let Some(user) = self.user.as_deref() else {
            anyhow::bail!("--pool needs --user NAME (the worker name)");
        };
        let password = match (&self.password, &self.password_file) {
            (Some(p), _) => p.clone(),
            (None, Some(f)) => read_secret(f, "--password-file")?,
            (None, None) => "x".to_string(),
        };
        Ok(WorkSource::Pools(
            self.pools
                .iter()
                .map(|url| PoolConfig::new(url, user, &password))
                .collect(),
        ))
    }
}

/// A duration in seconds above zero, or an error naming `flag`.
pub(crate) fn seconds(flag: &str, s: f64) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(s)
        .ok()
        .filter(|d| !d.is_zero())
        .with_context(|| format!("{flag} must be a number of seconds above 0, got {s}"))
}

/// The first line of a secret file, which must not be empty.
pub(crate) fn read_secret(path: &Path, what: &str) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read {what} {}", path.display()))?;
    let secret = text.lines().next().unwrap_or("").trim().to_string();
    if secret.is_empty() {
        anyhow::bail!("{what} {} is empty", path.display());
    }
    Ok(secret)
}
