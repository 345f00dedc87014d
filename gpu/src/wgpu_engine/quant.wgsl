// Weight decoding. Weights live in `w: array<u32>` (declared by each kernel) in an aligned
// block layout made at load (pack.rs): Q4_0 and Q4_1 blocks take 5 words (a header word
// with the f16 scale d, and for Q4_1 the f16 min m in the high half, then 16 bytes of
// nibbles), Q8_0 blocks take 9 words (header word with d, then 32 int8). F16 rows are
// pairs of halves per word, F32 rows one float per word.
//
// The unit of work is 8 weights of one row. For Q4 a unit is one nibble word: its low
// nibbles are elements 4j..4j+3 of the block and its high nibbles 16+4j..16+4j+3. For the
// other types it is 8 consecutive elements. `unit_slots` says which vec4 slots of the
// staged activation (`xs`) the unit's `lo` and `hi` halves multiply.

struct Unit {
    lo: vec4<f32>,
    hi: vec4<f32>,
}

fn words_per_row(t: u32, k: u32) -> u32 {
    if (t == TYPE_Q4_0 || t == TYPE_Q4_1) {
        return (k / 32u) * 5u;
    }
    if (t == TYPE_Q8_0) {
        return (k / 32u) * 9u;
    }
    if (t == TYPE_F16) {
        return k / 2u;
    }
    return k;
}

fn nibbles_lo(q: u32) -> vec4<f32> {
    return vec4<f32>(f32(q & 15u), f32((q >> 8u) & 15u), f32((q >> 16u) & 15u), f32((q >> 24u) & 15u));
}

fn bytes_i8(q: u32) -> vec4<f32> {
    let v = vec4<i32>(bitcast<i32>(q << 24u), bitcast<i32>(q << 16u), bitcast<i32>(q << 8u), bitcast<i32>(q));
    return vec4<f32>(v >> vec4<u32>(24u));
}

// The 8 weights of unit `u` of the row whose first word is `row`.
fn unit_weights(t: u32, row: u32, u: u32) -> Unit {
    if (t == TYPE_Q4_0) {
        let base = row + (u >> 2u) * 5u;
        let d = unpack2x16float(w[base]).x;
        let q = w[base + 1u + (u & 3u)];
        return Unit((nibbles_lo(q) - 8.0) * d, (nibbles_lo(q >> 4u) - 8.0) * d);
    }
    if (t == TYPE_Q4_1) {
        let base = row + (u >> 2u) * 5u;
        let dm = unpack2x16float(w[base]);
        let q = w[base + 1u + (u & 3u)];
        return Unit(nibbles_lo(q) * dm.x + dm.y, nibbles_lo(q >> 4u) * dm.x + dm.y);
    }
    if (t == TYPE_Q8_0) {
        let base = row + (u >> 2u) * 9u;
        let d = unpack2x16float(w[base]).x;
        let o = base + 1u + (u & 3u) * 2u;
        return Unit(bytes_i8(w[o]) * d, bytes_i8(w[o + 1u]) * d);
    }
    if (t == TYPE_F16) {
        let o = row + u * 4u;
        return Unit(
            vec4<f32>(unpack2x16float(w[o]), unpack2x16float(w[o + 1u])),
            vec4<f32>(unpack2x16float(w[o + 2u]), unpack2x16float(w[o + 3u])),
        );
    }
    let o = row + u * 8u;
    return Unit(
        vec4<f32>(bitcast<f32>(w[o]), bitcast<f32>(w[o + 1u]), bitcast<f32>(w[o + 2u]), bitcast<f32>(w[o + 3u])),
        vec4<f32>(bitcast<f32>(w[o + 4u]), bitcast<f32>(w[o + 5u]), bitcast<f32>(w[o + 6u]), bitcast<f32>(w[o + 7u])),
    );
}

// Element index (within the row) of the first weight of `lo` and of `hi`.
fn unit_elems(t: u32, u: u32) -> vec2<u32> {
    if (t == TYPE_Q4_0 || t == TYPE_Q4_1) {
        let first = (u >> 2u) * 32u + (u & 3u) * 4u;
        return vec2<u32>(first, first + 16u);
    }
    return vec2<u32>(u * 8u, u * 8u + 4u);
}
