//! `hashwatt hash`: the block hash of one header.

use std::io::Write;

use anyhow::Context;
use hashwatt::pow::Target;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The 80-byte header as 160 hex digits, in wire order.
    #[arg(long)]
    header: String,
    /// Print JSON: {"hash": ..., "meets_target": ...}.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let header = super::parse_header(&args.header)?;
    let target = Target::from_compact(header.bits)
        .with_context(|| format!("header's nBits {}", header.bits))?;
    let hash = header.block_hash();
    let meets = target.is_met_by(hash);
    let mut out = std::io::stdout().lock();
    if args.json {
        let value = serde_json::json!({ "hash": hash.to_string(), "meets_target": meets });
        writeln!(out, "{value}")?;
    } else {
        writeln!(out, "{hash}")?;
        writeln!(
            out,
            "meets target {target} (nBits {}): {}",
            header.bits,
            if meets { "yes" } else { "no" }
        )?;
    }
    Ok(())
}
