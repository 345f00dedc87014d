//! A tiny WGSL compute dispatch that proves a device really computes: used by the app's
//! WebGPU check (before it trusts the GPU path) and by the browser and native tests.

use crate::device::{Gpu, read_buffer};
use wgpu::util::DeviceExt;

const WORKGROUP: usize = 64;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    a: f32,
    b: f32,
    n: u32,
    _pad: u32,
}

/// What the check computed on the device, beside what it should have.
#[derive(Debug, Clone)]
pub struct SelftestReport {
    pub adapter: String,
    pub n: usize,
    pub max_abs_error: f32,
    pub sum_gpu: f32,
    pub sum_expected: f32,
}

impl SelftestReport {
    /// The device passes when every element and the reduction match the CPU within rounding.
    pub fn passed(&self) -> bool {
        self.max_abs_error <= 1e-5 && (self.sum_gpu - self.sum_expected).abs() <= 1e-2
    }
}

/// Runs y = a·x + b with a per-workgroup sum on `n` elements and compares with the CPU.
pub async fn run(gpu: &Gpu, n: usize) -> Result<SelftestReport, String> {
    let (a, b) = (1.5f32, -0.25f32);
    let x: Vec<f32> = (0..n).map(|i| ((i * 37) % 101) as f32 / 101.0).collect();
    let expected: Vec<f32> = x.iter().map(|v| a * v + b).collect();
    let groups = n.div_ceil(WORKGROUP);

    let device = &gpu.device;
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("selftest-affine"),
        source: wgpu::ShaderSource::Wgsl(include_str!("affine.wgsl").into()),
    });
    let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some("selftest-affine"),
        layout: None,
        module: &module,
        entry_point: Some("main"),
        compilation_options: Default::default(),
        cache: None,
    });
    let params = Params { a, b, n: n as u32, _pad: 0 };
    let params_buf = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some("params"),
        contents: bytemuck::bytes_of(&params),
        usage: wgpu::BufferUsages::UNIFORM,
    });
    let x_buf = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some("x"),
        contents: bytemuck::cast_slice(&x),
        usage: wgpu::BufferUsages::STORAGE,
    });
    let out_len = (n + groups) * 4;
    let y_buf = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("y"),
        size: (n * 4) as u64,
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: false,
    });
    let sums_buf = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("group-sums"),
        size: (groups * 4) as u64,
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: false,
    });
    let readback = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("readback"),
        size: out_len as u64,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("selftest-affine"),
        layout: &pipeline.get_bind_group_layout(0),
        entries: &[
            wgpu::BindGroupEntry { binding: 0, resource: params_buf.as_entire_binding() },
            wgpu::BindGroupEntry { binding: 1, resource: x_buf.as_entire_binding() },
            wgpu::BindGroupEntry { binding: 2, resource: y_buf.as_entire_binding() },
            wgpu::BindGroupEntry { binding: 3, resource: sums_buf.as_entire_binding() },
        ],
    });
    let mut encoder = device.create_command_encoder(&Default::default());
    {
        let mut pass = encoder.begin_compute_pass(&Default::default());
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bind_group, &[]);
        pass.dispatch_workgroups(groups as u32, 1, 1);
    }
    encoder.copy_buffer_to_buffer(&y_buf, 0, &readback, 0, (n * 4) as u64);
    encoder.copy_buffer_to_buffer(&sums_buf, 0, &readback, (n * 4) as u64, (groups * 4) as u64);
    gpu.queue.submit([encoder.finish()]);

    let bytes = read_buffer(gpu, &readback).await?;
    let out: &[f32] = bytemuck::cast_slice(&bytes);
    let (y, sums) = out.split_at(n);
    let max_abs_error = y
        .iter()
        .zip(&expected)
        .map(|(g, e)| (g - e).abs())
        .fold(0.0f32, f32::max);
    Ok(SelftestReport {
        adapter: gpu.describe(),
        n,
        max_abs_error,
        sum_gpu: sums.iter().sum(),
        sum_expected: expected.iter().sum(),
    })
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn affine_dispatch_matches_cpu_on_the_native_adapter() {
        let gpu = pollster::block_on(Gpu::new()).expect("a native wgpu adapter (lavapipe in CI)");
        let report = pollster::block_on(run(&gpu, 1000)).unwrap();
        eprintln!("selftest on {}: {report:?}", gpu.describe());
        assert!(report.passed(), "{report:?}");
    }
}
