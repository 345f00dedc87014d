//! Test support for the WGSL kernels: a small device rig that runs one kernel on given
//! buffers; the CPU definitions they are compared against live in `reference.rs`.

use super::kernels::Kernels;
use super::pack;
use super::pipelines::{Kernel, StepUniform, step_layout, step_slots};
use crate::device::{Gpu, read_buffer};
use wgpu::util::DeviceExt;

pub use super::reference::*;

/// A device with every kernel built and one step uniform slot, for single-kernel tests.
pub struct Rig {
    pub gpu: Gpu,
    pub kernels: Kernels,
    step_buf: wgpu::Buffer,
    step_bind: wgpu::BindGroup,
}

impl Rig {
    pub fn new(max_k: usize) -> Self {
        let gpu = pollster::block_on(Gpu::new()).expect("a native wgpu adapter (lavapipe in CI)");
        let layout = step_layout(&gpu.device);
        let kernels = Kernels::new(&gpu.device, &layout, max_k);
        let (step_buf, step_bind) = step_slots(&gpu.device, &layout, 1);
        Self { gpu, kernels, step_buf, step_bind }
    }

    pub fn storage<T: bytemuck::Pod>(&self, data: &[T]) -> wgpu::Buffer {
        let bytes: &[u8] = bytemuck::cast_slice(data);
        let mut padded = bytes.to_vec();
        padded.resize(bytes.len().max(16).next_multiple_of(4), 0);
        self.gpu.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: None,
            contents: &padded,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
        })
    }

    pub fn uniform<T: bytemuck::Pod>(&self, params: &T) -> wgpu::Buffer {
        self.gpu.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: None,
            contents: bytemuck::bytes_of(params),
            usage: wgpu::BufferUsages::UNIFORM,
        })
    }

    /// Packs GGUF bytes of a `rows × k` matrix into the kernels' word layout.
    pub fn weights(&self, t: u32, k: usize, rows: usize, gguf: &[u8]) -> wgpu::Buffer {
        self.storage(&pack::pack_rows(t, k, rows, gguf).unwrap())
    }

    /// Runs `kernel` specialised for `types` (its override values) once.
    pub fn run(&self, kernel: &Kernel, types: &[u32], buffers: &[&wgpu::Buffer], step: StepUniform, groups: (u32, u32)) {
        self.gpu.queue.write_buffer(&self.step_buf, 0, bytemuck::bytes_of(&step));
        let bind = kernel.bind(&self.gpu.device, buffers);
        let mut encoder = self.gpu.device.create_command_encoder(&Default::default());
        {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            pass.set_pipeline(&kernel.pipeline(&self.gpu.device, types));
            pass.set_bind_group(0, &bind, &[]);
            pass.set_bind_group(1, &self.step_bind, &[0]);
            pass.dispatch_workgroups(groups.0, groups.1, 1);
        }
        self.gpu.queue.submit([encoder.finish()]);
    }

    pub fn read<T: bytemuck::Pod>(&self, buffer: &wgpu::Buffer, n: usize) -> Vec<T> {
        let staging = self.gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: None,
            size: buffer.size(),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut encoder = self.gpu.device.create_command_encoder(&Default::default());
        encoder.copy_buffer_to_buffer(buffer, 0, &staging, 0, buffer.size());
        self.gpu.queue.submit([encoder.finish()]);
        let bytes = pollster::block_on(read_buffer(&self.gpu, &staging)).unwrap();
        bytemuck::cast_slice::<u8, T>(&bytes)[..n].to_vec()
    }
}
