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

// Reductions use one barrier and then read the partials serially: on CPU adapters
// (lavapipe, SwiftShader) every barrier is a coroutine switch per SIMD group, which made
// log-step trees dominate; on GPUs the extra shared-memory reads are negligible.

// Publishes each invocation's partial; afterwards `row_total(r)` is row r's sum.
fn publish_partials(lid: u32, v: f32) {
    red[lid] = v;
    workgroupBarrier();
}

fn row_total(r: u32) -> f32 {
    var s = 0.0;
    for (var i = 0u; i < LANES; i++) {
        s += red[r * LANES + i];
    }
    return s;
}

// Sum of `v` over the whole workgroup (64 invocations), returned to every invocation.
fn workgroup_sum(lid: u32, v: f32) -> f32 {
    red[lid] = v;
    workgroupBarrier();
    var total = 0.0;
    for (var i = 0u; i < 64u; i++) {
        total += red[i];
    }
    workgroupBarrier();
    return total;
}
