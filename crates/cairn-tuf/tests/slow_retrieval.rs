//! Slow retrieval (§1.5.2): a server that stalls or trickles bytes must not
//! stall the client forever. Real sockets on loopback, short time limits.

use cairn_tuf::fetcher::{Fetcher, HttpFetcher, HttpTimeouts, TlsOptions};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

/// Serves each connection with `behave` on a thread; returns the base URL.
fn server(behave: fn(std::net::TcpStream)) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || behave(stream));
        }
    });
    format!("http://{addr}/")
}

fn read_request(s: &mut std::net::TcpStream) {
    let mut buf = [0u8; 4096];
    let _ = s.read(&mut buf);
}

/// Short time limits; plain HTTP allowed, as the servers here speak no TLS.
fn short() -> HttpFetcher {
    let tls = TlsOptions {
        allow_http: true,
        ..TlsOptions::default()
    };
    let timeouts = HttpTimeouts {
        connect: Duration::from_secs(2),
        response: Duration::from_secs(1),
        body: Duration::from_secs(1),
    };
    HttpFetcher::with_options(&tls, timeouts).unwrap()
}

#[test]
fn a_server_that_never_answers_is_cut_off() {
    let url = server(|mut s| {
        read_request(&mut s);
        std::thread::sleep(Duration::from_secs(30));
    });
    let start = Instant::now();
    assert!(short()
        .fetch(&format!("{url}timestamp.json"), 16_384)
        .is_err());
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[test]
fn a_trickling_body_is_cut_off() {
    let url = server(|mut s| {
        read_request(&mut s);
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n");
        for _ in 0..300 {
            if s.write_all(b"x").is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let start = Instant::now();
    assert!(short()
        .fetch(&format!("{url}snapshot.json"), 1_000_000)
        .is_err());
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[test]
fn a_normal_server_is_fine_and_lengths_are_enforced() {
    let url = server(|mut s| {
        read_request(&mut s);
        let _ =
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
    });
    assert_eq!(short().fetch(&format!("{url}a"), 5).unwrap(), b"hello");
    assert!(matches!(
        short().fetch(&format!("{url}a"), 4),
        Err(cairn_tuf::fetcher::FetchError::TooLarge)
    ));
}
