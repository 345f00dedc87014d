// Decode attention split over the sequence ("flash decoding"): workgroup (h, c, t) attends
// query head h of token t over chunk c of the cached positions with an online softmax, in
// tiles of 64 positions (one score per invocation), and writes its running max m, sum l and
// unnormalised output acc[head_dim] to `partials`. attn_out.wgsl (decode) or merge.wgsl
// (prefill blocks, t > 0; token t sees positions ≤ step.pos + t) merges the chunks.

struct Params {
    n_head: u32,
    n_kv_head: u32,
    head_dim: u32,
    max_ctx: u32,
    max_chunks: u32,
    scale: f32,      // 1/sqrt(head_dim)
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k_cache: array<u32>;
@group(0) @binding(3) var<storage, read> v_cache: array<u32>;
@group(0) @binding(4) var<storage, read_write> partials: array<f32>;

const MAX_HEAD_DIM: u32 = 256u;
const NEG_BIG: f32 = -3.0e38;

var<workgroup> qs: array<f32, MAX_HEAD_DIM>;
var<workgroup> scores: array<f32, 64>;
var<workgroup> red: array<f32, 64>;

// Max or sum over the 64 invocations with one barrier (see matvec.wgsl on why).
fn tile_reduce(lid: u32, v: f32, take_max: bool) -> f32 {
    red[lid] = v;
    workgroupBarrier();
    var r = red[0];
    for (var i = 1u; i < 64u; i++) {
        if (take_max) {
            r = max(r, red[i]);
        } else {
            r += red[i];
        }
    }
    workgroupBarrier();
    return r;
}

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) lid3: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let lid = lid3.x;
    let h = wid.x;
    let c = wid.y;
    let tok = wid.z;
    let kvh = h / (p.n_head / p.n_kv_head);
    let half = p.head_dim / 2u;
    for (var d = lid; d < p.head_dim; d += 64u) {
        qs[d] = q[(tok * p.n_head + h) * p.head_dim + d] * p.scale;
    }
    workgroupBarrier();

    let start = c * step.chunk_len;
    let end = min(start + step.chunk_len, step.seq_len + tok);
    var m_run = NEG_BIG;
    var l_run = 0.0;
    // Each invocation owns output dims 2·lid, 2·lid+1 (+128 per extra round): up to 256 dims.
    var acc: array<vec2<f32>, 2>;
    acc[0] = vec2<f32>(0.0);
    acc[1] = vec2<f32>(0.0);
    for (var t0 = start; t0 < end; t0 += 64u) {
        let pos = t0 + lid;
        var s = NEG_BIG;
        if (pos < end) {
            let row = (kvh * p.max_ctx + pos) * half;
            var dotv = 0.0;
            for (var j = 0u; j < half; j++) {
                let kk = unpack2x16float(k_cache[row + j]);
                dotv += kk.x * qs[2u * j] + kk.y * qs[2u * j + 1u];
            }
            s = dotv;
        }
        let m_new = max(m_run, tile_reduce(lid, s, true));
        var e = 0.0;
        if (pos < end) {
            e = exp(s - m_new);
        }
        scores[lid] = e;
        let l_tile = tile_reduce(lid, e, false);
        let rescale = exp(m_run - m_new);
        l_run = l_run * rescale + l_tile;
        m_run = m_new;
        let n = min(64u, end - t0);
        for (var r = 0u; r < 2u; r++) {
            let j = lid + r * 64u;
            if (j < half) {
                var a = acc[r] * rescale;
                for (var i = 0u; i < n; i++) {
                    a += scores[i] * unpack2x16float(v_cache[(kvh * p.max_ctx + t0 + i) * half + j]);
                }
                acc[r] = a;
            }
        }
        workgroupBarrier();
    }

    let out = ((tok * p.n_head + h) * p.max_chunks + c) * (p.head_dim + 2u);
    if (lid == 0u) {
        partials[out] = m_run;
        partials[out + 1u] = l_run;
    }
    for (var r = 0u; r < 2u; r++) {
        let j = lid + r * 64u;
        if (j < half) {
            partials[out + 2u + 2u * j] = acc[r].x;
            partials[out + 3u + 2u * j] = acc[r].y;
        }
    }
}
