// Prefill blocks: batched projection out[t] ⊕= W · act[t] for step.n_tokens tokens. Each
// weight unit is decoded once and applied to TB tokens at a time, so weights are read once
// per TB tokens instead of once per token. Activations are read from storage (they are
// small and cached) rather than staged, so any width fits.
//
// MODE (a pipeline override) picks the epilogue: 0 = store (+ bias), 1 = residual add,
// 2 = gate/up: rows of a second weight block (W_TYPE2 at w_base2) give up, and the output is
// silu(gate) · up.

struct Params {
    k: u32,          // input width
    n_rows: u32,     // output rows of this dispatch
    w_base: u32,     // first word of row 0 (the gate half in MODE 2)
    w_base2: u32,    // first word of the up half (MODE 2)
    in_stride: u32,  // floats between tokens in `act`
    out_stride: u32, // floats between tokens in `out`
    out_offset: u32, // output index of row 0 (and bias index of row 0)
    has_bias: u32,
}

override W_TYPE: u32;
override W_TYPE2: u32;
override MODE: u32;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> act: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> w: array<u32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

const LANES: u32 = 8u; // 8 rows per workgroup
const TB: u32 = 8u;    // tokens per weight pass
var<workgroup> sums: array<f32, 1024>; // [gate|up][token][invocation]

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) lid3: vec3<u32>,
        @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
    let lid = lid3.x;
    let lane = lid % LANES;
    let row = (wid.y * nwg.x + wid.x) * (64u / LANES) + lid / LANES;
    let valid = row < p.n_rows;
    let units = p.k / 8u;
    let n = step.n_tokens;
    let in4 = p.in_stride / 4u;
    let rw = p.w_base + row * words_per_row(W_TYPE, p.k);
    let rw2 = p.w_base2 + row * words_per_row(W_TYPE2, p.k);
    for (var t0 = 0u; t0 < n; t0 += TB) {
        var acc: array<f32, TB>;
        var acc2: array<f32, TB>;
        for (var t = 0u; t < TB; t++) {
            acc[t] = 0.0;
            acc2[t] = 0.0;
        }
        let tn = min(TB, n - t0);
        if (valid) {
            for (var u = lane; u < units; u += LANES) {
                let wu = unit_weights(W_TYPE, rw, u);
                let e = unit_elems(W_TYPE, u) / 4u;
                for (var t = 0u; t < tn; t++) {
                    let base = (t0 + t) * in4;
                    acc[t] += dot(wu.lo, act[base + e.x]) + dot(wu.hi, act[base + e.y]);
                }
                if (MODE == 2u) {
                    let wu2 = unit_weights(W_TYPE2, rw2, u);
                    let e2 = unit_elems(W_TYPE2, u) / 4u;
                    for (var t = 0u; t < tn; t++) {
                        let base = (t0 + t) * in4;
                        acc2[t] += dot(wu2.lo, act[base + e2.x]) + dot(wu2.hi, act[base + e2.y]);
                    }
                }
            }
        }
        for (var t = 0u; t < TB; t++) {
            sums[t * 64u + lid] = acc[t];
            sums[512u + t * 64u + lid] = acc2[t];
        }
        workgroupBarrier();
        if (valid && lane == 0u) {
            for (var t = 0u; t < tn; t++) {
                var s = 0.0;
                var s2 = 0.0;
                for (var i = 0u; i < LANES; i++) {
                    s += sums[t * 64u + lid + i];
                    s2 += sums[512u + t * 64u + lid + i];
                }
                let at = (t0 + t) * p.out_stride + p.out_offset + row;
                if (MODE == 0u) {
                    if (p.has_bias != 0u) {
                        s += bias[p.out_offset + row];
                    }
                    out[at] = s;
                } else if (MODE == 1u) {
                    out[at] += s;
                } else {
                    out[at] = s / (1.0 + exp(-s)) * s2;
                }
            }
        }
        workgroupBarrier();
    }
}
