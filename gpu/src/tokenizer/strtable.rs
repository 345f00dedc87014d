//! An append-only string table: all strings in one buffer, found by an open-addressing hash
//! index. Loading a 49k-token vocabulary this way makes one allocation instead of ~100k and
//! keeps lookups cache-friendly; a `HashMap<Box<str>, u32>` made tokenizer loading several
//! times slower (measured with `examples/tokenizer_bench.rs --profile-load`).

/// Strings numbered in insertion order; lookups find the most recently added equal string.
#[derive(Clone, Debug, Default)]
pub(crate) struct StrTable {
    buf: String,
    ends: Vec<u32>,
    /// Per slot: upper hash bits (to skip most string comparisons) << 32 | `id + 1`, or 0 when
    /// empty. One word per slot keeps a probe to one cache line. Length is a power of two, at
    /// most half full.
    slots: Vec<u64>,
}

/// Fx-style multiply-rotate over 8-byte words, with a final mix so the low bits (the slot)
/// depend on the whole string.
fn hash(s: &[u8]) -> u64 {
    const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
    let mut h: u64 = s.len() as u64;
    let mut chunks = s.chunks_exact(8);
    for c in &mut chunks {
        h = (h.rotate_left(5) ^ u64::from_le_bytes(c.try_into().expect("8 bytes"))).wrapping_mul(K);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut buf = [0u8; 8];
        buf[..rest.len()].copy_from_slice(rest);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(buf)).wrapping_mul(K);
    }
    (h ^ (h >> 31)).wrapping_mul(0xbf58_476d_1ce4_e5b9) ^ (h >> 29)
}

impl StrTable {
    pub fn with_capacity(n: usize, bytes: usize) -> Self {
        let mut t = Self {
            buf: String::with_capacity(bytes),
            ends: Vec::with_capacity(n),
            ..Self::default()
        };
        t.rehash((2 * n).next_power_of_two().max(16));
        t
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn get(&self, id: u32) -> Option<&str> {
        let i = id as usize;
        let end = *self.ends.get(i)? as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        Some(&self.buf[start..end])
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.len() as u32).map(|i| self.get(i).expect("in range"))
    }

    /// The id of `s`, if present.
    pub fn find(&self, s: &str) -> Option<u32> {
        let h = hash(s.as_bytes());
        let mask = self.slots.len() - 1;
        let tag = h >> 32;
        let mut i = h as usize & mask;
        loop {
            let slot = self.slots[i];
            if slot == 0 {
                return None;
            }
            let id = (slot as u32).wrapping_sub(1);
            if slot >> 32 == tag && self.get(id) == Some(s) {
                return Some(id);
            }
            i = (i + 1) & mask;
        }
    }

    /// Appends `s` and returns its id; an equal earlier string is shadowed for `find`.
    pub fn push(&mut self, s: &str) -> u32 {
        if 2 * (self.len() + 1) > self.slots.len() {
            self.rehash((2 * self.slots.len()).max(16));
        }
        let id = self.len() as u32;
        self.buf.push_str(s);
        self.ends.push(self.buf.len() as u32);
        self.index(id);
        id
    }

    fn index(&mut self, id: u32) {
        let s = self.get(id).expect("just pushed").as_bytes();
        let h = hash(s);
        let mask = self.slots.len() - 1;
        let tag = h >> 32;
        let mut i = h as usize & mask;
        loop {
            let slot = self.slots[i];
            let same = slot != 0
                && slot >> 32 == tag
                && self.get((slot as u32).wrapping_sub(1)).map(str::as_bytes) == Some(s);
            if slot == 0 || same {
                self.slots[i] = tag << 32 | u64::from(id + 1);
                return;
            }
            i = (i + 1) & mask;
        }
    }

    fn rehash(&mut self, n_slots: usize) {
        self.slots = vec![0; n_slots];
        for id in 0..self.len() as u32 {
            self.index(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::StrTable;

    #[test]
    fn finds_strings_and_prefers_later_duplicates() {
        let mut t = StrTable::with_capacity(2, 8);
        let words: Vec<String> = (0..1000).map(|i| format!("w{i}")).collect();
        for w in &words {
            t.push(w);
        }
        for (i, w) in words.iter().enumerate() {
            assert_eq!(t.find(w), Some(i as u32));
            assert_eq!(t.get(i as u32), Some(w.as_str()));
        }
        assert_eq!(t.find("nope"), None);
        assert_eq!(t.find(""), None);
        let dup = t.push("w5");
        assert_eq!(t.find("w5"), Some(dup));
        assert_eq!(t.get(5), Some("w5"));
        let empty = t.push("");
        assert_eq!(t.find(""), Some(empty));
        assert_eq!(t.get(99_999), None);
    }
}
