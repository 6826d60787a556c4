//! `cairn tuf init|add|remove|delegate|rotate|bump|sign|status|serve`: the
//! repository side. The editing is `cairn_tuf::repo`'s; this file turns
//! flags into edits, keeps keys in KEYDIR and copies target files.
//!
//! KEYDIR holds one PKCS#8 PEM file per key, named `ROLE.KEYID.pem`
//! (mode 0600, encrypted when a passphrase is given), and `cairn-tuf.json`
//! with the validity periods chosen at init. It is never part of REPO.

use anyhow::{anyhow, bail, Context, Result};
use cairn_tuf::keyfile::{self, KeyFileError, KeyType, PrivateKey};
use cairn_tuf::keys::Key;
use cairn_tuf::repo::{
    self, BinLayout, Delegation, DirStore, Expiry, InitSpec, Keyring, NewTarget, Repository, Store,
    TargetBatch,
};
use cairn_tuf::sign::{SignError, Signer};
use clap::{Args, Subcommand};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Longest line accepted in a `--from-list` file.
const MAX_LIST_LINE: usize = 16 * 1024;
/// Most keys generated for one role.
const MAX_KEYS_PER_ROLE: u64 = 64;

#[derive(Subcommand)]
pub enum RepoCommand {
    /// Create a repository: keys in KEYDIR, signed root, targets, snapshot and
    /// timestamp in REPO/metadata (and hash bins delegated from targets).
    Init(InitArgs),
    /// Add targets: files and directories (copied to REPO/targets under their
    /// hashed names), or a list of PATH<TAB>LENGTH<TAB>SHA256 lines.
    Add(AddArgs),
    /// Remove targets from the metadata (their files stay until cleaned up).
    Remove(RemoveArgs),
    /// Delegate path patterns from a role to a new role with its own keys.
    Delegate(DelegateArgs),
    /// Replace the keys of a role (a new root signed by the old and new root keys
    /// for a top-level role; the delegator for a delegated one).
    Rotate(RotateArgs),
    /// Re-sign snapshot and timestamp (and --role roles) with new expiry dates.
    Bump(BumpArgs),
    /// Add one signature, with one key file, to one role's current metadata.
    Sign(SignArgs),
    /// What expires when, which roles lack signatures, how large snapshot.json is.
    Status(StatusArgs),
    /// Serve REPO over HTTP (for tests and small deployments; in production any
    /// static web server or object store serves the directory).
    Serve(ServeArgs),
}

#[derive(Args, Clone)]
pub struct KeyArgs {
    /// Directory of private keys (never inside REPO).
    #[arg(long = "keys", value_name = "KEYDIR", env = "CAIRN_TUF_KEYS")]
    pub dir: PathBuf,
    /// Name of an environment variable holding the passphrase of encrypted keys
    /// (without it, encrypted keys are asked for on the terminal).
    #[arg(long, value_name = "VAR")]
    pub passphrase_env: Option<String>,
}

#[derive(Args)]
pub struct InitArgs {
    /// The repository directory (created; must hold no metadata).
    repo: PathBuf,
    #[command(flatten)]
    keys: KeyArgs,
    /// Type of the keys generated.
    #[arg(long, default_value = "ed25519")]
    key_type: KeyType,
    /// Signature threshold of a role (ROLE=N; as many keys are made). Roles:
    /// root, targets, snapshot, timestamp, bins.
    #[arg(long, value_name = "ROLE=N")]
    threshold: Vec<String>,
    /// Validity of a role's metadata (ROLE=DURATION, e.g. timestamp=1d,
    /// root=1y; kinds: root, targets, delegated, snapshot, timestamp).
    #[arg(long, value_name = "ROLE=DURATION")]
    expires: Vec<String>,
    /// Delegate from targets to N classic hashed bins (PEP 458; a power of two).
    #[arg(long, value_name = "N", conflicts_with = "succinct_bins")]
    hash_bins: Option<u32>,
    /// Delegate from targets to 2^BITS succinct hash bins (TAP 15).
    #[arg(long, value_name = "BITS")]
    succinct_bins: Option<u32>,
    /// List lengths and hashes of targets metadata in snapshot, not only versions.
    #[arg(long)]
    snapshot_hashes: bool,
    /// Encrypt the online keys (snapshot, timestamp, bins) too; by default only
    /// root and targets keys are encrypted when a passphrase is given.
    #[arg(long)]
    encrypt_online: bool,
    /// Targets to list in the new repository right away (a repository built
    /// from a list in one step signs each bin once).
    #[command(flatten)]
    targets: TargetArgs,
}

#[derive(Args)]
pub struct AddArgs {
    repo: PathBuf,
    #[command(flatten)]
    keys: KeyArgs,
    #[command(flatten)]
    targets: TargetArgs,
    /// Add to this role instead of the one the delegations choose.
    #[arg(long)]
    role: Option<String>,
    #[command(flatten)]
    commit: CommitArgs,
}

/// Targets to add, in `add` and in `init`.
#[derive(Args)]
pub struct TargetArgs {
    /// Files or directories to add (a directory adds every file under it,
    /// named by its path inside the directory).
    paths: Vec<PathBuf>,
    /// A list of PATH<TAB>LENGTH<TAB>SHA256 lines ("-" for standard input):
    /// only metadata is written, the files are placed by whoever serves them.
    #[arg(long, value_name = "LIST")]
    from_list: Option<PathBuf>,
    /// Prefix of the target paths (e.g. "sboms/").
    #[arg(long, default_value = "")]
    prefix: String,
    /// JSON given as every added target's "custom" field.
    #[arg(long, value_name = "JSON")]
    custom: Option<String>,
}

impl TargetArgs {
    fn is_empty(&self) -> bool {
        self.paths.is_empty() && self.from_list.is_none()
    }
}

#[derive(Args)]
pub struct CommitArgs {
    /// Write roles whose threshold cannot be met with the keys at hand, with the
    /// signatures that can be made; others add theirs with `sign`.
    #[arg(long)]
    pub(crate) partial: bool,
    /// Override a validity period for this commit (ROLE=DURATION).
    #[arg(long, value_name = "ROLE=DURATION")]
    pub(crate) expires: Vec<String>,
}

#[derive(Args)]
pub struct RemoveArgs {
    repo: PathBuf,
    #[command(flatten)]
    keys: KeyArgs,
    /// Target paths to remove.
    #[arg(required = true)]
    targets: Vec<String>,
    #[command(flatten)]
    commit: CommitArgs,
}

#[derive(Args)]
pub struct DelegateArgs {
    repo: PathBuf,
    #[command(flatten)]
    keys: KeyArgs,
    /// Name of the new role.
    name: String,
    /// The delegating role.
    #[arg(long, default_value = "targets")]
    from: String,
    /// Path patterns the new role is trusted for (`*` does not match `/`).
    #[arg(long = "paths", required = true, num_args = 1..)]
    paths: Vec<String>,
    /// Stop the search at this role for the paths it matches.
    #[arg(long)]
    terminating: bool,
    /// Signatures needed (as many keys are generated).
    #[arg(long, default_value_t = 1)]
    threshold: u64,
    #[arg(long, default_value = "ed25519")]
    key_type: KeyType,
    #[command(flatten)]
    commit: CommitArgs,
}

#[derive(Args)]
pub struct RotateArgs {
    repo: PathBuf,
    #[command(flatten)]
    keys: KeyArgs,
    /// The role whose keys change (hash bins sharing keys rotate together).
    role: String,
    /// Remove only these key ids (default: all the role's keys).
    #[arg(long = "remove", value_name = "KEYID")]
    remove: Vec<String>,
    /// Number of new keys to generate (default: as many as the threshold).
    #[arg(long = "add", value_name = "N")]
    add: Option<u64>,
    /// New threshold.
    #[arg(long)]
    threshold: Option<u64>,
    #[arg(long, default_value = "ed25519")]
    key_type: KeyType,
    #[command(flatten)]
    commit: CommitArgs,
}

#[derive(Args)]
pub struct BumpArgs {
    repo: PathBuf,
    #[command(flatten)]
    keys: KeyArgs,
    /// Also re-sign these roles (root, targets or delegated roles).
    #[arg(long = "role")]
    roles: Vec<String>,
    #[command(flatten)]
    commit: CommitArgs,
}

#[derive(Args)]
pub struct SignArgs {
    repo: PathBuf,
    /// The role whose current metadata gets the signature.
    role: String,
    /// The private key file (PKCS#8 PEM).
    #[arg(long)]
    key: PathBuf,
    /// Environment variable holding the key's passphrase.
    #[arg(long, value_name = "VAR")]
    passphrase_env: Option<String>,
}

#[derive(Args)]
pub struct StatusArgs {
    repo: PathBuf,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// Treat this Unix time as now (for tests).
    #[arg(long, hide = true)]
    now: Option<i64>,
}

#[derive(Args)]
pub struct ServeArgs {
    repo: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: String,
}

pub fn run(cmd: RepoCommand) -> Result<()> {
    match cmd {
        RepoCommand::Init(a) => init(a),
        RepoCommand::Add(a) => add(a),
        RepoCommand::Remove(a) => remove(a),
        RepoCommand::Delegate(a) => delegate(a),
        RepoCommand::Rotate(a) => rotate(a),
        RepoCommand::Bump(a) => bump(a),
        RepoCommand::Sign(a) => sign(a),
        RepoCommand::Status(a) => status(a),
        RepoCommand::Serve(a) => super::serve::serve(&a.repo, &a.addr),
    }
}

fn now() -> i64 {
    cairn_tuf::time::now_unix()
}

// ---- keys ----

/// The passphrase for encrypted keys: from the named variable, else asked on
/// the terminal once.
pub(crate) struct Passphrase {
    env: Option<String>,
    cached: Mutex<Option<zeroize::Zeroizing<String>>>,
}

impl Passphrase {
    pub(crate) fn new(env: Option<String>) -> Self {
        Passphrase {
            env,
            cached: Mutex::new(None),
        }
    }

    fn get(&self, why: &str) -> Result<zeroize::Zeroizing<String>> {
        let mut cached = self.cached.lock().expect("not poisoned");
        if let Some(p) = cached.as_ref() {
            return Ok(p.clone());
        }
        let p = match &self.env {
            Some(var) => zeroize::Zeroizing::new(
                std::env::var(var)
                    .map_err(|_| anyhow!("{why}: the passphrase variable {var} is not set"))?,
            ),
            None => {
                if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
                    bail!("{why}: give the passphrase with --passphrase-env VAR (no terminal to ask on)");
                }
                zeroize::Zeroizing::new(
                    rpassword::prompt_password(format!("Passphrase ({why}): "))
                        .context("reading the passphrase")?,
                )
            }
        };
        *cached = Some(p.clone());
        Ok(p)
    }

    /// Reads a key file, asking for the passphrase only when the key is
    /// encrypted. The outer error is the passphrase's, the inner the file's.
    pub(crate) fn read_key(
        &self,
        path: &Path,
    ) -> Result<std::result::Result<PrivateKey, KeyFileError>> {
        Ok(match keyfile::read_key_file(path, None) {
            Err(KeyFileError::NeedsPassphrase) => {
                let pass = self.get(&path.display().to_string())?;
                keyfile::read_key_file(path, Some(pass.as_bytes()))
            }
            other => other,
        })
    }

    /// The passphrase if one was asked for by flag (for encrypting new keys).
    fn given(&self) -> Result<Option<zeroize::Zeroizing<String>>> {
        match &self.env {
            Some(_) => self.get("new keys").map(Some),
            None => Ok(None),
        }
    }
}

/// Private keys in KEYDIR, loaded (and decrypted) the first time a commit
/// asks for them.
pub(crate) struct DirKeyring {
    dir: PathBuf,
    passphrase: Passphrase,
    files: HashMap<String, PathBuf>,
    loaded: Mutex<HashMap<String, Arc<dyn Signer>>>,
}

impl DirKeyring {
    pub(crate) fn open(args: &KeyArgs) -> Result<Self> {
        let mut files = HashMap::new();
        if let Some(repo) = REPO_DIR.get() {
            check_keys_outside(repo, &args.dir)?;
        }
        let entries = std::fs::read_dir(&args.dir)
            .with_context(|| format!("reading the key directory {}", args.dir.display()))?;
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(stem) = name.strip_suffix(".pem") {
                let keyid = stem.rsplit('.').next().unwrap_or(stem);
                if keyid.len() == 64 && keyid.bytes().all(|b| b.is_ascii_hexdigit()) {
                    files.insert(keyid.to_string(), entry.path());
                }
            }
        }
        Ok(DirKeyring {
            dir: args.dir.clone(),
            passphrase: Passphrase::new(args.passphrase_env.clone()),
            files,
            loaded: Mutex::new(HashMap::new()),
        })
    }

    /// Makes a key for `role`, saves it (encrypted when `encrypt` and a
    /// passphrase is given) and returns its public key.
    fn generate(&mut self, role: &str, key_type: KeyType, encrypt: bool) -> Result<Key> {
        let key = PrivateKey::generate(key_type).context("generating a key")?;
        let pass = if encrypt {
            self.passphrase.given()?
        } else {
            None
        };
        let pem = key
            .to_pem(pass.as_ref().map(|p| p.as_bytes()))
            .context("encoding a key")?;
        let path = self.dir.join(format!("{role}.{}.pem", key.keyid()));
        keyfile::write_key_file(&path, &pem)?;
        let public = key.public_key().clone();
        let id = key.keyid().to_string();
        self.files.insert(id.clone(), path);
        self.loaded
            .lock()
            .expect("not poisoned")
            .insert(id, Arc::new(key));
        Ok(public)
    }

    fn generate_n(&mut self, role: &str, n: u64, kt: KeyType, encrypt: bool) -> Result<Vec<Key>> {
        if n == 0 || n > MAX_KEYS_PER_ROLE {
            bail!("{role}: from 1 to {MAX_KEYS_PER_ROLE} keys");
        }
        (0..n).map(|_| self.generate(role, kt, encrypt)).collect()
    }
}

impl Keyring for DirKeyring {
    fn signer(&self, keyid: &str) -> std::result::Result<Option<Arc<dyn Signer>>, SignError> {
        if let Some(s) = self.loaded.lock().expect("not poisoned").get(keyid) {
            return Ok(Some(s.clone()));
        }
        let Some(path) = self.files.get(keyid) else {
            return Ok(None);
        };
        let err = |reason: String| SignError {
            keyid: keyid.to_string(),
            reason,
        };
        let key = self
            .passphrase
            .read_key(path)
            .map_err(|e| err(format!("{e:#}")))?
            .map_err(|e| err(format!("{}: {e}", path.display())))?;
        if key.keyid() != keyid {
            return Err(err(format!(
                "{} holds key {}, not the one its name says",
                path.display(),
                key.keyid()
            )));
        }
        let key: Arc<dyn Signer> = Arc::new(key);
        self.loaded
            .lock()
            .expect("not poisoned")
            .insert(keyid.to_string(), key.clone());
        Ok(Some(key))
    }
}

// ---- settings ----

fn settings_path(keys: &Path) -> PathBuf {
    keys.join("cairn-tuf.json")
}

pub(crate) fn load_expiry(keys: &Path, overrides: &[String]) -> Result<Expiry> {
    let mut e = Expiry::default();
    let path = settings_path(keys);
    if let Ok(bytes) = std::fs::read(&path) {
        let v: serde_json::Value = serde_json::from_slice(&bytes)
            .with_context(|| format!("reading {}", path.display()))?;
        if let Some(map) = v.get("expires").and_then(|m| m.as_object()) {
            for (k, secs) in map {
                let secs = secs
                    .as_i64()
                    .with_context(|| format!("{}: expires.{k} is not a number", path.display()))?;
                e.set(k, secs)?;
            }
        }
    }
    apply_expires(&mut e, overrides)?;
    Ok(e)
}

fn apply_expires(e: &mut Expiry, specs: &[String]) -> Result<()> {
    for s in specs {
        let (role, dur) = s
            .split_once('=')
            .with_context(|| format!("--expires {s:?}: expected ROLE=DURATION"))?;
        let secs = repo::parse_duration(dur)
            .with_context(|| format!("--expires {s:?}: durations look like 30d, 12h, 1y"))?;
        e.set(role, secs)?;
    }
    Ok(())
}

/// Takes the repository's lock for the rest of the process: one editor at a
/// time (an advisory lock on the directory itself, so no file is added to
/// what is served).
fn lock_repo(path: &Path) -> Result<()> {
    static LOCK: std::sync::OnceLock<std::fs::File> = std::sync::OnceLock::new();
    let dir = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a file descriptor this function owns; no memory is shared.
    let r = unsafe { libc::flock(dir.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if r == 0 {
        let _ = LOCK.set(dir);
        return Ok(());
    }
    let e = std::io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
        bail!(
            "another cairn is editing {}: try again when it is done",
            path.display()
        );
    }
    Err(e).with_context(|| format!("locking {}", path.display()))
}

/// The repository this process edits, for the key directory check.
static REPO_DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// The key directory must not be inside the repository, which is served.
fn check_keys_outside(repo: &Path, keys: &Path) -> Result<()> {
    let (r, k) = (repo.canonicalize()?, keys.canonicalize()?);
    if k.starts_with(&r) {
        bail!(
            "the key directory {} is inside the repository {}, which is served: keep keys elsewhere",
            keys.display(),
            repo.display()
        );
    }
    Ok(())
}

pub(crate) fn open_repo(path: &Path) -> Result<Repository<DirStore>> {
    lock_repo(path)?;
    let _ = REPO_DIR.set(path.to_path_buf());
    Repository::open(DirStore::new(path))
        .with_context(|| format!("opening the repository {}", path.display()))
}

pub(crate) fn commit(
    repo: &mut Repository<DirStore>,
    keys: &DirKeyring,
    args: &CommitArgs,
) -> Result<repo::Committed> {
    let expiry = load_expiry(&keys.dir, &args.expires)?;
    let done = repo
        .commit(keys, now(), &expiry, args.partial)
        .context("signing the new metadata")?;
    for role in &done.below_threshold {
        eprintln!(
            "cairn: warning: {role} was written below its signature threshold: clients refuse it until `cairn tuf sign` adds the missing signatures"
        );
    }
    Ok(done)
}

pub(crate) fn report(done: &repo::Committed) {
    let roles = match done.roles.len() {
        0 => String::new(),
        1..=4 => done
            .roles
            .iter()
            .map(|(r, v)| format!("{r} v{v}, "))
            .collect(),
        n => format!("{n} targets roles, "),
    };
    let root = done
        .root
        .map(|v| format!("root v{v}, "))
        .unwrap_or_default();
    println!(
        "signed {root}{roles}snapshot v{}, timestamp v{}",
        done.snapshot, done.timestamp
    );
}

// ---- commands ----

fn parse_role_numbers(specs: &[String]) -> Result<BTreeMap<String, u64>> {
    let mut out = BTreeMap::new();
    for s in specs {
        let (role, n) = s
            .split_once('=')
            .with_context(|| format!("--threshold {s:?}: expected ROLE=N"))?;
        if !["root", "targets", "snapshot", "timestamp", "bins"].contains(&role) {
            bail!("--threshold {s:?}: roles are root, targets, snapshot, timestamp, bins");
        }
        let n: u64 = n
            .parse()
            .ok()
            .filter(|n| (1..=MAX_KEYS_PER_ROLE).contains(n))
            .with_context(|| format!("--threshold {s:?}: N must be 1 to {MAX_KEYS_PER_ROLE}"))?;
        out.insert(role.to_string(), n);
    }
    Ok(out)
}

fn init(a: InitArgs) -> Result<()> {
    let keys_dir = a.keys.dir.clone();
    let existed = keys_dir.exists();
    // Only a key directory that was empty (or absent) is cleaned up.
    let was_empty = !existed || std::fs::read_dir(&keys_dir).is_ok_and(|mut d| d.next().is_none());
    let result = init_inner(a);
    // A failed init leaves no keys behind, so it can simply be run again.
    if result.is_err() && was_empty {
        if let Ok(entries) = std::fs::read_dir(&keys_dir) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.ends_with(".pem") || name == "cairn-tuf.json" {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
        if !existed {
            let _ = std::fs::remove_dir(&keys_dir);
        }
    }
    result
}

fn init_inner(a: InitArgs) -> Result<()> {
    let store = DirStore::new(&a.repo);
    let existing = store.list("metadata").unwrap_or_default();
    if !existing.is_empty() {
        bail!(
            "{} already holds metadata: init creates new repositories only",
            a.repo.display()
        );
    }
    std::fs::create_dir_all(&a.repo).with_context(|| format!("creating {}", a.repo.display()))?;
    lock_repo(&a.repo)?;
    let thresholds = parse_role_numbers(&a.threshold)?;
    let mut expiry = Expiry::default();
    apply_expires(&mut expiry, &a.expires)?;
    let bins = match (a.hash_bins, a.succinct_bins) {
        (Some(n), _) => Some(BinLayout::Hashed(n)),
        (_, Some(b)) => Some(BinLayout::Succinct(b)),
        _ => None,
    }
    .map(|b| b.check().map_err(|e| anyhow!(e)))
    .transpose()?;
    std::fs::create_dir_all(&a.keys.dir)
        .with_context(|| format!("creating {}", a.keys.dir.display()))?;
    check_keys_outside(&a.repo, &a.keys.dir)?;
    if std::fs::read_dir(&a.keys.dir)?.next().is_some() {
        bail!(
            "{} is not empty: init makes new keys in an empty key directory",
            a.keys.dir.display()
        );
    }
    let mut ring = DirKeyring::open(&a.keys)?;
    let mut keys = BTreeMap::new();
    let mut th = BTreeMap::new();
    for role in ["root", "targets", "snapshot", "timestamp"] {
        let n = thresholds.get(role).copied().unwrap_or(1);
        let offline = matches!(role, "root" | "targets");
        let generated = ring.generate_n(role, n, a.key_type, offline || a.encrypt_online)?;
        keys.insert(role.to_string(), generated);
        th.insert(role.to_string(), n);
    }
    let bins = match bins {
        Some(layout) => {
            let n = thresholds.get("bins").copied().unwrap_or(1);
            Some((
                layout,
                ring.generate_n("bins", n, a.key_type, a.encrypt_online)?,
                n,
            ))
        }
        None => None,
    };
    let settings = serde_json::json!({"expires": {
        "root": expiry.root, "targets": expiry.targets, "delegated": expiry.delegated,
        "snapshot": expiry.snapshot, "timestamp": expiry.timestamp,
    }});
    std::fs::write(
        settings_path(&a.keys.dir),
        serde_json::to_vec_pretty(&settings)?,
    )?;
    let spec = InitSpec {
        keys,
        thresholds: th,
        bins,
        snapshot_hashes: a.snapshot_hashes,
    };
    let mut repo = Repository::init(store, spec, now())?;
    let added = if a.targets.is_empty() {
        None
    } else {
        Some(add_to(&mut repo, &a.repo, &a.targets, None, &ring, false)?)
    };
    let done = repo
        .commit(&ring, now(), &expiry, false)
        .context("signing the new repository")?;
    std::fs::create_dir_all(a.repo.join("targets"))?;
    if let Some(n) = added {
        println!("added {n} targets");
    }
    report(&done);
    exit_without_freeing(repo);
    println!(
        "repository in {}; give clients {} as their trusted root; keys in {}",
        a.repo.display(),
        a.repo.join("metadata/1.root.json").display(),
        a.keys.dir.display()
    );
    Ok(())
}

/// Files to add: (target path, file) for each file, each directory walked.
fn collect_files(paths: &[PathBuf], prefix: &str) -> Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    for p in paths {
        let meta =
            std::fs::symlink_metadata(p).with_context(|| format!("reading {}", p.display()))?;
        if meta.is_file() {
            let name = p
                .file_name()
                .and_then(|n| n.to_str())
                .with_context(|| format!("{}: the file name is not UTF-8", p.display()))?;
            out.push((format!("{prefix}{name}"), p.clone()));
        } else if meta.is_dir() {
            walk(p, p, prefix, &mut out)?;
        } else {
            bail!("{}: not a regular file or directory", p.display());
        }
    }
    Ok(out)
}

fn walk(top: &Path, dir: &Path, prefix: &str, out: &mut Vec<(String, PathBuf)>) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .collect::<std::io::Result<_>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let ft = e.file_type()?;
        if ft.is_dir() {
            walk(top, &path, prefix, out)?;
        } else if ft.is_file() {
            let rel = path.strip_prefix(top).expect("under top");
            let rel = rel
                .to_str()
                .with_context(|| format!("{}: the path is not UTF-8", path.display()))?;
            out.push((format!("{prefix}{rel}"), path));
        } else {
            eprintln!(
                "cairn: warning: {} is not a regular file: not added",
                path.display()
            );
        }
    }
    Ok(())
}

/// Adds documents held in memory as targets (`role`, or the one the delegations choose;
/// `what` names them in errors), copying them into the repository only once every key
/// the commit needs is at hand, so a missing key leaves the repository unchanged.
pub(crate) fn add_documents(
    repo: &mut Repository<DirStore>,
    repo_dir: &Path,
    keys: &DirKeyring,
    role: Option<&str>,
    partial: bool,
    what: &str,
    docs: Vec<(String, NewTarget, Vec<u8>)>,
) -> Result<()> {
    let staging = tempfile::tempdir().context("creating a temporary directory")?;
    let mut copies = Vec::with_capacity(docs.len());
    let mut targets = Vec::with_capacity(docs.len());
    for (i, (path, t, bytes)) in docs.into_iter().enumerate() {
        let file = staging.path().join(i.to_string());
        std::fs::write(&file, &bytes)
            .with_context(|| format!("staging {path} in {}", staging.path().display()))?;
        copies.push((path.clone(), t.clone(), file));
        targets.push((path, t));
    }
    repo.add_targets(targets, role)?;
    repo.check_keys(keys, partial)
        .with_context(|| format!("checking the keys before copying {what}"))?;
    for (path, t, file) in &copies {
        place_target(repo_dir, path, t, file)
            .with_context(|| format!("copying {path} into the repository"))?;
    }
    Ok(())
}

/// Copies `src` into the repository under each consistent-snapshot name,
/// through a temporary file and a rename (a second name is a hard link).
pub(crate) fn place_target(repo_dir: &Path, target: &str, t: &NewTarget, src: &Path) -> Result<()> {
    let names = repo::consistent_target_paths(target, t);
    let first = repo_dir.join(&names[0]);
    let dir = first.parent().expect("under targets/");
    std::fs::create_dir_all(dir)?;
    if !first.exists() {
        let mut tmp = tempfile::Builder::new().prefix(".tmp-").tempfile_in(dir)?;
        let mut f = std::fs::File::open(src)?;
        std::io::copy(&mut f, &mut tmp)?;
        tmp.persist(&first).map_err(|e| e.error)?;
    }
    for other in &names[1..] {
        let p = repo_dir.join(other);
        if !p.exists() {
            std::fs::hard_link(&first, &p).or_else(|_| std::fs::copy(&first, &p).map(|_| ()))?;
        }
    }
    Ok(())
}

/// Reads a target list in blocks of lines, each parsed on every core into
/// one batch handed to `sink`. Returns how many targets were read.
fn read_list(
    list: &Path,
    prefix: &str,
    custom: Option<&serde_json::Value>,
    mut sink: impl FnMut(TargetBatch) -> Result<()>,
) -> Result<usize> {
    use std::io::Read;
    let mut reader: Box<dyn Read> = if list == Path::new("-") {
        Box::new(std::io::stdin())
    } else {
        Box::new(std::fs::File::open(list).with_context(|| format!("opening {}", list.display()))?)
    };
    const BLOCK: usize = 4 << 20;
    let mut total = 0;
    let mut first_line = 1usize;
    let mut block: Vec<u8> = Vec::with_capacity(BLOCK + MAX_LIST_LINE);
    let mut eof = false;
    while !eof || !block.is_empty() {
        // Fill the block; keep what follows its last newline for the next one.
        while !eof && block.len() < BLOCK {
            let start = block.len();
            block.resize(BLOCK, 0);
            let n = reader
                .read(&mut block[start..])
                .context("reading the list")?;
            block.truncate(start + n);
            eof = n == 0;
        }
        let end = match memchr_last(&block) {
            Some(i) => i + 1,
            None if eof => block.len(),
            None => bail!(
                "{}:{first_line}: line longer than {MAX_LIST_LINE} bytes",
                list.display()
            ),
        };
        let rest = block.split_off(end);
        let batch = TargetBatch::parse_list(&block, prefix, custom).map_err(|e| {
            anyhow!(
                "{}:{}: {}",
                list.display(),
                first_line + e.line - 1,
                e.message
            )
        })?;
        first_line += block.iter().filter(|&&b| b == b'\n').count();
        block = rest;
        if rest_too_long(&block) && !eof {
            bail!(
                "{}:{first_line}: line longer than {MAX_LIST_LINE} bytes",
                list.display()
            );
        }
        total += batch.len();
        if !batch.is_empty() {
            sink(batch)?;
        }
    }
    Ok(total)
}

fn memchr_last(b: &[u8]) -> Option<usize> {
    b.iter().rposition(|&c| c == b'\n')
}

fn rest_too_long(rest: &[u8]) -> bool {
    rest.len() > MAX_LIST_LINE
}

/// Adds `args`' targets to `repo` (copying files into `repo_dir/targets`);
/// returns how many, and the roles they went to.
fn add_to(
    repo: &mut Repository<DirStore>,
    repo_dir: &Path,
    args: &TargetArgs,
    role: Option<&str>,
    keys: &DirKeyring,
    partial: bool,
) -> Result<usize> {
    let custom = args
        .custom
        .as_deref()
        .map(|c| cairn_tuf::canonical::parse_strict(c.as_bytes()))
        .transpose()
        .context("--custom is not JSON")?;
    if let Some(c) = &custom {
        cairn_tuf::canonical::value_to_canonical(c)
            .context("--custom must not hold floating point numbers (no canonical form)")?;
    }
    let mut targets = Vec::new();
    let mut copies = Vec::new();
    let files = collect_files(&args.paths, &args.prefix)?;
    for (path, file) in &files {
        repo::check_target_path(path).map_err(|e| anyhow!("{}: {e}", file.display()))?;
        let f = std::fs::File::open(file).with_context(|| format!("reading {}", file.display()))?;
        let mut t =
            NewTarget::from_reader(f).with_context(|| format!("reading {}", file.display()))?;
        t.custom = custom.clone().map(Box::new);
        copies.push((path.clone(), t.clone(), file.clone()));
        targets.push((path.clone(), t));
    }
    let mut n = targets.len();
    repo.add_targets(targets, role)?;
    if let Some(list) = &args.from_list {
        n += read_list(list, &args.prefix, custom.as_ref(), |batch| {
            repo.add_batch(batch, role)?;
            Ok(())
        })?;
    }
    // Files are copied only once every key is at hand.
    if !copies.is_empty() {
        repo.check_keys(keys, partial)
            .context("checking the keys before copying targets")?;
    }
    for (path, t, file) in &copies {
        place_target(repo_dir, path, t, file)
            .with_context(|| format!("copying {} into the repository", file.display()))?;
    }
    Ok(n)
}

fn add(a: AddArgs) -> Result<()> {
    if a.targets.is_empty() {
        bail!("nothing to add: give files, directories or --from-list");
    }
    let mut repo = open_repo(&a.repo)?;
    let keys = DirKeyring::open(&a.keys)?;
    load_expiry(&keys.dir, &a.commit.expires)?;
    let n = add_to(
        &mut repo,
        &a.repo,
        &a.targets,
        a.role.as_deref(),
        &keys,
        a.commit.partial,
    )?;
    let done = commit(&mut repo, &keys, &a.commit)?;
    println!("added {n} targets");
    report(&done);
    exit_without_freeing(repo);
    Ok(())
}

/// The editor is dropped right before the process ends: its memory
/// (thousands of parsed roles, their index) is left to the operating system
/// instead of being freed piece by piece, which took about 10 ms of every
/// `add` on a repository of 16,384 bins. It holds no file open.
fn exit_without_freeing(repo: Repository<DirStore>) {
    std::mem::forget(repo);
}

fn remove(a: RemoveArgs) -> Result<()> {
    let mut repo = open_repo(&a.repo)?;
    let keys = DirKeyring::open(&a.keys)?;
    for t in &a.targets {
        if repo.remove_target(t)?.is_none() {
            bail!("{t:?} is not a target of this repository; nothing was written");
        }
    }
    let done = commit(&mut repo, &keys, &a.commit)?;
    println!("removed {} targets", a.targets.len());
    report(&done);
    Ok(())
}

fn delegate(a: DelegateArgs) -> Result<()> {
    let mut repo = open_repo(&a.repo)?;
    repo::check_role_name(&a.name).map_err(|e| anyhow!(e))?;
    let mut keys = DirKeyring::open(&a.keys)?;
    let before: Vec<PathBuf> = keys.files.values().cloned().collect();
    let new_keys = keys.generate_n(&a.name, a.threshold, a.key_type, true)?;
    let d = Delegation {
        name: a.name.clone(),
        paths: a.paths,
        terminating: a.terminating,
        keys: new_keys,
        threshold: a.threshold,
    };
    let result = repo
        .delegate(&a.from, d, now())
        .map_err(anyhow::Error::from)
        .and_then(|()| commit(&mut repo, &keys, &a.commit));
    match result {
        Ok(done) => {
            println!("delegated to {} from {}", a.name, a.from);
            report(&done);
            Ok(())
        }
        Err(e) => {
            remove_new_keys(&keys, &before);
            Err(e)
        }
    }
}

/// A failed command leaves no key it generated behind.
fn remove_new_keys(keys: &DirKeyring, before: &[PathBuf]) {
    for p in keys.files.values() {
        if !before.contains(p) {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn rotate(a: RotateArgs) -> Result<()> {
    let mut repo = open_repo(&a.repo)?;
    let mut keys = DirKeyring::open(&a.keys)?;
    let current_threshold = repo::signing_rule(&mut repo, &a.role)?.1;
    let n = a.add.unwrap_or(a.threshold.unwrap_or(current_threshold));
    let key_role = a.role.as_str();
    let offline = matches!(a.role.as_str(), "root" | "targets");
    let before: Vec<PathBuf> = keys.files.values().cloned().collect();
    let result = (|| -> Result<(Vec<String>, repo::Committed)> {
        let new_keys = keys.generate_n(key_role, n, a.key_type, offline)?;
        let remove = (!a.remove.is_empty()).then_some(a.remove.as_slice());
        let rotated = repo.rotate(&a.role, remove, &new_keys, a.threshold)?;
        let done = commit(&mut repo, &keys, &a.commit)?;
        Ok((rotated, done))
    })();
    match result {
        Ok((rotated, done)) => {
            match rotated.len() {
                1 => println!("rotated the keys of {}", rotated[0]),
                n => println!("rotated the keys of {n} roles that share them"),
            }
            report(&done);
            Ok(())
        }
        Err(e) => {
            remove_new_keys(&keys, &before);
            Err(e)
        }
    }
}

fn bump(a: BumpArgs) -> Result<()> {
    let mut repo = open_repo(&a.repo)?;
    let keys = DirKeyring::open(&a.keys)?;
    for r in &a.roles {
        repo.touch(r)?;
    }
    let done = commit(&mut repo, &keys, &a.commit)?;
    report(&done);
    Ok(())
}

fn sign(a: SignArgs) -> Result<()> {
    if a.role == "snapshot" {
        bail!("snapshot cannot be signed on its own: timestamp lists its hash, so a new signature would break it; put the snapshot keys a threshold needs in KEYDIR and run `cairn tuf bump`");
    }
    let mut repo = open_repo(&a.repo)?;
    let pass = Passphrase::new(a.passphrase_env.clone());
    let key = pass
        .read_key(&a.key)?
        .with_context(|| format!("reading the key {}", a.key.display()))?;
    let file = repo::current_file(&repo, &a.role)?;
    let ids = repo::signing_keyids(&mut repo, &a.role)?;
    let store = repo.store();
    let fresh = match a.role.as_str() {
        "root" => repo::add_signature::<cairn_tuf::metadata::Root>(store, &file, &ids, &key),
        "timestamp" => {
            repo::add_signature::<cairn_tuf::metadata::Timestamp>(store, &file, &ids, &key)
        }
        "snapshot" => {
            repo::add_signature::<cairn_tuf::metadata::Snapshot>(store, &file, &ids, &key)
        }
        _ => repo::add_signature::<cairn_tuf::metadata::Targets>(store, &file, &ids, &key),
    }?;
    if repo.snapshot_lists_hashes() && !matches!(a.role.as_str(), "root" | "timestamp") {
        eprintln!("cairn: warning: snapshot lists hashes of targets metadata: run `cairn tuf bump` so that it lists the newly signed file");
    }
    println!(
        "{} {file} with key {}",
        if fresh { "signed" } else { "re-signed" },
        key.keyid()
    );
    Ok(())
}

fn status(a: StatusArgs) -> Result<()> {
    let mut repo = open_repo(&a.repo)?;
    let st = repo.status()?;
    let now = a.now.unwrap_or_else(now);
    let when = |e: &cairn_tuf::metadata::Expires| {
        let left = e.unix() - now;
        let rel = if left <= 0 {
            "EXPIRED".to_string()
        } else if left < 2 * 86_400 {
            format!("in {}h", left / 3600)
        } else {
            format!("in {}d", left / 86_400)
        };
        (e.as_str().to_string(), rel)
    };
    let near = st.snapshot_length * 4 >= repo::CLIENT_SNAPSHOT_LIMIT * 3;
    if a.json {
        let roles: Vec<serde_json::Value> = st
            .roles
            .iter()
            .map(|r| {
                serde_json::json!({
                    "name": r.name, "version": r.version, "expires": r.expires.as_str(),
                    "expired": r.expires.unix() <= now,
                    "signatures": r.valid_signatures, "threshold": r.threshold,
                    "lacks_signatures": r.lacks_signatures(), "targets": r.targets,
                })
            })
            .collect();
        let out = serde_json::json!({
            "roles": roles,
            "snapshot": {"version": st.snapshot_version, "expires": st.snapshot_expires.as_str(),
                "expired": st.snapshot_expires.unix() <= now,
                "length": st.snapshot_length, "client_limit": repo::CLIENT_SNAPSHOT_LIMIT,
                "near_client_limit": near, "lists_hashes": st.snapshot_lists_hashes},
            "timestamp": {"version": st.timestamp_version, "expires": st.timestamp_expires.as_str(),
                "expired": st.timestamp_expires.unix() <= now},
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    let (top, delegated): (Vec<_>, Vec<_>) = st
        .roles
        .iter()
        .partition(|r| r.name == "root" || r.name == "targets");
    println!(
        "{:<12} {:>8} {:<22} {:<9} {:>10} {:>10}",
        "ROLE", "VERSION", "EXPIRES", "", "SIGNATURES", "TARGETS"
    );
    let line = |name: &str, v: u64, e: &cairn_tuf::metadata::Expires, sigs: String, t: String| {
        let (abs, rel) = when(e);
        println!("{name:<12} {v:>8} {abs:<22} {rel:<9} {sigs:>10} {t:>10}");
    };
    let role_line = |r: &repo::RoleStatus| {
        line(
            &r.name,
            r.version,
            &r.expires,
            format!("{}/{}", r.valid_signatures, r.threshold),
            r.targets.map_or(String::new(), |t| t.to_string()),
        )
    };
    for r in &top {
        role_line(r);
    }
    line(
        "snapshot",
        st.snapshot_version,
        &st.snapshot_expires,
        String::new(),
        String::new(),
    );
    line(
        "timestamp",
        st.timestamp_version,
        &st.timestamp_expires,
        String::new(),
        String::new(),
    );
    if !delegated.is_empty() {
        let earliest = delegated
            .iter()
            .min_by_key(|r| r.expires.unix())
            .expect("non-empty");
        let total: usize = delegated.iter().filter_map(|r| r.targets).sum();
        let (abs, rel) = when(&earliest.expires);
        println!(
            "{} delegated roles, {total} targets; earliest expiry {abs} ({rel}, {})",
            delegated.len(),
            earliest.name
        );
        if delegated.len() <= 20 {
            for r in &delegated {
                role_line(r);
            }
        }
    }
    let lacking: Vec<&str> = st
        .roles
        .iter()
        .filter(|r| r.lacks_signatures())
        .map(|r| r.name.as_str())
        .collect();
    if !lacking.is_empty() {
        println!(
            "LACKING SIGNATURES ({}): {}{}",
            lacking.len(),
            lacking
                .iter()
                .take(20)
                .copied()
                .collect::<Vec<_>>()
                .join(", "),
            if lacking.len() > 20 { ", …" } else { "" }
        );
    }
    println!(
        "snapshot.json: {} bytes ({}% of the {} bytes clients accept by default{})",
        st.snapshot_length,
        st.snapshot_length * 100 / repo::CLIENT_SNAPSHOT_LIMIT,
        repo::CLIENT_SNAPSHOT_LIMIT,
        if st.snapshot_lists_hashes {
            "; lists hashes"
        } else {
            ""
        }
    );
    if near {
        println!("WARNING: snapshot.json is near the size python-tuf and go-tuf clients accept without a length in timestamp");
    }
    let expired = st.roles.iter().any(|r| r.expires.unix() <= now)
        || st.snapshot_expires.unix() <= now
        || st.timestamp_expires.unix() <= now;
    if expired {
        println!("WARNING: some metadata has expired: clients refuse it until it is re-signed (`cairn tuf bump`)");
    }
    Ok(())
}
