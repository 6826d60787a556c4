//! Strict JSON in, OLPC canonical JSON out.
//!
//! TUF signatures cover the canonical form of `signed` as securesystemslib
//! writes it (the OLPC form: sorted keys, no whitespace, only `"` and `\`
//! escaped, integers only). RFC 8785 is a different form and must not be used.
//! The `olpc-cjson` crate is not used either: it applies Unicode NFC
//! normalization to strings, which securesystemslib does not, so a
//! non-normalized target path signed by python-tuf would not verify.
//!
//! Parsing refuses what a lenient parser would silently resolve: an object
//! with the same key twice (which value did the signer mean?) and nesting
//! deeper than [`MAX_DEPTH`] (stack exhaustion). Trailing data is an error.

use serde::de::{DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};
use serde::Serialize;
use serde_json::{Map, Value};
use std::fmt;

/// Deepest nesting of arrays and objects accepted. TUF metadata needs about
/// six levels; `custom` target data gets generous room above that.
pub const MAX_DEPTH: usize = 64;

/// Parses `bytes` as one JSON value, refusing duplicate object keys and
/// nesting deeper than [`MAX_DEPTH`].
pub fn parse_strict(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = StrictSeed { depth: 0 }.deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

/// The canonical JSON encoding of `value`, as securesystemslib's
/// `encode_canonical` writes it: object keys sorted by code point, no
/// whitespace, strings with only `"` and `\\` escaped and otherwise written
/// as they are (no Unicode normalization: the signer did not normalize
/// either), integers only.
pub fn to_canonical<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    value_to_canonical(&serde_json::to_value(value)?)
}

/// [`to_canonical`] for a parsed value, without copying it first.
pub fn value_to_canonical(value: &Value) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::new();
    encode(value, &mut out)?;
    Ok(out)
}

pub(crate) fn encode(value: &Value, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                out.extend_from_slice(u.to_string().as_bytes());
            } else if let Some(i) = n.as_i64() {
                out.extend_from_slice(i.to_string().as_bytes());
            } else {
                return Err(<serde_json::Error as serde::ser::Error>::custom(
                    "floating point numbers have no canonical JSON form",
                ));
            }
        }
        Value::String(s) => encode_str(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                encode(item, out)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            // serde_json's map is a BTreeMap<String, _>: byte order of UTF-8
            // is code point order, which is how Python sorts the keys.
            out.push(b'{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                encode_str(k, out);
                out.push(b':');
                encode(v, out)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

pub(crate) fn encode_str(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    // Runs without a quote or backslash are copied whole.
    let mut rest = s.as_bytes();
    while let Some(i) = rest.iter().position(|&b| b == b'"' || b == b'\\') {
        out.extend_from_slice(&rest[..i]);
        out.push(b'\\');
        out.push(rest[i]);
        rest = &rest[i + 1..];
    }
    out.extend_from_slice(rest);
    out.push(b'"');
}

#[derive(Clone, Copy)]
struct StrictSeed {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for StrictSeed {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl StrictSeed {
    fn deeper<E: serde::de::Error>(self) -> Result<StrictSeed, E> {
        if self.depth >= MAX_DEPTH {
            return Err(E::custom(format_args!(
                "nesting deeper than {MAX_DEPTH} levels"
            )));
        }
        Ok(StrictSeed {
            depth: self.depth + 1,
        })
    }
}

impl<'de> Visitor<'de> for StrictSeed {
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
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value, E> {
        // Kept so that unknown fields can hold them; canonicalization refuses them.
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("non-finite number"))
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
        let inner = self.deeper()?;
        let mut items = Vec::new();
        while let Some(v) = seq.next_element_seed(inner)? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let inner = self.deeper()?;
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(A::Error::custom(format_args!(
                    "duplicate key {key:?} in object"
                )));
            }
            let v = map.next_value_seed(inner)?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_form_sorts_keys_and_escapes_only_quote_and_backslash() {
        let v = parse_strict(br#"{"b": 1, "a": "x\"y\\z\n\u00e9", "c": [true, null]}"#).unwrap();
        let c = to_canonical(&v).unwrap();
        assert_eq!(
            c,
            "{\"a\":\"x\\\"y\\\\z\n\u{e9}\",\"b\":1,\"c\":[true,null]}".as_bytes()
        );
    }

    #[test]
    fn duplicate_keys_are_refused() {
        let e = parse_strict(br#"{"a": 1, "a": 2}"#).unwrap_err();
        assert!(e.to_string().contains("duplicate key"), "{e}");
        assert!(parse_strict(br#"{"x": {"a": 1, "b": {"a": 1}}}"#).is_ok());
    }

    #[test]
    fn deep_nesting_is_refused_without_overflowing_the_stack() {
        let deep = "[".repeat(100_000);
        assert!(parse_strict(deep.as_bytes()).is_err());
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse_strict(ok.as_bytes()).is_ok());
        let too_deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(parse_strict(too_deep.as_bytes()).is_err());
    }

    #[test]
    fn strings_are_not_unicode_normalized() {
        // "é" decomposed (e + U+0301) stays decomposed, like securesystemslib.
        let v = serde_json::json!({"caf\u{65}\u{301}": "\u{65}\u{301}"});
        let c = to_canonical(&v).unwrap();
        assert_eq!(c, "{\"caf\u{65}\u{301}\":\"\u{65}\u{301}\"}".as_bytes());
    }

    #[test]
    fn negative_and_large_integers() {
        let v = parse_strict(br#"[-5, 0, 18446744073709551615]"#).unwrap();
        assert_eq!(to_canonical(&v).unwrap(), b"[-5,0,18446744073709551615]");
    }

    #[test]
    fn floats_have_no_canonical_form() {
        let v = parse_strict(b"{\"a\": 1.5}").unwrap();
        assert!(to_canonical(&v).is_err());
    }

    #[test]
    fn trailing_garbage_is_refused() {
        assert!(parse_strict(b"{} x").is_err());
        assert!(parse_strict(b"{}\n").is_ok());
    }
}
