//! cairn's SBOM model — packages, files, relationships and the evidence behind each — and
//! the writers that turn it into SPDX 2.3 (JSON and tag-value), SPDX 3.0.1 JSON-LD, CycloneDX 1.7
//! (and 1.6) JSON and XML, cairn's
//! own lossless JSON and a human table.
//!
//! The model is filled in by catalogers where each fact is found; writers only translate it.
//! Every collection that reaches an output is kept sorted, so the same input always gives
//! byte-identical output.
#![forbid(unsafe_code)]

mod cdx_xml;
mod cyclonedx;
mod ids;
mod model;
mod read;
mod spdx;
mod spdx3;
mod table;
mod text;

pub use cdx_xml::{MAX_XML_DEPTH, MAX_XML_NODES};
pub use model::*;
pub use read::{looks_like_document, read, read_as, Detected, Read, ReadError, MAX_DOCUMENT_BYTES};
pub use text::escape_control;

/// An output format `cairn sbom -o` knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    SpdxJson,
    SpdxTagValue,
    /// SPDX 3.0.1 JSON-LD.
    Spdx3Json,
    /// CycloneDX 1.7 JSON.
    CycloneDxJson,
    /// CycloneDX 1.6 JSON, for tools that do not read 1.7 yet.
    CycloneDxJson16,
    /// CycloneDX 1.7 XML: the JSON document's facts, in the XML schema.
    CycloneDxXml,
    /// CycloneDX 1.6 XML.
    CycloneDxXml16,
}

impl Format {
    pub const ALL: [(&'static str, Format); 9] = [
        ("table", Format::Table),
        ("json", Format::Json),
        ("spdx-json", Format::SpdxJson),
        ("spdx-tag-value", Format::SpdxTagValue),
        ("spdx3-json", Format::Spdx3Json),
        ("cyclonedx-json", Format::CycloneDxJson),
        // Syft's spelling of a format's earlier version.
        ("cyclonedx-json@1.6", Format::CycloneDxJson16),
        ("cyclonedx-xml", Format::CycloneDxXml),
        ("cyclonedx-xml@1.6", Format::CycloneDxXml16),
    ];

    pub fn parse(s: &str) -> Option<Format> {
        Self::ALL.iter().find(|(n, _)| *n == s).map(|(_, f)| *f)
    }

    /// The name [`Format::parse`] reads (`spdx-json`).
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, f)| *f == self)
            .map(|(n, _)| *n)
            .expect("every format is listed")
    }
}

/// Render the SBOM in a format. Output is deterministic for a given SBOM.
pub fn render(sbom: &Sbom, format: Format) -> String {
    match format {
        Format::Table => table::render(sbom),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(sbom).expect("the model always serializes");
            s.push('\n');
            s
        }
        Format::SpdxJson => spdx::json(sbom),
        Format::SpdxTagValue => spdx::tag_value(sbom),
        Format::Spdx3Json => spdx3::json(sbom),
        Format::CycloneDxJson => cyclonedx::json(sbom, cyclonedx::Version::V1_7),
        Format::CycloneDxJson16 => cyclonedx::json(sbom, cyclonedx::Version::V1_6),
        Format::CycloneDxXml => cyclonedx::xml(sbom, cyclonedx::Version::V1_7),
        Format::CycloneDxXml16 => cyclonedx::xml(sbom, cyclonedx::Version::V1_6),
    }
}

/// The JSON Schema of cairn's own format (`-o json`), generated from the model itself.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(Sbom);
    let mut s = serde_json::to_string_pretty(&schema).expect("schema serializes");
    s.push('\n');
    s
}
