//! HTTPS with an extra root from `ca_files`: a rustls server on 127.0.0.1
//! whose certificate is signed by the test CA in tests/data (valid for 100
//! years). Without the CA file the handshake fails, naming the host.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;

use cairn_registry::{Client, Error, Options, Reference};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

const BODY: &[u8] = br#"{"schemaVersion":2}"#;

/// Serves `BODY` over TLS to every connection; returns `127.0.0.1:port`.
fn tls_server() -> String {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(data("server.pem"))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(data("server.key")).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(50) {
            let Ok(stream) = stream else { continue };
            let config = config.clone();
            std::thread::spawn(move || {
                let conn = rustls::ServerConnection::new(config).unwrap();
                let mut tls = rustls::StreamOwned::new(conn, stream);
                let mut reader = BufReader::new(&mut tls);
                let mut line = String::new();
                // Read the request head; a failed handshake ends here.
                loop {
                    line.clear();
                    match reader.read_line(&mut line) {
                        Ok(0) | Err(_) => return,
                        Ok(_) if line == "\r\n" => break,
                        Ok(_) => {}
                    }
                }
                let head = format!(
                    "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\nContent-Length: {}\r\n\r\n",
                    BODY.len()
                );
                let _ = tls.write_all(head.as_bytes());
                let _ = tls.write_all(BODY);
                tls.conn.send_close_notify();
                let _ = tls.flush();
            });
        }
    });
    addr.to_string()
}

fn options() -> Options {
    Options {
        docker_config: Some("/nonexistent/cairn-registry-test/config.json".into()),
        retries: 0,
        ..Options::default()
    }
}

#[test]
fn ca_file_roots_are_trusted_on_top_of_the_system_roots() {
    let addr = tls_server();
    let reference = Reference::parse(&format!("{addr}/app:v1")).unwrap();

    let mut opts = options();
    opts.ca_files = vec![data("ca.pem")];
    let client = Client::new(&reference, &opts).unwrap();
    let m = client.manifest("v1", 4096).unwrap();
    assert_eq!(m.bytes, BODY);

    let client = Client::new(&reference, &options()).unwrap();
    let e = client.manifest("v1", 4096).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Tls {
                plain_http: false,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains(&addr), "{e}");
    assert!(!e.to_string().contains("--insecure"), "{e}");
    assert!(e.to_string().contains("pass --ca-file"), "{e}");
}
