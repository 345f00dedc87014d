// y[i] = a * x[i] + b, then a workgroup tree reduction writes each group's sum of y.
// Exercises storage buffers, a uniform, workgroup memory and barriers: the features every
// inference kernel relies on.

struct Params {
    a: f32,
    b: f32,
    n: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> group_sums: array<f32>;

var<workgroup> partial: array<f32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(workgroup_id) wid: vec3<u32>) {
    let i = gid.x;
    var v = 0.0;
    if (i < params.n) {
        v = params.a * x[i] + params.b;
        y[i] = v;
    }
    partial[lid.x] = v;
    workgroupBarrier();
    for (var stride = 32u; stride > 0u; stride = stride / 2u) {
        if (lid.x < stride) {
            partial[lid.x] = partial[lid.x] + partial[lid.x + stride];
        }
        workgroupBarrier();
    }
    if (lid.x == 0u) {
        group_sums[wid.x] = partial[0];
    }
}
