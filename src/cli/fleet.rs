//! `hashwatt fleet`: bench reports and agent books from many hosts side by side.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use hashwatt::report::fleet::{fleet, load};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Bench reports (`hashwatt bench --json`) and agent books (`hashwatt
    /// agent --books`), one per host; `HOST=FILE` names the host.
    #[arg(required = true, value_name = "[HOST=]FILE")]
    reports: Vec<String>,
    /// Print the fleet as JSON (`hashwatt.fleet/1`) instead of Markdown.
    #[arg(long)]
    json: bool,
    /// Also write the Markdown table to FILE.
    #[arg(long, value_name = "FILE")]
    export_markdown: Option<PathBuf>,
    /// Also write CSV (one row per host, then the total) to FILE.
    #[arg(long, value_name = "FILE")]
    export_csv: Option<PathBuf>,
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let rows = args
        .reports
        .iter()
        .map(|spec| {
            let (host, file) = match spec.split_once('=') {
                Some((h, f)) if !h.is_empty() && !f.is_empty() => (Some(h.to_string()), f),
                _ => (None, spec.as_str()),
            };
            load(host, &PathBuf::from(file))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let f = fleet(rows);
    if let Some(path) = &args.export_markdown {
        std::fs::write(path, f.to_markdown())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = &args.export_csv {
        std::fs::write(path, f.to_csv())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&f)?)?;
    } else {
        write!(out, "{}", f.to_markdown())?;
    }
    Ok(())
}
