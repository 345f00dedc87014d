//! Share links: scenario ⇄ `#s=<version>.<payload>`.
//!
//! payload = base64url (no padding) of raw-deflated compact JSON. The JSON is either the
//! whole scenario or, when the scenario derives from a built-in (its `id` names one) and
//! that is shorter, `{"$base": id, "$patch": <RFC 7386 merge patch>}` against the
//! built-in: a lightly edited built-in becomes a link of a few dozen characters.
//!
//! Decoding never trusts the input: the text is size-checked before anything else
//! (> 64 KiB rejected), the version must be exactly `1` (not `+1` or `01`), the payload
//! must be canonical base64url, the deflate stream must end where the payload ends (no
//! junk after it) and inflate to at most 256 KiB, the JSON must have no repeated key in
//! any object (`strict_json`), and it is parsed into the typed scenario (unknown fields
//! rejected) and fully validated (every value checked against its range, sizes
//! bounded). Every failure is a one-line `LinkError`.
//!
//! Encoding refuses what decoding would refuse: `encode` validates the scenario, decodes
//! its own result and returns an error unless that gives the same scenario back, so every
//! link it hands out opens (a scenario too large for a link gets an error, not a link).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use crate::scenario::Scenario;

/// The link format version this build writes.
pub const LINK_VERSION: u32 = 1;
/// Longest link text accepted.
pub const MAX_LINK_BYTES: usize = 64 * 1024;
/// Largest inflated JSON accepted.
pub const MAX_INFLATED_BYTES: usize = 256 * 1024;

/// Why a link could not be decoded (one line).
#[derive(Debug, Clone, PartialEq)]
pub struct LinkError(pub String);

impl std::fmt::Display for LinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "link: {}", self.0)
    }
}
impl std::error::Error for LinkError {}

fn err<T>(m: impl Into<String>) -> Result<T, LinkError> {
    Err(LinkError(m.into()))
}

/// The link fragment for `scenario`: `#s=1.<payload>`, or why no link can carry it
/// (an invalid scenario, or one whose link would be refused by [`decode`]).
pub fn encode(scenario: &Scenario) -> Result<String, LinkError> {
    scenario.validate().map_err(|e| LinkError(e.0))?;
    let full = scenario.to_value();
    let mut best = compress(&full);
    if let Ok(base) = crate::builtin(&scenario.id) {
        let patch = merge_diff(&base.to_value(), &full);
        let mut obj = Map::new();
        obj.insert("$base".into(), Value::String(scenario.id.clone()));
        obj.insert("$patch".into(), patch);
        let diff = compress(&Value::Object(obj));
        if diff.len() < best.len() {
            best = diff;
        }
    }
    let link = format!("#s={LINK_VERSION}.{}", URL_SAFE_NO_PAD.encode(best));
    // The decoder is the definition of a good link: hand out only what it accepts.
    match decode(&link) {
        Ok(back) if back == *scenario => Ok(link),
        Ok(_) => err("the scenario does not survive a round trip through a link"),
        Err(e) => Err(e),
    }
}

fn compress(v: &Value) -> Vec<u8> {
    let text = serde_json::to_string(v).expect("values serialize");
    miniz_oxide::deflate::compress_to_vec(text.as_bytes(), 10)
}

/// Decodes a full URL, `#s=...`, `s=...` or the bare `1.<payload>`.
pub fn decode(text: &str) -> Result<Scenario, LinkError> {
    if text.len() > MAX_LINK_BYTES {
        return err(format!("{} bytes, longer than the {MAX_LINK_BYTES}-byte limit", text.len()));
    }
    let t = text.trim();
    let t = match t.find("#s=") {
        Some(i) => &t[i + 3..],
        None => t.strip_prefix("s=").unwrap_or(t),
    };
    // Other fragment parameters may follow (`&view=graph`).
    let t = t.split('&').next().unwrap_or("");
    let Some((version, payload)) = t.split_once('.') else {
        return err("expected <version>.<payload> after #s=");
    };
    // Exactly the digits the encoder writes: `+1`, `01` or ` 1` are other texts.
    let canonical = !version.is_empty()
        && version.len() <= 9
        && version.bytes().all(|b| b.is_ascii_digit())
        && !(version.len() > 1 && version.starts_with('0'));
    if !canonical {
        return err(format!("version \"{}\" is not a number", shown(version)));
    }
    match version.parse::<u32>() {
        Ok(LINK_VERSION) => {}
        Ok(v) => return err(format!("version {v} is not supported by this build (it reads version {LINK_VERSION})")),
        Err(_) => return err(format!("version \"{}\" is not a number", shown(version))),
    }
    if payload.is_empty() {
        return err("the payload is empty");
    }
    let bytes = URL_SAFE_NO_PAD.decode(payload).map_err(|e| LinkError(format!("payload is not base64url: {e}")))?;
    let json = inflate(&bytes)?;
    let text = std::str::from_utf8(&json).map_err(|_| LinkError("payload is not UTF-8 text".into()))?;
    let value = crate::strict_json::parse(text).map_err(|e| LinkError(format!("payload is not JSON: {e}")))?;
    let value = resolve_base(value)?;
    Scenario::from_value(value).map_err(|e| LinkError(e.0))
}

/// At most 32 characters of untrusted text, with control characters escaped, for messages.
fn shown(text: &str) -> String {
    text.chars().take(32).collect::<String>().escape_debug().to_string()
}

/// Inflates a raw deflate stream of at most [`MAX_INFLATED_BYTES`] that must end exactly
/// where `bytes` end.
fn inflate(bytes: &[u8]) -> Result<Vec<u8>, LinkError> {
    use miniz_oxide::inflate::TINFLStatus;
    use miniz_oxide::inflate::core::{DecompressorOxide, decompress, inflate_flags};
    // One byte of room past the limit tells "exactly the limit" from "more than it".
    let mut out = vec![0u8; MAX_INFLATED_BYTES + 1];
    let mut state = DecompressorOxide::new();
    let (status, consumed, written) =
        decompress(&mut state, bytes, &mut out, 0, inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF);
    match status {
        TINFLStatus::Done if written > MAX_INFLATED_BYTES => err(format!("payload inflates beyond {MAX_INFLATED_BYTES} bytes")),
        TINFLStatus::Done if consumed != bytes.len() => {
            err(format!("{} bytes of junk after the compressed data", bytes.len() - consumed))
        }
        TINFLStatus::Done => {
            out.truncate(written);
            Ok(out)
        }
        TINFLStatus::HasMoreOutput => err(format!("payload inflates beyond {MAX_INFLATED_BYTES} bytes")),
        _ => err("payload is not valid deflate data"),
    }
}

fn resolve_base(value: Value) -> Result<Value, LinkError> {
    let Value::Object(mut obj) = value else {
        return err("payload is not a JSON object");
    };
    let Some(base) = obj.remove("$base") else {
        return Ok(Value::Object(obj));
    };
    let Some(id) = base.as_str() else {
        return err("$base is not a built-in id");
    };
    let patch = obj.remove("$patch").unwrap_or(Value::Object(Map::new()));
    if !obj.is_empty() {
        return err("unexpected fields beside $base and $patch");
    }
    let mut doc = crate::builtin(id).map_err(|e| LinkError(e.0))?.to_value();
    merge_patch(&mut doc, &patch, 0)?;
    Ok(doc)
}

/// Merge patch (RFC 7386, extended: a list of the same length is patched item by item
/// as `{"$items": {"<index>": patch}}`) that turns `from` into `to`.
fn merge_diff(from: &Value, to: &Value) -> Value {
    match (from, to) {
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() && a != b => {
            let mut items = Map::new();
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                if x != y {
                    items.insert(i.to_string(), merge_diff(x, y));
                }
            }
            let mut out = Map::new();
            out.insert("$items".into(), Value::Object(items));
            Value::Object(out)
        }
        (Value::Object(a), Value::Object(b)) => {
            let mut out = Map::new();
            for (k, va) in a {
                match b.get(k) {
                    None => {
                        out.insert(k.clone(), Value::Null);
                    }
                    Some(vb) if vb != va => {
                        out.insert(k.clone(), merge_diff(va, vb));
                    }
                    _ => {}
                }
            }
            for (k, vb) in b {
                if !a.contains_key(k) {
                    out.insert(k.clone(), vb.clone());
                }
            }
            Value::Object(out)
        }
        _ => to.clone(),
    }
}

/// Applies an RFC 7386 merge patch (depth-bounded: links are untrusted).
fn merge_patch(doc: &mut Value, patch: &Value, depth: u32) -> Result<(), LinkError> {
    if depth > 32 {
        return err("patch nests too deeply");
    }
    let Value::Object(p) = patch else {
        *doc = patch.clone();
        return Ok(());
    };
    if let (Some(Value::Object(items)), Value::Array(list)) = (p.get("$items"), &mut *doc) {
        for (k, v) in items {
            let i: usize = k.parse().map_err(|_| LinkError(format!("$items: \"{k}\" is not an index")))?;
            let len = list.len();
            let item = list.get_mut(i).ok_or_else(|| LinkError(format!("$items: index {i} out of range ({len} items)")))?;
            merge_patch(item, v, depth + 1)?;
        }
        return Ok(());
    }
    if !doc.is_object() {
        *doc = Value::Object(Map::new());
    }
    let d = doc.as_object_mut().expect("made an object");
    for (k, v) in p {
        if v.is_null() {
            d.remove(k);
        } else {
            merge_patch(d.entry(k.clone()).or_insert(Value::Null), v, depth + 1)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_round_trips_and_is_short() {
        for s in crate::builtins() {
            let link = encode(&s).unwrap();
            let mut full = s.clone();
            full.id.clear();
            println!("link size {:<26} {:>3} chars as a built-in, {:>4} chars in full", s.id, link.len(), encode(&full).unwrap().len());
            assert!(link.len() < 90, "{}: {} chars", s.id, link.len());
            assert_eq!(decode(&link).unwrap(), s, "{}", s.id);
            assert_eq!(decode(&format!("https://council.example/play{link}")).unwrap(), s);
        }
    }

    #[test]
    fn edited_builtin_and_custom_scenarios_round_trip() {
        let mut s = crate::builtin("debate").unwrap();
        s.agents[2].traits.accuracy = 0.9;
        s.mechanism.params["rounds"] = 4.into();
        let link = encode(&s).unwrap();
        println!("link size of an edited built-in: {} chars", link.len());
        assert!(link.len() < 160, "{link}");
        assert_eq!(decode(&link).unwrap(), s);
        // Without an id it must carry everything.
        s.id.clear();
        s.card = None;
        let link = encode(&s).unwrap();
        assert_eq!(decode(&link).unwrap(), s);
    }

    #[test]
    fn typical_four_agent_scenario_fits_in_600_chars() {
        let s = Scenario::from_json(
            r#"{"title":"My round table","description":"Four agents with different skills discuss a hard question.",
            "agents":[{"name":"Ana","role":"careful","traits":{"accuracy":0.8,"calibration":"informative"}},
            {"name":"Bo","role":"quick","traits":{"accuracy":0.6,"conformity":0.8}},
            {"name":"Cy","role":"stubborn","traits":{"accuracy":0.55,"stubbornness":0.9,"calibration":"overconfident"}},
            {"name":"Dee","backend":"local:smollm2-135m","traits":{"accuracy":0.5}}],
            "topology":{"kind":"ring"},"mechanism":{"kind":"reconcile","params":{"rounds":3,"vote":"weighted"}},
            "task":{"kind":"multiple_choice","params":{"difficulty_range":[0.4,0.9]}},"seed":42}"#,
        )
        .unwrap();
        let link = encode(&s).unwrap();
        println!("link size of a typical 4-agent scenario: {} chars", link.len());
        assert!(link.len() <= 600, "{} chars", link.len());
        assert_eq!(decode(&link).unwrap(), s);
    }

    #[test]
    fn bad_links_get_clear_errors() {
        let e = |t: &str| decode(t).unwrap_err().0;
        assert!(e("#s=2.abc").contains("version 2 is not supported"));
        assert!(e("#s=x.abc").contains("not a number"));
        assert!(e("#s=1").contains("expected <version>.<payload>"));
        assert!(e("#s=1.!!!").contains("base64url"));
        assert!(e("#s=1.AAAA").contains("deflate"));
        assert!(e(&"a".repeat(70_000)).contains("longer than"));
        // A bomb: 1 MB of zeros deflates small but must not inflate fully.
        let bomb = miniz_oxide::deflate::compress_to_vec(&vec![b' '; 1 << 20], 10);
        assert!(e(&format!("#s=1.{}", URL_SAFE_NO_PAD.encode(bomb))).contains("inflates beyond"));
        // Valid JSON, invalid scenario: the validation message comes through.
        let bad = miniz_oxide::deflate::compress_to_vec(
            br#"{"agents":[{"name":"A","traits":{"accuracy":3}}],"mechanism":{"kind":"debate"},"task":{"kind":"multiple_choice"}}"#,
            10,
        );
        assert_eq!(e(&format!("#s=1.{}", URL_SAFE_NO_PAD.encode(bad))), "agent 0: accuracy 3 out of [0,1]");
        let unknown_base = miniz_oxide::deflate::compress_to_vec(br#"{"$base":"nope","$patch":{}}"#, 10);
        assert!(e(&format!("#s=1.{}", URL_SAFE_NO_PAD.encode(unknown_base))).contains("unknown built-in"));
    }

    /// A link for `json` as the encoder would write it, with `junk` appended to the
    /// compressed bytes.
    fn link_of(json: &str, junk: &[u8]) -> String {
        let mut z = miniz_oxide::deflate::compress_to_vec(json.as_bytes(), 10);
        z.extend_from_slice(junk);
        format!("#s=1.{}", URL_SAFE_NO_PAD.encode(z))
    }

    #[test]
    fn only_the_canonical_form_of_a_link_is_accepted() {
        let good = encode(&crate::builtin("debate").unwrap()).unwrap();
        let payload = good.strip_prefix("#s=1.").unwrap();
        assert!(decode(&good).is_ok());
        let e = |t: &str| decode(t).unwrap_err().0;
        for v in ["+1", "01", "1 ", " 1", "-1", "1e0", "0x1", "１"] {
            assert!(e(&format!("#s={v}.{payload}")).contains("is not a number"), "version {v:?}");
        }
        assert!(e("#s=1.").contains("empty"));
        assert!(e(&format!("#s=1.{payload}=")).contains("base64url"), "padding is not written, so not read");
        let json = r#"{"$base":"debate","$patch":{}}"#;
        assert!(decode(&link_of(json, b"")).is_ok());
        assert_eq!(e(&link_of(json, b"\0")), "1 bytes of junk after the compressed data");
        assert_eq!(e(&link_of(json, b"junk")), "4 bytes of junk after the compressed data");
        // Two deflate streams back to back: the second is junk too.
        let z = miniz_oxide::deflate::compress_to_vec(json.as_bytes(), 10);
        assert!(e(&link_of(json, &z)).contains("junk after the compressed data"));
    }

    #[test]
    fn duplicate_keys_are_refused_in_links_as_in_files() {
        let e = |json: &str| decode(&link_of(json, b"")).unwrap_err().0;
        assert!(e(r#"{"$base":"debate","$base":"debate","$patch":{}}"#).contains("duplicate key \"$base\""));
        assert!(e(r#"{"$base":"debate","$patch":{"seed":1,"seed":2}}"#).contains("duplicate key \"seed\""));
        let dup_param = r#"{"agents":[{"name":"A"}],"mechanism":{"kind":"debate","params":{"rounds":1,"rounds":9}},"task":{"kind":"multiple_choice"}}"#;
        assert!(e(dup_param).contains("duplicate key \"rounds\""));
        assert!(Scenario::from_json(dup_param).unwrap_err().0.contains("duplicate key \"rounds\""), "a file says the same");
    }

    #[test]
    fn encode_refuses_what_decode_would_refuse() {
        // Invalid: the validation message, and no link.
        let mut s = crate::builtin("debate").unwrap();
        s.agents[0].traits.accuracy = 3.0;
        assert_eq!(encode(&s).unwrap_err().0, "agent 0: accuracy 3 out of [0,1]");
        // Valid but too big for a link: 128 agents with 4,000 bytes of incompressible roles.
        let mut rng = crate::rng::Rng::new(7);
        let mut s = crate::builtin("debate").unwrap();
        s.id.clear();
        s.card = None;
        let proto = s.agents[0].clone();
        s.agents = (0..crate::scenario::MAX_AGENTS)
            .map(|i| {
                let mut a = proto.clone();
                a.name = format!("A{i}");
                a.role = (0..crate::scenario::MAX_TEXT).map(|_| (b'a' + rng.below(26) as u8) as char).collect();
                a
            })
            .collect();
        s.validate().unwrap();
        let e = encode(&s).unwrap_err().0;
        assert!(e.contains("longer than") || e.contains("inflates beyond"), "{e}");
    }
}

/// Deterministic mutation fuzzer for the decoder: no input may panic. The normal test
/// run does a few thousand cases; `COUNCIL_FUZZ_CASES=1000000 cargo test -p council-core
/// --release link_fuzz -- --ignored --nocapture` runs a million.
#[cfg(test)]
mod fuzz {
    use super::*;
    use crate::rng::Rng;

    /// Seeds: every built-in's link, a hand-edited one and a full (non-diff) one.
    fn corpus() -> Vec<(String, String)> {
        let mut out = Vec::new();
        for s in crate::builtins() {
            let json = serde_json::to_string(&s.to_value()).unwrap();
            out.push((encode(&s).unwrap(), json));
        }
        let mut s = crate::builtin("reconcile").unwrap();
        s.id.clear();
        let json = serde_json::to_string(&s.to_value()).unwrap();
        out.push((encode(&s).unwrap(), json));
        out
    }

    fn mutate_bytes(rng: &mut Rng, b: &mut Vec<u8>, alphabet: &[u8]) {
        for _ in 0..1 + rng.below(4) {
            if b.is_empty() {
                b.push(alphabet[rng.index(alphabet.len())]);
                continue;
            }
            let i = rng.index(b.len());
            match rng.below(6) {
                0 => b[i] = alphabet[rng.index(alphabet.len())],
                1 => {
                    b.remove(i);
                }
                2 => b.insert(i, alphabet[rng.index(alphabet.len())]),
                3 => b.truncate(i),
                4 => {
                    let j = rng.index(b.len());
                    let chunk: Vec<u8> = b[i.min(j)..i.max(j)].to_vec();
                    b.splice(i..i, chunk);
                }
                _ => b[i] ^= 1 << rng.below(8),
            }
        }
    }

    const JSON_BITS: &[&str] = &[
        "0", "-1", "1e308", "1.7", "null", "true", "\"x\"", "[]", "{}", "\"mesh\"", "\"debate\"", "99999999999", "\"$base\"",
        "\"sim\"", "[[0,1]]", "\"agents\"", "{\"name\":\"A\"}",
    ];

    fn run(cases: u64) {
        let corpus = corpus();
        let b64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=.#s";
        let mut rng = Rng::new(0xf022);
        let (mut ok, mut executed) = (0u64, 0u64);
        for case in 0..cases {
            let (link, json) = &corpus[rng.index(corpus.len())];
            let input = match case % 3 {
                // Mutate the link text itself.
                0 => {
                    let mut b = link.clone().into_bytes();
                    mutate_bytes(&mut rng, &mut b, b64);
                    String::from_utf8_lossy(&b).into_owned()
                }
                // Mutate the JSON, then encode it properly: reaches parsing and validation.
                1 => {
                    let mut b = json.clone().into_bytes();
                    mutate_bytes(&mut rng, &mut b, b"{}[],:\"0123456789.-eE abcdefghijklmnopqrstuvwxyz_$");
                    if rng.chance(0.5) {
                        // Splice a JSON token in at a random place.
                        let tok = JSON_BITS[rng.index(JSON_BITS.len())].as_bytes();
                        let i = rng.index(b.len() + 1);
                        b.splice(i..i, tok.iter().copied());
                    }
                    let z = miniz_oxide::deflate::compress_to_vec(&b, 1);
                    format!("#s=1.{}", URL_SAFE_NO_PAD.encode(z))
                }
                // Mutate the compressed bytes.
                _ => {
                    let payload = link.split_once('.').map(|x| x.1).unwrap_or("");
                    let mut z = URL_SAFE_NO_PAD.decode(payload).unwrap_or_default();
                    mutate_bytes(&mut rng, &mut z, &(0..=255u8).collect::<Vec<_>>());
                    format!("#s=1.{}", URL_SAFE_NO_PAD.encode(z))
                }
            };
            if let Ok(s) = decode(&input) {
                ok += 1;
                // Encode and decode accept the same set: what one reads, the other writes.
                let again = encode(&s).unwrap_or_else(|e| panic!("decoded {input:?} but cannot re-encode it: {e}"));
                assert_eq!(decode(&again).as_ref(), Ok(&s));
                // A decoded scenario must also run without panicking (sampled: runs cost more).
                if ok % 50 == 1 {
                    executed += 1;
                    let r = crate::registry::run_simulated(&s).expect("decoded scenarios are valid");
                    assert!(!r.log.is_empty());
                }
            }
        }
        println!("link fuzz: {cases} cases, {ok} decoded to valid scenarios, {executed} of those run, no panic");
    }

    #[test]
    fn link_fuzz_small() {
        run(3_000);
    }

    #[test]
    #[ignore = "long: set COUNCIL_FUZZ_CASES (default 1,000,000)"]
    fn link_fuzz() {
        let cases = std::env::var("COUNCIL_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
        run(cases);
    }
}
