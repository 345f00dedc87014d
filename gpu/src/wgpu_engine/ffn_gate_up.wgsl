// Fused feed-forward input: RMSNorm(x) · [Wgate; Wup], then h = silu(gate) ⊙ up.
// Each workgroup produces 8 outputs of h from 16 weight rows (8 gate + 8 up).

struct Params {
    k: u32,        // input width (model dim)
    n_ff: u32,     // rows of Wgate and of Wup
    g_base: u32,   // first word of each half in the concatenated weight buffer
    u_base: u32,
    eps: f32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

// Weight types, fixed per pipeline so the decoder's other branches compile away.
override G_TYPE: u32;
override U_TYPE: u32;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> norm_w: array<f32>;
@group(0) @binding(3) var<storage, read> w: array<u32>;
@group(0) @binding(4) var<storage, read_write> h: array<f32>;

const LANES: u32 = 4u;

fn act_in(i: u32) -> f32 { return x[i]; }
fn norm_weight(i: u32) -> f32 { return norm_w[i]; }

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) lid3: vec3<u32>,
        @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
    let lid = lid3.x;
    stage_rmsnorm(lid, p.k, p.eps);
    let first = (wid.y * nwg.x + wid.x) * 8u;
    let r = lid / LANES;            // 0..7 gate rows, 8..15 up rows
    let out = first + (r & 7u);
    var partial = 0.0;
    if (out < p.n_ff) {
        if (r < 8u) {
            partial = row_partial(G_TYPE, p.g_base + out * words_per_row(G_TYPE, p.k), p.k, lid % LANES);
        } else {
            partial = row_partial(U_TYPE, p.u_base + out * words_per_row(U_TYPE, p.k), p.k, lid % LANES);
        }
    }
    publish_partials(lid, partial);
    if (lid < 8u && first + lid < p.n_ff) {
        let g = row_total(lid);
        let u = row_total(lid + 8u);
        h[first + lid] = g / (1.0 + exp(-g)) * u;
    }
}
