//! GGUF metadata values (scalars, strings, typed and nested arrays), how they are read, and
//! typed accessors over the key/value table.

use std::collections::HashMap;

use super::cursor::Cursor;
use super::error::{GgufError, Result};

/// GGUF value type ids (`enum gguf_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueType {
    U8 = 0,
    I8 = 1,
    U16 = 2,
    I16 = 3,
    U32 = 4,
    I32 = 5,
    F32 = 6,
    Bool = 7,
    String = 8,
    Array = 9,
    U64 = 10,
    I64 = 11,
    F64 = 12,
}

impl ValueType {
    pub fn from_id(id: u32) -> Option<Self> {
        use ValueType::*;
        Some(match id {
            0 => U8,
            1 => I8,
            2 => U16,
            3 => I16,
            4 => U32,
            5 => I32,
            6 => F32,
            7 => Bool,
            8 => String,
            9 => Array,
            10 => U64,
            11 => I64,
            12 => F64,
            _ => return None,
        })
    }

    /// The fewest bytes one element of this type takes in a file (strings: the length field;
    /// arrays: type + count), used to bound counts before allocating.
    fn min_bytes(self) -> u64 {
        use ValueType::*;
        match self {
            U8 | I8 | Bool => 1,
            U16 | I16 => 2,
            U32 | I32 | F32 => 4,
            U64 | I64 | F64 | String => 8,
            Array => 12,
        }
    }
}

/// One metadata value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    U8(u8),
    I8(i8),
    U16(u16),
    I16(i16),
    U32(u32),
    I32(i32),
    F32(f32),
    Bool(bool),
    String(String),
    Array(Array),
    U64(u64),
    I64(i64),
    F64(f64),
}

/// A homogeneous array; arrays of arrays may nest (up to [`MAX_ARRAY_DEPTH`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Array {
    U8(Vec<u8>),
    I8(Vec<i8>),
    U16(Vec<u16>),
    I16(Vec<i16>),
    U32(Vec<u32>),
    I32(Vec<i32>),
    F32(Vec<f32>),
    Bool(Vec<bool>),
    String(Vec<String>),
    Array(Vec<Array>),
    U64(Vec<u64>),
    I64(Vec<i64>),
    F64(Vec<f64>),
}

/// Nesting limit for arrays of arrays, so hostile input cannot exhaust the stack.
pub const MAX_ARRAY_DEPTH: usize = 8;

impl Value {
    /// A short name of the value's type for error messages (`u32`, `array[string]`).
    pub fn type_name(&self) -> String {
        match self {
            Value::U8(_) => "u8".into(),
            Value::I8(_) => "i8".into(),
            Value::U16(_) => "u16".into(),
            Value::I16(_) => "i16".into(),
            Value::U32(_) => "u32".into(),
            Value::I32(_) => "i32".into(),
            Value::F32(_) => "f32".into(),
            Value::Bool(_) => "bool".into(),
            Value::String(_) => "string".into(),
            Value::Array(a) => format!("array[{}]", a.elem_type_name()),
            Value::U64(_) => "u64".into(),
            Value::I64(_) => "i64".into(),
            Value::F64(_) => "f64".into(),
        }
    }

    /// Any integer value, widened; `None` for floats, bools, strings and arrays.
    pub fn as_i128(&self) -> Option<i128> {
        Some(match *self {
            Value::U8(v) => v.into(),
            Value::I8(v) => v.into(),
            Value::U16(v) => v.into(),
            Value::I16(v) => v.into(),
            Value::U32(v) => v.into(),
            Value::I32(v) => v.into(),
            Value::U64(v) => v.into(),
            Value::I64(v) => v.into(),
            _ => return None,
        })
    }

    pub(crate) fn read(cur: &mut Cursor<'_>, ty: ValueType) -> Result<Value> {
        Ok(match ty {
            ValueType::U8 => Value::U8(cur.u8("u8 value")?),
            ValueType::I8 => Value::I8(cur.u8("i8 value")? as i8),
            ValueType::U16 => Value::U16(cur.u16("u16 value")?),
            ValueType::I16 => Value::I16(cur.u16("i16 value")? as i16),
            ValueType::U32 => Value::U32(cur.u32("u32 value")?),
            ValueType::I32 => Value::I32(cur.u32("i32 value")? as i32),
            ValueType::F32 => Value::F32(f32::from_bits(cur.u32("f32 value")?)),
            ValueType::Bool => Value::Bool(cur.u8("bool value")? != 0),
            ValueType::String => Value::String(cur.string("string value")?),
            ValueType::Array => Value::Array(Array::read(cur, 1)?),
            ValueType::U64 => Value::U64(cur.u64("u64 value")?),
            ValueType::I64 => Value::I64(cur.i64("i64 value")?),
            ValueType::F64 => Value::F64(f64::from_bits(cur.u64("f64 value")?)),
        })
    }
}

impl Array {
    pub fn len(&self) -> usize {
        match self {
            Array::U8(v) => v.len(),
            Array::I8(v) => v.len(),
            Array::U16(v) => v.len(),
            Array::I16(v) => v.len(),
            Array::U32(v) => v.len(),
            Array::I32(v) => v.len(),
            Array::F32(v) => v.len(),
            Array::Bool(v) => v.len(),
            Array::String(v) => v.len(),
            Array::Array(v) => v.len(),
            Array::U64(v) => v.len(),
            Array::I64(v) => v.len(),
            Array::F64(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn elem_type_name(&self) -> &'static str {
        match self {
            Array::U8(_) => "u8",
            Array::I8(_) => "i8",
            Array::U16(_) => "u16",
            Array::I16(_) => "i16",
            Array::U32(_) => "u32",
            Array::I32(_) => "i32",
            Array::F32(_) => "f32",
            Array::Bool(_) => "bool",
            Array::String(_) => "string",
            Array::Array(_) => "array",
            Array::U64(_) => "u64",
            Array::I64(_) => "i64",
            Array::F64(_) => "f64",
        }
    }

    /// Reads element type, count and elements. `depth` counts enclosing arrays.
    fn read(cur: &mut Cursor<'_>, depth: usize) -> Result<Array> {
        if depth > MAX_ARRAY_DEPTH {
            return Err(GgufError::Invalid {
                offset: cur.pos() as u64,
                reason: format!("arrays nested deeper than {MAX_ARRAY_DEPTH}"),
            });
        }
        let type_at = cur.pos() as u64;
        let type_id = cur.u32("array element type")?;
        let ty = ValueType::from_id(type_id).ok_or_else(|| GgufError::Invalid {
            offset: type_at,
            reason: format!("unknown array element type {type_id}"),
        })?;
        let count = cur.u64("array length")?;
        cur.spend_elements(count, "array length")?;
        let n = cur.count(count, ty.min_bytes(), "array length")?;

        fn fixed<T, const N: usize>(
            cur: &mut Cursor<'_>,
            n: usize,
            decode: fn([u8; N]) -> T,
        ) -> Result<Vec<T>> {
            let bytes = cur.take((n * N) as u64, "array elements")?;
            Ok(bytes
                .chunks_exact(N)
                .map(|c| decode(c.try_into().expect("chunk of N")))
                .collect())
        }
        Ok(match ty {
            ValueType::U8 => Array::U8(fixed::<_, 1>(cur, n, |b| b[0])?),
            ValueType::I8 => Array::I8(fixed::<_, 1>(cur, n, |b| b[0] as i8)?),
            ValueType::Bool => Array::Bool(fixed::<_, 1>(cur, n, |b| b[0] != 0)?),
            ValueType::U16 => Array::U16(fixed(cur, n, u16::from_le_bytes)?),
            ValueType::I16 => Array::I16(fixed(cur, n, i16::from_le_bytes)?),
            ValueType::U32 => Array::U32(fixed(cur, n, u32::from_le_bytes)?),
            ValueType::I32 => Array::I32(fixed(cur, n, i32::from_le_bytes)?),
            ValueType::F32 => Array::F32(fixed(cur, n, f32::from_le_bytes)?),
            ValueType::U64 => Array::U64(fixed(cur, n, u64::from_le_bytes)?),
            ValueType::I64 => Array::I64(fixed(cur, n, i64::from_le_bytes)?),
            ValueType::F64 => Array::F64(fixed(cur, n, f64::from_le_bytes)?),
            ValueType::String => {
                let mut out = Vec::with_capacity(n);
                for _ in 0..n {
                    out.push(cur.string("array string")?);
                }
                Array::String(out)
            }
            ValueType::Array => {
                let mut out = Vec::with_capacity(n);
                for _ in 0..n {
                    out.push(Array::read(cur, depth + 1)?);
                }
                Array::Array(out)
            }
        })
    }
}

/// The metadata table: keys in file order, with lookup by key and typed accessors.
///
/// `get_*` return an error naming the key when it is missing or has another type;
/// `get_*_opt` return `Ok(None)` when it is missing. Integer accessors accept any integer
/// type whose value fits (converters disagree on u32 vs u64 for counts).
#[derive(Clone, Debug, Default)]
pub struct Metadata {
    entries: Vec<(String, Value)>,
    index: HashMap<String, usize>,
}

macro_rules! int_getters {
    ($($get:ident $get_opt:ident $t:ty),*) => {$(
        pub fn $get_opt(&self, key: &str) -> Result<Option<$t>> {
            let Some(v) = self.get(key) else { return Ok(None) };
            let wrong = || GgufError::WrongType {
                key: key.to_owned(),
                expected: stringify!($t),
                found: v.type_name(),
            };
            let wide = v.as_i128().ok_or_else(wrong)?;
            <$t>::try_from(wide).map(Some).map_err(|_| GgufError::BadValue {
                key: key.to_owned(),
                reason: format!("{wide} does not fit in {}", stringify!($t)),
            })
        }
        pub fn $get(&self, key: &str) -> Result<$t> {
            self.$get_opt(key)?.ok_or_else(|| GgufError::MissingKey(key.to_owned()))
        }
    )*};
}

macro_rules! array_getters {
    ($($get:ident $get_opt:ident $variant:ident $t:ty),*) => {$(
        pub fn $get_opt(&self, key: &str) -> Result<Option<&[$t]>> {
            match self.get(key) {
                None => Ok(None),
                Some(Value::Array(Array::$variant(v))) => Ok(Some(v)),
                Some(other) => Err(GgufError::WrongType {
                    key: key.to_owned(),
                    expected: concat!("array[", stringify!($t), "]"),
                    found: other.type_name(),
                }),
            }
        }
        pub fn $get(&self, key: &str) -> Result<&[$t]> {
            self.$get_opt(key)?.ok_or_else(|| GgufError::MissingKey(key.to_owned()))
        }
    )*};
}

impl Metadata {
    /// Adds a pair; duplicate keys are an error (as in llama.cpp).
    pub(crate) fn insert(&mut self, key: String, value: Value, offset: u64) -> Result<()> {
        if self.index.contains_key(&key) {
            return Err(GgufError::Invalid {
                offset,
                reason: format!("duplicate metadata key '{key}'"),
            });
        }
        self.index.insert(key.clone(), self.entries.len());
        self.entries.push((key, value));
        Ok(())
    }

    pub(crate) fn with_capacity(n: usize) -> Self {
        Self {
            entries: Vec::with_capacity(n),
            index: HashMap::with_capacity(n),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Key/value pairs in file order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.index.get(key).map(|&i| &self.entries[i].1)
    }

    pub fn contains(&self, key: &str) -> bool {
        self.index.contains_key(key)
    }

    int_getters!(get_u32 get_u32_opt u32, get_u64 get_u64_opt u64, get_i32 get_i32_opt i32,
                 get_i64 get_i64_opt i64, get_usize get_usize_opt usize);

    array_getters!(get_str_array get_str_array_opt String String,
                   get_i32_array get_i32_array_opt I32 i32,
                   get_u32_array get_u32_array_opt U32 u32,
                   get_f32_array get_f32_array_opt F32 f32);

    /// An `f32` (an `f64` is narrowed).
    pub fn get_f32_opt(&self, key: &str) -> Result<Option<f32>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::F32(v)) => Ok(Some(*v)),
            Some(Value::F64(v)) => Ok(Some(*v as f32)),
            Some(other) => Err(GgufError::WrongType {
                key: key.to_owned(),
                expected: "f32",
                found: other.type_name(),
            }),
        }
    }
    pub fn get_f32(&self, key: &str) -> Result<f32> {
        self.get_f32_opt(key)?
            .ok_or_else(|| GgufError::MissingKey(key.to_owned()))
    }

    pub fn get_bool_opt(&self, key: &str) -> Result<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(v)) => Ok(Some(*v)),
            Some(other) => Err(GgufError::WrongType {
                key: key.to_owned(),
                expected: "bool",
                found: other.type_name(),
            }),
        }
    }
    pub fn get_bool(&self, key: &str) -> Result<bool> {
        self.get_bool_opt(key)?
            .ok_or_else(|| GgufError::MissingKey(key.to_owned()))
    }

    pub fn get_str_opt(&self, key: &str) -> Result<Option<&str>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(v)) => Ok(Some(v)),
            Some(other) => Err(GgufError::WrongType {
                key: key.to_owned(),
                expected: "string",
                found: other.type_name(),
            }),
        }
    }
    pub fn get_str(&self, key: &str) -> Result<&str> {
        self.get_str_opt(key)?
            .ok_or_else(|| GgufError::MissingKey(key.to_owned()))
    }

    /// Any array, for nested or unusual element types.
    pub fn get_array(&self, key: &str) -> Result<&Array> {
        match self.get(key) {
            None => Err(GgufError::MissingKey(key.to_owned())),
            Some(Value::Array(a)) => Ok(a),
            Some(other) => Err(GgufError::WrongType {
                key: key.to_owned(),
                expected: "array",
                found: other.type_name(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(pairs: Vec<(&str, Value)>) -> Metadata {
        let mut m = Metadata::default();
        for (k, v) in pairs {
            m.insert(k.to_owned(), v, 0).unwrap();
        }
        m
    }

    #[test]
    fn integer_getters_widen_and_check_range() {
        let m = meta(vec![
            ("a", Value::U64(7)),
            ("b", Value::I32(-1)),
            ("c", Value::F32(1.5)),
        ]);
        assert_eq!(m.get_u32("a").unwrap(), 7);
        assert_eq!(m.get_i64("b").unwrap(), -1);
        assert!(matches!(m.get_u32("b"), Err(GgufError::BadValue { .. })));
        assert!(matches!(m.get_u32("c"), Err(GgufError::WrongType { .. })));
        assert!(matches!(m.get_u32("zzz"), Err(GgufError::MissingKey(_))));
        assert_eq!(m.get_u32_opt("zzz").unwrap(), None);
        assert_eq!(m.get_f32("c").unwrap(), 1.5);
    }

    #[test]
    fn duplicate_keys_are_rejected() {
        let mut m = Metadata::default();
        m.insert("k".into(), Value::Bool(true), 0).unwrap();
        assert!(m.insert("k".into(), Value::Bool(false), 9).is_err());
        assert!(m.get_bool("k").unwrap());
    }

    #[test]
    fn array_getters_check_element_type() {
        let m = meta(vec![
            ("s", Value::Array(Array::String(vec!["x".into()]))),
            ("i", Value::Array(Array::I32(vec![1, 2]))),
        ]);
        assert_eq!(m.get_str_array("s").unwrap(), ["x".to_string()]);
        assert_eq!(m.get_i32_array("i").unwrap(), [1, 2]);
        let err = m.get_str_array("i").unwrap_err();
        assert!(err.to_string().contains("array[i32]"), "{err}");
    }
}
