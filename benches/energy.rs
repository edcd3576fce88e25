//! Energy per batch of nonces, measured with RAPL through a custom criterion
//! [`Measurement`]: values are joules, throughput is hashes per joule.
//!
//! Each iteration is one CPU-engine search of `BATCH` nonces on every core.
//! RAPL counts whole CPU packages and updates about once a millisecond, so an
//! iteration must be much longer than that, and other processes' energy is
//! counted too: run on a quiet machine. Where RAPL cannot be read (no
//! powercap, a VM, or not root) the bench says why and measures nothing;
//! modeled or mock energy would only be wall time times a constant.
//! `hashwatt bench` remains the reference for hashes per joule.

use std::hint::black_box;
use std::path::Path;

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use hashwatt::bench::{synthetic_header, unreachable_target};
use hashwatt::energy::RaplMeter;
use hashwatt::energy::rapl::POWERCAP_ROOT;
use hashwatt::search::{CancelToken, CpuEngine, Engine, Job};
use hashwatt::sha256::CpuKernel;

/// Nonces per iteration: long enough (tens of milliseconds) for RAPL's ~1 ms updates.
const BATCH: u64 = 1 << 18;

/// Package energy between `start` and `end`, joules.
struct RaplEnergy {
    meter: RaplMeter,
}

impl Measurement for RaplEnergy {
    type Intermediate = Vec<u64>;
    type Value = f64;

    fn start(&self) -> Vec<u64> {
        self.meter
            .read_counters()
            .unwrap_or_else(|e| panic!("RAPL stopped being readable: {e}"))
    }

    fn end(&self, before: Vec<u64>) -> f64 {
        let after = self.start();
        self.meter.energy_between(&before, &after).0
    }

    fn add(&self, a: &f64, b: &f64) -> f64 {
        a + b
    }

    fn zero(&self) -> f64 {
        0.0
    }

    fn to_f64(&self, value: &f64) -> f64 {
        *value
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        &JoulesFormatter
    }
}

struct JoulesFormatter;

/// A divisor and SI prefix for `typical`.
fn prefix(typical: f64) -> (f64, usize) {
    const STEPS: [f64; 5] = [1e-6, 1e-3, 1.0, 1e3, 1e6];
    let i = STEPS.iter().rposition(|&s| typical.abs() >= s).unwrap_or(0);
    (STEPS[i], i)
}

impl ValueFormatter for JoulesFormatter {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (div, i) = prefix(typical);
        values.iter_mut().for_each(|v| *v /= div);
        ["µJ", "mJ", "J", "kJ", "MJ"][i]
    }

    fn scale_throughputs(
        &self,
        typical: f64,
        throughput: &Throughput,
        values: &mut [f64],
    ) -> &'static str {
        let per_iteration = match throughput {
            Throughput::Elements(n) | Throughput::ElementsAndBytes { elements: n, .. } => *n,
            Throughput::Bytes(n) | Throughput::BytesDecimal(n) => *n,
            Throughput::Bits(n) => *n,
        } as f64;
        let typical_rate = if typical > 0.0 {
            per_iteration / typical
        } else {
            0.0
        };
        let (div, i) = prefix(typical_rate);
        values.iter_mut().for_each(|v| {
            *v = if *v > 0.0 {
                per_iteration / *v / div
            } else {
                0.0
            }
        });
        ["µH/J", "mH/J", "H/J", "kH/J", "MH/J"][i]
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "J"
    }
}

fn energy(c: &mut Criterion<RaplEnergy>) {
    let job = Job::new(synthetic_header(), 0, BATCH, unreachable_target())
        .unwrap_or_else(|e| panic!("bench job: {e}"));
    let mut group = c.benchmark_group("energy");
    group
        .throughput(Throughput::Elements(BATCH))
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10);
    for kernel in CpuKernel::available() {
        let engine = CpuEngine::new(kernel, None).unwrap_or_else(|e| panic!("{kernel}: {e}"));
        let cancel = CancelToken::new();
        group.bench_function(BenchmarkId::new(kernel.name(), BATCH), |b| {
            b.iter(|| {
                engine
                    .search(black_box(&job), &cancel)
                    .map(|o| o.stats.hashes)
                    .unwrap_or(0)
            })
        });
    }
    group.finish();
}

fn main() {
    // `HASHWATT_RAPL_ROOT` points the meter at another powercap tree (a test double).
    let root = std::env::var_os("HASHWATT_RAPL_ROOT")
        .map_or_else(|| Path::new(POWERCAP_ROOT).to_path_buf(), Into::into);
    match RaplMeter::open(&root) {
        Ok(meter) => {
            let mut c = Criterion::default()
                .with_measurement(RaplEnergy { meter })
                .configure_from_args();
            energy(&mut c);
            c.final_summary();
        }
        Err(e) => eprintln!("energy bench skipped: {e}"),
    }
}
