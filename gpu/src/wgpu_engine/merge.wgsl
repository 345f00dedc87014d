// Prefill blocks: merges the per-chunk attention partials of each (head, token) into the
// attention output a[t][h·head_dim + d] (decode folds this into attn_out.wgsl instead).

struct Params {
    n_head: u32,
    head_dim: u32,
    max_chunks: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> a: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) lid3: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let h = wid.x;
    let t = wid.y;
    let stride = p.head_dim + 2u;
    let first = (t * p.n_head + h) * p.max_chunks;
    var m = -3.0e38;
    for (var c = 0u; c < step.n_chunks; c++) {
        m = max(m, partials[(first + c) * stride]);
    }
    var l = 0.0;
    for (var c = 0u; c < step.n_chunks; c++) {
        l += exp(partials[(first + c) * stride] - m) * partials[(first + c) * stride + 1u];
    }
    for (var d = lid3.x; d < p.head_dim; d += 64u) {
        var s = 0.0;
        for (var c = 0u; c < step.n_chunks; c++) {
            let at = (first + c) * stride;
            s += exp(partials[at] - m) * partials[at + 2u + d];
        }
        a[(t * p.n_head + h) * p.head_dim + d] = s / l;
    }
}
