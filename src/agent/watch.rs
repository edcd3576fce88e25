//! Watchers that pause devices on their own: the `--busy-when` probe and
//! NVML compute processes on a GPU.

use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::json;

use super::{Shared, Trigger, lock};

/// Sleeps up to `d`, waking early when the agent stops; false when stopping.
fn nap(shared: &Shared, d: Duration) -> bool {
    let until = Instant::now() + d;
    while Instant::now() < until {
        if shared.stopping.load(Ordering::SeqCst) {
            return false;
        }
        thread::sleep(Duration::from_millis(50).min(until - Instant::now()));
    }
    !shared.stopping.load(Ordering::SeqCst)
}

/// Runs `sh -c cmd` every `busy_every`: exit status 0 pauses every device,
/// any other status releases them. A probe that cannot run is recorded and
/// treated as "not busy" only after saying so.
pub(super) fn probe_loop(shared: &Shared, cmd: &str) {
    let all: Vec<usize> = (0..shared.slots.len()).collect();
    let mut last: Option<bool> = None;
    loop {
        let busy = match Command::new("sh")
            .arg("-c")
            .arg(cmd)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        {
            Ok(mut child) => loop {
                match child.try_wait() {
                    Ok(Some(status)) => break Some(status.success()),
                    Ok(None) => {
                        if shared.stopping.load(Ordering::SeqCst) {
                            let _ = child.kill();
                            let _ = child.wait();
                            return;
                        }
                        thread::sleep(Duration::from_millis(10));
                    }
                    Err(e) => {
                        shared.record("error", json!({"error": format!("--busy-when: {e}")}));
                        break None;
                    }
                }
            },
            Err(e) => {
                shared.record(
                    "error",
                    json!({"error": format!("--busy-when: cannot run sh: {e}")}),
                );
                None
            }
        };
        if let Some(busy) = busy
            && last != Some(busy)
        {
            shared.set_trigger(&all, Trigger::Probe, busy);
            last = Some(busy);
        }
        if !nap(shared, shared.config.busy_every) {
            return;
        }
    }
}

/// Every 250 ms, asks NVML for the compute processes on each GPU device
/// (found by its PCI bus id, not its name) and pauses the device while any
/// process other than this one runs there.
#[cfg(feature = "nvml")]
pub(super) fn nvml_loop(shared: &Shared) {
    let nvml = match nvml_wrapper::Nvml::init() {
        Ok(n) => n,
        Err(e) => {
            lock(&shared.notes).push(format!(
                "NVML not available ({e}): other compute processes are not watched; use /pause, signals or --busy-when"
            ));
            return;
        }
    };
    let me = std::process::id();
    let mut seen: Vec<Option<bool>> = vec![None; shared.slots.len()];
    let mut failing = vec![false; shared.slots.len()];
    while nap(shared, Duration::from_millis(250)) {
        for (i, slot) in shared.slots.iter().enumerate() {
            let Some(bus) = lock(&slot.ctl).pci_bus_id.clone() else {
                continue;
            };
            let busy = nvml
                .device_by_pci_bus_id(bus.as_str())
                .and_then(|d| d.running_compute_processes())
                .map(|procs| procs.iter().any(|p| p.pid != me));
            match busy {
                Ok(busy) if seen[i] != Some(busy) => {
                    seen[i] = Some(busy);
                    failing[i] = false;
                    shared.set_trigger(&[i], Trigger::Nvml, busy);
                }
                Ok(_) => {}
                // Said once per failure spell, not every 250 ms.
                Err(e) if !failing[i] => {
                    failing[i] = true;
                    shared.record(
                        "error",
                        json!({"device": slot.name, "error": format!("NVML on {bus}: {e}")}),
                    );
                }
                Err(_) => {}
            }
        }
    }
}

/// In a build without the `nvml` feature other compute processes cannot be
/// watched: says so in the notes (as a failed NVML start would) and returns.
#[cfg(not(feature = "nvml"))]
pub(super) fn nvml_loop(shared: &Shared) {
    lock(&shared.notes).push(
        "NVML not available (this hashwatt was built without the nvml feature): other compute processes are not watched; use /pause, signals or --busy-when"
            .to_string(),
    );
}
