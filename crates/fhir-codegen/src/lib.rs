//! Generates the typed Rust FHIR STU3 model from FHIR packages.
//!
//! The pipeline is: packages in a FHIR package cache ([`packages`], every file
//! checked against `profiles/packages.lock`) → an intermediate model of types
//! and elements ([`ir`]) → Rust source ([`emit`]) → `rustfmt`. Output is
//! deterministic: the same inputs give byte-identical files.
#![deny(missing_docs)]

pub mod definitions;
pub mod emit;
pub mod extensions;
pub mod ir;
pub mod naming;
pub mod packages;
pub mod profiles;
pub mod strategies;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use packages::{LockMode, Package, PackageCache};

/// What `cargo xtask codegen` was asked to do.
#[derive(Clone, Debug)]
pub struct Options {
    /// The workspace root (holds `profiles/` and `crates/`).
    pub workspace: PathBuf,
    /// The FHIR package cache directory.
    pub cache: PathBuf,
    /// Compare instead of writing; fail when anything differs.
    pub check: bool,
    /// Rewrite `profiles/packages.lock` from the inputs read.
    pub update_lock: bool,
}

/// The folder the generated model is written to, relative to the workspace.
pub const GENERATED_DIR: &str = "crates/fhir-stu3/src/generated";

/// Every folder the generator owns (stale files there are reported or removed).
pub const GENERATED_DIRS: &[&str] = &[
    GENERATED_DIR,
    definitions::DEFINITIONS_DIR,
    extensions::EXTENSIONS_DIR,
    profiles::PROFILES_DIR,
    strategies::STRATEGIES_DIR,
];

/// The generator's output, before anything is written.
pub struct Generated {
    /// Formatted files, relative to the workspace.
    pub files: BTreeMap<String, String>,
    /// The lock text for the inputs read.
    pub lock: String,
    /// A one-line summary of what was generated.
    pub summary: String,
}

/// Reads the packages (checking them against the lock unless `opts.update_lock`)
/// and produces every generated file in memory.
pub fn generate(opts: &Options) -> Result<Generated, String> {
    let profiles = opts.workspace.join("profiles");
    let list = packages::read_package_list(&profiles.join("packages.toml"))?;
    let lock_path = profiles.join("packages.lock");
    let mode = if opts.update_lock {
        LockMode::Update
    } else {
        LockMode::Verify
    };
    let mut cache = PackageCache::open(&opts.cache, &lock_path, mode)?;
    let mut loaded = Vec::new();
    for id in &list {
        loaded.push(Package::load(&mut cache, id)?);
    }
    let core = loaded
        .iter()
        .find(|p| p.id.name == "hl7.fhir.r3.core")
        .ok_or("profiles/packages.toml must list hl7.fhir.r3.core")?;
    let model = ir::build(core, &mut cache)?;
    let prov = emit::Provenance {
        core: core.id.folder(),
    };
    let mut all = emit::Files::new();
    for (rel, text) in emit::emit(&model, &prov) {
        all.insert(format!("{GENERATED_DIR}/{rel}"), text);
    }
    for (rel, text) in strategies::emit(&model, &prov) {
        all.insert(format!("{}/{rel}", strategies::STRATEGIES_DIR), text);
    }
    let definitions = definitions::emit(&loaded, &mut cache)?;
    let definition_files = definitions.len();
    for (rel, text) in definitions {
        all.insert(format!("{}/{rel}", definitions::DEFINITIONS_DIR), text);
    }
    let (extension_files, extension_types) = extensions::emit(&loaded, &mut cache)?;
    for (rel, text) in extension_files {
        all.insert(format!("{}/{rel}", extensions::EXTENSIONS_DIR), text);
    }
    let profile_files = profiles::emit(&loaded, &mut cache, &model, &extension_types, &prov)?;
    let profile_count = profile_files.len();
    for (rel, text) in profile_files {
        all.insert(format!("{}/{rel}", profiles::PROFILES_DIR), text);
    }
    let files = rustfmt_all(&all)?;
    if !opts.update_lock {
        let unread = cache.unread_locked_files();
        if !unread.is_empty() {
            return Err(format!(
                "profiles/packages.lock lists files the generator no longer reads (run `cargo xtask codegen --update-lock`): {}",
                unread.join(", ")
            ));
        }
    }
    let summary = format!(
        "{} resources, {} structs, {} choice enums, {} code enums, {} primitive types; {} definition tables; {} profile files; {} files",
        model.resources.len(),
        model.types.len(),
        model.choices.len(),
        model.codes.len(),
        model.primitives.len(),
        definition_files,
        profile_count,
        files.len()
    );
    Ok(Generated {
        files,
        lock: cache.lock_text(),
        summary,
    })
}

/// Runs the generator and writes (or, with `opts.check`, compares) its output.
/// In check mode, returns an error naming every stale file.
pub fn run(opts: &Options) -> Result<String, String> {
    let Generated {
        files,
        lock,
        summary,
    } = generate(opts)?;
    if opts.update_lock {
        let lock_path = opts.workspace.join("profiles").join("packages.lock");
        fs::write(&lock_path, lock).map_err(|e| format!("{}: {e}", lock_path.display()))?;
    }
    let mut existing = Vec::new();
    for dir in GENERATED_DIRS {
        for rel in list_rs_files(&opts.workspace.join(dir)) {
            existing.push(format!("{dir}/{rel}"));
        }
    }
    let mut stale = Vec::new();
    for (rel, text) in &files {
        let path = opts.workspace.join(rel);
        let current = fs::read_to_string(&path).ok();
        if current.as_deref() != Some(text.as_str()) {
            stale.push(rel.clone());
            if !opts.check {
                if let Some(parent) = path.parent() {
                    fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
                }
                fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
            }
        }
    }
    for rel in existing {
        if !files.contains_key(&rel) {
            stale.push(format!("{rel} (no longer generated)"));
            if !opts.check {
                let _ = fs::remove_file(opts.workspace.join(&rel));
            }
        }
    }
    if opts.check && !stale.is_empty() {
        return Err(format!(
            "generated code is stale; run `cargo xtask codegen`. Differing files:\n  {}",
            stale.join("\n  ")
        ));
    }
    Ok(if opts.check {
        format!("generated code is up to date ({summary})")
    } else {
        format!("wrote {} changed files ({summary})", stale.len())
    })
}

fn list_rs_files(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(rd) = fs::read_dir(dir) else { return };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                if let Ok(rel) = p.strip_prefix(base) {
                    out.push(rel.to_string_lossy().replace('\\', "/"));
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Formats every file with one `rustfmt` process, over a scratch copy in the
/// system temporary directory.
fn rustfmt_all(files: &emit::Files) -> Result<BTreeMap<String, String>, String> {
    static RUN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("fhir-codegen-fmt-{}-{n}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    let result = (|| {
        let mut paths = Vec::new();
        for (rel, text) in files {
            let path = dir.join(rel);
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
            }
            fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
            paths.push(path);
        }
        let output = Command::new("rustfmt")
            .args(["--edition", "2021", "--quiet"])
            .args(&paths)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run rustfmt: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "rustfmt failed on the generated code: {}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        let mut out = BTreeMap::new();
        for rel in files.keys() {
            let path = dir.join(rel);
            let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            out.insert(rel.clone(), text);
        }
        Ok(out)
    })();
    let _ = fs::remove_dir_all(&dir);
    result
}
