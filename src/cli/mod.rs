//! Command-line parsing and one module per subcommand.

mod agent;
mod bench;
mod compare;
mod devices;
mod econ;
mod fleet;
mod gpu_flags;
mod hash;
mod live;
mod mine;
mod node;
mod pool;
mod search;
mod share;
mod signals;
mod template;

use clap::{Parser, Subcommand};

/// hashwatt: SHA-256d nonce search, hashes per joule, and mining vs AI economics.
#[derive(Parser, Debug)]
#[command(name = "hashwatt", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Hash one block header (SHA-256d) and check it against its own nBits.
    Hash(hash::Args),
    /// Search a nonce range for hashes meeting a target.
    Search(search::Args),
    /// Measure hashes per second and per joule of each backend.
    Bench(bench::Args),
    /// List the backends this machine can run.
    Devices(devices::Args),
    /// Mine, infer or idle? Net USD per GPU-hour, break-evens, site view per MW.
    // Boxed: its many optional flags make it much larger than the other variants.
    Econ(Box<econ::Args>),
    /// Compare bench or econ reports side by side.
    Compare(compare::Args),
    /// Rebuild a logged Stratum share (notify + submit lines) and rate it.
    Share(share::Args),
    /// Mine for Stratum V1 pools: live status, --json events, clean stop on Ctrl-C/SIGTERM.
    Mine(mine::Args),
    /// Check a getblocktemplate result and show the Stratum job built from it.
    Template(template::Args),
    /// Give this host's idle device time to mining; hand it back on demand; books and metrics.
    // Boxed: many optional flags.
    Agent(Box<agent::Args>),
    /// Bench reports and agent books from many hosts side by side, with the total.
    Fleet(fleet::Args),
}

/// Parses the command line and runs the subcommand.
pub fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match &cli.command {
        Command::Hash(args) => hash::run(args),
        Command::Search(args) => search::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Devices(args) => devices::run(args),
        Command::Econ(args) => econ::run(args),
        Command::Compare(args) => compare::run(args),
        Command::Share(args) => share::run(args),
        Command::Mine(args) => mine::run(args),
        Command::Template(args) => template::run(args),
        Command::Agent(args) => agent::run(args),
        Command::Fleet(args) => fleet::run(args),
    }
}

/// The exit code for a signal that stopped the work (130 SIGINT, 143 SIGTERM).
pub fn signal_exit_code() -> Option<u8> {
    signals::exit_code()
}

/// Parses a header argument with a message naming the value.
fn parse_header(s: &str) -> anyhow::Result<hashwatt::header::Header> {
    s.parse()
        .map_err(|e| anyhow::anyhow!("invalid --header {}: {e}", quoted(s)))
}

/// A user's value for an error message: quoted, and cut to its first 80
/// characters (with the full length) so a huge input is not echoed back.
fn quoted(s: &str) -> String {
    const SHOWN: usize = 80;
    let chars = s.chars().count();
    if chars <= SHOWN {
        format!("{s:?}")
    } else {
        let head: String = s.chars().take(SHOWN).collect();
        format!("{head:?}… ({chars} characters)")
    }
}

/// Refuses `--threads` and `--adapter` where the chosen backend would not use
/// them, so nothing the user gives is silently dropped. `auto` with
/// `--adapter` means the GPU.
fn check_backend_options(
    choice: hashwatt::backend::BackendChoice,
    threads: Option<u32>,
    adapter: Option<&str>,
) -> anyhow::Result<()> {
    use hashwatt::backend::BackendChoice;
    let gpu = choice == BackendChoice::Gpu || (choice == BackendChoice::Auto && adapter.is_some());
    if gpu && let Some(t) = threads {
        anyhow::bail!(
            "--threads {t} applies to CPU backends; the GPU backend does not use it \
             (it sizes its batches by time)"
        );
    }
    if matches!(choice, BackendChoice::Cpu | BackendChoice::Kernel(_))
        && let Some(a) = adapter
    {
        anyhow::bail!("--adapter {a:?} applies to the GPU backend, not to --backend {choice}");
    }
    Ok(())
}

/// The note for `--threads` given to `auto` when `auto` picked the GPU.
fn unused_threads_note(
    threads: Option<u32>,
    engine: &dyn hashwatt::search::Engine,
) -> Option<String> {
    let options = hashwatt::backend::EngineOptions {
        threads: threads.map(|t| t as usize),
        ..Default::default()
    };
    hashwatt::backend::unused_threads_note(&options, engine)
}

/// `"1 thread"`, `"2 threads"`.
fn threads_label(n: usize) -> String {
    if n == 1 {
        "1 thread".to_string()
    } else {
        format!("{n} threads")
    }
}
