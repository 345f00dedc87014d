// Mat-vec building blocks shared by the projection kernels: the activation is staged once in
// workgroup memory as vec4s, then each run of LANES invocations reduces one weight row.
// Kernels define `const LANES` (invocations per row; 64 / rows per workgroup).

var<workgroup> xs: array<vec4<f32>, {{XS_VEC4}}>;
var<workgroup> red: array<f32, 64>;

// This invocation's share of row · xs for a row of `k` inputs starting at word `row`.
fn row_partial(t: u32, row: u32, k: u32, lane: u32) -> f32 {
    var acc = 0.0;
    let units = k / 8u;
    for (var u = lane; u < units; u += LANES) {
        let wu = unit_weights(t, row, u);
        let e = unit_elems(t, u);
        acc += dot(wu.lo, xs[e.x / 4u]) + dot(wu.hi, xs[e.y / 4u]);
    }
    return acc;
}

// Sums `v` over each run of LANES consecutive invocations; run r's sum ends in red[r * LANES].
fn segment_sum(lid: u32, v: f32) {
    red[lid] = v;
    workgroupBarrier();
    for (var s = LANES / 2u; s > 0u; s = s / 2u) {
        if ((lid % LANES) < s) {
            red[lid] += red[lid + s];
        }
        workgroupBarrier();
    }
}

// Sum of `v` over the whole workgroup (64 invocations), returned to every invocation.
fn workgroup_sum(lid: u32, v: f32) -> f32 {
    red[lid] = v;
    workgroupBarrier();
    for (var s = 32u; s > 0u; s = s / 2u) {
        if (lid < s) {
            red[lid] += red[lid + s];
        }
        workgroupBarrier();
    }
    let total = red[0];
    workgroupBarrier();
    return total;
}
