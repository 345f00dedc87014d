// RMSNorm folded into the next projection: every workgroup recomputes the norm of the
// residual stream (k ≤ a few thousand floats, cheaper than a dispatch) and stages
// g ⊙ x / rms(x) in `xs`. Kernels provide `act_in(i)` (the residual) and `norm_weight(i)`.

fn stage_rmsnorm(lid: u32, k: u32, eps: f32) {
    var ss = 0.0;
    for (var i = lid; i < k; i += 64u) {
        let v = act_in(i);
        ss += v * v;
    }
    let inv = inverseSqrt(workgroup_sum(lid, ss) / f32(k) + eps);
    for (var i = lid; i < k / 4u; i += 64u) {
        let j = i * 4u;
        let v = vec4<f32>(act_in(j), act_in(j + 1u), act_in(j + 2u), act_in(j + 3u));
        let g = vec4<f32>(norm_weight(j), norm_weight(j + 1u), norm_weight(j + 2u), norm_weight(j + 3u));
        xs[i] = v * inv * g;
    }
    workgroupBarrier();
}
