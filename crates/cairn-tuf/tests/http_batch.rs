//! `HttpFetcher::fetch_batch` on a real keep-alive HTTP/1.1 server on
//! loopback: every request answered in order, no more connections open at
//! once than asked for, connections reused, and failures kept per request.

use cairn_tuf::fetcher::{FetchError, Fetcher, HttpFetcher, HttpTimeouts, Request, TlsOptions};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Default)]
struct Stats {
    open: AtomicUsize,
    most_open: AtomicUsize,
    accepted: AtomicUsize,
}

/// Serves `/N` as "body N" (after a short pause, so that requests overlap)
/// and `/missing` as 404, keeping connections alive; returns the base URL.
fn server(stats: Arc<Stats>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let stats = stats.clone();
            stats.accepted.fetch_add(1, Ordering::SeqCst);
            let now = stats.open.fetch_add(1, Ordering::SeqCst) + 1;
            stats.most_open.fetch_max(now, Ordering::SeqCst);
            std::thread::spawn(move || {
                let mut out = stream.try_clone().unwrap();
                let mut reader = BufReader::new(stream);
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        break;
                    }
                    let path = line.split(' ').nth(1).unwrap_or("/").to_string();
                    // Skip the headers.
                    loop {
                        let mut h = String::new();
                        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                            break;
                        }
                    }
                    std::thread::sleep(Duration::from_millis(20));
                    let reply = match path.trim_start_matches('/') {
                        "missing" => {
                            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_string()
                        }
                        n => {
                            let body = format!("body {n}");
                            format!(
                                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                                body.len()
                            )
                        }
                    };
                    if out.write_all(reply.as_bytes()).is_err() {
                        break;
                    }
                }
                stats.open.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    format!("http://{addr}/")
}

fn fetcher() -> HttpFetcher {
    let tls = TlsOptions {
        allow_http: true,
        ..TlsOptions::default()
    };
    HttpFetcher::with_options(&tls, HttpTimeouts::default()).unwrap()
}

/// Requests for `/0`, `/1`, … into `bodies`.
fn numbered<'a>(base: &str, bodies: &'a mut [Vec<u8>]) -> Vec<Request<'a>> {
    bodies
        .iter_mut()
        .enumerate()
        .map(|(i, out)| Request {
            url: format!("{base}{i}"),
            max_length: 100,
            out,
        })
        .collect()
}

#[test]
fn a_batch_runs_on_bounded_kept_alive_connections() {
    let stats = Arc::new(Stats::default());
    let base = server(stats.clone());
    let fetcher = fetcher().with_connections(4);
    let mut bodies: Vec<Vec<u8>> = vec![Vec::new(); 40];
    let mut batch = numbered(&base, &mut bodies);
    let results = fetcher.fetch_batch(&mut batch);
    drop(batch);
    for (i, (r, body)) in results.iter().zip(&bodies).enumerate() {
        let expected = format!("body {i}");
        assert_eq!(*r.as_ref().unwrap(), expected.len() as u64);
        assert_eq!(body, expected.as_bytes());
    }
    let most = stats.most_open.load(Ordering::SeqCst);
    assert!((2..=4).contains(&most), "{most} connections open at once");
    // Kept alive: 40 requests on no more connections than workers.
    assert!(stats.accepted.load(Ordering::SeqCst) <= 4);
    // The next batch reuses them.
    let mut again: Vec<Vec<u8>> = vec![Vec::new(); 8];
    let mut batch = numbered(&base, &mut again);
    assert!(fetcher.fetch_batch(&mut batch).iter().all(Result::is_ok));
    assert!(stats.accepted.load(Ordering::SeqCst) <= 4);
}

#[test]
fn failures_stay_with_their_request() {
    let base = server(Arc::new(Stats::default()));
    let fetcher = fetcher();
    let urls = ["1", "missing", "2", "3333333333"];
    let mut bodies: Vec<Vec<u8>> = vec![Vec::new(); urls.len()];
    let mut batch: Vec<Request<'_>> = urls
        .iter()
        .zip(bodies.iter_mut())
        .map(|(u, out)| Request {
            url: format!("{base}{u}"),
            max_length: 8,
            out,
        })
        .collect();
    let results = fetcher.fetch_batch(&mut batch);
    assert!(matches!(results[0], Ok(6)));
    assert!(matches!(results[1], Err(FetchError::NotFound(404))));
    assert!(matches!(results[2], Ok(6)));
    // "body 3333333333" is longer than the 8-byte limit.
    assert!(matches!(results[3], Err(FetchError::TooLarge)));
}
