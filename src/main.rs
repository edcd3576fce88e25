//! The `hashwatt` command line. All work happens in the library; this file
//! only turns errors into a message and an exit code.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    quiet_vulkan_layers();
    let result = cli::run();
    // Work stopped by Ctrl-C or SIGTERM ends with 130 or 143, after its
    // partial results (or an error) were printed.
    let stopped = cli::signal_exit_code().map(ExitCode::from);
    match result {
        Ok(()) => stopped.unwrap_or(ExitCode::SUCCESS),
        Err(err) if is_broken_pipe(&err) => stopped.unwrap_or(ExitCode::SUCCESS),
        Err(err) => {
            eprintln!("error: {err:#}");
            stopped.unwrap_or(ExitCode::FAILURE)
        }
    }
}

/// Turns off Mesa's Vulkan device-select layer unless the user set it: on a
/// headless host it prints `error: XDG_RUNTIME_DIR is invalid or not set` to
/// stderr on every successful run, and hashwatt orders adapters itself.
fn quiet_vulkan_layers() {
    if std::env::var_os("NODEVICE_SELECT").is_none() {
        // SAFETY: called first thing in `main`, before any thread exists (no
        // other thread can read the environment concurrently) and before wgpu
        // loads the Vulkan loader, which reads the variable.
        unsafe { std::env::set_var("NODEVICE_SELECT", "1") };
    }
}

/// A closed stdout (`hashwatt ... | head`) is not a failure.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
