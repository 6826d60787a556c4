//! Real executables (fixtures/buildinfo, built by fixtures/build-buildinfo.sh) against what
//! `go version -m` and `rust-audit-info` print for them, and the same files damaged.

use cairn_buildinfo::{probe, Error, Format, GoBuildInfo, Input, Limits};
use std::io::Read;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/buildinfo")
        .join(name)
}

fn binary(name: &str) -> Vec<u8> {
    let gz = std::fs::read(fixture(&format!("{name}.gz"))).unwrap();
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// An input that counts what is read apart from what is skipped.
struct Counting<'a> {
    data: &'a [u8],
    read: u64,
    skipped: u64,
}

impl Input for Counting<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.data.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
    fn skip(&mut self, n: u64) -> std::io::Result<()> {
        if n > self.data.len() as u64 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        self.data = &self.data[n as usize..];
        self.skipped += n;
        Ok(())
    }
}

fn run(data: &[u8]) -> (Result<cairn_buildinfo::Found, Error>, u64) {
    let mut c = Counting {
        data,
        read: 0,
        skipped: 0,
    };
    let r = probe(&mut c, data.len() as u64, &Limits::default());
    (r, c.read)
}

/// `go version -m` output as build info.
fn go_version_m(name: &str) -> GoBuildInfo {
    let text = std::fs::read_to_string(fixture(&format!("{name}.go-version-m.txt"))).unwrap();
    let mut lines = text.lines();
    let first = lines.next().unwrap();
    let mut info = GoBuildInfo {
        go_version: first.rsplit(": ").next().unwrap().to_owned(),
        ..GoBuildInfo::default()
    };
    let body: String = lines
        .map(|l| format!("{}\n", l.strip_prefix('\t').unwrap()))
        .collect();
    cairn_buildinfo::go::parse_modinfo(&body, &mut info, &Limits::default()).unwrap();
    info
}

#[test]
fn go_executables_of_every_format_match_go_version_m() {
    for (name, format) in [
        ("go-app-linux", Format::Elf),
        ("go-app-linux-external", Format::Elf),
        ("go-app-windows.exe", Format::Pe),
        ("go-app-darwin", Format::MachO),
    ] {
        let data = binary(name);
        let (found, read) = run(&data);
        let found = found.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(found.format, Some(format), "{name}");
        let go = found.go.unwrap_or_else(|| panic!("{name}: no build info"));
        assert_eq!(go, go_version_m(name), "{name}");
        assert_eq!(found.rust, None);
        assert_eq!(go.deps.len(), 2);
        // Headers and the build info only: a small fraction of the executable.
        assert!(
            read < 64 * 1024 && read * 20 < data.len() as u64,
            "{name}: read {read} of {} bytes",
            data.len()
        );
        eprintln!("{name}: {} bytes, {read} read", data.len());
    }
    let ldflags = go_version_m("go-app-linux");
    assert_eq!(
        ldflags.setting("-ldflags"),
        Some("-X main.version=1.2.3 -s -w")
    );
}

#[test]
fn a_cargo_auditable_executable_matches_rust_audit_info() {
    let data = binary("rust-app");
    let (found, read) = run(&data);
    let rust = found.unwrap().rust.expect("audit data");
    let truth: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("rust-app.rust-audit-info.json")).unwrap(),
    )
    .unwrap();
    let want = truth["packages"].as_array().unwrap();
    assert_eq!(rust.packages.len(), want.len());
    for (got, want) in rust.packages.iter().zip(want) {
        assert_eq!(got.name, want["name"].as_str().unwrap());
        assert_eq!(got.version, want["version"].as_str().unwrap());
        assert_eq!(got.source, want["source"].as_str().unwrap());
        assert_eq!(got.root, want["root"].as_bool().unwrap_or(false));
        let deps: Vec<usize> = want["dependencies"]
            .as_array()
            .map(|d| d.iter().map(|i| i.as_u64().unwrap() as usize).collect())
            .unwrap_or_default();
        assert_eq!(got.dependencies, deps);
    }
    assert!(
        read * 10 < data.len() as u64,
        "read {read} of {}",
        data.len()
    );
    eprintln!("rust-app: {} bytes, {read} read", data.len());
}

#[test]
fn files_that_are_not_executables_have_nothing() {
    for data in [
        &b""[..],
        b"#!/bin/sh\n",
        b"\x7fELF",
        b"MZ",
        b"PK\x03\x04 a zip",
    ] {
        let (found, _) = run(data);
        if let Ok(f) = found {
            assert!(f.go.is_none() && f.rust.is_none());
        }
    }
}

#[test]
fn every_truncation_of_a_real_executable_is_an_error_or_nothing_never_a_panic() {
    for name in [
        "go-app-linux",
        "go-app-windows.exe",
        "go-app-darwin",
        "rust-app",
    ] {
        let data = binary(name);
        let step = (data.len() / 97).max(1);
        for cut in (0..data.len()).step_by(step).chain([64, 65, 200, 4096]) {
            let cut = cut.min(data.len());
            // The size says the whole file; the bytes stop early, as in a truncated layer.
            let mut c = Counting {
                data: &data[..cut],
                read: 0,
                skipped: 0,
            };
            let _ = probe(&mut c, data.len() as u64, &Limits::default());
            // And a file that really is that short.
            let _ = run(&data[..cut]);
        }
    }
}

/// The offset of the Go build info header in an executable.
fn buildinfo_at(data: &[u8]) -> usize {
    (0..data.len())
        .step_by(16)
        .find(|&i| data[i..].starts_with(b"\xff Go buildinf:"))
        .unwrap()
}

#[test]
fn pre_go_1_18_pointer_build_info_is_reported_not_guessed() {
    let mut data = binary("go-app-linux");
    let at = buildinfo_at(&data);
    data[at + 15] &= !0x2; // the flags byte: strings no longer inline
    let (found, _) = run(&data);
    assert!(matches!(found, Err(Error::GoPointers { .. })), "{found:?}");
}

#[test]
fn a_lying_module_info_length_is_refused_by_the_limit() {
    let mut data = binary("go-app-linux");
    let at = buildinfo_at(&data);
    let version_len = data[at + 32] as usize; // one-byte varint for "go1.x.y"
    let mod_at = at + 33 + version_len;
    // A 10-byte varint saying 2^62 bytes.
    data.splice(
        mod_at..mod_at + 2,
        [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40],
    );
    let (found, _) = run(&data);
    let e = found.unwrap_err();
    assert!(e.over_limit(), "{e}");
}

#[test]
fn corrupt_cargo_auditable_data_is_an_error() {
    let mut data = binary("rust-app");
    // Find the zlib stream that holds the JSON and damage its middle.
    let truth = std::fs::read(fixture("rust-app.rust-audit-info.json")).unwrap();
    let at = (0..data.len() - 2)
        .find(|&i| {
            data[i] == 0x78 && {
                let mut d = flate2::read::ZlibDecoder::new(&data[i..]);
                let mut out = vec![0u8; 12];
                d.read_exact(&mut out).is_ok() && out == b"{\"packages\":"
            }
        })
        .unwrap();
    assert!(truth.starts_with(b"{\"packages\":"));
    for k in 20..40 {
        data[at + k] ^= 0x55;
    }
    let (found, _) = run(&data);
    match found {
        Err(Error::Rust { .. }) => {}
        // Damage past the recognisable prefix may also leave no valid stream at all.
        Ok(f) => assert!(f.rust.is_none()),
        Err(e) => panic!("unexpected error {e}"),
    }
}
