//! `hashwatt template`: check a `getblocktemplate` result and show the job built from it.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use hashwatt::gbt::BlockTemplate;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A getblocktemplate result (JSON; a JSON-RPC response or {"gbt": ...} also works).
    #[arg(long, value_name = "FILE")]
    gbt: PathBuf,
    /// Print JSON: {"height", "bits", "prev_blockhash", "stratum_prevhash",
    /// "merkle_branch", "witness_commitment", "coinbase_value", "fees", ...}.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.gbt)
        .with_context(|| format!("cannot read --gbt {}", args.gbt.display()))?;
    let template =
        BlockTemplate::from_json(&text).with_context(|| format!("--gbt {}", args.gbt.display()))?;
    let job = template
        .check()
        .with_context(|| format!("template {} is inconsistent", args.gbt.display()))?;
    let s = job.summary();
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{s}")?;
        return Ok(());
    }
    writeln!(out, "height              {}", s["height"])?;
    writeln!(out, "bits                {}", job.template.bits)?;
    writeln!(out, "prev_blockhash      {}", job.prev_blockhash)?;
    writeln!(
        out,
        "stratum_prevhash    {}",
        s["stratum_prevhash"].as_str().unwrap_or_default()
    )?;
    writeln!(out, "transactions        {}", job.txs.len())?;
    for (i, b) in job.merkle_branch.iter().enumerate() {
        writeln!(out, "merkle_branch[{i:>2}]   {}", hex::encode(b))?;
    }
    writeln!(
        out,
        "witness_commitment  {}",
        hex::encode(&job.witness_commitment)
    )?;
    writeln!(
        out,
        "coinbase_value      {} sat = subsidy {} + fees {}",
        job.template.coinbasevalue, job.subsidy, job.fees
    )?;
    Ok(())
}
