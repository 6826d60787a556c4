//! Dev-only: a real OCI registry on loopback for tests.
//!
//! [`Registry::start`] runs Debian's `docker-registry` (CNCF distribution 2.8) on a free
//! `127.0.0.1` port with its storage in a temporary directory, optionally behind Basic
//! (htpasswd) or token auth, optionally over TLS; [`Registry::push`] copies an image into it
//! with `skopeo`. [`Proxy`] sits in front of a plain-HTTP registry and injects faults (rate
//! limiting, cut bodies). Everything is torn down on drop, also when a test panics.
//!
//! ```no_run
//! # #[path = "../../../fixtures/require.rs"] mod require;
//! use test_registry::{Auth, Options, Registry};
//! # fn t() {
//! if !require::require("docker-registry, skopeo, htpasswd and openssl (scripts/setup installs them)", Registry::available()) {
//!     return;
//! }
//! let registry = Registry::start(Options { auth: Auth::Anonymous, tls: false });
//! registry.push("oci:/path/to/oci-layout:latest", "demo:latest", false);
//! // ... GET http://{registry.host}/v2/demo/manifests/latest
//! # }
//! ```

mod http;
mod proxy;
mod token;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::json;

pub use proxy::{Fault, Proxy};
use token::{KeyRef, TokenServer};

/// The `service` the token-auth registry names and its token server checks.
pub const TOKEN_SERVICE: &str = "test-registry";
/// The `issuer` of the token-auth registry's tokens.
pub const TOKEN_ISSUER: &str = "test-issuer";
/// The realm of the Basic-auth (htpasswd) registry.
pub const BASIC_REALM: &str = "cairn-test";

/// How clients authenticate to the registry.
#[derive(Clone, Debug, Default)]
pub enum Auth {
    /// No authentication.
    #[default]
    Anonymous,
    /// HTTP Basic against an htpasswd (bcrypt) file, realm [`BASIC_REALM`].
    Basic { user: String, password: String },
    /// The distribution token flow: the registry answers 401 with a `Bearer` challenge whose
    /// realm is this crate's token server, which hands out JWTs for these Basic credentials.
    Token { user: String, password: String },
}

impl Auth {
    fn credentials(&self) -> Option<(&str, &str)> {
        match self {
            Auth::Anonymous => None,
            Auth::Basic { user, password } | Auth::Token { user, password } => {
                Some((user, password))
            }
        }
    }
}

/// What kind of registry to start.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub auth: Auth,
    /// Serve HTTPS with a certificate for `127.0.0.1` and `localhost` signed by a fresh CA
    /// ([`Registry::ca_file`]).
    pub tls: bool,
}

/// A running `docker-registry`; killed, and its directories removed, on drop.
pub struct Registry {
    /// `127.0.0.1:PORT`.
    pub host: String,
    /// With TLS: the PEM of the CA that signed the registry's certificate.
    pub ca_file: Option<PathBuf>,
    /// The registry's storage root directory.
    pub storage: PathBuf,
    auth: Auth,
    /// With TLS: a directory holding `ca.crt`, for skopeo's `--cert-dir`.
    cert_dir: Option<PathBuf>,
    log_file: PathBuf,
    child: Child,
    token: Option<TokenServer>,
    // Last: removed after the child is gone.
    dir: tempfile::TempDir,
}

impl Registry {
    /// Whether `docker-registry`, `skopeo`, `htpasswd` and `openssl` are installed.
    pub fn available() -> bool {
        ["docker-registry", "skopeo", "htpasswd", "openssl"]
            .iter()
            .all(|tool| on_path(tool))
    }

    /// Starts `docker-registry` on a free loopback port with storage in a temporary
    /// directory, and waits (up to about 10 s) until it listens and `GET /v2/` answers 200 or
    /// 401; panics with the registry's log otherwise.
    pub fn start(options: Options) -> Registry {
        Registry::start_with(options, KeyRef::X5c)
    }

    /// [`Registry::start`], with the token server naming its key by `key_ref`.
    fn start_with(options: Options, key_ref: KeyRef) -> Registry {
        let dir = tempfile::Builder::new()
            .prefix("test-registry-")
            .tempdir()
            .expect("temporary directory for the registry");
        let storage = dir.path().join("storage");
        std::fs::create_dir(&storage).unwrap();
        let log_file = dir.path().join("registry.log");

        let mut token = None;
        let auth = match &options.auth {
            Auth::Anonymous => None,
            Auth::Basic { user, password } => {
                let htpasswd = dir.path().join("htpasswd");
                let out = Command::new("htpasswd")
                    .args(["-Bbn", user, password])
                    .output()
                    .expect("run htpasswd (apache2-utils)");
                assert!(
                    out.status.success(),
                    "htpasswd -Bbn failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                std::fs::write(&htpasswd, &out.stdout).unwrap();
                Some(json!({"htpasswd": {"realm": BASIC_REALM, "path": htpasswd}}))
            }
            Auth::Token { user, password } => {
                let server = TokenServer::start(
                    dir.path(),
                    user,
                    password,
                    TOKEN_SERVICE,
                    TOKEN_ISSUER,
                    key_ref,
                );
                let auth = json!({"token": {
                    "realm": format!("http://{}/token", server.host),
                    "service": TOKEN_SERVICE,
                    "issuer": TOKEN_ISSUER,
                    "rootcertbundle": server.cert,
                }});
                token = Some(server);
                Some(auth)
            }
        };
        let (tls, ca_file, cert_dir) = if options.tls {
            let (ca, cert, key, cert_dir) = make_tls(dir.path());
            (
                Some(json!({"certificate": cert, "key": key})),
                Some(ca),
                Some(cert_dir),
            )
        } else {
            (None, None, None)
        };

        const ATTEMPTS: usize = 5;
        for attempt in 1..=ATTEMPTS {
            let port = free_port();
            let host = format!("127.0.0.1:{port}");
            let mut http = json!({"addr": host, "secret": "test-registry-secret"});
            if let Some(tls) = &tls {
                http["tls"] = tls.clone();
            }
            let mut config = json!({
                "version": "0.1",
                "log": {"level": "warn", "accesslog": {"disabled": true}},
                "storage": {
                    "filesystem": {"rootdirectory": storage},
                    "delete": {"enabled": true},
                },
                "http": http,
            });
            if let Some(auth) = &auth {
                config["auth"] = auth.clone();
            }
            // YAML is a superset of JSON.
            let config_file = dir.path().join("config.yml");
            std::fs::write(&config_file, serde_json::to_string_pretty(&config).unwrap()).unwrap();
            let log = File::create(&log_file).unwrap();
            let mut child = Command::new("docker-registry")
                .arg("serve")
                .arg(&config_file)
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .expect("run docker-registry");
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                if let Some(status) = child.try_wait().unwrap() {
                    let log = read_lossy(&log_file);
                    if log.contains("address already in use") && attempt < ATTEMPTS {
                        break; // Someone took the port meanwhile: try another.
                    }
                    panic!("docker-registry exited ({status}) before it answered:\n{log}");
                }
                let ready = if options.tls {
                    // The TLS listener is up once it accepts; GET needs a TLS client.
                    std::net::TcpStream::connect(&host).is_ok()
                } else {
                    matches!(http::probe(&host, "/v2/"), Some(200 | 401))
                };
                if ready {
                    return Registry {
                        host,
                        ca_file,
                        storage,
                        auth: options.auth,
                        cert_dir,
                        log_file,
                        child,
                        token,
                        dir,
                    };
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "docker-registry did not answer GET /v2/ on {host} within 10 s:\n{}",
                        read_lossy(&log_file)
                    );
                }
                std::thread::sleep(Duration::from_millis(25));
            }
        }
        unreachable!("the last attempt returns or panics")
    }

    /// `skopeo copy SRC docker://HOST/DEST`, e.g. `src` = `"oci:/path/to/layout:latest"` or
    /// `"docker-archive:/x.tar"` and `dest` = `"demo:latest"`, with the registry's CA or
    /// without TLS verification, its credentials (for token auth skopeo fetches a token like
    /// any client), `--preserve-digests` (the pushed manifest's digest is the source's), and
    /// `--all` when `all`. Panics with skopeo's output on failure.
    pub fn push(&self, src: &str, dest: &str, all: bool) {
        let mut cmd = Command::new("skopeo");
        cmd.args(["--insecure-policy", "copy"]);
        if preserve_digests_supported() {
            cmd.arg("--preserve-digests");
        }
        if all {
            cmd.arg("--all");
        }
        match &self.cert_dir {
            Some(dir) => {
                cmd.arg("--dest-tls-verify=true")
                    .arg("--dest-cert-dir")
                    .arg(dir);
            }
            None => {
                cmd.arg("--dest-tls-verify=false");
            }
        }
        match self.auth.credentials() {
            Some((user, password)) => {
                cmd.arg("--dest-creds").arg(format!("{user}:{password}"));
            }
            None => {
                cmd.arg("--dest-no-creds");
            }
        }
        cmd.arg(src).arg(format!("docker://{}/{dest}", self.host));
        // Keep the user's registries.conf and auth files out of it.
        cmd.env("REGISTRY_AUTH_FILE", self.dir.path().join("auth.json"));
        let out = cmd.output().expect("run skopeo");
        assert!(
            out.status.success(),
            "skopeo copy {src} to {}/{dest} failed ({}):\n{}{}\nregistry log:\n{}",
            self.host,
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
    }

    /// `http://HOST` or, with TLS, `https://HOST`.
    pub fn url(&self) -> String {
        let scheme = if self.ca_file.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.host)
    }

    /// With TLS: a directory holding the CA as `ca.crt`, for skopeo's `--cert-dir` (or
    /// `--src-cert-dir`/`--dest-cert-dir`).
    pub fn cert_dir(&self) -> Option<&Path> {
        self.cert_dir.as_deref()
    }

    /// With token auth: how many tokens the token server has issued so far (0 otherwise).
    pub fn tokens_issued(&self) -> usize {
        self.token.as_ref().map_or(0, TokenServer::issued)
    }

    /// With token auth: the token server, `127.0.0.1:PORT` (its realm is
    /// `http://HOST/token`).
    pub fn token_host(&self) -> Option<&str> {
        self.token.as_ref().map(|t| t.host.as_str())
    }

    /// The file on the registry's disk holding blob `digest` (`sha256:<hex>`), to tamper with.
    pub fn blob_path(&self, digest: &str) -> PathBuf {
        let (algorithm, hex) = digest
            .split_once(':')
            .unwrap_or_else(|| panic!("digest {digest:?} is not ALGORITHM:HEX"));
        assert!(hex.len() > 2, "digest {digest:?} is too short");
        self.storage
            .join("docker/registry/v2/blobs")
            .join(algorithm)
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    /// The registry's log (stdout and stderr) so far.
    pub fn log(&self) -> String {
        read_lossy(&self.log_file)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether `skopeo copy` knows `--preserve-digests` (skopeo 1.6 and later).
fn preserve_digests_supported() -> bool {
    static SUPPORTED: OnceLock<bool> = OnceLock::new();
    *SUPPORTED.get_or_init(|| {
        Command::new("skopeo")
            .args(["copy", "--help"])
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("--preserve-digests"))
    })
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| {
            let file = dir.join(tool);
            file.metadata().is_ok_and(|m| {
                m.is_file()
                    && std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o111 != 0
            })
        })
    })
}

/// A port that was free a moment ago (bind port 0, release).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind a loopback port")
        .port()
}

fn read_lossy(path: &Path) -> String {
    String::from_utf8_lossy(&std::fs::read(path).unwrap_or_default()).into_owned()
}

/// Runs the openssl CLI with `args` (split at spaces) followed by `files` (option, path),
/// panicking with its output on failure.
pub(crate) fn openssl(args: &str, files: &[(&str, &Path)]) {
    let mut cmd = Command::new("openssl");
    cmd.args(args.split_whitespace());
    for (option, path) in files {
        cmd.arg(option).arg(path);
    }
    let out = cmd.output().expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A P-256 key and a certificate for it, as the openssl CLI makes them.
const NEW_P256_KEY: &str = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";

/// A CA and a server certificate for 127.0.0.1 and localhost signed by it, in `dir`:
/// returns (CA PEM, server certificate, server key, a directory holding `ca.crt`).
fn make_tls(dir: &Path) -> (PathBuf, PathBuf, PathBuf, PathBuf) {
    let p = |name: &str| dir.join(name);
    let (ca, ca_key) = (p("ca.pem"), p("ca.key"));
    let (cert, key, csr, ext) = (
        p("server.pem"),
        p("server.key"),
        p("server.csr"),
        p("server.ext"),
    );
    openssl(
        &format!(
            "req -x509 {NEW_P256_KEY} -subj /CN=test-registry-ca -days 2 \
             -addext basicConstraints=critical,CA:TRUE \
             -addext keyUsage=critical,keyCertSign,cRLSign"
        ),
        &[("-keyout", &ca_key), ("-out", &ca)],
    );
    openssl(
        &format!("req -new {NEW_P256_KEY} -subj /CN=127.0.0.1"),
        &[("-keyout", &key), ("-out", &csr)],
    );
    std::fs::write(
        &ext,
        "basicConstraints=CA:FALSE\n\
         keyUsage=critical,digitalSignature\n\
         extendedKeyUsage=serverAuth\n\
         subjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .unwrap();
    openssl(
        "x509 -req -days 2 -CAcreateserial",
        &[
            ("-in", &csr),
            ("-CA", &ca),
            ("-CAkey", &ca_key),
            ("-extfile", &ext),
            ("-out", &cert),
        ],
    );
    let cert_dir = p("certs.d");
    std::fs::create_dir(&cert_dir).unwrap();
    std::fs::copy(&ca, cert_dir.join("ca.crt")).unwrap();
    (ca, cert, key, cert_dir)
}

#[cfg(test)]
#[path = "../../../fixtures/require.rs"]
mod require;

#[cfg(test)]
mod tests {
    use super::*;

    /// The registry also accepts a token that names its key by libtrust `kid` (the integration
    /// tests cover `x5c`, the default).
    #[test]
    fn token_with_libtrust_kid() {
        if !require::require(
            "docker-registry, skopeo, htpasswd and openssl (scripts/setup installs them)",
            Registry::available(),
        ) {
            return;
        }
        let auth = Auth::Token {
            user: "u".into(),
            password: "p".into(),
        };
        let registry = Registry::start_with(Options { auth, tls: false }, KeyRef::Kid);
        // skopeo checks for every blob with the token before it uploads: a token the registry
        // rejected would fail the push.
        let src = require::workspace_root().join("fixtures/images/demo/oci");
        registry.push(
            &format!("oci:{}:latest", src.display()),
            "demo:latest",
            false,
        );
        assert!(registry.tokens_issued() >= 1);
        assert!(
            !registry.log().contains("invalid token"),
            "{}",
            registry.log()
        );
    }
}
