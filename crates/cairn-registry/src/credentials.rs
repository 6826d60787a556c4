//! Registry credentials from a docker `config.json` and docker credential
//! helpers, looked up the way the docker CLI does.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::reference::DOCKER_HUB;

/// The largest `config.json` read.
const CONFIG_MAX: u64 = 4 << 20;
/// The most output read from a credential helper, per stream.
const HELPER_OUTPUT_MAX: u64 = 64 << 10;
/// How long a credential helper may run.
const HELPER_TIMEOUT: Duration = Duration::from_secs(30);
/// The key docker uses for Docker Hub in `auths` and as the helper server URL.
const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

/// A username and password, from `--username`/`--password-stdin`.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// What a lookup found.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Secret {
    /// Sent as HTTP Basic to the registry or its token server.
    Basic(Credentials),
    /// An OAuth2 refresh token (`identitytoken`), exchanged at the token
    /// server by a POST.
    IdentityToken(String),
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Secret::Basic(c) => c.fmt(f),
            Secret::IdentityToken(_) => f.write_str("IdentityToken(<redacted>)"),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct DockerConfig {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

/// The config file docker reads: `$DOCKER_CONFIG/config.json`, else
/// `~/.docker/config.json`.
pub(crate) fn default_config_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".docker").join("config.json"))
}

/// The host part of an `auths`/`credHelpers` key: scheme and path dropped.
fn key_host(key: &str) -> &str {
    let rest = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    rest.split('/').next().unwrap_or(rest)
}

fn is_docker_hub_host(host: &str) -> bool {
    ["docker.io", "index.docker.io", "registry-1.docker.io"]
        .iter()
        .any(|h| h.eq_ignore_ascii_case(host))
}

fn key_matches(key: &str, registry: &str) -> bool {
    let host = key_host(key);
    host.eq_ignore_ascii_case(registry)
        || (is_docker_hub_host(registry) && is_docker_hub_host(host))
}

/// The entry of `map` for `registry`: an exact key first (for Docker Hub,
/// docker's own `https://index.docker.io/v1/`), then any key naming the same
/// host with a scheme or path.
fn find<'m, V>(map: &'m BTreeMap<String, V>, registry: &str) -> Option<(&'m str, &'m V)> {
    let exact = if registry == DOCKER_HUB {
        DOCKER_HUB_KEY
    } else {
        registry
    };
    map.get_key_value(exact)
        .or_else(|| map.iter().find(|(k, _)| key_matches(k, registry)))
        .map(|(k, v)| (k.as_str(), v))
}

/// The server URL docker hands a credential helper for `registry`.
fn helper_server(registry: &str) -> &str {
    if registry == DOCKER_HUB {
        DOCKER_HUB_KEY
    } else {
        registry
    }
}

/// Where credentials are looked up.
#[derive(Debug, Clone, Default)]
pub(crate) struct Lookup {
    /// The config file; `None` = [`default_config_path`].
    pub config: Option<PathBuf>,
    /// A directory searched for `docker-credential-*` before `PATH`.
    pub helper_dir: Option<PathBuf>,
}

impl Lookup {
    /// Credentials for `registry` (`host[:port]`, `docker.io` for Docker Hub),
    /// or `None` for anonymous access. A missing config file is anonymous;
    /// a malformed one, or a helper that fails other than with "credentials
    /// not found", is an error.
    pub fn find(&self, registry: &str) -> Result<Option<Secret>> {
        let Some(path) = self.config.clone().or_else(default_config_path) else {
            return Ok(None);
        };
        let err = |detail: String| Error::Credentials {
            registry: registry.to_string(),
            detail,
        };
        let text = match std::fs::File::open(&path) {
            Ok(f) => {
                let mut text = String::new();
                f.take(CONFIG_MAX + 1)
                    .read_to_string(&mut text)
                    .map_err(|e| err(format!("cannot read {}: {e}", path.display())))?;
                if text.len() as u64 > CONFIG_MAX {
                    return Err(err(format!(
                        "{} is larger than {CONFIG_MAX} bytes",
                        path.display()
                    )));
                }
                text
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(err(format!("cannot read {}: {e}", path.display()))),
        };
        let config: DockerConfig = serde_json::from_str(&text)
            .map_err(|e| err(format!("{} is not a docker config: {e}", path.display())))?;

        let helper = find(&config.cred_helpers, registry)
            .map(|(_, h)| (h.as_str(), "credHelpers"))
            .or_else(|| config.creds_store.as_deref().map(|h| (h, "credsStore")))
            .filter(|(h, _)| !h.is_empty());
        if let Some((helper, from)) = helper {
            let found = run_helper(helper, helper_server(registry), self.helper_dir.as_deref())
                .map_err(|detail| {
                    err(format!(
                        "credential helper docker-credential-{helper} (from {from} in {}): {detail}",
                        path.display()
                    ))
                })?;
            if found.is_some() {
                return Ok(found);
            }
        }
        let Some((key, entry)) = find(&config.auths, registry) else {
            return Ok(None);
        };
        entry
            .secret()
            .map_err(|detail| err(format!("auths[{key:?}] in {}: {detail}", path.display())))
    }
}

impl AuthEntry {
    fn secret(&self) -> std::result::Result<Option<Secret>, String> {
        let nonempty =
            |s: &Option<String>| s.as_deref().filter(|s| !s.is_empty()).map(str::to_string);
        if let Some(token) = nonempty(&self.identitytoken) {
            return Ok(Some(Secret::IdentityToken(token)));
        }
        if let Some(auth) = nonempty(&self.auth) {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(auth.trim())
                .map_err(|e| format!("\"auth\" is not base64: {e}"))?;
            let decoded =
                String::from_utf8(decoded).map_err(|_| "\"auth\" is not UTF-8".to_string())?;
            let (username, password) = decoded
                .split_once(':')
                .ok_or_else(|| "\"auth\" is not base64 of username:password".to_string())?;
            return Ok(Some(Secret::Basic(Credentials {
                username: username.to_string(),
                password: password.to_string(),
            })));
        }
        match (nonempty(&self.username), nonempty(&self.password)) {
            (Some(username), Some(password)) => {
                Ok(Some(Secret::Basic(Credentials { username, password })))
            }
            _ => Ok(None),
        }
    }
}

#[derive(Deserialize)]
struct HelperOutput {
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: String,
}

fn read_bounded(mut r: impl Read) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let ok = (&mut r)
        .take(HELPER_OUTPUT_MAX + 1)
        .read_to_end(&mut out)
        .is_ok();
    let too_long = out.len() as u64 > HELPER_OUTPUT_MAX;
    out.truncate(HELPER_OUTPUT_MAX as usize);
    if too_long {
        // Keep draining so that the helper is not killed by SIGPIPE and its
        // exit status still tells; the timeout bounds a helper that never stops.
        let _ = std::io::copy(&mut r, &mut std::io::sink());
    }
    (out, ok && !too_long)
}

fn excerpt(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(bytes);
    let s = s.trim();
    let mut out: String = s.chars().take(300).collect();
    if s.chars().count() > 300 {
        out.push('…');
    }
    out
}

/// Runs `docker-credential-NAME get` with `server` on stdin. `Ok(None)`
/// when the helper says it has no credentials for it.
fn run_helper(
    name: &str,
    server: &str,
    helper_dir: Option<&Path>,
) -> std::result::Result<Option<Secret>, String> {
    if name.is_empty()
        || !name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
    {
        return Err(format!("invalid helper name {name:?}"));
    }
    let program = format!("docker-credential-{name}");
    let path = helper_dir
        .map(|d| d.join(&program))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from(&program));
    let spawn = || {
        Command::new(&path)
            .arg("get")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
    };
    let mut spawned = spawn();
    for _ in 0..5 {
        // A helper written a moment ago can be briefly "busy" while another
        // thread's fork still holds its write descriptor.
        match &spawned {
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy => {
                std::thread::sleep(Duration::from_millis(20));
                spawned = spawn();
            }
            _ => break,
        }
    }
    let mut child = spawned.map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            format!("{program} is not installed (not found on PATH)")
        } else {
            format!("cannot run {}: {e}", path.display())
        }
    })?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading closes the pipe: not an
        // error of ours, its exit status tells.
        let _ = stdin.write_all(server.as_bytes());
        let _ = stdin.write_all(b"\n");
    }
    let (tx, rx) = mpsc::channel();
    for (which, stream) in [
        (
            0,
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ),
        (
            1,
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ),
    ] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            let out = stream.map(read_bounded).unwrap_or_default();
            let _ = tx.send((which, out));
        });
    }
    drop(tx);
    let deadline = Instant::now() + HELPER_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("timed out after {} s", HELPER_TIMEOUT.as_secs()));
            }
            Err(e) => return Err(format!("cannot wait for it: {e}")),
        }
    };
    let mut stdout = (Vec::new(), true);
    let mut stderr = (Vec::new(), true);
    for _ in 0..2 {
        // The streams close when the helper exits (unless it left a
        // child holding them): wait a little, not forever.
        match rx.recv_timeout(Duration::from_secs(5)) {
            Ok((0, out)) => stdout = out,
            Ok((_, out)) => stderr = out,
            Err(_) => break,
        }
    }
    if !status.success() {
        let said = format!(
            "{} {}",
            String::from_utf8_lossy(&stdout.0),
            String::from_utf8_lossy(&stderr.0)
        );
        if said.to_ascii_lowercase().contains("credentials not found") {
            return Ok(None);
        }
        let message = if stderr.0.iter().any(|c| !c.is_ascii_whitespace()) {
            excerpt(&stderr.0)
        } else {
            excerpt(&stdout.0)
        };
        return Err(format!("`{program} get` failed ({status}): {message}"));
    }
    if !stdout.1 {
        return Err(format!(
            "`{program} get` printed more than {HELPER_OUTPUT_MAX} bytes or could not be read"
        ));
    }
    let out: HelperOutput = serde_json::from_slice(&stdout.0)
        .map_err(|e| format!("`{program} get` did not print credentials JSON: {e}"))?;
    if out.username == "<token>" {
        return Ok((!out.secret.is_empty()).then_some(Secret::IdentityToken(out.secret)));
    }
    if out.username.is_empty() && out.secret.is_empty() {
        return Ok(None);
    }
    Ok(Some(Secret::Basic(Credentials {
        username: out.username,
        password: out.secret,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn basic(u: &str, p: &str) -> Option<Secret> {
        Some(Secret::Basic(Credentials {
            username: u.into(),
            password: p.into(),
        }))
    }

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    struct Env {
        dir: tempfile::TempDir,
    }

    impl Env {
        fn new(config: &str) -> Env {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("config.json"), config).unwrap();
            Env { dir }
        }
        fn lookup(&self) -> Lookup {
            Lookup {
                config: Some(self.dir.path().join("config.json")),
                helper_dir: Some(self.dir.path().to_path_buf()),
            }
        }
        /// A fake `docker-credential-NAME`: records its stdin, then runs `body`.
        fn helper(&self, name: &str, body: &str) {
            let path = self.dir.path().join(format!("docker-credential-{name}"));
            let log = self.dir.path().join(format!("{name}.stdin"));
            let script = format!(
                "#!/bin/sh\n[ \"$1\" = get ] || exit 3\ncat > '{}'\n{body}\n",
                log.display()
            );
            std::fs::write(&path, script).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        fn helper_stdin(&self, name: &str) -> String {
            std::fs::read_to_string(self.dir.path().join(format!("{name}.stdin"))).unwrap()
        }
    }

    #[test]
    fn auths_by_every_key_form() {
        let config = format!(
            r#"{{"auths": {{
                "https://index.docker.io/v1/": {{"auth": "{hub}"}},
                "ghcr.io": {{"auth": "{ghcr}"}},
                "https://quay.io/v1/": {{"username": "qu", "password": "qp"}},
                "http://localhost:5000": {{"auth": "{local}"}},
                "oauth.example.com": {{"auth": "{oauth}", "identitytoken": "refresh-me"}},
                "empty.example.com": {{}}
            }}}}"#,
            hub = b64("hubuser:hub:pass"),
            ghcr = b64("gh:ghp"),
            local = b64("lu:lp"),
            oauth = b64("ou:op"),
        );
        let env = Env::new(&config);
        let l = env.lookup();
        // The password may contain ':'; only the first one splits.
        assert_eq!(l.find("docker.io").unwrap(), basic("hubuser", "hub:pass"));
        assert_eq!(
            l.find("index.docker.io").unwrap(),
            basic("hubuser", "hub:pass")
        );
        assert_eq!(l.find("ghcr.io").unwrap(), basic("gh", "ghp"));
        assert_eq!(l.find("GHCR.io").unwrap(), basic("gh", "ghp"));
        assert_eq!(l.find("quay.io").unwrap(), basic("qu", "qp"));
        assert_eq!(l.find("localhost:5000").unwrap(), basic("lu", "lp"));
        assert_eq!(
            l.find("localhost").unwrap(),
            None,
            "port is part of the key"
        );
        assert_eq!(
            l.find("oauth.example.com").unwrap(),
            Some(Secret::IdentityToken("refresh-me".into()))
        );
        assert_eq!(l.find("empty.example.com").unwrap(), None);
        assert_eq!(l.find("other.example.com").unwrap(), None);
    }

    #[test]
    fn docker_hub_aliases_match() {
        for key in [
            "docker.io",
            "index.docker.io",
            "registry-1.docker.io",
            "https://index.docker.io/v2/",
        ] {
            let env = Env::new(&format!(
                r#"{{"auths":{{"{key}":{{"auth":"{}"}}}}}}"#,
                b64("u:p")
            ));
            assert_eq!(
                env.lookup().find("docker.io").unwrap(),
                basic("u", "p"),
                "{key}"
            );
        }
    }

    #[test]
    fn missing_and_broken_configs() {
        let dir = tempfile::tempdir().unwrap();
        let l = Lookup {
            config: Some(dir.path().join("nope.json")),
            helper_dir: None,
        };
        assert_eq!(l.find("ghcr.io").unwrap(), None);
        let env = Env::new("{not json");
        let e = env.lookup().find("ghcr.io").unwrap_err().to_string();
        assert!(e.contains("is not a docker config"), "{e}");
        let env = Env::new(r#"{"auths":{"ghcr.io":{"auth":"!!!"}}}"#);
        let e = env.lookup().find("ghcr.io").unwrap_err().to_string();
        assert!(e.contains("not base64"), "{e}");
        let env = Env::new(&format!(
            r#"{{"auths":{{"ghcr.io":{{"auth":"{}"}}}}}}"#,
            b64("nocolon")
        ));
        assert!(env.lookup().find("ghcr.io").is_err());
    }

    #[test]
    fn creds_store_helper() {
        let env = Env::new(r#"{"auths":{"ghcr.io":{}},"credsStore":"test"}"#);
        env.helper(
            "test",
            r#"echo '{"ServerURL":"ghcr.io","Username":"hu","Secret":"hs"}'"#,
        );
        assert_eq!(env.lookup().find("ghcr.io").unwrap(), basic("hu", "hs"));
        assert_eq!(env.helper_stdin("test").trim(), "ghcr.io");
        // Docker Hub is asked for by docker's key.
        assert_eq!(env.lookup().find("docker.io").unwrap(), basic("hu", "hs"));
        assert_eq!(
            env.helper_stdin("test").trim(),
            "https://index.docker.io/v1/"
        );
    }

    #[test]
    fn cred_helpers_win_and_identity_tokens() {
        let env = Env::new(&format!(
            r#"{{"auths":{{"ghcr.io":{{"auth":"{}"}}}},"credsStore":"store","credHelpers":{{"ghcr.io":"test"}}}}"#,
            b64("file:pass")
        ));
        env.helper(
            "test",
            r#"echo '{"Username":"<token>","Secret":"refresh"}'"#,
        );
        env.helper("store", "exit 7");
        assert_eq!(
            env.lookup().find("ghcr.io").unwrap(),
            Some(Secret::IdentityToken("refresh".into()))
        );
    }

    #[test]
    fn helper_not_found_is_anonymous_or_falls_back_to_the_file() {
        let env = Env::new(&format!(
            r#"{{"auths":{{"ghcr.io":{{"auth":"{}"}}}},"credsStore":"test"}}"#,
            b64("file:pass")
        ));
        env.helper(
            "test",
            "echo 'credentials not found in native keychain'; exit 1",
        );
        assert_eq!(env.lookup().find("ghcr.io").unwrap(), basic("file", "pass"));
        assert_eq!(env.lookup().find("quay.io").unwrap(), None);
    }

    #[test]
    fn helper_failures_name_the_helper() {
        let env = Env::new(r#"{"credsStore":"test"}"#);
        env.helper("test", "echo 'keychain locked' >&2; exit 2");
        let e = env.lookup().find("ghcr.io").unwrap_err().to_string();
        assert!(e.contains("docker-credential-test"), "{e}");
        assert!(e.contains("keychain locked"), "{e}");

        env.helper("test", "echo 'not json'");
        let e = env.lookup().find("ghcr.io").unwrap_err().to_string();
        assert!(e.contains("did not print credentials JSON"), "{e}");

        let env = Env::new(r#"{"credsStore":"absent-helper-xyz"}"#);
        let e = env.lookup().find("ghcr.io").unwrap_err().to_string();
        assert!(
            e.contains("docker-credential-absent-helper-xyz is not installed"),
            "{e}"
        );

        let env = Env::new(r#"{"credsStore":"../evil"}"#);
        let e = env.lookup().find("ghcr.io").unwrap_err().to_string();
        assert!(e.contains("invalid helper name"), "{e}");
    }

    #[test]
    fn helper_output_is_bounded() {
        let env = Env::new(r#"{"credsStore":"test"}"#);
        env.helper("test", "head -c 200000 /dev/zero");
        let e = env.lookup().find("ghcr.io").unwrap_err().to_string();
        assert!(e.contains("more than"), "{e}");
    }

    #[test]
    fn key_hosts() {
        assert_eq!(key_host("https://index.docker.io/v1/"), "index.docker.io");
        assert_eq!(key_host("http://localhost:5000/x"), "localhost:5000");
        assert_eq!(key_host("ghcr.io"), "ghcr.io");
    }
}
