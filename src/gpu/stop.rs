//! The in-dispatch stop flag: one `u32` the kernel reads before each
//! workgroup claims its nonces, and the host sets when a search is cancelled,
//! so a dispatch that is already running (and the one queued behind it) ends
//! after the workgroups in progress instead of running to its end.
//!
//! wgpu has no buffer the host may write while the GPU uses it, so on Vulkan
//! the flag lives in memory this module allocates itself: host-visible and
//! host-coherent, mapped once for the buffer's lifetime, and handed to wgpu as
//! a storage buffer through its HAL interop. The host's store is a
//! sequentially consistent atomic (it drains write-combining buffers); the
//! kernel's read is an `atomicLoad`. Vulkan promises visibility of host writes
//! at the next submission only, so a write during a dispatch is seen as soon
//! as the device sees it, and a search never depends on that: the kernel
//! reports how many workgroups claimed work, and whatever was claimed was
//! searched in full.
//!
//! On every other backend (GL, Metal, DX12), or where no such memory exists,
//! the flag is an ordinary buffer that stays zero: a cancel then waits for the
//! batches in flight, as the batch time bounds it.

use std::sync::atomic::{AtomicU32, Ordering};

/// Bytes of the flag's buffer: one `u32`, padded to the smallest storage
/// binding offset alignment any adapter asks for.
const SIZE: u64 = 256;

/// The stop flag and its buffer (binding 2 of the kernel). A clone shares
/// both, and keeps the memory alive.
#[derive(Clone, Debug)]
pub(crate) struct StopFlag {
    buffer: wgpu::Buffer,
    /// The host's view of the flag while `buffer` lives; `None` when the flag
    /// cannot be written during a dispatch on this backend.
    mapped: Option<Mapped>,
}

/// A pointer to the flag in persistently mapped memory. It stays valid while
/// the `StopFlag` holds `buffer`: wgpu frees the memory (which unmaps it) only
/// when the buffer is destroyed.
#[derive(Clone, Copy, Debug)]
struct Mapped(std::ptr::NonNull<AtomicU32>);

// SAFETY: the pointer is only used through `AtomicU32`, which is Sync, and
// the memory it points to lives as long as the owning `StopFlag`.
unsafe impl Send for Mapped {}
// SAFETY: as above.
unsafe impl Sync for Mapped {}

impl StopFlag {
    /// The flag for `device`: host-writable during a dispatch where the
    /// backend allows it (see the module docs), a plain zeroed buffer
    /// otherwise.
    pub(crate) fn new(device: &wgpu::Device) -> StopFlag {
        #[cfg(any(target_os = "linux", target_os = "android", windows))]
        if let Some(flag) = vulkan::stop_flag(device) {
            return flag;
        }
        StopFlag {
            buffer: device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("hashwatt stop flag"),
                size: SIZE,
                usage: wgpu::BufferUsages::STORAGE,
                mapped_at_creation: false,
            }),
            mapped: None,
        }
    }

    /// The buffer to bind.
    pub(crate) fn buffer(&self) -> &wgpu::Buffer {
        &self.buffer
    }

    /// Whether setting the flag stops a dispatch that is already running.
    pub(crate) fn is_live(&self) -> bool {
        self.mapped.is_some()
    }

    /// Sets (`true`) or clears the flag. A no-op where it is not live.
    pub(crate) fn set(&self, stop: bool) {
        if let Some(Mapped(ptr)) = &self.mapped {
            // SAFETY: see `Mapped`.
            unsafe { ptr.as_ref() }.store(u32::from(stop), Ordering::SeqCst);
        }
    }
}

#[cfg(any(target_os = "linux", target_os = "android", windows))]
mod vulkan {
    use ash::vk;
    use wgpu::hal::api::Vulkan;

    use super::{Mapped, SIZE, StopFlag};

    /// A flag in host-visible, host-coherent memory, or `None` when the
    /// device is not a Vulkan device or any step fails (the caller then uses
    /// a plain buffer).
    pub(super) fn stop_flag(device: &wgpu::Device) -> Option<StopFlag> {
        // SAFETY: the HAL device is only used to create, bind and map one
        // buffer below; nothing wgpu tracks is touched.
        let hal = unsafe { device.as_hal::<Vulkan>() }?;
        let raw = hal.raw_device();
        // SAFETY: plain object creation on a live device; every object is
        // destroyed again on the failure paths, and on success handed to wgpu.
        unsafe {
            let info = vk::BufferCreateInfo::default()
                .size(SIZE)
                .usage(vk::BufferUsageFlags::STORAGE_BUFFER)
                .sharing_mode(vk::SharingMode::EXCLUSIVE);
            let buffer = raw.create_buffer(&info, None).ok()?;
            let needs = raw.get_buffer_memory_requirements(buffer);
            let properties = hal
                .shared_instance()
                .raw_instance()
                .get_physical_device_memory_properties(hal.raw_physical_device());
            let Some(type_index) = memory_type(&properties, needs.memory_type_bits) else {
                raw.destroy_buffer(buffer, None);
                return None;
            };
            let alloc = vk::MemoryAllocateInfo::default()
                .allocation_size(needs.size)
                .memory_type_index(type_index);
            let Ok(memory) = raw.allocate_memory(&alloc, None) else {
                raw.destroy_buffer(buffer, None);
                return None;
            };
            let mapped = raw
                .bind_buffer_memory(buffer, memory, 0)
                .and_then(|()| {
                    raw.map_memory(memory, 0, vk::WHOLE_SIZE, vk::MemoryMapFlags::empty())
                })
                .ok()
                .and_then(|p| std::ptr::NonNull::new(p.cast::<std::sync::atomic::AtomicU32>()));
            let Some(ptr) = mapped else {
                raw.destroy_buffer(buffer, None);
                raw.free_memory(memory, None);
                return None;
            };
            ptr.as_ref().store(0, std::sync::atomic::Ordering::SeqCst);
            // wgpu now owns the buffer and the memory: it destroys the one and
            // frees (so unmaps) the other when the wgpu buffer is dropped.
            let hal_buffer =
                wgpu::hal::vulkan::Buffer::from_raw_managed(buffer, memory, 0, needs.size);
            drop(hal);
            let buffer = device.create_buffer_from_hal::<Vulkan>(
                hal_buffer,
                &wgpu::BufferDescriptor {
                    label: Some("hashwatt stop flag"),
                    size: SIZE,
                    usage: wgpu::BufferUsages::STORAGE,
                    mapped_at_creation: false,
                },
            );
            Some(StopFlag {
                buffer,
                mapped: Some(Mapped(ptr)),
            })
        }
    }

    /// A host-visible, host-coherent memory type allowed by `bits`, preferring
    /// one that is not device-local (plain system memory, the usual home of a
    /// host-to-device signal) and then the lowest index.
    fn memory_type(properties: &vk::PhysicalDeviceMemoryProperties, bits: u32) -> Option<u32> {
        let wanted = vk::MemoryPropertyFlags::HOST_VISIBLE | vk::MemoryPropertyFlags::HOST_COHERENT;
        let count = properties
            .memory_type_count
            .min(vk::MAX_MEMORY_TYPES as u32);
        let usable = (0..count).filter(|&i| {
            bits & (1 << i) != 0
                && properties.memory_types[i as usize]
                    .property_flags
                    .contains(wanted)
        });
        let local = |i: &u32| {
            properties.memory_types[*i as usize]
                .property_flags
                .contains(vk::MemoryPropertyFlags::DEVICE_LOCAL)
        };
        usable
            .clone()
            .find(|i| !local(i))
            .or_else(|| usable.clone().next())
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn props(flags: &[vk::MemoryPropertyFlags]) -> vk::PhysicalDeviceMemoryProperties {
            let mut p = vk::PhysicalDeviceMemoryProperties {
                memory_type_count: flags.len() as u32,
                ..Default::default()
            };
            for (i, f) in flags.iter().enumerate() {
                p.memory_types[i].property_flags = *f;
            }
            p
        }

        #[test]
        fn memory_type_prefers_coherent_system_memory() {
            use vk::MemoryPropertyFlags as F;
            let coherent = F::HOST_VISIBLE | F::HOST_COHERENT;
            // A discrete GPU: VRAM, ReBAR VRAM, system memory.
            let p = props(&[F::DEVICE_LOCAL, F::DEVICE_LOCAL | coherent, coherent]);
            assert_eq!(memory_type(&p, 0b111), Some(2));
            // Only the ReBAR type allowed: take it.
            assert_eq!(memory_type(&p, 0b011), Some(1));
            // Host-visible but not coherent does not qualify.
            let p = props(&[F::DEVICE_LOCAL, F::HOST_VISIBLE | F::HOST_CACHED]);
            assert_eq!(memory_type(&p, 0b11), None);
            assert_eq!(memory_type(&props(&[]), u32::MAX), None);
        }
    }
}
