// Prefill blocks: RoPE and KV append for step.n_tokens tokens whose raw q/k/v rows (bias
// included) matmul.wgsl wrote to `qkv` ([token][n_q + 2·n_kv]). One invocation per
// (quad, token); token t sits at position step.pos + t.

struct Params {
    n_q: u32,
    n_kv: u32,
    head_dim: u32,
    neox: u32,
    n_rot: u32,
    max_ctx: u32,
    _pad0: u32,
    _pad1: u32,
    inv_freq: array<vec4<f32>, 64>,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read_write> q_out: array<f32>;
@group(0) @binding(3) var<storage, read_write> k_cache: array<u32>;
@group(0) @binding(4) var<storage, read_write> v_cache: array<u32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let quad = gid.x;
    let t = gid.y;
    let width = p.n_q + 2u * p.n_kv;
    if (quad >= width / 4u || t >= step.n_tokens) {
        return;
    }
    let sl = quad_section(quad);
    var first = 0u;
    if (sl.x == 1u) {
        first = p.n_q;
    } else if (sl.x == 2u) {
        first = p.n_q + p.n_kv;
    }
    var v: array<f32, 4>;
    for (var m = 0u; m < 4u; m++) {
        v[m] = qkv[t * width + first + quad_row(sl.y, m, sl.x < 2u)];
    }
    store_quad(sl.x, sl.y, v, step.pos + t, t * p.n_q);
}
