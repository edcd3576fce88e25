//! The GPU engine on a real adapter (Mesa lavapipe in CI), against the `sha2`
//! crate, the real headers in `tests/data/headers.tsv` and the CPU engine.
//!
//! Without an adapter each test prints `skipped: no GPU adapter (...)` and
//! passes, unless `HASHWATT_REQUIRE_GPU=1` (CI), which turns that into a failure.
//! Windows are small: lavapipe hashes a few million nonces per second.
#![cfg(feature = "gpu")]

mod common;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::GENESIS;
use hashwatt::gpu::engine::FOOTPRINT_PROBE_NONCES;
use hashwatt::gpu::{GpuEngine, GpuError, GpuOptions};
use hashwatt::header::Header;
use hashwatt::pow::{CompactTarget, Target};
use hashwatt::search::{CancelToken, CpuEngine, Engine, Hit, Job};
use hashwatt::sha256::CpuKernel;

fn require_gpu() -> bool {
    std::env::var("HASHWATT_REQUIRE_GPU").is_ok_and(|v| v == "1")
}

/// An engine with `options`, or `None` (after printing why) without an adapter.
fn open(options: &GpuOptions) -> Option<GpuEngine> {
    match GpuEngine::open(options) {
        Ok(engine) => Some(engine),
        Err(e @ GpuError::NoAdapter { .. }) => {
            assert!(!require_gpu(), "HASHWATT_REQUIRE_GPU=1 but {e}");
            eprintln!("skipped: no GPU adapter ({e})");
            None
        }
        Err(e) => panic!("opening the GPU engine failed: {e}"),
    }
}

/// One engine with default options shared by the tests that need no special ones.
fn shared() -> Option<&'static GpuEngine> {
    static ENGINE: OnceLock<Option<GpuEngine>> = OnceLock::new();
    ENGINE.get_or_init(|| open(&GpuOptions::default())).as_ref()
}

fn cpu() -> CpuEngine {
    CpuEngine::new(CpuKernel::scalar(), None).expect("cpu engine")
}

/// Every hit's hash is the `sha2` oracle's and meets the target.
fn check_hits(job: &Job, hits: &[Hit]) {
    for h in hits {
        let oracle = common::oracle_hash(&job.header.with_nonce(h.nonce)).0;
        assert_eq!(h.hash.0, oracle, "nonce {}", h.nonce);
        assert!(
            job.target.is_met_by(h.hash),
            "nonce {} misses the target",
            h.nonce
        );
        assert!(
            u64::from(h.nonce) >= u64::from(job.start) && u64::from(h.nonce) < job.end().unwrap()
        );
    }
    assert!(
        hits.windows(2).all(|w| w[0].nonce < w[1].nonce),
        "sorted, no duplicates"
    );
}

/// Searches `job` on the GPU and on the CPU and asserts the same hits.
fn same_as_cpu(gpu: &GpuEngine, job: &Job) -> usize {
    let g = gpu.search(job, &CancelToken::new()).expect("gpu search");
    let c = cpu().search(job, &CancelToken::new()).expect("cpu search");
    check_hits(job, &g.hits);
    assert_eq!(g.hits, c.hits, "job {}+{}", job.start, job.count);
    assert_eq!(g.stats.hashes, job.count);
    assert!(!g.stats.cancelled);
    g.hits.len()
}

/// A target whose top 32-bit word is `top` and the rest all ones: about
/// `(top + 1) / 2^32` of all nonces meet it.
fn target_with_top(top: u32) -> Target {
    let mut b = [0xff; 32];
    b[28..].copy_from_slice(&top.to_le_bytes());
    Target::from_le_bytes(b)
}

/// A small deterministic generator (splitmix64) for random headers.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn header(&mut self) -> Header {
        let mut b = [0u8; 80];
        for c in b.chunks_mut(8) {
            c.copy_from_slice(&self.next().to_le_bytes());
        }
        Header::from_bytes(&b)
    }
}

/// The real headers of `tests/data/headers.tsv`, by height.
fn headers() -> Vec<(String, Header)> {
    common::headers()
        .into_iter()
        .map(|row| (row.height.to_string(), row.header))
        .collect()
}

#[test]
fn every_real_header_is_found_in_a_window_around_its_nonce() {
    let Some(gpu) = shared() else { return };
    let rows = headers();
    assert_eq!(rows.len(), 25);
    for (height, header) in rows {
        let nonce = header.nonce;
        let zeroed = header.with_nonce(0);
        let target = Target::from_compact(header.bits).expect("nBits");
        let start = nonce.saturating_sub(3_000);
        let count = (u64::from(start) + 6_000).min(1 << 32) - u64::from(start);
        let job = Job::new(zeroed, start, count, target).expect("job");
        let outcome = gpu.search(&job, &CancelToken::new()).expect("search");
        let hit = outcome
            .hits
            .iter()
            .find(|h| h.nonce == nonce)
            .unwrap_or_else(|| panic!("block {height}: nonce {nonce} not found"));
        assert_eq!(hit.hash.0, common::oracle_hash(&header).0, "block {height}");
        assert_eq!(hit.hash, header.block_hash(), "block {height}");
        check_hits(&job, &outcome.hits);
        let expected = cpu().search(&job, &CancelToken::new()).expect("cpu");
        assert_eq!(outcome.hits, expected.hits, "block {height}");
    }
}

#[test]
fn matches_cpu_engine_on_random_headers_with_easy_targets() {
    let Some(gpu) = shared() else { return };
    let mut rng = Rng(0x6861_7368_7761_7474);
    let mut total = 0;
    for top in [0x7fff_ffff, 0x03ff_ffff, 0x00ff_ffff, 0x000f_ffff] {
        let header = rng.header();
        let start = rng.next() as u32 & 0x7fff_ffff;
        let count = 40_000 + rng.next() % 20_011;
        let job = Job::new(header, start, count, target_with_top(top)).expect("job");
        total += same_as_cpu(gpu, &job);
    }
    assert!(total > 20_000, "expected thousands of hits, got {total}");
}

#[test]
fn impossible_target_finds_nothing() {
    let Some(gpu) = shared() else { return };
    let mut rng = Rng(7);
    for _ in 0..3 {
        let job = Job::new(
            rng.header(),
            rng.next() as u32,
            50_000,
            Target::from_le_bytes([0; 32]),
        )
        .expect("job");
        let outcome = gpu.search(&job, &CancelToken::new()).expect("search");
        assert!(outcome.hits.is_empty());
        assert_eq!(outcome.stats.hashes, 50_000);
        assert!(!outcome.stats.cancelled);
    }
}

#[test]
fn window_ending_at_u32_max() {
    let Some(gpu) = shared() else { return };
    let mut rng = Rng(42);
    let header = rng.header();
    let target = target_with_top(0x0fff_ffff);
    let job = Job::new(header, u32::MAX - 49_999, 50_000, target).expect("job");
    let hits = same_as_cpu(gpu, &job);
    assert!(hits > 1_000);
    // The very last nonce alone, with a target every hash meets.
    let last = Job::new(header, u32::MAX, 1, Target::MAX).expect("job");
    let outcome = gpu.search(&last, &CancelToken::new()).expect("search");
    assert_eq!(outcome.hits.len(), 1);
    assert_eq!(outcome.hits[0].nonce, u32::MAX);
    check_hits(&last, &outcome.hits);
}

#[test]
fn hit_buffer_overflow_loses_no_hit() {
    let options = GpuOptions {
        hit_capacity: 100,
        ..GpuOptions::default()
    };
    let Some(gpu) = open(&options) else { return };
    let header = Rng(3).header();
    // Every hash meets MAX: 7_777 hits, far more than the 100 the buffer holds.
    let job = Job::new(header, 1_000_000, 7_777, Target::MAX).expect("job");
    let outcome = gpu.search(&job, &CancelToken::new()).expect("search");
    let nonces: Vec<u32> = outcome.hits.iter().map(|h| h.nonce).collect();
    let expected: Vec<u32> = (1_000_000..1_007_777).collect();
    assert_eq!(nonces, expected, "every nonce exactly once, in order");
    check_hits(&job, &outcome.hits);
    // Half the nonces meet the regtest target: overflowing batches mixed with the rest.
    let regtest = Target::from_compact(CompactTarget::from_consensus(0x207f_ffff)).expect("bits");
    let job = Job::new(header, 5, 30_000, regtest).expect("job");
    let hits = same_as_cpu(&gpu, &job);
    assert!(hits > 10_000);
}

#[test]
fn many_small_double_buffered_batches_match_cpu() {
    let options = GpuOptions {
        batch_time: Some(Duration::from_micros(500)),
        workgroup_size: Some(32),
        nonces_per_invocation: Some(3),
        ..GpuOptions::default()
    };
    let Some(gpu) = open(&options) else { return };
    let mut rng = Rng(99);
    let job = Job::new(rng.header(), 123_457, 250_003, target_with_top(0x00ff_ffff)).expect("job");
    // The first search adapts the batch size; the second runs on the adapted size.
    same_as_cpu(&gpu, &job);
    same_as_cpu(&gpu, &job);
    assert!(gpu.batch_nonces() < 250_003, "batches should be small");
    assert_eq!(gpu.batch_nonces() % gpu.batch_step(), 0);
    // Whole workgroups; on a software adapter whole rounds of one workgroup
    // per CPU thread, so no thread idles at the end of a batch.
    let per_group = 32 * 3;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
    let software = hashwatt::gpu::adapter::is_software(gpu.adapter_info());
    let rounds = if software { threads } else { 1 };
    assert_eq!(gpu.batch_step(), per_group * rounds);
}

#[test]
fn trusted_shader_and_other_tunings_match_cpu() {
    let mut rng = Rng(5);
    let header = rng.header();
    let job = Job::new(header, 77, 20_000, target_with_top(0x01ff_ffff)).expect("job");
    for (wg, npi, trusted) in [(1, 1, false), (128, 7, true), (256, 16, false)] {
        let options = GpuOptions {
            workgroup_size: Some(wg),
            nonces_per_invocation: Some(npi),
            trusted_shader: trusted,
            ..GpuOptions::default()
        };
        let Some(gpu) = open(&options) else { return };
        let tuning = gpu.tuning().expect("tuning");
        assert_eq!(
            (tuning.workgroup_size, tuning.nonces_per_invocation),
            (wg, npi)
        );
        same_as_cpu(&gpu, &job);
    }
}

#[test]
fn cancellation_stops_a_full_range_search() {
    let Some(gpu) = shared() else { return };
    let job = Job::full_range(Rng(11).header(), Target::from_le_bytes([0; 32]));
    // Already cancelled: nothing is submitted.
    let token = CancelToken::new();
    token.cancel();
    let outcome = gpu.search(&job, &token).expect("search");
    assert_eq!(outcome.stats.hashes, 0);
    assert!(outcome.stats.cancelled);

    // Cancelled mid-search from another thread. The whole range would take
    // minutes on lavapipe; the search must return within a few batches.
    let token = CancelToken::new();
    let canceller = token.clone();
    let cancelled_at = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        canceller.cancel();
        Instant::now()
    });
    let outcome = gpu.search(&job, &token).expect("search");
    let returned = Instant::now();
    let cancelled_at = cancelled_at.join().expect("canceller");
    assert!(outcome.stats.cancelled);
    assert!(outcome.stats.hashes > 0 && outcome.stats.hashes < job.count);
    assert!(outcome.hits.is_empty());
    let latency = returned.saturating_duration_since(cancelled_at);
    assert!(
        latency < Duration::from_secs(3),
        "returned {latency:?} after cancel"
    );

    // A deadline token (how `bench` stops) works the same way.
    let token = CancelToken::with_deadline(Instant::now() + Duration::from_millis(200));
    let outcome = gpu.search(&job, &token).expect("search");
    assert!(outcome.stats.cancelled && outcome.stats.hashes < job.count);
}

/// Cancels full-range searches on `gpu` (opened with 1 s batches) at three
/// points and checks the hand-back time and that the part searched is one
/// prefix of the range with every hit in it reported.
fn cancel_mid_batch(gpu: &GpuEngine) {
    let live = gpu.stops_mid_batch();
    if gpu.adapter_info().backend == wgpu::Backend::Vulkan {
        assert!(live, "the Vulkan stop flag is not in use");
    }
    if !live {
        // A cancel waits for the batches in flight here, minutes of CPU work
        // to check at a second each on a software adapter; that path is
        // `cancellation_stops_a_full_range_search`.
        eprintln!(
            "not run: no stop flag on the {:?} backend (only on Vulkan)",
            gpu.adapter_info().backend
        );
        return;
    }
    // About one candidate per 65,536 nonces: hundreds per batch, no overflow.
    let job = Job::full_range(Rng(23).header(), target_with_top(0x0000_ffff));
    let warm = CancelToken::with_deadline(Instant::now() + Duration::from_millis(2500));
    gpu.search(&job, &warm).expect("warm-up search");
    assert!(gpu.batch_nonces() > 1 << 20, "batches did not grow");

    for delay_ms in [150, 450, 700] {
        let token = CancelToken::new();
        let canceller = token.clone();
        let cancelled_at = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(delay_ms));
            canceller.cancel();
            Instant::now()
        });
        let outcome = gpu.search(&job, &token).expect("search");
        let latency = Instant::now().saturating_duration_since(cancelled_at.join().unwrap());
        assert!(outcome.stats.cancelled);
        // Without the stop flag a cancel would wait for the running batch and
        // the one queued behind it: up to 1.5 s here.
        assert!(
            latency < Duration::from_millis(250),
            "returned {latency:?} after a cancel at {delay_ms} ms"
        );
        // The searched part is one prefix of the range, and every hit in it
        // is reported: the same hits as the CPU engine's over that prefix.
        let done = Job {
            count: outcome.stats.hashes,
            ..job
        };
        assert!(done.count > 0 && done.count < job.count);
        let c = CpuEngine::new(CpuKernel::best(), None)
            .expect("cpu engine")
            .search(&done, &CancelToken::new())
            .expect("cpu search");
        check_hits(&done, &outcome.hits);
        assert_eq!(outcome.hits, c.hits, "cancel at {delay_ms} ms");
        assert!(!c.hits.is_empty());
    }
}

/// Options with batches of a second: a cancel that had to wait for the
/// running batch would take most of a second.
fn one_second_batches() -> GpuOptions {
    GpuOptions {
        batch_time: Some(Duration::from_secs(1)),
        ..GpuOptions::default()
    }
}

#[test]
fn cancel_stops_the_batch_in_flight_and_reports_exactly_what_it_searched() {
    let Some(gpu) = open(&one_second_batches()) else {
        return;
    };
    cancel_mid_batch(&gpu);
}

/// A device and queue on the best adapter, and its info, or `None` (after
/// printing why) without an adapter.
fn best_device() -> Option<(wgpu::Device, wgpu::Queue, wgpu::AdapterInfo)> {
    let instance = hashwatt::gpu::adapter::instance();
    let adapters = hashwatt::gpu::adapter::enumerate(&instance);
    let adapter = match hashwatt::gpu::adapter::select(&adapters, None) {
        Ok(a) => a,
        Err(e) => {
            assert!(!require_gpu(), "HASHWATT_REQUIRE_GPU=1 but {e}");
            eprintln!("skipped: no GPU adapter ({e})");
            return None;
        }
    };
    let (device, queue) =
        pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor::default()))
            .expect("device");
    Some((device, queue, adapter.get_info()))
}

/// [`best_device`] with its info relabelled as a discrete GPU, so an engine
/// built on it takes the hardware tuning (claims per workgroup).
fn as_hardware() -> Option<(wgpu::Device, wgpu::Queue, wgpu::AdapterInfo)> {
    let (device, queue, info) = best_device()?;
    let info = wgpu::AdapterInfo {
        name: "hardware stand-in".into(),
        device_type: wgpu::DeviceType::DiscreteGpu,
        ..info
    };
    Some((device, queue, info))
}

#[test]
fn the_per_workgroup_claims_of_hardware_adapters_match_cpu_and_stop_mid_batch() {
    let Some((device, queue, info)) = as_hardware() else {
        return;
    };
    let engine = |options: &GpuOptions| {
        GpuEngine::from_device(&device, &queue, info.clone(), options).expect("engine")
    };
    let gpu = engine(&GpuOptions::default());
    assert!(gpu.tuning().expect("tuning").claim_by_workgroup);
    let mut rng = Rng(29);
    for count in [1, 1023, 1024, 1025, 300_001] {
        let job = Job::new(
            rng.header(),
            rng.next() as u32 & 0x7fff_ffff,
            count,
            target_with_top(0x00ff_ffff),
        )
        .expect("job");
        same_as_cpu(&gpu, &job);
    }
    // lavapipe runs a stopped workgroup's first pass of the nonce loop with
    // every lane masked off, so a skipped workgroup costs one nonce in
    // NONCES_PER_INVOCATION: take its 16 here, not the hardware default of 4.
    cancel_mid_batch(&engine(&GpuOptions {
        nonces_per_invocation: Some(16),
        ..one_second_batches()
    }));
}

#[test]
fn injected_device_seam() {
    let Some((device, queue, info)) = best_device() else {
        return;
    };
    let engine = GpuEngine::from_device(&device, &queue, info.clone(), &GpuOptions::default())
        .expect("engine");
    assert_eq!(engine.name(), "gpu");
    assert_eq!(engine.threads(), 1);
    assert_eq!(engine.device(), info.name);
    let genesis = hashwatt::bench::synthetic_header();
    let target = Target::from_compact(genesis.bits).expect("bits");
    let job = Job::new(genesis, 2_083_236_000, 2_000, target).expect("job");
    let outcome = engine.search(&job, &CancelToken::new()).expect("search");
    assert_eq!(outcome.hits.len(), 1);
    assert_eq!(
        outcome.hits[0].hash.to_string(),
        "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
    );
}

#[test]
fn invalid_options_are_typed_errors() {
    for options in [
        GpuOptions {
            hit_capacity: 0,
            ..GpuOptions::default()
        },
        GpuOptions {
            batch_time: Some(Duration::ZERO),
            ..GpuOptions::default()
        },
        GpuOptions {
            nonces_per_invocation: Some(0),
            ..GpuOptions::default()
        },
    ] {
        assert!(matches!(
            options.validate(),
            Err(GpuError::InvalidOption { .. })
        ));
    }
}

#[test]
fn unknown_adapter_is_a_clear_error() {
    let options = GpuOptions {
        adapter: Some("no-such-gpu-xyz".into()),
        ..GpuOptions::default()
    };
    match GpuEngine::open(&options) {
        Err(GpuError::AdapterNotFound { spec, .. }) => assert_eq!(spec, "no-such-gpu-xyz"),
        Err(GpuError::NoAdapter { .. }) if !require_gpu() => {}
        other => panic!("expected AdapterNotFound, got {other:?}"),
    }
}

fn hashwatt(args: &[&str], backend_env: Option<&str>) -> std::process::Output {
    let mut cmd = common::hashwatt_command();
    cmd.args(args);
    if let Some(b) = backend_env {
        cmd.env("WGPU_BACKEND", b);
    }
    cmd.output().expect("run hashwatt")
}

#[test]
fn cli_without_adapter_fails_for_gpu_and_falls_back_for_auto() {
    // Asking wgpu for Metal only finds nothing on Linux and Windows.
    if cfg!(target_os = "macos") {
        return;
    }
    let base = [
        "search",
        "--header",
        GENESIS,
        "--start",
        "2083236000",
        "--count",
        "2000",
    ];
    let gpu = hashwatt(&[&base[..], &["--backend", "gpu"]].concat(), Some("metal"));
    assert!(!gpu.status.success());
    let err = String::from_utf8_lossy(&gpu.stderr);
    assert!(err.contains("no GPU adapter found"), "stderr: {err}");
    assert!(!err.contains("panicked"), "stderr: {err}");

    let auto = hashwatt(&[&base[..], &["--backend", "auto"]].concat(), Some("metal"));
    assert!(auto.status.success());
    let err = String::from_utf8_lossy(&auto.stderr);
    assert!(
        err.contains("no GPU adapter found") && err.contains("using CPU backend"),
        "stderr: {err}"
    );
    assert!(String::from_utf8_lossy(&auto.stdout).contains("2083236893"));
}

#[test]
fn cli_gpu_search_and_adapter_flag() {
    let Some(gpu) = shared() else { return };
    let name = gpu.adapter_info().name.clone();
    let base = [
        "search",
        "--header",
        GENESIS,
        "--start",
        "2083236000",
        "--count",
        "2000",
    ];
    for adapter in ["0", name.as_str()] {
        let out = hashwatt(
            &[&base[..], &["--backend", "gpu", "--adapter", adapter]].concat(),
            None,
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains("2083236893") && stdout.contains("on gpu"),
            "{stdout}"
        );
    }
    let out = hashwatt(
        &[&base[..], &["--backend", "gpu", "--adapter", "99"]].concat(),
        None,
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--adapter \"99\""));
    // `auto` must not pick a software adapter over the CPU.
    if gpu.adapter_info().device_type == wgpu::DeviceType::Cpu {
        let out = hashwatt(&[&base[..], &["--backend", "auto"]].concat(), None);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success());
        assert!(err.contains("only a software adapter"), "stderr: {err}");
        assert!(!String::from_utf8_lossy(&out.stdout).contains("on gpu"));
    }
}

/// The device memory `devices` reported for `engine`'s adapter (`bytes`, and
/// the `devices` text listing) against the memory hints and the engine's own
/// measurement.
fn check_device_memory(engine: &GpuEngine, bytes: u64, text: &str) {
    // The two slots' device-local hit buffers alone take 512 KiB at the
    // default capacity; wgpu's `Performance` hint would reserve 128 MiB
    // blocks, the engine's manual hint 4 MiB ones.
    let hits = 2 * u64::from(GpuOptions::default().hit_capacity) * 4;
    assert!(bytes >= hits, "{bytes} bytes < {hits} of hit buffers");
    assert!(
        bytes < 64 << 20,
        "{bytes} bytes: the memory hints are not applied"
    );
    // The same figure from an engine opened here on that adapter, after the
    // same probe search (the allocator's blocks do not depend on the run).
    assert_eq!(engine.measured_device_memory().unwrap(), Some(bytes));
    // The text listing says it under the adapter, in MiB.
    let line = format!(
        "engine device memory: {:.2} MiB reserved (measured after a {FOOTPRINT_PROBE_NONCES}-nonce search)",
        bytes as f64 / f64::from(1u32 << 20)
    );
    assert!(text.contains(&line), "{text}");
}

#[test]
fn cli_devices_shows_the_engine_device_memory() {
    let Some(gpu) = shared() else { return };
    let name = gpu.adapter_info().name.clone();
    let out = hashwatt(&["devices", "--json"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("devices --json");
    let adapters = v["machine"]["gpu_adapters"]
        .as_array()
        .expect("gpu_adapters");
    let index = adapters
        .iter()
        .find(|a| a["name"] == name.as_str())
        .and_then(|a| a["index"].as_u64())
        .unwrap_or_else(|| panic!("adapter {name} not listed: {v}"));
    let entry = v["gpu_engine_memory"]
        .as_array()
        .expect("gpu_engine_memory")
        .iter()
        .find(|m| m["adapter"] == index)
        .unwrap_or_else(|| panic!("no engine memory for adapter {index}: {v}"));
    let options = GpuOptions {
        adapter: Some(index.to_string()),
        ..GpuOptions::default()
    };
    let engine = GpuEngine::open(&options).expect("open the listed adapter");
    let out = hashwatt(&["devices"], None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(entry["probe_nonces"], FOOTPRINT_PROBE_NONCES);
    match entry["device_memory_bytes"].as_u64() {
        Some(bytes) => check_device_memory(&engine, bytes, &text),
        None => {
            // wgpu's GL backend gives no allocator report; Vulkan does.
            assert_ne!(
                engine.adapter_info().backend,
                wgpu::Backend::Vulkan,
                "{entry}"
            );
            assert_eq!(engine.measured_device_memory().unwrap(), None);
            assert!(
                text.contains("engine device memory: not reported by this wgpu backend"),
                "{text}"
            );
        }
    }
    // How a cancel reaches the engine, and its batch time: on lavapipe's
    // Vulkan driver the stop flag and the software default of 20 ms.
    let live = engine.stops_mid_batch();
    let ms = engine.batch_time().as_secs_f64() * 1e3;
    assert_eq!(entry["stops_mid_batch"], live, "{entry}");
    assert_eq!(entry["batch_ms"].as_f64(), Some(ms), "{entry}");
    if engine.adapter_info().backend == wgpu::Backend::Vulkan {
        assert!(live);
        let software = engine.adapter_info().device_type == wgpu::DeviceType::Cpu;
        assert_eq!(ms, if software { 20.0 } else { 4.0 });
        assert!(
            text.contains(&format!(
                "engine batches: {ms} ms; a cancel stops the batches in flight (stop flag)"
            )),
            "{text}"
        );
    }
}

#[test]
fn overflow_rescan_honours_cancel() {
    // Every batch overflows a one-nonce hit buffer and is searched again on
    // the CPU. A cancel must reach that re-scan: with 1 s batches the search
    // returns when the running batch ends (about 1 s), not after re-hashing
    // a second's worth of GPU work on one scalar core (several seconds).
    let options = GpuOptions {
        hit_capacity: 1,
        batch_time: Some(Duration::from_secs(1)),
        ..GpuOptions::default()
    };
    let Some(gpu) = open(&options) else { return };
    let job = Job::full_range(Rng(17).header(), target_with_top(0x00ff_ffff));
    // Grow the batches to their timed size first.
    let warm = CancelToken::with_deadline(Instant::now() + Duration::from_millis(3000));
    gpu.search(&job, &warm).expect("search");
    let token = CancelToken::with_deadline(Instant::now() + Duration::from_millis(300));
    let outcome = gpu.search(&job, &token).expect("search");
    assert!(outcome.stats.cancelled);
    // The re-scan that saw the cancel covered little or nothing; what it did
    // cover is exact.
    check_hits(&job, &outcome.hits);
    assert!(
        outcome.stats.elapsed < Duration::from_millis(2500),
        "returned {:?} after start, cancel at 300 ms, batches of 1 s",
        outcome.stats.elapsed
    );
}

#[test]
fn cli_gpu_tuning_flags() {
    let Some(_) = shared() else { return };
    let base = [
        "search",
        "--header",
        GENESIS,
        "--start",
        "2083236000",
        "--count",
        "2000",
        "--backend",
        "gpu",
    ];
    let out = hashwatt(
        &[
            &base[..],
            &[
                "--gpu-batch-ms",
                "2.5",
                "--workgroup-size",
                "64",
                "--nonces-per-invocation",
                "8",
                "--trusted-shader",
            ],
        ]
        .concat(),
        None,
    );
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("2083236893"));
    for (flag, value, expect) in [
        ("--gpu-batch-ms", "0", "invalid --gpu-batch-ms 0"),
        ("--gpu-batch-ms", "nan", "invalid --gpu-batch-ms NaN"),
        ("--workgroup-size", "100000", "100000"),
        ("--workgroup-size", "65536", "workgroup_size = 65536"),
        ("--nonces-per-invocation", "0", "0"),
    ] {
        let out = hashwatt(&[&base[..], &[flag, value]].concat(), None);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{flag} {value} was accepted");
        assert!(err.contains(expect), "{flag} {value}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}
