//! Building the compute pipelines: each kernel's WGSL is its own file, assembled with the
//! shared library parts it needs (`common.wgsl` always; `quant.wgsl`, `matvec.wgsl`,
//! `rmsnorm.wgsl` for projections) and `{{NAME}}` constants filled in. Bind group layouts are
//! explicit so that group 1, the per-step uniform bound with a dynamic offset, is one layout
//! shared by every pipeline: that is what lets one submit carry many tokens.

/// Byte distance between per-step uniforms (WebGPU's minUniformBufferOffsetAlignment).
pub(crate) const STEP_STRIDE: u64 = 256;

/// Per-token values every kernel reads through group 1 (mirrors `Step` in common.wgsl).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct StepUniform {
    pub pos: u32,
    pub token_slot: u32,
    pub out_slot: u32,
    pub logits_row: u32,
    pub seq_len: u32,
    pub n_chunks: u32,
    pub chunk_len: u32,
    pub top_k: u32,
    pub n_tokens: u32,
    pub x_row: u32,
    pub _pad: [u32; 2],
}

pub(crate) const COMMON: &str = include_str!("common.wgsl");
pub(crate) const QUANT: &str = include_str!("quant.wgsl");
pub(crate) const MATVEC: &str = include_str!("matvec.wgsl");
pub(crate) const RMSNORM: &str = include_str!("rmsnorm.wgsl");

/// How a group-0 binding is used.
#[derive(Clone, Copy)]
pub(crate) enum Slot {
    Uniform,
    Read,
    ReadWrite,
}

/// One kernel: its group-0 layout and compiled module, and the pipelines made from it, one
/// per combination of its `override` constants (the weight types it decodes), so the
/// decoder's branches for other types compile away. Every variant shares the layout, so a
/// bind group works with any of them.
pub(crate) struct Kernel {
    pub layout: wgpu::BindGroupLayout,
    pipeline_layout: wgpu::PipelineLayout,
    module: wgpu::ShaderModule,
    name: String,
    overrides: &'static [&'static str],
    variants: std::cell::RefCell<Vec<(Vec<u32>, wgpu::ComputePipeline)>>,
}

/// The layout of group 1: one uniform `Step` at a dynamic offset.
pub(crate) fn step_layout(device: &wgpu::Device) -> wgpu::BindGroupLayout {
    device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some("step"),
        entries: &[wgpu::BindGroupLayoutEntry {
            binding: 0,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Uniform,
                has_dynamic_offset: true,
                min_binding_size: wgpu::BufferSize::new(std::mem::size_of::<StepUniform>() as u64),
            },
            count: None,
        }],
    })
}

/// A uniform buffer of `slots` step records, `STEP_STRIDE` apart, and its group-1 bind
/// group (one `StepUniform` seen at whichever slot's dynamic offset a dispatch names).
pub(crate) fn step_slots(device: &wgpu::Device, layout: &wgpu::BindGroupLayout, slots: u64) -> (wgpu::Buffer, wgpu::BindGroup) {
    let buf = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("steps"),
        size: slots * STEP_STRIDE,
        usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let bind = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("step"),
        layout,
        entries: &[wgpu::BindGroupEntry {
            binding: 0,
            resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                buffer: &buf,
                offset: 0,
                size: wgpu::BufferSize::new(std::mem::size_of::<StepUniform>() as u64),
            }),
        }],
    });
    (buf, bind)
}

/// Joins the parts and substitutes `{{NAME}}` placeholders.
pub(crate) fn assemble(parts: &[&str], consts: &[(&str, u32)]) -> String {
    let mut src = parts.join("\n");
    for (name, value) in consts {
        src = src.replace(&format!("{{{{{name}}}}}"), &value.to_string());
    }
    src
}

impl Kernel {
    pub fn new(
        device: &wgpu::Device,
        step_layout: &wgpu::BindGroupLayout,
        name: &str,
        source: &str,
        slots: &[Slot],
        overrides: &'static [&'static str],
    ) -> Self {
        let entries: Vec<wgpu::BindGroupLayoutEntry> = slots
            .iter()
            .enumerate()
            .map(|(i, slot)| wgpu::BindGroupLayoutEntry {
                binding: i as u32,
                visibility: wgpu::ShaderStages::COMPUTE,
                ty: wgpu::BindingType::Buffer {
                    ty: match slot {
                        Slot::Uniform => wgpu::BufferBindingType::Uniform,
                        Slot::Read => wgpu::BufferBindingType::Storage { read_only: true },
                        Slot::ReadWrite => wgpu::BufferBindingType::Storage { read_only: false },
                    },
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
                count: None,
            })
            .collect();
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some(name),
            entries: &entries,
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some(name),
            bind_group_layouts: &[Some(&layout), Some(step_layout)],
            immediate_size: 0,
        });
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(name),
            source: wgpu::ShaderSource::Wgsl(source.into()),
        });
        Self { layout, pipeline_layout, module, name: name.to_string(), overrides, variants: Default::default() }
    }

    /// The pipeline for these override values (weight type ids), built on first use (at load).
    pub fn pipeline(&self, device: &wgpu::Device, values: &[u32]) -> wgpu::ComputePipeline {
        assert_eq!(values.len(), self.overrides.len(), "{}: one value per override", self.name);
        if let Some((_, p)) = self.variants.borrow().iter().find(|(v, _)| v == values) {
            return p.clone();
        }
        let constants: Vec<(&str, f64)> = self.overrides.iter().copied().zip(values.iter().map(|v| *v as f64)).collect();
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(&self.name),
            layout: Some(&self.pipeline_layout),
            module: &self.module,
            entry_point: Some("main"),
            compilation_options: wgpu::PipelineCompilationOptions {
                constants: &constants,
                // Every kernel writes its workgroup memory before reading it; skipping the
                // zero-fill saves work per workgroup natively (browsers always zero-fill).
                zero_initialize_workgroup_memory: false,
            },
            cache: None,
        });
        self.variants.borrow_mut().push((values.to_vec(), pipeline.clone()));
        pipeline
    }

    /// A bind group for group 0 with `buffers` at bindings 0, 1, 2, ... (whole buffers).
    pub fn bind(&self, device: &wgpu::Device, buffers: &[&wgpu::Buffer]) -> wgpu::BindGroup {
        let entries: Vec<wgpu::BindGroupEntry> = buffers
            .iter()
            .enumerate()
            .map(|(i, b)| wgpu::BindGroupEntry { binding: i as u32, resource: b.as_entire_binding() })
            .collect();
        device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: &self.layout,
            entries: &entries,
        })
    }
}

/// Workgroup grid for `groups` workgroups: kernels flatten (x, y) back to one index and
/// ignore the overshoot, so counts beyond the per-dimension limit still work.
pub(crate) fn grid(groups: u32, max_per_dim: u32) -> (u32, u32) {
    if groups <= max_per_dim {
        (groups.max(1), 1)
    } else {
        (max_per_dim, groups.div_ceil(max_per_dim))
    }
}
