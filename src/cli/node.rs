//! The Bitcoin Core node flags shared by `mine` (solo mining), `econ --live`
//! and `agent` (live inputs and solo mining).

use std::path::PathBuf;

use hashwatt::gbt::rpc::NodeAuth;

/// `--node`, `--rpc-user`, `--rpc-password`, `--rpc-cookie`. What `--node`
/// needs beside it (`--live`, `--payout-address`) is the command's business.
#[derive(clap::Args, Debug)]
pub(crate) struct NodeArgs {
    /// Bitcoin Core node, http://HOST:PORT: solo mining with --payout-address
    /// (`mine`, `agent`), difficulty and height with --live (`econ`, `agent`).
    #[arg(long, value_name = "URL")]
    pub(crate) node: Option<String>,
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

impl NodeArgs {
    /// The node's URL and credentials, or `None` without `--node`.
    ///
    /// # Errors
    /// `--node` without `--rpc-user`/`--rpc-password` or `--rpc-cookie`.
    pub(crate) fn node(&self) -> anyhow::Result<Option<(&str, NodeAuth)>> {
        let Some(url) = &self.node else {
            return Ok(None);
        };
        let auth = match (&self.rpc_user, &self.rpc_password, &self.rpc_cookie) {
            (Some(user), Some(password), None) => NodeAuth::UserPass {
                user: user.clone(),
                password: password.clone(),
            },
            (None, None, Some(cookie)) => NodeAuth::Cookie(cookie.clone()),
            _ => anyhow::bail!("--node needs --rpc-user and --rpc-password, or --rpc-cookie FILE"),
        };
        Ok(Some((url, auth)))
    }
}
