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

/// A check that text is already in canonical form, without parsing it
/// into values: what lets the repository editor keep a stored role's
/// entries as the very bytes that were signed.
///
/// It accepts exactly canonical JSON as a metadata file holds it, with one
/// restriction: a string may contain no escape other than `\"` and `\\`
/// (control characters, which files write as `\u00XX`, are refused), and an
/// object key none at all. Whatever it does not accept, the caller parses
/// instead; it never decides that input is invalid, only that it is not
/// plainly canonical. Nesting is bounded by [`MAX_DEPTH`].
pub(crate) struct Scan<'a> {
    s: &'a str,
    b: &'a [u8],
}

impl<'a> Scan<'a> {
    pub fn new(text: &'a str) -> Self {
        Scan {
            s: text,
            b: text.as_bytes(),
        }
    }

    pub fn bytes(&self) -> &'a [u8] {
        self.b
    }

    /// The end of the canonical value starting at `i`.
    pub fn value(&self, i: usize, depth: usize) -> Option<usize> {
        match *self.b.get(i)? {
            b'{' => self.object(i, depth, |_, v| self.value(v, depth + 1)),
            b'[' => self.items(i, depth, |v| self.value(v, depth + 1)),
            b'"' => self.string(i).map(|(_, end)| end),
            b't' => self.literal(i, b"true"),
            b'f' => self.literal(i, b"false"),
            b'n' => self.literal(i, b"null"),
            b'-' | b'0'..=b'9' => self.integer(i),
            _ => None,
        }
    }

    /// The end of the canonical object starting at `i`. `member` is called
    /// with each key and the start of its value, scans the value and returns
    /// its end; keys must be strictly increasing.
    pub fn object(
        &self,
        i: usize,
        depth: usize,
        mut member: impl FnMut(&'a str, usize) -> Option<usize>,
    ) -> Option<usize> {
        let mut prev: Option<&str> = None;
        self.sequence(i, depth, b'{', b'}', |j| {
            if self.b.get(j) != Some(&b'"') {
                return None;
            }
            let (escaped, key_end) = self.string(j)?;
            // Quotes are ASCII, so the key's ends are character boundaries.
            let key = &self.s[j + 1..key_end - 1];
            // Byte order of UTF-8 is code point order, how canonical JSON sorts.
            if escaped || prev.is_some_and(|p| p >= key) || self.b.get(key_end) != Some(&b':') {
                return None;
            }
            prev = Some(key);
            member(key, key_end + 1)
        })
    }

    /// The end of the canonical array starting at `i`; `item` is called with
    /// the start of each element, scans it and returns its end.
    pub fn items(
        &self,
        i: usize,
        depth: usize,
        item: impl FnMut(usize) -> Option<usize>,
    ) -> Option<usize> {
        self.sequence(i, depth, b'[', b']', item)
    }

    /// The end of the `open` … `close` sequence starting at `i`, whose
    /// elements `elem` scans (from its start, returning its end) and commas
    /// separate.
    fn sequence(
        &self,
        i: usize,
        depth: usize,
        open: u8,
        close: u8,
        mut elem: impl FnMut(usize) -> Option<usize>,
    ) -> Option<usize> {
        if depth >= MAX_DEPTH || self.b.get(i) != Some(&open) {
            return None;
        }
        let mut j = i + 1;
        if self.b.get(j) == Some(&close) {
            return Some(j + 1);
        }
        loop {
            let end = elem(j)?;
            match *self.b.get(end)? {
                b',' => j = end + 1,
                c if c == close => return Some(end + 1),
                _ => return None,
            }
        }
    }

    /// Whether the string starting at `i` has escapes, and its end.
    fn string(&self, i: usize) -> Option<(bool, usize)> {
        let mut escaped = false;
        let mut j = i + 1;
        loop {
            match *self.b.get(j)? {
                b'"' => return Some((escaped, j + 1)),
                b'\\' => match self.b.get(j + 1)? {
                    b'"' | b'\\' => {
                        escaped = true;
                        j += 2;
                    }
                    _ => return None,
                },
                0..=0x1f => return None,
                _ => j += 1,
            }
        }
    }

    fn literal(&self, i: usize, word: &[u8]) -> Option<usize> {
        self.b[i..].starts_with(word).then_some(i + word.len())
    }

    /// An integer as [`encode`] writes one: no sign on zero, no leading
    /// zeros, no fraction or exponent, within `i64` below zero and `u64` above.
    fn integer(&self, i: usize) -> Option<usize> {
        let negative = self.b[i] == b'-';
        let start = i + usize::from(negative);
        let digits = self.b[start..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let end = start + digits;
        let d = &self.b[start..end];
        if d.is_empty()
            || d.len() > 20
            || (d[0] == b'0' && (d.len() > 1 || negative))
            || matches!(self.b.get(end), Some(b'.' | b'e' | b'E'))
        {
            return None;
        }
        let v = d.iter().fold(0u128, |v, &c| v * 10 + u128::from(c - b'0'));
        let max = if negative {
            1u128 << 63
        } else {
            u128::from(u64::MAX)
        };
        (v <= max).then_some(end)
    }
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

    /// The scanner accepts what `encode` writes, and nothing that differs.
    #[test]
    fn scan_accepts_exactly_the_canonical_form() {
        let accepts = |s: &[u8]| {
            let scan = Scan::new(std::str::from_utf8(s).unwrap());
            (scan.value(0, 0)? == s.len()).then_some(())
        };
        let v = parse_strict(
            br#"{"b": [1, -5, 0, 18446744073709551615, -9223372036854775808, true, false, null],
                 "a": {"q\"": "x\\y", "\u00e9": {}}, "c": [], "d": "caf\u00e9"}"#,
        )
        .unwrap();
        let c = to_canonical(&v).unwrap();
        assert_eq!(
            accepts(&c),
            None,
            "a key with an escape is left to the parser"
        );
        let v = parse_strict(br#"{"b": [1, -5, 0, 18446744073709551615, true, null], "a": {"z": "x\"y\\", "y": {}}, "c": []}"#).unwrap();
        let c = to_canonical(&v).unwrap();
        assert_eq!(accepts(&c), Some(()), "{}", String::from_utf8_lossy(&c));
        for bad in [
            &b"{\"b\":1,\"a\":2}"[..], // unsorted
            b"{\"a\":1,\"a\":2}",      // duplicate
            b"{\"a\": 1}",             // whitespace
            b"[01]",
            b"[-0]",
            b"[1.5]",
            b"[1e3]",
            b"[18446744073709551616]",
            b"[-9223372036854775809]",
            b"[\"\\u0041\"]", // an escape canonical JSON does not write
            b"[\"a\nb\"]",    // a raw control character
            b"[tru]",
            b"{\"a\":1",
            b"[1,]",
        ] {
            assert_eq!(accepts(bad), None, "{}", String::from_utf8_lossy(bad));
        }
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert_eq!(accepts(deep.as_bytes()), None);
    }

    #[test]
    fn trailing_garbage_is_refused() {
        assert!(parse_strict(b"{} x").is_err());
        assert!(parse_strict(b"{}\n").is_ok());
    }
}
