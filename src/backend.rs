//! Backend names (`--backend`) and opening the engine behind each.
//!
//! Names are a stable contract: `auto`, `cpu` (the best CPU kernel), each CPU
//! kernel by name (`scalar`, ...), and `gpu`.

use std::fmt;
use std::str::FromStr;

use crate::search::{CpuEngine, Engine, SearchError};
use crate::sha256::{CpuFeatures, CpuKernel, CpuKernelKind};

/// Errors from choosing or opening a backend.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackendError {
    /// A name that is not a backend.
    #[error("unknown backend {name:?} (expected one of: {expected})")]
    Unknown {
        /// What was given.
        name: String,
        /// The names accepted.
        expected: String,
    },
    /// A CPU kernel this CPU cannot run.
    #[error(
        "backend {name:?} needs CPU features this machine lacks: it needs {needs}, found: {found}"
    )]
    Unsupported {
        /// The backend.
        name: String,
        /// The features it needs.
        needs: String,
        /// The features the CPU has.
        found: String,
    },
    /// The engine could not start.
    #[error(transparent)]
    Search(#[from] SearchError),
}

/// What `--backend` asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BackendChoice {
    /// The fastest backend available.
    Auto,
    /// The fastest CPU kernel.
    Cpu,
    /// One CPU kernel (checked against the CPU when opened).
    Kernel(CpuKernelKind),
}

impl BackendChoice {
    /// Every accepted name, for help and error texts.
    pub fn names() -> Vec<&'static str> {
        let mut names = vec!["auto", "cpu"];
        names.extend(CpuKernelKind::ALL.iter().map(|k| k.name()));
        names
    }
}

impl FromStr for BackendChoice {
    type Err = BackendError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(BackendChoice::Auto),
            "cpu" => Ok(BackendChoice::Cpu),
            _ => s
                .parse::<CpuKernelKind>()
                .map(BackendChoice::Kernel)
                .map_err(|_| BackendError::Unknown {
                    name: s.to_string(),
                    expected: BackendChoice::names().join(", "),
                }),
        }
    }
}

impl fmt::Display for BackendChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BackendChoice::Auto => f.write_str("auto"),
            BackendChoice::Cpu => f.write_str("cpu"),
            BackendChoice::Kernel(k) => f.write_str(k.name()),
        }
    }
}

/// Options for opening an engine.
#[derive(Clone, Debug, Default)]
pub struct EngineOptions {
    /// CPU worker threads (`None`: one per core).
    pub threads: Option<usize>,
}

/// An opened engine and, when the choice was not taken literally, why.
pub struct Opened {
    /// The engine.
    pub engine: Box<dyn Engine>,
    /// A note for the user, e.g. that `auto` fell back to the CPU.
    pub note: Option<String>,
}

/// Opens the engine for `choice`.
///
/// # Errors
/// [`BackendError::Unsupported`] for a CPU kernel this CPU lacks, or an
/// engine start failure.
pub fn open(choice: BackendChoice, options: &EngineOptions) -> Result<Opened, BackendError> {
    let kernel = match choice {
        BackendChoice::Auto | BackendChoice::Cpu => CpuKernel::best(),
        BackendChoice::Kernel(kind) => CpuKernel::new(kind).ok_or_else(|| {
            let found = CpuFeatures::get().names();
            BackendError::Unsupported {
                name: kind.name().to_string(),
                needs: kind.required_features().to_string(),
                found: if found.is_empty() {
                    "none".to_string()
                } else {
                    found.join(", ")
                },
            }
        })?,
    };
    let engine = CpuEngine::new(kernel, options.threads)?;
    Ok(Opened {
        engine: Box::new(engine),
        note: None,
    })
}
