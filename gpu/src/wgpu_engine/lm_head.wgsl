// Output head: logits = W · RMSNorm(x) for one part of the vocabulary (a large, possibly
// tied embedding is split into parts that each fit one binding), written to row
// step.logits_row of the logits buffer.

struct Params {
    k: u32,        // model dim
    n_rows: u32,   // vocabulary rows in this part
    row_lo: u32,   // first vocabulary id of this part
    vocab: u32,    // logits row stride
    _pad_type: u32,
    eps: f32,
    _pad0: u32,
    _pad1: u32,
}

// Weight type, fixed per pipeline so the decoder's other branches compile away.
override W_TYPE: u32;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> norm_w: array<f32>;
@group(0) @binding(3) var<storage, read> w: array<u32>;
@group(0) @binding(4) var<storage, read_write> logits: array<f32>;

const LANES: u32 = 4u; // 16 vocabulary rows per workgroup

fn act_in(i: u32) -> f32 { return x[step.x_row * p.k + i]; }
fn norm_weight(i: u32) -> f32 { return norm_w[i]; }

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) lid3: vec3<u32>,
        @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
    let lid = lid3.x;
    stage_rmsnorm(lid, p.k, p.eps);
    let row = (wid.y * nwg.x + wid.x) * (64u / LANES) + lid / LANES;
    var partial = 0.0;
    if (row < p.n_rows) {
        partial = row_partial(W_TYPE, row * words_per_row(W_TYPE, p.k), p.k, lid % LANES);
    }
    publish_partials(lid, partial);
    if (lid % LANES == 0u && row < p.n_rows) {
        logits[step.logits_row * p.vocab + p.row_lo + row] = row_total(lid / LANES);
    }
}
