//! A real HTTPS server for the TLS tests: nginx on loopback, as a child
//! process in a temporary directory, serving a directory over TLS (or plain
//! HTTP) with certificates made by a test CA ([`Ca`], rcgen). Shared by
//! cairn-tuf's tests and the cairn binary's (`#[path]`-included).
#![allow(dead_code)]

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A certificate authority made for one test.
pub struct Ca {
    issuer: Issuer<'static, KeyPair>,
    /// The CA certificate, PEM.
    pub pem: String,
}

/// A server certificate and its key, PEM.
pub struct ServerCert {
    pub cert_pem: String,
    pub key_pem: String,
}

impl Ca {
    pub fn new(name: &str) -> Ca {
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.not_before = rcgen::date_time_ymd(2000, 1, 1);
        params.not_after = rcgen::date_time_ymd(2099, 1, 1);
        let key = KeyPair::generate().unwrap();
        let pem = params.self_signed(&key).unwrap().pem();
        Ca {
            issuer: Issuer::new(params, key),
            pem,
        }
    }

    /// Writes the CA certificate to `path` (a `--ca-file`).
    pub fn write(&self, path: &Path) -> PathBuf {
        std::fs::write(path, &self.pem).unwrap();
        path.to_path_buf()
    }

    /// A server certificate for `names` (DNS names or IP addresses), valid
    /// from 2000 to 2099.
    pub fn server(&self, names: &[&str]) -> ServerCert {
        self.server_valid(names, (2000, 1, 1), (2099, 1, 1))
    }

    /// A server certificate for `names`, valid from `not_before` to
    /// `not_after` (year, month, day).
    pub fn server_valid(
        &self,
        names: &[&str],
        not_before: (i32, u8, u8),
        not_after: (i32, u8, u8),
    ) -> ServerCert {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names.clone()).unwrap();
        params.distinguished_name = DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, &names[0]);
        params.not_before = rcgen::date_time_ymd(not_before.0, not_before.1, not_before.2);
        params.not_after = rcgen::date_time_ymd(not_after.0, not_after.1, not_after.2);
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        ServerCert {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }
}

/// nginx serving a directory on 127.0.0.1, killed on drop.
pub struct Nginx {
    child: Child,
    port: u16,
    tls: bool,
    dir: tempfile::TempDir,
}

impl Nginx {
    /// Whether nginx can be run (scripts/setup installs it).
    pub fn available() -> bool {
        Command::new(nginx_bin())
            .arg("-v")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Serves `root` over HTTPS with `cert`, or over plain HTTP when `cert`
    /// is `None`.
    pub fn start(root: &Path, cert: Option<&ServerCert>) -> Nginx {
        Self::start_with(root, cert, "")
    }

    /// As [`Nginx::start`], with `extra` added to the `server` block (a
    /// `location` that redirects, say).
    pub fn start_with(root: &Path, cert: Option<&ServerCert>, extra: &str) -> Nginx {
        let dir = tempfile::tempdir().unwrap();
        if let Some(c) = cert {
            std::fs::write(dir.path().join("server.crt"), &c.cert_pem).unwrap();
            std::fs::write(dir.path().join("server.key"), &c.key_pem).unwrap();
        }
        std::fs::create_dir(dir.path().join("tmp")).unwrap();
        // A port picked by the kernel can be taken again before nginx binds it: retry.
        let mut last_error = String::new();
        for _ in 0..5 {
            let port = free_port();
            let conf = dir.path().join("nginx.conf");
            std::fs::write(&conf, config(dir.path(), root, port, cert.is_some(), extra)).unwrap();
            let error_log = dir.path().join("error.log");
            let _ = std::fs::remove_file(&error_log);
            let mut child = Command::new(nginx_bin())
                .arg("-p")
                .arg(dir.path())
                .arg("-e")
                .arg(&error_log)
                .arg("-c")
                .arg(&conf)
                .args(["-g", "daemon off;"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                if let Some(status) = child.try_wait().unwrap() {
                    let mut stderr = String::new();
                    use std::io::Read;
                    let _ = child.stderr.take().unwrap().read_to_string(&mut stderr);
                    let log = std::fs::read_to_string(&error_log).unwrap_or_default();
                    last_error = format!("nginx exited with {status}: {stderr}{log}");
                    break;
                }
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Nginx {
                        child,
                        port,
                        tls: cert.is_some(),
                        dir,
                    };
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("nginx did not listen on port {port} within 10 s");
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            if !last_error.contains("Address already in use") {
                break;
            }
        }
        panic!("{last_error}");
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `https://127.0.0.1:PORT` (or `http://`), without a trailing slash.
    pub fn url(&self) -> String {
        self.url_for("127.0.0.1")
    }

    /// The server's URL with `host` for the address (`localhost`, a name the
    /// certificate does not hold, ...).
    pub fn url_for(&self, host: &str) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{host}:{}", self.port)
    }

    /// The server's error log so far (for assertion messages).
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn nginx_bin() -> PathBuf {
    // Debian installs it in /usr/sbin, which a non-root PATH may lack.
    ["/usr/sbin/nginx", "/usr/local/sbin/nginx"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("nginx"))
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Whether this process runs as root (effective uid 0, from /proc).
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().nth(1).map(|e| e == "0"))
        })
        .unwrap_or(false)
}

/// Everything in `dir`, nothing under /var: pid, logs and temp paths. An nginx
/// started by root runs its worker as `nobody`, which cannot read a private
/// temporary directory, so then the worker stays root.
fn config(dir: &Path, root: &Path, port: u16, tls: bool, extra: &str) -> String {
    let d = dir.display();
    let user = if is_root() { "user root root;\n" } else { "" };
    let listen = if tls {
        format!(
            "listen 127.0.0.1:{port} ssl;\n    ssl_certificate {d}/server.crt;\n    \
             ssl_certificate_key {d}/server.key;"
        )
    } else {
        format!("listen 127.0.0.1:{port};")
    };
    format!(
        "{user}worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 64; }}
http {{
  access_log {d}/access.log;
  client_body_temp_path {d}/tmp/body;
  proxy_temp_path {d}/tmp/proxy;
  fastcgi_temp_path {d}/tmp/fastcgi;
  uwsgi_temp_path {d}/tmp/uwsgi;
  scgi_temp_path {d}/tmp/scgi;
  default_type application/octet-stream;
  server {{
    {listen}
    root {root};
    {extra}
  }}
}}
",
        root = root.display()
    )
}
