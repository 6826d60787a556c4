//! One Java archive (`.jar`, `.war`, `.ear`, ...) read from the layer stream, and the
//! archives nested in it, to the packages they are.
//!
//! A zip archive's directory is at its end, which a tar stream reaches last: the archive is
//! buffered whole, in memory up to [`IN_MEMORY`] bytes and otherwise in an unnamed
//! temporary file (removed when it is dropped, whatever happens) up to [`MAX_ARCHIVE`].
//! Nothing is extracted to disk: only the metadata files and the nested archives are
//! inflated, under one budget per outermost archive ([`MAX_INFLATED`]), to a depth of
//! [`MAX_DEPTH`].
//!
//! Each archive is identified, in order, by the Maven metadata the build wrote into it
//! (`META-INF/maven/GROUP/ARTIFACT/pom.properties`, then the `pom.xml` beside it) when it
//! is the archive's own; else by its `MANIFEST.MF` (`Implementation-*`, `Bundle-*`); else
//! by a `version.properties` the application ships; else by its file name, marked as
//! such. Maven metadata of other artifacts is a shaded dependency (a child of the archive)
//! only if the archive holds classes of that artifact: a build that copies a library's pom
//! without its classes (syft #3529) does not ship the library.

use super::manifest::Manifest;
use super::pom::{self, Pom};
use cairn_image::{EntryReader, FactError};
use std::collections::{BTreeMap, HashSet};
use std::io::{Cursor, Read, Seek};

/// File name extensions of Java archives (Syft's list).
pub(crate) const EXTENSIONS: &[&str] = &[
    "jar", "war", "ear", "par", "sar", "nar", "jpi", "hpi", "kar", "lpkg",
];

/// Largest archive buffered in memory; bigger ones go to a temporary file.
pub(crate) const IN_MEMORY: u64 = 16 << 20;
/// Largest archive read at all (outermost or nested).
pub(crate) const MAX_ARCHIVE: u64 = 1 << 30;
/// Deepest nesting of archives read (an `.ear` holding a `.war` holding a `.jar` is 2).
pub(crate) const MAX_DEPTH: usize = 8;
/// Bytes inflated for one outermost archive, its nested archives and metadata together.
pub(crate) const MAX_INFLATED: u64 = 1 << 30;
/// Largest metadata file read (`MANIFEST.MF`, `pom.properties`, `pom.xml`,
/// `version.properties`).
pub(crate) const MAX_METADATA: u64 = 1 << 20;
/// Most entries in one archive's directory.
pub(crate) const MAX_ENTRIES: usize = 500_000;
/// Most archives nested, at every depth, in one outermost archive.
pub(crate) const MAX_NESTED: usize = 20_000;
/// Most packages (and most not-shipped notes) from one outermost archive.
pub(crate) const MAX_PACKAGES: usize = 100_000;
pub(crate) const MAX_NOT_SHIPPED: usize = 1_000;
/// Most Maven metadata directories read in one archive.
pub(crate) const MAX_POMS: usize = 10_000;

/// Where an identity (or a version) was read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Via {
    PomProperties,
    PomXml,
    Manifest,
    VersionProperties,
    FileName,
    /// Nothing states it.
    Nothing,
}

impl Via {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Via::PomProperties => "pom.properties",
            Via::PomXml => "pom.xml",
            Via::Manifest => "MANIFEST.MF",
            Via::VersionProperties => "version.properties",
            Via::FileName => "file name",
            Via::Nothing => "nothing",
        }
    }
}

/// A package a Java archive is or contains.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct JavaPackage {
    /// Maven group id, when something states it.
    pub group: Option<String>,
    pub artifact: String,
    /// Empty when nothing states one.
    pub version: String,
    pub identified_by: Via,
    pub version_from: Via,
    /// Human-readable name (pom `<name>`, `Implementation-Title`, `Bundle-Name`).
    pub title: Option<String>,
    pub description: Option<String>,
    pub url: Option<String>,
    /// License statements as written (pom `<license>` names or URLs, `Bundle-License`).
    pub licenses: Vec<String>,
    /// Where in the outermost archive: "" for the archive itself, a nested archive's path
    /// (`BOOT-INF/lib/a.jar`, `lib/b.war!/WEB-INF/lib/c.jar`), or, for a shaded
    /// dependency, its metadata file.
    pub inner: String,
    /// The package (index in [`Archive::packages`]) whose archive contains this one.
    pub parent: Option<usize>,
    /// Shaded: its classes were copied into its parent's archive.
    pub shaded: bool,
}

/// Something in an archive that could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Problem {
    /// Where in the outermost archive ("" for the archive itself).
    pub at: String,
    pub message: String,
    pub over_limit: bool,
}

/// What one outermost archive holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Archive {
    pub packages: Vec<JavaPackage>,
    pub problems: Vec<Problem>,
    /// Maven metadata of artifacts the archive does not ship: (where, `group:artifact:version`).
    pub not_shipped: Vec<(String, String)>,
}

/// Read the archive `file_name` from the layer stream.
pub(crate) fn read(file_name: &str, r: &mut EntryReader) -> Result<Archive, FactError> {
    let size = r.size();
    if size > MAX_ARCHIVE {
        return Err(FactError::limit(format!(
            "{size} bytes, over the {MAX_ARCHIVE}-byte limit for a Java archive; not read"
        )));
    }
    let mut w = Walk::default();
    if size <= IN_MEMORY {
        let mut bytes = Vec::with_capacity(size as usize);
        r.uncharged()
            .read_to_end(&mut bytes)
            .map_err(|e| e.to_string())?;
        let zip = open(Cursor::new(bytes)).map_err(FactError::from)?;
        w.archive(zip, file_name, "", 0, None);
    } else {
        let mut f = tempfile::tempfile()
            .map_err(|e| format!("cannot make a temporary file to read it: {e}"))?;
        std::io::copy(&mut r.uncharged(), &mut f).map_err(|e| e.to_string())?;
        f.rewind().map_err(|e| e.to_string())?;
        let zip = open(f).map_err(FactError::from)?;
        w.archive(zip, file_name, "", 0, None);
    }
    Ok(w.out)
}

fn open<R: Read + Seek>(mut r: R) -> Result<zip::ZipArchive<R>, String> {
    // The directory's entry count, from its end record, before the zip reader builds a
    // record per entry: a small file may claim millions.
    if let Some(n) = declared_entries(&mut r).filter(|n| *n > MAX_ENTRIES as u64) {
        return Err(format!(
            "has {n} entries, over the {MAX_ENTRIES}-entry limit; not read"
        ));
    }
    r.rewind().map_err(|e| e.to_string())?;
    let zip = zip::ZipArchive::new(r).map_err(|e| format!("is not a readable zip archive: {e}"))?;
    if zip.len() > MAX_ENTRIES {
        return Err(format!(
            "has {} entries, over the {MAX_ENTRIES}-entry limit; not read",
            zip.len()
        ));
    }
    Ok(zip)
}

/// The entry count a zip's end of central directory record (or its zip64 record) states;
/// `None` when there is none to read (the zip reader then says what is wrong).
fn declared_entries<R: Read + Seek>(r: &mut R) -> Option<u64> {
    use std::io::SeekFrom;
    let len = r.seek(SeekFrom::End(0)).ok()?;
    let tail_len = len.min(22 + 65_535);
    r.seek(SeekFrom::Start(len - tail_len)).ok()?;
    let mut tail = vec![0u8; tail_len as usize];
    r.read_exact(&mut tail).ok()?;
    let eocd = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&i| tail[i..i + 4] == [0x50, 0x4b, 0x05, 0x06])?;
    let total = u16::from_le_bytes([tail[eocd + 10], tail[eocd + 11]]);
    if total != 0xffff {
        return Some(u64::from(total));
    }
    // zip64: the locator just before the end record points at the zip64 end record.
    let loc = eocd.checked_sub(20)?;
    if tail[loc..loc + 4] != [0x50, 0x4b, 0x06, 0x07] {
        return Some(u64::from(total));
    }
    let at = u64::from_le_bytes(tail[loc + 8..loc + 16].try_into().ok()?);
    r.seek(SeekFrom::Start(at)).ok()?;
    let mut rec = [0u8; 40];
    r.read_exact(&mut rec).ok()?;
    (rec[..4] == [0x50, 0x4b, 0x06, 0x06])
        .then(|| u64::from_le_bytes(rec[32..40].try_into().unwrap_or_default()))
}

/// Whether `name` is a Java archive by its extension.
pub(crate) fn is_archive_name(name: &str) -> bool {
    name.rsplit_once('.').is_some_and(|(stem, ext)| {
        !stem.is_empty()
            && !stem.ends_with('/')
            && EXTENSIONS.iter().any(|e| ext.eq_ignore_ascii_case(e))
    })
}

/// A reader that counts what passes through it.
struct Counting<R> {
    inner: R,
    n: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.n += n as u64;
        Ok(n)
    }
}

/// An entry of an archive's directory.
struct Entry {
    index: usize,
    name: String,
    size: u64,
}

/// A `META-INF/maven/GROUP/ARTIFACT/` directory's metadata.
#[derive(Default)]
struct MavenDir {
    dir: String,
    properties: Option<BTreeMap<String, String>>,
    pom: Option<Pom>,
}

impl MavenDir {
    fn field(&self, key: &str, from_pom: impl Fn(&Pom) -> Option<&String>) -> Option<String> {
        self.properties
            .as_ref()
            .and_then(|p| p.get(key))
            .or_else(|| self.pom.as_ref().and_then(&from_pom))
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty() && !s.contains("${"))
    }
    fn group(&self) -> Option<String> {
        self.field("groupId", |p| p.group.as_ref())
            .or_else(|| self.dir.split('/').nth(2).map(str::to_owned))
    }
    fn artifact(&self) -> Option<String> {
        self.field("artifactId", |p| p.artifact.as_ref())
            .or_else(|| self.dir.split('/').nth(3).map(str::to_owned))
    }
    fn version(&self) -> Option<String> {
        self.field("version", |p| p.version.as_ref())
    }
    fn via(&self) -> Via {
        if self.properties.is_some() {
            Via::PomProperties
        } else {
            Via::PomXml
        }
    }
    fn file(&self) -> String {
        let f = if self.properties.is_some() {
            "pom.properties"
        } else {
            "pom.xml"
        };
        format!("{}/{f}", self.dir)
    }
}

#[derive(Default)]
struct Walk {
    out: Archive,
    inflated: u64,
    nested: usize,
    /// The inflate budget ran out: nothing more is read.
    spent: bool,
}

/// The path of `name` inside the archive at `prefix` (relative to the outermost one).
fn inner_path(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}!/{name}")
    }
}

impl Walk {
    fn problem(&mut self, at: String, message: String, over_limit: bool) {
        self.out.problems.push(Problem {
            at,
            message,
            over_limit,
        });
    }

    /// Inflate one entry whole, at most `max` bytes and within the budget.
    fn inflate<R: Read + Seek>(
        &mut self,
        zip: &mut zip::ZipArchive<R>,
        e: &Entry,
        max: u64,
        at: &str,
    ) -> Option<Vec<u8>> {
        if self.spent {
            return None;
        }
        let left = MAX_INFLATED - self.inflated;
        let bound = max.min(left);
        let mut f = match zip.by_index(e.index) {
            Ok(f) => f,
            Err(err) => {
                self.problem(at.to_owned(), format!("cannot be read: {err}"), false);
                return None;
            }
        };
        let mut out = Vec::with_capacity(e.size.min(bound).min(IN_MEMORY) as usize);
        let got = (&mut f).take(bound + 1).read_to_end(&mut out);
        self.inflated += out.len() as u64;
        if let Err(err) = got {
            self.problem(at.to_owned(), format!("cannot be inflated: {err}"), false);
            return None;
        }
        if out.len() as u64 > bound {
            self.inflated = self.inflated.min(MAX_INFLATED);
            if bound == left {
                self.spent = true;
                self.problem(
                    at.to_owned(),
                    format!(
                        "inflates past the {MAX_INFLATED}-byte limit for one archive and what it \
                         holds (a decompression bomb?); the rest of the archive is not read"
                    ),
                    true,
                );
            } else {
                self.problem(
                    at.to_owned(),
                    format!("inflates to more than {max} bytes, the limit for it; not read"),
                    true,
                );
            }
            return None;
        }
        Some(out)
    }

    /// Inflate a nested archive into memory or, past [`IN_MEMORY`], a temporary file.
    fn nested<R: Read + Seek>(
        &mut self,
        zip: &mut zip::ZipArchive<R>,
        e: &Entry,
        at: &str,
        depth: usize,
        parent: Option<usize>,
    ) {
        if e.size <= IN_MEMORY {
            if let Some(bytes) = self.inflate(zip, e, IN_MEMORY.max(e.size), at) {
                match open(Cursor::new(bytes)) {
                    Ok(z) => self.archive(z, &e.name, at, depth, parent),
                    Err(m) => self.problem(at.to_owned(), m, false),
                }
            }
            return;
        }
        if self.spent {
            return;
        }
        let left = MAX_INFLATED - self.inflated;
        let bound = MAX_ARCHIVE.min(left);
        let spilled = (|| -> Result<Option<std::fs::File>, String> {
            let mut f = zip
                .by_index(e.index)
                .map_err(|e| format!("cannot be read: {e}"))?;
            let mut tmp = tempfile::tempfile()
                .map_err(|e| format!("cannot make a temporary file to read it: {e}"))?;
            // Charged as the bytes pass, so that an entry failing at its end (a bad CRC) is
            // charged for all it inflated.
            let mut counted = Counting {
                inner: (&mut f).take(bound + 1),
                n: 0,
            };
            let copied = std::io::copy(&mut counted, &mut tmp);
            self.inflated += counted.n.min(left);
            let n = copied.map_err(|e| format!("cannot be inflated: {e}"))?;
            if n > bound {
                return Ok(None);
            }
            tmp.rewind().map_err(|e| e.to_string())?;
            Ok(Some(tmp))
        })();
        match spilled {
            Ok(Some(f)) => match open(f) {
                Ok(z) => self.archive(z, &e.name, at, depth, parent),
                Err(m) => self.problem(at.to_owned(), m, false),
            },
            Ok(None) => {
                self.spent = bound == left;
                self.problem(
                    at.to_owned(),
                    format!("inflates past the {bound}-byte limit; not read"),
                    true,
                );
            }
            Err(m) => self.problem(at.to_owned(), m, false),
        }
    }

    /// Identify one archive (at `prefix` in the outermost one; its own file name is
    /// `path`'s last segment) and recurse into the archives it holds.
    fn archive<R: Read + Seek>(
        &mut self,
        mut zip: zip::ZipArchive<R>,
        path: &str,
        prefix: &str,
        depth: usize,
        parent: Option<usize>,
    ) {
        let mut entries = Vec::with_capacity(zip.len());
        for index in 0..zip.len() {
            if let Ok(f) = zip.by_index_raw(index) {
                if f.is_file() {
                    entries.push(Entry {
                        index,
                        name: f.name().to_owned(),
                        size: f.size(),
                    });
                }
            }
        }
        let at = |name: &str| inner_path(prefix, name);
        // Metadata files.
        let mut manifest = None;
        let mut maven: BTreeMap<String, MavenDir> = BTreeMap::new();
        let mut version_file = None;
        let mut nested = Vec::new();
        let mut classes: Vec<&str> = Vec::new();
        for e in &entries {
            let n = e.name.as_str();
            if n.eq_ignore_ascii_case("META-INF/MANIFEST.MF") {
                manifest = Some(e);
            } else if let Some(dir) = maven_dir(n) {
                if maven.len() < MAX_POMS || maven.contains_key(dir) {
                    maven.entry(dir.to_owned()).or_insert_with(|| MavenDir {
                        dir: dir.to_owned(),
                        ..MavenDir::default()
                    });
                }
            } else if is_version_file(n) && version_file.is_none() {
                version_file = Some(e);
            } else if is_archive_name(n) {
                nested.push(e);
            } else if n.ends_with(".class") {
                classes.push(n);
            }
        }
        if maven.len() >= MAX_POMS {
            self.problem(
                prefix.to_owned(),
                format!(
                    "has more than {MAX_POMS} Maven metadata directories; the rest are not read"
                ),
                true,
            );
        }
        let manifest = manifest.and_then(|e| {
            let bytes = self.inflate(&mut zip, e, MAX_METADATA, &at(&e.name))?;
            Some(Manifest::parse(&bytes))
        });
        for e in &entries {
            let Some(dir) = maven_dir(&e.name) else {
                continue;
            };
            let file = &e.name[dir.len() + 1..];
            if !maven.contains_key(dir) || (file != "pom.properties" && file != "pom.xml") {
                continue;
            }
            let Some(bytes) = self.inflate(&mut zip, e, MAX_METADATA, &at(&e.name)) else {
                continue;
            };
            if file == "pom.properties" {
                let props = pom::properties(&bytes);
                maven.get_mut(dir).expect("present").properties = Some(props);
            } else {
                match Pom::parse(&bytes) {
                    Ok(p) => maven.get_mut(dir).expect("present").pom = Some(p),
                    Err(m) => self.problem(at(&e.name), m, false),
                }
            }
        }
        let version_file = version_file.and_then(|e| {
            let bytes = self.inflate(&mut zip, e, MAX_METADATA, &at(&e.name))?;
            let props = pom::properties(&bytes);
            [
                "version",
                "project.version",
                "Implementation-Version",
                "app.version",
                "build.version",
            ]
            .iter()
            .find_map(|k| props.get(*k).map(|v| v.trim().to_owned()))
            .filter(|v| !v.is_empty() && !v.contains("${"))
        });
        let maven: Vec<MavenDir> = maven
            .into_values()
            .filter(|m| m.properties.is_some() || m.pom.is_some())
            .collect();

        let file_name = path.rsplit('/').next().unwrap_or(path);
        let stem = file_name.rsplit_once('.').map_or(file_name, |(s, _)| s);
        let (name_artifact, name_version) = split_name(stem);
        // The archive's own metadata: named as the file is, else the only metadata there is.
        let own = maven
            .iter()
            .position(|m| names_file(m, stem, name_artifact))
            .or_else(|| {
                (maven.len() == 1
                    && !manifest
                        .as_ref()
                        .is_some_and(|mf| names_other(mf, &maven[0])))
                .then_some(0)
            });
        let main = match own {
            Some(i) => from_maven(&maven[i], manifest.as_ref()),
            None => from_manifest(name_artifact, name_version, manifest.as_ref(), version_file),
        };
        let main_group = main.group.clone();
        if self.out.packages.len() >= MAX_PACKAGES {
            if !self.spent {
                self.problem(
                    prefix.to_owned(),
                    format!(
                        "holds more than {MAX_PACKAGES} packages, the limit; the rest are not read"
                    ),
                    true,
                );
            }
            self.spent = true;
            return;
        }
        let me = self.out.packages.len();
        self.out.packages.push(JavaPackage {
            inner: prefix.to_owned(),
            parent,
            ..main
        });
        let mut windows = None;
        for (i, m) in maven.iter().enumerate() {
            if Some(i) == own {
                continue;
            }
            let Some(artifact) = m.artifact() else {
                continue;
            };
            let coordinates = format!(
                "{}:{artifact}:{}",
                m.group().unwrap_or_default(),
                m.version().unwrap_or_default()
            );
            let windows = windows.get_or_insert_with(|| class_dirs(&classes));
            if !ships(windows, m, main_group.as_deref()) {
                if self.out.not_shipped.len() < MAX_NOT_SHIPPED {
                    self.out.not_shipped.push((at(&m.file()), coordinates));
                }
                continue;
            }
            let p = from_maven(m, None);
            self.out.packages.push(JavaPackage {
                inner: at(&m.file()),
                parent: Some(me),
                shaded: true,
                ..p
            });
        }
        for e in nested {
            let where_ = at(&e.name);
            if depth + 1 > MAX_DEPTH {
                self.problem(
                    where_,
                    format!("is nested more than {MAX_DEPTH} archives deep, the limit; not read"),
                    true,
                );
                continue;
            }
            if self.nested >= MAX_NESTED {
                self.problem(
                    prefix.to_owned(),
                    format!("holds more than {MAX_NESTED} nested archives, the limit; the rest are not read"),
                    true,
                );
                break;
            }
            self.nested += 1;
            self.nested(&mut zip, e, &where_, depth + 1, Some(me));
            if self.spent {
                break;
            }
        }
    }
}

/// Whether the file (`stem`, without its extension) is named for `m`'s artifact: `A`,
/// `A-VERSION`, or so once `_` and `.` are read as `-` (`geronimo-annotation-1.3-spec.jar`
/// holds `geronimo-annotation_1.3_spec`).
fn names_file(m: &MavenDir, stem: &str, name_artifact: &str) -> bool {
    let Some(a) = m.artifact() else {
        return false;
    };
    let norm = |s: &str| s.replace(['_', '.'], "-").to_ascii_lowercase();
    // Debian renames some jars with a series number (`maven3-core.jar` is `maven-core`).
    let letters = |s: &str| s.replace(|c: char| c.is_ascii_digit(), "");
    let with_version = m.version().map(|v| format!("{a}-{v}"));
    a == name_artifact
        || a == stem
        || norm(&a) == norm(stem)
        || letters(&norm(&a)) == letters(&norm(name_artifact))
        || with_version.is_some_and(|av| av == stem || norm(&av) == norm(stem))
}

/// Whether the manifest names the archive as something other than the artifact `m`
/// describes: its `Bundle-SymbolicName`, `Automatic-Module-Name` or `Implementation-Title`
/// mention neither the artifact nor its group (Guice's jar, whose only Maven metadata is
/// the cglib it shades).
fn names_other(mf: &Manifest, m: &MavenDir) -> bool {
    let (artifact, group) = (
        m.artifact().unwrap_or_default().to_ascii_lowercase(),
        m.group().unwrap_or_default().to_ascii_lowercase(),
    );
    let names: Vec<String> = [
        "Bundle-SymbolicName",
        "Automatic-Module-Name",
        "Implementation-Title",
    ]
    .iter()
    .filter_map(|k| mf.get(k))
    .map(|v| v.split(';').next().unwrap_or(v).trim().to_ascii_lowercase())
    .collect();
    let norm = |s: &str| s.replace(['_', '.', '-'], "");
    !names.is_empty()
        && !names.iter().any(|n| {
            n.contains(&artifact)
                || (!group.is_empty() && n.starts_with(&group))
                || norm(n).contains(&norm(&artifact))
        })
}

/// `META-INF/maven/GROUP/ARTIFACT` for a file directly in such a directory.
fn maven_dir(name: &str) -> Option<&str> {
    let rest = name.strip_prefix("META-INF/maven/")?;
    let mut parts = rest.split('/');
    let (g, a, f) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || g.is_empty() || a.is_empty() || f.is_empty() {
        return None;
    }
    Some(&name[..name.len() - f.len() - 1])
}

/// A `version.properties` (or `*-version.properties`) near the archive's root: at most two
/// directories down (`META-INF/`, `BOOT-INF/classes/`).
fn is_version_file(name: &str) -> bool {
    let file = name.rsplit('/').next().unwrap_or(name);
    name.matches('/').count() <= 2
        && (file == "version.properties"
            || file.ends_with("-version.properties")
            || file.ends_with("_version.properties"))
}

/// `guava-31.1-jre` → (`guava`, `31.1-jre`): the name is cut before the first `-` that a
/// digit follows.
pub(crate) fn split_name(stem: &str) -> (&str, Option<&str>) {
    let b = stem.as_bytes();
    for i in 0..b.len().saturating_sub(1) {
        if b[i] == b'-' && b[i + 1].is_ascii_digit() && i > 0 {
            return (&stem[..i], Some(&stem[i + 1..]));
        }
    }
    (stem, None)
}

/// Distinct class directories whose runs of segments are indexed for [`ships`].
const MAX_CLASS_DIRS: usize = 50_000;
/// Words of one artifact id looked for as directories.
const MAX_WORDS: usize = 8;

/// Every run of one to three consecutive directory segments of the archive's class files
/// (`org/apache/commons`, `commons/lang3`, `lang3`, ...), built once per archive, from at
/// most [`MAX_CLASS_DIRS`] distinct directories.
fn class_dirs(classes: &[&str]) -> HashSet<String> {
    let dirs: std::collections::BTreeSet<&str> = classes
        .iter()
        .filter_map(|c| c.rsplit_once('/').map(|(d, _)| d))
        .collect();
    let mut out = HashSet::new();
    for d in dirs.into_iter().take(MAX_CLASS_DIRS) {
        let segs: Vec<&str> = d.split('/').collect();
        for i in 0..segs.len() {
            for len in 1..=3.min(segs.len() - i) {
                out.insert(segs[i..i + len].join("/"));
            }
        }
    }
    out
}

/// Words too common in artifact names to tell where a library's classes are.
const GENERIC_WORDS: &[&str] = &[
    "api", "core", "common", "commons", "java", "util", "utils", "impl", "spec", "shaded", "all",
    "lib", "jdk", "jre", "osgi", "parent", "plugin", "maven", "apache", "org", "com",
];

/// Whether the archive ships the artifact that Maven metadata `m` describes: it belongs to
/// the archive's own group (`main_group`: a project bundling its own modules), or the
/// archive holds classes under its group's package path (the first three segments, or two
/// that are not the archive's own group's), at the root or relocated under another prefix,
/// or under a directory named for a distinctive word of its artifact id. A build that
/// copies a library's metadata without its classes (shading with class minimisation,
/// syft #3529) does not ship the library.
fn ships(windows: &HashSet<String>, m: &MavenDir, main_group: Option<&str>) -> bool {
    let group = m.group().unwrap_or_default();
    if main_group.is_some_and(|g| g == group) {
        return true;
    }
    let segs: Vec<&str> = group.split('.').filter(|s| !s.is_empty()).collect();
    let mut dirs: Vec<String> = Vec::new();
    if segs.len() >= 3 {
        dirs.push(segs[..3].join("/"));
    }
    let own2 = main_group.map(|g| g.split('.').take(2).collect::<Vec<_>>().join("/"));
    if segs.len() >= 2 {
        let two = segs[..2].join("/");
        if own2.as_deref() != Some(two.as_str()) {
            dirs.push(two);
        }
    }
    if let Some(a) = m.artifact() {
        dirs.extend(
            a.split(['-', '.', '_'])
                .filter(|w| w.len() >= 2 && !w.bytes().all(|b| b.is_ascii_digit()))
                .filter(|w| !GENERIC_WORDS.contains(&w.to_ascii_lowercase().as_str()))
                .take(MAX_WORDS)
                .map(str::to_owned),
        );
    }
    dirs.iter().any(|d| windows.contains(d.as_str()))
}

fn from_maven(m: &MavenDir, manifest: Option<&Manifest>) -> JavaPackage {
    let pom = m.pom.as_ref();
    let mut licenses = pom.map(|p| p.licenses.clone()).unwrap_or_default();
    if licenses.is_empty() {
        licenses = manifest_licenses(manifest);
    }
    let (version, version_from) = match m.version() {
        Some(v) => (v, m.via()),
        None => match manifest.and_then(manifest_version) {
            Some(v) => (v, Via::Manifest),
            None => (String::new(), Via::Nothing),
        },
    };
    JavaPackage {
        group: m.group(),
        artifact: m.artifact().unwrap_or_default(),
        version,
        identified_by: m.via(),
        version_from,
        title: pom
            .and_then(|p| p.name.clone())
            .or_else(|| manifest.and_then(manifest_title)),
        description: pom.and_then(|p| p.description.clone()),
        url: pom.and_then(|p| p.url.clone()),
        licenses,
        inner: String::new(),
        parent: None,
        shaded: false,
    }
}

fn manifest_version(m: &Manifest) -> Option<String> {
    [
        "Implementation-Version",
        "Bundle-Version",
        "Specification-Version",
    ]
    .iter()
    .find_map(|k| m.get_any(k))
    .map(str::to_owned)
}

fn main_version(m: &Manifest) -> Option<String> {
    [
        "Implementation-Version",
        "Bundle-Version",
        "Specification-Version",
    ]
    .iter()
    .find_map(|k| m.get(k))
    .map(str::to_owned)
}

fn manifest_title(m: &Manifest) -> Option<String> {
    ["Implementation-Title", "Bundle-Name", "Specification-Title"]
        .iter()
        .find_map(|k| m.get(k))
        .map(str::to_owned)
}

/// `Bundle-License`: SPDX ids or URLs, comma-separated (OSGi), directives after `;`.
fn manifest_licenses(m: Option<&Manifest>) -> Vec<String> {
    let Some(v) = m.and_then(|m| m.get("Bundle-License")) else {
        return Vec::new();
    };
    v.split(',')
        .map(|l| l.split(';').next().unwrap_or(l).trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect()
}

fn from_manifest(
    artifact: &str,
    file_version: Option<&str>,
    manifest: Option<&Manifest>,
    version_file: Option<String>,
) -> JavaPackage {
    // The main section, the application's version file, the file name, and only then a
    // per-entry section (which may be a bundled library's: xercesImpl's first is xml-apis').
    let (version, version_from) = match manifest.and_then(main_version) {
        Some(v) => (v, Via::Manifest),
        None => match (version_file, file_version) {
            (Some(v), _) => (v, Via::VersionProperties),
            (None, Some(v)) => (v.to_owned(), Via::FileName),
            (None, None) => match manifest.and_then(manifest_version) {
                Some(v) => (v, Via::Manifest),
                None => (String::new(), Via::Nothing),
            },
        },
    };
    let group = manifest
        .and_then(|m| m.get("Implementation-Vendor-Id"))
        .filter(|g| g.contains('.') && !g.contains(' '))
        .map(str::to_owned);
    JavaPackage {
        group,
        artifact: artifact.to_owned(),
        version,
        identified_by: Via::FileName,
        version_from,
        title: manifest.and_then(manifest_title),
        description: manifest
            .and_then(|m| m.get("Bundle-Description"))
            .map(str::to_owned),
        url: manifest
            .and_then(|m| m.get("Bundle-DocURL"))
            .map(str::to_owned),
        licenses: manifest_licenses(manifest),
        inner: String::new(),
        parent: None,
        shaded: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_before_the_version() {
        assert_eq!(split_name("guava-31.1-jre"), ("guava", Some("31.1-jre")));
        assert_eq!(split_name("commons-lang3"), ("commons-lang3", None));
        assert_eq!(
            split_name("commons-lang3-3.12.0"),
            ("commons-lang3", Some("3.12.0"))
        );
        assert_eq!(split_name("-1"), ("-1", None));
        assert!(
            is_archive_name("a/b/x.JAR")
                && !is_archive_name("a/.jar")
                && !is_archive_name("x.jar.sha1")
        );
        assert_eq!(
            maven_dir("META-INF/maven/g/a/pom.properties"),
            Some("META-INF/maven/g/a")
        );
        assert_eq!(maven_dir("META-INF/maven/g/pom.properties"), None);
    }
}
