//! Dev-only: real services on loopback for tests, each in its own temporary directory and
//! stopped when dropped.
//!
//! - [`Postgres`]: Debian's PostgreSQL 15 (`postgresql-15`), a fresh cluster made with
//!   `initdb` on a free port, trust authentication on 127.0.0.1 only.
//! - [`Slurm`]: Debian's `slurm-wlm`, `slurmctld` + `slurmd` on 127.0.0.1 with
//!   `AuthType=auth/none`, through `scripts/slurm-local`.
//!
//! When a service's programs are missing, `start` returns `None` with a message, unless `CI`
//! is set: then it panics, so a CI run never passes by skipping.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

fn missing(what: &str) -> Option<std::convert::Infallible> {
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "0" && v != "false") {
        panic!("{what} (CI is set: scripts/setup installs it)");
    }
    eprintln!("skipping: {what} (scripts/setup installs it)");
    None
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// A command run as the `postgres` user when we are root (PostgreSQL refuses to run as
/// root), as ourselves otherwise.
fn pg_command(bin: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin);
        c
    } else {
        Command::new(bin)
    }
}

fn run(mut c: Command, what: &str) {
    let out = c.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what}: {}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A PostgreSQL 15 server of its own.
pub struct Postgres {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Postgres {
    /// The directory of PostgreSQL 15's server programs.
    fn bindir() -> Option<PathBuf> {
        let d = PathBuf::from("/usr/lib/postgresql/15/bin");
        d.join("initdb").exists().then_some(d)
    }

    /// Starts a server with the default settings (durable commits), as a benchmark wants.
    pub fn start() -> Option<Postgres> {
        Self::start_with(&[])
    }

    /// Starts a server that takes TCP connections over TLS only (`hostssl` in pg_hba.conf,
    /// plain TCP rejected), with a certificate for 127.0.0.1 signed by a fresh CA: the
    /// CA's PEM file is [`Postgres::ca_file`].
    pub fn start_tls() -> Option<Postgres> {
        Self::start_inner(&[], true)
    }

    /// The CA that signed a TLS server's certificate.
    pub fn ca_file(&self) -> PathBuf {
        self._dir.path().join("ca.crt")
    }

    /// Starts a server with extra `-c NAME=VALUE` settings.
    pub fn start_with(settings: &[&str]) -> Option<Postgres> {
        Self::start_inner(settings, false)
    }

    fn start_inner(settings: &[&str], tls: bool) -> Option<Postgres> {
        let Some(bin) = Self::bindir() else {
            missing("PostgreSQL 15 is not installed (/usr/lib/postgresql/15/bin/initdb)")?;
            unreachable!()
        };
        let dir = tempfile::Builder::new()
            .prefix("cairn-pg-")
            .tempdir()
            .expect("temporary directory");
        if is_root() {
            let c = std::ffi::CString::new(dir.path().as_os_str().as_encoded_bytes()).unwrap();
            let pw = std::ffi::CString::new("postgres").unwrap();
            // SAFETY: getpwnam with a valid C string; the result is read before any other call.
            let (uid, gid) = unsafe {
                let p = libc::getpwnam(pw.as_ptr());
                assert!(
                    !p.is_null(),
                    "no postgres user (the postgresql package makes it)"
                );
                ((*p).pw_uid, (*p).pw_gid)
            };
            // SAFETY: chown with a valid C string.
            assert_eq!(unsafe { libc::chown(c.as_ptr(), uid, gid) }, 0, "chown");
        }
        let data = dir.path().join("data");
        let mut c = pg_command(&bin.join("initdb"));
        c.arg("-D")
            .arg(&data)
            .args(["-U", "cairn", "--auth=trust", "-E", "UTF8", "--no-sync"])
            .args(["--locale=C.UTF-8"]);
        run(c, "initdb");
        let port = free_port();
        let mut opts = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={}",
            dir.path().display()
        );
        if tls {
            make_certificates(dir.path());
            let hba = "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 reject\n";
            std::fs::write(data.join("pg_hba.conf"), hba).unwrap();
            for f in ["server.key", "server.crt", "ca.crt"] {
                chown_postgres(&dir.path().join(f));
            }
            opts.push_str(&format!(
                " -c ssl=on -c ssl_cert_file={0}/server.crt -c ssl_key_file={0}/server.key",
                dir.path().display()
            ));
        }
        for s in settings {
            opts.push_str(" -c ");
            opts.push_str(s);
        }
        let mut c = pg_command(&bin.join("pg_ctl"));
        c.arg("-D")
            .arg(&data)
            .args(["-w", "-t", "60", "-o", &opts, "-l"])
            .arg(dir.path().join("server.log"))
            .arg("start");
        run(c, "pg_ctl start");
        let pg = Postgres {
            bin,
            data,
            port,
            _dir: dir,
        };
        // Through the Unix socket, which a TLS-only server still takes in plain text.
        let mut c = pg_command(&pg.bin.join("createdb"));
        c.arg("-h")
            .arg(pg._dir.path())
            .args(["-p", &port.to_string(), "-U", "cairn", "cairn"]);
        run(c, "createdb");
        Some(pg)
    }

    /// `postgres://cairn@127.0.0.1:PORT/cairn`.
    pub fn url(&self) -> String {
        self.url_for("cairn")
    }

    /// The URL of another database on the same server, created if need be.
    pub fn url_for(&self, db: &str) -> String {
        if db != "cairn" {
            let mut c = pg_command(&self.bin.join("createdb"));
            c.args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "cairn",
                db,
            ]);
            let _ = c.output();
        }
        format!("postgres://cairn@127.0.0.1:{}/{db}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let mut c = pg_command(&self.bin.join("pg_ctl"));
        c.arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "-w", "stop"]);
        let _ = c.output();
    }
}

/// A CA and a server certificate for 127.0.0.1 (and localhost), P-256, made with openssl.
fn make_certificates(dir: &Path) {
    std::fs::write(
        dir.join("ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    for args in [
        &[
            &["req", "-x509"][..],
            &ec,
            &["-keyout", "ca.key", "-out", "ca.crt", "-days", "2"],
            &[
                "-subj",
                "/CN=cairn-test-ca",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
            ],
            &["-addext", "keyUsage=critical,keyCertSign,cRLSign"],
        ]
        .concat(),
        &[
            &["req"][..],
            &ec,
            &[
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=127.0.0.1",
            ],
        ]
        .concat(),
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "ext",
        ][..]
            .to_vec(),
    ] {
        let mut c = Command::new("openssl");
        c.current_dir(dir).args(args);
        run(c, "openssl (test certificates)");
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        dir.join("server.key"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
}

/// Hands a file to the `postgres` user when we are root (the server runs as it).
fn chown_postgres(path: &Path) {
    if !is_root() {
        return;
    }
    let mut c = Command::new("chown");
    c.arg("postgres:").arg(path);
    run(c, "chown");
}

/// A one-node Slurm cluster of its own.
pub struct Slurm {
    script: PathBuf,
    dir: tempfile::TempDir,
    conf: PathBuf,
}

impl Slurm {
    pub fn start() -> Option<Slurm> {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/slurm-local");
        let have = |p: &str| {
            std::env::var_os("PATH")
                .is_some_and(|path| std::env::split_paths(&path).any(|d| d.join(p).exists()))
        };
        if !have("slurmctld") || !have("sbatch") {
            missing("Slurm is not installed (Debian's slurm-wlm)")?;
        }
        if !is_root() {
            missing("the loopback Slurm cluster runs as root")?;
        }
        let dir = tempfile::Builder::new()
            .prefix("cairn-slurm-")
            .tempdir()
            .expect("temporary directory");
        let out = Command::new(&script)
            .arg("start")
            .arg(dir.path())
            .output()
            .expect("scripts/slurm-local");
        assert!(
            out.status.success(),
            "slurm-local start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let conf = dir.path().join("slurm.conf");
        Some(Slurm { script, dir, conf })
    }

    /// `SLURM_CONF` for `sbatch` and friends.
    pub fn conf(&self) -> &Path {
        &self.conf
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Slurm {
    fn drop(&mut self) {
        let _ = Command::new(&self.script)
            .arg("stop")
            .arg(self.dir.path())
            .output();
    }
}
