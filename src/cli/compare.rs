//! `hashwatt compare`: side-by-side tables of bench or econ reports.

use std::io::Write;
use std::path::PathBuf;

use hashwatt::report::compare::{Loaded, compare};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Two or more reports of the same schema (`hashwatt.bench/1` or
    /// `hashwatt.econ/1`); the first is the baseline.
    #[arg(required = true, num_args = 2.., value_name = "REPORT.json")]
    reports: Vec<PathBuf>,
    /// Print the comparison as JSON (`hashwatt.compare/1`).
    #[arg(long)]
    json: bool,
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let loaded = args
        .reports
        .iter()
        .map(|p| Loaded::load(p))
        .collect::<Result<Vec<_>, _>>()?;
    let c = compare(&loaded)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&c)?)?;
    } else {
        write!(out, "{}", c.to_markdown())?;
    }
    Ok(())
}
