//! Criterion benchmark of the GPU engine: one fixed job per kernel tuning.
//!
//! Prints `skipped: no GPU adapter (...)` and measures nothing where wgpu finds
//! no adapter. `HASHWATT_GPU_BENCH_NONCES` sets the job size (default 2^22,
//! about a third of a second on lavapipe; use 2^32 on a data-centre GPU).

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hashwatt::bench::{synthetic_header, unreachable_target};
use hashwatt::gpu::{GpuEngine, GpuError, GpuOptions};
use hashwatt::search::{CancelToken, Engine, Job};

fn gpu(c: &mut Criterion) {
    let nonces: u64 = std::env::var("HASHWATT_GPU_BENCH_NONCES")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&n| (1..=1u64 << 32).contains(&n))
        .unwrap_or(1 << 22);
    let job = match Job::new(synthetic_header(), 0, nonces, unreachable_target()) {
        Ok(job) => job,
        Err(e) => {
            eprintln!("invalid job: {e}");
            return;
        }
    };
    // (label, workgroup size, nonces per invocation, trusted shader); `None`: per-adapter default.
    let configs: [(&str, Option<u32>, Option<u32>, bool); 8] = [
        ("default", None, None, false),
        ("default-trusted", None, None, true),
        ("wg64-npi4", Some(64), Some(4), false),
        ("wg64-npi16", Some(64), Some(16), false),
        ("wg64-npi64", Some(64), Some(64), false),
        ("wg256-npi4", Some(256), Some(4), false),
        ("wg256-npi16", Some(256), Some(16), false),
        ("wg256-npi64", Some(256), Some(64), false),
    ];
    let mut group = c.benchmark_group("gpu_sha256d");
    group.throughput(Throughput::Elements(nonces));
    group.sample_size(10);
    for (label, workgroup_size, nonces_per_invocation, trusted_shader) in configs {
        let options = GpuOptions {
            workgroup_size,
            nonces_per_invocation,
            trusted_shader,
            ..GpuOptions::default()
        };
        let engine = match GpuEngine::open(&options) {
            Ok(engine) => engine,
            Err(e @ GpuError::NoAdapter { .. }) => {
                eprintln!("skipped: no GPU adapter ({e})");
                return;
            }
            Err(e) => {
                eprintln!("skipped {label}: {e}");
                continue;
            }
        };
        let adapter = engine.adapter_info().name.clone();
        // One warm-up search adapts the batch size before timing.
        if let Err(e) = engine.search(&job, &CancelToken::new()) {
            eprintln!("skipped {label}: {e}");
            continue;
        }
        group.bench_function(BenchmarkId::new(format!("gpu {adapter}"), label), |b| {
            b.iter(|| black_box(engine.search(black_box(&job), &CancelToken::new())))
        });
    }
    group.finish();
}

/// Time from `cancel()` to `search` returning on a full-range job, 150 ms into
/// the search (the batch size has adapted by then): how fast the GPU is handed back.
fn cancel_latency(c: &mut Criterion) {
    let engine = match GpuEngine::open(&GpuOptions::default()) {
        Ok(engine) => engine,
        Err(e) => {
            eprintln!("skipped: no GPU adapter ({e})");
            return;
        }
    };
    let job = Job::full_range(synthetic_header(), unreachable_target());
    let mut group = c.benchmark_group("gpu_cancel");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.warm_up_time(Duration::from_millis(500));
    group.bench_function(
        BenchmarkId::new(
            format!("gpu {}", engine.adapter_info().name),
            "cancel_latency",
        ),
        |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let token = CancelToken::new();
                    std::thread::scope(|s| {
                        let search = s.spawn(|| engine.search(&job, &token));
                        std::thread::sleep(Duration::from_millis(150));
                        let cancelled = Instant::now();
                        token.cancel();
                        let outcome = search.join();
                        total += cancelled.elapsed();
                        if !matches!(outcome, Ok(Ok(ref o)) if o.stats.cancelled) {
                            eprintln!("search did not stop by cancellation: {outcome:?}");
                        }
                    });
                }
                total
            })
        },
    );
    group.finish();
}

criterion_group!(benches, gpu, cancel_latency);
criterion_main!(benches);
