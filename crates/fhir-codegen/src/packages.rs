//! Reading FHIR packages from a package cache, with every file read checked
//! against the lock in `profiles/`.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};

/// A package named in `profiles/packages.toml`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackageId {
    /// Package name, e.g. `hl7.fhir.r3.core`.
    pub name: String,
    /// Package version, e.g. `3.0.1`.
    pub version: String,
}

impl PackageId {
    /// `name#version`, the folder name in a package cache.
    pub fn folder(&self) -> String {
        format!("{}#{}", self.name, self.version)
    }
}

/// Reads the package list from `profiles/packages.toml` (a minimal TOML subset:
/// `[[package]]` tables with `name` and `version` strings).
pub fn read_package_list(path: &Path) -> Result<Vec<PackageId>, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    let mut name: Option<String> = None;
    let mut version: Option<String> = None;
    let mut flush =
        |name: &mut Option<String>, version: &mut Option<String>| -> Result<(), String> {
            match (name.take(), version.take()) {
                (Some(n), Some(v)) => {
                    out.push(PackageId {
                        name: n,
                        version: v,
                    });
                    Ok(())
                }
                (None, None) => Ok(()),
                _ => Err(format!(
                    "{}: a [[package]] needs both name and version",
                    path.display()
                )),
            }
        };
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line == "[[package]]" {
            flush(&mut name, &mut version)?;
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            return Err(format!(
                "{}:{}: expected `key = \"value\"`",
                path.display(),
                i + 1
            ));
        };
        let v = v.trim().trim_matches('"').to_owned();
        match k.trim() {
            "name" => name = Some(v),
            "version" => version = Some(v),
            other => {
                return Err(format!(
                    "{}:{}: unknown key `{other}`",
                    path.display(),
                    i + 1
                ))
            }
        }
    }
    flush(&mut name, &mut version)?;
    Ok(out)
}

/// What to do when an input file's hash differs from the lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockMode {
    /// Refuse any input that differs from the lock (the default).
    Verify,
    /// Record the hashes of the inputs read (`--update-lock`).
    Update,
}

/// The package cache, with a record of every file read and its SHA-256.
pub struct PackageCache {
    root: PathBuf,
    lock: BTreeMap<String, String>,
    mode: LockMode,
    read: BTreeMap<String, String>,
}

impl PackageCache {
    /// Opens the cache at `root` with the lock at `lock_path` (which may be absent
    /// only in [`LockMode::Update`]).
    pub fn open(root: &Path, lock_path: &Path, mode: LockMode) -> Result<Self, String> {
        if !root.is_dir() {
            return Err(format!(
                "FHIR package cache {} not found (set FHIR_PACKAGE_CACHE; CI uses ../shared/fhir-packages)",
                root.display()
            ));
        }
        let lock = match fs::read_to_string(lock_path) {
            Ok(text) => parse_lock(&text),
            Err(_) if mode == LockMode::Update => BTreeMap::new(),
            Err(e) => {
                return Err(format!(
                    "cannot read the input lock {}: {e} (run `cargo xtask codegen --update-lock` to create it)",
                    lock_path.display()
                ))
            }
        };
        Ok(PackageCache {
            root: root.to_owned(),
            lock,
            mode,
            read: BTreeMap::new(),
        })
    }

    /// Reads `rel` (relative to the cache root, e.g. `hl7.fhir.r3.core#3.0.1/package/.index.json`)
    /// as JSON, checking its hash against the lock.
    pub fn read_json(&mut self, rel: &str) -> Result<Value, String> {
        let path = self.root.join(rel);
        let bytes = fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let hash = hex(&Sha256::digest(&bytes));
        if self.mode == LockMode::Verify {
            match self.lock.get(rel) {
                Some(expected) if *expected == hash => {}
                Some(expected) => {
                    return Err(format!(
                        "input file {rel} differs from profiles/packages.lock (locked sha256 {expected}, found {hash}); \
                         if the change is intended, run `cargo xtask codegen --update-lock`"
                    ))
                }
                None => {
                    return Err(format!(
                        "input file {rel} is not in profiles/packages.lock; \
                         if it is a new input, run `cargo xtask codegen --update-lock`"
                    ))
                }
            }
        }
        self.read.insert(rel.to_owned(), hash);
        serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The lock text for the files read so far.
    pub fn lock_text(&self) -> String {
        let mut out = String::from(
            "# SHA-256 of every FHIR package file `cargo xtask codegen` reads, relative to the package cache.\n\
             # The generator refuses inputs that differ; `cargo xtask codegen --update-lock` rewrites this file.\n",
        );
        for (path, hash) in &self.read {
            out.push_str(hash);
            out.push_str("  ");
            out.push_str(path);
            out.push('\n');
        }
        out
    }

    /// Files in the lock that were not read this run (reported in verify mode).
    pub fn unread_locked_files(&self) -> Vec<String> {
        self.lock
            .keys()
            .filter(|k| !self.read.contains_key(*k))
            .cloned()
            .collect()
    }
}

fn parse_lock(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let (hash, path) = l.split_once("  ")?;
            Some((path.trim().to_owned(), hash.trim().to_owned()))
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One loaded package: its index and a way to read its resources.
pub struct Package {
    /// Which package.
    pub id: PackageId,
    /// `.index.json` entries.
    pub index: Vec<Value>,
}

impl Package {
    /// Loads `package.json` (checking name and version) and `.index.json`.
    pub fn load(cache: &mut PackageCache, id: &PackageId) -> Result<Self, String> {
        let base = format!("{}/package", id.folder());
        let manifest = cache.read_json(&format!("{base}/package.json"))?;
        let version = manifest
            .get("version")
            .and_then(Value::as_str)
            .unwrap_or("");
        if version != id.version {
            return Err(format!(
                "{base}/package.json says version {version:?}, profiles/packages.toml expects {}",
                id.version
            ));
        }
        let index = cache.read_json(&format!("{base}/.index.json"))?;
        let files = index
            .get("files")
            .and_then(Value::as_array)
            .cloned()
            .ok_or_else(|| format!("{base}/.index.json has no `files` array"))?;
        Ok(Package {
            id: id.clone(),
            index: files,
        })
    }

    /// Reads one file of the package by its index file name.
    pub fn read(&self, cache: &mut PackageCache, filename: &str) -> Result<Value, String> {
        cache.read_json(&format!("{}/package/{filename}", self.id.folder()))
    }
}
