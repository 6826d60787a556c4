//! The DSSE specification's test vector (protocol.md, "Test Vectors"; the
//! reference implementation's doctest): ECDSA P-256 with SHA-256 and
//! deterministic RFC 6979 nonces, a raw `r || s` signature.

use cairn_attest::dsse::{pae, Envelope, Signature};
use cairn_attest::PublicKey;
use cairn_tuf::keys::Key;
use cairn_tuf::sign::{SignError, Signer};
use p256::ecdsa::signature::Signer as _;
use p256::pkcs8::EncodePublicKey;

const X: &str = "46950820868899156662930047687818585632848591499744589407958293238635476079160";
const Y: &str = "5640078356564379163099075877009565129882514886557779369047442380624545832820";
const D: &str = "97358161215184420915383655311931858321456579547487070936769975997791359926199";
const PAYLOAD_TYPE: &str = "http://example.com/HelloWorld";
const ENVELOPE: &str = r#"{"payload": "aGVsbG8gd29ybGQ=",
 "payloadType": "http://example.com/HelloWorld",
 "signatures": [{"sig": "A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA=="}]}"#;

/// A decimal integer as 32 big-endian bytes.
fn be32(decimal: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    for digit in decimal.bytes() {
        let mut carry = u32::from(digit - b'0');
        for byte in out.iter_mut().rev() {
            let v = u32::from(*byte) * 10 + carry;
            *byte = v as u8;
            carry = v >> 8;
        }
        assert_eq!(carry, 0, "{decimal} fits in 32 bytes");
    }
    out
}

fn public_key() -> PublicKey {
    let mut sec1 = vec![4u8];
    sec1.extend_from_slice(&be32(X));
    sec1.extend_from_slice(&be32(Y));
    let key = p256::PublicKey::from_sec1_bytes(&sec1).expect("the vector's point is on P-256");
    let der = key.to_public_key_der().unwrap();
    PublicKey::from_spki_der(der.as_bytes()).unwrap()
}

/// The vector's key, signing as the reference implementation does (raw r || s).
struct VectorSigner {
    key: p256::ecdsa::SigningKey,
    public: Key,
}

impl Signer for VectorSigner {
    fn public_key(&self) -> &Key {
        &self.public
    }
    fn keyid(&self) -> &str {
        ""
    }
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, SignError> {
        let sig: p256::ecdsa::Signature = self.key.sign(msg);
        Ok(sig.to_bytes().to_vec())
    }
}

#[test]
fn pae_of_the_vector() {
    assert_eq!(
        pae(PAYLOAD_TYPE, b"hello world"),
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    );
    assert_eq!(pae("", b""), b"DSSEv1 0  0 ");
}

#[test]
fn signing_reproduces_the_vector() {
    let key = p256::ecdsa::SigningKey::from_bytes(&be32(D).into()).unwrap();
    assert_eq!(
        key.verifying_key().to_encoded_point(false).as_bytes()[1..33],
        be32(X),
        "d, X and Y are one key pair"
    );
    let signer = VectorSigner {
        key,
        public: public_key().tuf_key().clone(),
    };
    let made = Envelope::sign(PAYLOAD_TYPE, b"hello world", &signer).unwrap();
    let expected: Envelope = serde_json::from_str(ENVELOPE).unwrap();
    assert_eq!(made, expected);
}

#[test]
fn the_vector_verifies_and_tampering_does_not() {
    let key = public_key();
    let envelope: Envelope = serde_json::from_str(ENVELOPE).unwrap();
    let v = envelope.verify(std::slice::from_ref(&key)).unwrap();
    assert_eq!(v.payload, b"hello world");
    assert_eq!(v.payload_type, PAYLOAD_TYPE);
    assert_eq!(v.key, key.fingerprint());

    // URL-safe base64 must be accepted too.
    let mut url_safe = envelope.clone();
    url_safe.signatures[0].sig = url_safe.signatures[0]
        .sig
        .replace('+', "-")
        .replace('/', "_");
    url_safe.verify(std::slice::from_ref(&key)).unwrap();

    let mut other_type = envelope.clone();
    other_type.payload_type = "http://example.com/Other".into();
    assert!(other_type.verify(std::slice::from_ref(&key)).is_err());

    let mut other_body = envelope.clone();
    other_body.payload = "aGVsbG8gd29ybGU=".into(); // "hello worle"
    let e = other_body
        .verify(std::slice::from_ref(&key))
        .unwrap_err()
        .to_string();
    assert!(e.contains("no signature verifies"), "{e}");

    let mut none = envelope;
    none.signatures = vec![Signature {
        keyid: String::new(),
        sig: "not base64!".into(),
    }];
    assert!(none.verify(&[key]).is_err());
}
