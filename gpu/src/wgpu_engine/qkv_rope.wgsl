// Fused attention input for one decoded token: RMSNorm(x) · [Wq; Wk; Wv] (+ bias), RoPE on
// q and k, q written for attention, k and v appended to this layer's f16 KV cache at
// step.pos. Each half of a workgroup computes one quad of rows (see rope.wgsl) and one
// invocation finishes it.

struct Params {
    k: u32,          // input width (model dim)
    n_q: u32,        // rows of Wq (n_head · head_dim)
    n_kv: u32,       // rows of Wk and of Wv (n_kv_head · head_dim)
    head_dim: u32,
    neox: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
    q_base: u32,     // first word of each section in the concatenated weight buffer
    k_base: u32,
    v_base: u32,
    has_bias: u32,
    n_rot: u32,      // rotary dims per head (≤ head_dim)
    max_ctx: u32,
    eps: f32,
    _pad: u32,
}

// Weight type of each section, fixed per pipeline so the decoder's branches compile away.
override Q_TYPE: u32;
override K_TYPE: u32;
override V_TYPE: u32;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> norm_w: array<f32>;
@group(0) @binding(3) var<storage, read> w: array<u32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read_write> q_out: array<f32>;
@group(0) @binding(6) var<storage, read_write> k_cache: array<u32>;
@group(0) @binding(7) var<storage, read_write> v_cache: array<u32>;
@group(0) @binding(8) var<storage, read> rope_table: array<vec2<f32>>;

const LANES: u32 = 8u; // 8 rows = 2 quads per workgroup

fn act_in(i: u32) -> f32 { return x[i]; }
fn norm_weight(i: u32) -> f32 { return norm_w[i]; }

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) lid3: vec3<u32>,
        @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
    let lid = lid3.x;
    let quad = (wid.y * nwg.x + wid.x) * 2u + lid / 32u;
    stage_rmsnorm(lid, p.k, p.eps);

    let valid = quad < (p.n_q + 2u * p.n_kv) / 4u;
    let sl = quad_section(quad);
    let section = sl.x;
    let row = quad_row(sl.y, (lid / LANES) % 4u, section < 2u);
    var t = Q_TYPE;
    var base = p.q_base;
    if (section == 1u) {
        t = K_TYPE;
        base = p.k_base;
    } else if (section == 2u) {
        t = V_TYPE;
        base = p.v_base;
    }
    var partial = 0.0;
    if (valid) {
        partial = row_partial(t, base + row * words_per_row(t, p.k), p.k, lid % LANES);
    }
    publish_partials(lid, partial);
    if (lid % 32u != 0u || !valid) {
        return;
    }
    var bias_first = 0u;
    if (section == 1u) {
        bias_first = p.n_q;
    } else if (section == 2u) {
        bias_first = p.n_q + p.n_kv;
    }
    var v: array<f32, 4>;
    for (var m = 0u; m < 4u; m++) {
        v[m] = row_total(lid / LANES + m);
        if (p.has_bias != 0u) {
            v[m] += bias[bias_first + quad_row(sl.y, m, section < 2u)];
        }
    }
    store_quad(section, sl.y, v, step.pos, 0u);
}
