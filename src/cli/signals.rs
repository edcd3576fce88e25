//! Ctrl-C (SIGINT) and SIGTERM: the first one cancels the running work through
//! its [`CancelToken`], which then ends with its partial results; a second one
//! ends the process at once. The exit code says which signal stopped the work.

use std::sync::atomic::{AtomicI32, Ordering};

use anyhow::Context;
use hashwatt::search::CancelToken;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// The first signal received (0: none).
static RECEIVED: AtomicI32 = AtomicI32::new(0);

/// Cancels `token` on the first SIGINT or SIGTERM.
///
/// # Errors
/// When the handlers or their thread cannot be set up.
pub fn cancel_on_signals(token: &CancelToken) -> anyhow::Result<()> {
    let mut signals =
        Signals::new([SIGINT, SIGTERM]).context("cannot install the SIGINT/SIGTERM handlers")?;
    let token = token.clone();
    std::thread::Builder::new()
        .name("hashwatt-signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                if RECEIVED
                    .compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst)
                    .is_err()
                {
                    // A second signal: the user does not want to wait.
                    std::process::exit(128 + signal);
                }
                token.cancel();
            }
        })
        .context("cannot start the signal thread")?;
    Ok(())
}

/// The exit code for the signal that stopped the work: 130 after SIGINT, 143
/// after SIGTERM (128 + the signal number, as shells report it).
pub fn exit_code() -> Option<u8> {
    let signal = RECEIVED.load(Ordering::SeqCst);
    (signal != 0).then(|| (128 + signal) as u8)
}

/// What to call the signal received, for messages.
pub fn name() -> &'static str {
    match RECEIVED.load(Ordering::SeqCst) {
        SIGINT => "SIGINT",
        SIGTERM => "SIGTERM",
        _ => "a signal",
    }
}
