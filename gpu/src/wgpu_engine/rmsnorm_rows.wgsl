// Prefill blocks: xn[t] = g ⊙ x[t] / rms(x[t]) for each of step.n_tokens rows (one
// workgroup per token), the input of the batched projections in matmul.wgsl.

struct Params {
    k: u32,
    eps: f32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> xn: array<f32>;

var<workgroup> red: array<f32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) lid3: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let lid = lid3.x;
    let row = wid.x * p.k;
    var ss = 0.0;
    for (var i = lid; i < p.k; i += 64u) {
        let v = x[row + i];
        ss += v * v;
    }
    red[lid] = ss;
    workgroupBarrier();
    var total = 0.0;
    for (var i = 0u; i < 64u; i++) {
        total += red[i];
    }
    let inv = inverseSqrt(total / f32(p.k) + p.eps);
    for (var i = lid; i < p.k; i += 64u) {
        xn[row + i] = x[row + i] * inv * g[i];
    }
}
