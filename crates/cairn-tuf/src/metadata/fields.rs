//! `Deserialize` for metadata objects that keep their undeclared fields.
//!
//! `#[serde(flatten)]` would do it, but it first buffers the whole object
//! as serde's generic `Content` tree and then deserializes that again: on
//! a targets role delegating to 16,384 bins, or a bin of thousands of
//! targets, most of the parse time. [`deserialize_keeping_unknown!`] reads
//! the object in one pass instead: declared fields straight into their
//! types, every other field into `unknown` as a JSON value. Like the
//! derived code it refuses a missing required field and a field given
//! twice (undeclared ones included).

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

/// An object key, borrowed from the input when it has no escapes.
pub(crate) struct FieldName<'de>(Cow<'de, str>);

impl FieldName<'_> {
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
    pub(crate) fn into_owned(self) -> String {
        self.0.into_owned()
    }
}

impl<'de> Deserialize<'de> for FieldName<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = FieldName<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(FieldName(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
                Ok(FieldName(Cow::Owned(s.to_string())))
            }
            fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
                Ok(FieldName(Cow::Owned(s)))
            }
        }
        d.deserialize_str(V)
    }
}

/// A map keyed by strings, built in bulk from its entries: metadata maps
/// (`meta`, `targets`) are written with sorted keys, and one bulk build is
/// far cheaper than inserting 16,384 keys one by one. A key given twice
/// keeps its last value, as serde's own `BTreeMap` does.
pub(crate) struct BulkMap<V>(pub(crate) BTreeMap<String, V>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for BulkMap<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct MapVisitor<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for MapVisitor<V> {
            type Value = BulkMap<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                // The hint comes from the input: it only sizes the first allocation.
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(4096));
                while let Some(entry) = map.next_entry::<String, V>()? {
                    entries.push(entry);
                }
                // Sorting is linear on sorted input; the build is linear.
                Ok(BulkMap(entries.into_iter().collect()))
            }
        }
        d.deserialize_map(MapVisitor(PhantomData))
    }
}

/// `impl Deserialize for TYPE`: `required { "json" => field, .. }` must be
/// present (`"json" => field via BulkMap` reads a map through [`BulkMap`]), `optional { "json" => field, .. }` are `Option`s (absent or
/// `null` is `None`), and every other field goes to `unknown`.
macro_rules! deserialize_keeping_unknown {
    ($ty:ident, $what:literal,
     required { $($rj:literal => $rf:ident $(via $rw:ident)?),* $(,)? },
     optional { $($oj:literal => $of:ident),* $(,)? }) => {
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> serde::de::Visitor<'de> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        f.write_str($what)
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(
                        self,
                        mut map: A,
                    ) -> Result<$ty, A::Error> {
                        use serde::de::Error as _;
                        $(let mut $rf = None;)*
                        $(let mut $of = None;)*
                        let mut unknown = $crate::metadata::Unknown::new();
                        while let Some(key) =
                            map.next_key::<$crate::metadata::fields::FieldName<'de>>()?
                        {
                            match key.as_str() {
                                $($rj => {
                                    if $rf.is_some() {
                                        return Err(A::Error::duplicate_field($rj));
                                    }
                                    $rf = Some(
                                        $crate::metadata::fields::deserialize_keeping_unknown!(
                                            @value map $($rw)?
                                        ),
                                    );
                                })*
                                $($oj => {
                                    if $of.is_some() {
                                        return Err(A::Error::duplicate_field($oj));
                                    }
                                    $of = Some(map.next_value()?);
                                })*
                                _ => {
                                    let name = key.into_owned();
                                    let value = map.next_value()?;
                                    if unknown.contains_key(&name) {
                                        return Err(A::Error::custom(format_args!(
                                            "duplicate field `{name}`"
                                        )));
                                    }
                                    unknown.insert(name, value);
                                }
                            }
                        }
                        Ok($ty {
                            $($rf: $rf.ok_or_else(|| A::Error::missing_field($rj))?,)*
                            $($of: $of.flatten(),)*
                            unknown,
                        })
                    }
                }
                d.deserialize_map(V)
            }
        }
    };
    (@value $map:ident) => { $map.next_value()? };
    (@value $map:ident $w:ident) => { $map.next_value::<$crate::metadata::fields::$w<_>>()?.0 };
}
pub(crate) use deserialize_keeping_unknown;

#[cfg(test)]
mod tests {
    use crate::metadata::{MetaFile, Snapshot, TargetFile};

    #[test]
    fn undeclared_fields_are_kept_and_declared_ones_typed() {
        let t: TargetFile = serde_json::from_str(
            r#"{"length":3,"x-extra":{"a":[1,2]},"hashes":{"sha256":"ab"},"custom":null}"#,
        )
        .unwrap();
        assert_eq!(t.length, 3);
        assert_eq!(t.hashes.get("sha256"), Some("ab"));
        assert_eq!(t.custom, None);
        assert_eq!(t.unknown["x-extra"], serde_json::json!({"a": [1, 2]}));
        // The same through a JSON value (the client's path), with escapes in keys.
        let v = serde_json::json!({"version": 2, "l\u{e9}ngth": 1});
        let m: MetaFile = serde_json::from_value(v).unwrap();
        assert_eq!(m.version.get(), 2);
        assert_eq!(m.length, None);
        assert!(m.unknown.contains_key("l\u{e9}ngth"));
        let m: MetaFile = serde_json::from_str(r#"{"version":1,"\u0078":true}"#).unwrap();
        assert_eq!(m.unknown["x"], serde_json::json!(true));
    }

    #[test]
    fn missing_duplicate_and_mistyped_fields_are_refused() {
        let err = |s: &str| serde_json::from_str::<MetaFile>(s).unwrap_err().to_string();
        assert!(err(r#"{"length":1}"#).contains("missing field `version`"));
        assert!(err(r#"{"version":1,"version":2}"#).contains("duplicate field `version`"));
        assert!(err(r#"{"version":1,"length":1,"length":1}"#).contains("duplicate field"));
        assert!(err(r#"{"version":1,"x":1,"x":2}"#).contains("duplicate field `x`"));
        assert!(err(r#"{"version":0}"#).contains("nonzero"));
        assert!(err(r#"{"version":"1"}"#).contains("invalid type"));
        assert!(err(r#"[1]"#).contains("invalid type"));
    }

    #[test]
    fn maps_read_in_bulk_match_maps_read_key_by_key() {
        // Out of order, and a key given twice (the last wins, as with serde's BTreeMap).
        let json = r#"{"_type":"snapshot","spec_version":"1.0.31","version":1,
            "expires":"2030-01-01T00:00:00Z",
            "meta":{"b.json":{"version":2},"a.json":{"version":1},"b.json":{"version":3}}}"#;
        let s: Snapshot = serde_json::from_str(json).unwrap();
        let keys: Vec<&str> = s.meta.keys().map(String::as_str).collect();
        assert_eq!(keys, ["a.json", "b.json"]);
        assert_eq!(s.meta["b.json"].version.get(), 3);
    }
}
