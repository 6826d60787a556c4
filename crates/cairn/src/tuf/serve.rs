//! `cairn tuf serve`: a small static HTTP server for a repository directory,
//! for tests and small deployments. GET and HEAD only, files under
//! REPO/metadata and REPO/targets only
//! (no `..`, no hidden files, no directory listings), one thread per
//! connection up to [`MAX_CONNECTIONS`], `Connection: close`.

use anyhow::{Context, Result};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Connections served at once; more wait in the listen queue.
pub const MAX_CONNECTIONS: usize = 64;
/// Longest request head accepted.
const MAX_HEAD: u64 = 16 * 1024;

pub fn serve(repo: &Path, addr: &str) -> Result<()> {
    let root = repo
        .canonicalize()
        .with_context(|| format!("opening {}", repo.display()))?;
    let listener = TcpListener::bind(addr).with_context(|| format!("listening on {addr}"))?;
    let local = listener.local_addr()?;
    println!("serving {} on http://{local}/", root.display());
    println!("  metadata: http://{local}/metadata/  targets: http://{local}/targets/");
    std::io::stdout().flush()?;
    let active = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        while active.load(Ordering::Acquire) >= MAX_CONNECTIONS {
            std::thread::sleep(Duration::from_millis(5));
        }
        active.fetch_add(1, Ordering::AcqRel);
        let root = root.clone();
        let active = active.clone();
        std::thread::spawn(move || {
            let _ = handle(stream, &root);
            active.fetch_sub(1, Ordering::AcqRel);
        });
    }
    Ok(())
}

fn handle(stream: TcpStream, root: &Path) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    stream.set_write_timeout(Some(Duration::from_secs(300)))?;
    let mut reader = BufReader::new(stream.try_clone()?.take(MAX_HEAD));
    let mut request = String::new();
    reader.read_line(&mut request)?;
    // The rest of the head is read and ignored.
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
    }
    let mut out = stream;
    let mut parts = request.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if method != "GET" && method != "HEAD" {
        return respond(&mut out, 405, "method not allowed", None, method == "HEAD");
    }
    let Some(path) = resolve(root, target) else {
        return respond(&mut out, 404, "not found", None, method == "HEAD");
    };
    match std::fs::File::open(&path) {
        Ok(f) if f.metadata().is_ok_and(|m| m.is_file()) => {
            respond(&mut out, 200, "", Some(f), method == "HEAD")
        }
        _ => respond(&mut out, 404, "not found", None, method == "HEAD"),
    }
}

/// The file under `root` a request target names, or `None`.
fn resolve(root: &Path, target: &str) -> Option<PathBuf> {
    let path = target.split(['?', '#']).next()?;
    let path = path.strip_prefix('/')?;
    let decoded = percent_decode(path)?;
    // Only what clients fetch: never anything else someone left in REPO.
    if !(decoded.starts_with("metadata/") || decoded.starts_with("targets/")) {
        return None;
    }
    let mut out = root.to_path_buf();
    for part in decoded.split('/') {
        if part.is_empty() || part.starts_with('.') || part.contains('\0') {
            return None;
        }
        out.push(part);
    }
    // No symlink may lead out of the repository.
    let real = out.canonicalize().ok()?;
    real.starts_with(root).then_some(real)
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn respond(
    out: &mut TcpStream,
    status: u16,
    text: &str,
    file: Option<std::fs::File>,
    head: bool,
) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        _ => "Method Not Allowed",
    };
    let length = match &file {
        Some(f) => f.metadata()?.len(),
        None => text.len() as u64 + 1,
    };
    let content_type = "application/octet-stream";
    write!(
        out,
        "HTTP/1.1 {status} {reason}\r\nContent-Length: {length}\r\nContent-Type: {content_type}\r\nConnection: close\r\n\r\n"
    )?;
    if !head {
        match file {
            Some(mut f) => {
                std::io::copy(&mut f, out)?;
            }
            None => writeln!(out, "{text}")?,
        }
    }
    out.flush()
}
