// Fused feed-forward input: RMSNorm(x) · [Wgate; Wup], then h = silu(gate) ⊙ up.
// Each workgroup produces 4 outputs of h from 8 weight rows (4 gate + 4 up).

struct Params {
    k: u32,        // input width (model dim)
    n_ff: u32,     // rows of Wgate and of Wup
    g_type: u32,
    u_type: u32,
    g_base: u32,   // first word of each half in the concatenated weight buffer
    u_base: u32,
    eps: f32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> norm_w: array<f32>;
@group(0) @binding(3) var<storage, read> w: array<u32>;
@group(0) @binding(4) var<storage, read_write> h: array<f32>;

const LANES: u32 = 8u;

fn act_in(i: u32) -> f32 { return x[i]; }
fn norm_weight(i: u32) -> f32 { return norm_w[i]; }

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) lid3: vec3<u32>,
        @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
    let lid = lid3.x;
    stage_rmsnorm(lid, p.k, p.eps);
    let first = (wid.y * nwg.x + wid.x) * 4u;
    let r = lid / LANES;            // 0..3 gate rows, 4..7 up rows
    let out = first + (r & 3u);
    var partial = 0.0;
    if (out < p.n_ff) {
        if (r < 4u) {
            partial = row_partial(p.g_type, p.g_base + out * words_per_row(p.g_type, p.k), p.k, lid % LANES);
        } else {
            partial = row_partial(p.u_type, p.u_base + out * words_per_row(p.u_type, p.k), p.k, lid % LANES);
        }
    }
    segment_sum(lid, partial);
    if (lid < 4u && first + lid < p.n_ff) {
        let g = red[lid * LANES];
        let u = red[(lid + 4u) * LANES];
        h[first + lid] = g / (1.0 + exp(-g)) * u;
    }
}
