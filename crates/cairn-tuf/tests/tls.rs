//! The client over real HTTPS: nginx on loopback serving the python-tuf
//! fixture repository, with certificates from a CA made in the test. Each
//! refusal is checked by what the error says, not only that there is one.
//! Needs nginx (scripts/setup installs it; with `CI` set, a missing nginx fails).

#[path = "../../../fixtures/require.rs"]
mod require;
#[path = "common/tls_server.rs"]
mod tls_server;

use cairn_tuf::fetcher::{
    DefaultFetcher, Fetcher, HttpFetcher, HttpTimeouts, TlsError, TlsOptions,
};
use cairn_tuf::{Config, Updater};
use std::path::{Path, PathBuf};
use tls_server::{Ca, Nginx, ServerCert};

fn nginx() -> bool {
    require::require("nginx (scripts/setup installs it)", Nginx::available())
}

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/python-tuf")
}

/// A copy of the fixture repository that nginx serves, and the server.
struct Served {
    _repo: tempfile::TempDir,
    nginx: Nginx,
}

fn serve(cert: Option<&ServerCert>) -> Served {
    let repo = tempfile::tempdir().unwrap();
    copy_dir(&fixture(), repo.path());
    let nginx = Nginx::start(repo.path(), cert);
    Served { _repo: repo, nginx }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

fn fetcher(ca_file: Option<PathBuf>, allow_http: bool) -> HttpFetcher {
    let tls = TlsOptions {
        ca_file,
        allow_http,
    };
    HttpFetcher::with_options(&tls, HttpTimeouts::default()).unwrap()
}

/// Trusts the fixture's first root and refreshes from `base`/metadata/; on
/// success downloads docs/guide.txt from `base`/targets/ and returns its bytes.
fn refresh_and_fetch<F: Fetcher>(base: &str, fetcher: F) -> Result<Vec<u8>, String> {
    let md = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixture().join("metadata/1.root.json"),
        md.path().join("root.json"),
    )
    .unwrap();
    let mut up = Updater::new(
        md.path(),
        &format!("{base}/metadata/"),
        fetcher,
        Config::default(),
    )
    .unwrap();
    up.refresh().map_err(|e| e.to_string())?;
    let info = up
        .target_info("docs/guide.txt")
        .map_err(|e| e.to_string())?
        .expect("the fixture lists docs/guide.txt");
    let out = md.path().join("guide.txt");
    up.download_target("docs/guide.txt", &info, &format!("{base}/targets/"), &out)
        .map_err(|e| e.to_string())?;
    Ok(std::fs::read(out).unwrap())
}

fn expect_refused(result: Result<Vec<u8>, String>, needles: &[&str]) {
    let err = result.expect_err("the fetch should have been refused");
    eprintln!("refused: {err}");
    for n in needles {
        assert!(err.contains(n), "{n:?} not in the error: {err}");
    }
}

#[test]
fn the_test_ca_as_ca_file_is_trusted() {
    if !nginx() {
        return;
    }
    let ca = Ca::new("cairn test CA");
    let s = serve(Some(&ca.server(&["127.0.0.1", "localhost"])));
    let dir = tempfile::tempdir().unwrap();
    let ca_file = ca.write(&dir.path().join("ca.pem"));
    for url in [s.nginx.url(), s.nginx.url_for("localhost")] {
        let got = refresh_and_fetch(&url, fetcher(Some(ca_file.clone()), false))
            .unwrap_or_else(|e| panic!("{url}: {e}\n{}", s.nginx.error_log()));
        assert_eq!(got, b"the guide\n");
    }
    // Through the fetcher the binary uses as well.
    let tls = TlsOptions {
        ca_file: Some(ca_file),
        allow_http: false,
    };
    let got = refresh_and_fetch(&s.nginx.url(), DefaultFetcher::with_tls(&tls).unwrap()).unwrap();
    assert_eq!(got, b"the guide\n");
}

#[test]
fn a_certificate_from_another_ca_is_refused() {
    if !nginx() {
        return;
    }
    let ca = Ca::new("cairn test CA");
    let other = Ca::new("some other CA");
    let s = serve(Some(&ca.server(&["127.0.0.1"])));
    let dir = tempfile::tempdir().unwrap();
    let other_file = other.write(&dir.path().join("other.pem"));
    expect_refused(
        refresh_and_fetch(&s.nginx.url(), fetcher(Some(other_file), false)),
        &["certificate", "UnknownIssuer", "not issued by a trusted CA"],
    );
}

#[test]
fn the_system_roots_do_not_hold_the_test_ca() {
    if !nginx() {
        return;
    }
    let ca = Ca::new("cairn test CA");
    let s = serve(Some(&ca.server(&["127.0.0.1"])));
    expect_refused(
        refresh_and_fetch(&s.nginx.url(), HttpFetcher::new()),
        &["UnknownIssuer", "--ca-file"],
    );
    expect_refused(
        refresh_and_fetch(&s.nginx.url(), DefaultFetcher::new()),
        &["UnknownIssuer"],
    );
}

#[test]
fn an_expired_certificate_is_refused() {
    if !nginx() {
        return;
    }
    let ca = Ca::new("cairn test CA");
    let s = serve(Some(&ca.server_valid(
        &["127.0.0.1"],
        (2000, 1, 1),
        (2001, 1, 1),
    )));
    let dir = tempfile::tempdir().unwrap();
    let ca_file = ca.write(&dir.path().join("ca.pem"));
    expect_refused(
        refresh_and_fetch(&s.nginx.url(), fetcher(Some(ca_file), false)),
        &["certificate expired"],
    );
}

#[test]
fn a_certificate_for_another_name_is_refused() {
    if !nginx() {
        return;
    }
    let ca = Ca::new("cairn test CA");
    let s = serve(Some(&ca.server(&["other.test"])));
    let dir = tempfile::tempdir().unwrap();
    let ca_file = ca.write(&dir.path().join("ca.pem"));
    expect_refused(
        refresh_and_fetch(&s.nginx.url(), fetcher(Some(ca_file.clone()), false)),
        &["not valid for name", "127.0.0.1", "other.test"],
    );
    expect_refused(
        refresh_and_fetch(&s.nginx.url_for("localhost"), fetcher(Some(ca_file), false)),
        &["not valid for name", "localhost", "other.test"],
    );
}

#[test]
fn plain_http_only_when_allowed() {
    if !nginx() {
        return;
    }
    let s = serve(None);
    let url = s.nginx.url();
    assert!(url.starts_with("http://"));
    let refused = format!("plain HTTP refused for {url}/metadata/");
    expect_refused(
        refresh_and_fetch(&url, fetcher(None, false)),
        &[&refused, "pass --allow-http to allow it"],
    );
    expect_refused(refresh_and_fetch(&url, HttpFetcher::new()), &[&refused]);
    expect_refused(refresh_and_fetch(&url, DefaultFetcher::new()), &[&refused]);
    assert_eq!(
        refresh_and_fetch(&url, fetcher(None, true)).unwrap(),
        b"the guide\n"
    );
    let tls = TlsOptions {
        ca_file: None,
        allow_http: true,
    };
    assert_eq!(
        refresh_and_fetch(&url, DefaultFetcher::with_tls(&tls).unwrap()).unwrap(),
        b"the guide\n"
    );
}

#[test]
fn a_redirect_to_plain_http_only_when_allowed() {
    if !nginx() {
        return;
    }
    let plain = serve(None);
    let ca = Ca::new("cairn test CA");
    let repo = tempfile::tempdir().unwrap();
    copy_dir(&fixture(), repo.path());
    let redirect = format!(
        "location /plain/ {{ rewrite ^/plain/(.*)$ {}/$1 redirect; }}",
        plain.nginx.url()
    );
    let tls = Nginx::start_with(repo.path(), Some(&ca.server(&["127.0.0.1"])), &redirect);
    let dir = tempfile::tempdir().unwrap();
    let ca_file = ca.write(&dir.path().join("ca.pem"));
    let base = format!("{}/plain", tls.url());
    let refused = format!(
        "plain HTTP refused for {}/metadata/2.root.json: pass --allow-http to allow it \
         (redirected from {base}/metadata/2.root.json)",
        plain.nginx.url()
    );
    expect_refused(
        refresh_and_fetch(&base, fetcher(Some(ca_file.clone()), false)),
        &[&refused],
    );
    assert_eq!(
        refresh_and_fetch(&base, fetcher(Some(ca_file), true)).unwrap(),
        b"the guide\n"
    );
}

#[test]
fn file_urls_need_no_allowing() {
    let base = format!("file://{}", fixture().canonicalize().unwrap().display());
    assert_eq!(
        refresh_and_fetch(&base, DefaultFetcher::new()).unwrap(),
        b"the guide\n"
    );
}

#[test]
fn an_unusable_ca_file_is_refused_up_front() {
    let dir = tempfile::tempdir().unwrap();
    let options = |path: &Path| TlsOptions {
        ca_file: Some(path.to_path_buf()),
        allow_http: false,
    };
    let err = |path: &Path| -> (TlsError, String) {
        let e = HttpFetcher::with_options(&options(path), HttpTimeouts::default())
            .err()
            .expect("refused");
        let text = e.to_string();
        (e, text)
    };

    let missing = dir.path().join("missing.pem");
    let (e, text) = err(&missing);
    assert!(matches!(e, TlsError::Read { .. }), "{e:?}");
    assert!(
        text.starts_with(&format!("reading CA file {}: ", missing.display())),
        "{text}"
    );
    assert!(DefaultFetcher::with_tls(&options(&missing)).is_err());

    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "no PEM here\n").unwrap();
    let (e, text) = err(&empty);
    assert!(matches!(e, TlsError::NoCertificate { .. }), "{e:?}");
    assert!(text.contains("holds no certificate"), "{text}");

    // A key alone is no CA bundle.
    let key_only = dir.path().join("key.pem");
    std::fs::write(
        &key_only,
        rcgen::KeyPair::generate().unwrap().serialize_pem(),
    )
    .unwrap();
    let (e, _) = err(&key_only);
    assert!(matches!(e, TlsError::NoCertificate { .. }), "{e:?}");

    // A CERTIFICATE block that is not a certificate.
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(
        &garbage,
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let (e, text) = err(&garbage);
    assert!(matches!(e, TlsError::Invalid { .. }), "{e:?}");
    assert!(text.contains("not a usable CA"), "{text}");
}
