//! Shared helpers for the integration tests: locating `../shared` and reading the
//! FHIR packages' StructureDefinitions.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

/// The shared inputs folder: `$SENDDOC_SHARED_DIR`, or `../shared` beside the
/// checkout (`CARGO_MANIFEST_DIR/../../../shared`). Panics when it is missing:
/// these tests must never pass silently without their inputs.
pub fn shared_dir() -> PathBuf {
    let dir = match std::env::var_os("SENDDOC_SHARED_DIR") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
    };
    assert!(
        dir.join("fhir-packages").is_dir() && dir.join("fhir-examples").is_dir(),
        "the shared inputs folder was not found at {} (expected ../shared beside the \
         checkout with fhir-packages/ and fhir-examples/, or set SENDDOC_SHARED_DIR); \
         these tests need it and do not pass without it",
        dir.display()
    );
    dir
}

/// The three package folders (`<name>#<version>/package`).
pub const PACKAGES: [&str; 3] = [
    "hl7.fhir.r3.core#3.0.1",
    "nhsdigital.fhir.stu3.core#1.0.0",
    "gpc.stu3.fhir-assets#1.1.3",
];

/// Every StructureDefinition of a package, by file name.
pub fn structure_definitions(package: &str) -> Vec<(String, Value)> {
    let dir = shared_dir()
        .join("fhir-packages")
        .join(package)
        .join("package");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read(&f).unwrap();
        let Ok(v) = serde_json::from_slice::<Value>(&text) else {
            continue;
        };
        if v["resourceType"] == "StructureDefinition" {
            out.push((f.file_name().unwrap().to_string_lossy().into_owned(), v));
        }
    }
    out
}

/// `(key, expression)` of every constraint of an element.
pub fn constraints(element: &Value) -> Vec<(String, String)> {
    element["constraint"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .filter_map(|c| {
                    Some((
                        c["key"].as_str().unwrap_or("").to_string(),
                        c["expression"].as_str()?.to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Every distinct invariant expression of the three packages (snapshot and
/// differential), with the keys it appears under.
pub fn all_expressions() -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in PACKAGES {
        for (_, sd) in structure_definitions(p) {
            for part in ["snapshot", "differential"] {
                for e in sd[part]["element"].as_array().into_iter().flatten() {
                    for (key, expr) in constraints(e) {
                        out.entry(expr).or_default().insert(key);
                    }
                }
            }
        }
    }
    out
}
