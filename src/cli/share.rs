//! `hashwatt share`: rebuild a logged Stratum share and rate it.

use std::io::Write;

use anyhow::Context;
use hashwatt::stratum::{parse_u32_be, rebuild_share};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The `mining.notify` line, exactly as logged (raw JSON-RPC).
    #[arg(long)]
    notify: String,
    /// The `mining.submit` line, exactly as logged (raw JSON-RPC).
    #[arg(long)]
    submit: String,
    /// The connection's extranonce1 (hex, from the subscribe result).
    #[arg(long)]
    extranonce1: String,
    /// The BIP 310 version-rolling mask (8 hex digits), when the submit carries version bits.
    #[arg(long)]
    version_mask: Option<String>,
    /// Print JSON: {"header", "hash", "difficulty", "meets_network_target"}.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let mask = match &args.version_mask {
        Some(m) => parse_u32_be("--version-mask", m)
            .with_context(|| format!("invalid --version-mask {m:?}"))?,
        None => 0,
    };
    let share = rebuild_share(&args.notify, &args.submit, &args.extranonce1, mask)
        .context("cannot rebuild the share")?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let value = serde_json::json!({
            "header": share.header.to_string(),
            "hash": share.hash.to_string(),
            "difficulty": share.difficulty,
            "meets_network_target": share.meets_network_target,
        });
        writeln!(out, "{value}")?;
    } else {
        writeln!(out, "header      {}", share.header)?;
        writeln!(out, "hash        {}", share.hash)?;
        writeln!(out, "difficulty  {}", share.difficulty)?;
        writeln!(
            out,
            "block       {}",
            if share.meets_network_target {
                format!("yes: meets nBits {}", share.header.bits)
            } else {
                format!("no (nBits {})", share.header.bits)
            }
        )?;
    }
    Ok(())
}
