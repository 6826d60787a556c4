//! Content digests: `sha256:<64 hex>` and `sha512:<128 hex>`, the two
//! algorithms the OCI image spec registers.

use sha2::{Digest as _, Sha256, Sha512};

use crate::error::{Error, Result};

/// A digest algorithm this crate can verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Sha256,
    Sha512,
}

/// Checks that `digest` is `sha256:<64 lowercase hex>` or
/// `sha512:<128 lowercase hex>` and returns its algorithm.
pub fn parse_digest(digest: &str) -> Result<Algorithm> {
    let invalid = || Error::InvalidDigest {
        digest: digest.chars().take(200).collect(),
    };
    let (algorithm, hex) = digest.split_once(':').ok_or_else(invalid)?;
    let (algorithm, len) = match algorithm {
        "sha256" => (Algorithm::Sha256, 64),
        "sha512" => (Algorithm::Sha512, 128),
        _ => return Err(invalid()),
    };
    if hex.len() != len || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(invalid());
    }
    Ok(algorithm)
}

/// The digest of `bytes` with `algorithm`, as `algo:hex`.
pub fn digest_of(algorithm: Algorithm, bytes: &[u8]) -> String {
    match algorithm {
        Algorithm::Sha256 => format!("sha256:{}", hex::encode(Sha256::digest(bytes))),
        Algorithm::Sha512 => format!("sha512:{}", hex::encode(Sha512::digest(bytes))),
    }
}

/// Checks that `bytes` hash to `expected` (which must be a valid digest).
/// `what` names the content in the error.
pub fn verify(expected: &str, bytes: &[u8], what: &str) -> Result<()> {
    let algorithm = parse_digest(expected)?;
    let actual = digest_of(algorithm, bytes);
    if actual == expected {
        Ok(())
    } else {
        Err(Error::DigestMismatch {
            what: what.to_string(),
            expected: expected.to_string(),
            actual,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_verifies() {
        let d = digest_of(Algorithm::Sha256, b"hello");
        assert_eq!(
            d,
            "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert_eq!(parse_digest(&d).unwrap(), Algorithm::Sha256);
        verify(&d, b"hello", "x").unwrap();
        assert!(matches!(
            verify(&d, b"hellO", "x"),
            Err(Error::DigestMismatch { .. })
        ));
        let d512 = digest_of(Algorithm::Sha512, b"hello");
        verify(&d512, b"hello", "x").unwrap();
        for bad in [
            "sha256:",
            "sha256:abc",
            "md5:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
            "sha256:2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824",
            "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b982g",
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
        ] {
            assert!(parse_digest(bad).is_err(), "{bad}");
        }
    }
}
