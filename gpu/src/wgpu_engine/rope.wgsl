// RoPE and KV-cache append, shared by qkv_rope.wgsl (decode, fused into the projection) and
// rope_append.wgsl (prefill blocks). Work comes in "quads" of four rows of one section
// (q, k or v) chosen so both members of every RoPE pair are in the quad: NORM (llama.cpp
// rope type 0) rotates adjacent pairs (2i, 2i+1); NEOX (type 2) rotates (i, i + head_dim/2),
// so a NEOX quad is rows i, i+1, i+half, i+1+half. Rows m=0,1 and m=2,3 of a quad are
// adjacent dims in every case, so each pair lands in one f16x2 word of the cache.
//
// Kernels provide `p` with head_dim, neox, n_rot, max_ctx, and the bindings q_out, k_cache,
// v_cache and rope_table.
//
// The rotations come from `rope_table` ([pos][n_rot/2] of (cos, sin), computed in f64 at
// load) rather than GPU sin/cos: those are only specified to ~2^-11 absolute error, and
// SwiftShader's showed in the logits; a table also rotates identically on every adapter.

fn rotation(i: u32, pos: u32) -> vec2<f32> {
    return rope_table[pos * (p.n_rot / 2u) + i];
}

fn rotate(a: f32, b: f32, cs: vec2<f32>) -> vec2<f32> {
    return vec2<f32>(a * cs.x - b * cs.y, a * cs.y + b * cs.x);
}

// Row (within its section) that member r of local quad lq holds.
fn quad_row(lq: u32, r: u32, roped: bool) -> u32 {
    if (!roped || p.neox == 0u) {
        return lq * 4u + r;
    }
    let quads_per_head = p.head_dim / 4u;
    let h = lq / quads_per_head;
    let i = (lq % quads_per_head) * 2u;
    return h * p.head_dim + i + (r & 1u) + (r >> 1u) * (p.head_dim / 2u);
}

fn kv_word(h: u32, dim: u32, pos: u32) -> u32 {
    return (h * p.max_ctx + pos) * (p.head_dim / 2u) + dim / 2u;
}

// Rotates (sections 0 = q, 1 = k) and stores one quad for the token at `pos`: q rows to
// q_out[q_first + row], k and v as f16 pairs into the caches.
fn store_quad(section: u32, lq: u32, values: array<f32, 4>, pos: u32, q_first: u32) {
    var v = values;
    let r0 = quad_row(lq, 0u, section < 2u);
    let head = r0 / p.head_dim;
    let d0 = r0 % p.head_dim;
    if (section < 2u) {
        // NORM: (v0,v1) at pair d0/2, (v2,v3) at d0/2+1. NEOX: (v0,v2) at d0, (v1,v3) at d0+1.
        if (p.neox == 0u) {
            if (d0 < p.n_rot) {
                let a = rotate(v[0], v[1], rotation(d0 / 2u, pos));
                let b = rotate(v[2], v[3], rotation(d0 / 2u + 1u, pos));
                v[0] = a.x; v[1] = a.y; v[2] = b.x; v[3] = b.y;
            }
        } else {
            let a = rotate(v[0], v[2], rotation(d0, pos));
            let b = rotate(v[1], v[3], rotation(d0 + 1u, pos));
            v[0] = a.x; v[2] = a.y; v[1] = b.x; v[3] = b.y;
        }
    }
    if (section == 0u) {
        for (var m = 0u; m < 4u; m++) {
            q_out[q_first + quad_row(lq, m, true)] = v[m];
        }
        return;
    }
    let lo = pack2x16float(vec2<f32>(v[0], v[1]));
    let hi = pack2x16float(vec2<f32>(v[2], v[3]));
    let d2 = quad_row(lq, 2u, section < 2u) % p.head_dim;
    if (section == 1u) {
        k_cache[kv_word(head, d0, pos)] = lo;
        k_cache[kv_word(head, d2, pos)] = hi;
    } else {
        v_cache[kv_word(head, d0, pos)] = lo;
        v_cache[kv_word(head, d2, pos)] = hi;
    }
}

// Which section a quad index (q quads, then k, then v) falls in, and its local index.
fn quad_section(quad: u32) -> vec2<u32> {
    let q_quads = p.n_q / 4u;
    let kv_quads = p.n_kv / 4u;
    if (quad >= q_quads + kv_quads) {
        return vec2<u32>(2u, quad - q_quads - kv_quads);
    }
    if (quad >= q_quads) {
        return vec2<u32>(1u, quad - q_quads);
    }
    return vec2<u32>(0u, quad);
}
