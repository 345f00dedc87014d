//! The engine's compute kernels: one WGSL file each, beside this host code, with their
//! parameter structs (one uniform buffer per kernel instance, written once at load).

use super::pipelines::{Kernel, Slot, assemble, COMMON, MATVEC, QUANT, RMSNORM};

/// Output rows one workgroup computes (64 / LANES in the kernel's WGSL).
pub(crate) const QKV_ROWS: usize = 8;
pub(crate) const ATTN_OUT_ROWS: usize = 8;
pub(crate) const GATE_UP_ROWS: usize = 8;
pub(crate) const DOWN_ROWS: usize = 8;
pub(crate) const HEAD_ROWS: usize = 16;

/// Most query heads × sequence chunks attn_out.wgsl can merge (MAX_MERGE there).
pub(crate) const MAX_MERGE: usize = 1024;
/// Largest head_dim attention.wgsl handles (MAX_HEAD_DIM there).
pub(crate) const MAX_HEAD_DIM: usize = 256;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct EmbedParams {
    pub dim: u32,
    pub row_lo: u32,
    pub n_rows: u32,
    pub _pad: u32,
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct QkvParams {
    pub k: u32,
    pub n_q: u32,
    pub n_kv: u32,
    pub head_dim: u32,
    pub neox: u32,
    pub _pad0: [u32; 3],
    pub q_base: u32,
    pub k_base: u32,
    pub v_base: u32,
    pub has_bias: u32,
    pub n_rot: u32,
    pub max_ctx: u32,
    pub eps: f32,
    pub _pad: u32,
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct AttentionParams {
    pub n_head: u32,
    pub n_kv_head: u32,
    pub head_dim: u32,
    pub max_ctx: u32,
    pub max_chunks: u32,
    pub scale: f32,
    pub _pad: [u32; 2],
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct AttnOutParams {
    pub n_head: u32,
    pub head_dim: u32,
    pub max_chunks: u32,
    pub n_out: u32,
    pub _pad: [u32; 4],
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct GateUpParams {
    pub k: u32,
    pub n_ff: u32,
    pub g_base: u32,
    pub u_base: u32,
    pub eps: f32,
    pub _pad: [u32; 3],
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct DownParams {
    pub k: u32,
    pub n_out: u32,
    pub _pad: [u32; 2],
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct HeadParams {
    pub k: u32,
    pub n_rows: u32,
    pub row_lo: u32,
    pub vocab: u32,
    pub _pad_type: u32,
    pub eps: f32,
    pub _pad: [u32; 2],
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct TopkParams {
    pub vocab: u32,
    pub k: u32,
    pub _pad: [u32; 2],
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct RmsRowsParams {
    pub k: u32,
    pub eps: f32,
    pub _pad: [u32; 2],
}

/// Epilogues of matmul.wgsl (its MODE override).
pub(crate) const MODE_STORE: u32 = 0;
pub(crate) const MODE_ADD: u32 = 1;
pub(crate) const MODE_GATE_UP: u32 = 2;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct MatmulParams {
    pub k: u32,
    pub n_rows: u32,
    pub w_base: u32,
    pub w_base2: u32,
    pub in_stride: u32,
    pub out_stride: u32,
    pub out_offset: u32,
    pub has_bias: u32,
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct QkvBlockParams {
    pub k: u32,
    pub n_q: u32,
    pub n_kv: u32,
    pub head_dim: u32,
    pub neox: u32,
    pub n_rot: u32,
    pub max_ctx: u32,
    pub has_bias: u32,
    pub q_base: u32,
    pub k_base: u32,
    pub v_base: u32,
    pub _pad: u32,
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct MergeParams {
    pub n_head: u32,
    pub head_dim: u32,
    pub max_chunks: u32,
    pub _pad: u32,
}

/// Rows one matmul.wgsl workgroup computes, and tokens a prefill block holds at most.
pub(crate) const MATMUL_ROWS: usize = 8;

/// Every pipeline, built once at load.
pub(crate) struct Kernels {
    pub embed: Kernel,
    pub qkv_rope: Kernel,
    pub attention: Kernel,
    pub attn_out: Kernel,
    pub ffn_gate_up: Kernel,
    pub ffn_down: Kernel,
    pub lm_head: Kernel,
    pub topk: Kernel,
    // Prefill blocks (several tokens per step).
    pub rmsnorm_rows: Kernel,
    pub matmul: Kernel,
    pub qkv_block: Kernel,
    pub merge: Kernel,
}

impl Kernels {
    /// `max_k` is the widest activation a projection stages in workgroup memory.
    pub fn new(device: &wgpu::Device, step_layout: &wgpu::BindGroupLayout, max_k: usize) -> Self {
        use Slot::{Read as R, ReadWrite as RW, Uniform as U};
        let consts = [("XS_VEC4", max_k.div_ceil(4).max(1) as u32)];
        let matvec = |kernel: &str, norm: bool| {
            let mut parts = vec![COMMON, QUANT, MATVEC];
            if norm {
                parts.push(RMSNORM);
            }
            parts.push(kernel);
            assemble(&parts, &consts)
        };
        let k = |name: &str, src: String, slots: &[Slot], overrides: &'static [&'static str]| {
            Kernel::new(device, step_layout, name, &src, slots, overrides)
        };
        const W: &[&str] = &["W_TYPE"];
        Self {
            embed: k("embed", assemble(&[COMMON, QUANT, include_str!("embed.wgsl")], &[]), &[U, R, R, RW], W),
            qkv_rope: k(
                "qkv_rope",
                {
                    let mut src = matvec(include_str!("qkv_rope.wgsl"), true);
                    src.push_str(include_str!("rope.wgsl"));
                    src
                },
                &[U, R, R, R, R, RW, RW, RW, R],
                &["Q_TYPE", "K_TYPE", "V_TYPE"],
            ),
            attention: k("attention", assemble(&[COMMON, include_str!("attention.wgsl")], &[]), &[U, R, R, R, RW], &[]),
            attn_out: k("attn_out", matvec(include_str!("attn_out.wgsl"), false), &[U, R, R, RW], W),
            ffn_gate_up: k("ffn_gate_up", matvec(include_str!("ffn_gate_up.wgsl"), true), &[U, R, R, R, RW], &["G_TYPE", "U_TYPE"]),
            ffn_down: k("ffn_down", matvec(include_str!("ffn_down.wgsl"), false), &[U, R, R, RW], W),
            lm_head: k("lm_head", matvec(include_str!("lm_head.wgsl"), true), &[U, R, R, R, RW], W),
            topk: k("topk", assemble(&[COMMON, include_str!("topk.wgsl")], &[]), &[U, R, RW, RW], &[]),
            rmsnorm_rows: k("rmsnorm_rows", assemble(&[COMMON, include_str!("rmsnorm_rows.wgsl")], &[]), &[U, R, R, RW], &[]),
            matmul: k(
                "matmul",
                assemble(&[COMMON, QUANT, include_str!("matmul.wgsl")], &[]),
                &[U, R, R, R, RW],
                &["W_TYPE", "W_TYPE2", "MODE"],
            ),
            qkv_block: k(
                "qkv_block",
                assemble(&[COMMON, QUANT, include_str!("qkv_block.wgsl"), include_str!("rope.wgsl")], &[]),
                &[U, R, R, R, RW, RW, RW, R],
                &["Q_TYPE", "K_TYPE", "V_TYPE"],
            ),
            merge: k("merge", assemble(&[COMMON, include_str!("merge.wgsl")], &[]), &[U, R, RW], &[]),
        }
    }
}

/// Most sequence chunks decode attention splits into (partials buffer rows per head).
pub(crate) const MAX_CHUNKS: usize = 16;

/// How attention splits `seq_len` cached positions: (n_chunks, chunk_len). Chunks are whole
/// 64-position tiles, at most MAX_CHUNKS of them, so the merge in attn_out stays small.
pub(crate) fn chunking(seq_len: usize) -> (u32, u32) {
    let tiles = seq_len.div_ceil(64).max(1);
    let chunk_len = 64 * tiles.div_ceil(MAX_CHUNKS);
    (seq_len.div_ceil(chunk_len).max(1) as u32, chunk_len as u32)
}
