//! Image references as docker and skopeo users write them, checked against
//! the distribution reference grammar.

use std::fmt;
use std::net::Ipv6Addr;
use std::str::FromStr;

use crate::digest::parse_digest;
use crate::error::{Error, Result};

/// The registry Docker Hub images live on when a reference names none.
pub const DOCKER_HUB: &str = "docker.io";
/// The host Docker Hub actually serves the registry API from.
pub const DOCKER_HUB_API: &str = "registry-1.docker.io";

/// The longest `registry/repository` the distribution grammar accepts.
const NAME_MAX: usize = 255;
const TAG_MAX: usize = 128;

/// A parsed image reference: `registry/repository[:tag][@digest]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    /// `host[:port]` as written (`docker.io` when none was; `index.docker.io`
    /// is normalised to `docker.io`).
    pub registry: String,
    /// The repository path, `library/`-prefixed for single-segment Docker
    /// Hub names.
    pub repository: String,
    /// The tag; `latest` when neither tag nor digest was given.
    pub tag: Option<String>,
    /// `sha256:<64 hex>` or `sha512:<128 hex>`.
    pub digest: Option<String>,
}

impl Reference {
    /// Parse as docker/skopeo users write it: `nginx`, `library/nginx:1.25`,
    /// `ghcr.io/org/app@sha256:<64hex>`, `localhost:5000/app:tag`,
    /// `[::1]:5000/app`, `127.0.0.1:5000/a/b:t@sha256:…`, `docker.io/nginx`.
    ///
    /// Docker Hub defaults: registry `docker.io`, single-segment names get
    /// `library/`, tag `latest` when neither tag nor digest is given. The
    /// first path segment is a registry when it contains `.` or `:`, is
    /// `localhost`, or is a bracketed IPv6 address. The repository must be
    /// lowercase `[a-z0-9]` components joined by `.`, `_`, `__` or runs of
    /// `-`; a tag is `[\w][\w.-]{0,127}`; a digest is `sha256:<64 hex>` or
    /// `sha512:<128 hex>`. Anything else is refused with the reason.
    pub fn parse(s: &str) -> Result<Reference> {
        let invalid = |reason: String| Error::InvalidReference {
            input: s.chars().take(300).collect(),
            reason,
        };
        if s.is_empty() {
            return Err(invalid("empty reference".into()));
        }
        if let Some(c) = s.chars().find(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid(format!("contains {c:?}")));
        }
        let (rest, digest) = match s.split_once('@') {
            Some((rest, digest)) => {
                parse_digest(digest).map_err(|_| {
                    invalid(format!(
                        "digest {digest:?} is not sha256:<64 lowercase hex> or sha512:<128 lowercase hex>"
                    ))
                })?;
                (rest, Some(digest.to_string()))
            }
            None => (s, None),
        };
        // A tag follows the last ':' when no '/' comes after it (a ':' before
        // a '/' is a port).
        let (name, tag) = match rest.rfind(':') {
            Some(i) if !rest[i..].contains('/') => (&rest[..i], Some(&rest[i + 1..])),
            _ => (rest, None),
        };
        if let Some(tag) = tag {
            check_tag(tag).map_err(invalid)?;
        }
        if name.is_empty() {
            return Err(invalid("no repository name".into()));
        }
        let (registry, path) = match name.split_once('/') {
            Some((first, path)) if looks_like_registry(first) => {
                check_registry(first).map_err(invalid)?;
                (first, path)
            }
            _ => (DOCKER_HUB, name),
        };
        let registry = if registry == "index.docker.io" {
            DOCKER_HUB
        } else {
            registry
        };
        check_repository(path).map_err(invalid)?;
        let repository = if registry == DOCKER_HUB && !path.contains('/') {
            format!("library/{path}")
        } else {
            path.to_string()
        };
        if registry.len() + 1 + repository.len() > NAME_MAX {
            return Err(invalid(format!(
                "repository name is longer than {NAME_MAX} characters"
            )));
        }
        let tag = match (tag, &digest) {
            (Some(tag), _) => Some(tag.to_string()),
            (None, None) => Some("latest".to_string()),
            (None, Some(_)) => None,
        };
        Ok(Reference {
            registry: registry.to_string(),
            repository,
            tag,
            digest,
        })
    }

    /// The `host[:port]` the API is served from: `registry-1.docker.io` for
    /// `docker.io`, else `registry`.
    pub fn api_host(&self) -> &str {
        if self.registry == DOCKER_HUB {
            DOCKER_HUB_API
        } else {
            &self.registry
        }
    }

    /// The tag or digest to ask the manifest endpoint for (the digest wins
    /// when both are given; `latest` when neither is).
    pub fn manifest_ref(&self) -> &str {
        self.digest
            .as_deref()
            .or(self.tag.as_deref())
            .unwrap_or("latest")
    }

    /// Whether this is a Docker Hub reference.
    pub fn is_docker_hub(&self) -> bool {
        self.registry == DOCKER_HUB
    }
}

impl FromStr for Reference {
    type Err = Error;
    fn from_str(s: &str) -> Result<Reference> {
        Reference::parse(s)
    }
}

impl fmt::Display for Reference {
    /// The canonical full form: `docker.io/library/nginx:latest`,
    /// `host:5000/app@sha256:…`, `host/app:t@sha256:…`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

fn looks_like_registry(first: &str) -> bool {
    first.contains('.') || first.contains(':') || first == "localhost" || first.starts_with('[')
}

/// `host[:port]` where host is a DNS name, an IPv4 address or `[IPv6]`.
fn check_registry(registry: &str) -> std::result::Result<(), String> {
    let (host, port) = if let Some(inner) = registry.strip_prefix('[') {
        let (addr, after) = inner
            .split_once(']')
            .ok_or_else(|| format!("registry {registry:?}: unclosed '['"))?;
        addr.parse::<Ipv6Addr>()
            .map_err(|_| format!("registry {registry:?}: {addr:?} is not an IPv6 address"))?;
        let port =
            match after {
                "" => None,
                _ => Some(after.strip_prefix(':').ok_or_else(|| {
                    format!("registry {registry:?}: unexpected {after:?} after ']'")
                })?),
            };
        (None, port)
    } else {
        match registry.split_once(':') {
            Some((host, port)) => (Some(host), Some(port)),
            None => (Some(registry), None),
        }
    };
    if let Some(host) = host {
        let valid_label = |label: &str| {
            let b = label.as_bytes();
            !b.is_empty()
                && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
                && b[0] != b'-'
                && b[b.len() - 1] != b'-'
        };
        if !host.split('.').all(valid_label) {
            return Err(format!("registry host {host:?} is not a valid host name"));
        }
    }
    if let Some(port) = port {
        let ok = !port.is_empty()
            && port.len() <= 5
            && port.bytes().all(|c| c.is_ascii_digit())
            && port.parse::<u16>().is_ok_and(|p| p != 0);
        if !ok {
            return Err(format!("registry port {port:?} is not a port number"));
        }
    }
    Ok(())
}

/// Path components of lowercase alphanumerics joined by separators.
fn check_repository(path: &str) -> std::result::Result<(), String> {
    if path.is_empty() {
        return Err("no repository name".into());
    }
    if path.bytes().any(|c| c.is_ascii_uppercase()) {
        return Err(format!("repository name {path:?} must be lowercase"));
    }
    for component in path.split('/') {
        if component.is_empty() {
            return Err(format!(
                "repository name {path:?} has an empty path component"
            ));
        }
        let bytes = component.as_bytes();
        let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
        if let Some(&c) = bytes
            .iter()
            .find(|&&c| !alnum(c) && !matches!(c, b'.' | b'_' | b'-'))
        {
            return Err(format!(
                "repository name {path:?}: character {:?} is not allowed",
                char::from(c)
            ));
        }
        if !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
            return Err(format!(
                "repository path component {component:?} must start and end with a letter or digit"
            ));
        }
        // Every run of separators is ".", "_", "__" or one or more "-".
        let mut i = 0;
        while i < bytes.len() {
            if alnum(bytes[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && !alnum(bytes[i]) {
                i += 1;
            }
            let run = &component[start..i];
            let ok = matches!(run, "." | "_" | "__") || run.bytes().all(|c| c == b'-');
            if !ok {
                return Err(format!(
                    "repository path component {component:?}: separator {run:?} is not allowed"
                ));
            }
        }
    }
    Ok(())
}

fn check_tag(tag: &str) -> std::result::Result<(), String> {
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let b = tag.as_bytes();
    if b.is_empty() {
        return Err("empty tag".into());
    }
    if b.len() > TAG_MAX {
        return Err(format!("tag is longer than {TAG_MAX} characters"));
    }
    if !word(b[0]) || !b.iter().all(|&c| word(c) || c == b'.' || c == b'-') {
        return Err(format!(
            "tag {tag:?} must be letters, digits, '_', '.' and '-', not starting with '.' or '-'"
        ));
    }
    Ok(())
}

/// Whether `s` is a valid tag (used to check what is put in a URL path).
pub(crate) fn is_valid_tag(s: &str) -> bool {
    check_tag(s).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const D256: &str = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

    fn parse(s: &str) -> Reference {
        Reference::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn parts(s: &str) -> (String, String, Option<String>, Option<String>) {
        let r = parse(s);
        (r.registry, r.repository, r.tag, r.digest)
    }

    fn p(
        reg: &str,
        repo: &str,
        tag: Option<&str>,
        digest: Option<&str>,
    ) -> (String, String, Option<String>, Option<String>) {
        (
            reg.into(),
            repo.into(),
            tag.map(Into::into),
            digest.map(Into::into),
        )
    }

    #[test]
    fn docker_hub_defaults() {
        assert_eq!(
            parts("nginx"),
            p("docker.io", "library/nginx", Some("latest"), None)
        );
        assert_eq!(
            parts("library/nginx:1.25"),
            p("docker.io", "library/nginx", Some("1.25"), None)
        );
        assert_eq!(
            parts("docker.io/nginx"),
            p("docker.io", "library/nginx", Some("latest"), None)
        );
        assert_eq!(
            parts("index.docker.io/nginx"),
            p("docker.io", "library/nginx", Some("latest"), None)
        );
        assert_eq!(
            parts("bitnami/redis:7"),
            p("docker.io", "bitnami/redis", Some("7"), None)
        );
        let r = parse("nginx");
        assert_eq!(r.api_host(), "registry-1.docker.io");
        assert_eq!(r.to_string(), "docker.io/library/nginx:latest");
        assert_eq!(r.manifest_ref(), "latest");
        assert!(r.is_docker_hub());
    }

    #[test]
    fn registries_ports_and_digests() {
        let s = format!("ghcr.io/org/app@{D256}");
        assert_eq!(parts(&s), p("ghcr.io", "org/app", None, Some(D256)));
        assert_eq!(parse(&s).manifest_ref(), D256);
        assert_eq!(parse(&s).to_string(), s);
        assert_eq!(
            parts("localhost:5000/app:tag"),
            p("localhost:5000", "app", Some("tag"), None)
        );
        assert_eq!(parse("localhost:5000/app:tag").api_host(), "localhost:5000");
        assert_eq!(
            parts("localhost/app"),
            p("localhost", "app", Some("latest"), None)
        );
        assert_eq!(
            parts("[::1]:5000/app"),
            p("[::1]:5000", "app", Some("latest"), None)
        );
        assert_eq!(
            parts("[fe80::1]/app:v1"),
            p("[fe80::1]", "app", Some("v1"), None)
        );
        let s = format!("127.0.0.1:5000/a/b:t@{D256}");
        assert_eq!(parts(&s), p("127.0.0.1:5000", "a/b", Some("t"), Some(D256)));
        let r = parse(&s);
        assert_eq!(r.manifest_ref(), D256, "digest wins over tag");
        assert_eq!(r.to_string(), s);
        let d512 = format!("sha512:{}", "ab".repeat(64));
        assert_eq!(
            parts(&format!("quay.io/a/b@{d512}")),
            p("quay.io", "a/b", None, Some(&d512))
        );
        assert_eq!(
            parts("my-registry.example.com:443/a.b/c_d/e__f/g---h:V1_x.y-z"),
            p(
                "my-registry.example.com:443",
                "a.b/c_d/e__f/g---h",
                Some("V1_x.y-z"),
                None
            )
        );
        // Hosts may have uppercase letters; a bare first segment without '.'
        // or ':' is a repository path on Docker Hub.
        assert_eq!(
            parts("foo/bar/baz"),
            p("docker.io", "foo/bar/baz", Some("latest"), None)
        );
        let tag128 = "a".repeat(128);
        assert_eq!(parse(&format!("a:{tag128}")).tag.as_deref(), Some(&*tag128));
    }

    #[test]
    fn refuses_bad_references() {
        let long_repo = format!("example.com/{}", "a".repeat(250));
        let long_tag = format!("nginx:{}", "a".repeat(129));
        let bad = [
            "",
            "Nginx",
            "library/Nginx",
            "nginx:",
            "nginx:.tag",
            "nginx:-tag",
            "nginx:ta/g",
            "nginx@sha256:abc",
            "nginx@md5:2cf24dba5fb0a30e26e83b2ac5b9e29e",
            "nginx@",
            "ghcr.io/",
            "ghcr.io//app",
            "ghcr.io/app/",
            "/app",
            "-app",
            "app-",
            "a..b",
            "a___b",
            "a._b",
            "a b",
            "a\nb",
            "a/b:c:d",
            "localhost:99999/app",
            "localhost:0/app",
            "localhost:/app",
            "-bad.host/app",
            "bad_host.com/app",
            "[::1/app",
            "[zz::1]:5000/app",
            "[::1]x/app",
            "[::1]:5000",
            "héllo",
            &long_repo,
            &long_tag,
        ];
        for s in bad {
            let err = Reference::parse(s).expect_err(s);
            assert!(
                matches!(err, Error::InvalidReference { .. }),
                "{s}: {err:?}"
            );
            assert!(err.to_string().starts_with("invalid image reference"));
        }
        let err = Reference::parse("library/Nginx").unwrap_err().to_string();
        assert!(err.contains("must be lowercase"), "{err}");
    }

    #[test]
    fn from_str_and_tag_check() {
        let r: Reference = "alpine:3.20".parse().unwrap();
        assert_eq!(r.repository, "library/alpine");
        assert!(is_valid_tag("3.20"));
        assert!(!is_valid_tag("../x"));
    }
}
