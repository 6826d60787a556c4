//! Sigstore bundles and DSSE envelopes as `cairn verify-attestation` reads them: any bytes
//! are parsed or refused, verified against a fixed key or refused, never a panic; what
//! verifies is the statement whose PAE the key signed. Seed with bundles `cairn attest`
//! writes (and sigstore-js's, securesystemslib's envelopes from tests/attest/).
#![no_main]

use cairn_attest::{pae, verify_envelope, Bundle, Envelope, PublicKey, Statement};
use libfuzzer_sys::fuzz_target;

const KEY: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE+mcWD/kJSQOjkiYbpW1LViGPBjOh
1jikMERcP5caXsIKRwM+OUFaUuPHR1kUIvBdrAHmf1ibjlclkfaXs3Ttvw==
-----END PUBLIC KEY-----
";

fuzz_target!(|data: &[u8]| {
    let key = PublicKey::from_pem(KEY.as_bytes()).expect("the fixed key parses");
    let _ = PublicKey::from_pem(data);
    let _ = Statement::from_json(data);
    if let Ok(b) = Bundle::from_json(data) {
        let _ = b.hint();
        if let Ok(a) = b.verify(std::slice::from_ref(&key)) {
            let env = b.dsse_envelope.as_ref().expect("verified bundles hold an envelope");
            assert!(!a.statement.subject.is_empty());
            let _ = pae(&env.payload_type, &[]);
        }
    }
    if let Ok(env) = serde_json::from_slice::<Envelope>(data) {
        let _ = verify_envelope(&env, std::slice::from_ref(&key));
    }
});
