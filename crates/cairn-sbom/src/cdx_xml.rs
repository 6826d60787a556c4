//! CycloneDX XML, both ways, through one table of the XML schema: the writer renders the
//! same document the JSON writer builds (so the two never say different things), and the
//! reader turns XML into that JSON shape for the CycloneDX JSON reader. The table says, for
//! each element cairn reads or writes, which JSON keys are XML attributes, which is the
//! element's text, and its children in the order the XSD's sequences require; how a JSON
//! array is spelt in XML (`hashes` → `<hashes><hash>…`, `dependsOn` → repeated
//! `<dependency ref=…/>`) is part of each child's kind.
//!
//! What the table does not name is not written and, when read, is named in the notes.
//! XML 1.0 cannot hold most control characters, even escaped: the writer replaces them
//! with U+FFFD (the loss table in the README says so).

use crate::read::ReadError;
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// The most elements (and attributes and text nodes) a document may hold, which bounds the
/// memory its tree takes.
pub const MAX_XML_NODES: u32 = 16_000_000;
/// The deepest element nesting read (cairn's own documents are about 10 deep).
pub const MAX_XML_DEPTH: usize = 64;

#[derive(Clone, Copy)]
enum Kind {
    Text,
    /// A JSON integer.
    Int,
    /// A JSON decimal (a confidence from 0 to 1).
    Num,
    Bool,
    Obj(&'static Ty),
    /// A JSON array as one wrapper element with an element per item, named by the first
    /// field: `<hashes><hash/>…</hashes>`.
    Wrap(&'static str, &'static Kind),
    /// A JSON array as the element repeated.
    Many(&'static Kind),
    /// A string as an element holding only a `ref` attribute: `<subject ref="x"/>`.
    Ref,
    /// A license choice: `{"license": {…}}` is `<license>`, `{"expression": …}` is
    /// `<expression>`.
    Licenses,
    /// `tools`: the object of CycloneDX 1.5 and later (`<tools><components>…`), or the
    /// list of 1.4 (`<tools><tool>…`), read as either.
    Tools,
}

/// An element type: attributes (JSON key, XML name, kind), the JSON key of its text, and
/// its children (JSON key, XML name, kind) in schema order.
struct Ty {
    attrs: &'static [(&'static str, &'static str, Kind)],
    text: Option<&'static str>,
    children: &'static [(&'static str, &'static str, Kind)],
}

const fn leaf(attrs: &'static [(&'static str, &'static str, Kind)], text: &'static str) -> Ty {
    Ty {
        attrs,
        text: Some(text),
        children: &[],
    }
}

static TEXT: Kind = Kind::Text;
static REF: Kind = Kind::Ref;
static HASH: Kind = Kind::Obj(&leaf(&[("alg", "alg", Kind::Text)], "content"));
static PROPERTY: Kind = Kind::Obj(&leaf(&[("name", "name", Kind::Text)], "value"));
static PROPERTIES: Kind = Kind::Wrap("property", &PROPERTY);
static HASHES: Kind = Kind::Wrap("hash", &HASH);
static BOM_REF: (&str, &str, Kind) = ("bom-ref", "bom-ref", Kind::Text);

static CONTACT: Ty = Ty {
    attrs: &[BOM_REF],
    text: None,
    children: &[
        ("name", "name", Kind::Text),
        ("email", "email", Kind::Text),
        ("phone", "phone", Kind::Text),
    ],
};
static CONTACT_K: Kind = Kind::Obj(&CONTACT);
static ORG: Ty = Ty {
    attrs: &[BOM_REF],
    text: None,
    children: &[
        ("name", "name", Kind::Text),
        ("url", "url", Kind::Many(&TEXT)),
        ("contact", "contact", Kind::Many(&CONTACT_K)),
    ],
};
static EXTERNAL_REFERENCE: Kind = Kind::Obj(&Ty {
    attrs: &[("type", "type", Kind::Text)],
    text: None,
    children: &[
        ("url", "url", Kind::Text),
        ("comment", "comment", Kind::Text),
        ("hashes", "hashes", HASHES),
    ],
});
static EXTERNAL_REFERENCES: Kind = Kind::Wrap("reference", &EXTERNAL_REFERENCE);
static LICENSE: Ty = Ty {
    attrs: &[BOM_REF, ("acknowledgement", "acknowledgement", Kind::Text)],
    text: None,
    children: &[
        ("id", "id", Kind::Text),
        ("name", "name", Kind::Text),
        (
            "text",
            "text",
            Kind::Obj(&leaf(
                &[
                    ("contentType", "content-type", Kind::Text),
                    ("encoding", "encoding", Kind::Text),
                ],
                "content",
            )),
        ),
        ("url", "url", Kind::Text),
        ("properties", "properties", PROPERTIES),
    ],
};
static EXPRESSION: Ty = leaf(
    &[BOM_REF, ("acknowledgement", "acknowledgement", Kind::Text)],
    "expression",
);
static METHOD: Kind = Kind::Obj(&Ty {
    attrs: &[],
    text: None,
    children: &[
        ("technique", "technique", Kind::Text),
        ("confidence", "confidence", Kind::Num),
        ("value", "value", Kind::Text),
    ],
});
static IDENTITY: Kind = Kind::Obj(&Ty {
    attrs: &[],
    text: None,
    children: &[
        ("field", "field", Kind::Text),
        ("confidence", "confidence", Kind::Num),
        ("concludedValue", "concludedValue", Kind::Text),
        ("methods", "methods", Kind::Wrap("method", &METHOD)),
        ("tools", "tools", Kind::Wrap("tool", &REF)),
    ],
});
static OCCURRENCE: Kind = Kind::Obj(&Ty {
    attrs: &[BOM_REF],
    text: None,
    children: &[
        ("location", "location", Kind::Text),
        ("line", "line", Kind::Int),
        ("offset", "offset", Kind::Int),
        ("symbol", "symbol", Kind::Text),
        ("additionalContext", "additionalContext", Kind::Text),
    ],
});
static COPYRIGHT_TEXT: Kind = Kind::Obj(&leaf(&[], "text"));
static EVIDENCE: Ty = Ty {
    attrs: &[],
    text: None,
    children: &[
        ("identity", "identity", Kind::Many(&IDENTITY)),
        (
            "occurrences",
            "occurrences",
            Kind::Wrap("occurrence", &OCCURRENCE),
        ),
        ("licenses", "licenses", Kind::Licenses),
        (
            "copyright",
            "copyright",
            Kind::Wrap("text", &COPYRIGHT_TEXT),
        ),
    ],
};
static COMPONENT: Ty = Ty {
    attrs: &[
        ("type", "type", Kind::Text),
        ("mime-type", "mime-type", Kind::Text),
        ("isExternal", "isExternal", Kind::Bool),
        BOM_REF,
    ],
    text: None,
    children: &[
        ("supplier", "supplier", Kind::Obj(&ORG)),
        ("manufacturer", "manufacturer", Kind::Obj(&ORG)),
        ("authors", "authors", Kind::Wrap("author", &CONTACT_K)),
        ("author", "author", Kind::Text),
        ("publisher", "publisher", Kind::Text),
        ("group", "group", Kind::Text),
        ("name", "name", Kind::Text),
        ("version", "version", Kind::Text),
        ("description", "description", Kind::Text),
        ("scope", "scope", Kind::Text),
        ("hashes", "hashes", HASHES),
        ("licenses", "licenses", Kind::Licenses),
        ("copyright", "copyright", Kind::Text),
        ("cpe", "cpe", Kind::Text),
        ("purl", "purl", Kind::Text),
        ("omniborId", "omniborId", Kind::Many(&TEXT)),
        ("swhid", "swhid", Kind::Many(&TEXT)),
        ("modified", "modified", Kind::Bool),
        (
            "externalReferences",
            "externalReferences",
            EXTERNAL_REFERENCES,
        ),
        ("properties", "properties", PROPERTIES),
        (
            "components",
            "components",
            Kind::Wrap("component", &COMPONENT_K),
        ),
        ("evidence", "evidence", Kind::Obj(&EVIDENCE)),
        ("tags", "tags", Kind::Wrap("tag", &TEXT)),
    ],
};
static COMPONENT_K: Kind = Kind::Obj(&COMPONENT);
/// A CycloneDX 1.4 tool.
static TOOL: Kind = Kind::Obj(&Ty {
    attrs: &[],
    text: None,
    children: &[
        ("vendor", "vendor", Kind::Text),
        ("name", "name", Kind::Text),
        ("version", "version", Kind::Text),
        ("hashes", "hashes", HASHES),
        (
            "externalReferences",
            "externalReferences",
            EXTERNAL_REFERENCES,
        ),
    ],
});
static TOOLS: Ty = Ty {
    attrs: &[],
    text: None,
    children: &[(
        "components",
        "components",
        Kind::Wrap("component", &COMPONENT_K),
    )],
};
static METADATA: Ty = Ty {
    attrs: &[],
    text: None,
    children: &[
        ("timestamp", "timestamp", Kind::Text),
        ("tools", "tools", Kind::Tools),
        ("authors", "authors", Kind::Wrap("author", &CONTACT_K)),
        ("component", "component", Kind::Obj(&COMPONENT)),
        ("manufacturer", "manufacturer", Kind::Obj(&ORG)),
        ("manufacture", "manufacture", Kind::Obj(&ORG)),
        ("supplier", "supplier", Kind::Obj(&ORG)),
        ("licenses", "licenses", Kind::Licenses),
        ("properties", "properties", PROPERTIES),
    ],
};
static DEPENDENCY: Kind = Kind::Obj(&Ty {
    attrs: &[("ref", "ref", Kind::Text)],
    text: None,
    children: &[
        ("dependsOn", "dependency", Kind::Many(&REF)),
        ("provides", "provides", Kind::Many(&REF)),
    ],
});
static COMPOSITION: Kind = Kind::Obj(&Ty {
    attrs: &[BOM_REF],
    text: None,
    children: &[
        ("aggregate", "aggregate", Kind::Text),
        ("assemblies", "assemblies", Kind::Wrap("assembly", &REF)),
        (
            "dependencies",
            "dependencies",
            Kind::Wrap("dependency", &REF),
        ),
    ],
});
static ANNOTATION: Kind = Kind::Obj(&Ty {
    attrs: &[BOM_REF],
    text: None,
    children: &[
        ("subjects", "subjects", Kind::Wrap("subject", &REF)),
        (
            "annotator",
            "annotator",
            Kind::Obj(&Ty {
                attrs: &[],
                text: None,
                children: &[
                    ("organization", "organization", Kind::Obj(&ORG)),
                    ("individual", "individual", Kind::Obj(&CONTACT)),
                    ("component", "component", Kind::Obj(&COMPONENT)),
                ],
            }),
        ),
        ("timestamp", "timestamp", Kind::Text),
        ("text", "text", Kind::Text),
    ],
});
static BOM: Ty = Ty {
    attrs: &[
        ("serialNumber", "serialNumber", Kind::Text),
        ("version", "version", Kind::Int),
    ],
    text: None,
    children: &[
        ("metadata", "metadata", Kind::Obj(&METADATA)),
        (
            "components",
            "components",
            Kind::Wrap("component", &COMPONENT_K),
        ),
        (
            "externalReferences",
            "externalReferences",
            EXTERNAL_REFERENCES,
        ),
        (
            "dependencies",
            "dependencies",
            Kind::Wrap("dependency", &DEPENDENCY),
        ),
        (
            "compositions",
            "compositions",
            Kind::Wrap("composition", &COMPOSITION),
        ),
        ("properties", "properties", PROPERTIES),
        (
            "annotations",
            "annotations",
            Kind::Wrap("annotation", &ANNOTATION),
        ),
    ],
};

const NAMESPACE: &str = "http://cyclonedx.org/schema/bom/";

// ---- writing ----

/// A CycloneDX JSON document (as the JSON writer builds it) in XML.
pub(crate) fn write(bom: &Value) -> String {
    let version = bom["specVersion"].as_str().unwrap_or("1.7");
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<bom xmlns=\"");
    out.push_str(NAMESPACE);
    out.push_str(version);
    out.push('"');
    let mut w = Writer { out };
    w.attrs(&BOM, bom);
    w.body(&BOM, bom, 0);
    w.out.push_str("</bom>\n");
    w.out
}

struct Writer {
    out: String,
}

/// Text XML 1.0 can hold: the characters it forbids even as references become U+FFFD.
fn xml_char(c: char) -> char {
    match c {
        '\t' | '\n' | '\r' => c,
        c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => '\u{fffd}',
        c => c,
    }
}

fn escape(s: &str, attribute: bool, out: &mut String) {
    for c in s.chars().map(xml_char) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            // A parser normalizes a raw CR away, and whitespace in an attribute to spaces.
            '\r' => out.push_str("&#13;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\t' if attribute => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

impl Writer {
    fn indent(&mut self, depth: usize) {
        for _ in 0..depth {
            self.out.push_str("  ");
        }
    }

    /// ` name="value"` for each attribute of `ty` that `v` has, then `>`.
    fn attrs(&mut self, ty: &Ty, v: &Value) {
        for (key, name, _) in ty.attrs {
            if let Some(s) = v.get(*key).and_then(scalar) {
                let _ = write!(self.out, " {name}=\"");
                escape(&s, true, &mut self.out);
                self.out.push('"');
            }
        }
        self.out.push('>');
    }

    /// What goes between an object's tags: its text, or its children on lines of their own.
    fn body(&mut self, ty: &Ty, v: &Value, depth: usize) {
        if let Some(t) = ty.text {
            if let Some(s) = v.get(t).and_then(scalar) {
                escape(&s, false, &mut self.out);
            }
            return;
        }
        self.out.push('\n');
        for (key, name, kind) in ty.children {
            if let Some(c) = v.get(*key) {
                self.element(name, *kind, c, depth + 1);
            }
        }
        self.indent(depth);
    }

    fn element(&mut self, name: &str, kind: Kind, v: &Value, depth: usize) {
        match kind {
            Kind::Text | Kind::Int | Kind::Num | Kind::Bool => {
                let Some(s) = scalar(v) else { return };
                self.indent(depth);
                let _ = write!(self.out, "<{name}>");
                escape(&s, false, &mut self.out);
                let _ = writeln!(self.out, "</{name}>");
            }
            Kind::Ref => {
                let Some(s) = v.as_str() else { return };
                self.indent(depth);
                let _ = write!(self.out, "<{name} ref=\"");
                escape(s, true, &mut self.out);
                self.out.push_str("\"/>\n");
            }
            Kind::Obj(ty) => {
                if !v.is_object() {
                    return;
                }
                self.indent(depth);
                let _ = write!(self.out, "<{name}");
                self.attrs(ty, v);
                self.body(ty, v, depth);
                let _ = writeln!(self.out, "</{name}>");
            }
            Kind::Many(item) => {
                for x in v.as_array().into_iter().flatten() {
                    self.element(name, *item, x, depth);
                }
            }
            Kind::Wrap(item_name, item) => {
                let Some(items) = v.as_array().filter(|a| !a.is_empty()) else {
                    return;
                };
                self.indent(depth);
                let _ = writeln!(self.out, "<{name}>");
                for x in items {
                    self.element(item_name, *item, x, depth + 1);
                }
                self.indent(depth);
                let _ = writeln!(self.out, "</{name}>");
            }
            Kind::Licenses => {
                let Some(items) = v.as_array().filter(|a| !a.is_empty()) else {
                    return;
                };
                self.indent(depth);
                let _ = writeln!(self.out, "<{name}>");
                for x in items {
                    if let Some(l) = x.get("license") {
                        self.element("license", Kind::Obj(&LICENSE), l, depth + 1);
                    } else if x.get("expression").is_some() {
                        self.element("expression", Kind::Obj(&EXPRESSION), x, depth + 1);
                    }
                }
                self.indent(depth);
                let _ = writeln!(self.out, "</{name}>");
            }
            Kind::Tools => match v {
                Value::Array(_) => self.element(name, Kind::Wrap("tool", &TOOL), v, depth),
                _ => self.element(name, Kind::Obj(&TOOLS), v, depth),
            },
        }
    }
}

// ---- reading ----

/// Whether the text looks like an XML document (after a byte-order mark and whitespace).
pub(crate) fn looks_like_xml(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace());
    start.is_some_and(|s| bytes[s] == b'<')
}

/// A CycloneDX XML document as the JSON document it stands for, with the names of the
/// elements the table does not know (at most a few dozen).
pub(crate) fn to_json(bytes: &[u8]) -> Result<(Value, Vec<String>), ReadError> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes)
        .map_err(|e| ReadError::Invalid(format!("CycloneDX XML is not UTF-8: {e}")))?;
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_XML_NODES,
        ..Default::default()
    };
    let doc = roxmltree::Document::parse_with_options(text, options)
        .map_err(|e| ReadError::Invalid(format!("not well-formed XML: {e}")))?;
    let root = doc.root_element();
    let ns = root.tag_name().namespace().unwrap_or("");
    let version = ns
        .strip_prefix(NAMESPACE)
        .filter(|_| root.has_tag_name((ns, "bom")));
    let Some(version) = version else {
        return Err(ReadError::Invalid(format!(
            "not a CycloneDX document: the root element is <{}> in namespace {ns:?}, not <bom> in {NAMESPACE}VERSION",
            root.tag_name().name()
        )));
    };
    let mut r = Reader {
        ns,
        unknown: BTreeSet::new(),
    };
    let mut bom = r.object(&BOM, root, 0)?;
    bom.insert("bomFormat".into(), "CycloneDX".into());
    bom.insert("specVersion".into(), version.into());
    let notes = r
        .unknown
        .into_iter()
        .take(32)
        .map(|p| format!("CycloneDX XML element <{p}> is not read"))
        .collect();
    Ok((Value::Object(bom), notes))
}

struct Reader<'a> {
    ns: &'a str,
    unknown: BTreeSet<String>,
}

type Node<'a, 'i> = roxmltree::Node<'a, 'i>;

fn deep() -> ReadError {
    ReadError::Invalid(format!(
        "CycloneDX XML nested deeper than {MAX_XML_DEPTH} elements"
    ))
}

fn parse_scalar(kind: Kind, s: &str) -> Value {
    let t = s.trim();
    match kind {
        Kind::Int => t
            .parse::<u64>()
            .map(Value::from)
            .unwrap_or_else(|_| s.into()),
        Kind::Num => t
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .unwrap_or_else(|| s.into()),
        Kind::Bool => match t {
            "true" | "1" => true.into(),
            "false" | "0" => false.into(),
            _ => s.into(),
        },
        _ => s.into(),
    }
}

/// The child elements of `n` (not its text, comments or processing instructions).
fn elements<'a, 'i>(n: Node<'a, 'i>) -> impl Iterator<Item = Node<'a, 'i>> {
    n.children().filter(|c| c.is_element())
}

impl Reader<'_> {
    fn ours(&self, n: Node) -> bool {
        n.tag_name().namespace() == Some(self.ns)
    }

    fn object(&mut self, ty: &Ty, n: Node, depth: usize) -> Result<Map<String, Value>, ReadError> {
        if depth > MAX_XML_DEPTH {
            return Err(deep());
        }
        let mut m = Map::new();
        for (key, name, kind) in ty.attrs {
            if let Some(a) = n.attribute(*name) {
                m.insert((*key).into(), parse_scalar(*kind, a));
            }
        }
        if let Some(t) = ty.text {
            m.insert(t.into(), n.text().unwrap_or("").into());
            return Ok(m);
        }
        for c in elements(n) {
            let name = c.tag_name().name();
            let spec = ty.children.iter().find(|(_, x, _)| *x == name);
            let Some((key, _, kind)) = spec.filter(|_| self.ours(c)) else {
                self.unknown
                    .insert(format!("{}/{name}", n.tag_name().name()));
                continue;
            };
            let v = self.value(*kind, c, depth + 1)?;
            match kind {
                // Repeated elements gather into one array.
                Kind::Many(_) => {
                    let e = m.entry(*key).or_insert_with(|| Value::Array(vec![]));
                    if let (Value::Array(all), Value::Array(more)) = (e, v) {
                        all.extend(more);
                    }
                }
                _ => {
                    m.insert((*key).into(), v);
                }
            }
        }
        Ok(m)
    }

    /// The JSON value of element `n` read as `kind` (for `Many`, a one-item array).
    fn value(&mut self, kind: Kind, n: Node, depth: usize) -> Result<Value, ReadError> {
        if depth > MAX_XML_DEPTH {
            return Err(deep());
        }
        Ok(match kind {
            Kind::Text | Kind::Int | Kind::Num | Kind::Bool => {
                parse_scalar(kind, n.text().unwrap_or(""))
            }
            Kind::Ref => n.attribute("ref").unwrap_or("").into(),
            Kind::Obj(ty) => Value::Object(self.object(ty, n, depth)?),
            Kind::Many(item) => Value::Array(vec![self.value(*item, n, depth)?]),
            Kind::Wrap(item_name, item) => {
                let mut out = Vec::new();
                for c in elements(n) {
                    if c.tag_name().name() == item_name && self.ours(c) {
                        out.push(self.value(*item, c, depth + 1)?);
                    } else {
                        let parent = n.tag_name().name();
                        self.unknown
                            .insert(format!("{parent}/{}", c.tag_name().name()));
                    }
                }
                Value::Array(out)
            }
            Kind::Licenses => {
                let mut out = Vec::new();
                for c in elements(n) {
                    match c.tag_name().name() {
                        "license" if self.ours(c) => {
                            let l = self.object(&LICENSE, c, depth + 1)?;
                            out.push(serde_json::json!({ "license": l }));
                        }
                        "expression" if self.ours(c) => {
                            out.push(Value::Object(self.object(&EXPRESSION, c, depth + 1)?));
                        }
                        other => {
                            self.unknown.insert(format!("licenses/{other}"));
                        }
                    }
                }
                Value::Array(out)
            }
            Kind::Tools => {
                let legacy = elements(n).any(|c| c.tag_name().name() == "tool");
                if legacy {
                    self.value(Kind::Wrap("tool", &TOOL), n, depth)?
                } else {
                    Value::Object(self.object(&TOOLS, n, depth)?)
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_become_replacement_characters_and_markup_is_escaped() {
        let mut s = String::new();
        escape("a\u{1}<b>&\"\r\n", true, &mut s);
        assert_eq!(s, "a\u{fffd}&lt;b&gt;&amp;&quot;&#13;&#10;");
    }

    #[test]
    fn json_survives_xml() {
        let bom = serde_json::json!({
            "bomFormat": "CycloneDX", "specVersion": "1.7", "version": 1,
            "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
            "metadata": {"tools": [{"vendor": "v", "name": "n"}]},
            "components": [{"type": "library", "bom-ref": "a", "name": "x<y", "version": "1",
                "hashes": [{"alg": "SHA-256", "content": "ab"}],
                "licenses": [{"expression": "MIT OR Apache-2.0", "acknowledgement": "declared"},
                             {"license": {"id": "MIT", "text": {"content": "t", "contentType": "text/plain"}}}],
                "properties": [{"name": "p", "value": "line 1\nline 2"}],
                "evidence": {"identity": [{"field": "purl", "confidence": 0.5, "methods": [{"technique": "manifest-analysis", "confidence": 1.0}]}],
                             "occurrences": [{"location": "/l", "line": 3}]},
                "components": [{"type": "library", "name": "inner"}]}],
            "dependencies": [{"ref": "a", "dependsOn": ["b", "c"]}],
            "compositions": [{"aggregate": "complete", "assemblies": ["a"]}],
        });
        let xml = write(&bom);
        let (back, notes) = to_json(xml.as_bytes()).unwrap();
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(back, bom, "{xml}");
    }
}
