//! A plain-HTTP/1.1 proxy in front of a registry that records every request and injects faults.

use std::io::{self, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::http::{respond, Head};
use crate::Registry;

/// What the proxy does wrong.
#[derive(Clone, Debug, Default)]
pub enum Fault {
    /// Nothing: a faithful proxy.
    #[default]
    None,
    /// Answer `429 Too Many Requests` (with `Retry-After: 1` and a distribution error body with
    /// code `TOOMANYREQUESTS`) to every request whose path contains `path_contains` (e.g.
    /// `"/manifests/"`), without asking the registry.
    RateLimit { path_contains: String },
    /// For the first `times` GETs of a path containing `path_contains` (e.g.
    /// `"/blobs/sha256:<hex>"`), forward the registry's response head whole (its
    /// `Content-Length` too) but close the connection after `after_bytes` bytes of the body.
    CutBody {
        path_contains: String,
        after_bytes: u64,
        times: usize,
    },
    /// Hold the first `times` requests whose path contains `path_contains` for `millis`
    /// before forwarding them (a slow registry: a test can act while a client waits).
    Delay {
        path_contains: String,
        millis: u64,
        times: usize,
    },
}

/// A running proxy; stops accepting on drop.
pub struct Proxy {
    /// `127.0.0.1:PORT`.
    pub host: String,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    upstream: String,
    host: String,
    fault: Fault,
    cuts: AtomicUsize,
    requests: Mutex<Vec<String>>,
}

const IO_TIMEOUT: Duration = Duration::from_secs(60);

impl Proxy {
    /// Starts a proxy in front of `upstream`, which must be a plain-HTTP registry. It handles
    /// one request per connection (`Connection: close` both ways), rewrites `Host`, streams
    /// bodies both ways, passes `Range` requests and 206 answers through, and rewrites
    /// `Location` headers that point at the registry to point at the proxy.
    pub fn start(upstream: &Registry, fault: Fault) -> Proxy {
        assert!(
            upstream.ca_file.is_none(),
            "the proxy speaks plain HTTP: start it in front of a registry without TLS"
        );
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let host = listener.local_addr().unwrap().to_string();
        let shared = Arc::new(Shared {
            upstream: upstream.host.clone(),
            host: host.clone(),
            fault,
            cuts: AtomicUsize::new(0),
            requests: Mutex::new(Vec::new()),
        });
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (shared, stop) = (shared.clone(), stop.clone());
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let shared = shared.clone();
                    std::thread::spawn(move || {
                        let _ = shared.handle(conn);
                    });
                }
            })
        };
        Proxy {
            host,
            shared,
            stop,
            thread: Some(thread),
        }
    }

    /// Every request seen, in the order they arrived: `"METHOD PATH"`, then
    /// `" range=<value>"` when it had a `Range` header, then `" STATUS"` once answered (e.g.
    /// `"GET /v2/demo/blobs/sha256:… range=bytes=100- 206"`).
    pub fn requests(&self) -> Vec<String> {
        self.shared.requests.lock().unwrap().clone()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees `stop`.
        let _ = TcpStream::connect(&self.host);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Shared {
    fn handle(&self, client: TcpStream) -> io::Result<()> {
        client.set_read_timeout(Some(IO_TIMEOUT))?;
        client.set_write_timeout(Some(IO_TIMEOUT))?;
        let mut out = client.try_clone()?;
        let mut reader = BufReader::new(client);
        let Some(mut head) = Head::read(&mut reader)? else {
            return Ok(());
        };
        let mut parts = head.start.split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let target = parts.next().unwrap_or("").to_string();
        let mut entry = format!("{method} {target}");
        if let Some(range) = head.get("Range") {
            entry.push_str(&format!(" range={range}"));
        }
        let index = {
            let mut requests = self.requests.lock().unwrap();
            requests.push(entry);
            requests.len() - 1
        };
        let record = |status: u16| {
            self.requests.lock().unwrap()[index].push_str(&format!(" {status}"));
        };

        let mut cut = None;
        match &self.fault {
            Fault::None => {}
            Fault::RateLimit { path_contains } if target.contains(path_contains.as_str()) => {
                record(429);
                let body = br#"{"errors":[{"code":"TOOMANYREQUESTS","message":"too many requests (test-registry proxy)","detail":null}]}"#;
                let headers = [
                    ("Content-Type", "application/json; charset=utf-8"),
                    ("Retry-After", "1"),
                    ("Docker-Distribution-Api-Version", "registry/2.0"),
                ];
                respond(&mut out, "429 Too Many Requests", &headers, body)?;
                return out.shutdown(Shutdown::Both);
            }
            Fault::RateLimit { .. } => {}
            Fault::CutBody {
                path_contains,
                after_bytes,
                times,
            } => {
                if method == "GET"
                    && target.contains(path_contains.as_str())
                    && self.cuts.fetch_add(1, Ordering::SeqCst) < *times
                {
                    cut = Some(*after_bytes);
                }
            }
            Fault::Delay {
                path_contains,
                millis,
                times,
            } => {
                if target.contains(path_contains.as_str())
                    && self.cuts.fetch_add(1, Ordering::SeqCst) < *times
                {
                    std::thread::sleep(Duration::from_millis(*millis));
                }
            }
        }

        let upstream = match TcpStream::connect(&self.upstream) {
            Ok(s) => s,
            Err(e) => {
                record(502);
                let body = format!("test-registry proxy: upstream {}: {e}", self.upstream);
                respond(&mut out, "502 Bad Gateway", &[], body.as_bytes())?;
                return Ok(());
            }
        };
        upstream.set_read_timeout(Some(IO_TIMEOUT))?;
        upstream.set_write_timeout(Some(IO_TIMEOUT))?;
        head.set("Host", &self.upstream);
        head.set("Connection", "close");
        head.remove("Proxy-Connection");
        head.remove("Keep-Alive");
        let mut up_write = upstream.try_clone()?;
        up_write.write_all(&head.to_bytes())?;
        // The request body, whatever its framing, streams on until the client closes (it does
        // once the response is through, or we close it).
        let body_thread = std::thread::spawn(move || {
            let _ = io::copy(&mut reader, &mut up_write);
        });

        let mut up_read = BufReader::new(upstream);
        let result = (|| -> io::Result<()> {
            let response = loop {
                let Some(mut response) = Head::read(&mut up_read)? else {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "upstream closed without a response",
                    ));
                };
                let status = response.status().unwrap_or(0);
                if (100..200).contains(&status) && status != 101 {
                    out.write_all(&response.to_bytes())?; // e.g. 100 Continue
                    continue;
                }
                if let Some(location) = response.get("Location") {
                    let location = location
                        .replace(&format!("//{}", self.upstream), &format!("//{}", self.host));
                    response.set("Location", &location);
                }
                response.set("Connection", "close");
                break response;
            };
            let status = response.status().unwrap_or(0);
            record(status);
            out.write_all(&response.to_bytes())?;
            let bodiless = method == "HEAD" || status == 204 || status == 304;
            if !bodiless {
                match cut {
                    Some(n) => {
                        io::copy(&mut (&mut up_read).take(n), &mut out)?;
                    }
                    None => {
                        io::copy(&mut up_read, &mut out)?;
                    }
                }
            }
            out.flush()
        })();
        let _ = out.shutdown(Shutdown::Both);
        let _ = up_read.get_ref().shutdown(Shutdown::Both);
        let _ = body_thread.join();
        result
    }
}
