//! Go build info: the blob the Go linker (1.18 and later) writes at the start of the data
//! segment, as Go's own `debug/buildinfo` reads it: a 32-byte header (`\xff Go buildinf:`,
//! pointer size, flags), then the Go version and the module info as length-prefixed
//! strings. The module info is the text `go version -m` prints.

use crate::exe::Region;
use crate::input::Fwd;
use crate::{Error, Limits};

const MAGIC: &[u8; 14] = b"\xff Go buildinf:";
const HEADER: usize = 32;
/// Bit of the header's flags byte: the strings follow the header (Go 1.18 and later)
/// rather than being pointed to.
const FLAGS_VERSION_INLINE: u8 = 0x2;

/// What `go version -m` prints about a Go executable.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GoBuildInfo {
    /// e.g. `go1.22.4`.
    pub go_version: String,
    /// The main package's import path (`path` line).
    pub path: String,
    /// The main module (`mod` line); absent in GOPATH-mode builds.
    pub main: Option<Module>,
    /// Dependency modules (`dep` lines), each with its replacement (`=>`) if any.
    pub deps: Vec<Module>,
    /// Build settings (`build` lines): `-ldflags`, `CGO_ENABLED`, `GOOS`, `vcs.revision`...
    pub settings: Vec<(String, String)>,
}

impl GoBuildInfo {
    pub fn setting(&self, key: &str) -> Option<&str> {
        self.settings
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Module {
    pub path: String,
    /// A module version (`v1.2.3`), or `(devel)` for a main module built from a checkout.
    pub version: String,
    /// The go.sum checksum (`h1:…`), when recorded.
    pub sum: Option<String>,
    pub replace: Option<Box<Module>>,
}

/// Find and read the build info in `g`: at its start when `exact`, else at the first
/// 16-byte aligned offset that holds the magic.
pub(crate) fn find(
    r: &mut Fwd,
    g: &Region,
    exact: bool,
    limits: &Limits,
) -> Result<Option<GoBuildInfo>, Error> {
    let start = g.start.max(r.position()).next_multiple_of(16);
    r.skip_to(start.min(g.end()))?;
    // Small reads first: the blob is usually at the start of its region.
    let mut chunk = vec![0u8; 4 * 1024];
    while r.position() < g.end() {
        let at = r.position();
        let want = ((g.end() - at) as usize).min(chunk.len());
        r.read_exact(&mut chunk[..want])?;
        let c = &chunk[..want];
        let hit = (0..want)
            .step_by(16)
            .find(|&i| c[i] == 0xff && c.get(i..i + MAGIC.len()) == Some(&MAGIC[..]));
        if let Some(i) = hit {
            r.unread(&c[i..]);
            return parse(r, limits).map(Some);
        }
        if exact {
            break;
        }
        if chunk.len() < 64 * 1024 {
            chunk.resize(chunk.len() * 2, 0);
        }
    }
    Ok(None)
}

fn parse(r: &mut Fwd, limits: &Limits) -> Result<GoBuildInfo, Error> {
    let offset = r.position();
    let mut h = [0u8; HEADER];
    r.read_exact(&mut h)?;
    let flags = h[15];
    if flags & FLAGS_VERSION_INLINE == 0 {
        return Err(Error::GoPointers { offset });
    }
    let go_version = string(r, 1024, offset)?;
    let modinfo = string(r, limits.max_modinfo, offset)?;
    let utf8 = |b: &[u8]| {
        String::from_utf8(b.to_vec()).map_err(|_| Error::Go {
            offset,
            reason: "a string is not UTF-8".into(),
        })
    };
    let mut info = GoBuildInfo {
        go_version: utf8(&go_version)?,
        ..GoBuildInfo::default()
    };
    // The module info is framed by two 16-byte sentinels.
    let text = if modinfo.len() >= 33 && modinfo[modinfo.len() - 17] == b'\n' {
        &modinfo[16..modinfo.len() - 16]
    } else {
        &modinfo[..]
    };
    parse_modinfo(&utf8(text)?, &mut info, limits)
        .map_err(|reason| Error::Go { offset, reason })?;
    Ok(info)
}

/// A length-prefixed (unsigned varint) string.
fn string(r: &mut Fwd, max: u64, offset: u64) -> Result<Vec<u8>, Error> {
    let mut len: u64 = 0;
    for shift in (0..64).step_by(7) {
        let mut b = [0u8];
        r.read_exact(&mut b)?;
        len |= u64::from(b[0] & 0x7f) << shift;
        if b[0] & 0x80 == 0 {
            break;
        }
        if shift >= 63 {
            return Err(Error::Go {
                offset,
                reason: "string length overflows".into(),
            });
        }
    }
    if len > max {
        return Err(Error::TooLarge {
            what: "Go module info",
            size: len,
            limit: max,
        });
    }
    if r.position().saturating_add(len) > r.size() {
        return Err(Error::OutOfBounds {
            offset: r.position(),
            len,
        });
    }
    let mut b = vec![0u8; len as usize];
    r.read_exact(&mut b)?;
    Ok(b)
}

/// The module info text, as Go's `debug.ParseBuildInfo` reads it.
pub fn parse_modinfo(text: &str, info: &mut GoBuildInfo, limits: &Limits) -> Result<(), String> {
    let module = |fields: &[&str], line: usize| -> Result<Module, String> {
        match fields {
            [path, version, rest @ ..] if rest.len() <= 1 => Ok(Module {
                path: (*path).to_owned(),
                version: (*version).to_owned(),
                sum: rest
                    .first()
                    .filter(|s| !s.is_empty())
                    .map(|s| (*s).to_owned()),
                replace: None,
            }),
            [path] => Ok(Module {
                path: (*path).to_owned(),
                ..Module::default()
            }),
            _ => Err(format!(
                "line {line}: a module line needs a path and a version"
            )),
        }
    };
    // Which module the next `=>` line replaces: the main module or the last dependency.
    let mut last_is_dep = false;
    for (n, line) in text.lines().enumerate() {
        let n = n + 1;
        if line.is_empty() {
            continue;
        }
        let (key, rest) = line.split_once('\t').unwrap_or((line, ""));
        match key {
            "go" => {}
            "path" => info.path = rest.to_owned(),
            "mod" => {
                info.main = Some(module(&rest.split('\t').collect::<Vec<_>>(), n)?);
                last_is_dep = false;
            }
            "dep" => {
                if info.deps.len() >= limits.max_packages {
                    return Err(format!(
                        "more than {} dependencies (the limit)",
                        limits.max_packages
                    ));
                }
                info.deps
                    .push(module(&rest.split('\t').collect::<Vec<_>>(), n)?);
                last_is_dep = true;
            }
            "=>" => {
                let m = module(&rest.split('\t').collect::<Vec<_>>(), n)?;
                let target = if last_is_dep {
                    info.deps.last_mut()
                } else {
                    info.main.as_mut()
                };
                match target {
                    Some(t) if t.replace.is_none() => t.replace = Some(Box::new(m)),
                    _ => return Err(format!("line {n}: a replacement of nothing")),
                }
            }
            "build" => {
                let (k, v) = setting(rest).ok_or_else(|| format!("line {n}: bad build setting"))?;
                if info.settings.len() >= limits.max_packages {
                    return Err("too many build settings".into());
                }
                info.settings.push((k, v));
            }
            _ => {} // unknown lines are skipped, as Go does for forward compatibility
        }
    }
    Ok(())
}

/// `key=value`, either of which may be a Go quoted string.
fn setting(s: &str) -> Option<(String, String)> {
    let (key, rest) = if s.starts_with('"') {
        let (k, used) = unquote(s)?;
        (k, s.get(used..)?.strip_prefix('=')?)
    } else {
        let (k, v) = s.split_once('=')?;
        (k.to_owned(), v)
    };
    let value = if rest.starts_with('"') {
        let (v, used) = unquote(rest)?;
        (used == rest.len()).then_some(v)?
    } else {
        rest.to_owned()
    };
    Some((key, value))
}

/// A Go double-quoted string at the start of `s`: its value and the bytes it used.
fn unquote(s: &str) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut chars = s.char_indices();
    chars.next().filter(|(_, c)| *c == '"')?;
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, i + 1)),
            '\\' => {
                let (_, e) = chars.next()?;
                match e {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    '\\' | '"' | '\'' => out.push(e),
                    'x' | 'u' | 'U' => {
                        let n = match e {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        };
                        let mut v = 0u32;
                        for _ in 0..n {
                            v = v * 16 + chars.next()?.1.to_digit(16)?;
                        }
                        out.push(char::from_u32(v).unwrap_or('\u{fffd}'));
                    }
                    _ => return None,
                }
            }
            c => out.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modinfo_lines_as_go_version_m_prints_them() {
        let text = "path\texample.com/app/cmd/app\nmod\texample.com/app\t(devel)\t\n\
                    dep\tgolang.org/x/text\tv0.14.0\th1:abc=\n\
                    dep\tgithub.com/a/b\tv1.0.0\th1:def=\n=>\t../b\t\t\n\
                    build\t-ldflags=\"-X main.version=1.2.3 -s\"\nbuild\tCGO_ENABLED=0\n\
                    build\tvcs.revision=0123abc\n";
        let mut info = GoBuildInfo::default();
        parse_modinfo(text, &mut info, &Limits::default()).unwrap();
        assert_eq!(info.path, "example.com/app/cmd/app");
        assert_eq!(info.main.as_ref().unwrap().version, "(devel)");
        assert_eq!(info.deps.len(), 2);
        assert_eq!(info.deps[0].sum.as_deref(), Some("h1:abc="));
        assert_eq!(info.deps[1].replace.as_ref().unwrap().path, "../b");
        assert_eq!(info.setting("-ldflags"), Some("-X main.version=1.2.3 -s"));
        assert_eq!(info.setting("CGO_ENABLED"), Some("0"));
    }

    #[test]
    fn a_replacement_of_nothing_is_an_error() {
        let mut info = GoBuildInfo::default();
        assert!(parse_modinfo("=>\tx\tv1\t\n", &mut info, &Limits::default()).is_err());
        let mut info = GoBuildInfo::default();
        let text = "dep\ta\tv1\t\n=>\tb\tv2\t\n=>\tc\tv3\t\n";
        assert!(parse_modinfo(text, &mut info, &Limits::default()).is_err());
    }

    #[test]
    fn settings_with_quoted_keys_and_values() {
        assert_eq!(
            setting("\"a=b\"=\"c\\td\""),
            Some(("a=b".into(), "c\td".into()))
        );
        assert_eq!(setting("GOOS=linux"), Some(("GOOS".into(), "linux".into())));
        assert_eq!(setting("\"unterminated=x"), None);
    }
}
