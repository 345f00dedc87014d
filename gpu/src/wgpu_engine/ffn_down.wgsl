// Feed-forward output with the residual add fused: x += Wdown · h.

struct Params {
    k: u32,       // input width (n_ff)
    n_out: u32,   // rows (model dim)
    _pad_type: u32,
    _pad: u32,
}

// Weight type, fixed per pipeline so the decoder's other branches compile away.
override W_TYPE: u32;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> h: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<u32>;
@group(0) @binding(3) var<storage, read_write> x: array<f32>;

const LANES: u32 = 8u; // 8 rows per workgroup

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) lid3: vec3<u32>,
        @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
    let lid = lid3.x;
    for (var i = lid; i < p.k / 4u; i += 64u) {
        xs[i] = vec4<f32>(h[i * 4u], h[i * 4u + 1u], h[i * 4u + 2u], h[i * 4u + 3u]);
    }
    workgroupBarrier();
    let row = (wid.y * nwg.x + wid.x) * (64u / LANES) + lid / LANES;
    var partial = 0.0;
    if (row < p.n_out) {
        partial = row_partial(W_TYPE, row * words_per_row(W_TYPE, p.k), p.k, lid % LANES);
    }
    publish_partials(lid, partial);
    if (lid % LANES == 0u && row < p.n_out) {
        x[row] += row_total(lid / LANES);
    }
}
