// Fused attention input: RMSNorm(x) · [Wq; Wk; Wv] (+ bias), RoPE on q and k, q written for
// attention, k and v appended to this layer's f16 KV cache at step.pos.
//
// Each half of a workgroup computes one "quad" of four output rows, chosen so that both
// members of every RoPE pair are in the same quad: NORM (llama.cpp rope type 0) rotates
// adjacent pairs (2i, 2i+1); NEOX (type 2) rotates (i, i + head_dim/2), so a NEOX quad is
// rows i, i+1, i+half, i+1+half. One invocation then finishes the quad (bias, rotation,
// writes).

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
    inv_freq: array<vec4<f32>, 64>, // base^(-2i/n_rot), i < n_rot/2, packed by fours
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

const LANES: u32 = 8u; // 8 rows = 2 quads per workgroup
const TAU: f32 = 6.283185307179586;

fn act_in(i: u32) -> f32 { return x[i]; }
fn norm_weight(i: u32) -> f32 { return norm_w[i]; }

fn inv_freq(i: u32) -> f32 { return p.inv_freq[i / 4u][i % 4u]; }

// (cos, sin) of pos · inv_freq[i], range-reduced first: GPU sin/cos are only accurate on [-π, π].
fn rotation(i: u32) -> vec2<f32> {
    let turns = f32(step.pos) * inv_freq(i) / TAU;
    let a = (fract(turns + 0.5) - 0.5) * TAU;
    return vec2<f32>(cos(a), sin(a));
}

fn rotate(a: f32, b: f32, cs: vec2<f32>) -> vec2<f32> {
    return vec2<f32>(a * cs.x - b * cs.y, a * cs.y + b * cs.x);
}

// Row (within its section) that member r of local quad lq computes.
fn quad_row(lq: u32, r: u32, roped: bool) -> u32 {
    if (!roped || p.neox == 0u) {
        return lq * 4u + r;
    }
    let quads_per_head = p.head_dim / 4u;
    let h = lq / quads_per_head;
    let i = (lq % quads_per_head) * 2u;
    return h * p.head_dim + i + (r & 1u) + (r >> 1u) * (p.head_dim / 2u);
}

fn kv_word(h: u32, dim: u32) -> u32 {
    return (h * p.max_ctx + step.pos) * (p.head_dim / 2u) + dim / 2u;
}

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) lid3: vec3<u32>,
        @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
    let lid = lid3.x;
    let quad = (wid.y * nwg.x + wid.x) * 2u + lid / 32u;
    stage_rmsnorm(lid, p.k, p.eps);

    let q_quads = p.n_q / 4u;
    let kv_quads = p.n_kv / 4u;
    let valid = quad < q_quads + 2u * kv_quads;
    var section = 0u; // 0 = q, 1 = k, 2 = v
    var lq = quad;
    if (quad >= q_quads + kv_quads) {
        section = 2u;
        lq = quad - q_quads - kv_quads;
    } else if (quad >= q_quads) {
        section = 1u;
        lq = quad - q_quads;
    }
    let r = (lid / LANES) % 4u;
    let row = quad_row(lq, r, section < 2u);
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

    var v: array<f32, 4>;
    var rows: array<u32, 4>;
    for (var m = 0u; m < 4u; m++) {
        rows[m] = quad_row(lq, m, section < 2u);
        var bias_row = rows[m];
        if (section == 1u) {
            bias_row += p.n_q;
        } else if (section == 2u) {
            bias_row += p.n_q + p.n_kv;
        }
        v[m] = row_total(lid / LANES + m);
        if (p.has_bias != 0u) {
            v[m] += bias[bias_row];
        }
    }
    let head = rows[0] / p.head_dim;
    let d0 = rows[0] % p.head_dim;
    if (section < 2u) {
        // Rotate the quad's two pairs. NORM: (v0,v1) at pair d0/2, (v2,v3) at d0/2+1.
        // NEOX: (v0,v2) at pair d0, (v1,v3) at pair d0+1.
        if (p.neox == 0u) {
            if (d0 < p.n_rot) {
                let a = rotate(v[0], v[1], rotation(d0 / 2u));
                let b = rotate(v[2], v[3], rotation(d0 / 2u + 1u));
                v[0] = a.x; v[1] = a.y; v[2] = b.x; v[3] = b.y;
            }
        } else {
            let a = rotate(v[0], v[2], rotation(d0));
            let b = rotate(v[1], v[3], rotation(d0 + 1u));
            v[0] = a.x; v[2] = a.y; v[1] = b.x; v[3] = b.y;
        }
    }
    if (section == 0u) {
        for (var m = 0u; m < 4u; m++) {
            q_out[rows[m]] = v[m];
        }
        return;
    }
    // Rows m=0,1 are adjacent dims and so are m=2,3 (in both RoPE modes and for v).
    let lo = pack2x16float(vec2<f32>(v[0], v[1]));
    let hi = pack2x16float(vec2<f32>(v[2], v[3]));
    let d2 = rows[2] % p.head_dim;
    if (section == 1u) {
        k_cache[kv_word(head, d0)] = lo;
        k_cache[kv_word(head, d2)] = hi;
    } else {
        v_cache[kv_word(head, d0)] = lo;
        v_cache[kv_word(head, d2)] = hi;
    }
}
