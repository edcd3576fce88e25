//! Single-thread speed of each CPU kernel this machine has, per batch size.
//!
//! `cargo bench --bench cpu_backends`; a kernel the CPU lacks is reported
//! as skipped. The job's target is 0, so (almost) no nonce is a candidate
//! and the figure is pure hashing speed.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hashwatt::bench::synthetic_header;
use hashwatt::sha256::{CpuKernel, CpuKernelKind, NoncePrecomp};

fn kernels(c: &mut Criterion) {
    let pre = NoncePrecomp::new(&synthetic_header().to_bytes(), 0);
    let mut group = c.benchmark_group("cpu_kernel");
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20);
    for &kind in CpuKernelKind::ALL {
        let Some(kernel) = CpuKernel::new(kind) else {
            eprintln!("skipped {kind}: CPU lacks {}", kind.required_features());
            continue;
        };
        for batch in [256u32, 16_384] {
            group.throughput(Throughput::Elements(u64::from(batch)));
            group.bench_with_input(BenchmarkId::new(kind.name(), batch), &batch, |b, &batch| {
                let mut out = Vec::new();
                let mut start = 0u32;
                b.iter(|| {
                    out.clear();
                    kernel.scan(black_box(&pre), start, batch, &mut out);
                    start = start.wrapping_add(batch);
                    black_box(out.len())
                });
            });
        }
    }
    group.finish();
}

criterion_group!(benches, kernels);
criterion_main!(benches);
