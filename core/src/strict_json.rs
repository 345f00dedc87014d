//! JSON text to a `serde_json::Value`, refusing duplicate object keys at any depth.
//!
//! serde_json keeps the last of two equal keys without a word, so `{"a":1,"a":2}` would
//! mean different things to different readers (and a link could hide a value behind a
//! later one). Scenario files and links both go through this parse, so the same text is
//! accepted or refused the same way wherever it comes from. Nesting is bounded by
//! serde_json's own recursion limit (128).

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Parses `text` as one JSON value; a repeated key in any object is an error that names it.
pub fn parse(text: &str) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let v = de.deserialize_any(StrictVisitor)?;
    de.end()?;
    Ok(v)
}

struct StrictVisitor;

/// One element of an array or an object's value, parsed strictly.
struct Strict(Value);

impl<'de> serde::Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // JSON text cannot spell NaN or infinity, so this is always a number.
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(Strict(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                let shown: String = key.chars().take(64).collect();
                return Err(de::Error::custom(format!("duplicate key \"{}\"", shown.escape_debug())));
            }
            let Strict(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_values_as_serde_json_without_duplicates() {
        for text in [r#"{"a":[1,-2,3.5,true,null,"x"],"b":{"c":{}}}"#, "[]", "0", r#""s""#, "1e300", "-0.0"] {
            assert_eq!(parse(text).unwrap(), serde_json::from_str::<Value>(text).unwrap(), "{text}");
        }
    }

    #[test]
    fn duplicate_keys_are_refused_at_any_depth() {
        for text in [r#"{"a":1,"a":2}"#, r#"{"x":[{"k":1,"k":1}]}"#, r#"{"p":{"q":{"r":0,"s":1,"r":0}}}"#] {
            let e = parse(text).unwrap_err().to_string();
            assert!(e.starts_with("duplicate key"), "{text}: {e}");
        }
        // Equal keys in different objects are fine.
        assert!(parse(r#"{"a":{"k":1},"b":{"k":1}}"#).is_ok());
    }

    #[test]
    fn junk_and_deep_nesting_are_refused() {
        assert!(parse(r#"{"a":1} x"#).is_err());
        assert!(parse(&format!("{}{}", "[".repeat(1000), "]".repeat(1000))).is_err());
    }
}
