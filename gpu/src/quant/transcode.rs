//! GGUF block types that the kernels do not compute with directly (K-quants, 5-bit), rewritten
//! once at load into the ones they do, so every path (scalar, AVX2, SIMD128, WGSL) runs them with
//! its existing fast loops.
//!
//! Most published "Q4_K_M" / "Q5_K_M" files mix Q4_K or Q5_K with Q6_K, and fall back to Q5_0 /
//! Q5_1 / Q8_0 for tensors whose rows are not a multiple of 256. The rewrites:
//!
//! - **Q4_K → Q4_1**, near-exact: each 32-weight sub-block of a Q4_K super-block decodes as
//!   `d·sc·q − dmin·m` with a 4-bit `q`, which *is* a Q4_1 block with scale `d·sc` and offset
//!   `−dmin·m`. Only those two products are rounded to f16 (relative error ≤ 2⁻¹¹). 5 instead of
//!   4.5 bits per weight.
//! - **Q5_0 → Q8_0**, exact: `q − 16` fits an int8 under the same scale. 8.5 instead of 5.5 bits.
//! - **Q5_1, Q5_K, Q6_K → Q8_0** by requantizing each dequantized 32-block with ggml's Q8_0
//!   quantizer: the added error is at most half a Q8_0 step (1/254 of the block's largest
//!   weight), a fraction of the source format's own step. 8.5 instead of 6 / 5.5 / 6.56 bits.
//!
//! Why not native K-quant dot products: the transcoded tensors run at the speed of the formats
//! already tuned here, on every backend at once, and the llama.cpp logits tests on requantized
//! files (tests/reference/make_kquant_reference.py) bound the numeric cost. The price is memory:
//! the rewritten tensors are 11–55 % larger than in the file.

use super::blocks::{quantize_row_q8_0, BLOCK_Q4_1_BYTES, QK};
use super::format::{QuantError, WeightFormat};
use super::reference::{f32_to_f16_bits, read_f16};

/// Weights per K-quant super-block.
pub const QK_K: usize = 256;

/// A GGUF type rewritten at load, and what into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transcoded {
    Q5_0,
    Q5_1,
    Q4K,
    Q5K,
    Q6K,
}

impl Transcoded {
    /// The rewritable type with this ggml id, if any.
    pub fn from_ggml_type(id: u32) -> Option<Self> {
        match id {
            6 => Some(Self::Q5_0),
            7 => Some(Self::Q5_1),
            12 => Some(Self::Q4K),
            13 => Some(Self::Q5K),
            14 => Some(Self::Q6K),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Q5_0 => "Q5_0",
            Self::Q5_1 => "Q5_1",
            Self::Q4K => "Q4_K",
            Self::Q5K => "Q5_K",
            Self::Q6K => "Q6_K",
        }
    }

    /// The format the kernels compute the rewritten tensor in.
    pub fn target(self) -> WeightFormat {
        match self {
            Self::Q4K => WeightFormat::Q4_1,
            _ => WeightFormat::Q8_0,
        }
    }

    fn block_elems(self) -> usize {
        match self {
            Self::Q5_0 | Self::Q5_1 => QK,
            _ => QK_K,
        }
    }

    fn block_bytes(self) -> usize {
        match self {
            Self::Q5_0 => 22,
            Self::Q5_1 => 24,
            Self::Q4K => 144,
            Self::Q5K => 176,
            Self::Q6K => 210,
        }
    }

    /// Dequantizes one source block (`block_bytes` bytes) into `out` (`block_elems` values),
    /// following ggml's `dequantize_row_*` in ggml-quants.c.
    fn dequantize_block(self, b: &[u8], out: &mut [f32]) {
        match self {
            Self::Q5_0 | Self::Q5_1 => {
                let d = read_f16(b, 0);
                let (m, qh_at, offset) = if self == Self::Q5_1 { (read_f16(b, 2), 4, 0) } else { (0.0, 2, 16) };
                let mut q = [0i8; QK];
                q5_ints(b, qh_at, &mut q);
                for (o, q) in out.iter_mut().zip(q) {
                    *o = f32::from(q - offset) * d + m;
                }
            }
            Self::Q4K | Self::Q5K => {
                let (d, dmin) = (read_f16(b, 0), read_f16(b, 2));
                let scales = &b[4..16];
                let (qh, qs) = if self == Self::Q5K { (Some(&b[16..48]), &b[48..176]) } else { (None, &b[16..144]) };
                for sub in 0..8 {
                    let (sc, m) = k4_scale_min(sub, scales);
                    let (scale, offset) = (d * f32::from(sc), dmin * f32::from(m));
                    let nibbles = &qs[sub / 2 * 32..sub / 2 * 32 + 32];
                    for l in 0..32 {
                        let mut q = if sub % 2 == 0 { nibbles[l] & 0x0F } else { nibbles[l] >> 4 };
                        if let Some(qh) = qh {
                            q |= ((qh[l] >> sub) & 1) << 4;
                        }
                        out[sub * 32 + l] = scale * f32::from(q) - offset;
                    }
                }
            }
            Self::Q6K => {
                let (ql, qh, sc) = (&b[0..128], &b[128..192], &b[192..208]);
                let d = read_f16(b, 208);
                for half in 0..2 {
                    let (ql, qh, sc) = (&ql[half * 64..], &qh[half * 32..], &sc[half * 8..]);
                    let y = &mut out[half * 128..half * 128 + 128];
                    for l in 0..32 {
                        let is = l / 16;
                        let q = |low: u8, shift: u8| i32::from(low | (((qh[l] >> shift) & 3) << 4)) - 32;
                        let scale = |k: usize| d * f32::from(sc[is + k] as i8);
                        y[l] = scale(0) * q(ql[l] & 0x0F, 0) as f32;
                        y[l + 32] = scale(2) * q(ql[l + 32] & 0x0F, 2) as f32;
                        y[l + 64] = scale(4) * q(ql[l] >> 4, 4) as f32;
                        y[l + 96] = scale(6) * q(ql[l + 32] >> 4, 6) as f32;
                    }
                }
            }
        }
    }

    /// Checks that `len` bytes are exactly `rows` rows of `cols` weights in this type.
    pub fn check_size(self, rows: usize, cols: usize, len: usize) -> Result<(), QuantError> {
        if cols == 0 || !cols.is_multiple_of(self.block_elems()) {
            return Err(QuantError::TranscodeShape { from: self.name(), cols });
        }
        let expected = (cols / self.block_elems() * self.block_bytes()).checked_mul(rows).ok_or(QuantError::TooLarge)?;
        if len != expected {
            return Err(QuantError::SizeMismatch { expected, actual: len });
        }
        Ok(())
    }

    /// Rewrites `rows` rows of `cols` weights (the tensor's bytes as stored) into
    /// [`Self::target`] blocks, row-major like the source.
    pub fn transcode(self, cols: usize, data: &[u8]) -> Result<Vec<u8>, QuantError> {
        if cols == 0 || !cols.is_multiple_of(self.block_elems()) {
            return Err(QuantError::TranscodeShape { from: self.name(), cols });
        }
        let row_bytes = cols / self.block_elems() * self.block_bytes();
        if !data.len().is_multiple_of(row_bytes) {
            return Err(QuantError::SizeMismatch { expected: data.len() / row_bytes * row_bytes, actual: data.len() });
        }
        let rows = data.len() / row_bytes;
        let target = self.target();
        let mut out = Vec::with_capacity(rows * target.row_bytes(cols)?);
        let mut values = vec![0.0f32; self.block_elems()];
        for block in data.chunks_exact(self.block_bytes()) {
            match self {
                Self::Q5_0 => {
                    // Exact: the 5-bit value minus 16 is the int8, the scale is kept.
                    out.extend_from_slice(&block[0..2]);
                    let mut q = [0i8; QK];
                    q5_ints(block, 2, &mut q);
                    out.extend(q.iter().map(|v| (v - 16) as u8));
                }
                Self::Q4K => push_q4k_as_q4_1(block, &mut out)?,
                _ => {
                    self.dequantize_block(block, &mut values);
                    out.extend(quantize_row_q8_0(&values)?);
                }
            }
        }
        Ok(out)
    }

    /// Dequantizes one row stored in this type (tests compare the rewrite against it).
    pub fn dequantize_row(self, row: &[u8], out: &mut [f32]) -> Result<(), QuantError> {
        if !out.len().is_multiple_of(self.block_elems()) || row.len() != out.len() / self.block_elems() * self.block_bytes() {
            return Err(QuantError::TranscodeShape { from: self.name(), cols: out.len() });
        }
        for (b, o) in row.chunks_exact(self.block_bytes()).zip(out.chunks_exact_mut(self.block_elems())) {
            self.dequantize_block(b, o);
        }
        Ok(())
    }
}

/// The 32 unsigned 5-bit values of a Q5_0/Q5_1 block whose `qh` word starts at `qh_at`
/// (low nibbles in the 16 bytes after it; bit j of `qh` is the fifth bit of element j).
fn q5_ints(b: &[u8], qh_at: usize, q: &mut [i8; QK]) {
    let qh = u32::from_le_bytes([b[qh_at], b[qh_at + 1], b[qh_at + 2], b[qh_at + 3]]);
    for (j, &byte) in b[qh_at + 4..qh_at + 20].iter().enumerate() {
        q[j] = ((byte & 0x0F) | ((((qh >> j) & 1) as u8) << 4)) as i8;
        q[j + 16] = ((byte >> 4) | ((((qh >> (j + 16)) & 1) as u8) << 4)) as i8;
    }
}

/// ggml's `get_scale_min_k4`: the 6-bit scale and min of sub-block `j` (0..8) packed in 12 bytes.
fn k4_scale_min(j: usize, q: &[u8]) -> (u8, u8) {
    if j < 4 {
        (q[j] & 63, q[j + 4] & 63)
    } else {
        ((q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4), (q[j + 4] >> 4) | ((q[j] >> 6) << 4))
    }
}

/// One Q4_K super-block as eight Q4_1 blocks (same nibbles, per-sub-block scale and offset).
fn push_q4k_as_q4_1(b: &[u8], out: &mut Vec<u8>) -> Result<(), QuantError> {
    let (d, dmin) = (read_f16(b, 0), read_f16(b, 2));
    let (scales, qs) = (&b[4..16], &b[16..144]);
    for sub in 0..8 {
        let (sc, m) = k4_scale_min(sub, scales);
        let (scale, offset) = (d * f32::from(sc), -(dmin * f32::from(m)));
        let (scale_bits, offset_bits) = (f32_to_f16_bits(scale), f32_to_f16_bits(offset));
        if !super::f16_bits_to_f32(scale_bits).is_finite() || !super::f16_bits_to_f32(offset_bits).is_finite() {
            return Err(QuantError::TooLarge);
        }
        out.extend_from_slice(&scale_bits.to_le_bytes());
        out.extend_from_slice(&offset_bits.to_le_bytes());
        let nibbles = &qs[sub / 2 * 32..sub / 2 * 32 + 32];
        let q = |l: usize| if sub % 2 == 0 { nibbles[l] & 0x0F } else { nibbles[l] >> 4 };
        // Q4_1 keeps element j in the low nibble of byte j and element j+16 in its high nibble.
        out.extend((0..16).map(|j| q(j) | (q(j + 16) << 4)));
    }
    debug_assert_eq!(out.len() % BLOCK_Q4_1_BYTES, 0);
    Ok(())
}

/// How a tensor of ggml type `id` is computed: directly, or after a rewrite.
pub fn compute_format(id: u32) -> Result<(WeightFormat, Option<Transcoded>), QuantError> {
    if let Some(t) = Transcoded::from_ggml_type(id) {
        return Ok((t.target(), Some(t)));
    }
    WeightFormat::from_ggml_type(id).map(|f| (f, None))
}

/// The tensor's bytes in a format the kernels compute with: `None` when the stored type already
/// is one (use the file's bytes), else the rewritten bytes.
pub fn transcode(id: u32, cols: usize, data: &[u8]) -> Result<Option<(WeightFormat, Vec<u8>)>, QuantError> {
    match compute_format(id)? {
        (_, None) => Ok(None),
        (format, Some(t)) => Ok(Some((format, t.transcode(cols, data)?))),
    }
}
