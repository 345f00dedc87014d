//! Matrix × vector(s) over GGUF weight blocks: activation quantization and kernel dispatch.
//!
//! `matmul` takes `n` activation vectors at once (batched prefill): the SIMD kernels decode each
//! weight block once and use it for every vector.

use std::ops::Range;

use super::blocks::{dequantize_row, QK};
use super::format::{QuantError, WeightFormat};
use super::reference::{self, round_to_f16};

/// A borrowed weight matrix in its file format: `rows` outputs × `cols` inputs.
#[derive(Clone, Copy, Debug)]
pub struct QMatrix<'a> {
    pub format: WeightFormat,
    pub rows: usize,
    pub cols: usize,
    pub data: &'a [u8],
    row_bytes: usize,
}

impl<'a> QMatrix<'a> {
    pub fn new(format: WeightFormat, rows: usize, cols: usize, data: &'a [u8]) -> Result<Self, QuantError> {
        let row_bytes = format.row_bytes(cols)?;
        let expected = row_bytes.checked_mul(rows).ok_or(QuantError::TooLarge)?;
        if data.len() != expected {
            return Err(QuantError::SizeMismatch { expected, actual: data.len() });
        }
        Ok(Self { format, rows, cols, data, row_bytes })
    }

    pub fn row_bytes(&self) -> usize {
        self.row_bytes
    }

    /// The raw bytes of row `r` (panics if `r >= rows`).
    pub fn row(&self, r: usize) -> &'a [u8] {
        &self.data[r * self.row_bytes..(r + 1) * self.row_bytes]
    }

    /// Row `r` as f32 (embedding lookup; tests).
    pub fn dequantize_row(&self, r: usize, out: &mut [f32]) -> Result<(), QuantError> {
        if r >= self.rows {
            return Err(QuantError::SizeMismatch { expected: self.rows, actual: r });
        }
        dequantize_row(self.format, self.row(r), out)
    }
}

/// How activations are prepared for a weight format (llama.cpp's `vec_dot_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActFormat {
    /// Blocks of 32 int8 with an f16 scale (Q8_0), plus the block sums Q8_1 carries.
    Q8,
    /// f32 values rounded to f16 precision.
    F16,
    F32,
}

impl ActFormat {
    pub fn for_weights(format: WeightFormat) -> Self {
        match format {
            WeightFormat::Q4_0 | WeightFormat::Q4_1 | WeightFormat::Q8_0 => Self::Q8,
            WeightFormat::F16 => Self::F16,
            WeightFormat::F32 => Self::F32,
        }
    }
}

/// `n` activation vectors of `cols` elements, prepared once and reused by every matrix that reads
/// them (q/k/v share one, gate/up share one).
#[derive(Clone, Debug)]
pub struct QuantizedActs {
    pub format: ActFormat,
    pub n: usize,
    pub cols: usize,
    /// Q8: int8 values, `n × cols`.
    pub qs: Vec<i8>,
    /// Q8: block scale (rounded to f16 precision, as stored by llama.cpp), `n × cols/32`.
    pub d: Vec<f32>,
    /// Q8: Q8_1's `s = f16(d · Σq)` per block (used with Q4_1 weights).
    pub s: Vec<f32>,
    /// Q8: `d · Σq` in f32 (used with Q4_0 weights, whose −8 offset it carries).
    pub sd: Vec<f32>,
    /// F16/F32: the (rounded) values, `n × cols`.
    pub f: Vec<f32>,
    /// Q8, x86_64: each pair of blocks' scales spread over 16 lanes (`[d_b ×8, d_b+1 ×8]`,
    /// zero past the last block), `n × ⌈cols/64⌉ × 16`: what the AVX-512 kernel multiplies by.
    pub d_pairs: Vec<f32>,
}

impl QuantizedActs {
    pub fn empty(format: ActFormat) -> Self {
        Self { format, n: 0, cols: 0, qs: Vec::new(), d: Vec::new(), s: Vec::new(), sd: Vec::new(), f: Vec::new(), d_pairs: Vec::new() }
    }

    /// Prepares `x` (`n × cols`, row-major) for matrices in `format`.
    pub fn new(format: WeightFormat, x: &[f32], cols: usize) -> Result<Self, QuantError> {
        let mut acts = Self::empty(ActFormat::for_weights(format));
        acts.quantize(ActFormat::for_weights(format), x, cols)?;
        Ok(acts)
    }

    /// Re-fills this buffer (no allocation once it has grown to the largest size used).
    pub fn quantize(&mut self, format: ActFormat, x: &[f32], cols: usize) -> Result<(), QuantError> {
        if cols == 0 || !x.len().is_multiple_of(cols) {
            return Err(QuantError::SizeMismatch { expected: cols, actual: x.len() });
        }
        self.format = format;
        self.cols = cols;
        self.n = x.len() / cols;
        match format {
            ActFormat::Q8 => {
                if !cols.is_multiple_of(QK) {
                    return Err(QuantError::RowNotBlockAligned { format: WeightFormat::Q8_0, cols });
                }
                let nb = x.len() / QK;
                self.qs.resize(x.len(), 0);
                self.d.resize(nb, 0.0);
                self.s.resize(nb, 0.0);
                self.sd.resize(nb, 0.0);
                for (b, block) in x.chunks_exact(QK).enumerate() {
                    let q = &mut self.qs[b * QK..(b + 1) * QK];
                    let (d, sum) = quantize_block_q8(block, q);
                    let d_rounded = round_to_f16(d);
                    self.d[b] = d_rounded;
                    self.s[b] = round_to_f16(d * sum as f32);
                    self.sd[b] = d_rounded * sum as f32;
                }
                #[cfg(target_arch = "x86_64")]
                {
                    let per_row = cols / QK;
                    let pairs = per_row.div_ceil(2);
                    self.d_pairs.clear();
                    for v in 0..self.n {
                        let d = &self.d[v * per_row..(v + 1) * per_row];
                        for p in 0..pairs {
                            let (a, b) = (d[2 * p], d.get(2 * p + 1).copied().unwrap_or(0.0));
                            self.d_pairs.extend([a; 8]);
                            self.d_pairs.extend([b; 8]);
                        }
                    }
                }
            }
            ActFormat::F16 => {
                self.f.clear();
                self.f.extend(x.iter().map(|&v| round_to_f16(v)));
            }
            ActFormat::F32 => {
                self.f.clear();
                self.f.extend_from_slice(x);
            }
        }
        Ok(())
    }
}

/// One block of activations → int8, the way llama.cpp's AVX2 `quantize_row_q8_0/1` does it
/// (`id = 127/amax`, round half to even). Returns the unrounded scale and Σq.
fn quantize_block_q8(x: &[f32], q: &mut [i8]) -> (f32, i32) {
    let amax = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let d = amax / 127.0;
    let id = if amax != 0.0 { 127.0 / amax } else { 0.0 };
    let mut sum = 0i32;
    // |x·id| ≤ 127, so adding and subtracting 1.5·2^23 rounds half to even (the default FP
    // mode) without the libm `rintf` call `round_ties_even` costs on baseline x86-64/wasm.
    const MAGIC: f32 = 12_582_912.0;
    for (qv, xv) in q.iter_mut().zip(x) {
        let v = ((xv * id + MAGIC) - MAGIC) as i8;
        *qv = v;
        sum += i32::from(v);
    }
    (d, sum)
}

/// The instruction set a kernel uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    Scalar,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    /// AVX2 plus AVX-512 with VNNI (`vpdpbusd`) for the quantized formats.
    #[cfg(target_arch = "x86_64")]
    Avx512,
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    Simd128,
}

impl Kernel {
    /// The fastest kernel this machine runs.
    pub fn best() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if Self::Avx512.available() {
                return Self::Avx512;
            }
            if Self::Avx2.available() {
                return Self::Avx2;
            }
        }
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        {
            return Self::Simd128;
        }
        #[allow(unreachable_code)]
        Self::Scalar
    }
}

impl Kernel {
    /// Whether this machine runs the kernel.
    pub fn available(self) -> bool {
        match self {
            Kernel::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") && is_x86_feature_detected!("f16c"),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => {
                Kernel::Avx2.available()
                    && is_x86_feature_detected!("avx512f")
                    && is_x86_feature_detected!("avx512bw")
                    && is_x86_feature_detected!("avx512vl")
                    && is_x86_feature_detected!("avx512vnni")
            }
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            Kernel::Simd128 => true,
        }
    }

    /// Every kernel this machine runs, the portable one first (tests compare them).
    pub fn all_available() -> Vec<Kernel> {
        let all = [
            Kernel::Scalar,
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2,
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512,
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            Kernel::Simd128,
        ];
        all.into_iter().filter(|k| k.available()).collect()
    }
}

/// Name of the kernel set `matmul` uses here ("avx512-vnni", "avx2", "simd128" or "scalar").
pub fn kernel_name() -> &'static str {
    match Kernel::best() {
        Kernel::Scalar => "scalar",
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx2 => "avx2",
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx512 => "avx512-vnni",
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        Kernel::Simd128 => "simd128",
    }
}

fn check_shapes(w: &QMatrix, acts: &QuantizedActs, out_len: usize) -> Result<(), QuantError> {
    if acts.cols != w.cols {
        return Err(QuantError::SizeMismatch { expected: w.cols, actual: acts.cols });
    }
    if acts.format != ActFormat::for_weights(w.format) {
        return Err(QuantError::UnsupportedType(w.format.ggml_type()));
    }
    if out_len != acts.n * w.rows {
        return Err(QuantError::SizeMismatch { expected: acts.n * w.rows, actual: out_len });
    }
    Ok(())
}

/// `out[v·rows + r] = Σ_c w[r][c] · x_v[c]` for every activation vector `v`.
pub fn matmul(w: &QMatrix, acts: &QuantizedActs, out: &mut [f32]) -> Result<(), QuantError> {
    check_shapes(w, acts, out.len())?;
    let rows = w.rows;
    // SAFETY: `out` has n × rows elements (checked) and this call covers every row once.
    unsafe { matmul_rows_raw(Kernel::best(), w, acts, 0..rows, OutPtr(out.as_mut_ptr()), rows) };
    Ok(())
}

/// Same as [`matmul`] with a chosen kernel (tests compare kernels).
pub fn matmul_with(kernel: Kernel, w: &QMatrix, acts: &QuantizedActs, out: &mut [f32]) -> Result<(), QuantError> {
    check_shapes(w, acts, out.len())?;
    let rows = w.rows;
    // SAFETY: as in `matmul`.
    unsafe { matmul_rows_raw(kernel, w, acts, 0..rows, OutPtr(out.as_mut_ptr()), rows) };
    Ok(())
}

/// A raw output pointer that threads writing disjoint row ranges can share.
#[derive(Clone, Copy)]
pub struct OutPtr(pub *mut f32);
// SAFETY: callers of `matmul_rows` guarantee that concurrent users write disjoint elements.
unsafe impl Send for OutPtr {}
unsafe impl Sync for OutPtr {}

/// Computes only output rows `rows` of [`matmul`] (a thread's share).
///
/// # Safety
/// `out` must point to `acts.n × w.rows` writable f32s, no one else may access the elements of
/// these rows during the call, and shapes must have been checked with the same `w` and `acts`.
pub unsafe fn matmul_rows(w: &QMatrix, acts: &QuantizedActs, rows: Range<usize>, out: OutPtr) {
    unsafe { matmul_rows_raw(Kernel::best(), w, acts, rows, out, w.rows) }
}

/// Shapes are checked by the callers.
unsafe fn matmul_rows_raw(kernel: Kernel, w: &QMatrix, acts: &QuantizedActs, rows: Range<usize>, out: OutPtr, stride: usize) {
    debug_assert!(rows.end <= w.rows);
    match kernel {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: Kernel::Avx2 is only chosen when the CPU has AVX2, FMA and F16C.
        Kernel::Avx2 => unsafe { super::avx2::matmul_rows(w, acts, rows, out.0, stride) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: Kernel::Avx512 is only chosen when the CPU has AVX-512 F/BW/VL/VNNI and AVX2.
        Kernel::Avx512 => unsafe { super::avx512::matmul_rows(w, acts, rows, out.0, stride) },
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        Kernel::Simd128 => unsafe { super::simd128::matmul_rows(w, acts, rows, out.0, stride) },
        Kernel::Scalar => {
            for r in rows {
                for v in 0..acts.n {
                    let value = dot_row_scalar(w, r, acts, v);
                    // SAFETY: r < rows and v < n; the caller owns these elements.
                    unsafe { *out.0.add(v * stride + r) = value };
                }
            }
        }
    }
}

/// Row `r` of `w` · activation vector `v`, portable scalar code.
pub(crate) fn dot_row_scalar(w: &QMatrix, r: usize, acts: &QuantizedActs, v: usize) -> f32 {
    let row = w.row(r);
    let cols = acts.cols;
    let nb = cols / QK;
    let q8 = || (&acts.qs[v * cols..(v + 1) * cols], &acts.d[v * nb..(v + 1) * nb]);
    match w.format {
        WeightFormat::Q4_0 => {
            let (qs, d) = q8();
            let sd = &acts.sd[v * nb..(v + 1) * nb];
            reference::dot_q4_0_q8(row, qs, d, sd)
        }
        WeightFormat::Q4_1 => {
            let (qs, d) = q8();
            reference::dot_q4_1_q8(row, qs, d, &acts.s[v * nb..(v + 1) * nb])
        }
        WeightFormat::Q8_0 => {
            let (qs, d) = q8();
            reference::dot_q8_0_q8(row, qs, d)
        }
        WeightFormat::F16 => reference::dot_f16_f32(row, &acts.f[v * cols..(v + 1) * cols]),
        WeightFormat::F32 => reference::dot_f32_bytes(row, &acts.f[v * cols..(v + 1) * cols]),
    }
}

/// Convenience: `out = w · x` for one vector, preparing the activations here.
pub fn matvec(w: &QMatrix, x: &[f32], out: &mut [f32]) -> Result<(), QuantError> {
    if x.len() != w.cols {
        return Err(QuantError::SizeMismatch { expected: w.cols, actual: x.len() });
    }
    let acts = QuantizedActs::new(w.format, x, w.cols)?;
    matmul(w, &acts, out)
}

/// The exact reference: dequantize each row to f32 and dot it with unquantized `x` in f32.
pub fn matvec_f32_reference(w: &QMatrix, x: &[f32], out: &mut [f32]) -> Result<(), QuantError> {
    if x.len() != w.cols {
        return Err(QuantError::SizeMismatch { expected: w.cols, actual: x.len() });
    }
    if out.len() != w.rows {
        return Err(QuantError::SizeMismatch { expected: w.rows, actual: out.len() });
    }
    let mut row = vec![0.0f32; w.cols];
    for (r, o) in out.iter_mut().enumerate() {
        w.dequantize_row(r, &mut row)?;
        *o = reference::dot_f32(&row, x);
    }
    Ok(())
}
