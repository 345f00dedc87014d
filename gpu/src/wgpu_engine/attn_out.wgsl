// Attention output: merges the per-chunk partials of attention.wgsl (the "small reduce
// pass", folded in here to save a dispatch; every workgroup repeats it, which costs
// n_head · n_chunks · head_dim reads) and then x += Wo · attn (residual add fused).

struct Params {
    n_head: u32,
    head_dim: u32,
    max_chunks: u32,
    n_out: u32,     // rows of Wo (model dim)
    _pad_type: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

// Weight type, fixed per pipeline so the decoder's other branches compile away.
override W_TYPE: u32;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<u32>;
@group(0) @binding(3) var<storage, read_write> x: array<f32>;

const LANES: u32 = 8u; // 8 rows per workgroup
const MAX_MERGE: u32 = 1024u; // n_head · max_chunks

// Chunk c of head h contributes with weight exp(m_c − M) / L.
var<workgroup> chunk_weight: array<f32, MAX_MERGE>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) lid3: vec3<u32>,
        @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
    let lid = lid3.x;
    let stride = p.head_dim + 2u;
    let n_chunks = step.n_chunks;
    for (var h = lid; h < p.n_head; h += 64u) {
        var m = -3.0e38;
        for (var c = 0u; c < n_chunks; c++) {
            m = max(m, partials[(h * p.max_chunks + c) * stride]);
        }
        var l = 0.0;
        for (var c = 0u; c < n_chunks; c++) {
            let at = (h * p.max_chunks + c) * stride;
            let e = exp(partials[at] - m);
            chunk_weight[h * p.max_chunks + c] = e;
            l += e * partials[at + 1u];
        }
        for (var c = 0u; c < n_chunks; c++) {
            chunk_weight[h * p.max_chunks + c] /= l;
        }
    }
    workgroupBarrier();
    let k = p.n_head * p.head_dim;
    for (var i = lid; i < k / 4u; i += 64u) {
        var v = vec4<f32>(0.0);
        for (var e = 0u; e < 4u; e++) {
            let j = i * 4u + e;
            let h = j / p.head_dim;
            let d = j % p.head_dim;
            var s = 0.0;
            for (var c = 0u; c < n_chunks; c++) {
                s += chunk_weight[h * p.max_chunks + c] * partials[(h * p.max_chunks + c) * stride + 2u + d];
            }
            v[e] = s;
        }
        xs[i] = v;
    }
    workgroupBarrier();

    let row = (wid.y * nwg.x + wid.x) * (64u / LANES) + lid / LANES;
    var partial = 0.0;
    if (row < p.n_out) {
        partial = row_partial(W_TYPE, row * words_per_row(W_TYPE, k), k, lid % LANES);
    }
    publish_partials(lid, partial);
    if (lid % LANES == 0u && row < p.n_out) {
        x[row] += row_total(lid / LANES);
    }
}
