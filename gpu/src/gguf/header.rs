//! Parsing a GGUF header (magic, version, metadata, tensor infos) and locating tensor data.

use std::collections::HashMap;

use super::cursor::Cursor;
use super::dtype::GgmlType;
use super::error::{GgufError, Result};
use super::tensor::TensorInfo;
use super::value::{Metadata, Value, ValueType};
use super::{MAX_HEADER_BYTES, MAX_METADATA_KEYS, MAX_TENSORS};

/// Alignment of the data section when `general.alignment` is absent.
pub const DEFAULT_ALIGNMENT: u64 = 32;

/// Fewest bytes one key/value pair takes (key length, value type, one-byte value).
const MIN_KV_BYTES: u64 = 8 + 4 + 1;
/// Fewest bytes one tensor info takes (name length, n_dims, type, offset).
const MIN_TENSOR_INFO_BYTES: u64 = 8 + 4 + 4 + 8;

/// A parsed GGUF header. It owns no tensor data: use [`Gguf::tensor_data`] with the file's
/// bytes, or [`super::GgufFile`] which keeps both together.
#[derive(Clone, Debug)]
pub struct Gguf {
    pub version: u32,
    pub metadata: Metadata,
    /// Tensors in file order.
    pub tensors: Vec<TensorInfo>,
    tensor_index: HashMap<String, usize>,
    pub alignment: u64,
    /// Absolute offset of the data section (tensor offsets are relative to it).
    pub data_offset: u64,
    /// Bytes from the start of the data section to the end of the last tensor.
    pub data_size: u64,
}

impl Gguf {
    /// Parses a complete file held in memory and checks that every tensor's data is present.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let gguf = Self::parse_header(bytes)?;
        let needed = gguf.file_size();
        if needed > bytes.len() as u64 {
            return Err(GgufError::Truncated {
                what: "tensor data",
                needed,
                available: bytes.len() as u64,
            });
        }
        Ok(gguf)
    }

    /// Parses the header from a prefix of the file; tensor data may be absent. If the prefix
    /// is too short the error is [`GgufError::Truncated`] with the byte count to fetch, which
    /// lets a streaming loader read the header before the weights arrive.
    pub fn parse_header(prefix: &[u8]) -> Result<Self> {
        // Past MAX_HEADER_BYTES the header is refused, however much of the file is here.
        let cap = prefix.len().min(MAX_HEADER_BYTES as usize);
        Self::parse_header_within(&prefix[..cap]).map_err(|e| match e {
            GgufError::Truncated { what, needed, .. } if needed > MAX_HEADER_BYTES => GgufError::TooLarge {
                what: format!("header size (reading the {what})"),
                value: needed,
                limit: MAX_HEADER_BYTES,
            },
            e => e,
        })
    }

    fn parse_header_within(prefix: &[u8]) -> Result<Self> {
        let mut cur = Cursor::new(prefix);
        let magic = cur.array::<4>("magic")?;
        if &magic != b"GGUF" {
            return Err(GgufError::BadMagic(magic));
        }
        let version = cur.u32("version")?;
        if version & 0xFFFF == 0 && version != 0 {
            return Err(GgufError::BigEndian);
        }
        if !(2..=3).contains(&version) {
            return Err(GgufError::UnsupportedVersion(version));
        }
        let n_tensors = cur.u64("tensor count")?;
        let n_kv = cur.u64("metadata count")?;
        for (what, n, cap) in [("tensor count", n_tensors, MAX_TENSORS), ("metadata count", n_kv, MAX_METADATA_KEYS)] {
            if n > cap {
                return Err(GgufError::TooLarge { what: what.into(), value: n, limit: cap });
            }
        }
        // Tensor infos follow the metadata, so both must fit in what remains.
        cur.count(n_tensors, MIN_TENSOR_INFO_BYTES, "tensor count")?;
        let n_kv = cur.count(n_kv, MIN_KV_BYTES, "metadata count")?;

        let mut metadata = Metadata::with_capacity(n_kv);
        for _ in 0..n_kv {
            let at = cur.pos() as u64;
            let key = cur.string("metadata key")?;
            if key.is_empty() {
                return Err(GgufError::Invalid {
                    offset: at,
                    reason: "empty metadata key".into(),
                });
            }
            let type_at = cur.pos() as u64;
            let type_id = cur.u32("metadata value type")?;
            let ty = ValueType::from_id(type_id).ok_or_else(|| GgufError::Invalid {
                offset: type_at,
                reason: format!("key '{key}' has unknown value type {type_id}"),
            })?;
            let value = Value::read(&mut cur, ty)?;
            metadata.insert(key, value, at)?;
        }

        let alignment = match metadata.get("general.alignment") {
            None => DEFAULT_ALIGNMENT,
            Some(Value::U32(a)) if a.is_power_of_two() => u64::from(*a),
            Some(other) => {
                return Err(GgufError::BadValue {
                    key: "general.alignment".into(),
                    reason: format!("must be a power-of-two u32, found {other:?}"),
                });
            }
        };

        let n_tensors = cur.count(n_tensors, MIN_TENSOR_INFO_BYTES, "tensor count")?;
        let mut tensors = Vec::with_capacity(n_tensors);
        let mut tensor_index = HashMap::with_capacity(n_tensors);
        for i in 0..n_tensors {
            let info = TensorInfo::read(&mut cur)?;
            if info.offset % alignment != 0 {
                return Err(GgufError::BadTensor {
                    name: info.name,
                    reason: format!(
                        "offset {} is not a multiple of the alignment {alignment}",
                        info.offset
                    ),
                });
            }
            if tensor_index.insert(info.name.clone(), i).is_some() {
                return Err(GgufError::BadTensor {
                    name: info.name,
                    reason: "duplicate tensor name".into(),
                });
            }
            tensors.push(info);
        }

        let header_end = cur.pos() as u64;
        let data_offset = if n_tensors == 0 {
            header_end
        } else {
            header_end.next_multiple_of(alignment)
        };
        let data_size = check_layout(&tensors, data_offset)?;
        Ok(Self {
            version,
            metadata,
            tensors,
            tensor_index,
            alignment,
            data_offset,
            data_size,
        })
    }

    /// Bytes the whole file needs: the header, padding and all tensor data.
    pub fn file_size(&self) -> u64 {
        self.data_offset + self.data_size
    }

    /// `general.architecture`, e.g. `llama`.
    pub fn architecture(&self) -> Result<&str> {
        self.metadata.get_str("general.architecture")
    }

    pub fn tensor(&self, name: &str) -> Option<&TensorInfo> {
        self.tensor_index.get(name).map(|&i| &self.tensors[i])
    }

    /// The named tensor, checked to have one of `dtypes` (any, if empty) and exactly `dims`
    /// (ggml order; trailing dimensions of 1 may be omitted on either side).
    pub fn require_tensor(
        &self,
        name: &str,
        dtypes: &[GgmlType],
        dims: &[u64],
    ) -> Result<&TensorInfo> {
        let info = self
            .tensor(name)
            .ok_or_else(|| GgufError::MissingTensor(name.to_owned()))?;
        if !dtypes.is_empty() && !dtypes.contains(&info.dtype) {
            return Err(GgufError::UnsupportedType {
                name: name.to_owned(),
                dtype: info.dtype,
                accepted: dtypes.to_vec(),
            });
        }
        if trim_ones(info.dims()) != trim_ones(dims) {
            return Err(GgufError::WrongShape {
                name: name.to_owned(),
                expected: dims.to_vec(),
                found: info.dims().to_vec(),
            });
        }
        Ok(info)
    }

    /// Absolute byte range of a tensor's data in the file.
    pub fn tensor_range(&self, info: &TensorInfo) -> std::ops::Range<u64> {
        let start = self.data_offset + info.offset;
        start..start + info.n_bytes
    }

    /// A zero-copy view of a tensor's data inside `file` (the whole file, or at least its
    /// first [`Gguf::file_size`] bytes).
    pub fn tensor_data<'a>(&self, file: &'a [u8], info: &TensorInfo) -> Result<&'a [u8]> {
        let range = self.tensor_range(info);
        if range.end > file.len() as u64 {
            return Err(GgufError::Truncated {
                what: "tensor data",
                needed: range.end,
                available: file.len() as u64,
            });
        }
        Ok(&file[range.start as usize..range.end as usize])
    }
}

fn trim_ones(dims: &[u64]) -> &[u64] {
    let keep = dims.iter().rposition(|&d| d != 1).map_or(0, |i| i + 1);
    &dims[..keep]
}

/// Checks that tensor data ranges do not overflow or overlap; returns the data section size.
fn check_layout(tensors: &[TensorInfo], data_offset: u64) -> Result<u64> {
    let mut order: Vec<&TensorInfo> = tensors.iter().collect();
    order.sort_by_key(|t| t.offset);
    let mut end = 0u64;
    let mut previous: Option<&TensorInfo> = None;
    for t in order {
        let t_end = t
            .offset
            .checked_add(t.n_bytes)
            .filter(|e| e.checked_add(data_offset).is_some())
            .ok_or_else(|| GgufError::BadTensor {
                name: t.name.clone(),
                reason: format!("offset {} plus size {} overflows", t.offset, t.n_bytes),
            })?;
        if let Some(p) = previous
            && t.offset < end
            && t.n_bytes > 0
        {
            return Err(GgufError::BadTensor {
                name: t.name.clone(),
                reason: format!("data overlaps tensor '{}'", p.name),
            });
        }
        if t_end > end {
            end = t_end;
            previous = Some(t);
        }
    }
    Ok(end)
}
