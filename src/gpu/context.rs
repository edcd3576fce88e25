//! The long-lived GPU context: pipeline, bind groups and buffers, built once.
//!
//! Shaped like wgpu's `repeated_compute` example: everything is created in
//! [`GpuContext::new`] and every batch only writes a 160-byte uniform, records
//! one clear, one dispatch and one copy, and maps a readback buffer. There are
//! two `Slot`s (uniform, hit buffer, readback buffer, bind group) so batch
//! N + 1 can be queued while batch N's results are read. Both bind the one
//! [`StopFlag`].

use std::sync::mpsc;

use super::adapter::Tuning;
use super::stop::StopFlag;
use super::{ENTRY_POINT, GpuError, SHADER};
use crate::sha256::{Folded, NoncePrecomp};

/// The kernel's uniform: the job's [`Folded`] constants plus the batch.
///
/// Mirrors `struct Params` in `shaders/sha256d.wgsl`, whose members carry
/// [`Folded`]'s field names (checked by `tests/gpu_shader.rs`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct GpuParams {
    /// The per-job folded constants, shared with the CPU lane kernels.
    pub folded: Folded,
    /// First nonce of the batch.
    pub base: u32,
    /// Nonces in the batch.
    pub count: u32,
    /// Padding to a multiple of 16 bytes.
    pub pad: [u32; 2],
}

impl GpuParams {
    /// The uniform for `pre`, with an empty batch.
    pub fn new(pre: &NoncePrecomp) -> Self {
        GpuParams {
            folded: Folded::new(pre),
            base: 0,
            count: 0,
            pad: [0; 2],
        }
    }
}

/// One set of per-batch resources.
#[derive(Debug)]
struct Slot {
    params: wgpu::Buffer,
    hits: wgpu::Buffer,
    readback: wgpu::Buffer,
    bind_group: wgpu::BindGroup,
}

/// A batch submitted to the GPU whose results are not read yet.
#[derive(Debug)]
pub(crate) struct Pending {
    slot: usize,
    submission: wgpu::SubmissionIndex,
    mapped: mpsc::Receiver<Result<(), wgpu::BufferAsyncError>>,
}

/// What one batch found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Readback {
    /// Candidates the kernel counted (may exceed the capacity).
    pub count: u32,
    /// Chunks of the batch claimed (by workgroups or invocations, see
    /// [`Tuning::nonces_per_claim`]): all of them, unless the stop flag was
    /// seen during the batch.
    pub claimed: u32,
    /// The stored candidates: `min(count, capacity)` nonces, in no particular order.
    pub nonces: Vec<u32>,
}

impl Readback {
    /// Whether more candidates arrived than the buffer holds.
    pub(crate) fn overflowed(&self) -> bool {
        self.count as usize > self.nonces.len()
    }
}

/// Device, queue, pipeline and two slots of buffers for one adapter.
#[derive(Debug)]
pub(crate) struct GpuContext {
    device: wgpu::Device,
    queue: wgpu::Queue,
    pipeline: wgpu::ComputePipeline,
    slots: [Slot; 2],
    stop: StopFlag,
    tuning: Tuning,
    max_groups_per_dim: u32,
}

/// Words before the nonces in the hit buffer: the candidate count and the
/// claimed-chunk count (`struct Hits` in the kernel).
const HEADER_WORDS: usize = 2;

/// Number of batch slots (double buffering).
pub(crate) const SLOTS: usize = 2;

/// Largest batch, in nonces: keeps `invocation * NONCES_PER_INVOCATION` in the
/// kernel far from `u32` overflow.
pub(crate) const MAX_BATCH: u64 = 1 << 30;

/// A 2-D grid `(x, y)` of at least `groups` workgroups with `x <= max` and
/// fewer than `y` extra workgroups (which return at once in the kernel).
pub(crate) fn grid(groups: u64, max: u32) -> (u32, u32) {
    let max = u64::from(max.max(1));
    let y = groups.max(1).div_ceil(max);
    let x = groups.max(1).div_ceil(y);
    (x as u32, y as u32)
}

/// Pushes validation, out-of-memory and internal error scopes; pops them in
/// reverse and returns the first error.
fn scoped<T>(
    device: &wgpu::Device,
    during: &'static str,
    f: impl FnOnce() -> T,
) -> Result<T, GpuError> {
    let internal = device.push_error_scope(wgpu::ErrorFilter::Internal);
    let oom = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
    let validation = device.push_error_scope(wgpu::ErrorFilter::Validation);
    let value = f();
    let errors = [
        pollster::block_on(validation.pop()),
        pollster::block_on(oom.pop()),
        pollster::block_on(internal.pop()),
    ];
    match errors.into_iter().flatten().next() {
        Some(e) => Err(GpuError::Validation {
            during,
            reason: e.to_string(),
        }),
        None => Ok(value),
    }
}

impl GpuContext {
    /// Builds the pipeline and buffers on `device` (the seam tests use to inject an adapter).
    ///
    /// `trusted`: compile the shader without wgpu's runtime checks (see
    /// [`super::GpuOptions::trusted_shader`]).
    ///
    /// # Errors
    /// [`GpuError::Validation`] when wgpu rejects the shader, pipeline or buffers.
    pub(crate) fn new(
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        tuning: Tuning,
        hit_capacity: u32,
        trusted: bool,
    ) -> Result<GpuContext, GpuError> {
        let tuning = tuning.clamped(&device.limits());
        // The candidate counter, the claimed-chunk counter, then the nonces.
        let hit_bytes = 4 * (HEADER_WORDS as u64 + u64::from(hit_capacity));
        scoped(device, "building the pipeline and buffers", || {
            let desc = wgpu::ShaderModuleDescriptor {
                label: Some("hashwatt sha256d"),
                source: wgpu::ShaderSource::Wgsl(SHADER.into()),
            };
            let module = if trusted {
                // SAFETY: the kernel indexes one runtime-sized array, `hits.nonces[slot]`,
                // only after checking `slot < arrayLength(&hits.nonces)`; every other
                // access is a struct field or the workgroup variable. Its one loop
                // runs NONCES_PER_INVOCATION times (a positive constant set below), so
                // it terminates. It uses no ray queries. These are the properties the
                // disabled runtime checks would otherwise enforce.
                unsafe {
                    device
                        .create_shader_module_trusted(desc, wgpu::ShaderRuntimeChecks::unchecked())
                }
            } else {
                device.create_shader_module(desc)
            };
            let constants = [
                ("WORKGROUP_SIZE", f64::from(tuning.workgroup_size)),
                (
                    "NONCES_PER_INVOCATION",
                    f64::from(tuning.nonces_per_invocation),
                ),
                (
                    "CLAIM_BY_WORKGROUP",
                    f64::from(u8::from(tuning.claim_by_workgroup)),
                ),
            ];
            let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some("hashwatt sha256d"),
                layout: None,
                module: &module,
                entry_point: Some(ENTRY_POINT),
                compilation_options: wgpu::PipelineCompilationOptions {
                    constants: &constants,
                    zero_initialize_workgroup_memory: false,
                },
                cache: None,
            });
            let layout = pipeline.get_bind_group_layout(0);
            let stop = StopFlag::new(device);
            let slot = |i: usize| {
                let params = device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some(&format!("hashwatt params {i}")),
                    size: size_of::<GpuParams>() as u64,
                    usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                });
                let hits = device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some(&format!("hashwatt hits {i}")),
                    size: hit_bytes,
                    usage: wgpu::BufferUsages::STORAGE
                        | wgpu::BufferUsages::COPY_SRC
                        | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                });
                let readback = device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some(&format!("hashwatt readback {i}")),
                    size: hit_bytes,
                    usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                });
                let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: Some(&format!("hashwatt bind group {i}")),
                    layout: &layout,
                    entries: &[
                        wgpu::BindGroupEntry {
                            binding: 0,
                            resource: params.as_entire_binding(),
                        },
                        wgpu::BindGroupEntry {
                            binding: 1,
                            resource: hits.as_entire_binding(),
                        },
                        wgpu::BindGroupEntry {
                            binding: 2,
                            resource: stop.buffer().as_entire_binding(),
                        },
                    ],
                });
                Slot {
                    params,
                    hits,
                    readback,
                    bind_group,
                }
            };
            GpuContext {
                device: device.clone(),
                queue: queue.clone(),
                pipeline,
                slots: [slot(0), slot(1)],
                stop,
                tuning,
                max_groups_per_dim: device.limits().max_compute_workgroups_per_dimension.max(1),
            }
        })
    }

    /// The device the context runs on (for its allocator report).
    pub(crate) fn device(&self) -> &wgpu::Device {
        &self.device
    }

    /// The tuning the pipeline was built with (after clamping to the device's limits).
    pub(crate) fn tuning(&self) -> Tuning {
        self.tuning
    }

    /// The in-dispatch stop flag (see [`super::stop`]).
    pub(crate) fn stop(&self) -> &StopFlag {
        &self.stop
    }

    /// Workgroup grid for `count` nonces (see [`grid`]).
    pub(crate) fn grid(&self, count: u32) -> (u32, u32) {
        let groups = u64::from(count)
            .div_ceil(self.tuning.nonces_per_workgroup())
            .max(1);
        grid(groups, self.max_groups_per_dim)
    }

    /// Queues one batch in `slot`: clear the hit counter, search
    /// `params.base .. params.base + params.count`, copy the hits to the
    /// readback buffer and ask for it to be mapped once the GPU is done.
    ///
    /// # Errors
    /// [`GpuError::Validation`] if wgpu rejects the commands.
    pub(crate) fn submit(&self, slot: usize, params: &GpuParams) -> Result<Pending, GpuError> {
        debug_assert!(u64::from(params.count) <= MAX_BATCH && params.count > 0);
        let s = &self.slots[slot % SLOTS];
        let (x, y) = self.grid(params.count);
        let (tx, rx) = mpsc::channel();
        let submission = scoped(&self.device, "submitting a batch", || {
            self.queue
                .write_buffer(&s.params, 0, bytemuck::bytes_of(params));
            let mut encoder = self
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("hashwatt batch"),
                });
            encoder.clear_buffer(&s.hits, 0, Some(4 * HEADER_WORDS as u64));
            {
                let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some("hashwatt sha256d"),
                    timestamp_writes: None,
                });
                pass.set_pipeline(&self.pipeline);
                pass.set_bind_group(0, &s.bind_group, &[]);
                pass.dispatch_workgroups(x, y, 1);
            }
            encoder.copy_buffer_to_buffer(&s.hits, 0, &s.readback, 0, s.hits.size());
            let submission = self.queue.submit([encoder.finish()]);
            s.readback.map_async(wgpu::MapMode::Read, .., move |r| {
                // The receiver is gone only if the search already failed.
                let _ = tx.send(r);
            });
            submission
        })?;
        Ok(Pending {
            slot: slot % SLOTS,
            submission,
            mapped: rx,
        })
    }

    /// Waits up to `timeout` for a batch to finish: `true` if it did.
    ///
    /// # Errors
    /// [`GpuError::Poll`] if waiting fails for another reason than the timeout.
    pub(crate) fn wait(
        &self,
        pending: &Pending,
        timeout: std::time::Duration,
    ) -> Result<bool, GpuError> {
        match self.device.poll(wgpu::PollType::Wait {
            submission_index: Some(pending.submission.clone()),
            timeout: Some(timeout),
        }) {
            Ok(_) => Ok(true),
            Err(wgpu::PollError::Timeout) => Ok(false),
            Err(e) => Err(GpuError::Poll {
                reason: e.to_string(),
            }),
        }
    }

    /// Waits for a batch and reads its candidates.
    ///
    /// # Errors
    /// [`GpuError::Poll`] if waiting fails (device lost), [`GpuError::Map`] if
    /// the readback cannot be mapped or read.
    pub(crate) fn collect(&self, pending: Pending) -> Result<Readback, GpuError> {
        let s = &self.slots[pending.slot];
        // The map callback runs inside the poll that sees the submission done;
        // a few extra polls cover backends that deliver it one poll later.
        let mut polls = 0;
        let mapped = loop {
            polls += 1;
            self.device
                .poll(wgpu::PollType::Wait {
                    submission_index: Some(pending.submission.clone()),
                    timeout: None,
                })
                .map_err(|e| GpuError::Poll {
                    reason: e.to_string(),
                })?;
            match pending.mapped.try_recv() {
                Ok(r) => break r,
                Err(mpsc::TryRecvError::Empty) if polls < 100 => continue,
                Err(mpsc::TryRecvError::Empty) => {
                    return Err(GpuError::Map {
                        reason: "the readback buffer was not mapped after its batch finished"
                            .into(),
                    });
                }
                Err(mpsc::TryRecvError::Disconnected) => {
                    return Err(GpuError::Map {
                        reason: "the map callback was dropped".into(),
                    });
                }
            }
        };
        mapped.map_err(|e| GpuError::Map {
            reason: e.to_string(),
        })?;
        let result = s
            .readback
            .get_mapped_range(..)
            .map_err(|e| GpuError::Map {
                reason: e.to_string(),
            })
            .and_then(|view| {
                let words: &[u32] = bytemuck::try_cast_slice(&view).map_err(|e| GpuError::Map {
                    reason: format!("readback buffer is not a u32 array: {e}"),
                })?;
                let Some(([count, claimed], stored)) = words.split_first_chunk() else {
                    return Err(GpuError::Map {
                        reason: "readback buffer shorter than its counters".into(),
                    });
                };
                let n = (*count as usize).min(stored.len());
                Ok(Readback {
                    count: *count,
                    claimed: *claimed,
                    nonces: stored[..n].to_vec(),
                })
            });
        s.readback.unmap();
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sha256::{K, scalar};

    #[test]
    fn grid_covers_the_groups_tightly() {
        for groups in [1, 2, 65_535, 65_536, 156_250, 1 << 20, (1 << 30) / 64] {
            let (x, y) = grid(groups, 65_535);
            let total = u64::from(x) * u64::from(y);
            assert!(x <= 65_535 && total >= groups, "{groups}: {x} x {y}");
            assert!(total - groups < u64::from(y), "{groups}: {x} x {y}");
        }
        assert_eq!(grid(0, 65_535), (1, 1));
    }

    #[test]
    fn params_match_the_full_message_schedule() {
        // Any header will do: the schedule below is derived from its bytes.
        let bytes: [u8; 80] = std::array::from_fn(|i| (i as u8).wrapping_mul(37) ^ 0x5a);
        let pre = NoncePrecomp::new(&bytes, 0);
        let p = GpuParams::new(&pre);
        assert_eq!(size_of::<GpuParams>() % 16, 0);
        // The second block's full schedule, straight from FIPS 180-4.
        let mut w = [0u32; 64];
        for (t, c) in bytes[64..].chunks_exact(4).enumerate() {
            w[t] = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
        }
        w[4..16].copy_from_slice(&crate::sha256::BLOCK2_PAD);
        for t in 16..64 {
            w[t] = scalar::sigma1(w[t - 2])
                .wrapping_add(w[t - 7])
                .wrapping_add(scalar::sigma0(w[t - 15]))
                .wrapping_add(w[t - 16]);
        }
        let part = |t: usize| scalar::sigma1(w[t - 2]).wrapping_add(w[t - 7]);
        let p = p.folded;
        assert_eq!(part(31).wrapping_add(p.w31_base), w[31]);
        assert_eq!(part(32).wrapping_add(p.w32_base), w[32]);
        assert_eq!(p.kw16, K[16].wrapping_add(w[16]));
        assert_eq!(p.kw17, K[17].wrapping_add(w[17]));
    }
}
