//! Listings: a repository's tags (`GET /v2/<name>/tags/list`) and a registry's repositories
//! (`GET /v2/_catalog`), page by page through `Link: <…>; rel="next"` (the distribution
//! spec's pagination), bounded by a count and a size per page.

use reqwest::StatusCode;

use crate::client::{header_str, Client, Kind, Target};
use crate::{Error, Result};

/// Bytes of one page of a listing.
pub const MAX_LIST_PAGE: u64 = 4 << 20;
/// Entries asked for per page.
const PAGE: usize = 1000;

/// The path and query of a `Link` header's `rel="next"` target (same host only).
fn next_link(v: &str) -> Option<String> {
    for part in v.split(',') {
        let (target, params) = part.split_once(';')?;
        if !params.contains("rel=\"next\"") && !params.contains("rel=next") {
            continue;
        }
        let t = target.trim().trim_start_matches('<').trim_end_matches('>');
        // A relative reference (what the registry writes) or an absolute URL on the same
        // registry: keep only its path and query.
        let path = match t.find("://") {
            Some(i) => &t[t[i + 3..].find('/').map(|j| i + 3 + j)?..],
            None => t,
        };
        if path.starts_with("/v2/") {
            return Some(path.to_owned());
        }
    }
    None
}

impl Client {
    fn list(&self, first: String, key: &str, max: usize, what: &str) -> Result<Vec<String>> {
        let inner = &*self.inner;
        let mut out = Vec::new();
        let mut path = Some(first);
        let target = Target::Manifest(what);
        while let Some(p) = path.take() {
            let url = format!("{}{p}", inner.base);
            let resp = inner.execute(Kind::Manifest, target, &|http| http.get(&url))?;
            if resp.status() != StatusCode::OK {
                return Err(inner.status_error(resp, target));
            }
            path = header_str(resp.headers(), "link").and_then(next_link);
            let bytes = inner.read_limited(resp, MAX_LIST_PAGE, what)?;
            let v: serde_json::Value =
                serde_json::from_slice(&bytes).map_err(|e| Error::Protocol {
                    registry: inner.registry.clone(),
                    detail: format!("{what}: not JSON: {e}"),
                })?;
            let items = v[key].as_array().cloned().unwrap_or_default();
            let before = out.len();
            for i in items {
                if let Some(s) = i.as_str() {
                    out.push(s.to_owned());
                }
            }
            if out.len() > max {
                return Err(Error::Protocol {
                    registry: inner.registry.clone(),
                    detail: format!("{what}: more than {max} entries"),
                });
            }
            // A page that adds nothing but links on would loop forever.
            if out.len() == before {
                break;
            }
        }
        Ok(out)
    }

    /// The repository's tags, at most `max` (more is an error, not a cut list).
    pub fn tags(&self, max: usize) -> Result<Vec<String>> {
        let first = format!("/v2/{}/tags/list?n={PAGE}", self.inner.repository);
        self.list(first, "tags", max, "tags")
    }

    /// The registry's repositories (`_catalog`), at most `max`. The client's own
    /// repository is not used.
    pub fn catalog(&self, max: usize) -> Result<Vec<String>> {
        self.list(
            format!("/v2/_catalog?n={PAGE}"),
            "repositories",
            max,
            "_catalog",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::next_link;

    #[test]
    fn link_headers() {
        assert_eq!(
            next_link("</v2/_catalog?last=b&n=2>; rel=\"next\"").as_deref(),
            Some("/v2/_catalog?last=b&n=2")
        );
        assert_eq!(
            next_link("<https://r.example/v2/x/tags/list?last=1>; rel=\"next\"").as_deref(),
            Some("/v2/x/tags/list?last=1")
        );
        assert_eq!(next_link("</elsewhere>; rel=\"next\""), None);
        assert_eq!(next_link("</v2/a>; rel=\"prev\""), None);
    }
}
