//! Limits on sources, on small archives built here.

use cairn_image::{open_with, Error, Limits, OpenOptions, SourceSpec};

/// A legacy (before Docker 1.10) docker-archive whose `repositories` names the top of a
/// parent chain of `n` layers.
fn legacy_archive(n: usize) -> tempfile::NamedTempFile {
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |name: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, name, data).unwrap();
    };
    let id = |i: usize| format!("{i:064x}");
    let layer = {
        let mut t = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(0);
        h.set_mode(0o644);
        t.append_data(&mut h, "f", std::io::empty()).unwrap();
        t.into_inner().unwrap()
    };
    let repositories = format!(r#"{{"demo":{{"old":"{}"}}}}"#, id(n - 1));
    add("repositories", repositories.as_bytes());
    for i in 0..n {
        let json = match i {
            0 => format!(r#"{{"id":"{}"}}"#, id(i)),
            _ => format!(r#"{{"id":"{}","parent":"{}"}}"#, id(i), id(i - 1)),
        };
        add(&format!("{}/json", id(i)), json.as_bytes());
        add(&format!("{}/layer.tar", id(i)), &layer);
    }
    let mut f = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(&mut f, &b.into_inner().unwrap()).unwrap();
    f
}

/// Read while writing the `docker_archive` fuzz target's check that an opened image has
/// at most `max_layers` layers: the legacy reader followed its parent chain to 1,000
/// layers whatever the limit said.
#[test]
fn a_legacy_archive_of_more_layers_than_max_layers_is_refused() {
    let limits = Limits {
        max_layers: 5,
        ..Limits::default()
    };
    let spec = |f: &tempfile::NamedTempFile| SourceSpec {
        kind: None,
        location: f.path().display().to_string(),
    };
    let opts = OpenOptions {
        limits,
        ..Default::default()
    };
    let five = legacy_archive(5);
    assert_eq!(open_with(&spec(&five), &opts).unwrap().layers.len(), 5);
    let six = legacy_archive(6);
    let err = open_with(&spec(&six), &opts).unwrap_err();
    assert!(matches!(err, Error::OverLimit { limit: 5, .. }), "{err}");
    assert!(err.to_string().contains("repositories: layers"), "{err}");
}
