//! Test support for the WGSL kernels: a small device rig that runs one kernel on given
//! buffers, and plain CPU definitions (block quantizers and dequantizers written from the
//! GGUF layouts, RMSNorm, RoPE, attention) that the kernels are compared against.

use super::kernels::Kernels;
use super::pack;
use super::pipelines::{Kernel, STEP_STRIDE, StepUniform, step_layout};
use crate::device::{Gpu, read_buffer};
use wgpu::util::DeviceExt;

/// Deterministic pseudo-random numbers (xorshift64*), so failures reproduce.
pub struct Rng(u64);
impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [-1, 1).
    pub fn f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }
    pub fn vec(&mut self, n: usize, scale: f32) -> Vec<f32> {
        (0..n).map(|_| self.f32() * scale).collect()
    }
}

pub use super::pack::f16_to_f32;

/// f32 → nearest f16 (normal range and zero only: test values stay there).
pub fn f32_to_f16(x: f32) -> u16 {
    if x == 0.0 {
        return 0;
    }
    let sign = if x < 0.0 { 0x8000u16 } else { 0 };
    let a = x.abs();
    let e = a.log2().floor() as i32;
    let e = e.clamp(-14, 15);
    let mut m = (a / 2f32.powi(e) - 1.0) * 1024.0;
    m = m.round();
    let (e, m) = if m >= 1024.0 { (e + 1, 0.0) } else { (e, m) };
    sign | (((e + 15) as u16) << 10) | m as u16
}

/// Quantizes `rows × k` values into GGUF bytes of type `t`.
pub fn quantize(t: u32, values: &[f32]) -> Vec<u8> {
    let mut out = Vec::new();
    match t {
        pack::TYPE_F32 => values.iter().for_each(|v| out.extend(v.to_le_bytes())),
        pack::TYPE_F16 => values.iter().for_each(|v| out.extend(f32_to_f16(*v).to_le_bytes())),
        _ => {
            for block in values.chunks(32) {
                let (lo, hi) = block.iter().fold((f32::MAX, f32::MIN), |(l, h), v| (l.min(*v), h.max(*v)));
                let amax = lo.abs().max(hi.abs()).max(1e-6);
                match t {
                    pack::TYPE_Q4_0 => {
                        let dh = f32_to_f16(amax / 7.0);
                        let d = f16_to_f32(dh);
                        out.extend(dh.to_le_bytes());
                        let q: Vec<u8> =
                            block.iter().map(|v| ((v / d).round() + 8.0).clamp(0.0, 15.0) as u8).collect();
                        (0..16).for_each(|j| out.push(q[j] | (q[j + 16] << 4)));
                    }
                    pack::TYPE_Q4_1 => {
                        let dh = f32_to_f16(((hi - lo) / 15.0).max(1e-4));
                        let mh = f32_to_f16(lo);
                        let (d, m) = (f16_to_f32(dh), f16_to_f32(mh));
                        out.extend(dh.to_le_bytes());
                        out.extend(mh.to_le_bytes());
                        let q: Vec<u8> =
                            block.iter().map(|v| ((v - m) / d).round().clamp(0.0, 15.0) as u8).collect();
                        (0..16).for_each(|j| out.push(q[j] | (q[j + 16] << 4)));
                    }
                    pack::TYPE_Q8_0 => {
                        let dh = f32_to_f16(amax / 127.0);
                        let d = f16_to_f32(dh);
                        out.extend(dh.to_le_bytes());
                        out.extend(block.iter().map(|v| (v / d).round().clamp(-127.0, 127.0) as i8 as u8));
                    }
                    _ => panic!("no test quantizer for type {t}"),
                }
            }
        }
    }
    out
}

/// Dequantizes GGUF bytes of type `t` (the reference the kernels must reproduce).
pub fn dequantize(t: u32, bytes: &[u8]) -> Vec<f32> {
    let h = |b: &[u8]| f16_to_f32(u16::from_le_bytes([b[0], b[1]]));
    let mut out = Vec::new();
    match t {
        pack::TYPE_F32 => out.extend(bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))),
        pack::TYPE_F16 => out.extend(bytes.chunks_exact(2).map(h)),
        pack::TYPE_Q4_0 | pack::TYPE_Q4_1 => {
            let size = if t == pack::TYPE_Q4_0 { 18 } else { 20 };
            for b in bytes.chunks_exact(size) {
                let d = h(&b[0..2]);
                let (m, qs) = if t == pack::TYPE_Q4_0 { (-8.0 * d, &b[2..]) } else { (h(&b[2..4]), &b[4..]) };
                let mut block = [0f32; 32];
                for j in 0..16 {
                    block[j] = d * (qs[j] & 15) as f32 + m;
                    block[j + 16] = d * (qs[j] >> 4) as f32 + m;
                }
                out.extend(block);
            }
        }
        pack::TYPE_Q8_0 => {
            for b in bytes.chunks_exact(34) {
                let d = h(&b[0..2]);
                out.extend(b[2..].iter().map(|&q| d * q as i8 as f32));
            }
        }
        _ => panic!("no test dequantizer for type {t}"),
    }
    out
}

pub fn matvec(w: &[f32], k: usize, x: &[f32]) -> Vec<f32> {
    w.chunks_exact(k).map(|row| row.iter().zip(x).map(|(a, b)| a * b).sum()).collect()
}

pub fn rmsnorm(x: &[f32], g: &[f32], eps: f32) -> Vec<f32> {
    let ms = x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32;
    let inv = 1.0 / (ms + eps).sqrt();
    x.iter().zip(g).map(|(v, g)| v * inv * g).collect()
}

/// RoPE on one head in place: NORM rotates (2i, 2i+1), NEOX (i, i + n_rot/2).
pub fn rope(head: &mut [f32], pos: usize, n_rot: usize, base: f32, neox: bool) {
    for i in 0..n_rot / 2 {
        let theta = pos as f64 * (base as f64).powf(-2.0 * i as f64 / n_rot as f64);
        let (s, c) = theta.sin_cos();
        let (a, b) = if neox { (i, i + n_rot / 2) } else { (2 * i, 2 * i + 1) };
        let (x0, x1) = (head[a] as f64, head[b] as f64);
        head[a] = (x0 * c - x1 * s) as f32;
        head[b] = (x0 * s + x1 * c) as f32;
    }
}

pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

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
        let step_buf = gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("step"),
            size: STEP_STRIDE,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let step_bind = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("step"),
            layout: &layout,
            entries: &[wgpu::BindGroupEntry {
                binding: 0,
                resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                    buffer: &step_buf,
                    offset: 0,
                    size: wgpu::BufferSize::new(std::mem::size_of::<StepUniform>() as u64),
                }),
            }],
        });
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
