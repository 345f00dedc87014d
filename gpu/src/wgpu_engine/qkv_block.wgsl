// Prefill blocks: the attention input for step.n_tokens tokens at once — [Wq; Wk; Wv] ·
// xn[t] (+ bias), RoPE, q to q_out[t], k and v appended to the KV cache at step.pos + t.
// Like matmul.wgsl each weight unit is decoded once per TB tokens; like qkv_rope.wgsl each
// half of a workgroup computes one quad of rows (rope.wgsl) and one invocation finishes it.

struct Params {
    k: u32,          // input width (model dim)
    n_q: u32,
    n_kv: u32,
    head_dim: u32,
    neox: u32,
    n_rot: u32,
    max_ctx: u32,
    has_bias: u32,
    q_base: u32,     // first word of each section in the concatenated weight buffer
    k_base: u32,
    v_base: u32,
    _pad: u32,
}

override Q_TYPE: u32;
override K_TYPE: u32;
override V_TYPE: u32;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> act: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> w: array<u32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> q_out: array<f32>;
@group(0) @binding(5) var<storage, read_write> k_cache: array<u32>;
@group(0) @binding(6) var<storage, read_write> v_cache: array<u32>;
@group(0) @binding(7) var<storage, read> rope_table: array<vec2<f32>>;

const LANES: u32 = 8u; // 8 rows = 2 quads per workgroup
const TB: u32 = 8u;    // tokens per weight pass
var<workgroup> sums: array<f32, 512>; // [token][invocation]

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) lid3: vec3<u32>,
        @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
    let lid = lid3.x;
    let lane = lid % LANES;
    let quad = (wid.y * nwg.x + wid.x) * 2u + lid / 32u;
    let valid = quad < (p.n_q + 2u * p.n_kv) / 4u;
    let sl = quad_section(quad);
    let section = sl.x;
    let row = quad_row(sl.y, (lid / LANES) % 4u, section < 2u);
    var t = Q_TYPE;
    var base = p.q_base;
    var bias_first = 0u;
    if (section == 1u) {
        t = K_TYPE;
        base = p.k_base;
        bias_first = p.n_q;
    } else if (section == 2u) {
        t = V_TYPE;
        base = p.v_base;
        bias_first = p.n_q + p.n_kv;
    }
    let rw = base + row * words_per_row(t, p.k);
    let units = p.k / 8u;
    let in4 = p.k / 4u;
    let n = step.n_tokens;
    for (var t0 = 0u; t0 < n; t0 += TB) {
        var acc: array<f32, TB>;
        for (var i = 0u; i < TB; i++) {
            acc[i] = 0.0;
        }
        let tn = min(TB, n - t0);
        if (valid) {
            for (var u = lane; u < units; u += LANES) {
                let wu = unit_weights(t, rw, u);
                let e = unit_elems(t, u) / 4u;
                for (var i = 0u; i < tn; i++) {
                    let at = (t0 + i) * in4;
                    acc[i] += dot(wu.lo, act[at + e.x]) + dot(wu.hi, act[at + e.y]);
                }
            }
        }
        for (var i = 0u; i < TB; i++) {
            sums[i * 64u + lid] = acc[i];
        }
        workgroupBarrier();
        if (valid && lid % 32u == 0u) {
            for (var i = 0u; i < tn; i++) {
                var v: array<f32, 4>;
                for (var m = 0u; m < 4u; m++) {
                    var s = 0.0;
                    for (var l = 0u; l < LANES; l++) {
                        s += sums[i * 64u + lid + m * LANES + l];
                    }
                    if (p.has_bias != 0u) {
                        s += bias[bias_first + quad_row(sl.y, m, section < 2u)];
                    }
                    v[m] = s;
                }
                store_quad(section, sl.y, v, step.pos + t0 + i, (t0 + i) * p.n_q);
            }
        }
        workgroupBarrier();
    }
}
