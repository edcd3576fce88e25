//! The GPU tuning flags shared by `search` and `bench`.

use std::time::Duration;

use hashwatt::backend::{BackendChoice, EngineOptions};

/// `--gpu-batch-ms`, `--workgroup-size`, `--nonces-per-invocation`, `--trusted-shader`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct GpuFlags {
    /// GPU time per batch in milliseconds, 0.1 to 10000; cancellation is seen
    /// between batches, so a cancel hands the GPU back after about one batch
    /// on average and 1.5 at worst [default: 4].
    #[arg(long, value_name = "MS", allow_negative_numbers = true)]
    gpu_batch_ms: Option<f64>,
    /// GPU invocations per workgroup, up to the adapter's limit [default: 256].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=65536))]
    workgroup_size: Option<u32>,
    /// Nonces each GPU invocation hashes, 1 to 256 [default: 4 on hardware, 16 on software adapters].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=256))]
    nonces_per_invocation: Option<u32>,
    /// Compile the GPU kernel without wgpu's runtime bounds and loop checks
    /// (the kernel bounds its one dynamic store itself).
    #[arg(long)]
    trusted_shader: bool,
}

impl GpuFlags {
    /// Whether any GPU flag was given.
    pub fn any(&self) -> bool {
        !self.given().is_empty()
    }

    /// The flags given, by name.
    fn given(&self) -> Vec<&'static str> {
        [
            ("--gpu-batch-ms", self.gpu_batch_ms.is_some()),
            ("--workgroup-size", self.workgroup_size.is_some()),
            (
                "--nonces-per-invocation",
                self.nonces_per_invocation.is_some(),
            ),
            ("--trusted-shader", self.trusted_shader),
        ]
        .into_iter()
        .filter_map(|(name, given)| given.then_some(name))
        .collect()
    }

    /// Copies the flags into `options`.
    ///
    /// # Errors
    /// A batch time outside 0.1 ..= 10000 ms.
    pub fn apply(&self, options: &mut EngineOptions) -> anyhow::Result<()> {
        if let Some(ms) = self.gpu_batch_ms {
            if !(ms.is_finite() && (0.1..=10_000.0).contains(&ms)) {
                anyhow::bail!("invalid --gpu-batch-ms {ms}: expected milliseconds in [0.1, 10000]");
            }
            options.batch_time = Some(Duration::from_secs_f64(ms / 1e3));
        }
        options.workgroup_size = self.workgroup_size;
        options.nonces_per_invocation = self.nonces_per_invocation;
        options.trusted_shader = self.trusted_shader;
        Ok(())
    }

    /// Refuses GPU flags for a CPU backend, so none is silently dropped.
    ///
    /// # Errors
    /// The first GPU flag given with `--backend cpu` or a kernel name.
    pub fn check(&self, choice: BackendChoice) -> anyhow::Result<()> {
        if matches!(choice, BackendChoice::Cpu | BackendChoice::Kernel(_))
            && let Some(flag) = self.given().first()
        {
            anyhow::bail!("{flag} applies to the GPU backend, not to --backend {choice}");
        }
        Ok(())
    }
}
