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

/// Whether a GPU is busy with someone else's work: a compute process other
/// than `me` runs on it (`procs`) and, with `min_sm_pct`, one of those
/// processes used at least that share of the SMs in one of the utilization
/// `samples` (pid, SM %) since the last look. A threshold lends the GPU while
/// a server that holds it (an inference server between requests) is idle.
#[cfg(any(feature = "nvml", test))]
fn foreign_busy(procs: &[u32], samples: &[(u32, u32)], me: u32, min_sm_pct: Option<u32>) -> bool {
    let foreign = |pid: &u32| *pid != me && procs.contains(pid);
    match min_sm_pct {
        None => procs.iter().any(|p| *p != me),
        Some(min) => samples.iter().any(|(pid, sm)| foreign(pid) && *sm >= min),
    }
}

/// Every 250 ms, asks NVML for the compute processes on each GPU device
/// (found by its PCI bus id, not its name) and pauses the device while any
/// process other than this one runs there, or, with
/// [`AgentConfig::nvml_min_sm_pct`](super::AgentConfig::nvml_min_sm_pct),
/// while one of them keeps at least that share of the SMs busy.
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
    let min_sm = shared.config.nvml_min_sm_pct;
    let n = shared.slots.len();
    let mut seen: Vec<Option<bool>> = vec![None; n];
    let mut failing = vec![false; n];
    // The newest utilization sample seen per device, and whether the
    // utilization query failed (then any foreign process counts, said once).
    let mut last_sample: Vec<Option<u64>> = vec![None; n];
    let mut no_utilization = vec![false; n];
    while nap(shared, Duration::from_millis(250)) {
        for (i, slot) in shared.slots.iter().enumerate() {
            let Some(bus) = lock(&slot.ctl).pci_bus_id.clone() else {
                continue;
            };
            let busy = nvml.device_by_pci_bus_id(bus.as_str()).and_then(|d| {
                let procs: Vec<u32> = d
                    .running_compute_processes()?
                    .iter()
                    .map(|p| p.pid)
                    .collect();
                if min_sm.is_none() || no_utilization[i] || !procs.iter().any(|p| *p != me) {
                    return Ok(foreign_busy(&procs, &[], me, None));
                }
                let samples = match d.process_utilization_stats(last_sample[i]) {
                    Ok(s) => s,
                    // No process had a non-zero sample since the last look.
                    Err(nvml_wrapper::error::NvmlError::NotFound) => Vec::new(),
                    Err(e) => {
                        no_utilization[i] = true;
                        shared.record(
                            "error",
                            json!({"device": slot.name, "error": format!(
                                "NVML process utilization on {bus}: {e}; pausing on any other compute process"
                            )}),
                        );
                        return Ok(foreign_busy(&procs, &[], me, None));
                    }
                };
                if let Some(t) = samples.iter().map(|s| s.timestamp).max() {
                    last_sample[i] = Some(t);
                }
                let samples: Vec<(u32, u32)> = samples.iter().map(|s| (s.pid, s.sm_util)).collect();
                Ok(foreign_busy(&procs, &samples, me, min_sm))
            });
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

#[cfg(test)]
mod tests {
    use super::foreign_busy;

    const ME: u32 = 100;

    #[test]
    fn any_other_compute_process_is_busy_without_a_threshold() {
        assert!(!foreign_busy(&[], &[], ME, None));
        assert!(!foreign_busy(&[ME], &[(ME, 99)], ME, None));
        assert!(foreign_busy(&[ME, 7], &[], ME, None));
    }

    #[test]
    fn with_a_threshold_only_a_working_process_is_busy() {
        // An inference server holding the GPU between requests: lent.
        assert!(!foreign_busy(&[ME, 7], &[(ME, 95), (7, 0)], ME, Some(5)));
        assert!(!foreign_busy(&[ME, 7], &[(7, 4)], ME, Some(5)));
        // It starts serving: handed back.
        assert!(foreign_busy(&[ME, 7], &[(ME, 60), (7, 5)], ME, Some(5)));
        // Our own load never counts, nor a sample of a process that has exited.
        assert!(!foreign_busy(&[ME], &[(ME, 100)], ME, Some(1)));
        assert!(!foreign_busy(&[ME], &[(8, 100)], ME, Some(1)));
    }
}
