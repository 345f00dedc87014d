//! A bounds-checked little-endian reader over a byte slice: every read either succeeds or
//! returns [`GgufError::Truncated`], and no count read from the file is trusted before it
//! has been compared with the bytes that remain.

use super::error::{GgufError, Result};

pub(crate) struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Array elements still allowed in this header (all arrays together).
    elements_left: u64,
}

impl<'a> Cursor<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            pos: 0,
            elements_left: super::MAX_ARRAY_ELEMENTS,
        }
    }

    /// Takes `n` elements from the header-wide array budget: every element becomes a
    /// value in memory several times its size in the file (a `String`, an `Array`), so
    /// the total is capped, not only what the remaining bytes could hold.
    pub fn spend_elements(&mut self, n: u64, what: &str) -> Result<()> {
        if n > self.elements_left {
            return Err(GgufError::TooLarge {
                what: format!("{what} (array elements in the header)"),
                value: n,
                limit: self.elements_left,
            });
        }
        self.elements_left -= n;
        Ok(())
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    pub fn take(&mut self, n: u64, what: &'static str) -> Result<&'a [u8]> {
        if n > self.remaining() as u64 {
            return Err(GgufError::Truncated {
                what,
                needed: (self.pos as u64).saturating_add(n),
                available: self.bytes.len() as u64,
            });
        }
        let n = n as usize;
        let slice = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(slice)
    }

    pub fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N]> {
        let slice = self.take(N as u64, what)?;
        Ok(slice.try_into().expect("take returned N bytes"))
    }

    pub fn u8(&mut self, what: &'static str) -> Result<u8> {
        Ok(self.array::<1>(what)?[0])
    }
    pub fn u16(&mut self, what: &'static str) -> Result<u16> {
        Ok(u16::from_le_bytes(self.array(what)?))
    }
    pub fn u32(&mut self, what: &'static str) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }
    pub fn u64(&mut self, what: &'static str) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }
    pub fn i64(&mut self, what: &'static str) -> Result<i64> {
        Ok(i64::from_le_bytes(self.array(what)?))
    }

    /// A GGUF string: u64 length then that many bytes. Invalid UTF-8 is replaced (U+FFFD)
    /// rather than rejected, as llama.cpp does not validate it either.
    pub fn string(&mut self, what: &'static str) -> Result<String> {
        let len = self.u64(what)?;
        let bytes = self.take(len, what)?;
        Ok(match std::str::from_utf8(bytes) {
            Ok(s) => s.to_owned(),
            Err(_) => String::from_utf8_lossy(bytes).into_owned(),
        })
    }

    /// Checks that `count` items of at least `min_item_bytes` each can still be present,
    /// and returns the count as a capacity that is safe to pre-allocate. When the bytes are
    /// a prefix of the file, "not present yet" is [`GgufError::Truncated`] with the size to
    /// fetch (the header cap then decides); a count whose size overflows is `TooLarge`.
    pub fn count(&mut self, count: u64, min_item_bytes: u64, what: &'static str) -> Result<usize> {
        let needed = count
            .checked_mul(min_item_bytes.max(1))
            .and_then(|n| n.checked_add(self.pos as u64));
        match needed {
            Some(n) if n <= self.bytes.len() as u64 => Ok(count as usize),
            Some(n) => Err(GgufError::Truncated {
                what,
                needed: n,
                available: self.bytes.len() as u64,
            }),
            None => Err(GgufError::TooLarge {
                what: what.to_owned(),
                value: count,
                limit: self.remaining() as u64 / min_item_bytes.max(1),
            }),
        }
    }
}
