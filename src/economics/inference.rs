//! AI-inference value of a GPU-hour: market rental, or served tokens from a
//! roofline model of LLM decoding.
//!
//! # The roofline
//!
//! Serving many requests at once, each decode step produces one token for
//! every sequence in the batch `B`. One step must
//!
//! * read every weight once and each sequence's KV cache:
//!   `bytes = params × bytes_per_param + B × kv_bytes_per_token × context`,
//!   where `context` is the average tokens in cache during decode
//!   (`ISL + OSL/2`), and
//! * do `FLOPs = B × (2 × params + 4 × layers × heads × head_dim × context)`
//!   (weights' multiply-adds plus attention scores and values).
//!
//! The step takes `max(bytes / (bandwidth × η_bw), FLOPs / (peak × η_c))`,
//! so decode throughput is `B / step` = the *minimum* of the memory-bound and
//! compute-bound rates. Prefilling the prompt is compute-bound and adds
//! `ISL/OSL × (2 × params + 2 × layers × heads × head_dim × ISL)` FLOPs per
//! output token. The batch is the largest that fits: KV cache gets
//! [`KV_MEMORY_FRACTION`] of the memory left after weights, each sequence
//! reserving `ISL + OSL` tokens, capped at [`MAX_BATCH`]. Tensor parallelism
//! over `n` GPUs multiplies memory, bandwidth and FLOPS by `n` (the
//! interconnect cost is ignored).
//!
//! # Calibration (read this before trusting a number)
//!
//! Real servers reach neither peak bandwidth nor peak FLOPS. The two
//! efficiency factors are round numbers fitted by hand to the two 1000/1000
//! Llama-3.1-8B rows (H100 and H200) and then left alone:
//!
//! * [`BANDWIDTH_EFFICIENCY`] = 0.70: decode kernels stream HBM at well under
//!   the datasheet rate (attention over scattered KV pages, small GEMMs,
//!   kernel launch and scheduler gaps between steps);
//! * [`COMPUTE_EFFICIENCY`] = 0.40: FP8 GEMMs at decode shapes, attention,
//!   sampling and the non-GEMM work keep achieved FLOPS far below the dense
//!   peak, and prefill and decode share the GPU.
//!
//! Against NVIDIA's published TensorRT-LLM offline throughput (FP8, total
//! output tokens/s; docs/sources.md §5, `perf-overview.md`, 2025, **P**):
//!
//! | GPU (TP) | model | ISL/OSL | published | model | error |
//! |---|---|---|---:|---:|---:|
//! | H100 SXM | Llama-3.1-8B | 1000/1000 | 15,220 | 14,394 | −5.4 % |
//! | H200 | Llama-3.1-8B | 1000/1000 | 17,744 | 19,050 | +7.4 % |
//! | H200 | Llama-3.3-70B | 1000/1000 | 2,909 | 2,754 | −5.3 % |
//! | 2 × H100 SXM | Llama-3.3-70B | 1000/1000 | 4,205 | 4,908 | +16.7 % |
//! | H100 SXM | Llama-3.1-8B | 500/2000 | 17,660 | 17,952 | +1.7 % |
//! | H100 SXM | Llama-3.1-8B | 2048/2048 | 9,305 | 8,263 | −11.2 % |
//! | H200 | Llama-3.1-8B | 128/2048 | 26,221 | 37,610 | +43.4 % |
//! | H100 SXM | Llama-3.1-8B | 2048/128 | 3,450 | 2,487 | −27.9 % |
//!
//! The full 24-row table is in `docs/economics.md` and is checked by the
//! tests: every 1000/1000 row within ±25 %, every row within ±50 %. The model
//! is worst on short prompts with long outputs (it lets the batch grow into
//! memory a real scheduler does not fill) and on prefill-heavy 2048/128.
//! Use it for orders of magnitude in the mine-or-infer decision, which
//! differ by 100× or more, not for capacity planning.

use super::error::{self, EconError, Result};
use super::inputs::key;
use super::presets::{GpuPreset, ModelPreset};
use super::units::{Percent, TokensPerSecond, UsdPerHour, UsdPerMtok};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Achieved fraction of peak memory bandwidth in decode (calibrated, see the
/// module docs; fitted to TensorRT-LLM's 1000/1000 Llama-3.1-8B rows on
/// H100/H200, docs/sources.md §5).
pub const BANDWIDTH_EFFICIENCY: f64 = 0.70;

/// Achieved fraction of dense peak tensor FLOPS (calibrated together with
/// [`BANDWIDTH_EFFICIENCY`]).
pub const COMPUTE_EFFICIENCY: f64 = 0.40;

/// Fraction of the memory left after weights that holds KV cache: 0.9 is
/// TensorRT-LLM's default `KvCacheConfig.free_gpu_memory_fraction`
/// (nvidia.github.io/TensorRT-LLM `llm-api/reference/KvCacheConfig`, read
/// Nov 2026, **P**).
pub const KV_MEMORY_FRACTION: f64 = 0.9;

/// Largest batch the model will form: 2,048, TensorRT-LLM's default
/// `max_batch_size` in its build/LLM-API configuration. Not in
/// docs/sources.md and not re-verified for the exact version behind the
/// published table; it matters only for short sequences (128/128), where
/// memory alone would allow ~3,800 sequences on an H100.
pub const MAX_BATCH: u32 = 2048;

/// Numeric precision of weights (and by default of the KV cache).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// 16-bit weights, KV cache and math (BF16/FP16).
    Fp16,
    /// FP8 weights, KV cache and math (needs FP8 tensor cores).
    Fp8,
    /// 4-bit weight-only quantization (W4A16): half a byte per weight, math
    /// and KV cache at 16 bits.
    Int4,
}

impl Precision {
    /// Bytes per weight.
    pub fn bytes_per_param(self) -> f64 {
        match self {
            Precision::Fp16 => 2.0,
            Precision::Fp8 => 1.0,
            Precision::Int4 => 0.5,
        }
    }

    /// Default bytes per KV-cache element.
    pub fn kv_bytes_per_element(self) -> f64 {
        match self {
            Precision::Fp16 | Precision::Int4 => 2.0,
            Precision::Fp8 => 1.0,
        }
    }

    /// Dense peak TFLOPS of `gpu` for this precision's math.
    ///
    /// # Errors
    /// [`EconError::UnsupportedPrecision`] for FP8 on a GPU without FP8.
    pub fn peak_tflops(self, gpu: &GpuPreset) -> Result<f64> {
        match self {
            Precision::Fp16 | Precision::Int4 => Ok(gpu.fp16_tflops),
            Precision::Fp8 => gpu
                .fp8_tflops
                .ok_or_else(|| EconError::UnsupportedPrecision {
                    precision: self.to_string(),
                    gpu: gpu.name.to_owned(),
                }),
        }
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Precision::Fp16 => "fp16",
            Precision::Fp8 => "fp8",
            Precision::Int4 => "int4",
        })
    }
}

impl std::str::FromStr for Precision {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "fp16" | "bf16" => Ok(Precision::Fp16),
            "fp8" => Ok(Precision::Fp8),
            "int4" | "w4a16" => Ok(Precision::Int4),
            _ => Err(format!("unknown precision `{s}` (known: fp16, fp8, int4)")),
        }
    }
}

/// Inputs of the roofline model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RooflineInputs {
    /// GPU spec sheet.
    #[serde(serialize_with = "ser_gpu")]
    pub gpu: GpuPreset,
    /// Model shape.
    #[serde(serialize_with = "ser_model")]
    pub model: ModelPreset,
    /// Weight precision.
    pub precision: Precision,
    /// Bytes per KV-cache element (default from the precision).
    pub kv_bytes_per_element: f64,
    /// GPUs serving one model replica (tensor parallel).
    pub gpus_per_replica: u32,
    /// Input (prompt) tokens per request.
    pub input_tokens: u32,
    /// Output tokens per request.
    pub output_tokens: u32,
    /// Fixed batch size; `None` for the largest that fits.
    pub batch: Option<u32>,
    /// Achieved fraction of peak bandwidth.
    pub bandwidth_efficiency: f64,
    /// Achieved fraction of peak FLOPS.
    pub compute_efficiency: f64,
}

fn ser_gpu<S: serde::Serializer>(g: &GpuPreset, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(g.key)
}

fn ser_model<S: serde::Serializer>(m: &ModelPreset, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(m.key)
}

impl RooflineInputs {
    /// Inputs for `gpu` × `model` at `precision` with the calibrated
    /// efficiencies, 1000/1000 tokens, one GPU, automatic batch.
    pub fn new(gpu: GpuPreset, model: ModelPreset, precision: Precision) -> Self {
        RooflineInputs {
            gpu,
            model,
            precision,
            kv_bytes_per_element: precision.kv_bytes_per_element(),
            gpus_per_replica: 1,
            input_tokens: 1000,
            output_tokens: 1000,
            batch: None,
            bandwidth_efficiency: BANDWIDTH_EFFICIENCY,
            compute_efficiency: COMPUTE_EFFICIENCY,
        }
    }
}

/// Output of the roofline model (modeled, never measured).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Roofline {
    /// Output tokens per second for the whole replica.
    pub replica_tokens_per_second: TokensPerSecond,
    /// Output tokens per second per GPU (replica ÷ GPUs).
    pub tokens_per_second: TokensPerSecond,
    /// Batch size used.
    pub batch: u32,
    /// Largest batch that fits in memory.
    pub max_batch_in_memory: u32,
    /// Weight bytes.
    pub weight_bytes: f64,
    /// KV-cache bytes per token.
    pub kv_bytes_per_token: f64,
    /// Memory-bound time of one decode step, seconds.
    pub step_memory_seconds: f64,
    /// Compute-bound time of one decode step, seconds.
    pub step_compute_seconds: f64,
    /// Prefill time per output token, seconds.
    pub prefill_seconds_per_token: f64,
    /// `"memory"` or `"compute"`: which bound sets the decode step.
    pub decode_bound: &'static str,
}

/// Evaluates the roofline.
///
/// ```
/// use hashwatt::economics::inference::{roofline, Precision, RooflineInputs};
/// use hashwatt::economics::presets;
/// let gpu = *presets::gpu("h100-sxm")?;
/// let model = *presets::model("llama-3.1-8b")?;
/// let r = roofline(&RooflineInputs::new(gpu, model, Precision::Fp8))?;
/// // TensorRT-LLM publishes 15,220 tok/s for this case.
/// assert!((r.tokens_per_second.get() / 15_220.0 - 1.0).abs() < 0.25);
/// # Ok::<(), hashwatt::economics::EconError>(())
/// ```
///
/// # Errors
/// Invalid efficiencies or token counts, a precision the GPU lacks, or
/// weights that do not fit.
pub fn roofline(i: &RooflineInputs) -> Result<Roofline> {
    let bw_eff = error::positive(key!(inference.bandwidth_efficiency), i.bandwidth_efficiency)?;
    let c_eff = error::positive(key!(inference.compute_efficiency), i.compute_efficiency)?;
    if bw_eff > 1.0 || c_eff > 1.0 {
        return Err(EconError::InvalidInput {
            field: if bw_eff > 1.0 {
                key!(inference.bandwidth_efficiency).into()
            } else {
                key!(inference.compute_efficiency).into()
            },
            reason: "must be a fraction in (0, 1]",
            value: format!("{}", bw_eff.max(c_eff)),
        });
    }
    error::positive(key!(inference.kv_bytes_per_element), i.kv_bytes_per_element)?;
    error::positive(
        key!(inference.gpus_per_replica),
        f64::from(i.gpus_per_replica),
    )?;
    error::positive(key!(inference.output_tokens), f64::from(i.output_tokens))?;
    if let Some(b) = i.batch {
        error::positive(key!(inference.batch), f64::from(b))?;
    }
    let n = f64::from(i.gpus_per_replica);
    let peak = i.precision.peak_tflops(&i.gpu)? * 1e12 * n;
    let bandwidth = i.gpu.bandwidth_tb_s * 1e12 * n;
    let memory = i.gpu.memory_gb * 1e9 * n;

    let params = i.model.params();
    let weight_bytes = params * i.precision.bytes_per_param();
    let kv_per_token = i.model.kv_elements_per_token() * i.kv_bytes_per_element;
    let reserve = f64::from(i.input_tokens) + f64::from(i.output_tokens);
    let kv_room = (memory - weight_bytes) * KV_MEMORY_FRACTION;
    let max_fit = (kv_room / (kv_per_token * reserve)).floor();
    if weight_bytes < memory && max_fit < 1.0 {
        // The weights fit: the token count is the limit, so say that.
        return Err(EconError::ContextDoesNotFit {
            model: i.model.name.to_owned(),
            gpu: i.gpu.name.to_owned(),
            gpus: i.gpus_per_replica,
            tokens: u64::from(i.input_tokens) + u64::from(i.output_tokens),
            kv_gb: kv_per_token * reserve / 1e9,
            room_gb: kv_room / 1e9,
        });
    }
    if weight_bytes >= memory {
        return Err(EconError::ModelDoesNotFit {
            model: i.model.name.to_owned(),
            gpu: i.gpu.name.to_owned(),
            gpus: i.gpus_per_replica,
            weights_gb: weight_bytes / 1e9,
            memory_gb: i.gpu.memory_gb,
        });
    }
    let max_batch_in_memory = max_fit.min(f64::from(u32::MAX)) as u32;
    let batch = i.batch.unwrap_or(MAX_BATCH).min(max_batch_in_memory).max(1);
    let b = f64::from(batch);

    let context = f64::from(i.input_tokens) + f64::from(i.output_tokens) / 2.0;
    let attn_dim =
        f64::from(i.model.layers) * f64::from(i.model.heads) * f64::from(i.model.head_dim());
    let step_bytes = weight_bytes + b * kv_per_token * context;
    let step_flops = b * (2.0 * params + 4.0 * attn_dim * context);
    let t_mem = step_bytes / (bandwidth * bw_eff);
    let t_comp = step_flops / (peak * c_eff);
    let step = t_mem.max(t_comp);

    let isl = f64::from(i.input_tokens);
    let prefill_flops_per_request = isl * (2.0 * params + 2.0 * attn_dim * isl);
    let prefill_per_token = prefill_flops_per_request / f64::from(i.output_tokens) / (peak * c_eff);

    let replica = 1.0 / (step / b + prefill_per_token);
    Ok(Roofline {
        replica_tokens_per_second: TokensPerSecond(replica),
        tokens_per_second: TokensPerSecond(replica / n),
        batch,
        max_batch_in_memory,
        weight_bytes,
        kv_bytes_per_token: kv_per_token,
        step_memory_seconds: t_mem,
        step_compute_seconds: t_comp,
        prefill_seconds_per_token: prefill_per_token,
        decode_bound: if t_mem >= t_comp { "memory" } else { "compute" },
    })
}

/// One row of the model-vs-published comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublishedComparison {
    /// GPU preset key.
    pub gpu: &'static str,
    /// Model preset key.
    pub model: &'static str,
    /// GPUs (tensor parallel).
    pub gpus: u32,
    /// Input tokens.
    pub input_tokens: u32,
    /// Output tokens.
    pub output_tokens: u32,
    /// TensorRT-LLM's published total output tokens/s.
    pub published: f64,
    /// This model's replica tokens/s (`None` if it failed to evaluate).
    pub modeled: Option<f64>,
    /// `modeled / published − 1`.
    pub error: Option<f64>,
}

/// Evaluates the roofline (FP8, calibrated efficiencies) on every row of
/// [`presets::published::TRTLLM`](super::presets::published::TRTLLM).
pub fn published_comparison() -> Vec<PublishedComparison> {
    super::presets::published::TRTLLM
        .iter()
        .map(|&(g, m, gpus, isl, osl, published)| {
            let modeled = super::presets::gpu(g)
                .and_then(|gpu| Ok((*gpu, *super::presets::model(m)?)))
                .and_then(|(gpu, model)| {
                    let mut i = RooflineInputs::new(gpu, model, Precision::Fp8);
                    i.gpus_per_replica = gpus;
                    i.input_tokens = isl;
                    i.output_tokens = osl;
                    roofline(&i)
                })
                .ok()
                .map(|r| r.replica_tokens_per_second.get());
            PublishedComparison {
                gpu: g,
                model: m,
                gpus,
                input_tokens: isl,
                output_tokens: osl,
                published,
                modeled,
                error: modeled.map(|t| t / published - 1.0),
            }
        })
        .collect()
}

/// How the user values an inference GPU-hour.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "method", rename_all = "lowercase")]
// One value per scenario: boxing the larger variant would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum InferenceValue {
    /// Market rental: the GPU-hour is rented out at this price for
    /// `utilization` of the time.
    Rental {
        /// USD per GPU-hour when rented.
        usd_per_hour: UsdPerHour,
    },
    /// Served tokens: (output tokens/s × output price + input tokens/s ×
    /// input price) × utilization, with input tokens/s = output tokens/s ×
    /// ISL / OSL (every request brings its prompt).
    Tokens {
        /// Roofline inputs.
        roofline: RooflineInputs,
        /// Price per million output tokens.
        usd_per_mtok: UsdPerMtok,
        /// Price per million input (prompt) tokens.
        usd_per_mtok_input: UsdPerMtok,
    },
}

/// The value of an inference hour before power costs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InferenceEstimate {
    /// `"rental"` or `"tokens"`.
    pub method: &'static str,
    /// Modeled tokens/s per GPU (tokens method), 0 for rental.
    pub tokens_per_second: TokensPerSecond,
    /// Revenue per hour at the given utilization.
    pub usd_per_hour: UsdPerHour,
    /// Revenue per hour at full utilization.
    pub full_usd_per_hour: UsdPerHour,
    /// Roofline details (tokens method).
    pub roofline: Option<Roofline>,
    /// Input (prompt) tokens/s per GPU billed with the output (tokens method).
    pub input_tokens_per_second: TokensPerSecond,
    /// Part of [`Self::full_usd_per_hour`] billed for input tokens.
    pub input_usd_per_hour: UsdPerHour,
    /// What the same GPU rents for per hour (tokens method: the cited rental
    /// price of the GPU preset), to compare the token value with.
    pub rental_usd_per_hour: Option<f64>,
    /// Whether the tokens of a fully used GPU-hour are worth more than the
    /// GPU rents for: the market would then rent it out instead, so the
    /// token value is likely optimistic.
    pub tokens_exceed_rental: bool,
}

/// Values an inference hour.
///
/// # Errors
/// Invalid prices or utilization, or a roofline error.
pub fn estimate(value: &InferenceValue, utilization: Percent) -> Result<InferenceEstimate> {
    let u = error::percent(key!(inference.utilization_pct), utilization.get())? / 100.0;
    match value {
        InferenceValue::Rental { usd_per_hour } => {
            let r = error::non_negative(key!(inference.rental_usd_per_hour), usd_per_hour.get())?;
            Ok(InferenceEstimate {
                method: "rental",
                tokens_per_second: TokensPerSecond(0.0),
                full_usd_per_hour: UsdPerHour(r),
                usd_per_hour: UsdPerHour(r * u),
                roofline: None,
                input_tokens_per_second: TokensPerSecond(0.0),
                input_usd_per_hour: UsdPerHour(0.0),
                rental_usd_per_hour: Some(r),
                tokens_exceed_rental: false,
            })
        }
        InferenceValue::Tokens {
            roofline: inputs,
            usd_per_mtok,
            usd_per_mtok_input,
        } => {
            let p = error::non_negative(key!(inference.usd_per_mtok), usd_per_mtok.get())?;
            let p_in =
                error::non_negative(key!(inference.usd_per_mtok_input), usd_per_mtok_input.get())?;
            let r = roofline(inputs)?;
            let out_tps = r.tokens_per_second.get();
            let in_tps = if inputs.output_tokens > 0 {
                out_tps * f64::from(inputs.input_tokens) / f64::from(inputs.output_tokens)
            } else {
                0.0
            };
            let input = in_tps * 3600.0 * p_in / 1e6;
            let full = out_tps * 3600.0 * p / 1e6 + input;
            let rental = super::presets::rental(inputs.gpu.key).map(|x| x.usd_per_hour);
            Ok(InferenceEstimate {
                method: "tokens",
                tokens_per_second: r.tokens_per_second,
                full_usd_per_hour: UsdPerHour(full),
                usd_per_hour: UsdPerHour(full * u),
                roofline: Some(r),
                input_tokens_per_second: TokensPerSecond(in_tps),
                input_usd_per_hour: UsdPerHour(input),
                rental_usd_per_hour: rental,
                tokens_exceed_rental: rental.is_some_and(|x| full > x),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::economics::presets::{self, published::TRTLLM};

    fn modeled(gpu: &str, model: &str, tp: u32, isl: u32, osl: u32) -> f64 {
        let g = *presets::gpu(gpu).unwrap_or_else(|e| panic!("{e}"));
        let m = *presets::model(model).unwrap_or_else(|e| panic!("{e}"));
        let mut i = RooflineInputs::new(g, m, Precision::Fp8);
        i.gpus_per_replica = tp;
        i.input_tokens = isl;
        i.output_tokens = osl;
        roofline(&i)
            .unwrap_or_else(|e| panic!("{e}"))
            .replica_tokens_per_second
            .get()
    }

    #[test]
    fn h100_llama8b_fp8_within_25_percent_of_tensorrt_llm() {
        let t = modeled("h100-sxm", "llama-3.1-8b", 1, 1000, 1000);
        assert!((t / 15_220.0 - 1.0).abs() < 0.25, "{t}");
        // Pin the calibrated value so an accidental model change shows up.
        assert!((t - 14_394.0).abs() < 5.0, "{t}");
    }

    #[test]
    fn every_1000_1000_row_within_25_percent_and_all_rows_within_50() {
        for &(g, m, tp, isl, osl, published) in TRTLLM {
            let t = modeled(g, m, tp, isl, osl);
            let err = t / published - 1.0;
            let tol = if (isl, osl) == (1000, 1000) {
                0.25
            } else {
                0.50
            };
            assert!(
                err.abs() < tol,
                "{g} {m} TP{tp} {isl}/{osl}: {t:.0} vs {published} ({err:+.2})"
            );
        }
    }

    #[test]
    fn hand_computed_h100_step() {
        let g = *presets::gpu("h100-sxm").unwrap_or_else(|e| panic!("{e}"));
        let m = *presets::model("llama-3.1-8b").unwrap_or_else(|e| panic!("{e}"));
        let r =
            roofline(&RooflineInputs::new(g, m, Precision::Fp8)).unwrap_or_else(|e| panic!("{e}"));
        // KV room (80e9 − 8.03e9) × 0.9 = 64.77e9 B; per sequence 65,536 B × 2000.
        assert_eq!(r.max_batch_in_memory, 494);
        assert_eq!(r.kv_bytes_per_token, 65_536.0);
        assert_eq!(r.decode_bound, "memory");
        // Bytes: 8.03e9 + 494 × 65,536 × 1500 = 56.59e9 → ÷ (3.35e12 × 0.7) = 24.13 ms.
        assert!(
            (r.step_memory_seconds - 0.024_13).abs() < 5e-5,
            "{}",
            r.step_memory_seconds
        );
    }

    #[test]
    fn precision_and_fit_errors() {
        let a100 = *presets::gpu("a100-80gb").unwrap_or_else(|e| panic!("{e}"));
        let m70 = *presets::model("llama-3.1-70b").unwrap_or_else(|e| panic!("{e}"));
        let e = roofline(&RooflineInputs::new(a100, m70, Precision::Fp8)).unwrap_err();
        assert!(e.to_string().contains("fp8 is not supported"), "{e}");
        let e = roofline(&RooflineInputs::new(a100, m70, Precision::Fp16)).unwrap_err();
        assert!(e.to_string().contains("do not fit"), "{e}");
        // INT4 70B fits on one A100 80GB.
        assert!(roofline(&RooflineInputs::new(a100, m70, Precision::Int4)).is_ok());
        // Weights that fit with a context that does not: the message names the
        // token count, not the weights.
        let mut i = RooflineInputs::new(a100, m70, Precision::Int4);
        i.input_tokens = 4_000_000;
        let e = roofline(&i).unwrap_err();
        assert!(matches!(e, EconError::ContextDoesNotFit { .. }), "{e}");
        assert!(!e.to_string().contains("weights ("), "{e}");
        assert!(e.to_string().contains("= 4001000"), "{e}");
    }

    #[test]
    fn fixed_small_batch_is_memory_bound_and_slower() {
        let g = *presets::gpu("h100-sxm").unwrap_or_else(|e| panic!("{e}"));
        let m = *presets::model("llama-3.1-8b").unwrap_or_else(|e| panic!("{e}"));
        let mut i = RooflineInputs::new(g, m, Precision::Fp8);
        i.batch = Some(1);
        let r = roofline(&i).unwrap_or_else(|e| panic!("{e}"));
        // Batch 1: ~8.13e9 bytes per step at 2.345 TB/s ≈ 288 tok/s before prefill.
        assert!(r.tokens_per_second.get() > 200.0 && r.tokens_per_second.get() < 300.0);
    }

    #[test]
    fn value_methods() {
        let e = estimate(
            &InferenceValue::Rental {
                usd_per_hour: UsdPerHour(2.69),
            },
            Percent(50.0),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!((e.usd_per_hour.get() - 1.345).abs() < 1e-12);
        let g = *presets::gpu("h100-sxm").unwrap_or_else(|e| panic!("{e}"));
        let m = *presets::model("llama-3.1-8b").unwrap_or_else(|e| panic!("{e}"));
        let mut ri = RooflineInputs::new(g, m, Precision::Fp8);
        // 2048 prompt tokens per 128 generated: input billing dominates.
        ri.input_tokens = 2048;
        ri.output_tokens = 128;
        let v = InferenceValue::Tokens {
            roofline: ri,
            usd_per_mtok: UsdPerMtok(0.18),
            usd_per_mtok_input: UsdPerMtok(0.05),
        };
        let e = estimate(&v, Percent(100.0)).unwrap_or_else(|e| panic!("{e}"));
        let tps = e.tokens_per_second.get();
        assert_eq!(e.input_tokens_per_second.get(), tps * 16.0);
        let expect = tps * 3600.0 * 0.18 / 1e6 + tps * 16.0 * 3600.0 * 0.05 / 1e6;
        assert!((e.usd_per_hour.get() - expect).abs() < 1e-12);
        assert!((e.input_usd_per_hour.get() - tps * 16.0 * 3600.0 * 0.05 / 1e6).abs() < 1e-12);
        assert_eq!(e.rental_usd_per_hour, Some(2.69));
        assert_eq!(e.tokens_exceed_rental, expect > 2.69);
        assert!(
            estimate(&v, Percent(101.0))
                .unwrap_err()
                .to_string()
                .contains("utilization_pct")
        );
    }
}
