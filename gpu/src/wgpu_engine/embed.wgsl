// Embedding lookup: x = row `tokens[step.token_slot]` of the token embedding, dequantized.
// A large embedding is split into several bindings by rows (each ≤ the binding limit);
// one dispatch per part, and only the part holding the token writes.

struct Params {
    dim: u32,
    row_lo: u32,   // first vocabulary row held by this part
    n_rows: u32,   // rows in this part
    _pad: u32,
}

// Weight type, fixed per pipeline so the decoder's other branches compile away.
override W_TYPE: u32;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> tokens: array<u32>;
@group(0) @binding(2) var<storage, read> w: array<u32>;
@group(0) @binding(3) var<storage, read_write> x: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let t = gid.z; // token of the block
    let tok = tokens[step.token_slot + t];
    let u = gid.x;
    if (tok < p.row_lo || tok >= p.row_lo + p.n_rows || u >= p.dim / 8u) {
        return;
    }
    let row = (tok - p.row_lo) * words_per_row(W_TYPE, p.dim);
    let out = t * p.dim;
    let wu = unit_weights(W_TYPE, row, u);
    let e = unit_elems(W_TYPE, u);
    for (var i = 0u; i < 4u; i++) {
        x[out + e.x + i] = wu.lo[i];
        x[out + e.y + i] = wu.hi[i];
    }
}
