//! A token server for the registry's `auth: token` (the Docker/distribution token flow): it
//! checks Basic credentials on `GET /token?service=…&scope=…` and issues an ES256 JWT signed
//! with a P-256 key whose self-signed certificate is the registry's `rootcertbundle`.

use std::io::BufReader;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::{DecodePrivateKey, EncodePublicKey};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::http::{base64, base64url, query_pairs, respond, Head};

/// How the JWT names its signing key; distribution 2.8 accepts either.
#[derive(Clone, Copy, Debug)]
pub(crate) enum KeyRef {
    /// `x5c`: the certificate itself (base64 DER), verified against the root bundle.
    X5c,
    /// `kid`: the libtrust key id of the certificate's public key.
    #[cfg_attr(not(test), allow(dead_code))]
    Kid,
}

pub(crate) struct TokenServer {
    /// `127.0.0.1:PORT`.
    pub host: String,
    /// The certificate to name as the registry's `rootcertbundle`.
    pub cert: PathBuf,
    issued: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

struct Issuer {
    key: SigningKey,
    x5c: String,
    kid: String,
    key_ref: KeyRef,
    basic: String,
    service: String,
    issuer: String,
    user: String,
    issued: Arc<AtomicUsize>,
    serial: AtomicUsize,
}

impl TokenServer {
    /// Makes the key and certificate in `dir` with the openssl CLI and starts serving.
    pub fn start(
        dir: &Path,
        user: &str,
        password: &str,
        service: &str,
        issuer: &str,
        key_ref: KeyRef,
    ) -> TokenServer {
        let key_file = dir.join("token.key");
        let cert = dir.join("token.pem");
        crate::openssl(
            &format!("req -x509 {} -subj /CN=token -days 2", crate::NEW_P256_KEY),
            &[("-keyout", &key_file), ("-out", &cert)],
        );
        let key_pem = std::fs::read_to_string(&key_file).unwrap();
        let key = SigningKey::from_pkcs8_pem(&key_pem)
            .unwrap_or_else(|e| panic!("token key {}: {e}", key_file.display()));
        let cert_pem = std::fs::read_to_string(&cert).unwrap();
        let spki = key.verifying_key().to_public_key_der().unwrap();
        let issued = Arc::new(AtomicUsize::new(0));
        let state = Arc::new(Issuer {
            x5c: pem_body(&cert_pem),
            kid: libtrust_key_id(spki.as_bytes()),
            key,
            key_ref,
            basic: format!("Basic {}", base64(format!("{user}:{password}").as_bytes())),
            service: service.to_string(),
            issuer: issuer.to_string(),
            user: user.to_string(),
            issued: issued.clone(),
            serial: AtomicUsize::new(0),
        });
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let host = listener.local_addr().unwrap().to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let state = state.clone();
                    std::thread::spawn(move || {
                        let _ = state.serve(conn);
                    });
                }
            })
        };
        TokenServer {
            host,
            cert,
            issued,
            stop,
            thread: Some(thread),
        }
    }

    /// How many tokens it has issued.
    pub fn issued(&self) -> usize {
        self.issued.load(Ordering::SeqCst)
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees `stop`.
        let _ = TcpStream::connect(&self.host);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Issuer {
    fn serve(&self, conn: TcpStream) -> std::io::Result<()> {
        conn.set_read_timeout(Some(Duration::from_secs(10)))?;
        let mut out = conn.try_clone()?;
        let Some(head) = Head::read(&mut BufReader::new(conn))? else {
            return Ok(());
        };
        let mut parts = head.start.split_whitespace();
        let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let json = [("Content-Type", "application/json")];
        if method != "GET" || path != "/token" {
            let body = br#"{"errors":[{"code":"NOT_FOUND","message":"only GET /token"}]}"#;
            return respond(&mut out, "404 Not Found", &json, body);
        }
        if head.get("Authorization") != Some(self.basic.as_str()) {
            let body =
                br#"{"errors":[{"code":"UNAUTHORIZED","message":"Basic credentials required"}]}"#;
            let challenge = [
                ("Content-Type", "application/json"),
                ("WWW-Authenticate", "Basic realm=\"test-registry-token\""),
            ];
            return respond(&mut out, "401 Unauthorized", &challenge, body);
        }
        let pairs = query_pairs(query);
        let service = pairs
            .iter()
            .find(|(k, _)| k == "service")
            .map(|(_, v)| v.as_str());
        if service.is_some_and(|s| s != self.service) {
            let body = br#"{"errors":[{"code":"DENIED","message":"unknown service"}]}"#;
            return respond(&mut out, "400 Bad Request", &json, body);
        }
        let access: Vec<Value> = pairs
            .iter()
            .filter(|(k, _)| k == "scope")
            .flat_map(|(_, v)| v.split(' '))
            .filter_map(parse_scope)
            .collect();
        let token = self.sign(access);
        self.issued.fetch_add(1, Ordering::SeqCst);
        let body = json!({"token": token, "access_token": token, "expires_in": 300});
        respond(&mut out, "200 OK", &json, body.to_string().as_bytes())
    }

    fn sign(&self, access: Vec<Value>) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let mut header = json!({"typ": "JWT", "alg": "ES256"});
        match self.key_ref {
            KeyRef::X5c => header["x5c"] = json!([self.x5c]),
            KeyRef::Kid => header["kid"] = json!(self.kid),
        }
        let serial = self.serial.fetch_add(1, Ordering::SeqCst);
        let claims = json!({
            "iss": self.issuer,
            "sub": self.user,
            "aud": self.service,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": format!("{now}-{serial}"),
            "access": access,
        });
        let input = format!(
            "{}.{}",
            base64url(header.to_string().as_bytes()),
            base64url(claims.to_string().as_bytes())
        );
        let sig: Signature = self.key.sign(input.as_bytes());
        format!("{input}.{}", base64url(&sig.to_bytes()))
    }
}

/// `type:name:action,action` into a claim entry granting exactly those actions.
fn parse_scope(scope: &str) -> Option<Value> {
    let (kind, rest) = scope.split_once(':')?;
    let (name, actions) = rest.rsplit_once(':')?;
    let actions: Vec<&str> = actions.split(',').filter(|a| !a.is_empty()).collect();
    Some(json!({"type": kind, "name": name, "actions": actions}))
}

/// The base64 body of a PEM (its DER, base64-encoded), on one line.
fn pem_body(pem: &str) -> String {
    pem.lines()
        .skip_while(|l| !l.starts_with("-----BEGIN"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .map(str::trim)
        .collect()
}

/// libtrust's key id: the SHA-256 of the DER SubjectPublicKeyInfo, its first 240 bits in
/// base32, in 12 groups of 4 joined by ':'.
pub(crate) fn libtrust_key_id(spki_der: &[u8]) -> String {
    let digest = Sha256::digest(spki_der);
    let b32 = crate::http::base32(&digest[..30]);
    b32.as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse() {
        assert_eq!(
            parse_scope("repository:a/b:pull,push").unwrap(),
            json!({"type": "repository", "name": "a/b", "actions": ["pull", "push"]})
        );
        assert_eq!(
            parse_scope("repository:localhost:5000/a:pull").unwrap()["name"],
            "localhost:5000/a"
        );
        assert!(parse_scope("nonsense").is_none());
    }

    #[test]
    fn key_id_has_libtrust_shape() {
        let id = libtrust_key_id(b"anything");
        assert_eq!(id.len(), 12 * 4 + 11);
        assert!(id.split(':').all(|g| g.len() == 4));
    }
}
