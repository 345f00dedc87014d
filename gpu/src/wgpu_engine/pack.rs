//! Weight layout on the GPU. GGUF's legacy quant blocks are not 4-byte aligned (Q4_0 is 18
//! bytes, Q8_0 34), so they are repacked once at load into blocks padded to whole u32 words:
//! Q4_0 → 5 words (header word holding the f16 scale, then 16 bytes of nibbles), Q8_0 → 9
//! words (header word, then 32 int8), Q4_1 (20 bytes: f16 d, f16 m, nibbles) is already
//! word-sized and is copied as is; F16/F32 rows are copied.
//!
//! Why repack instead of reading the raw bytes with unaligned shifts in WGSL: every load in
//! the kernels is then one aligned u32, all three block types index the same way, and the
//! cost is one pass over the bytes at load plus 2 bytes per 32 weights for Q4_0/Q8_0
//! (+11% / +6% memory). The array-of-blocks order (scale beside its quants) is kept rather
//! than a struct-of-arrays split so each tensor stays one binding.

/// ggml type ids the GPU kernels decode.
pub const TYPE_F32: u32 = 0;
pub const TYPE_F16: u32 = 1;
pub const TYPE_Q4_0: u32 = 2;
pub const TYPE_Q4_1: u32 = 3;
pub const TYPE_Q8_0: u32 = 8;

/// Name of a supported type, for error messages.
pub fn type_name(t: u32) -> &'static str {
    match t {
        TYPE_F32 => "F32",
        TYPE_F16 => "F16",
        TYPE_Q4_0 => "Q4_0",
        TYPE_Q4_1 => "Q4_1",
        TYPE_Q8_0 => "Q8_0",
        _ => "unsupported",
    }
}

/// GGUF bytes of one row of `k` weights, or an error for types/widths the kernels cannot read.
pub fn gguf_row_bytes(t: u32, k: usize) -> Result<usize, String> {
    let blocks = |size: usize| -> Result<usize, String> {
        if !k.is_multiple_of(32) {
            return Err(format!("{} rows need a multiple of 32 weights, got {k}", type_name(t)));
        }
        Ok(k / 32 * size)
    };
    match t {
        TYPE_F32 => Ok(k * 4),
        TYPE_F16 => Ok(k * 2),
        TYPE_Q4_0 => blocks(18),
        TYPE_Q4_1 => blocks(20),
        TYPE_Q8_0 => blocks(34),
        _ => Err(format!("ggml type {t} is not supported by the WebGPU kernels (F32, F16, Q4_0, Q4_1, Q8_0 are)")),
    }
}

/// u32 words of one repacked row (mirrors `words_per_row` in quant.wgsl).
pub fn words_per_row(t: u32, k: usize) -> usize {
    match t {
        TYPE_Q4_0 | TYPE_Q4_1 => k / 32 * 5,
        TYPE_Q8_0 => k / 32 * 9,
        TYPE_F16 => k / 2,
        _ => k,
    }
}

/// Repacks `rows` rows of `k` weights of type `t` from GGUF bytes into the word layout.
pub fn pack_rows(t: u32, k: usize, rows: usize, bytes: &[u8]) -> Result<Vec<u32>, String> {
    if !k.is_multiple_of(8) {
        return Err(format!("row width {k} is not a multiple of 8"));
    }
    let row_bytes = gguf_row_bytes(t, k)?;
    let expected = row_bytes
        .checked_mul(rows)
        .ok_or_else(|| format!("tensor of {rows} rows × {k} is too large"))?;
    if bytes.len() != expected {
        return Err(format!(
            "{} tensor [{k} × {rows}] should hold {expected} bytes, has {}",
            type_name(t),
            bytes.len()
        ));
    }
    let word = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    let mut out = Vec::with_capacity(words_per_row(t, k) * rows);
    match t {
        TYPE_F32 | TYPE_F16 | TYPE_Q4_1 => out.extend(bytes.chunks_exact(4).map(word)),
        TYPE_Q4_0 | TYPE_Q8_0 => {
            let size = if t == TYPE_Q4_0 { 18 } else { 34 };
            for block in bytes.chunks_exact(size) {
                out.push(u16::from_le_bytes([block[0], block[1]]) as u32);
                out.extend(block[2..].chunks_exact(4).map(word));
            }
        }
        _ => unreachable!("gguf_row_bytes rejected the type"),
    }
    Ok(out)
}

/// Splits `rows` rows into consecutive parts whose packed size fits in `max_bytes` each
/// (the binding limit): `(first_row, n_rows)` per part.
pub fn split_rows(rows: usize, row_words: usize, max_bytes: u64) -> Result<Vec<(usize, usize)>, String> {
    let row_bytes = (row_words * 4) as u64;
    let per_part = (max_bytes / row_bytes.max(1)) as usize;
    // Parts are row multiples of 4 so every workgroup's quad of rows sits in one part.
    let per_part = per_part / 4 * 4;
    if per_part == 0 {
        return Err(format!("a single row of {row_bytes} bytes exceeds the binding limit of {max_bytes}"));
    }
    Ok((0..rows).step_by(per_part).map(|lo| (lo, per_part.min(rows - lo))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q4_0_and_q8_0_blocks_get_a_header_word() {
        let mut q4 = vec![0x34u8, 0x12];
        q4.extend(0..16u8);
        let words = pack_rows(TYPE_Q4_0, 32, 1, &q4).unwrap();
        assert_eq!(words.len(), 5);
        assert_eq!(words[0], 0x1234);
        assert_eq!(words[1], u32::from_le_bytes([0, 1, 2, 3]));
        let mut q8 = vec![0x00u8, 0x3c];
        q8.extend((0..32u8).map(|i| i.wrapping_mul(7)));
        let words = pack_rows(TYPE_Q8_0, 32, 1, &q8).unwrap();
        assert_eq!(words.len(), 9);
        assert_eq!(words[0], 0x3c00);
        assert_eq!(words[8], u32::from_le_bytes([28 * 7, 29 * 7, 30 * 7, 31u8.wrapping_mul(7)]));
    }

    #[test]
    fn wrong_sizes_and_types_are_errors() {
        assert!(pack_rows(TYPE_Q4_1, 32, 2, &[0; 39]).is_err());
        assert!(pack_rows(TYPE_Q4_0, 48, 1, &[0; 27]).is_err());
        assert!(pack_rows(14, 256, 1, &[0; 210]).unwrap_err().contains("not supported"));
    }

    #[test]
    fn splitting_respects_the_limit_and_covers_all_rows() {
        let parts = split_rows(1003, 9 * 18, 100_000).unwrap();
        let row_bytes = 9 * 18 * 4;
        assert!(parts.iter().all(|&(_, n)| (n * row_bytes) as u64 <= 100_000 && n > 0));
        assert_eq!(parts.iter().map(|p| p.1).sum::<usize>(), 1003);
        assert!(parts.windows(2).all(|w| w[0].0 + w[0].1 == w[1].0));
        assert!(split_rows(10, 1000, 100).is_err());
    }
}
