// GPU-side sampling support: the step.top_k largest logits of row step.logits_row, in order (ties
// broken by the lower id, as a CPU argmax would), found by k rounds of a workgroup argmax
// over the entries ranked after the previous round's pick. The first pick (the argmax) is
// also written to tokens[step.out_slot], where the next step's embedding lookup can read it
// without a round trip through the CPU.

struct Params {
    vocab: u32,
    k: u32,      // candidates kept per row (row stride of `top`); a step may ask for fewer
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read_write> top: array<vec2<u32>>; // (bits of logit, id)
@group(0) @binding(3) var<storage, read_write> tokens: array<u32>;

const WG: u32 = 256u;
var<workgroup> best_v: array<f32, WG>;
var<workgroup> best_i: array<u32, WG>;

// Does (v, i) rank before (bv, bi)?
fn before(v: f32, i: u32, bv: f32, bi: u32) -> bool {
    return v > bv || (v == bv && i < bi);
}

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_id) lid3: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let lid = lid3.x;
    let logits_row = step.logits_row + wid.z; // one workgroup per token of a block
    let row = logits_row * p.vocab;
    var prev_v = 0.0;
    var prev_i = 0u;
    let k = min(step.top_k, p.k);
    for (var round = 0u; round < k; round++) {
        // (No infinity literals: WGSL rejects constant expressions that overflow.)
        var bv = -3.4e38;
        var bi = 0xffffffffu;
        for (var i = lid; i < p.vocab; i += WG) {
            let v = logits[row + i];
            let after_prev = round == 0u || before(prev_v, prev_i, v, i);
            if (after_prev && before(v, i, bv, bi)) {
                bv = v;
                bi = i;
            }
        }
        best_v[lid] = bv;
        best_i[lid] = bi;
        workgroupBarrier();
        for (var s = WG / 2u; s > 0u; s = s / 2u) {
            if (lid < s && before(best_v[lid + s], best_i[lid + s], best_v[lid], best_i[lid])) {
                best_v[lid] = best_v[lid + s];
                best_i[lid] = best_i[lid + s];
            }
            workgroupBarrier();
        }
        prev_v = best_v[0];
        prev_i = best_i[0];
        if (lid == 0u) {
            top[logits_row * p.k + round] = vec2<u32>(bitcast<u32>(prev_v), prev_i);
            if (round == 0u && wid.z == 0u) {
                tokens[step.out_slot] = prev_i;
            }
        }
        workgroupBarrier();
    }
}
