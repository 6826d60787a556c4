//! Deterministic identifiers derived from content, so the same scan gives the same ids.

use crate::model::Sbom;
use sha2::{Digest, Sha256};

pub(crate) fn short_hash(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    hex::encode(&h.finalize()[..8])
}

/// `name` with everything but ASCII letters, digits, `.` and `-` turned into `-`: safe in an
/// `SPDXRef-` id and in a URI path segment.
pub(crate) fn id_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// `SPDXRef-` ids allow only letters, digits, `.` and `-`.
pub(crate) fn spdx_ref(kind: &str, name: &str, id: &str) -> String {
    format!("SPDXRef-{kind}-{}-{}", id_safe(name), short_hash(&[id]))
}

/// The digest a document's identifiers (SPDX namespace, CycloneDX serial number) are made
/// from: all of the SBOM, so that the same scan always gets the same identifiers and two
/// different documents (another cairn version, `--files` or not, other warnings or
/// licenses for the same packages) never share one. The path an image was read from is
/// left out: it is where the image was, not what it is, and SPDX does not record it. A
/// directory has no image id, and its path (its name) stays in.
pub(crate) fn document_digest(sbom: &Sbom) -> [u8; 32] {
    // Every field named, so that a new one cannot be forgotten here.
    let Sbom {
        format_version,
        tool,
        creator,
        created,
        source,
        distro,
        packages,
        files,
        relationships,
        complete,
        warnings,
        removed,
    } = sbom;
    let mut source = source.clone();
    if source.image_id.is_some() {
        source.path.clear();
    }
    let mut h = Sha256::new();
    serde_json::to_writer(
        &mut h,
        &(
            format_version,
            tool,
            creator,
            created,
            &source,
            distro,
            packages,
            files,
            relationships,
            complete,
            warnings,
            removed,
        ),
    )
    .expect("the model always serializes");
    h.finalize().into()
}

/// A version-5-style UUID (SHA-256 based here) from a digest, for CycloneDX serial numbers.
pub(crate) fn uuid_from(digest: &[u8; 32]) -> String {
    let mut b: [u8; 16] = digest[..16].try_into().expect("16 bytes");
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &x[0..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_safe_keeps_letters_digits_dots_and_dashes_only() {
        assert_eq!(id_safe("libc6-2.36.x86_64"), "libc6-2.36.x86-64");
        assert_eq!(id_safe("a b/c_d:e\nü😀"), "a-b-c-d-e---");
        assert_eq!(id_safe(""), "");
    }

    #[test]
    fn refs_with_the_same_safe_name_differ_by_their_hash() {
        let a = spdx_ref("Package", "a b", "pkg:x/a b");
        let b = spdx_ref("Package", "a_b", "pkg:x/a_b");
        assert!(a.starts_with("SPDXRef-Package-a-b-") && b.starts_with("SPDXRef-Package-a-b-"));
        assert_ne!(a, b);
        assert_eq!(a, spdx_ref("Package", "a b", "pkg:x/a b"));
        // Parts are separated, so moving a boundary changes the hash.
        assert_ne!(short_hash(&["ab", "c"]), short_hash(&["a", "bc"]));
        assert_eq!(short_hash(&["x"]).len(), 16);
    }
}
